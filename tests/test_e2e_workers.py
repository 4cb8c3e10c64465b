"""Several workers on one PostgreSQL database, through the whole bot and the fake Bot API:
they share the feeds and the deliveries with every post sent once, exactly one of them
holds the Telegram gateway, and when it dies another takes the gateway over."""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app.root import Runtime
from bot.app.settings import Settings
from bot.clock import SystemClock
from bot.feeds.fetch import HttpFetcher
from bot.health import AdapterState, AdapterStatus
from tests.fakes.http_server import LocalServer, dial_to, fake_resolver
from tests.fakes.postgres import Databases
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.harness import PUBLIC_HOST, rss

GROUP, MEMBER = -1001, 501
WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]


def _text(word: str) -> str:
    """A story of its own (distinct stories are never near-copies of each other)."""
    facts = [
        f"{word.title()} {fact} on day {n} in {word}ville."
        for n, fact in enumerate(
            ("council met", "mayor spoke", "river rose", "bridge shut", "school opened"), 1
        )
    ]
    return " ".join(facts * 2)


@pytest.fixture
async def api() -> AsyncIterator[FakeTelegramAPI]:
    """A fake Bot API with a group per story word (one post per chat: no pacing waits)."""
    async with FakeTelegramAPI() as running:
        for n in range(len(WORDS)):
            running.add_chat(GROUP - n, "supergroup")
        yield running


async def _settings(
    tmp_path: Path, server: LocalServer, api: FakeTelegramAPI, postgres: Databases
) -> Settings:
    feeds = []
    for n in range(4):
        words = WORDS[2 * n : 2 * n + 2]
        items = [(f"f{n}-{w}", f"{w.title()} story", _text(w)) for w in words]
        url = server.route(f"/feed{n}.xml", rss(items))
        feeds.append(f'[[feeds]]\nurl = "{url}"\nbackfill = 2\n')
    channels = [
        f'[[channels]]\nto = "telegram:{GROUP - n}"\npolls = "never"\nkeywords = ["{word}"]\n'
        for n, word in enumerate(WORDS)
    ]
    (tmp_path / "newsbrief.toml").write_text("\n".join([*feeds, *channels]))
    values = {
        "NEWSBRIEF_DB": await postgres.fresh(),
        "NEWSBRIEF_CONFIG": str(tmp_path / "newsbrief.toml"),
        "TELEGRAM_BOT_TOKEN": api.token,
        "TELEGRAM_API_BASE_URL": api.base_url,
    }
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@contextlib.asynccontextmanager
async def _worker(
    settings: Settings, server: LocalServer, clock: SystemClock
) -> AsyncIterator[Runtime]:
    fetcher = HttpFetcher(
        allow_private_hosts=True,
        resolver=fake_resolver({PUBLIC_HOST: ["93.184.216.34"], "news.test": ["93.184.216.34"]}),
        dial=dial_to(server),
        now=clock.now,
    )
    async with Runtime.build(settings, clock=clock, fetcher=fetcher, stdout=io.StringIO()) as rt:
        yield rt


async def _status(runtime: Runtime, wanted: AdapterState) -> AdapterStatus:
    async with asyncio.timeout(10):
        while True:
            status = runtime.health.get("telegram")
            if status is not None and status.state is wanted:
                return status
            await runtime.health.changed.wait()
            runtime.health.changed.clear()


async def test_two_workers_share_the_work_and_hand_over_the_gateway(
    tmp_path: Path,
    server: LocalServer,
    api: FakeTelegramAPI,
    postgres: Databases,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two workers serve one database: one holds Telegram, the other stands by; together
    they ingest four feeds and every post reaches its chat once; when the holder dies, the
    other takes Telegram over at its next look at the locks and answers commands."""
    monkeypatch.setattr("bot.app.supervisor.LEAD_EVERY", 0.2)  # look often: a quick test
    settings = await _settings(tmp_path, server, api, postgres)
    clock = SystemClock()
    stop_a, stop_b = asyncio.Event(), asyncio.Event()
    async with _worker(settings, server, clock) as a, _worker(settings, server, clock) as b:
        assert (await _status(a, AdapterState.UP)).platform == "telegram"
        await _status(b, AdapterState.STANDBY)
        serving = [asyncio.create_task(a.serve(stop_a)), asyncio.create_task(b.serve(stop_b))]
        await api.wait_for(lambda c: len(api.calls_to("sendMessage")) >= len(WORDS))
        stop_a.set()  # the holder goes away (its locks go with its connections)
        await serving[0]
        await a.supervisor.stop_all()
        await _status(b, AdapterState.UP)
        api.queue(api.message(GROUP, "/help", user_id=MEMBER))
        reply = await api.wait_for(
            lambda c: c.method == "sendMessage" and "/summary" in str(c.params.get("text"))
        )
        stop_b.set()
        await serving[1]
    posts = Counter(c.params["chat_id"] for c in api.calls_to("sendMessage") if c != reply)
    assert posts == {GROUP - n: 1 for n in range(len(WORDS))}
    assert reply.params["chat_id"] == GROUP
