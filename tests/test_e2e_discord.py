"""The whole bot with the Discord adapter against the fake Discord: posts, commands, pauses,
polls and restarts, asserted at the fake."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bot.app.settings import Settings
from bot.clock import ManualClock
from bot.health import AdapterStatus, Health
from bot.types import ChatRef, Command
from tests.fakes.discord_api import MANAGE_CHANNELS, SEND_MESSAGES, VIEW_CHANNEL, FakeDiscord
from tests.fakes.http_server import LocalServer
from tests.harness import PUBLIC_HOST, SEED_TEXT, Bot, rss, running_bot, write_config

TOKEN = "MTAxOTk5.e2e-bot-token.s3cr3t"
CHANNEL = 111111111111111111
CHAT = ChatRef("discord", str(CHANNEL))
OLD = [("old1", "Old news", "Yesterday something happened in the harbour.")]


@pytest.fixture
def clock() -> ManualClock:
    """Simulated time: the dispatcher's pacing passes instantly; tests jump to poll closes."""
    return ManualClock(autojump=True)


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    """A fake Discord."""
    async with FakeDiscord(token=TOKEN, channels=(CHANNEL,)) as running:
        yield running


@pytest.fixture
def settings(tmp_path: Path, fake: FakeDiscord, server: LocalServer) -> Settings:
    """Settings for a bot posting the loopback feed to one Discord channel."""
    server.route("/feed.xml", rss(OLD))
    config = write_config(tmp_path, server.url("/feed.xml"), [f"discord:{CHANNEL}"])
    values = {
        "NEWSBRIEF_DB": str(tmp_path / "nb.db"),
        "NEWSBRIEF_CONFIG": str(config),
        "DISCORD_BOT_TOKEN": TOKEN,
        "DISCORD_API_BASE_URL": fake.api_base_url,
        "DISCORD_GATEWAY_URL": fake.gateway_url,
    }
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def _articles(*items: tuple[str, str, str]) -> str:
    return rss([*OLD, *items])


async def test_new_article_is_one_embed_with_nonce_and_no_pings(
    settings: Settings, server: LocalServer, fake: FakeDiscord, clock: ManualClock
) -> None:
    """A new article becomes one embed, with a nonce and mentions disabled; text that tries
    to ping @everyone or a role cannot."""
    async with running_bot(settings, server, clock) as bot:
        await bot.tick()  # first fetch: remembered, not posted
        assert fake.channel_posts(CHANNEL) == []
        hostile = "Harbour strike ends. @everyone <@&123> look at this. Workers return Monday."
        server.route("/feed.xml", _articles(("n1", "Strike over @everyone", hostile)))
        await bot.tick()
    posts = fake.channel_posts(CHANNEL)
    assert len(posts) == 1
    payload = posts[0].json
    assert payload["allowed_mentions"] == {"parse": []}
    assert payload["nonce"] and payload.get("enforce_nonce") is True
    assert payload["embeds"][0]["url"] == "https://news.test/n1"


async def test_summary_is_deferred_then_answered_with_sources(
    settings: Settings, server: LocalServer, fake: FakeDiscord, clock: ManualClock
) -> None:
    """/summary topic:venezuela defers, then a follow-up carries numbered sources."""
    server.route("/feed.xml", _articles(("v1", "Planes land in Venezuela", SEED_TEXT)))
    async with running_bot(settings, server, clock) as bot:
        await bot.tick()
        await fake.interact("summary", {"topic": "venezuela"})
        followups = await fake.wait_for(lambda f: f.calls_to("POST", "/webhooks/"))
    callback = fake.calls_to("POST", "/interactions/")[0]
    assert callback.json["type"] == 5  # deferred channel message
    text = json.dumps(followups[0].json)
    assert "[1]" in text and "https://news.test/v1" in text


async def test_subscribe_needs_manage_channels_and_persists(
    settings: Settings, server: LocalServer, fake: FakeDiscord, clock: ManualClock
) -> None:
    """/subscribe without Manage Channels is refused; with it the feed is stored."""
    server.route("/other.xml", rss([("o1", "Other", "Other text.")]))
    url = f"http://{PUBLIC_HOST}:{server.port}/other.xml"
    async with running_bot(settings, server, clock) as bot:
        await fake.interact("subscribe", {"url": url}, permissions=SEND_MESSAGES | VIEW_CHANNEL)
        refused = await fake.wait_for(lambda f: f.calls_to("POST", "/webhooks/"))
        assert "admin" in json.dumps(refused[0].json)
        assert await bot.runtime.store.feeds.by_url(url) is None
        await fake.interact(
            "subscribe", {"url": url}, permissions=SEND_MESSAGES | VIEW_CHANNEL | MANAGE_CHANNELS
        )
        await fake.wait_for(lambda f: len(f.calls_to("POST", "/webhooks/")) >= 2)
        feed = await bot.runtime.store.feeds.by_url(url)
        channel = await bot.runtime.store.channels.by_ref(CHAT)
    assert feed is not None and channel is not None
    assert feed.id in channel.subscription.feed_ids


async def test_forbidden_pauses_the_channel(
    settings: Settings, server: LocalServer, fake: FakeDiscord, clock: ManualClock
) -> None:
    """403 pauses the channel: no further sends, and /status says why."""
    async with running_bot(settings, server, clock) as bot:
        await bot.tick()
        fake.fail_always(CHANNEL, 403)
        server.route(
            "/feed.xml",
            _articles(("a", "First", "First story text."), ("b", "Second", "Second story text.")),
        )
        await bot.tick()
        await bot.tick()
        attempts = fake.calls_to("POST", f"/channels/{CHANNEL}/messages")
        assert len(attempts) == 1
        status = await bot.runtime.service.handle(Command("status", "", CHAT, "1", False))
    assert "paused" in status.text
    assert [r.state for r in await _rows(settings)] == ["pending", "pending"]


async def _rows(settings: Settings) -> list[dict[str, object]]:
    from bot.store.sqlite import SqliteStore

    store = await SqliteStore.open(settings.db_path)
    rows = await store.outbox.rows()
    await store.close()
    return rows


async def test_poll_votes_close_and_results(
    settings: Settings, server: LocalServer, fake: FakeDiscord, clock: ManualClock
) -> None:
    """The seed-like article carries its reader poll; votes are recorded; at close the poll
    is ended on Discord and the results are posted with a chart."""
    async with running_bot(settings, server, clock) as bot:
        await bot.tick()
        server.route("/feed.xml", _articles(("v1", "Planes land in Venezuela", SEED_TEXT)))
        await bot.tick()
        polls = [m for m, p in fake.messages.items() if "poll" in p]
        assert len(polls) == 1
        answers = [a["poll_media"]["text"] for a in fake.messages[polls[0]]["poll"]["answers"]]
        assert answers == ["Right", "Wrong", "Not sure"]
        await fake.vote(polls[0], 1, 1, add=True)
        await fake.vote(polls[0], 2, 2, add=True)
        await fake.vote(polls[0], 3, 2, add=True)
        await fake.vote(polls[0], 3, 2, add=False)
        await _counts_become(bot, (1, 1, 0))
        await clock.advance(2 * 3600)
        await bot.tick()
    assert fake.calls_to("POST", f"/channels/{CHANNEL}/polls/{polls[0]}/expire")
    results = [c for c in fake.channel_posts(CHANNEL) if c.files]
    assert len(results) == 1
    assert results[0].files[0]["data"].startswith(b"\x89PNG")


async def _counts_become(bot: Bot, expected: tuple[int, ...], poll_id: int = 1) -> None:
    """Let the gateway's vote events reach the core (bounded by a timeout, never a sleep)."""
    polls = bot.runtime.polls
    async with asyncio.timeout(5):
        while True:
            poll = await polls.poll(poll_id)
            if (await polls.tally(poll)).counts == expected:
                return
            await polls.recorded.wait()
            polls.recorded.clear()


async def test_custom_poll_and_its_results_by_number(
    settings: Settings, server: LocalServer, fake: FakeDiscord, clock: ManualClock
) -> None:
    """An admin's /poll question:"Q? | A | B" becomes a native poll with those answers, and
    /results poll:<id> answers with that poll's results: the arguments /help advertises."""
    admin = SEND_MESSAGES | VIEW_CHANNEL | MANAGE_CHANNELS
    question = {"question": "Is this a good test? | Yes | No"}
    async with running_bot(settings, server, clock) as bot:
        await bot.tick()
        await fake.interact("poll", question, permissions=admin)
        (posted,) = await fake.wait_for(lambda f: f.calls_to("POST", "/webhooks/"))
        found = re.search(r"Poll (\d+) posted: Is this a good test\?", posted.json["content"])
        assert found is not None, posted.json
        await bot.tick()
        (poll_message,) = [m for m, p in fake.messages.items() if "poll" in p]
        poll = fake.messages[poll_message]["poll"]
        assert poll["question"]["text"] == "Is this a good test?"
        assert [a["poll_media"]["text"] for a in poll["answers"]] == ["Yes", "No"]
        await fake.vote(poll_message, 7, 1, add=True)
        await _counts_become(bot, (1, 0), int(found.group(1)))
        await fake.interact("results", {"poll": found.group(1)})
        answers = await fake.wait_for(lambda f: f.calls_to("POST", "/webhooks/")[1:])
    text = answers[0].json["content"]
    assert f"Poll {found.group(1)}" in text and "Is this a good test?" in text
    assert "1 vote · poll open" in text
    assert re.search(r"Yes\s+1\s+100\.0%", text)


async def test_poll_duration_reaches_discord_on_the_bots_clock(
    tmp_path: Path, settings: Settings, server: LocalServer, fake: FakeDiscord
) -> None:
    """A channel's poll_duration = "2h" reaches Discord as a 2-hour poll, measured on the
    bot's one clock (simulated here, years away from the wall clock)."""
    config = write_config(
        tmp_path, server.url("/feed.xml"), [f"discord:{CHANNEL}"], poll_duration="2h"
    )
    clock = ManualClock(start=2_000_000_000.0, autojump=True)
    async with running_bot(settings.replace(config=config), server, clock) as bot:
        await bot.tick()
        server.route("/feed.xml", _articles(("v1", "Planes land in Venezuela", SEED_TEXT)))
        await bot.tick()
    [poll] = [c.json["poll"] for c in fake.channel_posts(CHANNEL) if "poll" in (c.json or {})]
    assert poll["duration"] == 2


async def test_a_lost_gateway_is_restarted_and_posting_goes_on(
    settings: Settings, server: LocalServer, fake: FakeDiscord, clock: ManualClock
) -> None:
    """A gateway connection that ends for good (closed with 4004 mid-session) is noticed,
    logged and restarted with backoff; /status showed it; posting goes on afterwards."""
    async with running_bot(settings, server, clock) as bot:
        await bot.tick()
        health = bot.runtime.health
        watch = asyncio.create_task(bot.runtime.supervisor.watch())
        await fake.disconnect(4004)
        await _health_becomes(health, "discord", lambda s: s.restarts == 1 and s.healthy)
        assert fake.identify_count == 2
        server.route("/feed.xml", _articles(("after", "After the restart", "Ships sail again.")))
        await bot.tick()
        watch.cancel()
    [post] = fake.channel_posts(CHANNEL)
    assert post.json["embeds"][0]["url"] == "https://news.test/after"


async def _health_becomes(
    health: Health, platform: str, wanted: Callable[[AdapterStatus], bool]
) -> AdapterStatus:
    """Wait (bounded, never a sleep) until the platform's status satisfies ``wanted``."""
    async with asyncio.timeout(10):
        while True:
            status = health.get(platform)
            if status is not None and wanted(status):
                return status
            await health.changed.wait()
            health.changed.clear()


async def test_restart_does_not_repeat_posts(
    settings: Settings, server: LocalServer, fake: FakeDiscord, clock: ManualClock
) -> None:
    """Stopping and starting the bot again sends nothing twice."""
    async with running_bot(settings, server, clock) as bot:
        await bot.tick()
        server.route("/feed.xml", _articles(("a", "First", "First story text.")))
        await bot.tick()
    async with running_bot(settings, server, clock) as bot:
        await bot.tick()
    assert len(fake.channel_posts(CHANNEL)) == 1
