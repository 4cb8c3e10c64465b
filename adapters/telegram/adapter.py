"""The Telegram adapter: python-telegram-bot between the core and the Bot API.

Outgoing, it renders core messages (``render.py``) and sends them, turning PTB's errors into
the core's delivery errors. Incoming, it turns updates into core types and calls the
:class:`~bot.ports.Core`. Handlers hold no business rule: what a command means, who may run
it and what to answer is the core's; the adapter only says who asked, where, and whether
Telegram calls them an administrator of that chat.

PTB is started by hand (``initialize``/``start``/``updater.start_polling``) so that it shares
newsbrief's event loop with the core and the other adapters.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any, NamedTuple, assert_never
from urllib.parse import urlsplit

import httpx
from telegram import (
    Bot,
    BotCommand,
    ChatMember,
    ChatMemberRestricted,
    LinkPreviewOptions,
    ReplyParameters,
    Update,
)
from telegram import Message as TgMessage
from telegram.constants import ChatMemberStatus, ChatType, ParseMode
from telegram.error import BadRequest, Forbidden, InvalidToken, RetryAfter, TelegramError
from telegram.error import ChatMigrated as TgChatMigrated
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    PollAnswerHandler,
    PollHandler,
    filters,
)
from telegram.request import HTTPXRequest

from adapters.telegram.render import (
    Call,
    plain_text,
    render_poll,
    render_post_calls,
    render_reply,
    render_results,
    render_update,
)
from bot import i18n, quiet
from bot.chat import commands
from bot.errors import (
    ChatMigrated,
    ChatUnavailable,
    ConfigError,
    DeliveryError,
    RateLimited,
    TransientDeliveryError,
    UserInputError,
)
from bot.ports import Clock, Core, RateLimits
from bot.types import (
    ChatRef,
    Command,
    Message,
    PollCounts,
    PollPost,
    Post,
    Reply,
    ResultsPost,
    Sent,
    StoryUpdate,
    VoteEvent,
)

PLATFORM = "telegram"
ALLOWED_UPDATES = [
    "message",
    "channel_post",
    "poll",
    "poll_answer",
    "my_chat_member",
    "callback_query",
]
POLLING_TASK = "Updater:start_polling:polling_task"  # how PTB names its getUpdates loop
DEFAULT_LIMITS = RateLimits(per_second=30, per_chat_per_minute=20, concurrency=8)
ADMIN_TTL = 60.0  # seconds an administrator check is trusted

_CHANNEL_MANAGED = frozenset({"subscribe", "unsubscribe"})  # may name a channel from a DM
_COMMAND = re.compile(r"/([A-Za-z0-9_]{1,32})(?:@([A-Za-z0-9_]+))?(?:\s+(.*))?\Z", re.DOTALL)
_CHAT_NUMBER = re.compile(r"-?[0-9]{1,20}")
_CHANNEL_ARG = re.compile(r"(@[A-Za-z][A-Za-z0-9_]{3,31}|-100\d+)(?:\s+(.*))?\Z", re.DOTALL)
_ADMINS = frozenset({ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR})
_GONE = ("message to stop not found", "message not found", "poll has already been closed")
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
_IMAGE_REFUSED = (
    "wrong file identifier",
    "failed to get http url content",
    "wrong type of the web page content",
    "photo_invalid_dimensions",
    "photo_save_file_invalid",
    "image_process_failed",
    "wrong remote file",
    "file is too big",
)
_SORRY = "Sorry, something went wrong. Please try again later."

# sendPhoto by URL answers once Telegram has downloaded the image from the feed's host: a
# slow host must not make the post time out here (and be sent again) while Telegram still
# posts it
PHOTO_READ_TIMEOUT = 60.0

_log = logging.getLogger(__name__)

_App = Application[Any, Any, Any, Any, Any, Any]
_Context = ContextTypes.DEFAULT_TYPE


@dataclass(frozen=True)
class Webhook:
    """Webhook mode: Telegram POSTs updates to ``url``; we listen on ``listen:port``."""

    url: str
    listen: str = "127.0.0.1"
    port: int = 8443
    secret_token: str | None = None


def create_adapter(
    *,
    token: str,
    base_url: str | None,
    core: Core,
    clock: Clock,
    webhook: Webhook | None = None,
) -> TelegramAdapter:
    """The adapter the composition root runs (``base_url``: a local Bot API or a fake;
    ``clock``: the bot's one clock; ``webhook``: receive updates by webhook instead of
    long polling)."""
    return TelegramAdapter(token=token, base_url=base_url, core=core, clock=clock, webhook=webhook)


def parse_command(text: str, bot_username: str) -> tuple[str, str] | None:
    """``(name, args)`` of a newsbrief command in ``text``; None for other text, unknown
    commands and commands addressed to another bot (``/cmd@otherbot``)."""
    match = _COMMAND.match(text)
    if match is None:
        return None
    name, addressee, args = match.group(1).lower(), match.group(2), match.group(3) or ""
    if addressee and addressee.lower() != bot_username.lower():
        return None
    spec = commands.find(name)  # aliases too: /start, the button Telegram shows first
    if spec is None:
        return None
    # A command without an argument ignores trailing text, such as a /start deep link's.
    return spec.name, (args.strip() if spec.arg else "")


def channel_target(args: str) -> tuple[str, str] | None:
    """``("@channel", rest)`` when a command's arguments start by naming a channel
    (``@name`` or a ``-100…`` id), as in ``/subscribe @channel <url>`` from a private chat."""
    match = _CHANNEL_ARG.match(args)
    return (match.group(1), (match.group(2) or "").strip()) if match else None


class TelegramAdapter:
    """Sends core messages to Telegram chats and feeds updates to the core.

    Call :meth:`start` before :meth:`send`, and :meth:`stop` at shutdown.
    """

    def __init__(
        self,
        *,
        token: str,
        core: Core,
        base_url: str | None = None,
        clock: Clock,
        limits: RateLimits = DEFAULT_LIMITS,
        webhook: Webhook | None = None,
    ) -> None:
        self._token = token
        self._webhook = webhook
        self._core = core
        self._base_url = base_url
        self._limits = limits
        self._clock = clock
        self._app: _App | None = None
        self._receiver: asyncio.Task[Any] | None = None
        self._closed = asyncio.Event()
        self._chat_kinds: dict[str, str] = {}
        self._admin_checks: dict[tuple[str, int], tuple[float, bool]] = {}

    @property
    def name(self) -> str:
        return PLATFORM

    @property
    def limits(self) -> RateLimits:
        return self._limits

    async def start(
        self,
        *,
        receive: bool = True,
        webhook_url: str | None = None,
        listen: str = "127.0.0.1",
        port: int = 8443,
        secret_token: str | None = None,
    ) -> None:
        """Connect, register the command menu and start receiving updates: long polling, or
        a webhook on ``listen:port`` when ``webhook_url`` is given (needs the
        ``python-telegram-bot[webhooks]`` extra; Telegram must reach ``webhook_url``).
        Without ``receive`` it only connects for sending: another worker holds the updates.

        Raises:
            ConfigError: the token was refused, or webhooks are asked for without the extra.
            telegram.error.NetworkError: the Bot API could not be reached.
        """
        if webhook_url is None and self._webhook is not None:
            webhook_url, listen, port = self._webhook.url, self._webhook.listen, self._webhook.port
            secret_token = self._webhook.secret_token
        app = self._build()
        try:
            await app.initialize()
        except BaseException as e:
            await app.bot.shutdown()  # a failed initialize() leaves the HTTP clients open
            if isinstance(e, InvalidToken):  # its message quotes the token: do not chain it
                raise ConfigError("telegram: the Bot API refused the bot token") from None
            raise
        self._app = app
        self._closed = asyncio.Event()
        if not receive:
            return
        try:
            await _set_menus(app.bot)
            await app.start()
            await self._receive_updates(app, webhook_url, listen, port, secret_token)
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        """Stop receiving, finish the handlers in flight, close connections."""
        app, self._app, self._receiver = self._app, None, None
        self._closed.set()
        if app is not None:
            if app.updater is not None and app.updater.running:
                try:
                    await app.updater.stop()
                except TelegramError as e:  # the polling loop had ended with this error
                    _log.info("telegram: polling had stopped: %s", _reason(e))
            if app.running:
                await app.stop()
            await app.shutdown()

    async def wait_closed(self) -> None:
        """Return when receiving updates has ended for good (or :meth:`stop` was called);
        raise why when PTB's polling loop gave up (a revoked token ends it).

        Raises:
            ConfigError: Telegram refused the token while polling.
            TransientDeliveryError: polling ended for another reason.
        """
        receiver = self._receiver
        if self._app is None:
            return
        closed = asyncio.ensure_future(self._closed.wait())
        waiters: set[asyncio.Future[Any]] = {closed, *([receiver] if receiver else [])}
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            closed.cancel()
        if receiver is None or not receiver.done() or self._closed.is_set():
            return
        error = None if receiver.cancelled() else receiver.exception()
        if isinstance(error, InvalidToken):
            raise ConfigError("telegram: the Bot API refused the bot token")
        raise TransientDeliveryError(f"telegram: polling ended: {_reason(error)}")

    async def send(self, chat: ChatRef, message: Message, nonce: str) -> Sent:
        """Send a post, reply, poll or poll results to ``chat`` (Telegram has no idempotency
        key, so ``nonce`` is unused).

        Raises:
            RateLimited: Telegram asked to wait (429 ``retry_after``).
            ChatUnavailable: the bot was kicked or blocked (403), or the chat is unknown.
            ChatMigrated: the group became a supergroup with a new id.
            TransientDeliveryError: anything else (network, 5xx, other refusals).
        """
        try:
            return await self._send(_where(chat), message)
        except TelegramError as e:
            raise _delivery_error(e) from e

    async def close_poll(self, chat: ChatRef, message_id: str) -> tuple[int, ...] | None:
        """Stop a poll (stopPoll) and return its final counts; None if the poll message is
        gone or the poll was closed already.

        Raises:
            The same errors as :meth:`send`.
        """
        try:
            poll = await self._bot.stop_poll(_target(chat), int(message_id))
        except BadRequest as e:
            if any(reason in e.message.lower() for reason in _GONE):
                return None
            raise _delivery_error(e) from e
        except TelegramError as e:
            raise _delivery_error(e) from e
        return tuple(option.voter_count for option in poll.options)

    # -- setup --------------------------------------------------------------------------

    def _build(self) -> _App:
        tls = httpx.create_ssl_context()  # one CA bundle load, shared by both connections
        builder = (
            ApplicationBuilder()
            .token(self._token)
            .request(HTTPXRequest(httpx_kwargs={"verify": tls}))
            .get_updates_request(HTTPXRequest(connection_pool_size=1, httpx_kwargs={"verify": tls}))
        )
        if self._base_url:
            builder = builder.base_url(self._base_url)
        app = builder.build()
        names = commands.names()
        messages = filters.UpdateType.MESSAGE
        channel_commands = filters.UpdateType.CHANNEL_POST & filters.COMMAND
        app.add_handlers(
            [
                # Commands may wait on a summarizer: never let them hold up votes behind them.
                CommandHandler(names, self._on_command, filters=messages, block=False),
                MessageHandler(channel_commands, self._on_command, block=False),
                MessageHandler(filters.StatusUpdate.MIGRATE, self._on_migrate),
                PollAnswerHandler(self._on_poll_answer),
                PollHandler(self._on_poll),
                ChatMemberHandler(self._on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER),
            ]
        )
        app.add_error_handler(self._on_error)
        return app

    async def _receive_updates(
        self, app: _App, webhook_url: str | None, listen: str, port: int, secret: str | None
    ) -> None:
        assert app.updater is not None
        if webhook_url is None:
            await app.updater.start_polling(
                allowed_updates=ALLOWED_UPDATES, error_callback=_polling_failed
            )
            self._receiver = _polling_task()
            return
        try:
            await app.updater.start_webhook(
                listen=listen,
                port=port,
                url_path=urlsplit(webhook_url).path.lstrip("/"),
                webhook_url=webhook_url,
                allowed_updates=ALLOWED_UPDATES,
                secret_token=secret or secrets.token_urlsafe(32),
            )
        except RuntimeError as e:  # PTB installed without its webhook server (tornado)
            raise ConfigError(f"telegram webhook: {e}") from e

    @property
    def _bot(self) -> Bot:
        if self._app is None:  # not started yet, or stopped while a restart waits
            raise TransientDeliveryError("telegram: not connected")
        bot: Bot = self._app.bot
        return bot

    # -- incoming -----------------------------------------------------------------------

    async def _on_command(self, update: Update, context: _Context) -> None:
        message = update.effective_message
        parsed = parse_command(message.text or "", context.bot.username) if message else None
        if message is None or parsed is None:
            return
        command = await self._command(message, *parsed)
        reply = await self._core.handle(command)
        where = _Where(message.chat_id, _topic(message))  # answered where it was asked
        await self._deliver(where, render_reply(reply), reply_to=message.message_id)
        if reply.post is not None:  # /preview: the post as the chat gets it
            with i18n.using(reply.post_locale):
                await self._send_post(where, reply.post)

    async def _on_migrate(self, update: Update, context: _Context) -> None:
        message = update.effective_message
        if message is not None and message.migrate_to_chat_id:
            old, new = _ref(message.chat_id), _ref(message.migrate_to_chat_id)
            self._chat_kinds.pop(old.chat_id, None)
            await self._core.chat_migrated(old, new)

    async def _on_poll_answer(self, update: Update, context: _Context) -> None:
        answer = update.poll_answer
        if answer is None:
            return
        voter = answer.user or answer.voter_chat  # voter_chat: an anonymous admin's chat
        user = str(voter.id) if voter else ""
        vote = VoteEvent(PLATFORM, answer.poll_id, user, tuple(answer.option_ids))
        await self._core.record_vote(vote)

    async def _on_poll(self, update: Update, context: _Context) -> None:
        poll = update.poll
        if poll is None:
            return
        counts = tuple(option.voter_count for option in poll.options)
        await self._core.record_counts(PollCounts(PLATFORM, poll.id, counts, poll.is_closed))

    async def _on_my_chat_member(self, update: Update, context: _Context) -> None:
        change = update.my_chat_member
        if change is None:
            return
        chat = str(change.chat.id)
        self._chat_kinds[chat] = change.chat.type
        active, reason = membership(change.chat.type, change.new_chat_member)
        await self._core.chat_membership(_ref(chat), active, reason)

    async def _on_error(self, update: object, context: _Context) -> None:
        error = context.error
        if isinstance(error, TelegramError | DeliveryError):  # refused, or we are stopping
            _log.warning("telegram: handling an update failed: %s", _reason(error))
        else:  # a bug: the traceback shows where
            _log.error("telegram: handling an update failed: %r", error, exc_info=error)
        message = update.effective_message if isinstance(update, Update) else None
        if message is None or not (message.text or "").startswith("/"):
            return
        if isinstance(error, TelegramError):
            return  # the chat refused us; an apology would be refused too
        text = str(error) if isinstance(error, UserInputError) else _SORRY
        try:
            await message.reply_text(text, do_quote=True)
        except TelegramError as e:
            _log.warning("telegram: could not tell the chat about the failure: %s", e)

    async def _command(self, message: TgMessage, name: str, args: str) -> Command:
        """The core's Command for a Telegram message: who asked, in which chat, as admin,
        in which language?"""
        sender = message.from_user or message.sender_chat
        user = str(sender.id if sender else message.chat_id)
        locale = (message.from_user.language_code if message.from_user else None) or ""
        managed = channel_target(args) if name in _CHANNEL_MANAGED else None
        if message.chat.type == ChatType.PRIVATE and managed and sender:
            channel, rest = managed
            chat_id = await self._resolve(channel)
            admin = await self._admin(chat_id, sender.id)
            return Command(name, rest, _ref(chat_id), user, admin, locale)
        admin = await self._sender_is_admin(message)
        return Command(name, args, _topic_ref(message), user, admin, locale)

    async def _sender_is_admin(self, message: TgMessage) -> bool:
        chat = message.chat
        if chat.type in (ChatType.PRIVATE, ChatType.CHANNEL):
            return True  # your own private chat; a channel post comes from its admins
        if message.sender_chat is not None:
            return message.sender_chat.id == chat.id  # an anonymous admin posts as the group
        if message.from_user is None:
            return False
        return await self._admin(str(chat.id), message.from_user.id)

    async def _admin(self, chat_id: str, user_id: int) -> bool:
        """Whether the user administers the chat (getChatMember, trusted for ADMIN_TTL)."""
        now = self._clock.now()
        cached = self._admin_checks.get((chat_id, user_id))
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            member = await self._bot.get_chat_member(_target(_ref(chat_id)), user_id)
            is_admin = member.status in _ADMINS
        except TelegramError as e:
            _log.info("telegram: admin check in %s failed: %s", chat_id, e)
            is_admin = False
        self._admin_checks[(chat_id, user_id)] = (now + ADMIN_TTL, is_admin)
        return is_admin

    async def _resolve(self, chat: str) -> str:
        """A channel's numeric id for ``@name`` (as typed if Telegram does not know it)."""
        try:
            info = await self._bot.get_chat(chat)
        except TelegramError:
            return chat
        self._chat_kinds[str(info.id)] = self._chat_kinds[chat] = info.type
        return str(info.id)

    # -- outgoing -----------------------------------------------------------------------

    async def _send(self, where: _Where, message: Message) -> Sent:
        match message:
            case Post():
                return await self._send_post(where, message)
            case StoryUpdate():
                chunks = render_update(message)
                return await self._deliver(where, chunks, reply_to=_message_number(message))
            case Reply():
                return await self._deliver(where, render_reply(message))
            case PollPost():
                return await self._send_poll(where, message)
            case ResultsPost():
                return await self._send_results(where, message)
            case _:
                assert_never(message)

    async def _deliver(
        self,
        where: _Where,
        chunks: list[str],
        *,
        reply_to: int | None = None,
        preview: bool = False,
    ) -> Sent:
        """Send rendered chunks as consecutive messages; the first answers ``reply_to``."""
        if not chunks:
            raise ValueError("nothing to send: the message renders to no text")
        first = await self._send_text(where, chunks[0], reply_to, preview)
        for chunk in chunks[1:]:
            await self._continue(partial(self._send_text, where, chunk, None, preview))
        return Sent(str(first.message_id))

    async def _send_text(
        self, where: _Where, chunk: str, reply_to: int | None, preview: bool
    ) -> TgMessage:
        options: dict[str, Any] = {"link_preview_options": None if preview else _NO_PREVIEW}
        if reply_to is not None:
            options["reply_parameters"] = ReplyParameters(
                reply_to, allow_sending_without_reply=True
            )

        async def send(text: str, parse_mode: str | None) -> TgMessage:
            return await self._bot.send_message(
                where.chat, text, parse_mode=parse_mode, message_thread_id=where.topic, **options
            )

        return await _html_or_plain(send, chunk)

    async def _send_post(self, where: _Where, post: Post) -> Sent:
        """A post with its image; if Telegram refuses the image, the post at once without
        it (one warning), never no post."""
        calls = render_post_calls(post)
        try:
            first = await self._call(where, calls[0])
        except BadRequest as e:
            if not post.image or not image_refused(e.message):
                raise
            _log.warning(
                "telegram refused the image %s (%s); sent without it", post.image, e.message
            )
            calls = render_post_calls(post, image=False)
            first = await self._call(where, calls[0])
        for call in calls[1:]:
            await self._continue(partial(self._call, where, call))
        return Sent(str(first.message_id))

    async def _call(self, where: _Where, call: Call) -> TgMessage:
        """Make one request a post's rendering asked for (HTML, else plain text)."""
        if call.method == "sendPhoto":

            async def send(text: str, parse_mode: str | None) -> TgMessage:
                return await self._bot.send_photo(
                    where.chat,
                    call.photo,
                    caption=text,
                    parse_mode=parse_mode,
                    message_thread_id=where.topic,
                    read_timeout=PHOTO_READ_TIMEOUT,
                )

            return await _html_or_plain(send, call.text)
        if not (call.preview_image or call.preview_url):
            return await self._send_text(where, call.text, None, preview=True)
        options = LinkPreviewOptions(url=call.preview_url)
        if call.preview_image:
            options = LinkPreviewOptions(
                url=call.preview_image, prefer_large_media=True, show_above_text=True
            )

        async def send_text(text: str, parse_mode: str | None) -> TgMessage:
            return await self._bot.send_message(
                where.chat,
                text,
                parse_mode=parse_mode,
                message_thread_id=where.topic,
                link_preview_options=options,
            )

        return await _html_or_plain(send_text, call.text)

    async def _send_poll(self, where: _Where, poll: PollPost) -> Sent:
        question, options = render_poll(poll)
        # Channels only take anonymous polls; elsewhere, per-user answers make votes exact.
        anonymous = await self._is_channel(where.chat)
        sent = await self._bot.send_poll(
            where.chat,
            question,
            options,
            is_anonymous=anonymous,
            allows_multiple_answers=False,
            message_thread_id=where.topic,
        )
        return Sent(str(sent.message_id), sent.poll.id if sent.poll else "")

    async def _send_results(self, where: _Where, results: ResultsPost) -> Sent:
        if not results.chart_png:
            return await self._deliver(where, render_reply(results.reply))
        caption, rest = render_results(results)

        async def send(text: str, parse_mode: str | None) -> TgMessage:
            return await self._bot.send_photo(
                where.chat,
                results.chart_png,
                caption=text or None,
                parse_mode=parse_mode,
                message_thread_id=where.topic,
            )

        photo = await _html_or_plain(send, caption)
        for chunk in rest:
            await self._continue(partial(self._send_text, where, chunk, None, False))
        return Sent(str(photo.message_id))

    async def _continue(self, send: Callable[[], Awaitable[TgMessage]]) -> TgMessage:
        """Send a later part of a split message. A flood wait is sat out here: raising
        would make the dispatcher resend the parts that were delivered already."""
        for _ in range(3):
            try:
                return await send()
            except RetryAfter as e:
                await self._clock.sleep(_retry_seconds(e))
        return await send()

    async def _is_channel(self, target: int | str) -> bool:
        key = str(target)
        if key not in self._chat_kinds:
            self._chat_kinds[key] = (await self._bot.get_chat(target)).type
        return self._chat_kinds[key] == ChatType.CHANNEL


def membership(chat_type: str, member: ChatMember) -> tuple[bool, str]:
    """Whether the bot can post in a chat given its new membership, and why (for operators)."""
    status = member.status
    if chat_type == ChatType.CHANNEL and status == ChatMemberStatus.MEMBER:
        return False, "bot is no longer an administrator of the channel"
    if status in _ADMINS or status == ChatMemberStatus.MEMBER:
        return True, f"bot added to the chat as {status}"
    if isinstance(member, ChatMemberRestricted) and member.is_member:
        return True, "bot is a restricted member of the chat"
    if status == ChatMemberStatus.BANNED:
        return False, "bot was removed from the chat"
    return False, "bot left the chat" if status == ChatMemberStatus.LEFT else f"bot is {status}"


async def _set_menus(bot: Bot) -> None:
    """The command menu in every locale newsbrief speaks: English as the default, each
    other locale for the users whose Telegram language it is (two-letter codes)."""
    for locale, menu in commands.menus().items():
        code = None if locale == i18n.SOURCE else locale.split("_", 1)[0]
        await bot.set_my_commands([BotCommand(n, d) for n, d in menu], language_code=code)


async def _html_or_plain(
    send: Callable[[str, str | None], Awaitable[TgMessage]], chunk: str
) -> TgMessage:
    """Send as HTML; if Telegram cannot parse it, send the same visible text once as plain."""
    try:
        return await send(chunk, ParseMode.HTML)
    except BadRequest as e:
        if "can't parse entities" not in e.message.lower():
            raise
        _log.warning("telegram refused our HTML (%s); resending as plain text", e.message)
        return await send(plain_text(chunk), None)


def image_refused(message: str) -> bool:
    """Whether a Bot API error is Telegram refusing a post's image (a URL it cannot
    fetch, not an image, too large, bad dimensions), not the post."""
    lowered = message.lower()
    return any(sign in lowered for sign in _IMAGE_REFUSED)


def _polling_failed(error: TelegramError) -> None:
    """A failed getUpdates (a 5xx, a dropped connection): an expected fault PTB retries
    with backoff, so one line says why, without a traceback."""
    _log.warning("telegram: fetching updates failed (%s); retrying", _reason(error))


_PTB_LOGGERS = ("telegram.ext", "telegram.ext.Updater", "telegram.ext.Application")


def quiet_expected_faults() -> Callable[[], None]:
    """PTB's own records about Telegram errors (a failed last getUpdates at shutdown, a
    token refused while polling) become one WARNING line with the reason; records about
    any other exception keep their traceback. Process-wide: the platform registry installs
    it once; returns what removes it."""
    return quiet.quiet_expected_faults(_PTB_LOGGERS, (TelegramError,), _reason)


def _polling_task() -> asyncio.Task[Any] | None:
    """PTB's getUpdates loop, found by the name PTB gives it (a test pins the name), so a
    supervisor learns when the loop gives up; None if a PTB upgrade renamed it."""
    for task in asyncio.all_tasks():
        if task.get_name() == POLLING_TASK and not task.done():
            return task
    _log.warning("telegram: PTB's polling task was not found; a dead poller goes unnoticed")
    return None


def _reason(error: BaseException | None) -> str:
    if error is None:
        return "the loop stopped"
    if isinstance(error, TelegramError | DeliveryError):
        return error.message if isinstance(error, TelegramError) else error.reason
    return repr(error)


def _delivery_error(error: TelegramError) -> DeliveryError:
    if isinstance(error, RetryAfter):
        return RateLimited(_retry_seconds(error), error.message)
    if isinstance(error, TgChatMigrated):
        return ChatMigrated(str(error.new_chat_id))
    if isinstance(error, Forbidden) or "chat not found" in error.message.lower():
        return ChatUnavailable(error.message)
    return TransientDeliveryError(error.message)


def _retry_seconds(error: RetryAfter) -> float:
    value = error.retry_after  # a timedelta with PTB_TIMEDELTA (see start()), else an int
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _target(chat: ChatRef) -> int | str:
    """What the Bot API takes as chat_id: a number, or ``@name`` for public chats."""
    return int(chat.chat_id) if _CHAT_NUMBER.fullmatch(chat.chat_id) else chat.chat_id


class _Where(NamedTuple):
    """Where a message goes: the chat (a number or ``@name``) and its forum topic."""

    chat: int | str
    topic: int | None = None


def _where(chat: ChatRef) -> _Where:
    """The chat and forum topic (``message_thread_id``) a core chat names."""
    topic = int(chat.thread) if chat.thread.isascii() and chat.thread.isdigit() else None
    return _Where(_target(chat), topic)


def _message_number(update: StoryUpdate) -> int | None:
    """The Telegram message an update answers (None if the id is not one of ours)."""
    return int(update.reply_to) if _CHAT_NUMBER.fullmatch(update.reply_to) else None


def _ref(chat_id: int | str) -> ChatRef:
    return ChatRef(PLATFORM, str(chat_id))


def _topic(message: TgMessage) -> int | None:
    """The forum topic a message was written in (a reply thread in a group that is not a
    forum is no topic)."""
    return message.message_thread_id if message.is_topic_message else None


def _topic_ref(message: TgMessage) -> ChatRef:
    """The chat a message was written in, with its forum topic when it was written in one."""
    topic = _topic(message)
    return ChatRef(PLATFORM, str(message.chat_id), str(topic) if topic else "")
