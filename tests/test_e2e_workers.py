"""Several workers on one PostgreSQL database, through the whole bot and the fake Bot API:
they share the feeds and the deliveries with every post sent once, exactly one of them
holds the Telegram gateway, and when it dies another takes the gateway over."""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
import sys
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bench.workers import kill, stop, worker_env
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
START_LIMIT = 60.0  # seconds a `newsbrief run` process may take to start (a slow CI box)
TAKEOVER_LIMIT = 30.0  # seconds the gateway may take to move off a dead worker (issue 13)
SERVING_ON = re.compile(r"health\s+and\s+metrics\s+on\s+http://127\.0\.0\.1:(\d+)/")
STANDING_BY = re.compile(r"telegram:\s+standing\s+by")
LOCKS_HELD = re.compile(r'^newsbrief_leases_held\{kind="locks"\} (\S+)$', re.MULTILINE)
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


class _Process:
    """One ``newsbrief run`` process; its log read as it comes (so the pipe never fills),
    and the port of its /metrics, which it names in its log once it is up."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.log: list[str] = []
        self._port: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._standby: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, folder: Path, env: dict[str, str]) -> _Process:
        """Start ``newsbrief run`` in ``folder`` with ``env``."""
        process = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "bot", "run"),
            cwd=folder,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        return cls(process)

    async def locks_held(self, client: httpx.AsyncClient) -> float:
        """How many locks the worker holds, from its /metrics once it is up."""
        async with asyncio.timeout(START_LIMIT):
            port = await asyncio.shield(self._port)
        metrics = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
        found = LOCKS_HELD.search(metrics)
        assert found is not None, metrics
        return float(found[1])

    async def standing_by(self) -> None:
        """Return once the worker logged that its supervisor looked at the locks and found
        Telegram held by another worker (its next look is LEAD_EVERY later)."""
        async with asyncio.timeout(START_LIMIT):
            await asyncio.shield(self._standby)

    async def finish(self) -> None:
        """Read the log to its end (the process has exited)."""
        await self._reader
        for waited in (self._port, self._standby):
            if waited.done() and not waited.cancelled():
                waited.exception()  # seen: a test that needed it has failed on it

    async def _read(self) -> None:
        assert self.process.stderr is not None
        async for raw in self.process.stderr:
            self.log.append(raw.decode(errors="replace").rstrip())
            found = SERVING_ON.search("\n".join(self.log[-3:]))  # a log line may wrap
            if found and not self._port.done():
                self._port.set_result(int(found[1]))
            if STANDING_BY.search("\n".join(self.log[-2:])) and not self._standby.done():
                self._standby.set_result(None)
        for waited in (self._port, self._standby):
            if not waited.done():
                waited.set_exception(RuntimeError("exited:\n" + "\n".join(self.log[-30:])))


async def test_sigkilled_gateway_holder_hands_telegram_to_the_other_process(
    tmp_path: Path, api: FakeTelegramAPI, postgres: Databases
) -> None:
    """Two real `newsbrief run` processes on one database: the first holds Telegram's two
    locks, the second stands by with none; SIGKILL the first while the second waits for
    its next look at the locks, and the second takes both over (at the product's own
    LEAD_EVERY) and answers a command within 30 s."""
    (tmp_path / "newsbrief.toml").write_text(f'[[channels]]\nto = "telegram:{GROUP}"\n')
    db = await postgres.fresh()
    env = worker_env(
        tmp_path,
        db,
        NEWSBRIEF_LOG_LEVEL="INFO",  # the line naming the metrics port is an INFO line
        NEWSBRIEF_METRICS_LISTEN="127.0.0.1:0",
        TELEGRAM_BOT_TOKEN=api.token,
        TELEGRAM_API_BASE_URL=api.base_url,
    )
    first = await _Process.start(tmp_path, env)
    workers = [first]
    async with httpx.AsyncClient() as client:
        try:
            await api.wait_for(lambda c: c.method == "getUpdates", limit=START_LIMIT)
            held = [await first.locks_held(client)]
            workers.append(second := await _Process.start(tmp_path, env))
            held.append(await second.locks_held(client))
            await second.standing_by()
            await kill(first.process)  # no clean-up: the server ends its sessions' locks
            api.queue(api.message(GROUP, "/help", user_id=MEMBER))
            reply = await api.wait_for(
                lambda c: c.method == "sendMessage" and "/summary" in str(c.params.get("text")),
                limit=TAKEOVER_LIMIT,
            )
            held.append(await second.locks_held(client))
        finally:
            await stop([w.process for w in workers])
            for worker in workers:
                await worker.finish()
    assert held == [2.0, 0.0, 2.0]  # gateway:telegram and deliver:telegram, then moved
    assert reply.params["chat_id"] == GROUP
    assert not [line for line in second.log if "Traceback" in line], second.log
