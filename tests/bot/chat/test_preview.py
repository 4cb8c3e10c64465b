"""/preview: how the latest article would look in this chat, and which recent articles its
filters let through, with the filter that stops each of the others."""

from __future__ import annotations

from dataclasses import replace

from bot.clock import ManualClock
from bot.store.sqlite import SqliteStore
from bot.types import ChatRef, Command, FeedOrigin, FeedUpdate, Filters, Routed, Subscription
from tests.bot.helpers import article, core, make_feed

CHAT = ChatRef("fake", "news")
NOW = 1_800_000_000.0


async def _setup(store: SqliteStore) -> None:
    feed = await make_feed(store)
    sub = Subscription(exclude=("football",), patterns=Filters((), ("(?i)sport",)))
    await store.channels.upsert(CHAT, origin=FeedOrigin.CONFIG, subscription=sub, now=0)
    items = [
        article(feed, 1, text="The harbour strike ended on Monday. Ships sail again."),
        article(feed, 2, text="The football final drew a record crowd. Fans sang all night."),
        replace(article(feed, 3, title="Sport news"), image="https://img.test/3.jpg"),
        article(feed, 4, text="Rain is expected all week in the north. Rivers may rise."),
    ]
    routed = [Routed(a, ()) for a in items]
    await store.articles.save_ingest(FeedUpdate(feed.id, NOW, NOW + 600), routed)


def _ask(chat: ChatRef = CHAT, *, admin: bool = True, locale: str = "") -> Command:
    return Command("preview", "", chat, "u1", admin, locale)


async def test_preview_lists_what_passes_and_why_others_do_not_and_carries_the_post(
    store: SqliteStore, clock: ManualClock
) -> None:
    """The reply marks each recent article ✓ or ✗ with the filter that stops it, and
    carries the latest passing article's post as the chat would get it."""
    await _setup(store)
    reply = await core(store, clock).service.handle(_ask())
    assert reply.ok and reply.title == "Preview"
    lines = reply.text.splitlines()
    assert "✓ Story number 4" in lines and "✓ Story number 1" in lines
    assert "✗ Sport news (filtered by: exclude patterns)" in lines
    assert "✗ Story number 2 (filtered by: keywords)" in lines
    assert reply.post is not None and reply.post.title == "Story number 4"
    assert reply.post.summary


async def test_preview_answers_in_the_chats_language(
    store: SqliteStore, clock: ManualClock
) -> None:
    """The reasons are in the reader's language."""
    await _setup(store)
    reply = await core(store, clock).service.handle(_ask(locale="de"))
    assert reply.title == "Vorschau"
    assert "✗ Story number 2 (gefiltert durch: Stichwörter)" in reply.text.splitlines()


async def test_preview_outside_a_channel_or_by_a_reader_is_a_clear_answer(
    store: SqliteStore, clock: ManualClock
) -> None:
    """In a chat that is not a channel, /preview says so; readers who are not admins are
    refused."""
    await _setup(store)
    service = core(store, clock).service
    elsewhere = await service.handle(_ask(ChatRef("fake", "elsewhere")))
    assert not elsewhere.ok and "not a channel" in elsewhere.text and elsewhere.post is None
    reader = await service.handle(_ask(admin=False))
    assert not reader.ok and reader.post is None


async def test_preview_never_lists_another_chats_subscribed_feeds(
    store: SqliteStore, clock: ManualClock
) -> None:
    """Articles of a feed another chat /subscribe'd (perhaps private) are left out of this
    chat's list; the operator's feeds are judged as before."""
    await _setup(store)
    private = await store.feeds.upsert(
        "https://private.test/feed?token=s3cret",
        name="theirs",
        origin=FeedOrigin.CHAT,
        every=600.0,
        backfill=0,
        now=0,
    )
    theirs = [Routed(article(private, 9, title="Their private memo"), ())]
    await store.articles.save_ingest(FeedUpdate(private.id, NOW + 60, NOW + 600), theirs)
    reply = await core(store, clock).service.handle(_ask())
    assert "Their private memo" not in reply.text
    assert "✓ Story number 4" in reply.text.splitlines()
