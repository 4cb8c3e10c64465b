"""Running the bot: ``newsbrief run`` and ``run --once``, on the composition root."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Callable
from typing import TextIO

from bot.app.root import SHUTDOWN_GRACE, Runtime
from bot.app.settings import Settings
from bot.app.supervisor import Role
from bot.delivery.dispatcher import stop_delivering

log = logging.getLogger(__name__)


async def run_bot(
    settings: Settings,
    *,
    once: bool,
    console_input: bool,
    stdin: TextIO,
    stdout: TextIO,
    roles: frozenset[Role] = frozenset(Role),
) -> int:
    """Run until SIGTERM/SIGINT (or, with ``once``, one pass and console input to EOF);
    ``roles`` say which of ingest, deliver and chat this worker does.

    Raises:
        ConfigError: the config is invalid or a platform refused its token.
        StoreError: the database cannot be opened.
    """
    stop = asyncio.Event()
    remove_handlers = install_signal_handlers(stop)
    try:
        async with Runtime.build(settings, stdout=stdout, roles=roles) as runtime:
            if once:
                await _once(runtime, stdin, stop)
            else:
                await runtime.serve(stop, stdin if console_input else None)
    except ExceptionGroup as failed:  # a part of the bot failed; the rest was stopped
        for error in failed.exceptions:
            log.error("newsbrief stopped: %s", error, exc_info=error)
        return 0 if stop.is_set() else 1  # after a stop was asked, an unwinding error
    finally:
        remove_handlers()
    return 0


async def _once(runtime: Runtime, stdin: TextIO, stop: asyncio.Event) -> None:
    """One pass and the console's input, stopping early (gracefully) on a signal."""

    async def work() -> None:
        counts = await runtime.pass_once()
        log.info("ingest: %s", counts)
        await runtime.answer_console(stdin)

    task = asyncio.ensure_future(work())
    stopper = asyncio.ensure_future(stop.wait())
    await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    stopper.cancel()
    if not task.done():
        log.info("stopping: finishing the posts in flight")
        await stop_delivering(runtime.dispatcher, task, SHUTDOWN_GRACE)
    if not task.cancelled():
        task.result()  # re-raises what the pass raised


def install_signal_handlers(stop: asyncio.Event) -> Callable[[], None]:
    """SIGTERM and SIGINT set ``stop``; returns a function that removes the handlers."""
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)

    def remove() -> None:
        for sig in installed:
            loop.remove_signal_handler(sig)

    return remove


def stdin_is_terminal() -> bool:
    """True when a person can type commands."""
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False
