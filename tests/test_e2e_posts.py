"""Posts people want, through the whole bot and the fake platforms: an entry's image as a
Telegram photo and a Discord embed image, a refused image still giving the post, a
channel template escaped for the platform, and ``newsbrief preview`` showing exactly what
the platform received."""

from __future__ import annotations

import html
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.app.preview import preview
from bot.app.settings import Settings
from bot.clock import ManualClock
from bot.types import Post
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.http_server import LocalServer
from tests.fakes.telegram_api import Call, FakeTelegramAPI
from tests.harness import running_bot

GROUP, CHANNEL = -1001, -1002
DISCORD_TOKEN = "MTAxOTk5.e2e-bot-token.s3cr3t"
DISCORD_CHANNEL = 111111111111111111
IMAGE = "https://img.test/strike.jpg"
# a title that tries markup, a placeholder, a mention and a closing link (twice escaped in
# the XML, so the parser reads it as text, not as a tag)
HOSTILE = "<b>Strike</b> {summary} @everyone </a> *bold*"
TEXT = (
    "Dock workers ended their strike on Monday after a deal on pay.\n\n"
    "The harbour expects ships to sail again within two days, officials said."
)
TEXTS = {
    "old": "Yesterday a storm closed the airport for an hour. Flights resumed by noon.",
    "n2": "A new ferry line to the islands opens in March, the transport minister announced.",
}
TEMPLATE = '"📰 {title}\\n{summary}\\n— {source}, {published}\\n{url}"'


def feed(*items: tuple[str, str, str]) -> str:
    """RSS of (guid, title, image) items ("" for no image), texts by guid (``TEXTS``, else
    the strike story's)."""
    body = "".join(
        f"<item><guid>{g}</guid><title>{html.escape(html.escape(t))}</title>"
        f"<link>https://news.test/{g}</link>"
        f"<description>{html.escape(TEXTS.get(g, TEXT))}</description>"
        + (f'<media:content url="{image}" medium="image"/>' if image else "")
        + "</item>"
        for g, t, image in items
    )
    head = (
        '<?xml version="1.0"?><rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/">'
        "<channel><title>Wire</title>"
    )
    return f"{head}{body}</channel></rss>"


OLD = ("old", "Old news", "")


def write_config(tmp: Path, feed_url: str, channels: list[tuple[str, str]]) -> Path:
    """One feed posted to channels given as (`to`, extra settings)."""
    lines = [f'[[feeds]]\nurl = "{feed_url}"\nname = "wire"\n']
    lines += [f'[[channels]]\nto = "{to}"\npolls = "never"\n{extra}\n' for to, extra in channels]
    path = tmp / "newsbrief.toml"
    path.write_text("\n".join(lines))
    return path


@pytest.fixture
def clock() -> ManualClock:
    """Simulated time: pacing passes instantly."""
    return ManualClock(autojump=True)


@pytest.fixture
async def api() -> AsyncIterator[FakeTelegramAPI]:
    """A fake Bot API with a group and a channel."""
    async with FakeTelegramAPI() as running:
        running.add_chat(GROUP, "supergroup")
        running.add_chat(CHANNEL, "channel", username="worldbrief")
        yield running


@pytest.fixture
def telegram(tmp_path: Path, api: FakeTelegramAPI, server: LocalServer) -> Settings:
    """A bot posting the feed to a templated Telegram group and a plain channel."""
    server.route("/feed.xml", feed(OLD))
    channels = [
        (f"telegram:{GROUP}", f'template = {TEMPLATE}\ntimezone = "Europe/Berlin"'),
        (f"telegram:{CHANNEL}", ""),
    ]
    config = write_config(tmp_path, server.url("/feed.xml"), channels)
    values = {
        "NEWSBRIEF_DB": str(tmp_path / "nb.db"),
        "NEWSBRIEF_CONFIG": str(config),
        "TELEGRAM_BOT_TOKEN": api.token,
        "TELEGRAM_API_BASE_URL": api.base_url,
    }
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def _sent(call_params: dict[str, Any], method: str) -> dict[str, Any]:
    """A recorded Bot API request as ``newsbrief preview`` shows one (chat aside)."""
    keys = ("photo", "caption", "text", "parse_mode", "link_preview_options")
    return {"method": method, **{k: call_params[k] for k in keys if k in call_params}}


async def test_an_image_goes_as_a_photo_and_a_template_is_escaped_as_preview_shows(
    telegram: Settings, server: LocalServer, api: FakeTelegramAPI, clock: ManualClock
) -> None:
    """An entry with an image reaches each Telegram chat as sendPhoto of that image with
    the post as its caption; the group's template shows the hostile title literally (valid
    HTML, nothing interpreted); `newsbrief preview` prints exactly those requests."""
    async with running_bot(telegram, server, clock) as bot:
        await bot.tick()
        server.route("/feed.xml", feed(OLD, ("n1", HOSTILE, IMAGE)))
        await bot.tick()
    [group] = api.calls_to("sendPhoto", GROUP)
    [channel] = api.calls_to("sendPhoto", "@worldbrief") or api.calls_to("sendPhoto", CHANNEL)
    assert api.calls_to("sendMessage") == []
    assert group.params["photo"] == channel.params["photo"] == IMAGE
    lines = group.visible_text.split("\n")
    assert lines[0] == f"📰 {HOSTILE}"
    assert lines[-2].startswith("— wire, ") and lines[-1] == "https://news.test/n1"
    assert "<b>Strike" not in group.params["caption"]
    assert channel.visible_text.startswith(f"{HOSTILE}\n\nDock workers ended their strike")
    for to, call in ((f"telegram:{GROUP}", group), (f"telegram:{CHANNEL}", channel)):
        shown = await preview(telegram, to)
        assert isinstance(shown.message, Post) and shown.message.image == IMAGE
        assert json.loads(shown.rendered) == [_sent(call.params, "sendPhoto")]


async def test_a_refused_image_still_gives_the_post(
    telegram: Settings,
    server: LocalServer,
    api: FakeTelegramAPI,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Telegram refusing the image: the post still arrives, as a message without it, and
    the log has one warning per chat for it, no traceback."""
    api.bad_images.add(IMAGE)
    async with running_bot(telegram, server, clock) as bot:
        await bot.tick()
        server.route("/feed.xml", feed(OLD, ("n1", "Strike over", IMAGE)))
        with caplog.at_level(logging.WARNING):
            await bot.tick()
    assert len(api.calls_to("sendPhoto")) == 2  # one refused try per chat
    texts = [call.visible_text for call in api.calls_to("sendMessage")]
    assert len(texts) == 2 and all("Dock workers ended their strike" in t for t in texts)
    refused = [r for r in caplog.records if "refused the image" in r.getMessage()]
    assert len(refused) == 2 and not any(r.exc_info for r in caplog.records)


@pytest.fixture
async def discord() -> AsyncIterator[FakeDiscord]:
    """A fake Discord with one text channel."""
    async with FakeDiscord(token=DISCORD_TOKEN, channels=(DISCORD_CHANNEL,)) as running:
        yield running


@pytest.fixture
def discord_settings(tmp_path: Path, discord: FakeDiscord, server: LocalServer) -> Settings:
    """A bot posting the feed to one Discord channel."""
    server.route("/feed.xml", feed(OLD))
    config = write_config(tmp_path, server.url("/feed.xml"), [(f"discord:{DISCORD_CHANNEL}", "")])
    values = {
        "NEWSBRIEF_DB": str(tmp_path / "nb.db"),
        "NEWSBRIEF_CONFIG": str(config),
        "DISCORD_BOT_TOKEN": DISCORD_TOKEN,
        "DISCORD_API_BASE_URL": discord.api_base_url,
        "DISCORD_GATEWAY_URL": discord.gateway_url,
    }
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


async def test_discord_gets_the_image_in_its_embed_and_a_refused_one_still_posts(
    discord_settings: Settings, server: LocalServer, discord: FakeDiscord, clock: ManualClock
) -> None:
    """An entry's image is the Discord embed's image, as `newsbrief preview` shows it; a
    second entry whose image Discord refuses is posted without it."""
    bad = "https://img.test/bad.jpg"
    discord.bad_images.add(bad)
    async with running_bot(discord_settings, server, clock) as bot:
        await bot.tick()
        server.route("/feed.xml", feed(OLD, ("n1", "Strike over", IMAGE)))
        await bot.tick()
        server.route(
            "/feed.xml", feed(OLD, ("n1", "Strike over", IMAGE), ("n2", "Ships sail", bad))
        )
        await bot.tick()
    first, second = discord.channel_posts(DISCORD_CHANNEL)
    assert first.json["embeds"][0]["image"] == {"url": IMAGE}
    assert second.json["embeds"][0]["title"] == "Ships sail"
    assert "image" not in second.json["embeds"][0]
    shown = await preview(discord_settings, f"discord:{DISCORD_CHANNEL}", article_id=2)
    assert json.loads(shown.rendered) == [{"embeds": first.json["embeds"]}]


async def test_slash_preview_shows_the_post_and_what_the_filters_pass(
    telegram: Settings, server: LocalServer, api: FakeTelegramAPI, clock: ManualClock
) -> None:
    """An admin's /preview in a channel's group gets the list of recent articles with ✓,
    then the latest article's post as the group gets it (its template, its image); the
    same as the group received when the article was delivered."""
    api.set_member(GROUP, 777, "administrator")
    async with running_bot(telegram, server, clock) as bot:
        await bot.tick()
        server.route("/feed.xml", feed(OLD, ("n1", HOSTILE, IMAGE)))
        await bot.tick()
        [delivered] = api.calls_to("sendPhoto", GROUP)
        api.queue(api.message(GROUP, "/preview", user_id=777))
        listing = await api.wait_for(lambda c: c.chat_id == GROUP and "✓" in c.visible_text)
        shown = await api.wait_for(
            lambda c: c.method == "sendPhoto" and c.chat_id == GROUP and c is not delivered
        )
    assert f"✓ {HOSTILE}" in listing.visible_text and "✓ Old news" in listing.visible_text
    assert _sent(shown.params, "sendPhoto") == _sent(delivered.params, "sendPhoto")


async def test_slash_preview_in_a_german_channel_names_the_month_in_german(
    tmp_path: Path, server: LocalServer, api: FakeTelegramAPI, clock: ManualClock
) -> None:
    """/preview in a ``locale = "de"`` group lays the post out in German, as the dispatcher
    sent it there: the date under Telegram's standard layout says "Mai", not "May"."""
    dated = _dated(feed(OLD, ("n1", "Strike ends", "")), old="11 May", n1="12 May")
    config = write_config(tmp_path, server.url("/feed.xml"), [(f"telegram:{GROUP}", LOCALE)])
    values = {
        "NEWSBRIEF_DB": str(tmp_path / "nb.db"),
        "NEWSBRIEF_CONFIG": str(config),
        "TELEGRAM_BOT_TOKEN": api.token,
        "TELEGRAM_API_BASE_URL": api.base_url,
    }
    settings = Settings(_env_file=None, **values)  # type: ignore[arg-type]
    api.set_member(GROUP, 777, "administrator")
    server.route("/feed.xml", _dated(feed(OLD), old="11 May"))
    async with running_bot(settings, server, clock) as bot:
        await bot.tick()
        server.route("/feed.xml", dated)
        await bot.tick()
        [delivered] = api.calls_to("sendMessage", GROUP)
        api.queue(api.message(GROUP, "/preview", user_id=777))
        shown = await api.wait_for(
            lambda c: c is not delivered and _a_post_of(c, "Strike ends", GROUP)
        )
    assert "12. Mai 2026" in shown.visible_text and "May" not in shown.visible_text
    assert _sent(shown.params, "sendMessage") == _sent(delivered.params, "sendMessage")


def _a_post_of(call: Call, title: str, chat: int) -> bool:
    """A post in the standard layout (its title first) sent to ``chat``."""
    return call.chat_id == chat and call.visible_text.startswith(title)


def _dated(rss: str, **days: str) -> str:
    """``rss`` with a 2026 publication day (``"12 May"``) for each guid given."""
    for guid, day in days.items():
        stamp = f"<pubDate>{day} 2026 08:00:00 GMT</pubDate>"
        rss = rss.replace(f"<guid>{guid}</guid>", f"<guid>{guid}</guid>{stamp}")
    return rss


LOCALE = 'locale = "de"'
