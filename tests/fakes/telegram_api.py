"""A fake Telegram Bot API on loopback, for driving the real python-telegram-bot.

PTB builds ``{base_url}{token}/{method}``; point its ``base_url`` at :attr:`FakeTelegramAPI.
base_url`. The fake records every call, answers like Telegram for the methods newsbrief uses,
validates text and captions the way Telegram does (limits counted in UTF-16 code units after
entity parsing; HTML tags and entities checked, a little stricter than Telegram: a bare ``>``
is refused too), queues updates for ``getUpdates`` and injects the failures Telegram hands to
bots in production.

Usage::

    async with FakeTelegramAPI() as api:
        api.add_chat(-100, "channel", username="news")
        api.queue(api.message(-100, "/latest"))
        call = await api.wait_for(lambda c: c.method == "sendMessage")
"""

from __future__ import annotations

import asyncio
import html
import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TOKEN = "123456:SECRET"
ANONYMOUS_ADMIN_ID = 1087968824  # Telegram's GroupAnonymousBot

# Parameters sent as plain strings; every other form field is JSON (PTB encodes it so).
_STRING_PARAMS = frozenset(
    {"text", "caption", "question", "parse_mode", "url", "secret_token", "photo"}
)
# What Telegram says when it cannot use a photo given by URL (the fake says the first).
IMAGE_REFUSED = "Bad Request: wrong file identifier/HTTP URL specified"
_CHAT_METHODS = frozenset(
    {"sendMessage", "sendPhoto", "sendPoll", "stopPoll", "getChat", "getChatMember"}
)
_ADMIN_RIGHTS = (
    *("can_be_edited", "is_anonymous", "can_manage_chat", "can_delete_messages"),
    *("can_manage_video_chats", "can_restrict_members", "can_promote_members"),
    *("can_change_info", "can_invite_users", "can_post_stories", "can_edit_stories"),
    "can_delete_stories",
)
WAIT_LIMIT = 5.0  # seconds a wait_for may take before the test fails instead of hanging
_UPDATE_TYPES = ("message", "channel_post", "poll", "poll_answer", "my_chat_member")

_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre"}
    | {"blockquote", "tg-spoiler", "span", "tg-emoji"}
)
_TAG_RE = re.compile(
    r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'))?)*)\s*>"
)
_ATTR_RE = re.compile(r"([a-zA-Z-]+)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'))?")
_ENTITY_RE = re.compile(r"&(?:lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});")
_SPECIAL_RE = re.compile(r"[<>&]")


class HTMLError(ValueError):
    """The text is not Telegram HTML; the message is what Telegram would say."""


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's limits."""
    return len(text.encode("utf-16-le")) // 2


def parse_html(text: str) -> str:
    """Check ``text`` as Telegram HTML and return its visible text.

    Raises:
        HTMLError: an unsupported or unbalanced tag, a bare ``<``, ``>`` or ``&``, an
            unknown entity, a link without href, a nested link or blockquote.
    """
    visible: list[str] = []
    stack: list[str] = []
    pos = 0
    for special in _SPECIAL_RE.finditer(text):
        start = special.start()
        if start < pos:  # inside a tag or entity already consumed
            continue
        visible.append(text[pos:start])
        offset = len(text[:start].encode())
        if special.group() == "&":
            entity = _ENTITY_RE.match(text, start)
            if entity is None:
                raise HTMLError(f'Unsupported entity or bare "&" at byte offset {offset}')
            visible.append(html.unescape(entity.group()))
            pos = entity.end()
        elif special.group() == ">":
            raise HTMLError(f'Unexpected ">" at byte offset {offset}')
        else:
            tag = _TAG_RE.match(text, start)
            if tag is None:
                raise HTMLError(f"Can't find end of the tag at byte offset {offset}")
            _apply_tag(tag, stack, offset)
            pos = tag.end()
    visible.append(text[pos:])
    if stack:
        raise HTMLError(f'Can\'t find end tag corresponding to start tag "{stack[-1]}"')
    return "".join(visible)


def _apply_tag(tag: re.Match[str], stack: list[str], offset: int) -> None:
    closing, name, attrs = tag.group(1), tag.group(2).lower(), tag.group(3)
    if name not in _TAGS:
        raise HTMLError(f'Unsupported start tag "{name}" at byte offset {offset}')
    if closing:
        if attrs.strip() or not stack or stack[-1] != name:
            raise HTMLError(f'Unmatched end tag at byte offset {offset}: "</{name}>"')
        stack.pop()
        return
    names = {m.group(1).lower(): m.group(2) or m.group(3) or "" for m in _ATTR_RE.finditer(attrs)}
    if name == "a" and not names.get("href"):
        raise HTMLError(f"Link without href at byte offset {offset}")
    if name in ("a", "blockquote") and name in stack:
        raise HTMLError(f'Nested "{name}" at byte offset {offset}')
    stack.append(name)


@dataclass(frozen=True)
class Call:
    """One request the fake received."""

    method: str
    params: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)

    @property
    def chat_id(self) -> Any:
        """The ``chat_id`` parameter, as PTB sent it (int or ``@name``)."""
        return self.params.get("chat_id")

    @property
    def visible_text(self) -> str:
        """What a reader sees of ``text`` (or ``caption``), tags and entities resolved."""
        text = str(self.params.get("text", self.params.get("caption", "")))
        return parse_html(text) if self.params.get("parse_mode") == "HTML" else text


@dataclass(frozen=True)
class Failure:
    """An error answer Telegram gives, injected for a chat."""

    status: int
    description: str
    parameters: dict[str, Any] | None = None


def flood(retry_after: int) -> Failure:
    """429 Too Many Requests with ``parameters.retry_after``."""
    return Failure(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )


def kicked() -> Failure:
    """403: the bot was removed from the group."""
    return Failure(403, "Forbidden: bot was kicked from the group chat")


def chat_not_found() -> Failure:
    """400: the chat does not exist (or the bot never saw it)."""
    return Failure(400, "Bad Request: chat not found")


def migrated(new_chat_id: int) -> Failure:
    """400 with ``parameters.migrate_to_chat_id``: group upgraded to a supergroup."""
    return Failure(
        400,
        "Bad Request: group chat was upgraded to a supergroup chat",
        {"migrate_to_chat_id": new_chat_id},
    )


def cant_parse() -> Failure:
    """400 "can't parse entities", as Telegram says for HTML it rejects."""
    return Failure(400, 'Bad Request: can\'t parse entities: Unsupported start tag "x"')


@dataclass
class _Injected:
    failure: Failure
    times: int | None
    after: int


class _Refused(Exception):
    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.description)
        self.failure = failure


@dataclass
class FakePoll:
    """A poll the bot sent, as the fake keeps it."""

    id: str
    chat_id: int
    message_id: int
    question: str
    options: list[str]
    anonymous: bool
    counts: list[int]
    closed: bool = False

    def to_json(self) -> dict[str, Any]:
        options = [
            {"text": text, "voter_count": count, "persistent_id": f"{self.id}-{i}"}
            for i, (text, count) in enumerate(zip(self.options, self.counts, strict=True))
        ]
        return {
            "id": self.id,
            "question": self.question,
            "options": options,
            "total_voter_count": sum(self.counts),
            "is_closed": self.closed,
            "is_anonymous": self.anonymous,
            "type": "regular",
            "allows_multiple_answers": False,
            "allows_revoting": True,
            "members_only": False,
        }


class FakeTelegramAPI:
    """The Bot API methods newsbrief uses, on 127.0.0.1 at a free port."""

    def __init__(self, token: str = TOKEN, *, bot_username: str = "newsbrief_bot") -> None:
        self.token = token
        self.bot_username = bot_username
        self.bot_id = int(token.split(":", 1)[0])
        self.calls: list[Call] = []
        self.chats: dict[int, dict[str, Any]] = {}
        self.members: dict[tuple[int, int], str] = {}  # (chat, user) -> status
        self.polls: dict[str, FakePoll] = {}
        self.commands: list[dict[str, Any]] = []  # the default menu (no language_code)
        self.menus: dict[str, list[dict[str, Any]]] = {}  # by language_code, "" the default
        self.allowed_updates: list[str] | None = None
        self.webhook: dict[str, Any] = {}
        self._failures: dict[int, list[_Injected]] = {}
        self._method_failures: dict[str, list[_Injected]] = {}
        self._updates: list[dict[str, Any]] = []
        self._next_update = 1
        self._next_message = 1000
        self._next_poll = 5_000_000_000
        self._calls_changed = asyncio.Condition()
        self._updates_ready = asyncio.Event()  # set when updates are queued or on close
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._limits: tuple[int, int] | None = None
        self._sent_times: list[float] = []
        self._chat_times: dict[int, list[float]] = {}
        self.floods = 0
        self.base_url = ""
        self.revoked = False
        self._racing_votes: dict[int, tuple[list[int], int]] = {}
        # (chat id, message id) → the forum topic the message is in (None: none)
        self.topics: dict[tuple[int, int], int | None] = {}
        self.bad_images: set[str] = set()  # photo URLs Telegram cannot fetch or use

    async def __aenter__(self) -> FakeTelegramAPI:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        """Listen on 127.0.0.1 at a free port; :attr:`base_url` is set afterwards."""
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}/bot"

    async def close(self) -> None:
        """Answer pending long polls at once, then stop listening."""
        self._closing = True
        self._updates_ready.set()
        if self._runner is not None:
            await self._runner.cleanup()

    # -- test controls ------------------------------------------------------------------

    def add_chat(
        self,
        chat_id: int,
        kind: str,
        *,
        username: str | None = None,
        title: str = "",
        forum: bool = False,
    ) -> None:
        """Make a chat known: ``kind`` is private, group, supergroup or channel; a
        ``forum`` supergroup has topics (messages go into one by ``message_thread_id``)."""
        chat: dict[str, Any] = {"id": chat_id, "type": kind}
        if forum:
            chat["is_forum"] = True
        if kind == "private":
            chat["first_name"] = title or f"user{chat_id}"
        else:
            chat["title"] = title or f"{kind} {chat_id}"
        if username:
            chat["username"] = username
        self.chats[chat_id] = chat

    def set_member(self, chat_id: int, user_id: int, status: str = "administrator") -> None:
        """Put a user in a chat's member table (creator, administrator, member, left...)."""
        self.members[(chat_id, user_id)] = status

    def fail(
        self, chat_id: int, failure: Failure, times: int | None = 1, *, after: int = 0
    ) -> None:
        """Answer calls addressed to ``chat_id`` with ``failure``: let ``after`` calls through
        first, then fail ``times`` calls (``None``: every call, until :meth:`heal`)."""
        self._failures.setdefault(chat_id, []).append(_Injected(failure, times, after))

    def fail_method(self, method: str, failure: Failure, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` (any chat, ``getUpdates`` too)
        with ``failure``: a Bot API having a bad minute."""
        self._method_failures.setdefault(method, []).append(_Injected(failure, times, 0))

    def enforce_limits(self, per_second: int = 30, per_chat_per_minute: int = 20) -> None:
        """Answer sends over Telegram's limits with 429 (a rolling second overall, a rolling
        minute per chat), as the real Bot API does under load; :attr:`floods` counts them."""
        self._limits = (per_second, per_chat_per_minute)

    def _check_limits(self, method: str, chat_ref: Any) -> None:
        if self._limits is None or not method.startswith("send") or chat_ref is None:
            return
        now = time.monotonic()
        overall, per_chat = self._limits
        self._sent_times = [t for t in self._sent_times if now - t < 1.0]
        chat = self._chat_times.setdefault(self._resolve(chat_ref), [])
        chat[:] = [t for t in chat if now - t < 60.0]
        if len(self._sent_times) >= overall or len(chat) >= per_chat:
            self.floods += 1
            raise _Refused(flood(1))
        self._sent_times.append(now)
        chat.append(now)

    def heal(self, chat_id: int) -> None:
        """Forget every failure injected for ``chat_id``."""
        self._failures.pop(chat_id, None)

    def queue(self, *updates: dict[str, Any]) -> list[int]:
        """Queue updates for ``getUpdates``; return their update ids."""
        ids = []
        for update in updates:
            update = {"update_id": self._next_update, **update}
            self._next_update += 1
            self._updates.append(update)
            ids.append(update["update_id"])
        self._updates_ready.set()
        return ids

    def vote_on_send_poll(self, chat_id: int, user_ids: Iterable[int], option: int = 0) -> None:
        """The next poll sent to ``chat_id`` gets a vote from each user in the instant it is
        answered: the votes are queued, and the bot has fetched them with getUpdates before
        the sendPoll answer leaves (what a busy group does to a fresh poll)."""
        self._racing_votes[chat_id] = (list(user_ids), option)

    def calls_to(self, method: str, chat_id: Any = None) -> list[Call]:
        """Recorded calls of ``method`` (to ``chat_id`` if given)."""
        return [
            c
            for c in self.calls
            if c.method == method and (chat_id is None or c.chat_id == chat_id)
        ]

    async def wait_for(self, predicate: Callable[[Call], bool], limit: float = WAIT_LIMIT) -> Call:
        """Wait until a recorded call matches ``predicate`` and return the first that does.

        Raises:
            TimeoutError: nothing matched within ``limit`` seconds (a failing test).
        """

        def first() -> Call | None:
            return next((c for c in self.calls if predicate(c)), None)

        async with asyncio.timeout(limit), self._calls_changed:
            await self._calls_changed.wait_for(lambda: first() is not None)
        found = first()
        assert found is not None
        return found

    # -- update builders ----------------------------------------------------------------

    def message(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        sender_chat_id: int | None = None,
        language_code: str | None = None,
        topic: int | None = None,
    ) -> dict[str, Any]:
        """A ``message`` update (or ``channel_post`` for a channel) with bot_command entities
        the way Telegram marks them; ``language_code`` is the sender's app language,
        ``topic`` the forum topic it is written in."""
        chat = self.chats[chat_id]
        message: dict[str, Any] = {
            "message_id": self._message_id(),
            "date": int(time.time()),
            "chat": chat,
            "text": text,
        }
        if topic is not None:
            message.update(message_thread_id=topic, is_topic_message=True)
        self.topics[(chat_id, message["message_id"])] = topic
        if user_id is not None:
            message["from"] = _user(user_id)
            if language_code is not None:
                message["from"]["language_code"] = language_code
        if sender_chat_id is not None:
            message["sender_chat"] = self.chats[sender_chat_id]
        if chat["type"] == "channel":
            message["sender_chat"] = chat
        if text.startswith("/"):
            length = utf16_len(text.split(maxsplit=1)[0])
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        kind = "channel_post" if chat["type"] == "channel" else "message"
        return {kind: message}

    def migration(self, chat_id: int, new_chat_id: int) -> dict[str, Any]:
        """The service message a group gets when it becomes a supergroup."""
        message = {
            "message_id": self._message_id(),
            "date": int(time.time()),
            "chat": self.chats[chat_id],
            "from": _user(1),
            "migrate_to_chat_id": new_chat_id,
        }
        return {"message": message}

    def poll_answer(self, poll_id: str, user_id: int, option_ids: list[int]) -> dict[str, Any]:
        """A ``poll_answer`` update; an empty ``option_ids`` is a retracted vote."""
        answer = {
            "poll_id": poll_id,
            "user": _user(user_id),
            "option_ids": option_ids,
            "option_persistent_ids": [f"{poll_id}-{i}" for i in option_ids],
        }
        return {"poll_answer": answer}

    def poll_state(
        self, poll_id: str, counts: list[int], *, closed: bool = False
    ) -> dict[str, Any]:
        """A ``poll`` update carrying a poll's counts (what channels give)."""
        poll = self.polls[poll_id]
        poll.counts, poll.closed = list(counts), closed
        return {"poll": poll.to_json()}

    def my_chat_member(
        self, chat_id: int, old: str, new: str, *, by_user: int = 1
    ) -> dict[str, Any]:
        """A ``my_chat_member`` update: the bot's status in ``chat_id`` went old → new."""
        update = {
            "chat": self.chats[chat_id],
            "from": _user(by_user),
            "date": int(time.time()),
            "old_chat_member": self._member_json(self.bot_id, old),
            "new_chat_member": self._member_json(self.bot_id, new),
        }
        return {"my_chat_member": update}

    # -- the server ---------------------------------------------------------------------

    def revoke_token(self) -> None:
        """Refuse the token from now on (401), as Telegram does once it is revoked at
        @BotFather; a long poll in progress returns at once."""
        self.revoked = True
        self._updates_ready.set()

    async def _handle(self, request: web.Request) -> web.Response:
        if self.revoked or request.match_info["token"] != self.token:
            return _error(Failure(401, "Unauthorized"))
        method = request.match_info["method"]
        params, files = await _read_params(request)
        await self._record(Call(method, params, files))
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            return _error(Failure(404, "Not Found"))
        try:
            self._maybe_fail_method(method)
            self._maybe_fail(method, params.get("chat_id"))
            self._check_limits(method, params.get("chat_id"))
            result = await handler(params)
        except _Refused as refused:
            return _error(refused.failure)
        return web.json_response({"ok": True, "result": result})

    async def _record(self, call: Call) -> None:
        async with self._calls_changed:
            self.calls.append(call)
            self._calls_changed.notify_all()

    def _maybe_fail_method(self, method: str) -> None:
        injected = self._method_failures.get(method)
        if not injected:
            return
        first = injected[0]
        first.times = (first.times or 1) - 1
        if first.times <= 0:
            injected.pop(0)
        raise _Refused(first.failure)

    def _maybe_fail(self, method: str, chat_ref: Any) -> None:
        if method not in _CHAT_METHODS or chat_ref is None:
            return
        injected = self._failures.get(self._resolve(chat_ref), [])
        if not injected:
            return
        first = injected[0]
        if first.after > 0:
            first.after -= 1
            return
        if first.times is not None:
            first.times -= 1
            if first.times <= 0:
                injected.pop(0)
        raise _Refused(first.failure)

    async def _api_getMe(self, params: dict[str, Any]) -> Any:
        return {**_user(self.bot_id), "is_bot": True, "username": self.bot_username}

    async def _api_getUpdates(self, params: dict[str, Any]) -> Any:
        offset = int(params.get("offset") or 0)
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if params.get("allowed_updates") is not None:
            self.allowed_updates = list(params["allowed_updates"])
        deadline = asyncio.get_running_loop().time() + float(params.get("timeout") or 0)
        while not self._closing and not self._deliverable():
            self._updates_ready.clear()
            try:
                async with asyncio.timeout_at(deadline):
                    await self._updates_ready.wait()
            except TimeoutError:
                break
        return self._deliverable()

    def _deliverable(self) -> list[dict[str, Any]]:
        allowed = self.allowed_updates or _UPDATE_TYPES
        return [u for u in self._updates if any(kind in u for kind in allowed)]

    async def _api_setWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = dict(params)
        return True

    async def _api_deleteWebhook(self, params: dict[str, Any]) -> Any:
        return True

    async def _api_setMyCommands(self, params: dict[str, Any]) -> Any:
        menu = list(params["commands"])
        self.menus[str(params.get("language_code") or "")] = menu
        if not params.get("language_code"):
            self.commands = menu
        return True

    async def _api_getMyCommands(self, params: dict[str, Any]) -> Any:
        return self.menus.get(str(params.get("language_code") or ""), [])

    async def _api_close(self, params: dict[str, Any]) -> Any:
        return True

    async def _api_logOut(self, params: dict[str, Any]) -> Any:
        return True

    async def _api_getChat(self, params: dict[str, Any]) -> Any:
        chat = self.chats[self._known_chat(params["chat_id"])]
        kinds = ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription")
        gifts = dict.fromkeys((*kinds, "gifts_from_channels"), False)
        return {
            **chat,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": gifts,
        }

    async def _api_getChatMember(self, params: dict[str, Any]) -> Any:
        chat_id = self._known_chat(params["chat_id"])
        user_id = int(params["user_id"])
        return self._member_json(user_id, self.members.get((chat_id, user_id), "member"))

    async def _api_sendMessage(self, params: dict[str, Any]) -> Any:
        text = str(params.get("text", ""))
        visible = _checked(text, params.get("parse_mode"), 4096, "message is too long")
        if not visible.strip():
            raise _Refused(Failure(400, "Bad Request: message text is empty"))
        preview = params.get("link_preview_options")
        if preview is not None and not isinstance(preview, dict):
            raise _Refused(Failure(400, "Bad Request: can't parse link preview options"))
        return self._sent(params, text=text)

    async def _api_sendPhoto(self, params: dict[str, Any]) -> Any:
        caption = str(params.get("caption", ""))
        _checked(caption, params.get("parse_mode"), 1024, "message caption is too long")
        photo = params.get("photo")
        if isinstance(photo, str) and (
            photo in self.bad_images or not photo.startswith(("http://", "https://"))
        ):
            raise _Refused(Failure(400, IMAGE_REFUSED))
        sizes = [{"file_id": "photo-1", "file_unique_id": "p1", "width": 800, "height": 600}]
        return self._sent(params, caption=caption, photo=sizes)

    async def _api_sendPoll(self, params: dict[str, Any]) -> Any:
        question = str(params["question"])
        options = [o if isinstance(o, str) else o["text"] for o in params["options"]]
        if not 1 <= utf16_len(question) <= 300 or not 2 <= len(options) <= 12:
            raise _Refused(Failure(400, "Bad Request: poll question or options are invalid"))
        if any(not 1 <= utf16_len(o) <= 100 for o in options):
            raise _Refused(Failure(400, "Bad Request: poll options length must not exceed 100"))
        chat_id = self._known_chat(params["chat_id"])
        anonymous = params.get("is_anonymous", True) is not False
        if not anonymous and self.chats[chat_id]["type"] == "channel":
            refusal = "Bad Request: non-anonymous polls can't be sent to channel chats"
            raise _Refused(Failure(400, refusal))
        counts = [0] * len(options)
        poll = FakePoll(str(self._next_poll), chat_id, 0, question, options, anonymous, counts)
        self._next_poll += 1
        message = self._sent(params, poll=poll.to_json())
        poll.message_id = message["message_id"]
        message["poll"] = poll.to_json()
        self.polls[poll.id] = poll
        racing = self._racing_votes.pop(chat_id, None)
        if racing is not None:
            users, option = racing
            ids = self.queue(*(self.poll_answer(poll.id, user, [option]) for user in users))
            await self._until_fetched(ids[-1])
        return message

    async def _until_fetched(self, update_id: int) -> None:
        """Wait until the bot asked for updates past ``update_id`` (it has them, then)."""

        def fetched() -> bool:
            offsets = (c.params.get("offset") for c in self.calls if c.method == "getUpdates")
            return any(int(o or 0) > update_id for o in offsets)

        async with asyncio.timeout(WAIT_LIMIT), self._calls_changed:
            await self._calls_changed.wait_for(fetched)

    async def _api_stopPoll(self, params: dict[str, Any]) -> Any:
        chat_id = self._known_chat(params["chat_id"])
        message_id = int(params["message_id"])
        poll = next(
            (p for p in self.polls.values() if (p.chat_id, p.message_id) == (chat_id, message_id)),
            None,
        )
        if poll is None:
            raise _Refused(Failure(400, "Bad Request: message to stop not found"))
        if poll.closed:
            raise _Refused(Failure(400, "Bad Request: poll has already been closed"))
        poll.closed = True
        return poll.to_json()

    # -- helpers ------------------------------------------------------------------------

    def _resolve(self, chat_ref: Any) -> int:
        if isinstance(chat_ref, str) and chat_ref.startswith("@"):
            for chat_id, chat in self.chats.items():
                if chat.get("username", "").lower() == chat_ref[1:].lower():
                    return chat_id
            return 0
        return int(chat_ref)

    def _known_chat(self, chat_ref: Any) -> int:
        chat_id = self._resolve(chat_ref)
        if chat_id not in self.chats:
            raise _Refused(chat_not_found())
        return chat_id

    def _sent(self, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        chat_id = self._known_chat(params["chat_id"])
        chat = self.chats[chat_id]
        topic = self._topic(chat_id, params)
        message: dict[str, Any] = {
            "message_id": self._message_id(),
            "date": int(time.time()),
            "chat": chat,
            **content,
        }
        if topic is not None:
            message.update(message_thread_id=topic, is_topic_message=True)
        self.topics[(chat_id, message["message_id"])] = topic
        if chat["type"] == "channel":
            message["sender_chat"] = chat
        else:
            message["from"] = {**_user(self.bot_id), "is_bot": True}
        return message

    def _topic(self, chat_id: int, params: dict[str, Any]) -> int | None:
        """The forum topic a send goes to, as Telegram decides it: ``message_thread_id``
        (only a forum has topics), else the topic of the message it replies to; a reply
        to a message that is not there is refused unless allowed to go without it."""
        topic = params.get("message_thread_id")
        if topic is not None and not self.chats[chat_id].get("is_forum"):
            raise _Refused(Failure(400, "Bad Request: message thread not found"))
        reply = params.get("reply_parameters") or {}
        if "message_id" in reply and (chat_id, int(reply["message_id"])) not in self.topics:
            if not reply.get("allow_sending_without_reply"):
                raise _Refused(Failure(400, "Bad Request: message to be replied not found"))
            return int(topic) if topic is not None else None
        if topic is None and "message_id" in reply:
            return self.topics[(chat_id, int(reply["message_id"]))]
        return int(topic) if topic is not None else None

    def _message_id(self) -> int:
        self._next_message += 1
        return self._next_message

    def _member_json(self, user_id: int, status: str) -> dict[str, Any]:
        user = {**_user(user_id), "is_bot": user_id == self.bot_id}
        member: dict[str, Any] = {"status": status, "user": user}
        if status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            member.update(dict.fromkeys(_ADMIN_RIGHTS, False))
            member.update(can_manage_chat=True, can_post_messages=True)
        elif status == "kicked":
            member["until_date"] = 0
        elif status == "restricted":
            member.update(is_member=False, until_date=0)
        return member


def _checked(text: str, parse_mode: Any, limit: int, too_long: str) -> str:
    if parse_mode == "HTML":
        try:
            text = parse_html(text)
        except HTMLError as e:
            raise _Refused(Failure(400, f"Bad Request: can't parse entities: {e}")) from e
    elif parse_mode is not None:
        raise _Refused(Failure(400, f"Bad Request: unsupported parse_mode {parse_mode}"))
    if utf16_len(text) > limit:
        raise _Refused(Failure(400, f"Bad Request: {too_long}"))
    return text


def _user(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": f"user{user_id}"}


def _error(failure: Failure) -> web.Response:
    body: dict[str, Any] = {
        "ok": False,
        "error_code": failure.status,
        "description": failure.description,
    }
    if failure.parameters:
        body["parameters"] = failure.parameters
    return web.json_response(body, status=failure.status)


async def _read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, bytes]]:
    params: dict[str, Any] = {}
    files: dict[str, bytes] = {}
    if request.content_type == "application/json":
        return dict(await request.json()), files
    for key, value in (await request.post()).items():
        if isinstance(value, web.FileField):
            files[key] = value.file.read()
        elif key in _STRING_PARAMS:
            params[key] = value
        else:
            params[key] = _json_or_str(str(value))
    return params, files


def _json_or_str(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value
