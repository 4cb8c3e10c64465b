"""Chaos: three ``newsbrief run`` workers on one PostgreSQL database deliver 2,000 posts to
300 chats of the fake Telegram (enforcing 30 messages/s and 20 per chat per minute) while
a random worker is SIGKILLed every few seconds and started again. Counted at the end: posts
lost, posts repeated (the invariant allows one per kill: the row in flight), rows stuck,
and the 429s the fake answered.

Beside it, the rate-limit design measured in the same run: one deliverer per bot token
(what the ``deliver:telegram`` lock gives) against every worker pacing on its own, on the
same rows, database and fake."""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections import Counter
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import Rows, run_table
from bench.workers import database, kill, postgres, query, spawn, stop, worker_env
from bot.app.root import Runtime
from bot.app.settings import Settings
from bot.clock import SystemClock
from bot.delivery.compose import Composer
from bot.delivery.dispatcher import Dispatcher
from bot.digests.compose import DigestComposer
from bot.types import OutboxState
from tests.fakes.http_server import LocalServer
from tests.fakes.postgres import Cluster
from tests.fakes.telegram_api import FakeTelegramAPI

CHATS = 300
EVERY_CHAT, SOME_CHATS = 6, 200  # 6 posts to every chat, a 7th to 200 of them: 2,000
WORKERS = 3
KILL_EVERY = (2.0, 6.0)  # seconds between kills, a seeded random pick
DEADLINE = 900.0
LINK = re.compile(r"https://news\.test/(\w+/\d+)")
WORDS = re.findall(
    r"\w+",
    "council harbour strike minister budget river storm court ruling vote election "
    "factory workers union talks rescue flood bridge school hospital market prices energy "
    "grid outage police inquiry report station airport runway drought harvest festival",
)


class CountingTelegram(FakeTelegramAPI):
    """The fake Bot API, counting every message it accepted per (chat, article link)."""

    def __init__(self) -> None:
        super().__init__()
        self.accepted: Counter[tuple[int, str]] = Counter()

    async def __aenter__(self) -> CountingTelegram:
        await self.start()
        return self

    async def _api_sendMessage(self, params: dict[str, Any]) -> Any:
        message = await super()._api_sendMessage(params)
        for link in LINK.findall(str(params.get("text", ""))):
            self.accepted[(int(params["chat_id"]), link)] += 1
        return message


def _feed(name: str, count: int, rng: random.Random) -> str:
    def text(i: int) -> str:
        return " ".join(
            f"The {' '.join(rng.sample(WORDS, 6))} story {name} {i} goes on." for _ in range(8)
        )

    items = "".join(
        f"<item><guid>{name}{i}</guid><title>{name.upper()} {i}: {' '.join(rng.sample(WORDS, 5))}"
        f"</title><link>https://news.test/{name}/{i}</link><description>{text(i)}</description>"
        "</item>"
        for i in range(count)
    )
    channel = f"<channel><title>{name}</title>{items}</channel>"
    return f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'


def _config(server: LocalServer, chats: list[int], per_chat: int) -> str:
    """Feed a (``per_chat`` posts to every chat) and feed b (one more to some chats)."""
    lines = [
        f'[[feeds]]\nname = "a"\nurl = "{server.url("/a.xml")}"\nbackfill = {per_chat}\n',
        f'[[feeds]]\nname = "b"\nurl = "{server.url("/b.xml")}"\nbackfill = 1\n',
    ]
    for n, chat in enumerate(chats):
        feeds = '["a", "b"]' if n < SOME_CHATS and per_chat == EVERY_CHAT else '["a"]'
        lines.append(f'[[channels]]\nto = "telegram:{chat}"\nfeeds = {feeds}\npolls = "never"\n')
    return "\n".join(lines)


async def _serving(server: LocalServer, rng: random.Random, per_chat: int) -> None:
    server.route("/a.xml", _feed("a", per_chat, rng), content_type="application/rss+xml")
    server.route("/b.xml", _feed("b", 1, rng), content_type="application/rss+xml")


def _chats(api: FakeTelegramAPI) -> list[int]:
    chats = [-1_000_000_000_000 - n for n in range(CHATS)]
    for chat in chats:
        api.add_chat(chat, "channel")
    return chats


# --- the chaos run ------------------------------------------------------------------------


@dataclass
class Chaos:
    """What one chaos run saw."""

    owed: int
    kills: int
    seconds: float
    accepted: Counter[tuple[int, str]]
    states: dict[str, int]
    floods: int


async def _outbox_states(url: str) -> dict[str, int]:
    rows = await query(url, "SELECT state, COUNT(*) FROM outbox GROUP BY state")
    return {str(r[0]): int(r[1]) for r in rows}


async def _settled(url: str, api: CountingTelegram, owed: int) -> bool:
    if len(api.accepted) < owed:
        return False
    states = await _outbox_states(url)
    return sum(states.values()) == states.get(OutboxState.SENT.value, 0) == owed


async def _chaos(tmp: Path, cluster: Cluster) -> Chaos:
    folder, rng = tmp / "chaos", random.Random(13)
    folder.mkdir()
    url = await database(cluster, "chaos")
    async with CountingTelegram() as api, LocalServer() as server:
        chats = _chats(api)
        await _serving(server, rng, EVERY_CHAT)
        (folder / "newsbrief.toml").write_text(_config(server, chats, EVERY_CHAT))
        api.enforce_limits(30, 20)
        env = worker_env(
            folder, url, TELEGRAM_BOT_TOKEN=api.token, TELEGRAM_API_BASE_URL=api.base_url
        )
        owed, kills, start = CHATS * EVERY_CHAT + SOME_CHATS, 0, time.monotonic()
        workers = [await spawn(folder, env, "run") for _ in range(WORKERS)]
        try:
            while not await _settled(url, api, owed):
                if time.monotonic() - start > DEADLINE:
                    break
                await asyncio.sleep(rng.uniform(*KILL_EVERY))
                victim = rng.randrange(WORKERS)
                await kill(workers[victim])
                workers[victim] = await spawn(folder, env, "run")
                kills += 1
            seconds = time.monotonic() - start
        finally:
            await stop(workers)
        return Chaos(owed, kills, seconds, api.accepted, await _outbox_states(url), api.floods)


def _chaos_rows(run: Chaos) -> Rows:
    repeats = sum(n - 1 for n in run.accepted.values())
    lost = run.owed - len(run.accepted)
    stuck = sum(n for state, n in run.states.items() if state != OutboxState.SENT.value)
    return [
        ("chaos: workers / chats / posts owed", f"{WORKERS} / {CHATS} / {run.owed}"),
        ("chaos: SIGKILLs (a random worker, then restarted)", str(run.kills)),
        ("chaos: time until every row was sent", f"{run.seconds:.0f} s"),
        ("chaos: posts delivered (distinct chat, article)", str(len(run.accepted))),
        ("chaos: lost", str(lost)),
        ("chaos: repeated posts (allowed: the rows in flight at each kill)", str(repeats)),
        ("chaos: outbox rows by state at the end", str(dict(sorted(run.states.items())))),
        ("chaos: rows stuck (not sent)", str(stuck)),
        ("chaos: 429s the fake answered (goal <= 5)", str(run.floods)),
    ]


# --- one deliverer per token against every worker pacing alone ----------------------------


async def _deliver(tmp: Path, cluster: Cluster, name: str, deliverers: int) -> tuple[float, int]:
    """Queue 600 posts (2 for each of the 300 chats) and deliver them with ``deliverers``
    dispatchers sharing the database, each pacing on its own; seconds and 429s."""
    folder = tmp / name
    folder.mkdir()
    url = await database(cluster, name)
    async with CountingTelegram() as api, LocalServer() as server:
        chats = _chats(api)
        await _serving(server, random.Random(5), 2)
        (folder / "newsbrief.toml").write_text(_config(server, chats, 2))
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            NEWSBRIEF_DB=url,
            NEWSBRIEF_CONFIG=folder / "newsbrief.toml",
            NEWSBRIEF_ALLOW_PRIVATE_HOSTS=True,
            TELEGRAM_BOT_TOKEN=api.token,
            TELEGRAM_API_BASE_URL=api.base_url,
        )
        async with Runtime.build(settings, clock=SystemClock(), serving=False) as first:
            await first.ingest()
            api.enforce_limits(30, 20)
            return await _race(settings, first, api, deliverers)


async def _race(
    settings: Settings, first: Runtime, api: CountingTelegram, deliverers: int
) -> tuple[float, int]:
    async with AsyncExitStack() as stack:
        dispatchers = [await _dispatcher(stack, settings, first, n) for n in range(deliverers)]
        start = time.perf_counter()
        while (await first.store.outbox.counts()).waiting:
            await asyncio.gather(*(d.drain() for d in dispatchers))
            if (await first.store.outbox.counts()).waiting:
                await asyncio.sleep(0.05)  # rows held by a 429 wait for their time
        return time.perf_counter() - start, api.floods


async def _dispatcher(
    stack: AsyncExitStack, settings: Settings, first: Runtime, n: int
) -> Dispatcher:
    """A dispatcher over a runtime (store connection, Telegram bot, pacer) of its own, as
    a worker process has; the ``n`` = 0 one over ``first``."""
    runtime = first
    if n:
        runtime = await stack.enter_async_context(
            Runtime.build(settings, clock=SystemClock(), serving=False)
        )
    adapter = await stack.enter_async_context(runtime.chat_adapter("telegram"))
    await adapter.start(receive=False)
    store, summaries, polls = runtime.store, runtime.summaries, runtime.polls
    digests = DigestComposer(store, summaries, polls)
    composer = Composer(store.articles, store.stories, summaries, polls, digests)
    return Dispatcher(
        runtime.store, {"telegram": adapter}, runtime.clock, composer.compose, worker=f"d{n}"
    )


async def _pacing_rows(tmp: Path, cluster: Cluster) -> Rows:
    one_s, one_429 = await _deliver(tmp, cluster, "leader", 1)
    many_s, many_429 = await _deliver(tmp, cluster, "alone", WORKERS)
    return [
        ("pacing: 600 posts, 300 chats, fake at 30 msg/s", ""),
        ("  one deliverer per token (the deliver lock)", f"{one_s:.1f} s, {one_429} 429s"),
        (f"  {WORKERS} workers each pacing alone", f"{many_s:.1f} s, {many_429} 429s"),
        ("  floor (600 / 30 msg/s)", f"{600 / 30:.1f} s"),
    ]


async def _run(tmp: Path) -> Rows:
    async with postgres() as cluster:
        rows = _chaos_rows(await _chaos(tmp, cluster))
        return rows + await _pacing_rows(tmp, cluster)


def main() -> int:
    """Print the chaos table."""
    return run_table("chaos", _run)
