"""The service API: commands, topic summaries, hostile input, caching."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.chat import commands
from bot.chat.service import Service, summary_reply
from bot.clock import ManualClock
from bot.errors import FetchError
from bot.feeds.fetch import HttpFetcher
from bot.ingest.pipeline import Ingestor
from bot.ports import FetchRequest, FetchResult
from bot.store.ports import Store
from bot.store.postgres import PostgresStore
from bot.store.sqlite import SqliteStore
from bot.types import ChatRef, Command, FeedOrigin, FeedUpdate, Reply, Routed, Subscription
from summarizer.extractive import ExtractiveSummarizer
from tests.bot.helpers import (
    HOSTILE_TOPICS,
    CoreParts,
    article,
    core,
    make_channel,
    make_feed,
    store_articles,
)
from tests.fakes.postgres import Databases
from tests.fakes.summarizer import FakeSummarizer

CHAT = ChatRef("telegram", "-100")

VENEZUELA = (
    "Russia sent military planes to Venezuela. The United States condemned the move. "
    "Officials in Caracas said the aircraft carried troops and equipment for the government. "
    "Analysts expect the standoff over Venezuela to continue for months."
)


@pytest.fixture
def summarizer() -> FakeSummarizer:
    """A counting summarizer."""
    return FakeSummarizer()


@pytest.fixture
def parts(store: SqliteStore, clock: ManualClock, summarizer: FakeSummarizer) -> CoreParts:
    """The core's parts over a real store."""
    return core(store, clock, summarizer=summarizer)


@pytest.fixture
def service(parts: CoreParts) -> Service:
    """The service over a real store."""
    return parts.service


async def _seed(store: Store, clock: ManualClock) -> None:
    wire = await make_feed(store, "https://wire.test/rss")
    paper = await store.feeds.upsert(
        "https://paper.test/rss",
        name="paper",
        origin=FeedOrigin.CONFIG,
        every=600,
        backfill=0,
        now=0,
    )
    await make_channel(store, "-100", platform="telegram")
    first = article(wire, 1, VENEZUELA, "Russian planes land in Venezuela")
    other = article(wire, 2, "The city approved night buses on twelve routes. " * 3, "Night buses")
    await store.articles.save_ingest(
        FeedUpdate(wire.id, clock.now(), 0), [Routed(first, ()), Routed(other, ())]
    )
    ids = await store.articles.latest(10)
    story = next(a.id for a in ids if a.title.startswith("Russian"))
    copy = article(paper, 3, VENEZUELA + " Syndicated.", "Russian planes in Venezuela (wire)")
    copy = type(copy)(**{**copy.__dict__, "duplicate_of": story, "post": False})
    await store.articles.save_ingest(FeedUpdate(paper.id, clock.now(), 0), [Routed(copy, ())])


def _cmd(name: str, args: str = "", admin: bool = False) -> Command:
    return Command(name, args, CHAT, "42", admin)


async def test_summary_answers_by_story_citing_every_source(
    store: SqliteStore, clock: ManualClock
) -> None:
    """/summary venezuela answers with the story told by two outlets: its two sources
    numbered, every sentence citing the sources that say it (a sentence both say cites
    both), nothing uncited; a story that does not match is not there."""
    service = core(store, clock, summarizer=ExtractiveSummarizer()).service
    await _seed(store, clock)
    answer = await service.topic("venezuela", chat=CHAT)
    assert [(s.url, s.feed) for s in answer.sources] == [
        ("https://news.test/1", "test"),
        ("https://news.test/3", "paper"),
    ]
    assert answer.story is not None and answer.story.sources == 2
    assert answer.sentences and all(s.sources for s in answer.sentences)
    assert all(set(s.sources) <= {1, 2} for s in answer.sentences)
    text = summary_reply(answer).text
    assert "Russia sent military planes to Venezuela. [1][2]" in text
    assert text.count("[") == sum(len(s.sources) for s in answer.sentences)
    assert "Night buses" not in text and "New since" not in text


async def test_no_match_suggests_what_is_in_the_news(
    store: SqliteStore, clock: ManualClock, service: Service
) -> None:
    """An unknown topic says so and lists current stories."""
    await _seed(store, clock)
    reply = await service.handle(_cmd("summary", "quantum"))
    assert not reply.ok
    assert "quantum" in reply.text and "Night buses" in reply.text


@pytest.mark.parametrize("topic", HOSTILE_TOPICS)
async def test_hostile_topics_get_clear_answers(
    store: SqliteStore, clock: ManualClock, service: Service, topic: str
) -> None:
    """Odd, hostile or huge topics get a readable Reply and change nothing."""
    await _seed(store, clock)
    before = await store.articles.count()
    reply = await service.handle(_cmd("summary", topic))
    assert isinstance(reply, Reply) and reply.text
    assert "Traceback" not in reply.text
    assert (await store.articles.count()) == before


async def test_hostile_topics_get_clear_answers_on_postgresql(
    postgres: Databases, clock: ManualClock
) -> None:
    """On the PostgreSQL store too, every hostile topic gets a readable Reply (one that
    names real words finds their story) and changes nothing."""
    store = await PostgresStore.open(await postgres.fresh())
    try:
        service = core(store, clock).service
        await _seed(store, clock)
        before = await store.articles.count()
        replies = {t: await service.handle(_cmd("summary", t)) for t in HOSTILE_TOPICS}
        assert await store.articles.count() == before
    finally:
        await store.close()
    for topic, reply in replies.items():
        assert isinstance(reply, Reply) and reply.text, topic[:40]
        assert "Traceback" not in reply.text, topic[:40]
    assert replies["venezuela NEAR( russia"].ok


async def test_sql_like_topic_is_plain_words(
    store: SqliteStore, clock: ManualClock, service: Service
) -> None:
    """FTS syntax inside a topic is searched as words: 'venezuela OR x' still finds it."""
    await _seed(store, clock)
    reply = await service.handle(_cmd("summary", 'venezuela" OR "x'))
    assert reply.ok and reply.sources


async def test_subscribe_needs_admin(service: Service) -> None:
    """A non-admin cannot change a chat's feeds."""
    reply = await service.handle(_cmd("subscribe", "https://example.org/rss"))
    assert not reply.ok and "admin" in reply.text


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "/etc/passwd",
        "ftp://x.org/feed",
        "http://127.0.0.1/rss",
        "http://[::ffff:127.0.0.1]/",
        "http://2130706433/",
        "not a url",
        "",
    ],
)
async def test_subscribe_refuses_unsafe_urls(service: Service, url: str) -> None:
    """Paths, other schemes and private hosts from a chat are refused before any fetch."""
    reply = await service.handle(_cmd("subscribe", url, admin=True))
    assert not reply.ok


async def test_unknown_command_and_help(service: Service) -> None:
    """Unknown commands point to /help; /help lists every command."""
    assert "/help" in (await service.handle(_cmd("frobnicate"))).text
    help_text = (await service.handle(_cmd("help"))).text
    for name in (
        "summary",
        "latest",
        "subscribe",
        "unsubscribe",
        "feeds",
        "poll",
        "results",
        "status",
    ):
        assert f"/{name}" in help_text


async def test_status_shows_paused_reason(store: SqliteStore, service: Service) -> None:
    """/status tells why a channel is paused."""
    channel = await make_channel(store, "-100", platform="telegram")
    await store.channels.set_paused(channel.id, "Forbidden: bot was kicked")
    reply = await service.handle(_cmd("status"))
    assert "paused: Forbidden: bot was kicked" in reply.text


async def test_status_counts_posts_left_unsent_on_purpose(
    store: SqliteStore, clock: ManualClock, service: Service
) -> None:
    """/status says how many of the chat's posts were skipped by its rules, apart from the
    sent, waiting and failed ones."""
    channel = await make_channel(store, "-100", platform="telegram")
    await store_articles(store, await make_feed(store), [channel], range(1, 3), clock.now())
    [head] = await store.outbox.claim_due(clock.now(), 5, platforms=["telegram"])
    await store.outbox.mark_skipped(head.id, "told already")
    reply = await service.handle(_cmd("status"))
    assert "0 sent, 1 waiting, 0 failed for good" in reply.text
    assert "1 post left unsent on purpose" in reply.text


async def test_article_summary_is_cached(
    store: SqliteStore, clock: ManualClock, parts: CoreParts, summarizer: FakeSummarizer
) -> None:
    """One summarizer call per article, however many channels and restarts."""
    await _seed(store, clock)
    first = (await store.articles.latest(1))[0]
    channel = await make_channel(store, "-100", platform="telegram")
    one = await parts.composer.post_for(first, channel)
    two = await parts.composer.post_for(first, channel)
    assert one == two
    assert summarizer.calls == 1


async def test_latest_and_feeds_for_a_chat(
    store: SqliteStore, clock: ManualClock, service: Service
) -> None:
    """/latest lists the chat's newest stories; /feeds numbers its feeds."""
    await _seed(store, clock)
    latest = await service.handle(_cmd("latest"))
    assert latest.ok and len(latest.sources) == 2
    feeds = await service.handle(_cmd("feeds"))
    assert feeds.text.startswith("1. test")


async def test_a_local_feed_error_shown_in_chat_never_quotes_the_file(
    store: SqliteStore, clock: ManualClock, service: Service, tmp_path: Path
) -> None:
    """A local feed file that is not a feed fails with a reason that quotes its start;
    /feeds and /status say it failed but never show the file's content, while the
    operator's reason (feeds list) keeps it."""
    secret = tmp_path / "passwd"
    secret.write_text("root:x:0:0:SECRET-LINE:/root:/bin/bash\n" * 5)
    await store.feeds.upsert(
        str(secret), name="", origin=FeedOrigin.CLI, every=600, backfill=0, now=0
    )
    await make_channel(store, "-100", platform="telegram")
    async with HttpFetcher() as fetcher:
        await Ingestor(store, fetcher, clock).run(only_due=False)
    [feed] = await store.feeds.all()
    assert feed.last_error is not None and "root:x" in feed.last_error
    for command in ("feeds", "status"):
        reply = await service.handle(_cmd(command))
        assert "could not be read as a feed" in reply.text
        assert "root:x" not in reply.text and "SECRET" not in reply.text


class _OfflineFetcher:
    """A fetcher for a machine with no network: every fetch fails as a fetch does."""

    async def fetch(self, request: FetchRequest) -> FetchResult:
        raise FetchError(request.url, "the network is unreachable")

    async def aclose(self) -> None:
        return None


@settings(
    deadline=None,
    max_examples=150,
    # the store is made once per test, not per example: every command meets the state
    # the earlier ones left, which is what a chat does to the bot
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    name=st.sampled_from([*commands.names(), "nope", "SUMMARY"]),
    args=st.one_of(
        st.text(max_size=3000),
        st.sampled_from(["1", "0", "-1", "99999999999999999999", " | | ", "?|a|a"]),
    ),
    admin=st.booleans(),
)
async def test_any_command_with_any_argument_gets_a_bounded_reply(
    store: SqliteStore, clock: ManualClock, name: str, args: str, admin: bool
) -> None:
    """Every command from the table (and unknown ones), with any argument, from admins
    and members: a Reply, never an exception, of bounded size whatever the argument's."""
    await make_channel(store, "-100", platform="telegram")
    parts = core(store, clock, fetcher=_OfflineFetcher())
    reply = await parts.service.handle(Command(name, args, CHAT, "42", admin))
    assert isinstance(reply, Reply) and reply.text
    assert len(reply.text) <= 2000 and len(reply.sources) <= 10


async def test_a_topic_without_a_channel_of_its_own_sees_its_groups(
    store: SqliteStore, clock: ManualClock, service: Service
) -> None:
    """/status and /feeds typed in a forum topic that is not a channel of its own answer
    about the group's channel; a topic that is one answers about itself."""
    await _seed(store, clock)
    in_topic = ChatRef("telegram", "-100", "7")
    status = await service.handle(Command("status", "", in_topic, "42", False))
    assert "Posting to this chat is active." in status.text
    feeds = await service.handle(Command("feeds", "", in_topic, "42", False))
    assert "paper" in feeds.text
    await store.channels.upsert(
        in_topic, origin=FeedOrigin.CONFIG, subscription=Subscription(all_feeds=False), now=0
    )
    own = await service.handle(Command("feeds", "", in_topic, "42", False))
    assert "follows no feeds" in own.text
