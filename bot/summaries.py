"""Summaries with a durable cache: one summary per (content hash, summarizer, language),
reused by every channel and every restart."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Sequence
from typing import Any

from bot.metrics import Metrics, NoMetrics
from bot.ports import Clock
from bot.store.ports import SummaryCache
from bot.types import Article
from summarizer.base import Document, PollProposal, Summarizer, Summary

log = logging.getLogger(__name__)


def summary_to_json(summary: Summary) -> str:
    """Serialize a summary for the cache."""
    poll = None
    if summary.poll is not None:
        poll = {"question": summary.poll.question, "options": list(summary.poll.options)}
    return json.dumps(
        {
            "text": summary.text,
            "sentences": list(summary.sentences),
            "method": summary.method,
            "headline": summary.headline,
            "poll": poll,
            "cites": [list(sources) for sources in summary.cites],
        },
        ensure_ascii=False,
    )


def summary_from_json(body: str) -> Summary:
    """Read a cached summary back."""
    data: dict[str, Any] = json.loads(body)
    poll = data.get("poll")
    return Summary(
        text=data["text"],
        sentences=tuple(data["sentences"]),
        method=data["method"],
        headline=data.get("headline", ""),
        poll=PollProposal(poll["question"], tuple(poll["options"])) if poll else None,
        cites=tuple(_sources(c) for c in data.get("cites", ())),
    )


def _sources(cited: int | list[int]) -> tuple[int, ...]:
    """A sentence's cited documents as cached; summaries cached before a sentence could
    cite several documents hold one number."""
    return (cited,) if isinstance(cited, int) else tuple(cited)


def document(article: Article, language: str = "") -> Document:
    """The summarizer's view of an article (its summary asked for in ``language``)."""
    return Document(
        title=article.title,
        text=article.text,
        url=article.url,
        source=article.feed_name,
        language=language,
    )


class Summaries:
    """Summaries of articles and topics, cached in the store."""

    def __init__(
        self,
        cache: SummaryCache,
        summarizer: Summarizer,
        clock: Clock,
        *,
        metrics: Metrics | None = None,
    ) -> None:
        self._cache = cache
        self._metrics = metrics or NoMetrics()
        self._summarizer = summarizer
        self._clock = clock
        # one summary in the making per article: channels composing the same article at
        # once wait for it instead of each asking the summarizer (one LLM call, not ten)
        self._making: dict[str, asyncio.Future[Summary]] = {}

    @property
    def summarizer(self) -> Summarizer:
        """The summarizer behind the cache."""
        return self._summarizer

    @property
    def key(self) -> str:
        """The summarizer's cache key."""
        return self._summarizer.key

    @property
    def writes_languages(self) -> bool:
        """Whether summaries can be had in a language of the channel's choosing (an LLM
        writes them); else they keep each article's own language."""
        return self.key.startswith("llm")

    def key_for(self, language: str) -> str:
        """The cache key of summaries in ``language``: the summarizer's own when it cannot
        write in a language of its choosing (every language shares one summary then)."""
        return f"{self.key}|{language}" if language and self.writes_languages else self.key

    async def for_article(self, article: Article, language: str = "") -> Summary:
        """The article's summary in ``language`` (empty: its own), made once and then read
        from the cache."""
        key = self.key_for(language)
        making = self._making.get(f"{article.content_hash}|{key}")
        if making is not None:
            return await asyncio.shield(making)
        future: asyncio.Future[Summary] = asyncio.get_running_loop().create_future()
        self._making[f"{article.content_hash}|{key}"] = future
        try:
            summary = await self._make(article, language if key != self.key else "")
        except BaseException as e:
            future.set_exception(e)
            future.exception()  # retrieved here, so an unawaited failure is not reported
            raise
        else:
            future.set_result(summary)
            return summary
        finally:
            del self._making[f"{article.content_hash}|{key}"]

    async def _make(self, article: Article, language: str) -> Summary:
        key = self.key_for(language)
        cached = await self._cache.article_summary(article.content_hash, key)
        if cached is not None:
            return summary_from_json(cached)
        summary = await self._summarizer.summarize(document(article, language))
        self._count(summary)
        if not self._is_fallback(summary):
            await self._cache.save_article_summary(
                article.content_hash, key, summary_to_json(summary), self._clock.now()
            )
        return summary

    def _count(self, summary: Summary) -> None:
        if self.key.startswith("llm"):
            result = "fallback" if self._is_fallback(summary) else "ok"
            self._metrics.inc("newsbrief_llm_calls_total", result=result)

    def _is_fallback(self, summary: Summary) -> bool:
        """An LLM summarizer that fell back to extractive: not cached under the LLM's key,
        so the LLM is asked again once it is back."""
        return self.key.startswith("llm") and summary.method != "llm"

    async def for_topic(
        self, topic: str, articles: Sequence[Article], language: str = ""
    ) -> Summary:
        """One summary over several articles (in ``language``, empty: theirs), cached per
        (topic, set of articles, language)."""
        ids = ",".join(str(a.id) for a in articles)
        cache_key = self.key_for(language)
        key = hashlib.sha256(f"{cache_key}\n{topic.lower()}\n{ids}".encode()).hexdigest()
        cached = await self._cache.topic_summary(key)
        if cached is not None:
            return summary_from_json(cached)
        language = language if cache_key != self.key else ""
        docs = [document(a, language) for a in articles]
        summary = await self._summarizer.summarize_topic(topic, docs)
        self._count(summary)
        if not self._is_fallback(summary):
            await self._cache.save_topic_summary(key, summary_to_json(summary), self._clock.now())
        return summary
