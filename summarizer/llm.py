"""The LLM summarizer: any OpenAI-compatible server, with the extractive one behind it.

One Chat Completions request per article asks for JSON (a headline, 2-3 sentences and a
neutral reader poll); one request per topic asks for sentences that cite numbered sources.
What is asked and how the answer is read (prompts, JSON schemas, validation, cleaning) is
:mod:`summarizer.replies`; this module is the transport: structured outputs where the
server has them (plain JSON where it says it has not, remembered), retries, a total
timeout, a capped body, a circuit breaker and a daily token budget.

Every failure — a timeout, a refused or malformed reply, an open circuit breaker, a spent
daily token budget — returns the fallback summarizer's summary instead, so the post still
goes out, with one WARNING line saying why. This is the only module that imports
:mod:`openai`.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import math
import re
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, cast

import openai
from openai.types.chat.completion_create_params import ResponseFormat

from summarizer.base import Clock, Document, Metrics, NoMetrics, Summarizer, Summary
from summarizer.replies import (
    ARTICLE_SCHEMA,
    SYSTEM_PROMPT,
    TOPIC_SCHEMA,
    UnusableReply,
    article_prompt,
    article_summary,
    clean_model_text,
    parse_json,
    read_completion,
    topic_prompt,
    topic_summary,
)

__all__ = ["LLMSummarizer", "clean_model_text"]

log = logging.getLogger(__name__)


_CHARS_PER_TOKEN = 4  # rough for English; only used to cap input and to estimate usage
_SECONDS_PER_DAY = 86_400
_MAX_OUTPUT_TOKENS = 800  # room for the JSON; a runaway reply costs no more than this
_BACKOFF = 1.0  # first wait before retrying a 5xx or a dropped connection, then doubled
_MAX_REPLY_BYTES = 256 * 1024  # a reply of _MAX_OUTPUT_TOKENS is a few KiB; more is junk
# What a server says when it does not take the json_schema form of response_format.
_SCHEMA_REFUSAL = re.compile(r"response_format|json_schema|structured output|schema", re.I)


class _Failure(UnusableReply):
    """The server gave no usable answer; the fallback summary is used."""


class _SchemaRefused(_Failure):
    """The server does not take ``response_format`` of type ``json_schema``."""


class _Breaker:
    """Stops calling after ``threshold`` failures in a row, for ``cooldown`` seconds.

    After the cool-down one call is let through; its failure opens the breaker again.
    """

    def __init__(self, threshold: int, cooldown: float, clock: Clock) -> None:
        self._threshold = max(threshold, 1)
        self._cooldown = cooldown
        self._clock = clock
        self._failures = 0
        self._opened_at = -math.inf

    def allows(self) -> bool:
        """Tell whether a call may go out now."""
        if self._failures < self._threshold:
            return True
        return self._clock.now() - self._opened_at >= self._cooldown

    def succeeded(self) -> None:
        """Record a good answer: the breaker closes."""
        self._failures = 0

    def failed(self) -> None:
        """Record a failure; the threshold-th in a row opens the breaker."""
        self._failures += 1
        if self._failures >= self._threshold:
            self._opened_at = self._clock.now()


class _Budget:
    """Tokens spent today (UTC days from the clock) against a daily limit."""

    def __init__(self, daily_tokens: int | None, clock: Clock) -> None:
        self._limit = daily_tokens
        self._clock = clock
        self._day = -1
        self._spent = 0

    def available(self) -> bool:
        """Tell whether today's budget has tokens left (always, without a limit)."""
        self._roll()
        return self._limit is None or self._spent < self._limit

    def spend(self, tokens: int) -> None:
        """Count tokens a reply used."""
        self._roll()
        self._spent += max(tokens, 0)

    def _roll(self) -> None:
        day = int(self._clock.now() // _SECONDS_PER_DAY)
        if day != self._day:
            self._day, self._spent = day, 0


class LLMSummarizer:
    """Summaries from an OpenAI-compatible Chat Completions server, falling back on failure.

    Args:
        api_key: The server's key; servers without keys (Ollama, llama.cpp) accept any.
        base_url: The API root, such as ``https://api.openai.com/v1``; None for OpenAI.
        model: The model name; part of :attr:`key`, so summaries are cached per model.
        fallback: Answers whenever this summarizer cannot (the extractive one).
        connect_timeout: Seconds to establish a connection.
        timeout: Seconds one request may take from start to end.
        max_retries: Extra attempts after a 429, a 5xx or a dropped connection.
        max_retry_wait: Longest Retry-After honoured; a server asking for more is treated
            as failing now.
        daily_token_budget: Tokens (from the replies' usage) per UTC day; None for no
            limit. When spent, summaries come from ``fallback`` until the next day.
        breaker_threshold: Failed calls in a row that open the circuit breaker.
        breaker_cooldown: Seconds the breaker stays open before one trial call.
        max_input_tokens: Article text beyond about this many tokens is cut off.
        clock: The bot's clock: the breaker, the daily budget and the waits between
            retries all run on it.
    """

    def __init__(
        self,
        *,
        api_key: str | None,
        base_url: str | None,
        model: str,
        fallback: Summarizer,
        connect_timeout: float = 5.0,
        timeout: float = 30.0,
        max_retries: int = 2,
        max_retry_wait: float = 30.0,
        daily_token_budget: int | None = 200_000,
        breaker_threshold: int = 3,
        breaker_cooldown: float = 300.0,
        max_input_tokens: int = 3_000,
        clock: Clock,
        metrics: Metrics | None = None,
    ) -> None:
        self._metrics = metrics or NoMetrics()
        self._client = openai.AsyncOpenAI(
            # Keyless local servers still need a value here: the SDK refuses None.
            api_key=api_key or "unused",
            base_url=base_url,
            timeout=openai.Timeout(timeout, connect=connect_timeout),
            max_retries=0,  # retries are ours: they count toward the breaker and budget
        )
        self._model = model
        self._fallback = fallback
        self._timeout = timeout
        self._max_retries = max(max_retries, 0)
        self._max_retry_wait = max_retry_wait
        self._max_input_chars = max_input_tokens * _CHARS_PER_TOKEN
        self._breaker = _Breaker(breaker_threshold, breaker_cooldown, clock)
        self._budget = _Budget(daily_token_budget, clock)
        self._clock = clock
        self._structured = True  # ask for a JSON schema until this server refuses one

    @property
    def key(self) -> str:
        """Names this summarizer and its model for caches ("llm:gpt-4o-mini")."""
        return f"llm:{self._model}"

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._client.close()

    async def summarize(self, doc: Document) -> Summary:
        """Summarize one article with the model, or with the fallback if that fails.

        Args:
            doc: The article.

        Returns:
            ``method="llm"`` with a headline and usually a poll; else the fallback's.
        """
        if not doc.text.strip():
            return await self._fallback.summarize(doc)
        prompt = article_prompt(doc, self._max_input_chars)
        summary = await self._ask(prompt, article_summary, doc.title, ARTICLE_SCHEMA)
        if summary is None:
            return await self._fallback.summarize(doc)
        return summary

    async def summarize_topic(self, topic: str, docs: Sequence[Document]) -> Summary:
        """Summarize several articles in one request, each sentence citing its sources;
        sentences citing none, or a source not given, are dropped.

        Args:
            topic: The words the reader asked about.
            docs: The selected articles, best first; source numbers follow this order.

        Returns:
            ``method="llm"`` with ``cites`` (0-based document indexes per sentence); else
            the fallback's.
        """
        if not docs:
            return await self._fallback.summarize_topic(topic, docs)
        prompt = topic_prompt(topic, docs, self._max_input_chars)
        read = lambda reply: topic_summary(reply, len(docs))  # noqa: E731
        summary = await self._ask(prompt, read, topic, TOPIC_SCHEMA)
        if summary is None:
            return await self._fallback.summarize_topic(topic, docs)
        return summary

    async def _ask(
        self,
        prompt: str,
        read: Callable[[dict[str, Any]], Summary],
        subject: str,
        schema: dict[str, Any],
    ) -> Summary | None:
        """Send one prompt and read the reply, keeping the breaker and the budget.

        Any failure, including an invalid reply, counts against the breaker: a model
        that keeps answering badly costs tokens for nothing.

        Returns:
            The summary, or None when the fallback must answer (the reason is logged).
        """
        if not self._breaker.allows():
            log.info("LLM circuit breaker open; fallback summary for %r", subject[:80])
            return None
        if not self._budget.available():
            log.info("LLM daily token budget spent; fallback summary for %r", subject[:80])
            return None
        try:
            summary = read(parse_json(await self._complete(prompt, schema)))
        except UnusableReply as e:
            log.warning("LLM summary of %r failed, using fallback: %s", subject[:80], e)
        except Exception:
            # The post must go out whatever broke; the traceback shows what did.
            log.exception("LLM summary of %r failed unexpectedly", subject[:80])
        else:
            self._breaker.succeeded()
            return summary
        self._breaker.failed()
        return None

    async def _complete(self, prompt: str, schema: dict[str, Any]) -> str:
        """Ask for the reply in ``schema`` (structured outputs); a server that answers
        that it does not take a schema is asked again at once for any JSON object, and
        from then on always (remembered for this server).

        Raises:
            _Failure: When no usable reply came.
        """
        if self._structured:
            structured = cast(ResponseFormat, {"type": "json_schema", "json_schema": schema})
            try:
                return await self._attempts(prompt, structured)
            except _SchemaRefused as e:
                self._structured = False
                log.warning("LLM server does not take JSON schemas (%s); asking for JSON", e)
        return await self._attempts(prompt, {"type": "json_object"})

    async def _attempts(self, prompt: str, response_format: ResponseFormat) -> str:
        """Call the model, retrying 429s (after Retry-After), 5xx and lost connections.

        Raises:
            _SchemaRefused: The server refused ``response_format`` of type json_schema.
            _Failure: When the attempts are used up or the error is not worth a retry.
        """
        for attempt in range(self._max_retries + 1):
            try:
                return await self._request(prompt, response_format)
            except (openai.RateLimitError, openai.InternalServerError) as e:
                asked = _retry_after(e.response, self._clock.now())
                wait = _BACKOFF * 2**attempt if asked is None else asked
                if attempt == self._max_retries or wait > self._max_retry_wait:
                    raise _Failure(f"HTTP {e.status_code}") from e
            except (openai.APITimeoutError, TimeoutError) as e:
                # A slow server stays slow: waiting again would hold the post back.
                raise _Failure("timed out") from e
            except openai.APIConnectionError as e:
                wait = _BACKOFF * 2**attempt
                if attempt == self._max_retries:
                    raise _Failure("connection failed") from e
            except (openai.BadRequestError, openai.UnprocessableEntityError) as e:
                if response_format["type"] == "json_schema" and _SCHEMA_REFUSAL.search(str(e)):
                    raise _SchemaRefused(f"HTTP {e.status_code}") from e
                raise _Failure(f"HTTP {e.status_code} {type(e).__name__}") from e
            except openai.OpenAIError as e:
                raise _Failure(type(e).__name__) from e
            await self._clock.sleep(wait)
        raise _Failure("no attempt made")  # unreachable: the loop returns or raises

    async def _request(self, prompt: str, response_format: ResponseFormat) -> str:
        """One Chat Completions call within the total timeout, its body read here (capped,
        so a runaway or hostile server cannot fill memory); counts its tokens.

        Raises:
            _Failure: If the answer is too large, not a chat completion, or has no text.
        """
        create = self._client.chat.completions.with_streaming_response.create
        async with asyncio.timeout(self._timeout):
            async with create(
                model=self._model,
                messages=[
                    {"role": "system", "content": SYSTEM_PROMPT},
                    {"role": "user", "content": prompt},
                ],
                response_format=response_format,
                temperature=0.2,
                max_tokens=_MAX_OUTPUT_TOKENS,
                extra_headers={"Accept-Encoding": "identity"},  # the cap counts real bytes
            ) as response:
                body = await _read_body(response.iter_bytes())
        content, used = read_completion(body)
        tokens = used or (len(prompt) + len(content)) // _CHARS_PER_TOKEN
        self._budget.spend(tokens)
        self._metrics.inc("newsbrief_llm_tokens_total", tokens)
        if not content:
            raise _Failure("empty reply")
        return content


async def _read_body(chunks: AsyncIterator[bytes]) -> bytes:
    """The answer's body, capped.

    Raises:
        _Failure: The body is too large, or broke off (cut short, connection reset).
    """
    try:
        return await _read_capped(chunks, _MAX_REPLY_BYTES)
    except _Failure:
        raise
    except Exception as e:  # the SDK wraps no error raised while a body streams; these
        # are its HTTP library's read errors (the openai package picks that library)
        raise _Failure(f"the answer broke off ({type(e).__name__})") from e


async def _read_capped(chunks: AsyncIterator[bytes], limit: int) -> bytes:
    """The body, refused as soon as it passes ``limit`` bytes.

    Raises:
        _Failure: The body is larger than ``limit``.
    """
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise _Failure(f"answer larger than {limit} bytes")
        parts.append(chunk)
    return b"".join(parts)


def _retry_after(response: Any, now: float) -> float | None:
    """Seconds a 429 or 503 asks us to wait (Retry-After in seconds or as a date)."""
    value = response.headers.get("retry-after") if response is not None else None
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - now, 0.0)
