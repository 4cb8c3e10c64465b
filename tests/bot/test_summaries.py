"""The LLM summary cache, counted at the fake OpenAI-compatible server: ten channels and a
restart cost one request per article; a repeated topic costs one request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from bot.clock import ManualClock
from bot.store.sqlite import SqliteStore
from bot.types import FeedUpdate, Routed
from summarizer.registry import SummarizerOptions, make_summarizer
from tests.bot.helpers import CoreParts, article, core, make_channel, make_feed, store_articles
from tests.fakes.openai_server import FakeOpenAI, completion

REPLY = {
    "headline": "Story one",
    "summary": ["Something happened on Monday.", "Officials reacted on Tuesday."],
    "poll": None,
}
TOPIC_REPLY = {"sentences": [{"text": "Something happened on Monday.", "source": 1}]}


@pytest.fixture
async def server() -> AsyncIterator[FakeOpenAI]:
    """A fake OpenAI-compatible server."""
    async with FakeOpenAI() as fake:
        yield fake


def _core(store: SqliteStore, server: FakeOpenAI, clock: ManualClock) -> CoreParts:
    options = SummarizerOptions(
        api_key="k", base_url=server.base_url, model="fake-model", clock=clock
    )
    return core(store, clock, summarizer=make_summarizer("llm", options=options))


async def test_ten_channels_and_a_restart_cost_one_request(
    store: SqliteStore, server: FakeOpenAI, clock: ManualClock
) -> None:
    """One article posted to ten channels, then summarized again after a 'restart', makes
    exactly one LLM request."""
    server.script(completion(REPLY))
    feed = await make_feed(store)
    channels = [await make_channel(store, f"c{i}") for i in range(10)]
    await store_articles(store, feed, channels, range(1), clock.now())
    parts = _core(store, server, clock)
    await parts.dispatcher.drain()
    sent = parts.platform.sent
    assert len(sent) == 10
    assert {m.summary for _, m, _ in sent} == {" ".join(REPLY["summary"])}  # type: ignore[union-attr]
    again = _core(store, server, clock)
    article = (await store.articles.latest(1))[0]
    post = await again.composer.post_for(article, channels[0])
    assert post.summary == " ".join(REPLY["summary"])
    await parts.summaries.summarizer.aclose()
    await again.summaries.summarizer.aclose()
    assert server.calls == 1


async def test_same_topic_twice_costs_one_request(
    store: SqliteStore, server: FakeOpenAI, clock: ManualClock
) -> None:
    """A busy group asking the same topic over the same articles costs one request."""
    server.script(completion(TOPIC_REPLY), completion(TOPIC_REPLY))
    feed = await make_feed(store)
    await store_articles(store, feed, [], range(1), clock.now())
    parts = _core(store, server, clock)
    first = await parts.service.topic("story")
    second = await parts.service.topic("story")
    await parts.summaries.summarizer.aclose()
    assert (first.summary, first.sentences) == (second.summary, second.sentences)
    assert first.method == "llm"
    assert server.calls == 1


async def test_one_summary_per_article_and_language(
    store: SqliteStore, server: FakeOpenAI, clock: ManualClock
) -> None:
    """A German channel and a French one each cost one request, asked in their language;
    a second German channel and a channel in the article's own language reuse theirs;
    the extractive summarizer keeps one summary for every language."""
    server.default = completion(REPLY)
    feed = await make_feed(store)
    await store_articles(store, feed, [], range(1), clock.now())
    article = (await store.articles.latest(1))[0]
    parts = _core(store, server, clock)
    for language in ("de", "fr", "de", "", ""):
        await parts.summaries.for_article(article, language)
    await parts.summaries.summarizer.aclose()
    assert server.calls == 3
    prompts = [server.prompt(i) for i in range(3)]
    assert "German (de)" in prompts[0] and "French (fr)" in prompts[1]
    assert "Write every text" not in prompts[2]
    plain = core(store, clock)
    assert plain.summaries.key_for("de") == plain.summaries.key


async def test_an_llm_summary_by_story_keeps_only_checked_citations(
    store: SqliteStore, server: FakeOpenAI, clock: ManualClock
) -> None:
    """/summary over a story of two sources through the LLM: a sentence citing both keeps
    both numbers, one citing a source it was not given is dropped, none is invented."""
    reply = {
        "sentences": [
            {"text": "Both outlets report it happened on Monday.", "sources": [1, 2]},
            {"text": "A third outlet nobody gave says otherwise.", "sources": [3]},
            {"text": "Officials reacted on Tuesday, one outlet says.", "sources": [2]},
        ]
    }
    server.script(completion(reply))
    feed = await make_feed(store)
    [first] = await store_articles(store, feed, [], range(1, 2), clock.now())
    joining = replace(article(feed, 2), story=first)
    await store.articles.save_ingest(FeedUpdate(feed.id, clock.now(), 0), [Routed(joining, ())])
    parts = _core(store, server, clock)
    answer = await parts.service.topic("story")
    await parts.summaries.summarizer.aclose()
    assert answer.method == "llm" and answer.story is not None and answer.story.sources == 2
    assert [(s.text, s.sources) for s in answer.sentences] == [
        ("Both outlets report it happened on Monday.", (1, 2)),
        ("Officials reacted on Tuesday, one outlet says.", (2,)),
    ]
    assert "[3]" not in answer.summary
