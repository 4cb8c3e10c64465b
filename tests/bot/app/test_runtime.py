"""The composition root in process: serving until stopped, the console session, and the
one-shot roots, each built as the CLI builds them."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest

from bot.app.resources import secrets
from bot.app.root import Runtime
from bot.app.settings import Settings
from bot.app.tools import Tools
from bot.clock import ManualClock
from bot.feeds.fetch import HttpFetcher
from bot.types import OutboxState
from tests.fakes.http_server import LocalServer, dial_to, fake_resolver
from tests.harness import SEED_TEXT, rss


@pytest.fixture
def fetcher(server: LocalServer) -> HttpFetcher:
    """Article pages (news.test) are asked of the local server, never of the network."""
    resolver = fake_resolver({"news.test": ["93.184.216.34"]})
    return HttpFetcher(allow_private_hosts=True, resolver=resolver, dial=dial_to(server))


@pytest.fixture
def settings(tmp_path: Path, server: LocalServer) -> Settings:
    """A bot following one loopback feed (its two items posted at once) on the console."""
    buses = "The city approved night buses on twelve routes from next month. " * 8
    items = [("a", "Planes in Venezuela", SEED_TEXT), ("b", "Night buses", buses)]
    url = server.route("/feed.xml", rss(items))
    (tmp_path / "newsbrief.toml").write_text(
        f'[[feeds]]\nurl = "{url}"\nbackfill = 2\n[[channels]]\nto = "console"\npolls = "never"\n'
    )
    values = {
        "NEWSBRIEF_DB": str(tmp_path / "nb.db"),
        "NEWSBRIEF_CONFIG": str(tmp_path / "newsbrief.toml"),
        "NEWSBRIEF_ALLOW_PRIVATE_HOSTS": "1",
    }
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


class _Terminal(io.StringIO):
    """A stdout that signals each write (the console writes from a worker thread)."""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.get_running_loop()
        self.written = asyncio.Event()

    def write(self, text: str) -> int:
        written = super().write(text)
        self.loop.call_soon_threadsafe(self.written.set)  # after the text is there
        return written


async def test_serve_posts_then_stops_when_asked(settings: Settings, fetcher: HttpFetcher) -> None:
    """Serving ingests and delivers on its own; a stop request ends it with every post
    recorded, and the runtime closes cleanly."""
    out, stop = _Terminal(), asyncio.Event()
    runtime_build = Runtime.build(settings, clock=ManualClock(), fetcher=fetcher, stdout=out)
    async with runtime_build as runtime:
        serving = asyncio.create_task(runtime.serve(stop))
        async with asyncio.timeout(10):
            while "Night buses" not in out.getvalue() or "Venezuela" not in out.getvalue():
                await out.written.wait()
                out.written.clear()
        stop.set()  # the last post may still be in flight: it is finished and recorded
        await serving
        rows = await runtime.store.outbox.rows()
    assert [r.state for r in rows] == [OutboxState.SENT] * 2
    assert "Planes in Venezuela" in out.getvalue() and "Night buses" in out.getvalue()


async def test_end_of_console_input_ends_the_session(settings: Settings) -> None:
    """With console input, its end (Ctrl-D) ends serving; each line was answered."""
    out, stop = io.StringIO(), asyncio.Event()
    async with Runtime.build(settings, clock=ManualClock(), stdout=out) as runtime:
        await asyncio.wait_for(runtime.serve(stop, io.StringIO("/help\n")), 10)
    assert stop.is_set()
    assert "/summary <topic>" in out.getvalue()


async def test_tools_neither_connect_nor_take_over_the_outbox(
    settings: Settings, fetcher: HttpFetcher
) -> None:
    """A one-shot command's runtime builds no chat adapter and leaves rows in flight
    alone (a running bot may own them)."""
    built = Runtime.build(settings, clock=ManualClock(), fetcher=fetcher, stdout=io.StringIO())
    async with built as serving:
        await serving.ingest()
        claimed = await serving.store.outbox.claim_due(
            serving.clock.now(), 1, platforms=["console"]
        )
    async with Runtime.build(settings, serving=False) as tool:
        assert tool.supervisor.adapters == []
        rows = {r.id: r.state for r in await tool.store.outbox.rows()}
    assert rows[claimed[0].id] is OutboxState.SENDING


def test_the_database_password_is_a_secret_the_log_filter_knows() -> None:
    """The password of a ``postgresql://`` NEWSBRIEF_DB is redacted from logs like the
    platform tokens; a SQLite path holds none."""
    url = "postgresql://newsbrief:hunter2secret@db.example.org/newsbrief"
    assert "hunter2secret" in secrets(Settings(NEWSBRIEF_DB=url))
    assert "hunter2secret" not in secrets(Settings(NEWSBRIEF_DB="./hunter2secret.db"))
    query = "postgresql://newsbrief@db.example.org/newsbrief?password=s3cr%40t&sslmode=require"
    assert {"s3cr%40t", "s3cr@t"} <= set(secrets(Settings(NEWSBRIEF_DB=query)))


async def test_the_one_shot_root_ingests_and_answers_like_the_full_one(
    settings: Settings, fetcher: HttpFetcher
) -> None:
    """``Tools`` (what ``ingest`` and ``summary`` build) stores and queues the feed's
    articles as ``Runtime.ingest`` does, takes over no row in flight, and answers a topic
    from them with the summarizer it makes on demand."""
    async with Tools.open(settings, clock=ManualClock(), fetcher=fetcher) as tools:
        counts = await tools.ingest()
        answer = await tools.service().topic("night buses", days=3650)
        rows = await tools.store.outbox.rows()
    assert (counts.new_articles, counts.queued_posts) == (2, 2)
    assert [r.state for r in rows] == [OutboxState.PENDING] * 2
    assert "buses" in answer.summary.lower()
    assert answer.method == "extractive"
