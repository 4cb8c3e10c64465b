"""The whole bot, end to end, for what a channel asks of its posts: regular-expression
filters, a scheduled digest instead of a post per article, summaries in the channel's
language, and the bot's own words in the reader's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app.settings import Settings
from bot.clock import ManualClock
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.http_server import LocalServer
from tests.fakes.openai_server import FakeOpenAI, completion
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.harness import rss, running_bot, write_config

GROUP, MEMBER = -1001, 501
DISCORD_TOKEN = "MTAxOTk5.e2e-bot-token.s3cr3t"
DISCORD_CHANNEL = 111111111111111111
OLD = [("old1", "Old news", "Yesterday something happened in the harbour.")]
HARBOUR = ("n1", "Harbour strike ends", "The harbour strike ended. Ships sail again today.")
BUDGET = ("n2", "Budget passes parliament", "The budget passed. Taxes stay as they were.")
# 2027-03-28 is the night Berlin springs forward: 08:00 there is 07:00 UTC the day before
# and 06:00 UTC from that day on.
SATURDAY_NOON = datetime(2027, 3, 27, 12, 0, tzinfo=UTC).timestamp()
SUNDAY_0800_BERLIN = datetime(2027, 3, 28, 6, 0, tzinfo=UTC).timestamp()


@pytest.fixture
async def api() -> AsyncIterator[FakeTelegramAPI]:
    """A fake Bot API with one group."""
    async with FakeTelegramAPI() as running:
        running.add_chat(GROUP, "supergroup")
        yield running


def _settings(tmp: Path, config: Path, api: FakeTelegramAPI, **more: str) -> Settings:
    values = {
        "NEWSBRIEF_DB": str(tmp / "nb.db"),
        "NEWSBRIEF_CONFIG": str(config),
        "TELEGRAM_BOT_TOKEN": api.token,
        "TELEGRAM_API_BASE_URL": api.base_url,
        **more,
    }
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def _telegram(tmp: Path, server: LocalServer, api: FakeTelegramAPI, extra: str) -> Settings:
    server.route("/feed.xml", rss(OLD))
    config = write_config(tmp, server.url("/feed.xml"), [f"telegram:{GROUP}"], extra)
    return _settings(tmp, config, api)


async def test_a_hostile_pattern_on_a_huge_title_is_harmless(
    tmp_path: Path, server: LocalServer, api: FakeTelegramAPI
) -> None:
    """``(a+)+$`` (catastrophic for a backtracking engine) against an entry whose title
    and text are 100,000 characters long finishes: the entry that does not match is not
    posted, the one that does is, and an exclude pattern on tags holds one back."""
    extra = 'include = ["(a+)+$", "strike"]\nexclude = ["^sport$"]\n'
    settings = _telegram(tmp_path, server, api, extra)
    hostile = ("n9", "a" * 100_000 + "!", "a" * 99_000 + "!")
    tagged = (
        "<item><guid>n3</guid><title>Strike at the stadium</title><category>Sport</category>"
        "<link>https://news.test/n3</link><description>Players strike.</description></item>"
    )
    async with running_bot(settings, server, ManualClock(autojump=True)) as bot:
        await bot.tick()
        feed = rss([*OLD, hostile, HARBOUR, BUDGET])
        server.route("/feed.xml", feed.replace("</channel>", f"{tagged}</channel>"))
        await bot.tick()
    posts = api.calls_to("sendMessage", GROUP)
    assert [p.visible_text.split("\n")[0] for p in posts] == ["Harbour strike ends"]


async def test_a_digest_channel_gets_one_digest_at_its_local_time_across_dst(
    tmp_path: Path, server: LocalServer, api: FakeTelegramAPI
) -> None:
    """With ``digest = "08:00 Europe/Berlin"`` new articles are not posted one by one; on
    the night clocks spring forward the digest comes at 08:00 Berlin time (06:00 UTC, not
    07:00), once, listing each story with its link, then its top story's poll. A digest
    missed while the bot was down comes once at start, not once per missed day."""
    extra = 'digest = "08:00 Europe/Berlin"\npolls = "always"\n'
    settings = _telegram(tmp_path, server, api, extra)
    clock = ManualClock(SATURDAY_NOON, autojump=True)
    async with running_bot(settings, server, clock) as bot:
        await bot.tick()
        server.route("/feed.xml", rss([*OLD, HARBOUR, BUDGET]))
        await bot.tick()
        assert api.calls_to("sendMessage", GROUP) == []  # held for the digest
        await clock.advance(SUNDAY_0800_BERLIN - 1800 - clock.now())  # 07:30 in Berlin
        await bot.tick()
        assert api.calls_to("sendMessage", GROUP) == []
        await clock.advance(1800)
        await bot.tick()
        await bot.tick()  # nothing more is owed at the same time
    [digest] = api.calls_to("sendMessage", GROUP)
    text = digest.visible_text
    assert text.startswith("Digest · 2027-03-28 08:00 (Europe/Berlin)")
    assert "2 stories since the last digest." in text
    assert "Harbour strike ends" in text and "Budget passes parliament" in text
    assert "https://news.test/n1" in str(digest.params["text"])
    assert len(api.calls_to("sendPoll", GROUP)) == 1
    server.route("/feed.xml", rss([*OLD, HARBOUR, BUDGET, ("n4", "Bridge reopens", "It did.")]))
    async with running_bot(settings, server, clock) as bot:
        await bot.tick()
    await clock.advance(3 * 86400)
    async with running_bot(settings, server, clock) as bot:
        await bot.tick()
    digests = api.calls_to("sendMessage", GROUP)
    assert len(digests) == 2
    assert digests[1].visible_text.startswith("Digest · 2027-03-31 08:00 (Europe/Berlin)")
    assert "1 story since the last digest." in digests[1].visible_text


async def test_a_german_channel_asks_the_llm_for_german(
    tmp_path: Path, server: LocalServer, api: FakeTelegramAPI
) -> None:
    """``language = "de"``: the LLM is asked to write in German, and the post carries
    what it wrote."""
    server.route("/feed.xml", rss(OLD))
    config = write_config(
        tmp_path, server.url("/feed.xml"), [f"telegram:{GROUP}"], 'language = "de"\n'
    )
    reply = {
        "headline": "Hafenstreik beendet",
        "summary": ["Der Streik im Hafen ist vorbei.", "Die Schiffe fahren wieder aus."],
        "poll": None,
    }
    async with FakeOpenAI() as llm:
        llm.default = completion(reply)
        settings = _settings(
            tmp_path, config, api, OPENAI_API_KEY="sk-test", OPENAI_BASE_URL=llm.base_url
        )
        async with running_bot(settings, server, ManualClock(autojump=True)) as bot:
            await bot.tick()
            server.route("/feed.xml", rss([*OLD, HARBOUR]))
            await bot.tick()
    assert llm.calls == 1
    assert "German (de)" in llm.prompt()
    [post] = api.calls_to("sendMessage", GROUP)
    assert "Der Streik im Hafen ist vorbei." in post.visible_text


async def test_help_answers_in_the_readers_language_or_the_chats(
    tmp_path: Path, server: LocalServer, api: FakeTelegramAPI
) -> None:
    """A Telegram user whose app speaks German gets /help in German; one whose app speaks
    Portuguese (no catalogue) gets English."""
    settings = _telegram(tmp_path, server, api, "")
    async with running_bot(settings, server, ManualClock(autojump=True)):
        api.queue(api.message(GROUP, "/help", user_id=MEMBER, language_code="de"))
        german = await api.wait_for(lambda c: c.method == "sendMessage")
        api.queue(api.message(GROUP, "/help", user_id=MEMBER, language_code="pt-br"))
        english = await api.wait_for(lambda c: "this list" in c.visible_text)
    assert "/help - diese Liste" in german.visible_text
    assert "/summary <Thema> - der Stand einer Geschichte" in german.visible_text
    assert "/help - this list" in english.visible_text


async def test_a_channels_locale_wins_over_the_discord_users(
    tmp_path: Path, server: LocalServer
) -> None:
    """On Discord a channel with ``locale = "es"`` answers /help in Spanish, whatever
    the user's client speaks."""
    server.route("/feed.xml", rss(OLD))
    config = write_config(
        tmp_path, server.url("/feed.xml"), [f"discord:{DISCORD_CHANNEL}"], 'locale = "es"\n'
    )
    async with FakeDiscord(token=DISCORD_TOKEN, channels=(DISCORD_CHANNEL,)) as fake:
        values = {
            "NEWSBRIEF_DB": str(tmp_path / "nb.db"),
            "NEWSBRIEF_CONFIG": str(config),
            "DISCORD_BOT_TOKEN": DISCORD_TOKEN,
            "DISCORD_API_BASE_URL": fake.api_base_url,
            "DISCORD_GATEWAY_URL": fake.gateway_url,
        }
        settings = Settings(_env_file=None, **values)  # type: ignore[arg-type]
        async with running_bot(settings, server, ManualClock(autojump=True)):
            _, token = await fake.interact("help", locale="fr")
            followups = await fake.wait_for(
                lambda f: f.calls_to("POST", f"/webhooks/{f.app_id}/{token}")
            )
    assert "/help - esta lista" in followups[0].json["content"]
