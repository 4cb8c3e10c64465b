"""The Discord adapter: a discord.py client carrying core messages out and commands back.

Outgoing, the core's dispatcher calls :meth:`DiscordAdapter.send` and
:meth:`DiscordAdapter.close_poll`. Incoming, slash commands become ``Command`` for
``Core.handle`` and poll votes become ``VoteEvent`` for ``Core.record_vote``. The client
runs in newsbrief's event loop, in a task this adapter owns.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import logging
import re
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import aiohttp
import discord
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket

from adapters.discord import render
from adapters.discord.commands import (
    FileSyncState,
    MemorySyncState,
    SyncState,
    add_commands,
    command_hash,
    use_catalogues,
)
from bot import i18n, quiet
from bot.errors import (
    ChatUnavailable,
    ConfigError,
    NewsbriefError,
    RateLimited,
    TransientDeliveryError,
)
from bot.ports import Clock, Core, RateLimits
from bot.types import (
    ChatRef,
    Command,
    Message,
    PollPost,
    Post,
    Reply,
    ResultsPost,
    Sent,
    StoryUpdate,
    VoteEvent,
)

_log = logging.getLogger(__name__)

PLATFORM = "discord"
API_VERSION = 10
NONCE_LIMIT = 25  # Discord's longest nonce
NONE = discord.AllowedMentions.none()

# discord.py keeps to each route's bucket from the response headers (a channel's message
# bucket is 5 per 5 s), so the dispatcher adds no per-chat limit. The global 50/s limit is
# only learnt from a 429, and 429s count towards Cloudflare's invalid-request ban, so the
# dispatcher stays well below it. Four sends in flight keep one slow channel from stalling
# the rest without piling requests into one bucket.
LIMITS = RateLimits(per_second=10.0, per_chat_per_minute=0.0, concurrency=4)

# A 429 asking for longer than this is not slept through inside discord.py: it surfaces as
# discord.RateLimited, which becomes the core's RateLimited so only that channel waits.
MAX_RATELIMIT_WAIT = 30.0
THREAD_ARCHIVE: Literal[1440] = (
    1440  # minutes a story's thread stays in the channel list after its last post
)
THREAD_EXISTS = 160004  # Discord's code for "a thread has already been created for this message"

_VERSIONED_RE = re.compile(r"/v\d+$")


class DiscordStartError(NewsbriefError):
    """The Discord client could not log in or connect."""


def api_url(base_url: str) -> str:
    """discord.py's ``Route.BASE`` for a REST base URL, with the API version (``/v10``)."""
    base = base_url.rstrip("/")
    return base if _VERSIONED_RE.search(base) else f"{base}/v{API_VERSION}"


def point_discord_at(api_base_url: str | None, gateway_url: str | None) -> Callable[[], None]:
    """Point discord.py at another REST and gateway server; returns what undoes it.

    discord.py reads these two class attributes on every request and connect; a test fails
    loudly if a new discord.py version moves them.

    Raises:
        ConfigError: this discord.py no longer has the attributes we override.
    """
    route, socket = discord.http.Route, DiscordWebSocket
    if not isinstance(getattr(route, "BASE", None), str) or not isinstance(
        getattr(socket, "DEFAULT_GATEWAY", None), yarl.URL
    ):
        raise ConfigError("this discord.py version moved Route.BASE or DEFAULT_GATEWAY")
    old_base, old_gateway = route.BASE, socket.DEFAULT_GATEWAY
    if api_base_url:
        route.BASE = api_url(api_base_url)
    if gateway_url:
        socket.DEFAULT_GATEWAY = yarl.URL(gateway_url)

    def restore() -> None:
        route.BASE, socket.DEFAULT_GATEWAY = old_base, old_gateway

    return restore


_DISCORD_LOGGERS = ("discord.client", "discord.gateway", "discord.http")
_NETWORK_FAULTS = (
    OSError,  # asyncio.TimeoutError and ConnectionResetError among them
    aiohttp.ClientError,
    discord.HTTPException,
    discord.GatewayNotFound,
    discord.ConnectionClosed,
)


def quiet_expected_faults() -> Callable[[], None]:
    """discord.py's own records about network faults (it logs "Attempting a reconnect"
    with a traceback after a 5xx or a dropped gateway) become one WARNING line with the
    reason; records about any other exception keep their traceback. Process-wide: the
    platform registry installs it once; returns what removes it."""
    return quiet.quiet_expected_faults(_DISCORD_LOGGERS, _NETWORK_FAULTS, _fault_reason)


def _fault_reason(error: BaseException) -> str:
    return str(error) or type(error).__name__


class _Client(discord.Client):
    """discord.Client whose hooks and events are the adapter's methods."""

    def __init__(self, adapter: DiscordAdapter, **options: Any) -> None:
        super().__init__(**options)
        self.adapter = adapter
        self.tree: app_commands.CommandTree[_Client] = app_commands.CommandTree(self)

    async def setup_hook(self) -> None:
        await self.adapter._on_login(self)

    async def on_ready(self) -> None:
        self.adapter._ready.set()

    async def on_raw_poll_vote_add(self, event: discord.RawPollVoteActionEvent) -> None:
        await self.adapter._on_vote(event, added=True)

    async def on_raw_poll_vote_remove(self, event: discord.RawPollVoteActionEvent) -> None:
        await self.adapter._on_vote(event, added=False)

    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        await self.adapter._on_channels_gone([channel.id], "channel deleted")

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        channels = [c.id for c in guild.channels if isinstance(c, discord.abc.Messageable)]
        await self.adapter._on_channels_gone(channels, "bot removed from the server")


class DiscordAdapter:
    """newsbrief on Discord: slash commands in, embeds, replies and native polls out.

    Args:
        token: the bot token (``DISCORD_BOT_TOKEN``); never logged.
        core: the service the adapter hands commands and votes to.
        clock: the bot's one clock (poll durations are measured on it).
        sync_state: remembers the last synced command set (default: for this process).
        guild_ready_timeout: how long discord.py waits for one more guild before
            ``on_ready``. Shorter than its 2 s default: sending needs no guild cache
            (channels are addressed by id), and guilds arriving later are still cached.
    """

    def __init__(
        self,
        *,
        token: str,
        core: Core,
        clock: Clock,
        sync_state: SyncState | None = None,
        guild_ready_timeout: float = 0.5,
    ) -> None:
        self._token = token
        self._core = core
        self._sync_state = sync_state or MemorySyncState()
        self._clock = clock
        self._guild_ready_timeout = guild_ready_timeout
        self._client: _Client | None = None
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._sync_on_login = True
        self._receiving = True
        self._forums: dict[int, discord.ForumChannel | None] = {}  # channel id → forum?

    @property
    def name(self) -> str:
        return PLATFORM

    @property
    def limits(self) -> RateLimits:
        return LIMITS

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self, *, receive: bool = True) -> None:
        """Log in, sync commands if they changed, connect, and return once ready. Without
        ``receive`` it only logs in: posts and polls go out over REST, and no gateway
        connection receives commands or votes (another worker holds the gateway).

        Raises:
            ConfigError: Discord rejected the token.
            DiscordStartError: logging in or connecting failed otherwise.
        """
        if self._task is not None:
            raise RuntimeError("the Discord adapter is already started")
        self._ready = asyncio.Event()
        self._forums = {}  # the channel objects belong to the client that fetched them
        self._sync_on_login = self._receiving = receive
        self._client = client = self._make_client()
        run = self._run(client) if receive else self._send_only(client)
        self._task = task = asyncio.create_task(run, name="discord-client")
        ready = asyncio.create_task(self._ready.wait())
        try:
            await asyncio.wait({task, ready}, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:  # cancelled while connecting: leave nothing running
            ready.cancel()
            await self.stop()
            raise
        if not ready.done():
            ready.cancel()
            await self.stop()
            task.result()  # raises why the client stopped before it was ready
            raise DiscordStartError("the Discord client stopped before it was ready")

    async def stop(self) -> None:
        """Close the connection and wait for the client task; safe to call twice."""
        client, task, self._client, self._task = self._client, self._task, None, None
        self._sync_on_login = True
        try:
            if client is not None:
                await client.close()
        finally:
            if task is not None and not self._receiving:
                task.cancel()  # logged in only: nothing else ends it
            if task is not None:
                await asyncio.wait({task})
                if not task.cancelled() and not isinstance(task.exception(), NewsbriefError):
                    task.result()  # an unexpected end is raised (and logged by the caller)

    async def wait_closed(self) -> None:
        """Wait until the client stops (for a supervisor); raises why it stopped.

        Raises:
            ConfigError: Discord refused the token.
            DiscordStartError: the connection was lost for good.
        """
        task = self._task
        if task is None:
            return
        # asyncio.wait, not await: cancelling the watcher must not cancel the client
        await asyncio.wait({task})
        error = None if task.cancelled() else task.exception()
        if error is not None:
            raise error

    async def sync_commands(self) -> int:
        """Register the slash commands with Discord now (``newsbrief discord sync``).

        Works whether or not the adapter is started: a stopped adapter logs in over REST
        only, syncs and logs out. Returns how many commands Discord has.

        Raises:
            ConfigError: Discord rejected the token.
            DiscordStartError: Discord could not be reached or refused the commands.
        """
        if self._client is not None and self._ready.is_set():
            return await self._sync(self._client)
        self._sync_on_login = False
        client = self._make_client()
        try:
            async with client:
                await self._login(client)
                return await self._sync(client)
        finally:
            self._sync_on_login = True

    def _make_client(self) -> _Client:
        client = _Client(
            self,
            intents=discord.Intents.default(),  # no privileged intent is needed
            allowed_mentions=NONE,
            max_ratelimit_timeout=MAX_RATELIMIT_WAIT,
            max_messages=None,  # votes arrive as raw events; no message cache needed
            chunk_guilds_at_startup=False,
            guild_ready_timeout=self._guild_ready_timeout,
        )
        add_commands(client.tree, self._run_command)
        client.tree.error(self._on_command_error)
        return client

    async def _send_only(self, client: _Client) -> None:
        """Logged in over REST until stopped: sends work, nothing is received."""
        async with client:
            await self._login(client)
            self._ready.set()
            await asyncio.Event().wait()  # until stop() cancels it

    async def _run(self, client: _Client) -> None:
        async with client:
            await self._login(client)
            try:
                await client.connect(reconnect=True)
            except (discord.DiscordException, aiohttp.ClientError, OSError) as e:
                raise DiscordStartError(f"Discord connection lost: {_describe(e)}") from e

    async def _login(self, client: _Client) -> None:
        try:
            await client.login(self._token)
        except discord.LoginFailure as e:
            raise ConfigError("Discord rejected DISCORD_BOT_TOKEN") from e
        except (discord.HTTPException, OSError) as e:
            raise DiscordStartError(f"cannot log in to Discord: {_describe(e)}") from e

    async def _on_login(self, client: _Client) -> None:
        if not self._sync_on_login:
            return
        try:
            await self._sync(client, only_if_changed=True)
        except (DiscordStartError, OSError):
            # Posting works without commands; the next start (or `discord sync`) retries.
            _log.exception("slash command sync failed; continuing without it")

    async def _sync(self, client: _Client, *, only_if_changed: bool = False) -> int:
        await use_catalogues(client.tree)
        digest = await command_hash(client.tree, client.application_id)
        if only_if_changed and await self._sync_state.load() == digest:
            _log.debug("slash commands unchanged; not syncing")
            return len(client.tree.get_commands())
        try:
            synced = await client.tree.sync()
        except discord.HTTPException as e:
            raise DiscordStartError(f"command sync failed: {_describe(e)}") from e
        await self._sync_state.save(digest)
        _log.info("synced %d slash commands with Discord", len(synced))
        return len(synced)

    # -- outgoing ------------------------------------------------------------------------

    async def send(self, chat: ChatRef, message: Message, nonce: str) -> Sent:
        """Send one core message to a channel; see ``Platform.send`` for the errors. A post
        to a forum channel opens a forum post (a thread) of its own; a story update goes
        into its story's thread, started on the story's post in a text channel; polls and
        results of a story with a thread go into it."""
        channel = self._channel(chat)
        async with _delivery_errors():
            match message:
                case Post():
                    return await self._send_post(channel, message, nonce)
                case StoryUpdate():
                    return await self._send_update(channel, message, nonce)
                case Reply():
                    return await self._send_chunks(channel, render.reply_chunks(message), nonce)
                case PollPost():
                    there = self._thread_or(channel, message.thread)
                    return _placed(await self._send_poll(there, message, nonce), message.thread)
                case ResultsPost():
                    there = self._thread_or(channel, message.thread)
                    chunks = render.reply_chunks(message.reply)
                    sent = await self._send_chunks(there, chunks, nonce, message.chart_png)
                    return _placed(sent, message.thread)
        raise TypeError(f"cannot send {type(message).__name__} to Discord")

    async def close_poll(self, chat: ChatRef, message_id: str) -> tuple[int, ...] | None:
        """End a native poll and read its final counts; None if the message is gone.

        Raises:
            ChatUnavailable: the channel forbids us.
            TransientDeliveryError: anything else.
        """
        thread, _, number = message_id.rpartition("/")  # a poll in a story's thread
        channel = self._thread_or(self._channel(chat), thread)
        async with _delivery_errors():
            try:
                poll_message = await channel.fetch_message(int(number))
                if poll_message.poll is None:
                    return None
                poll = await _end(poll_message.poll, channel, poll_message.id)
            except discord.NotFound:
                return None
            return tuple(answer.vote_count for answer in sorted(poll.answers, key=_answer_id))

    async def _send_post(self, channel: discord.PartialMessageable, post: Post, nonce: str) -> Sent:
        """A post with its image; if Discord refuses the image (400), the post at once
        without it (one warning), never no post."""
        payloads = render.post_messages(post)
        try:
            sent = await self._start(channel, _payload(payloads[0]), post.title, nonce)
        except discord.HTTPException as e:
            if not post.image or e.status != 400:
                raise
            _log.warning(
                "discord refused the image %s (%s); sent without it", post.image, _describe(e)
            )
            payloads = render.post_messages(post, image=False)
            sent = await self._start(channel, _payload(payloads[0]), post.title, nonce)
        there = self._thread_or(channel, sent.thread)
        for index, payload in enumerate(payloads[1:], 1):
            try:
                await there.send(
                    payload.get("content"), nonce=_nonce(nonce, index), allowed_mentions=NONE
                )
            except discord.HTTPException as e:
                # the post is out: raising would make the dispatcher send it all again (a
                # forum post takes no nonce), so the rest is reported, not repeated
                _log.warning(
                    "discord refused part %d of %d of the post %r (%s); the rest not sent",
                    index + 1,
                    len(payloads),
                    post.title,
                    _describe(e),
                )
                break
        return sent

    async def _start(
        self,
        channel: discord.PartialMessageable,
        message: tuple[str | None, discord.Embed | None],
        title: str,
        nonce: str,
    ) -> Sent:
        """A story's first message (content, embed): a forum post (a thread named after
        it) in a forum channel, else a message in the channel."""
        content, embed = message
        embeds = [embed] if embed is not None else []
        forum = await self._forum(channel.id)
        if forum is None:
            sent = await channel.send(
                content, embeds=embeds, nonce=_nonce(nonce), allowed_mentions=NONE
            )
            return Sent(str(sent.id))
        # Discord takes no nonce here: a resend after a crash may open the post twice
        made = await forum.create_thread(
            name=render.thread_name(title), content=content, embeds=embeds, allowed_mentions=NONE
        )
        return Sent(str(made.message.id), thread=str(made.thread.id))

    async def _send_update(
        self, channel: discord.PartialMessageable, update: StoryUpdate, nonce: str
    ) -> Sent:
        """An update in its story's thread; if the story's post or thread is gone, it
        starts the story again where the channel allows."""
        embed = discord.Embed.from_dict(render.update_embed(update))
        try:
            thread = update.thread or await self._open_thread(channel, update)
            there = self._thread_or(channel, thread)
            sent = await there.send(embed=embed, nonce=_nonce(nonce), allowed_mentions=NONE)
        except discord.NotFound:
            _log.info("discord: the post of story %r is gone; posting anew", update.story_title)
            title = update.story_title or update.title
            return await self._start(channel, (None, embed), title, nonce)
        return Sent(str(sent.id), thread=thread)

    async def _open_thread(self, channel: discord.PartialMessageable, update: StoryUpdate) -> str:
        """The thread on the story's post in a text channel, started unless it exists (a
        thread started on a message takes the message's id).

        Raises:
            discord.NotFound: the story's post is gone.
        """
        name = render.thread_name(update.story_title or update.title)
        try:
            await self._running().http.start_thread_with_message(
                channel.id, int(update.reply_to), name=name, auto_archive_duration=THREAD_ARCHIVE
            )
        except discord.HTTPException as e:
            if e.code != THREAD_EXISTS:
                raise
        return update.reply_to

    async def _forum(self, channel_id: int) -> discord.ForumChannel | None:
        """The forum channel with this id; None for any other kind (asked once)."""
        if channel_id not in self._forums:
            client = self._running()
            found = client.get_channel(channel_id) or await client.fetch_channel(channel_id)
            self._forums[channel_id] = found if isinstance(found, discord.ForumChannel) else None
        return self._forums[channel_id]

    def _thread_or(
        self, channel: discord.PartialMessageable, thread: str
    ) -> discord.PartialMessageable:
        """The thread with this id (a channel of its own), or ``channel`` when there is none."""
        if not (thread.isascii() and thread.isdigit()):
            return channel
        return self._running().get_partial_messageable(int(thread))

    def _running(self) -> _Client:
        if self._client is None or self._client.is_closed():
            raise TransientDeliveryError("the Discord client is not running")
        return self._client

    def _channel(self, chat: ChatRef) -> discord.PartialMessageable:
        client = self._running()
        if not (chat.chat_id.isascii() and chat.chat_id.isdigit()):
            raise ChatUnavailable(f"{chat.chat_id!r} is not a Discord channel id")
        return client.get_partial_messageable(int(chat.chat_id))

    async def _send_chunks(
        self,
        channel: discord.PartialMessageable,
        chunks: list[str],
        nonce: str,
        chart_png: bytes = b"",
    ) -> Sent:
        first: discord.Message | None = None
        for index, chunk in enumerate(chunks):
            last = index == len(chunks) - 1
            files = [_chart(chart_png)] if last and chart_png else []
            sent = await channel.send(
                chunk, files=files, nonce=_nonce(nonce, index), allowed_mentions=NONE
            )
            first = first or sent
        if first is None:
            raise TransientDeliveryError("nothing to send")
        return Sent(str(first.id))

    async def _send_poll(
        self, channel: discord.PartialMessageable, message: PollPost, nonce: str
    ) -> Sent:
        spec = render.poll_spec(message, self._clock.now())
        poll = discord.Poll(question=spec.question, duration=timedelta(hours=spec.hours))
        for answer in spec.answers:
            poll.add_answer(text=answer)
        sent = await channel.send(poll=poll, nonce=_nonce(nonce), allowed_mentions=NONE)
        return Sent(str(sent.id), poll_id=str(sent.id))

    # -- incoming ------------------------------------------------------------------------

    async def _run_command(
        self, interaction: discord.Interaction[Any], name: str, args: str
    ) -> None:
        """Every command: defer (Discord allows 3 s), ask the core, answer in follow-ups."""
        await interaction.response.defer(thinking=True)
        command = Command(
            name=name,
            args=args.strip(),
            chat=ChatRef(PLATFORM, str(interaction.channel_id or "")),
            user=str(interaction.user.id),
            is_admin=_is_admin(interaction.permissions),
            locale=str(interaction.locale.value) if interaction.locale else "",
        )
        reply = await self._core.handle(command)
        for chunk in render.reply_chunks(reply):
            await interaction.followup.send(chunk, allowed_mentions=NONE)
        if reply.post is not None:  # /preview: the post as the channel gets it
            with i18n.using(reply.post_locale):
                await self._preview_post(interaction, reply.post)

    async def _preview_post(self, interaction: discord.Interaction[Any], post: Post) -> None:
        """/preview's post in follow-ups; an image Discord refuses (400) is dropped and
        the post shown without it, as a real post would be sent."""
        try:
            await _followups(interaction, render.post_messages(post))
        except discord.HTTPException as e:
            if not post.image or e.status != 400:
                raise
            _log.warning("discord refused the image %s (%s); shown without it", post.image, e)
            await _followups(interaction, render.post_messages(post, image=False))

    async def _on_command_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        """The one place a failed command becomes user text."""
        _log.error("/%s failed", _command_name(interaction), exc_info=error)
        text = "Sorry, that failed on our side. Please try again in a minute."
        with contextlib.suppress(discord.HTTPException):
            if interaction.response.is_done():
                await interaction.followup.send(text, ephemeral=True, allowed_mentions=NONE)
            else:
                await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NONE)

    async def _on_vote(self, event: discord.RawPollVoteActionEvent, *, added: bool) -> None:
        # Our polls allow one answer, so a removal always leaves the user with no vote.
        options = (event.answer_id - 1,) if added else ()
        vote = VoteEvent(PLATFORM, str(event.message_id), str(event.user_id), options)
        await self._core.record_vote(vote)

    async def _on_channels_gone(self, channel_ids: Iterable[int], reason: str) -> None:
        for channel_id in channel_ids:
            await self._core.chat_membership(ChatRef(PLATFORM, str(channel_id)), False, reason)


def create_adapter(
    *, token: str, core: Core, clock: Clock, sync_state_path: Path | None = None
) -> DiscordAdapter:
    """Build the Discord adapter (the composition root's entry point).

    ``sync_state_path`` is the file remembering the last synced command set; without it,
    commands are synced once per process start. A Discord-compatible server or a test fake
    is reached through :func:`point_discord_at`, which the root applies for the process.
    """
    state = FileSyncState(sync_state_path) if sync_state_path else MemorySyncState()
    return DiscordAdapter(token=token, core=core, clock=clock, sync_state=state)


@contextlib.asynccontextmanager
async def _delivery_errors() -> AsyncIterator[None]:
    """Translate discord.py and network errors into the Platform error contract."""
    try:
        yield
    except (discord.Forbidden, discord.NotFound) as e:
        raise ChatUnavailable(_describe(e)) from e
    except discord.RateLimited as e:
        raise RateLimited(e.retry_after, _describe(e)) from e
    except (discord.DiscordException, OSError) as e:
        raise TransientDeliveryError(_describe(e)) from e


async def _end(
    poll: discord.Poll, channel: discord.PartialMessageable, message_id: int
) -> discord.Poll:
    """End ``poll`` unless Discord already has; a lost race with its own expiry is fine."""
    if poll.is_finalised():
        return poll
    try:
        return await poll.end()
    except discord.HTTPException as e:
        if isinstance(e, discord.NotFound | discord.Forbidden):
            raise
        refreshed = (await channel.fetch_message(message_id)).poll
        if refreshed is None or not refreshed.is_finalised():
            raise
        return refreshed


def _payload(payload: dict[str, Any]) -> tuple[str | None, discord.Embed | None]:
    """A rendered message payload as discord.py takes it: content and one embed."""
    embeds = payload.get("embeds") or []
    embed = discord.Embed.from_dict(embeds[0]) if embeds else None
    return payload.get("content"), embed


def preview(message: Message) -> list[dict[str, Any]]:
    """The message payloads a post is sent as, embeds as discord.py serializes them: what
    ``newsbrief preview`` shows (other messages: their rendered text)."""
    if isinstance(message, Post):
        payloads = render.post_messages(message)
    elif isinstance(message, StoryUpdate):
        payloads = [{"embeds": [render.update_embed(message)]}]
    else:
        return []
    return [_as_sent(p) for p in payloads]


def _as_sent(payload: dict[str, Any]) -> dict[str, Any]:
    content, embed = _payload(payload)
    sent: dict[str, Any] = {}
    if content is not None:
        sent["content"] = content
    if embed is not None:
        sent["embeds"] = [embed.to_dict()]
    return sent


def _placed(sent: Sent, thread: str) -> Sent:
    """A message sent into a thread is found again by thread and message id."""
    return replace(sent, message_id=f"{thread}/{sent.message_id}") if thread else sent


def _nonce(nonce: str, index: int = 0) -> str:
    """The nonce for the ``index``-th message of an outbox row (Discord allows 25 chars)."""
    if index == 0 and len(nonce) <= NONCE_LIMIT:
        return nonce
    return hashlib.sha256(f"{nonce}:{index}".encode()).hexdigest()[:NONCE_LIMIT]


def _chart(png: bytes) -> discord.File:
    return discord.File(io.BytesIO(png), filename="results.png", description="Poll results")


def _is_admin(permissions: discord.Permissions) -> bool:
    return permissions.manage_channels or permissions.administrator


def _answer_id(answer: discord.PollAnswer) -> int:
    return answer.id


def _command_name(interaction: discord.Interaction[Any]) -> str:
    command = interaction.command
    return command.name if command is not None else "?"


def _describe(error: BaseException) -> str:
    if isinstance(error, discord.HTTPException):
        return f"Discord {error.status}: {error.text or 'no message'} (code {error.code})"
    if isinstance(error, discord.RateLimited):
        return f"Discord rate limit: retry after {error.retry_after:.0f}s"
    return f"{type(error).__name__}: {error}"


async def _followups(
    interaction: discord.Interaction[Any], messages: Sequence[dict[str, Any]]
) -> None:
    for content, embed in map(_payload, messages):
        embeds = [embed] if embed is not None else []
        text = content or discord.utils.MISSING
        await interaction.followup.send(text, embeds=embeds, allowed_mentions=NONE)
