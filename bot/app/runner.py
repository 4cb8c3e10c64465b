"""Running the bot: ``newsbrief run`` and ``run --once``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, TextIO

from adapters.console import ConsolePlatform, serve_console
from bot.app.root import (
    SHUTDOWN_GRACE,
    App,
    attach_platforms,
    build_app,
    chat_adapters,
    install_signal_handlers,
    poll_closer,
    scheduler,
)
from bot.app.settings import Settings
from bot.delivery.dispatcher import Dispatcher
from bot.ports import ChatAdapter, Platform

log = logging.getLogger(__name__)


async def run_bot(
    settings: Settings, *, once: bool, console_input: bool, stdin: TextIO, stdout: TextIO
) -> int:
    """Run until SIGTERM/SIGINT (or, with ``once``, one pass and console input to EOF)."""
    app = await build_app(settings)
    console = ConsolePlatform(stdout)
    adapters = chat_adapters(settings, app.service)
    platforms: dict[str, Platform] = {"console": console, **{a.name: a for a in adapters}}
    dispatcher = attach_platforms(app, platforms)
    stop = asyncio.Event()
    remove_handlers = install_signal_handlers(stop)
    started: list[ChatAdapter] = []
    try:
        await dispatcher.recover()
        for adapter in adapters:
            await adapter.start()
            started.append(adapter)
        if once:
            await _once(app, dispatcher, console, stdin, stop)
        else:
            await _forever(app, dispatcher, console, stdin if console_input else None, stop)
    finally:
        for adapter in reversed(started):
            with contextlib.suppress(Exception):
                await adapter.stop()
        await app.close()
        remove_handlers()
    return 0


async def _until_stopped(stop: asyncio.Event, work: asyncio.Future[None]) -> None:
    stopper: asyncio.Future[Any] = asyncio.ensure_future(stop.wait())
    await asyncio.wait({stopper, work}, return_when=asyncio.FIRST_COMPLETED)
    stopper.cancel()
    if work.done():
        work.result()  # re-raises what the work raised
        return
    log.info("stopping: finishing the post in flight")
    work.cancel()
    try:
        await asyncio.wait_for(work, SHUTDOWN_GRACE)
    except asyncio.CancelledError:
        pass
    except TimeoutError:
        log.warning("shutdown took longer than %.0fs; exiting anyway", SHUTDOWN_GRACE)
    except Exception:  # work interrupted mid-way may fail as it unwinds; we are stopping
        log.exception("error while stopping (state is safe: the outbox resumes on restart)")


async def _once(
    app: App, dispatcher: Dispatcher, console: ConsolePlatform, stdin: TextIO, stop: asyncio.Event
) -> None:
    async def work() -> None:
        counts = await app.ingestor.run(only_due=False)
        log.info("ingest: %s", counts)
        await dispatcher.drain()
        if await app.service.polls.close_due():
            await dispatcher.drain()
        await serve_console(app.service, stdin, console)
        await dispatcher.drain()

    await _until_stopped(stop, asyncio.ensure_future(work()))


async def _forever(
    app: App,
    dispatcher: Dispatcher,
    console: ConsolePlatform,
    stdin: TextIO | None,
    stop: asyncio.Event,
) -> None:
    async def work() -> None:
        async with asyncio.TaskGroup() as group:
            group.create_task(scheduler(app, dispatcher))
            group.create_task(dispatcher.run())
            group.create_task(poll_closer(app, dispatcher))
            if stdin is not None:
                await serve_console(app.service, stdin, console)
                stop.set()  # end of console input (Ctrl-D) ends the session

    await _until_stopped(stop, asyncio.ensure_future(work()))
