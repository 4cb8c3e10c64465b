"""The whole bot with the Telegram adapter against the fake Bot API: auto-posts, commands,
limits, pauses, polls and restarts, asserted at the fake."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bot.app.settings import Settings
from bot.clock import ManualClock
from bot.health import AdapterState, AdapterStatus, Health
from bot.types import ChatRef, Command
from tests.fakes.http_server import LocalServer
from tests.fakes.telegram_api import FakeTelegramAPI, flood, kicked
from tests.harness import SEED_TEXT, rss, running_bot, write_config

GROUP, CHANNEL = -1001, -1002
MEMBER, ADMIN = 501, 502
OLD = [("old1", "Old news", "Yesterday something happened in the harbour.")]


@pytest.fixture
def clock() -> ManualClock:
    """Simulated time: pacing passes instantly; tests jump to poll closes."""
    return ManualClock(autojump=True)


@pytest.fixture
async def api() -> AsyncIterator[FakeTelegramAPI]:
    """A fake Bot API with a group and a channel."""
    async with FakeTelegramAPI() as running:
        running.add_chat(GROUP, "supergroup")
        running.add_chat(CHANNEL, "channel", username="worldbrief")
        running.set_member(GROUP, ADMIN, "administrator")
        yield running


@pytest.fixture
def settings(tmp_path: Path, api: FakeTelegramAPI, server: LocalServer) -> Settings:
    """A bot posting one loopback feed to a Telegram group and channel."""
    server.route("/feed.xml", rss(OLD))
    config = write_config(
        tmp_path, server.url("/feed.xml"), [f"telegram:{GROUP}", f"telegram:{CHANNEL}"]
    )
    values = {
        "NEWSBRIEF_DB": str(tmp_path / "nb.db"),
        "NEWSBRIEF_CONFIG": str(config),
        "TELEGRAM_BOT_TOKEN": api.token,
        "TELEGRAM_API_BASE_URL": api.base_url,
    }
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def _feed(*items: tuple[str, str, str]) -> str:
    return rss([*OLD, *items])


async def test_new_article_posts_once_per_chat_as_valid_html(
    settings: Settings, server: LocalServer, api: FakeTelegramAPI, clock: ManualClock
) -> None:
    """A new article is one HTML sendMessage per chat with its link; a hostile title is
    escaped (the fake refuses invalid HTML). Titles are capped at 500 characters by the
    parser, so the 5,000-character split is covered in tests/adapters/test_telegram.py."""
    async with running_bot(settings, server, clock) as bot:
        await bot.tick()
        hostile = "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;/b&gt; " + "x" * 5000
        server.route("/feed.xml", _feed(("n1", hostile, "Harbour strike ends. Ships sail.")))
        await bot.tick()
    for chat in (GROUP, CHANNEL):
        calls = api.calls_to("sendMessage", chat)
        assert len(calls) == 1
        assert all(c.params.get("parse_mode") == "HTML" for c in calls)
        assert "https://news.test/n1" in "".join(str(c.params["text"]) for c in calls)
        assert "<script>alert(1)</script> &amp; </b>" not in str(calls[0].params["text"])
        assert calls[0].visible_text.startswith("<script>alert(1)</script> & </b>")


async def test_summary_in_group_replies_with_numbered_sources(
    settings: Settings, server: LocalServer, api: FakeTelegramAPI, clock: ManualClock
) -> None:
    """/summary venezuela from a group member is answered in that group with sources."""
    server.route("/feed.xml", _feed(("v1", "Planes land in Venezuela", SEED_TEXT)))
    async with running_bot(settings, server, clock) as bot:
        await bot.tick()
        api.queue(api.message(GROUP, "/summary venezuela", user_id=MEMBER))
        reply = await api.wait_for(
            lambda c: c.method == "sendMessage" and c.chat_id == GROUP and "[1]" in c.visible_text
        )
    assert "https://news.test/v1" in str(reply.params["text"])


async def test_subscribe_from_member_refused_from_admin_persisted(
    settings: Settings, server: LocalServer, api: FakeTelegramAPI, clock: ManualClock
) -> None:
    """/subscribe by a member gets a polite refusal; by an admin it is stored."""
    from tests.harness import PUBLIC_HOST

    server.route("/other.xml", rss([("o1", "Other", "Other text.")]))
    url = f"http://{PUBLIC_HOST}:{server.port}/other.xml"
    async with running_bot(settings, server, clock) as bot:
        api.queue(api.message(GROUP, f"/subscribe {url}", user_id=MEMBER))
        await api.wait_for(lambda c: c.chat_id == GROUP and "admin" in c.visible_text)
        api.queue(api.message(GROUP, f"/subscribe {url}", user_id=ADMIN))
        await api.wait_for(lambda c: c.chat_id == GROUP and "Subscribed" in c.visible_text)
        feed = await bot.runtime.store.feeds.by_url(url)
        channel = await bot.runtime.store.channels.by_ref(ChatRef("telegram", str(GROUP)))
    assert feed is not None and channel is not None
    assert feed.id in channel.subscription.feed_ids


async def test_flood_on_one_chat_does_not_hold_the_other(
    settings: Settings, server: LocalServer, api: FakeTelegramAPI, clock: ManualClock
) -> None:
    """A 429 in the group holds only the group; the channel keeps receiving; the group gets
    its post once retry_after has passed."""
    async with running_bot(settings, server, clock) as bot:
        await bot.tick()
        api.fail(GROUP, flood(600), times=1)
        server.route("/feed.xml", _feed(("a", "First", "First story.")))
        await bot.tick()
        assert len(api.calls_to("sendMessage", CHANNEL)) == 1
        assert len(api.calls_to("sendMessage", GROUP)) == 1  # the refused one
        server.route("/feed.xml", _feed(("a", "First", "First story."), ("b", "Second", "Two.")))
        await bot.tick()
        assert len(api.calls_to("sendMessage", CHANNEL)) == 2
        await clock.advance(601)
        await bot.tick()
    assert len(api.calls_to("sendMessage", GROUP)) == 3  # one refused, then both posts


async def test_kicked_pauses_channel_and_status_says_why(
    settings: Settings, server: LocalServer, api: FakeTelegramAPI, clock: ManualClock
) -> None:
    """403 pauses the chat: nothing more is sent there, and /status shows the reason."""
    async with running_bot(settings, server, clock) as bot:
        await bot.tick()
        api.fail(GROUP, kicked(), times=None)
        server.route("/feed.xml", _feed(("a", "First", "One."), ("b", "Second", "Two.")))
        await bot.tick()
        await bot.tick()
        status = await bot.runtime.service.handle(
            Command("status", "", ChatRef("telegram", str(GROUP)), "1", False)
        )
    assert len(api.calls_to("sendMessage", GROUP)) == 1
    assert "paused" in status.text and "kicked" in status.text


async def test_poll_anonymous_in_channel_votes_and_close(
    settings: Settings, server: LocalServer, api: FakeTelegramAPI, clock: ManualClock
) -> None:
    """The seed-like post carries a poll: anonymous in the channel, per-user in the group;
    votes (with a change and a retraction) and channel counts are summed; at close both
    polls are stopped and each chat gets the results as a photo."""
    async with running_bot(settings, server, clock) as bot:
        await bot.tick()
        server.route("/feed.xml", _feed(("v1", "Planes land in Venezuela", SEED_TEXT)))
        await bot.tick()
        group_poll = api.calls_to("sendPoll", GROUP)[0]
        channel_poll = api.calls_to("sendPoll", CHANNEL)[0]
        assert group_poll.params.get("is_anonymous") is False
        assert channel_poll.params.get("is_anonymous") in (True, None)
        ids = {p.chat_id: p.id for p in api.polls.values()}
        api.queue(
            api.poll_answer(ids[GROUP], MEMBER, [0]),
            api.poll_answer(ids[GROUP], ADMIN, [0]),
            api.poll_answer(ids[GROUP], ADMIN, [1]),
            api.poll_answer(ids[GROUP], 999, [2]),
            api.poll_answer(ids[GROUP], 999, []),
            api.poll_state(ids[CHANNEL], [3, 0, 1]),
        )
        results = Command("results", "", ChatRef("telegram", str(GROUP)), "1", False)
        await _until_text(bot, results, "6 votes")
        await clock.advance(2 * 3600)
        await bot.tick()
    assert len(api.calls_to("stopPoll")) == 2
    photos = api.calls_to("sendPhoto")
    assert {c.chat_id for c in photos} == {GROUP, CHANNEL}


async def test_votes_racing_the_poll_being_recorded_are_all_counted(
    settings: Settings, server: LocalServer, api: FakeTelegramAPI, clock: ManualClock
) -> None:
    """Twenty votes that reach the bot in the instant Telegram answers sendPoll, before the
    bot has recorded the poll, are all counted by /results."""
    api.vote_on_send_poll(GROUP, range(1000, 1020), option=0)
    async with running_bot(settings, server, clock) as bot:
        await bot.tick()
        server.route("/feed.xml", _feed(("v1", "Planes land in Venezuela", SEED_TEXT)))
        await bot.tick()
        results = Command("results", "", ChatRef("telegram", str(GROUP)), "1", False)
        await _until_text(bot, results, "20 votes")
    assert len(api.calls_to("sendPoll", GROUP)) == 1


async def _until_text(bot: object, command: Command, text: str) -> None:
    """Let the queued updates reach the core (bounded by a timeout, never a sleep)."""
    import asyncio

    from tests.harness import Bot

    assert isinstance(bot, Bot)
    recorded = bot.runtime.polls.recorded
    async with asyncio.timeout(5):
        while text not in (await bot.runtime.service.handle(command)).text:
            await recorded.wait()
            recorded.clear()


async def test_restart_repeats_nothing_and_token_never_logged(
    settings: Settings,
    server: LocalServer,
    api: FakeTelegramAPI,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A restart sends nothing twice; the bot token appears in no log record."""
    caplog.set_level(logging.DEBUG)
    async with running_bot(settings, server, clock) as bot:
        await bot.tick()
        server.route("/feed.xml", _feed(("a", "First", "First story.")))
        await bot.tick()
    async with running_bot(settings, server, clock) as bot:
        await bot.tick()
    assert len(api.calls_to("sendMessage", GROUP)) == 1
    secret = api.token.split(":", 1)[1]
    assert not [r for r in caplog.records if secret in r.getMessage()]


async def test_no_update_is_handled_twice_across_a_restart(
    settings: Settings, server: LocalServer, api: FakeTelegramAPI, clock: ManualClock
) -> None:
    """A command handled before a stop is confirmed to Telegram (the update offset), so
    the restarted bot does not fetch and answer it again; it answers only the new one."""
    async with running_bot(settings, server, clock):
        api.queue(api.message(GROUP, "/help", user_id=MEMBER))
        await api.wait_for(lambda c: c.method == "sendMessage" and c.chat_id == GROUP)
    async with running_bot(settings, server, clock):
        api.queue(api.message(GROUP, "/feeds", user_id=MEMBER))
        # updates are handled in order: once /feeds is answered, a repeat of /help would
        # have been answered before it
        await api.wait_for(lambda c: c.chat_id == GROUP and "wire" in c.visible_text)
    answers = [c.visible_text for c in api.calls_to("sendMessage", GROUP)]
    assert len(answers) == 2 and "/summary" in answers[0] and "wire" in answers[1]


async def test_a_revoked_token_is_noticed_and_reported_in_status(
    settings: Settings, server: LocalServer, api: FakeTelegramAPI, clock: ManualClock
) -> None:
    """When Telegram stops accepting the token while the bot runs, the end of long polling
    is noticed and a restart is tried; the token stays refused, so the adapter stops for
    good and /status says why instead of the bot going silently deaf."""
    async with running_bot(settings, server, clock) as bot:
        health = bot.runtime.health
        watch = asyncio.create_task(bot.runtime.supervisor.watch())
        api.revoke_token()
        status = await _health_becomes(
            health, "telegram", lambda s: s.state is AdapterState.STOPPED
        )
        watch.cancel()
        reply = await bot.runtime.service.handle(
            Command("status", "", ChatRef("console"), "operator", True)
        )
    assert status.restarts == 1
    assert "refused the bot token" in status.reason
    assert "Telegram is disconnected for good: telegram: the Bot API refused" in reply.text


async def test_a_poller_that_comes_back_is_restarted(
    settings: Settings, server: LocalServer, api: FakeTelegramAPI
) -> None:
    """A poller that ended is restarted after its backoff (time the test controls), and
    commands are answered again."""
    clock = ManualClock()  # the restart waits until the test moves time
    async with running_bot(settings, server, clock) as bot:
        health = bot.runtime.health
        watch = asyncio.create_task(bot.runtime.supervisor.watch())
        api.revoke_token()
        waiting = await _health_becomes(health, "telegram", lambda s: s.retry_at is not None)
        assert waiting.state is AdapterState.RESTARTING
        api.revoked = False
        assert waiting.retry_at is not None
        await clock.sleeping_until(waiting.retry_at)  # the supervisor waits for it
        await clock.advance(waiting.retry_at - clock.now())
        await _health_becomes(health, "telegram", lambda s: s.healthy)
        api.queue(api.message(GROUP, "/help", user_id=MEMBER))
        reply = await api.wait_for(
            lambda c: c.method == "sendMessage" and "/summary" in str(c.params)
        )
        watch.cancel()
    assert str(GROUP) in str(reply.params["chat_id"])


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
