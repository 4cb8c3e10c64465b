"""The whole bot in-process for end-to-end tests: the production composition root (store,
fetcher, adapters, dispatcher, poll closer), against loopback fakes. Time comes from a
ManualClock the test steps. Nothing here re-implements what the root does."""

from __future__ import annotations

import contextlib
import html
import io
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.app.root import Runtime
from bot.app.settings import Settings
from bot.clock import ManualClock
from bot.feeds.fetch import HttpFetcher
from tests.fakes.http_server import LocalServer, dial_to, fake_resolver

PUBLIC_HOST = "feeds.test"  # resolves to a public-looking address that dials the local server

SEED_TEXT = (
    "Russia has sent military planes to Venezuela, according to official accounts.\n\n"
    "A State Department spokesman condemned the deployment to Caracas as a reckless "
    "escalation of the situation.\n\n"
    "Russian Foreign Minister Sergey Lavrov said Washington was interfering in the internal "
    "affairs of a sovereign state.\n\n"
    "Do you think it is right or wrong for the Trump administration to be so involved in "
    "Venezuela?"
)


def rss(items: Sequence[tuple[str, str, str]]) -> str:
    """RSS 2.0 of (guid, title, text) items."""
    body = "".join(
        f"<item><guid>{g}</guid><title>{html.escape(t)}</title><link>https://news.test/{g}</link>"
        f"<description><![CDATA[{d}]]></description></item>"
        for g, t, d in items
    )
    head = '<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>'
    return f"{head}{body}</channel></rss>"


@dataclass
class Bot:
    """A running bot: the production runtime, on a clock the test controls."""

    runtime: Runtime
    clock: ManualClock

    async def tick(self) -> None:
        """One whole pass, exactly as ``run --once`` makes it: ingest, deliver, close the
        polls that are due, deliver their results."""
        await self.runtime.pass_once()


def write_config(
    tmp: Path,
    feed_url: str,
    channels: Sequence[str],
    extra: str = "",
    *,
    poll_duration: str = "1h",
) -> Path:
    """A config with one feed posted to the given channels (`to` values)."""
    lines = [f'[[feeds]]\nurl = "{feed_url}"\nname = "wire"\n']
    for to in channels:
        lines.append(f'[[channels]]\nto = "{to}"\npoll_duration = "{poll_duration}"\n{extra}')
    path = tmp / "newsbrief.toml"
    path.write_text("\n".join(lines))
    return path


@contextlib.asynccontextmanager
async def running_bot(
    settings: Settings, server: LocalServer, clock: ManualClock
) -> AsyncIterator[Bot]:
    """The bot built by the production composition root, its adapters started, with a
    fetcher that maps feeds.test to the local server."""
    fetcher = HttpFetcher(
        allow_private_hosts=True,
        resolver=fake_resolver({PUBLIC_HOST: ["93.184.216.34"]}),
        dial=dial_to(server),
        now=clock.now,
    )
    async with Runtime.build(settings, clock=clock, fetcher=fetcher, stdout=io.StringIO()) as rt:
        yield Bot(rt, clock)
