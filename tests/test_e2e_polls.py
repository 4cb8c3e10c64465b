"""Reader polls across Telegram and Discord at once: the seed-like post carries its poll on
both, votes from both count once each, /results shows them in each chat, and at close both
chats receive the results with a chart."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app.settings import Settings
from bot.clock import ManualClock
from bot.types import ChatRef, Command
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.http_server import LocalServer
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.harness import SEED_TEXT, Bot, rss, running_bot, write_config

GROUP, DISCORD_CHANNEL = -1001, 111111111111111111
DISCORD_TOKEN = "MTAxOTk5.polls-bot-token.s3cr3t"
OLD = [("old1", "Old news", "Yesterday something happened in the harbour.")]
TG_CHAT = ChatRef("telegram", str(GROUP))
DC_CHAT = ChatRef("discord", str(DISCORD_CHANNEL))


@pytest.fixture
def clock() -> ManualClock:
    """Simulated time."""
    return ManualClock(autojump=True)


@pytest.fixture
async def fakes() -> AsyncIterator[tuple[FakeTelegramAPI, FakeDiscord, LocalServer]]:
    """Both platforms and the feed server."""
    async with (
        FakeTelegramAPI() as telegram,
        FakeDiscord(token=DISCORD_TOKEN, channels=(DISCORD_CHANNEL,)) as discord,
        LocalServer() as server,
    ):
        telegram.add_chat(GROUP, "supergroup")
        yield telegram, discord, server


async def _results(bot: Bot, chat: ChatRef, text: str) -> str:
    """/results in ``chat`` once it shows ``text`` (waits on recorded votes, bounded)."""
    recorded = bot.runtime.polls.recorded
    async with asyncio.timeout(5):
        while True:
            reply = await bot.runtime.service.handle(Command("results", "", chat, "1", False))
            if text in reply.text:
                return reply.text
            await recorded.wait()
            recorded.clear()


async def test_poll_across_both_platforms(
    tmp_path: Path,
    fakes: tuple[FakeTelegramAPI, FakeDiscord, LocalServer],
    clock: ManualClock,
) -> None:
    """One reader poll, two platform polls, votes summed, results with a chart in both."""
    telegram, discord, server = fakes
    server.route("/feed.xml", rss(OLD))
    config = write_config(
        tmp_path, server.url("/feed.xml"), [f"telegram:{GROUP}", f"discord:{DISCORD_CHANNEL}"]
    )
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        NEWSBRIEF_DB=str(tmp_path / "nb.db"),
        NEWSBRIEF_CONFIG=str(config),
        TELEGRAM_BOT_TOKEN=telegram.token,
        TELEGRAM_API_BASE_URL=telegram.base_url,
        DISCORD_BOT_TOKEN=DISCORD_TOKEN,
        DISCORD_API_BASE_URL=discord.api_base_url,
        DISCORD_GATEWAY_URL=discord.gateway_url,
    )
    async with running_bot(settings, server, clock) as bot:
        await bot.tick()
        server.route("/feed.xml", rss([*OLD, ("v1", "Planes land in Venezuela", SEED_TEXT)]))
        await bot.tick()
        tg_poll = next(iter(telegram.polls.values()))
        dc_poll = next(m for m, p in discord.messages.items() if "poll" in p)
        assert tg_poll.options == ["Right", "Wrong", "Not sure"]
        telegram.queue(
            telegram.poll_answer(tg_poll.id, 501, [0]),
            telegram.poll_answer(tg_poll.id, 501, [0]),  # delivered twice
            telegram.poll_answer(tg_poll.id, 502, [1]),
        )
        await discord.vote(dc_poll, 601, 1, add=True)
        await discord.vote(dc_poll, 602, 3, add=True)
        text = await _results(bot, TG_CHAT, "4 votes")
        assert "50.0%" in text and "poll open" in text
        assert "4 votes" in await _results(bot, DC_CHAT, "4 votes")
        await clock.advance(2 * 3600)
        await bot.tick()
    assert len(telegram.calls_to("stopPoll")) == 1
    assert discord.calls_to("POST", f"/channels/{DISCORD_CHANNEL}/polls/{dc_poll}/expire")
    photo = telegram.calls_to("sendPhoto", GROUP)
    assert len(photo) == 1 and "poll closed" in str(photo[0].params.get("caption", ""))
    attachments = [c for c in discord.channel_posts(DISCORD_CHANNEL) if c.files]
    assert len(attachments) == 1
    assert attachments[0].files[0]["data"].startswith(b"\x89PNG")


async def test_one_story_poll_speaks_the_language_of_the_channel_that_opened_it(
    tmp_path: Path,
    fakes: tuple[FakeTelegramAPI, FakeDiscord, LocalServer],
    clock: ManualClock,
) -> None:
    """A German and an English group get the same story: its one reader poll is written
    once, by the post that opened it, so both groups get the same question and options
    (in that channel's language) and votes from both count on the same options; the bot's
    own words around it follow each group's locale."""
    telegram, _discord, server = fakes
    telegram.add_chat(OTHER_GROUP, "supergroup")
    server.route("/feed.xml", rss(OLD))
    config = tmp_path / "newsbrief.toml"
    config.write_text(
        f'[[feeds]]\nurl = "{server.url("/feed.xml")}"\n\n'
        f'[[channels]]\nto = "telegram:{GROUP}"\npolls = "always"\nlocale = "de"\n\n'
        f'[[channels]]\nto = "telegram:{OTHER_GROUP}"\npolls = "always"\n'
    )
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        NEWSBRIEF_DB=str(tmp_path / "nb.db"),
        NEWSBRIEF_CONFIG=str(config),
        TELEGRAM_BOT_TOKEN=telegram.token,
        TELEGRAM_API_BASE_URL=telegram.base_url,
    )
    async with running_bot(settings, server, clock) as bot:
        await bot.tick()
        server.route("/feed.xml", rss([*OLD, ("h1", "Harbour reopens", HARBOUR)]))
        await bot.tick()
        (german,) = telegram.calls_to("sendPoll", GROUP)
        (english,) = telegram.calls_to("sendPoll", OTHER_GROUP)
        first, second = telegram.polls.values()
        telegram.queue(
            telegram.poll_answer(first.id, 501, [0]), telegram.poll_answer(second.id, 502, [0])
        )
        text = await _results(bot, TG_CHAT, "2 Stimmen")  # the bot's words: the group's
    assert german.params["question"] == english.params["question"]
    assert german.params["options"] == english.params["options"]
    assert german.params["question"].startswith(("Wie sehen Sie", "How do you see"))
    assert "100.0%" in text  # both votes on one option, whichever group cast them


OTHER_GROUP = -1003
HARBOUR = "The harbour reopened on Monday after the storm. Ships sailed again by noon."
