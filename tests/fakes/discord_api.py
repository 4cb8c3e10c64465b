"""A fake Discord REST API and gateway on loopback that a real ``discord.Client`` logs in to.

One aiohttp server on ``127.0.0.1`` (port 0) serves both: REST under ``/api/v10`` and the
gateway websocket at ``/gateway``. It speaks just enough of Discord for newsbrief's adapter:
login (``/users/@me``, ``/oauth2/applications/@me``), the gateway handshake (HELLO, heartbeat
ACK, IDENTIFY → READY, GUILD_CREATE), command sync, interactions and their follow-ups, channel
messages (JSON or multipart), polls and their votes.

What discord.py (2.7) expects, learned from its source:

- REST bodies are parsed as JSON only when ``Content-Type`` is exactly ``application/json``
  (aiohttp's ``json_response`` adds ``; charset=utf-8``, which discord.py treats as text).
- A 429 without a ``Via`` header, or with a text body, is taken for a Cloudflare ban and
  raised; with ``Via`` and JSON ``retry_after`` it sleeps and retries.
- The gateway URL asks for ``compress=zlib-stream`` (or ``zstd-stream``), but discord.py
  decompresses only BINARY frames; TEXT frames are parsed as plain JSON, so the fake sends
  those and never compresses.
- The interaction callback is called with ``?with_response=1`` and must answer with
  ``{"interaction": {"id": ...}}``; interaction payloads need ``attachment_size_limit``.
- ``on_ready`` fires ``guild_ready_timeout`` seconds after the last GUILD_CREATE.

Every REST call is recorded as a :class:`Call`; tests await what they expect with
:meth:`FakeDiscord.wait_for`, which wakes on each recorded call or gateway frame (no sleeps).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from aiohttp import BodyPartReader, WSMsgType, web

T = TypeVar("T")

DISCORD_EPOCH_MS = 1_420_070_400_000
API_PREFIX = "/api/v10"
JSON = "application/json"

# Gateway opcodes
DISPATCH, HEARTBEAT, IDENTIFY, RESUME, HELLO, HEARTBEAT_ACK = 0, 1, 2, 6, 10, 11

ADMINISTRATOR = 1 << 3
MANAGE_CHANNELS = 1 << 4
SEND_MESSAGES = 1 << 11
VIEW_CHANNEL = 1 << 10


@dataclass
class Call:
    """One REST request as the fake received it."""

    method: str
    path: str  # without the /api/v10 prefix
    query: dict[str, str]
    json: Any = None
    files: list[dict[str, Any]] = field(default_factory=list)  # {"name","filename","data"}
    status: int = 200
    authorization: str = ""


def _snowflakes() -> Iterator[int]:
    for counter in itertools.count(1):
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        yield (ms << 22) | (counter & 0xFFF)


def _iso(dt: datetime) -> str:
    return dt.isoformat()


def _reply(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # content_type must be exactly application/json: discord.py compares it verbatim.
    # (aiohttp appends "; charset=utf-8" to text bodies, so send bytes).
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        headers={"Content-Type": JSON, **(headers or {})},
    )


def _error(status: int, code: int, message: str) -> web.Response:
    return _reply({"code": code, "message": message}, status=status)


class FakeDiscord:
    """A fake Discord for one bot in one guild with a few text channels.

    Args:
        token: the bot token the fake accepts (anything else gets 401 / close 4004).
        channels: text channel ids to put in the guild.
        forums: forum channel ids to put in the guild (messages go only into their posts,
            which are threads).
        retry_after: the ``retry_after`` seconds an injected 429 asks for.
        wait_timeout: how long :meth:`wait_for` waits before failing the test.
    """

    def __init__(
        self,
        *,
        token: str = "fake-token",
        channels: tuple[int, ...] = (111111111111111111, 222222222222222222),
        forums: tuple[int, ...] = (),
        retry_after: float = 0.01,
        wait_timeout: float = 5.0,
    ) -> None:
        self.token = token
        self.retry_after = retry_after
        self.wait_timeout = wait_timeout
        self._ids = _snowflakes()
        self.app_id = next(self._ids)
        self.bot_id = self.app_id
        self.guild_id = next(self._ids)
        self.channel_ids = channels
        self.forum_ids = forums
        self.threads: dict[int, dict[str, Any]] = {}  # thread id → {"parent", "name"}
        self.calls: list[Call] = []
        self.frames: list[dict[str, Any]] = []  # gateway frames received from the client
        self.identify_count = 0
        self.gateway_query: dict[str, str] = {}
        self.commands: dict[str, list[dict[str, Any]]] = {}  # "global" or guild id → payloads
        self.messages: dict[int, dict[str, Any]] = {}  # message id → message payload
        self.interactions: dict[str, int] = {}  # interaction token → channel id
        self.votes: dict[int, dict[int, set[int]]] = defaultdict(lambda: defaultdict(set))
        self._faults: dict[int, list[int]] = defaultdict(list)
        self.bad_images: set[str] = set()  # embed image URLs Discord refuses (400)
        self._sockets: list[web.WebSocketResponse] = []
        self._seq = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on 127.0.0.1 on a free port."""
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def disconnect(self, code: int) -> None:
        """Close every gateway connection with ``code`` (4004, say: a reset token ends a
        discord.py client for good)."""
        for ws in list(self._sockets):
            await ws.close(code=code)

    async def close(self) -> None:
        """Close open gateway sockets (a clean 1000) and stop serving."""
        for ws in list(self._sockets):
            await ws.close(code=1000)
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def api_base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    # -- what tests drive --------------------------------------------------------------

    def fail_next(self, channel_id: int, *statuses: int) -> None:
        """Answer the next requests on ``channel_id`` with these statuses (429, 403, 404;
        0 answers that request normally, so ``0, 403`` fails the second)."""
        self._faults[channel_id].extend(statuses)

    def fail_always(self, channel_id: int, status: int) -> None:
        """Answer every later request on ``channel_id`` with ``status``."""
        self._faults[channel_id].extend([status] * 1000)

    async def wait_for(self, predicate: Callable[[FakeDiscord], T]) -> T:
        """Wait until ``predicate(self)`` is truthy and return its value.

        Wakes on every recorded REST call and gateway frame; ``wait_timeout`` only bounds a
        test that would otherwise hang.
        """
        async with asyncio.timeout(self.wait_timeout), self._changed:
            return await self._changed.wait_for(lambda: predicate(self))

    def calls_to(self, method: str, prefix: str) -> list[Call]:
        """The recorded calls with this method whose path starts with ``prefix``."""
        return [c for c in self.calls if c.method == method and c.path.startswith(prefix)]

    def channel_posts(self, channel_id: int) -> list[Call]:
        """Successful message creations in a channel (or a thread)."""
        return [
            c
            for c in self.calls_to("POST", f"/channels/{channel_id}/messages")
            if c.status == 200 and c.path.count("/") == 3
        ]

    def threads_of(self, channel_id: int) -> list[int]:
        """The threads started in a channel (forum posts, threads on messages), in order."""
        return [t for t, data in self.threads.items() if data["parent"] == channel_id]

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send a DISPATCH event to every connected gateway client."""
        frame = {"op": DISPATCH, "t": event, "s": next(self._seq), "d": data}
        for ws in list(self._sockets):
            await ws.send_str(json.dumps(frame))

    async def interact(
        self,
        command: str,
        options: dict[str, str] | None = None,
        *,
        channel_id: int | None = None,
        user_id: int = 424242424242424242,
        permissions: int = SEND_MESSAGES | VIEW_CHANNEL,
        locale: str = "en-US",
    ) -> tuple[int, str]:
        """Dispatch a slash command as INTERACTION_CREATE (from a user whose client speaks
        ``locale``); returns (interaction id, token)."""
        interaction_id = next(self._ids)
        token = f"itoken-{interaction_id}"
        channel = channel_id or self.channel_ids[0]
        self.interactions[token] = channel
        data = {
            "id": str(interaction_id),
            "application_id": str(self.app_id),
            "type": 2,
            "token": token,
            "version": 1,
            "guild_id": str(self.guild_id),
            "channel_id": str(channel),
            "channel": self._channel(channel),
            "member": self._member(user_id, permissions),
            "app_permissions": str(SEND_MESSAGES | VIEW_CHANNEL),
            "locale": locale,
            "guild_locale": "en-US",
            "attachment_size_limit": 10 * 1024 * 1024,
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(self.guild_id)},
            "context": 0,
            "data": {
                "id": str(next(self._ids)),
                "name": command,
                "type": 1,
                "options": [{"name": k, "type": 3, "value": v} for k, v in (options or {}).items()],
            },
        }
        await self.dispatch("INTERACTION_CREATE", data)
        return interaction_id, token

    async def vote(self, message_id: int, user_id: int, answer_id: int, *, add: bool) -> None:
        """A user adds or removes a vote on a poll (1-based Discord answer id)."""
        message = self.messages[message_id]
        voters = self.votes[message_id][answer_id]
        if add:
            voters.add(user_id)
        else:
            voters.discard(user_id)
        event = "MESSAGE_POLL_VOTE_ADD" if add else "MESSAGE_POLL_VOTE_REMOVE"
        await self.dispatch(
            event,
            {
                "user_id": str(user_id),
                "channel_id": message["channel_id"],
                "message_id": str(message_id),
                "guild_id": str(self.guild_id),
                "answer_id": answer_id,
            },
        )

    async def delete_channel(self, channel_id: int) -> None:
        """Dispatch CHANNEL_DELETE for one of the guild's channels."""
        await self.dispatch("CHANNEL_DELETE", self._channel(channel_id))

    # -- payloads ----------------------------------------------------------------------

    def _user(self, user_id: int, *, bot: bool = False) -> dict[str, Any]:
        name = "newsbrief" if bot else f"user{user_id % 1000}"
        return {
            "id": str(user_id),
            "username": name,
            "global_name": name,
            "discriminator": "0",
            "avatar": None,
            "bot": bot,
            "flags": 0,
            "public_flags": 0,
        }

    def _member(self, user_id: int, permissions: int) -> dict[str, Any]:
        return {
            "user": self._user(user_id),
            "roles": [],
            "joined_at": _iso(datetime.now(UTC)),
            "deaf": False,
            "mute": False,
            "flags": 0,
            "permissions": str(permissions),
        }

    def _channel(self, channel_id: int) -> dict[str, Any]:
        if channel_id in self.threads:
            return self._thread(channel_id)
        every = (*self.channel_ids, *self.forum_ids)
        return {
            "id": str(channel_id),
            "type": 15 if channel_id in self.forum_ids else 0,
            "guild_id": str(self.guild_id),
            "name": f"news-{channel_id % 1000}",
            "position": every.index(channel_id) if channel_id in every else 0,
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
            "topic": None,
            "last_message_id": None,
            "rate_limit_per_user": 0,
        }

    def _thread(self, thread_id: int) -> dict[str, Any]:
        thread = self.threads[thread_id]
        return {
            "id": str(thread_id),
            "type": 11,
            "guild_id": str(self.guild_id),
            "parent_id": str(thread["parent"]),
            "owner_id": str(self.bot_id),
            "name": thread["name"],
            "last_message_id": None,
            "message_count": 0,
            "member_count": 1,
            "rate_limit_per_user": 0,
            "flags": 0,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": 1440,
                "archive_timestamp": _iso(datetime.now(UTC)),
                "locked": False,
            },
        }

    def _guild(self) -> dict[str, Any]:
        return {
            "id": str(self.guild_id),
            "name": "Fake Guild",
            "icon": None,
            "owner_id": "1",
            "unavailable": False,
            "member_count": 2,
            "large": False,
            "features": [],
            "roles": [
                {
                    "id": str(self.guild_id),
                    "name": "@everyone",
                    "permissions": str(SEND_MESSAGES | VIEW_CHANNEL),
                    "position": 0,
                    "color": 0,
                    "hoist": False,
                    "managed": False,
                    "mentionable": False,
                    "flags": 0,
                }
            ],
            "channels": [self._channel(c) for c in (*self.channel_ids, *self.forum_ids)],
            "threads": [],
            "members": [self._member(self.bot_id, 0) | {"user": self._user(self.bot_id, bot=True)}],
            "emojis": [],
            "stickers": [],
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "joined_at": _iso(datetime.now(UTC)),
            "premium_tier": 0,
            "preferred_locale": "en-US",
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "system_channel_flags": 0,
        }

    def _application(self) -> dict[str, Any]:
        return {
            "id": str(self.app_id),
            "name": "newsbrief",
            "description": "",
            "icon": None,
            "rpc_origins": [],
            "bot_public": True,
            "bot_require_code_grant": False,
            "owner": self._user(1),
            "verify_key": "0" * 64,
            "flags": 0,
            "team": None,
            "summary": "",
        }

    def _message(
        self, channel_id: int, payload: dict[str, Any], message_id: int = 0, **extra: Any
    ) -> dict[str, Any]:
        message_id = message_id or next(self._ids)
        message: dict[str, Any] = {
            "id": str(message_id),
            "channel_id": str(channel_id),
            "guild_id": str(self.guild_id),
            "type": 0,
            "content": payload.get("content") or "",
            "author": self._user(self.bot_id, bot=True),
            "embeds": payload.get("embeds") or [],
            "attachments": [],
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "pinned": False,
            "tts": False,
            "flags": payload.get("flags", 0),
            "timestamp": _iso(datetime.now(UTC)),
            "edited_timestamp": None,
            "nonce": payload.get("nonce"),
            **extra,
        }
        if payload.get("poll"):
            message["poll"] = self._poll(payload["poll"])
        self.messages[message_id] = message
        return message

    def _poll(self, create: dict[str, Any]) -> dict[str, Any]:
        expiry = datetime.now(UTC) + timedelta(hours=create.get("duration", 24))
        return {
            "question": create["question"],
            "answers": [
                {"answer_id": i, "poll_media": a["poll_media"]}
                for i, a in enumerate(create["answers"], start=1)
            ],
            "expiry": _iso(expiry),
            "allow_multiselect": create.get("allow_multiselect", False),
            "layout_type": create.get("layout_type", 1),
            "results": {"is_finalized": False, "answer_counts": []},
        }

    def _poll_results(self, message_id: int, finalized: bool) -> dict[str, Any]:
        answers = [a["answer_id"] for a in self.messages[message_id]["poll"]["answers"]]
        voters = self.votes[message_id]
        return {
            "is_finalized": finalized,
            "answer_counts": [
                {"id": answer, "count": len(voters[answer]), "me_voted": False}
                for answer in answers
            ],
        }

    # -- gateway -----------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        self.gateway_query = dict(request.query)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        try:
            await ws.send_str(json.dumps({"op": HELLO, "d": {"heartbeat_interval": 45_000}}))
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    break
                await self._on_frame(ws, json.loads(msg.data))
        finally:
            self._sockets.remove(ws)
        return ws

    async def _on_frame(self, ws: web.WebSocketResponse, frame: dict[str, Any]) -> None:
        op = frame.get("op")
        if op == HEARTBEAT:
            await ws.send_str(json.dumps({"op": HEARTBEAT_ACK}))
        elif op == IDENTIFY:
            await self._identify(ws, frame["d"])
        elif op == RESUME:
            await ws.send_str(
                json.dumps({"op": DISPATCH, "t": "RESUMED", "s": next(self._seq), "d": {}})
            )
        await self._record_frame(frame)

    async def _identify(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> None:
        if data.get("token") != self.token:
            await ws.close(code=4004, message=b"Authentication failed.")
            return
        self.identify_count += 1
        ready = {
            "v": 10,
            "user": self._user(self.bot_id, bot=True),
            "guilds": [{"id": str(self.guild_id), "unavailable": True}],
            "session_id": f"session-{self.identify_count}",
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(self.app_id), "flags": 0},
        }
        for event, payload in (("READY", ready), ("GUILD_CREATE", self._guild())):
            frame = {"op": DISPATCH, "t": event, "s": next(self._seq), "d": payload}
            await ws.send_str(json.dumps(frame))

    async def _record_frame(self, frame: dict[str, Any]) -> None:
        async with self._changed:
            # The token arrives in IDENTIFY; never keep it where a test might print it.
            self.frames.append({k: v for k, v in frame.items() if k != "d"})
            self._changed.notify_all()

    # -- REST --------------------------------------------------------------------------

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        call = Call(request.method, path, dict(request.query))
        call.authorization = request.headers.get("Authorization", "")
        await self._read_body(request, call)
        response = self._route(request.method, path, call)
        call.status = response.status
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()
        return response

    async def _read_body(self, request: web.Request, call: Call) -> None:
        if request.content_type == JSON:
            call.json = await request.json()
        elif request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, BodyPartReader):
                    continue  # discord.py sends no nested multiparts
                data = await part.read()
                if part.name == "payload_json":
                    call.json = json.loads(data)
                else:
                    call.files.append(
                        {"name": part.name, "filename": part.filename, "data": bytes(data)}
                    )

    def _route(self, method: str, path: str, call: Call) -> web.Response:
        if not call.path.startswith(("/interactions/", "/webhooks/")) and (
            call.authorization != f"Bot {self.token}"
        ):
            return _error(401, 0, "401: Unauthorized")
        parts = path.strip("/").split("/")
        if parts[0] == "channels" and (fault := self._fault(int(parts[1]))) is not None:
            return fault
        handler = _ROUTES.get((method, _shape(parts)))
        if handler is None:
            return _error(404, 0, f"404: Not Found ({method} {path})")
        return handler(self, parts, call)

    def _fault(self, channel_id: int) -> web.Response | None:
        if channel_id not in (*self.channel_ids, *self.forum_ids, *self.threads):
            return _error(404, 10003, "Unknown Channel")
        if not self._faults[channel_id]:
            return None
        status = self._faults[channel_id].pop(0)
        if status == 0:
            return None
        if status == 429:
            body = {"message": "You are being rate limited.", "retry_after": self.retry_after}
            # Via marks a Discord (not Cloudflare) 429; without it discord.py gives up.
            return _reply(body | {"global": False}, 429, {"Via": "1.1 google"})
        code, message = _ERRORS.get(status, (0, "Error"))
        return _error(status, code, message)

    def _get_me(self, parts: list[str], call: Call) -> web.Response:
        return _reply(self._user(self.bot_id, bot=True))

    def _get_application(self, parts: list[str], call: Call) -> web.Response:
        return _reply(self._application())

    def _get_gateway(self, parts: list[str], call: Call) -> web.Response:
        limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
        return _reply({"url": self.gateway_url, "shards": 1, "session_start_limit": limit})

    def _put_commands(self, parts: list[str], call: Call) -> web.Response:
        scope = parts[3] if len(parts) > 4 else "global"
        synced = [
            cmd | {"id": str(next(self._ids)), "application_id": str(self.app_id), "version": "1"}
            for cmd in call.json
        ]
        self.commands[scope] = synced
        return _reply(synced)

    def _get_commands(self, parts: list[str], call: Call) -> web.Response:
        scope = parts[3] if len(parts) > 4 else "global"
        return _reply(self.commands.get(scope, []))

    def _post_message(self, parts: list[str], call: Call) -> web.Response:
        channel_id = int(parts[1])
        if channel_id in self.forum_ids:
            return _error(400, 50008, "Cannot send messages in a non-text channel")
        if self._bad_image(call.json or {}):
            return _error(400, 50035, "Invalid Form Body (embeds.0.image.url)")
        if (earlier := self._same_nonce(channel_id, call.json or {})) is not None:
            return _reply(earlier)  # Discord's dedup: the message the nonce already made
        attachments = [
            {
                "id": str(next(self._ids)),
                "filename": f["filename"],
                "size": len(f["data"]),
                "url": f"http://127.0.0.1:{self.port}/attachments/{f['filename']}",
                "proxy_url": f"http://127.0.0.1:{self.port}/attachments/{f['filename']}",
            }
            for f in call.files
        ]
        return _reply(self._message(channel_id, call.json or {}, attachments=attachments))

    def _bad_image(self, payload: dict[str, Any]) -> bool:
        """Whether a message's embed shows an image Discord refuses (not http(s), or one
        the test made bad)."""
        for embed in payload.get("embeds") or []:
            url = (embed.get("image") or {}).get("url")
            if url is not None and (url in self.bad_images or not url.startswith("http")):
                return True
        return False

    def _same_nonce(self, channel_id: int, payload: dict[str, Any]) -> dict[str, Any] | None:
        if not payload.get("enforce_nonce") or not payload.get("nonce"):
            return None
        for message in self.messages.values():
            if message["channel_id"] == str(channel_id) and message["nonce"] == payload["nonce"]:
                return message
        return None

    def _get_channel(self, parts: list[str], call: Call) -> web.Response:
        return _reply(self._channel(int(parts[1])))

    def _forum_post(self, parts: list[str], call: Call) -> web.Response:
        """A forum post: a thread whose starter message has the thread's id."""
        forum = int(parts[1])
        body = call.json or {}
        if forum not in self.forum_ids or not body.get("message"):
            return _error(400, 50035, "Invalid Form Body")
        if self._bad_image(body["message"]):
            return _error(400, 50035, "Invalid Form Body (message.embeds.0.image.url)")
        thread_id = next(self._ids)
        self.threads[thread_id] = {"parent": forum, "name": body.get("name", "")}
        starter = self._message(thread_id, body["message"], message_id=thread_id)
        return _reply(self._thread(thread_id) | {"message": starter})

    def _thread_on_message(self, parts: list[str], call: Call) -> web.Response:
        """A thread started on a message in a text channel: it takes the message's id."""
        channel_id, message_id = int(parts[1]), int(parts[3])
        message = self.messages.get(message_id)
        if message is None or message["channel_id"] != parts[1]:
            return _error(404, 10008, "Unknown Message")
        if message_id in self.threads:
            return _error(400, 160004, "A thread has already been created for this message")
        name = (call.json or {}).get("name", "")
        self.threads[message_id] = {"parent": channel_id, "name": name}
        return _reply(self._thread(message_id))

    def _get_message(self, parts: list[str], call: Call) -> web.Response:
        message = self.messages.get(int(parts[3]))
        if message is None or message["channel_id"] != parts[1]:
            return _error(404, 10008, "Unknown Message")
        return _reply(message)

    def _expire_poll(self, parts: list[str], call: Call) -> web.Response:
        message = self.messages.get(int(parts[3]))
        if message is None or "poll" not in message:
            return _error(404, 10008, "Unknown Message")
        message["poll"]["expiry"] = _iso(datetime.now(UTC))
        message["poll"]["results"] = self._poll_results(int(parts[3]), finalized=True)
        return _reply(message)

    def _interaction_callback(self, parts: list[str], call: Call) -> web.Response:
        body = call.json or {}
        interaction = {
            "id": parts[1],
            "type": 2,
            "response_message_loading": body.get("type") == 5,
            "response_message_ephemeral": bool((body.get("data") or {}).get("flags", 0) & 64),
        }
        return _reply({"interaction": interaction, "resource": {"type": body.get("type", 4)}})

    def _followup(self, parts: list[str], call: Call) -> web.Response:
        if self._bad_image(call.json or {}):
            return _error(400, 50035, "Invalid Form Body (embeds.0.image.url)")
        channel_id = self.interactions.get(parts[2], self.channel_ids[0])
        extra = {"webhook_id": parts[1], "application_id": parts[1]}
        return _reply(self._message(channel_id, call.json or {}, **extra))


_ERRORS = {
    400: (50035, "Invalid Form Body"),
    403: (50001, "Missing Access"),
    404: (10003, "Unknown Channel"),
}


def _shape(parts: list[str]) -> tuple[str, ...]:
    """A path with its ids replaced by ``{}``: ``channels/{}/messages``."""
    fixed = {
        "users",
        "@me",
        "oauth2",
        "applications",
        "gateway",
        "bot",
        "commands",
        "guilds",
        "channels",
        "messages",
        "polls",
        "expire",
        "threads",
        "interactions",
        "callback",
        "webhooks",
        "@original",
    }
    return tuple(p if p in fixed else "{}" for p in parts)


_Handler = Callable[[FakeDiscord, list[str], Call], web.Response]

_ROUTES: dict[tuple[str, tuple[str, ...]], _Handler] = {
    ("GET", ("users", "@me")): FakeDiscord._get_me,
    ("GET", ("oauth2", "applications", "@me")): FakeDiscord._get_application,
    ("GET", ("gateway",)): FakeDiscord._get_gateway,
    ("GET", ("gateway", "bot")): FakeDiscord._get_gateway,
    ("PUT", ("applications", "{}", "commands")): FakeDiscord._put_commands,
    ("PUT", ("applications", "{}", "guilds", "{}", "commands")): FakeDiscord._put_commands,
    ("GET", ("applications", "{}", "commands")): FakeDiscord._get_commands,
    ("GET", ("applications", "{}", "guilds", "{}", "commands")): FakeDiscord._get_commands,
    ("POST", ("channels", "{}", "messages")): FakeDiscord._post_message,
    ("GET", ("channels", "{}")): FakeDiscord._get_channel,
    ("POST", ("channels", "{}", "threads")): FakeDiscord._forum_post,
    ("POST", ("channels", "{}", "messages", "{}", "threads")): FakeDiscord._thread_on_message,
    ("GET", ("channels", "{}", "messages", "{}")): FakeDiscord._get_message,
    ("POST", ("channels", "{}", "polls", "{}", "expire")): FakeDiscord._expire_poll,
    ("POST", ("interactions", "{}", "{}", "callback")): FakeDiscord._interaction_callback,
    ("POST", ("webhooks", "{}", "{}")): FakeDiscord._followup,
    ("PATCH", ("webhooks", "{}", "{}", "messages", "@original")): FakeDiscord._followup,
}
