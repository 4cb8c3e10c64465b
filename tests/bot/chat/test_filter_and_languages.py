"""/filter, and the chat's languages in /status, /help and errors."""

from __future__ import annotations

import pytest

from bot.clock import ManualClock
from bot.store.sqlite import SqliteStore
from bot.types import ChannelOptions, ChatRef, Command, FeedOrigin, Filters, Subscription
from tests.bot.helpers import CoreParts, core, make_channel

CHAT = ChatRef("telegram", "-100")


@pytest.fixture
def parts(store: SqliteStore, clock: ManualClock) -> CoreParts:
    """The core's parts over a real store."""
    return core(store, clock)


def _admin(name: str, args: str = "", locale: str = "") -> Command:
    return Command(name, args, CHAT, "u1", True, locale)


async def test_filter_adds_lists_removes_and_clears_the_chats_patterns(
    parts: CoreParts,
) -> None:
    """Admins add include and exclude patterns, see them numbered beside the operator's,
    remove one by number and clear the rest; the operator's stay."""
    store, service = parts.store, parts.service
    await store.channels.upsert(
        CHAT,
        origin=FeedOrigin.CONFIG,
        subscription=Subscription(patterns=Filters(("venezuela",))),
        now=0,
    )
    await service.handle(_admin("filter", "include oil|gas"))
    shown = await service.handle(_admin("filter", "exclude  sport"))
    assert "1. include: oil|gas\n2. exclude: sport" in shown.text
    assert "Set by the operator:\ninclude: venezuela" in shown.text
    await service.handle(_admin("filter", "remove 1"))
    channel = await store.channels.by_ref(CHAT)
    assert channel is not None and channel.chat_filters == Filters((), ("sport",))
    await service.handle(_admin("filter", "clear"))
    channel = await store.channels.by_ref(CHAT)
    assert channel is not None and channel.filters == Filters(("venezuela",))


@pytest.mark.parametrize(
    ("args", "answer"),
    [
        ("include (?=oil)", "look-around and back-references are not supported"),
        ("exclude (", "not a valid regular expression"),
        ("include", "Usage: /filter include <pattern>"),
        ("remove x", "Usage: /filter"),
        ("remove 9", "There is no filter number 9"),
        ("frobnicate", "Usage: /filter"),
    ],
)
async def test_filter_mistakes_get_a_clear_reply(parts: CoreParts, args: str, answer: str) -> None:
    """A bad pattern or edit is a reply saying what is wrong; nothing changes."""
    await make_channel(parts.store, "-100", platform="telegram")
    reply = await parts.service.handle(_admin("filter", args))
    assert not reply.ok and answer in reply.text
    channel = await parts.store.channels.by_ref(CHAT)
    assert channel is not None and channel.chat_filters == Filters()


async def test_filter_is_for_admins_and_replies_in_the_users_language(
    parts: CoreParts,
) -> None:
    """A member cannot change filters; an admin whose client speaks French reads the
    refusal of a bad pattern in French."""
    member = await parts.service.handle(Command("filter", "include x", CHAT, "u2", False))
    assert not member.ok and "Only an admin" in member.text
    french = await parts.service.handle(_admin("filter", "include (", locale="fr-CA"))
    assert "pas une expression régulière valide" in french.text


async def test_status_says_in_which_language_summaries_are_written(
    parts: CoreParts, store: SqliteStore
) -> None:
    """With the extractive summarizer a channel's language cannot be honoured, and
    /status says so (in the chat's locale); the digest line counts what waits."""
    channel = await make_channel(store, "-100", platform="telegram")
    await store.channels.configure(channel.id, ChannelOptions(("08:00",), "de", "de"), 0)
    status = await parts.service.handle(_admin("status"))
    assert "Zusammenfassungen bleiben in der Sprache des Artikels" in status.text
    assert "Dieser Chat bekommt einen Überblick um 08:00. 0 Artikel warten darauf." in status.text


async def test_the_chats_locale_beats_the_users_and_english_is_the_last_resort(
    parts: CoreParts, store: SqliteStore
) -> None:
    """No channel locale: the user's language; a channel locale: that one; neither:
    English. Unknown commands are answered in the same language."""
    assert "diese Liste" in (await parts.service.handle(_admin("help", locale="de"))).text
    channel = await make_channel(store, "-100", platform="telegram")
    await store.channels.configure(channel.id, ChannelOptions(locale="es"), 0)
    assert "esta lista" in (await parts.service.handle(_admin("help", locale="de"))).text
    unknown = await parts.service.handle(_admin("frob", locale="de"))
    assert unknown.text == "No conozco /frob. Pruebe /help."
    await store.channels.configure(channel.id, ChannelOptions(), 0)
    assert "this list" in (await parts.service.handle(_admin("help", locale="tlh"))).text
