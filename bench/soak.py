"""Crash soak: SIGKILL ``newsbrief run`` 50 times while it delivers, then let it finish, and
count what every article's post became. Once on the console channel (Telegram's case: no
idempotency key, so a post in flight at the kill may repeat once) and once on the fake
Discord (every post carries a nonce, so Discord drops the resend). The competing outcome
is the invariant itself: 0 lost, at most one repeat per kill; the database must pass
``PRAGMA integrity_check`` afterwards."""

from __future__ import annotations

import asyncio
import os
import random
import re
import signal
import sqlite3
import sys
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench import run_table
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.http_server import LocalServer

ITEMS = 550
KILLS = 50
CHANNEL = 333333333333333333
TOKEN = "soak-token"
URL = re.compile(rb"https://news\.test/(\d+)")
STEP = (1, 12)  # a kill comes after this many new posts (a seeded random pick)


@dataclass
class Soak:
    """What one soak saw: every delivery per article, and repeats after each kill."""

    seen: Counter[str] = field(default_factory=Counter)
    after_kill: list[int] = field(default_factory=list)
    resent: int = 0  # sends a platform deduplicated (Discord's nonce)

    def runs(self, delivered: list[str]) -> None:
        """Count one run's deliveries; those seen before are repeats after the last kill."""
        repeats = sum(1 for item in set(delivered) if self.seen[item])
        if self.seen:
            self.after_kill.append(repeats)
        self.seen.update(delivered)


def _feed() -> str:
    # whole articles, not teasers: ingest would otherwise try each article's page
    text = " ".join(f"Sentence {n} of the report says what happened next." for n in range(16))
    items = "".join(
        f"<item><guid>g{i}</guid><title>Item {i} headline</title>"
        f"<link>https://news.test/{i}</link><description>Item {i}. {text}</description></item>"
        for i in range(ITEMS)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>S</title>{items}</channel></rss>'
    )


def _env(tmp: Path, extra: dict[str, str]) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TELEGRAM_", "DISCORD_", "OPENAI_", "NEWSBRIEF_"))
    }
    env.update(
        NEWSBRIEF_DB=str(tmp / "soak.db"),
        NEWSBRIEF_CONFIG=str(tmp / "newsbrief.toml"),
        NEWSBRIEF_ALLOW_PRIVATE_HOSTS="1",
        NEWSBRIEF_LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    return env | extra


async def _newsbrief(tmp: Path, env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=tmp,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        limit=1 << 20,
    )


async def _console_run(tmp: Path, env: dict[str, str], kill_after: int | None) -> list[str]:
    """One ``newsbrief run`` on the console: SIGKILL after ``kill_after`` posts came out
    (None: ``run --once`` to the end). Returns the articles it posted."""
    args = ("run",) if kill_after is not None else ("run", "--once")
    proc = await _newsbrief(tmp, env, *args)
    assert proc.stdout is not None
    delivered: list[str] = []
    while kill_after is not None and len(delivered) < kill_after:
        line = await asyncio.wait_for(proc.stdout.readline(), 120)
        if not line:
            break  # it ended by itself: nothing left to deliver
        delivered += [m.decode() for m in URL.findall(line)]
    if kill_after is not None and proc.returncode is None:
        proc.send_signal(signal.SIGKILL)
    rest = await proc.stdout.read()  # what reached the pipe before the kill was delivered
    await proc.wait()
    return delivered + [m.decode() for m in URL.findall(rest)]


async def _soak_console(tmp: Path, server: LocalServer, rng: random.Random) -> Soak:
    (tmp / "newsbrief.toml").write_text(
        f'[[feeds]]\nurl = "{server.url("/feed.xml")}"\nbackfill = {ITEMS}\n'
        '[[channels]]\nto = "console"\npolls = "never"\n'
    )
    env, soak = _env(tmp, {}), Soak()
    for _ in range(KILLS):
        soak.runs(await _console_run(tmp, env, rng.randint(*STEP)))
    soak.runs(await _console_run(tmp, env, None))
    return soak


def _discord_articles(fake: FakeDiscord) -> list[str]:
    urls = [e.get("url", "") for m in fake.messages.values() for e in m["embeds"]]
    return [m.decode() for url in urls for m in URL.findall(url.encode())]


async def _discord_run(
    tmp: Path, env: dict[str, str], fake: FakeDiscord, until: Callable[[int], bool]
) -> None:
    """One ``newsbrief run`` on the fake Discord, SIGKILLed once ``until(messages)``."""
    proc = await _newsbrief(tmp, env, "run")
    try:
        await fake.wait_for(lambda f: until(len(f.messages)))
    finally:
        proc.send_signal(signal.SIGKILL)
        await proc.wait()


async def _soak_discord(tmp: Path, server: LocalServer, rng: random.Random) -> Soak:
    (tmp / "newsbrief.toml").write_text(
        f'[[feeds]]\nurl = "{server.url("/feed.xml")}"\nbackfill = {ITEMS}\n'
        f'[[channels]]\nto = "discord:{CHANNEL}"\npolls = "never"\n'
    )
    soak = Soak()
    async with FakeDiscord(token=TOKEN, channels=(CHANNEL,), wait_timeout=120) as fake:
        env = _env(
            tmp,
            {
                "DISCORD_BOT_TOKEN": TOKEN,
                "DISCORD_API_BASE_URL": fake.api_base_url,
                "DISCORD_GATEWAY_URL": fake.gateway_url,
            },
        )
        for _ in range(KILLS):
            target = len(fake.messages) + rng.randint(*STEP)
            await _discord_run(tmp, env, fake, lambda n, t=target: n >= t)
        await _discord_run(tmp, env, fake, lambda n: n >= ITEMS)
        posts = fake.calls_to("POST", f"/channels/{CHANNEL}/messages")
        soak.resent = len(posts) - len(fake.messages)
        soak.seen.update(_discord_articles(fake))
    return soak


def _integrity(tmp: Path) -> str:
    with sqlite3.connect(tmp / "soak.db") as db:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])


def _rows(name: str, soak: Soak, integrity: str) -> list[tuple[str, str]]:
    lost = sum(1 for i in range(ITEMS) if not soak.seen[str(i)])
    repeats = sum(count - 1 for count in soak.seen.values())
    rows = [
        (f"{name}: kills during delivery", str(KILLS)),
        (f"{name}: posts owed / delivered", f"{ITEMS} / {len(soak.seen)}"),
        (f"{name}: lost", str(lost)),
        (f"{name}: repeated posts", f"{repeats} (at most {KILLS}, one per kill)"),
    ]
    if soak.after_kill:
        rows.append((f"{name}: most repeats after one kill", str(max(soak.after_kill))))
    if soak.resent:
        rows.append((f"{name}: resends Discord dropped by nonce", str(soak.resent)))
    rows.append((f"{name}: PRAGMA integrity_check", integrity))
    return rows


async def _one(
    tmp: Path, name: str, soak: Callable[[Path, LocalServer, random.Random], Awaitable[Soak]]
) -> list[tuple[str, str]]:
    folder = tmp / name
    folder.mkdir()
    async with LocalServer() as server:
        server.route("/feed.xml", _feed(), content_type="application/rss+xml")
        result = await soak(folder, server, random.Random(14))
    return _rows(name, result, _integrity(folder))


async def _run(tmp: Path) -> list[tuple[str, str]]:
    return [
        *await _one(tmp, "console", _soak_console),
        *await _one(tmp, "discord", _soak_discord),
    ]


def main() -> int:
    """Print the crash-soak table."""
    return run_table("soak", _run)
