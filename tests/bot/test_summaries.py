"""The LLM summary cache, counted at the fake OpenAI-compatible server: ten channels and a
restart cost one request per article; a repeated topic costs one request."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.chat.service import Service
from bot.clock import ManualClock
from bot.delivery.dispatcher import Dispatcher
from bot.store.sqlite import SqliteStore
from bot.summaries import Summaries
from summarizer.registry import SummarizerOptions, make_summarizer
from tests.bot.helpers import make_channel, make_feed, store_articles
from tests.fakes.openai_server import FakeOpenAI, completion
from tests.fakes.platform import FakePlatform

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


def _service(store: SqliteStore, server: FakeOpenAI, clock: ManualClock) -> Service:
    options = SummarizerOptions(api_key="k", base_url=server.base_url, model="fake-model")
    summaries = Summaries(store, make_summarizer("llm", options=options), clock)
    return Service(store, summaries, None, clock)  # type: ignore[arg-type]


async def test_ten_channels_and_a_restart_cost_one_request(
    store: SqliteStore, server: FakeOpenAI, clock: ManualClock
) -> None:
    """One article posted to ten channels, then summarized again after a 'restart', makes
    exactly one LLM request."""
    server.script(completion(REPLY))
    feed = await make_feed(store)
    channels = [await make_channel(store, f"c{i}") for i in range(10)]
    await store_articles(store, feed, channels, range(1), clock.now())
    service = _service(store, server, clock)
    platform = FakePlatform()
    await Dispatcher(store, {"fake": platform}, clock, service.compose).drain()
    assert len(platform.sent) == 10
    assert {m.summary for _, m, _ in platform.sent} == {" ".join(REPLY["summary"])}  # type: ignore[union-attr]
    again = _service(store, server, clock)
    article = (await store.latest(1))[0]
    assert (await again.post_for(article)).summary == " ".join(REPLY["summary"])
    await service.close()
    await again.close()
    assert server.calls == 1


async def test_same_topic_twice_costs_one_request(
    store: SqliteStore, server: FakeOpenAI, clock: ManualClock
) -> None:
    """A busy group asking the same topic over the same articles costs one request."""
    server.script(completion(TOPIC_REPLY), completion(TOPIC_REPLY))
    feed = await make_feed(store)
    await store_articles(store, feed, [], range(1), clock.now())
    service = _service(store, server, clock)
    first = await service.topic("story")
    second = await service.topic("story")
    await service.close()
    assert first == second
    assert server.calls == 1
