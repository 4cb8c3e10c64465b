"""The Telegram adapter, driving the real python-telegram-bot through a fake Bot API."""

from __future__ import annotations

import asyncio
import importlib.util
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.telegram import TelegramAdapter, create_adapter
from adapters.telegram.adapter import (
    ALLOWED_UPDATES,
    POLLING_TASK,
    channel_target,
    parse_command,
    quiet_expected_faults,
)
from bot.chat import commands
from bot.clock import ManualClock
from bot.errors import (
    ChatMigrated,
    ChatUnavailable,
    ConfigError,
    RateLimited,
    TransientDeliveryError,
)
from bot.redact import SecretFilter
from bot.types import (
    ChatRef,
    Command,
    Piece,
    PollCounts,
    PollPost,
    Post,
    Reply,
    ResultsPost,
    Sent,
    Source,
    StoryTold,
    StoryUpdate,
    VoteEvent,
)
from tests.fakes.telegram_api import (
    ANONYMOUS_ADMIN_ID,
    Call,
    Failure,
    FakeTelegramAPI,
    cant_parse,
    chat_not_found,
    flood,
    kicked,
    migrated,
    parse_html,
    utf16_len,
)

GROUP, CHANNEL, OTHER_CHANNEL, DM = -1001, -100500, -100600, 42
MEMBER, ADMIN = 7, 8


@dataclass(frozen=True)
class Membership:
    chat: ChatRef
    active: bool
    reason: str


@dataclass(frozen=True)
class Migration:
    old: ChatRef
    new: ChatRef


class FakeCore:
    """Records what the adapter tells the core; answers commands with :attr:`reply`."""

    def __init__(self) -> None:
        self.calls: list[object] = []
        self.reply = Reply("Here you go.")
        self.failure: Exception | None = None
        self._changed = asyncio.Condition()

    async def handle(self, command: Command) -> Reply:
        await self._record(command)
        if self.failure is not None:
            raise self.failure
        return self.reply

    async def chat_membership(self, chat: ChatRef, active: bool, reason: str) -> None:
        await self._record(Membership(chat, active, reason))

    async def chat_migrated(self, old: ChatRef, new: ChatRef) -> None:
        await self._record(Migration(old, new))

    async def record_vote(self, vote: VoteEvent) -> None:
        await self._record(vote)

    async def record_counts(self, counts: PollCounts) -> None:
        await self._record(counts)

    async def wait_for(self, count: int) -> list[object]:
        """Wait until the core got ``count`` calls; return them all."""
        async with asyncio.timeout(5), self._changed:
            await self._changed.wait_for(lambda: len(self.calls) >= count)
        return self.calls

    async def _record(self, call: object) -> None:
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()


@pytest.fixture
async def api() -> AsyncIterator[FakeTelegramAPI]:
    async with FakeTelegramAPI() as api:
        api.add_chat(GROUP, "supergroup")
        api.add_chat(CHANNEL, "channel", username="worldbrief")
        api.add_chat(OTHER_CHANNEL, "channel", username="otherbrief")
        api.add_chat(DM, "private")
        api.set_member(GROUP, ADMIN, "administrator")
        api.set_member(CHANNEL, DM, "creator")
        yield api


@pytest.fixture
def core() -> FakeCore:
    return FakeCore()


@pytest.fixture
async def adapter(
    api: FakeTelegramAPI, core: FakeCore, clock: ManualClock
) -> AsyncIterator[TelegramAdapter]:
    """An adapter started against the fake; its admin cache and flood waits run on the
    manual clock from tests/conftest.py."""
    adapter = TelegramAdapter(token=api.token, base_url=api.base_url, core=core, clock=clock)
    await adapter.start()
    yield adapter
    await adapter.stop()


def ref(chat_id: int | str) -> ChatRef:
    return ChatRef("telegram", str(chat_id))


def sent_to(chat_id: int | str, method: str = "sendMessage") -> Callable[[Call], bool]:
    return lambda call: call.method == method and call.chat_id == chat_id


# -- lifecycle ----------------------------------------------------------------------------


async def test_start_registers_commands_and_polls_for_the_updates_it_handles(
    api: FakeTelegramAPI, adapter: TelegramAdapter
) -> None:
    """start() sets the command menu and long-polls with the update types newsbrief uses."""
    await api.wait_for(lambda call: call.method == "getUpdates")
    assert [c["command"] for c in api.commands] == [name for name, _ in commands.menu()]
    assert api.allowed_updates == ALLOWED_UPDATES
    assert adapter.name == "telegram"
    assert adapter.limits.per_second == 30 and adapter.limits.per_chat_per_minute == 20


async def test_the_menu_is_the_cores_command_table(
    api: FakeTelegramAPI, adapter: TelegramAdapter
) -> None:
    """setMyCommands receives exactly the table's menu: every command, in /help order."""
    (call,) = [c for c in api.calls_to("setMyCommands") if "language_code" not in c.params]
    sent = [(c["command"], c["description"]) for c in call.params["commands"]]
    assert sent == commands.menu()
    assert [name for name, _ in sent] == [spec.name for spec in commands.COMMANDS]


async def test_the_menu_is_registered_in_every_shipped_locale(
    api: FakeTelegramAPI, adapter: TelegramAdapter
) -> None:
    """Users whose Telegram speaks German, Spanish or French see the menu in their
    language (setMyCommands with language_code); everyone else sees the English default."""
    await api.wait_for(lambda call: call.method == "getUpdates")
    assert set(api.menus) == {"", "de", "es", "fr"}
    german = {c["command"]: c["description"] for c in api.menus["de"]}
    assert german["latest"] == "Die neuesten Meldungen aus den Feeds dieses Chats"
    assert german["summary"].endswith(": /summary <Thema>")
    assert [c["command"] for c in api.menus["fr"]] == [s.name for s in commands.COMMANDS]
    assert api.menus["es"] != api.menus[""] and api.menus["fr"] != api.menus[""]
    assert api.menus[""] == api.commands


async def test_create_adapter_builds_a_working_adapter(
    api: FakeTelegramAPI, core: FakeCore
) -> None:
    """The composition root's factory gives an adapter that sends through base_url."""
    adapter = create_adapter(token=api.token, base_url=api.base_url, core=core, clock=ManualClock())
    await adapter.start()
    try:
        sent = await adapter.send(ref(GROUP), Reply("hello"), "nonce")
    finally:
        await adapter.stop()
    assert api.calls_to("sendMessage", GROUP)[0].visible_text == "hello"
    assert sent.message_id


async def test_a_stopped_adapter_refuses_sends_as_a_transient_failure(
    api: FakeTelegramAPI, core: FakeCore
) -> None:
    """Before start, or while a restart waits, sends and poll closes fail as transient
    delivery errors (retried later), never as adapter bugs."""
    idle = TelegramAdapter(token=api.token, base_url=api.base_url, core=core, clock=ManualClock())
    with pytest.raises(TransientDeliveryError, match="not connected"):
        await idle.send(ChatRef("telegram", str(GROUP)), Reply("hello"), "n")
    with pytest.raises(TransientDeliveryError, match="not connected"):
        await idle.close_poll(ChatRef("telegram", str(GROUP)), "12")
    await idle.wait_closed()  # not started: nothing to wait for


async def test_a_revoked_token_ends_wait_closed_with_the_reason(
    api: FakeTelegramAPI, adapter: TelegramAdapter
) -> None:
    """When Telegram stops accepting the token, PTB's poller gives up and wait_closed says
    why, so a supervisor notices; the adapter then stops cleanly."""
    api.revoke_token()
    with pytest.raises(ConfigError, match="refused the bot token"):
        await asyncio.wait_for(adapter.wait_closed(), 10)
    await adapter.stop()


async def test_a_refused_token_is_a_config_error(api: FakeTelegramAPI, core: FakeCore) -> None:
    """A token the Bot API refuses stops start() with a ConfigError that does not carry the
    token (PTB's own InvalidToken quotes it, so it is not chained)."""
    adapter = TelegramAdapter(
        token="999:WRONGTOKEN", base_url=api.base_url, core=core, clock=ManualClock()
    )
    with pytest.raises(ConfigError) as raised:
        await adapter.start()
    await adapter.stop()
    assert raised.value.__cause__ is None and raised.value.__suppress_context__
    assert "WRONGTOKEN" not in str(raised.value)


@pytest.mark.skipif(
    importlib.util.find_spec("tornado") is not None, reason="webhook extra is installed"
)
async def test_webhook_without_the_extra_is_a_config_error(
    api: FakeTelegramAPI, core: FakeCore
) -> None:
    """Webhook mode without python-telegram-bot[webhooks] fails clearly and cleans up."""
    adapter = TelegramAdapter(
        token=api.token, base_url=api.base_url, core=core, clock=ManualClock()
    )
    with pytest.raises(ConfigError, match="webhooks"):
        await adapter.start(webhook_url="https://bot.example.org/telegram", port=0)
    with pytest.raises(RuntimeError):
        await adapter.send(ref(GROUP), Reply("x"), "n")


async def test_token_never_reaches_the_logs(
    api: FakeTelegramAPI, core: FakeCore, caplog: pytest.LogCaptureFixture
) -> None:
    """A full start/command/send/failure/stop cycle logs at DEBUG without the bot token,
    with the composition root's secret filter installed (adapters filter nothing themselves)."""
    caplog.set_level(logging.DEBUG)
    secrets = SecretFilter([api.token])
    secrets.install()
    try:
        adapter = TelegramAdapter(
            token=api.token, base_url=api.base_url, core=core, clock=ManualClock()
        )
        await adapter.start()
        api.queue(api.message(GROUP, "/status", user_id=MEMBER))
        await api.wait_for(sent_to(GROUP))
        await adapter.send(ref(CHANNEL), Post("T", "S", "https://e.org", "E", 0), "n")
        api.fail(CHANNEL, kicked())
        with pytest.raises(ChatUnavailable):
            await adapter.send(ref(CHANNEL), Reply("x"), "n")
        # Whatever a library would log with the token in it gets redacted too.
        url = f"{api.base_url}{api.token}/getMe"
        logging.getLogger("httpx").warning("HTTP Request: POST %s", url)
        try:
            raise RuntimeError(url)
        except RuntimeError:
            logging.getLogger("telegram.ext.Updater").exception("failed")
        await adapter.stop()
    finally:
        secrets.uninstall()
    assert len(caplog.records) > 20
    secret = api.token.partition(":")[2]
    assert secret not in caplog.text
    assert all(secret not in record.getMessage() for record in caplog.records)
    assert "[redacted]" in caplog.text


# -- commands -----------------------------------------------------------------------------


async def test_group_member_command_is_answered_in_the_group(
    api: FakeTelegramAPI, core: FakeCore, adapter: TelegramAdapter
) -> None:
    """/summary from a group member reaches the core as a non-admin Command, and the reply
    with numbered sources answers the message in that group."""
    core.reply = Reply("Talks resumed [1].", (Source("Talks", "https://a.org/1", "world"),))
    update = api.message(GROUP, "/summary venezuela", user_id=MEMBER)
    api.queue(update)
    reply = await api.wait_for(sent_to(GROUP))
    assert core.calls == [Command("summary", "venezuela", ref(GROUP), str(MEMBER), False)]
    assert reply.params["parse_mode"] == "HTML"
    assert reply.visible_text == "Talks resumed [1].\n\n1. Talks — world"
    assert '<a href="https://a.org/1">Talks</a>' in reply.params["text"]
    assert reply.params["reply_parameters"]["message_id"] == update["message"]["message_id"]


async def test_command_addressed_to_this_bot_works_and_to_another_is_ignored(
    api: FakeTelegramAPI, core: FakeCore, adapter: TelegramAdapter
) -> None:
    """/summary@otherbot is left alone; /summary@newsbrief_bot is handled."""
    api.queue(
        api.message(GROUP, "/summary@otherbot chile", user_id=MEMBER),
        api.message(GROUP, "/nosuchcommand", user_id=MEMBER),
        api.message(GROUP, "/summary@newsbrief_bot venezuela", user_id=MEMBER),
    )
    await api.wait_for(sent_to(GROUP))
    assert core.calls == [Command("summary", "venezuela", ref(GROUP), str(MEMBER), False)]


async def test_command_in_a_channel_post_is_handled(
    api: FakeTelegramAPI, core: FakeCore, adapter: TelegramAdapter
) -> None:
    """A command posted in a channel (which CommandHandler ignores) reaches the core as the
    channel's admin, and the answer is posted in the channel."""
    api.queue(api.message(CHANNEL, "/latest"))
    reply = await api.wait_for(sent_to(CHANNEL))
    assert core.calls == [Command("latest", "", ref(CHANNEL), str(CHANNEL), True)]
    assert reply.visible_text == "Here you go."


async def test_start_is_help(
    api: FakeTelegramAPI, core: FakeCore, adapter: TelegramAdapter
) -> None:
    """/start (Telegram's first-visit button, maybe with a deep-link payload) is /help."""
    api.queue(api.message(DM, "/start payload", user_id=DM))
    await api.wait_for(sent_to(DM))
    assert core.calls == [Command("help", "", ref(DM), str(DM), True)]


@pytest.mark.parametrize(
    ("sender", "is_admin"),
    [
        ({"user_id": ADMIN}, True),
        ({"user_id": MEMBER}, False),
        ({"user_id": ANONYMOUS_ADMIN_ID, "sender_chat_id": GROUP}, True),
        ({"user_id": 777000, "sender_chat_id": OTHER_CHANNEL}, False),
    ],
    ids=["administrator", "member", "anonymous-admin", "linked-channel"],
)
async def test_admin_detection_in_groups(
    api: FakeTelegramAPI,
    core: FakeCore,
    adapter: TelegramAdapter,
    sender: dict[str, int],
    is_admin: bool,
) -> None:
    """In a group, is_admin follows getChatMember; an anonymous admin (posting as the group)
    is an admin, a post from another chat is not."""
    api.queue(api.message(GROUP, "/subscribe https://e.org/rss", **sender))
    await api.wait_for(sent_to(GROUP))
    [command] = core.calls
    assert isinstance(command, Command) and command.is_admin is is_admin
    assert command.args == "https://e.org/rss"


async def test_private_chat_user_is_admin_of_their_chat(
    api: FakeTelegramAPI, core: FakeCore, adapter: TelegramAdapter
) -> None:
    """In a private chat the user manages their own chat, without asking Telegram."""
    api.queue(api.message(DM, "/subscribe https://e.org/rss", user_id=DM))
    await api.wait_for(sent_to(DM))
    assert core.calls == [Command("subscribe", "https://e.org/rss", ref(DM), str(DM), True)]
    assert not api.calls_to("getChatMember")


async def test_admin_checks_are_cached_briefly(
    api: FakeTelegramAPI, core: FakeCore, adapter: TelegramAdapter, clock: ManualClock
) -> None:
    """A second command within a minute reuses the admin check; later it is asked again."""
    for expected_checks in (1, 1):
        api.queue(api.message(GROUP, "/feeds", user_id=ADMIN))
        await core.wait_for(len(core.calls) + 1)
        assert len(api.calls_to("getChatMember", GROUP)) == expected_checks
    await clock.advance(61)
    api.queue(api.message(GROUP, "/feeds", user_id=ADMIN))
    await core.wait_for(3)
    assert len(api.calls_to("getChatMember", GROUP)) == 2
    assert all(isinstance(c, Command) and c.is_admin for c in core.calls)


@pytest.mark.parametrize(
    ("user", "is_admin"), [(DM, True), (MEMBER, False)], ids=["channel-admin", "stranger"]
)
async def test_channel_managed_from_a_private_chat(
    api: FakeTelegramAPI, core: FakeCore, adapter: TelegramAdapter, user: int, is_admin: bool
) -> None:
    """/subscribe @channel <url> in a private chat acts on the channel (by its id), as admin
    only if Telegram says the user administers that channel; the answer comes back privately."""
    api.add_chat(user, "private")
    api.queue(api.message(user, "/subscribe @worldbrief https://e.org/rss", user_id=user))
    await api.wait_for(sent_to(user))
    assert core.calls == [
        Command("subscribe", "https://e.org/rss", ref(CHANNEL), str(user), is_admin)
    ]
    [check] = api.calls_to("getChatMember")
    assert check.params == {"chat_id": CHANNEL, "user_id": user}


async def test_a_failing_core_gets_a_polite_answer(
    api: FakeTelegramAPI, core: FakeCore, adapter: TelegramAdapter
) -> None:
    """If the core blows up on a command, the chat gets an apology, not silence."""
    core.failure = RuntimeError("boom")
    api.queue(api.message(GROUP, "/latest", user_id=MEMBER))
    reply = await api.wait_for(sent_to(GROUP))
    assert "went wrong" in reply.visible_text and "boom" not in reply.visible_text


# -- sending ------------------------------------------------------------------------------


async def test_post_is_one_message_with_valid_html_and_the_link(
    api: FakeTelegramAPI, adapter: TelegramAdapter
) -> None:
    """An article post is one sendMessage, parse_mode HTML, linking the article."""
    post = Post("Oil & gas", "Prices rose.", "https://ex.org/a?x=1&y=2", "Ex", 0)
    sent = await adapter.send(ChatRef("telegram", "@worldbrief"), post, "n")
    [call] = api.calls_to("sendMessage")
    assert call.chat_id == "@worldbrief" and call.params["parse_mode"] == "HTML"
    assert '<a href="https://ex.org/a?x=1&amp;y=2">Ex</a>' in call.params["text"]
    assert call.visible_text == "Oil & gas\n\nPrices rose.\n\nEx"
    assert sent == Sent(sent.message_id) and int(sent.message_id) > 0


async def test_hostile_long_title_becomes_valid_split_messages(
    api: FakeTelegramAPI, adapter: TelegramAdapter
) -> None:
    """A 5,000-character title full of <script>, & and </b> arrives as several messages,
    each accepted by Telegram, together showing the whole text."""
    title = "<script>&</b>" * 385
    sent = await adapter.send(ref(CHANNEL), Post(title, "Sum.", "https://e.org/", "E", 0), "n")
    calls = api.calls_to("sendMessage", CHANNEL)
    assert len(calls) == 2
    assert all(utf16_len(c.visible_text) <= 4096 for c in calls)
    assert "".join(c.visible_text for c in calls).startswith(title)
    assert "<script>" not in "".join(c.params["text"] for c in calls)
    assert sent.message_id == "1001"


async def test_unparseable_html_is_resent_once_as_plain_text(
    api: FakeTelegramAPI, adapter: TelegramAdapter
) -> None:
    """If Telegram answers "can't parse entities", the same visible text goes as plain."""
    api.fail(CHANNEL, cant_parse())
    await adapter.send(ref(CHANNEL), Post("A & B", "<i>x</i>", "https://e.org", "E", 0), "n")
    html_try, plain = api.calls_to("sendMessage", CHANNEL)
    assert html_try.params["parse_mode"] == "HTML" and "parse_mode" not in plain.params
    assert plain.params["text"] == parse_html(html_try.params["text"])


async def test_plain_text_is_tried_only_once(
    api: FakeTelegramAPI, adapter: TelegramAdapter
) -> None:
    """A second refusal is not retried again by the adapter: it is a delivery error."""
    api.fail(CHANNEL, cant_parse(), times=2)
    with pytest.raises(TransientDeliveryError):
        await adapter.send(ref(CHANNEL), Reply("x"), "n")
    assert len(api.calls_to("sendMessage", CHANNEL)) == 2


@pytest.mark.parametrize(
    ("failure", "error"),
    [
        (flood(7), RateLimited),
        (kicked(), ChatUnavailable),
        (chat_not_found(), ChatUnavailable),
        (migrated(-100777), ChatMigrated),
        (Failure(500, "Internal Server Error"), TransientDeliveryError),
        (Failure(400, "Bad Request: message is too long"), TransientDeliveryError),
    ],
    ids=["429", "403-kicked", "chat-not-found", "migrated", "500", "other-400"],
)
async def test_telegram_refusals_become_delivery_errors(
    api: FakeTelegramAPI, adapter: TelegramAdapter, failure: Failure, error: type[Exception]
) -> None:
    """Each Bot API refusal maps to the delivery error the dispatcher acts on."""
    api.fail(GROUP, failure)
    with pytest.raises(error) as raised:
        await adapter.send(ref(GROUP), Reply("hello"), "n")
    if isinstance(raised.value, RateLimited):
        assert raised.value.retry_after == 7
    if isinstance(raised.value, ChatMigrated):
        assert raised.value.new_chat_id == "-100777"
    if isinstance(raised.value, ChatUnavailable):
        assert raised.value.reason in (failure.description, "Chat not found")


async def test_unknown_chat_is_unavailable(adapter: TelegramAdapter) -> None:
    """A chat Telegram does not know pauses the channel (ChatUnavailable)."""
    with pytest.raises(ChatUnavailable, match="not found"):
        await adapter.send(ref(-100999), Post("T", "S", "https://e.org", "E", 0), "n")


class WatchedClock(ManualClock):
    """A manual clock that tells when someone starts sleeping on it."""

    def __init__(self) -> None:
        super().__init__()
        self.sleeping = asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        self.sleeping.set()  # the deadline is fixed before the first await below
        await super().sleep(seconds)


async def test_flood_wait_in_the_middle_of_a_split_post_is_sat_out(
    api: FakeTelegramAPI, core: FakeCore
) -> None:
    """A 429 on a later part waits retry_after and carries on, so the dispatcher never
    resends the parts that were already delivered."""
    clock = WatchedClock()
    adapter = TelegramAdapter(token=api.token, base_url=api.base_url, core=core, clock=clock)
    await adapter.start()
    api.fail(CHANNEL, flood(3), after=1)
    post = Post("word " * 1500, "S", "https://e.org", "E", 0)
    sending = asyncio.create_task(adapter.send(ref(CHANNEL), post, "n"))
    async with asyncio.timeout(5):
        await clock.sleeping.wait()
    await clock.advance(2.9)
    assert not sending.done()
    await clock.advance(0.1)
    sent = await sending
    await adapter.stop()
    parts = api.calls_to("sendMessage", CHANNEL)  # part 1, refused part 2, part 2 again
    assert len(parts) == 3 and parts[1].params == parts[2].params
    assert sent.message_id == "1001"


# -- polls --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("chat", "anonymous"), [(CHANNEL, True), ("@worldbrief", True), (GROUP, False)]
)
async def test_poll_is_anonymous_in_channels_only(
    api: FakeTelegramAPI, adapter: TelegramAdapter, chat: int | str, anonymous: bool
) -> None:
    """sendPoll is anonymous in a channel (the only kind allowed there) and not in groups,
    where per-user answers arrive; newsbrief closes polls itself (no open_period)."""
    poll = PollPost("Will talks succeed?", ("Yes", "No", "Unsure"), close_at=0)
    sent = await adapter.send(ref(chat), poll, "n")
    await adapter.send(ref(chat), poll, "n")
    call = api.calls_to("sendPoll")[0]
    assert call.params["is_anonymous"] is anonymous
    assert [o["text"] for o in call.params["options"]] == ["Yes", "No", "Unsure"]
    assert "open_period" not in call.params and "close_date" not in call.params
    assert sent.poll_id in api.polls and api.polls[sent.poll_id].message_id == int(sent.message_id)
    assert len(api.calls_to("getChat")) == 1  # the chat's type is remembered


async def test_poll_answers_reach_the_core_as_votes(
    api: FakeTelegramAPI, core: FakeCore, adapter: TelegramAdapter
) -> None:
    """A vote, a changed vote and a retraction arrive in order as VoteEvents."""
    sent = await adapter.send(ref(GROUP), PollPost("Q?", ("A", "B"), 0), "n")
    api.queue(
        api.poll_answer(sent.poll_id, MEMBER, [0]),
        api.poll_answer(sent.poll_id, MEMBER, [1]),
        api.poll_answer(sent.poll_id, MEMBER, []),
    )
    votes = await core.wait_for(3)
    assert votes == [
        VoteEvent("telegram", sent.poll_id, str(MEMBER), (0,)),
        VoteEvent("telegram", sent.poll_id, str(MEMBER), (1,)),
        VoteEvent("telegram", sent.poll_id, str(MEMBER), ()),
    ]


async def test_poll_updates_reach_the_core_as_counts(
    api: FakeTelegramAPI, core: FakeCore, adapter: TelegramAdapter
) -> None:
    """A channel poll's counts (the only thing channels give) are recorded, closed or not."""
    sent = await adapter.send(ref(CHANNEL), PollPost("Q?", ("A", "B"), 0), "n")
    api.queue(
        api.poll_state(sent.poll_id, [2, 5]), api.poll_state(sent.poll_id, [3, 5], closed=True)
    )
    assert await core.wait_for(2) == [
        PollCounts("telegram", sent.poll_id, (2, 5), False),
        PollCounts("telegram", sent.poll_id, (3, 5), True),
    ]


async def test_close_poll_stops_it_and_returns_final_counts(
    api: FakeTelegramAPI, adapter: TelegramAdapter
) -> None:
    """close_poll calls stopPoll and returns the counts; a poll that is gone or closed
    already gives None."""
    sent = await adapter.send(ref(CHANNEL), PollPost("Q?", ("A", "B"), 0), "n")
    api.polls[sent.poll_id].counts = [4, 1]
    assert await adapter.close_poll(ref(CHANNEL), sent.message_id) == (4, 1)
    [stop] = api.calls_to("stopPoll")
    assert stop.params == {"chat_id": CHANNEL, "message_id": int(sent.message_id)}
    assert await adapter.close_poll(ref(CHANNEL), sent.message_id) is None
    assert await adapter.close_poll(ref(CHANNEL), "999999") is None


async def test_close_poll_in_a_lost_chat_is_unavailable(
    api: FakeTelegramAPI, adapter: TelegramAdapter
) -> None:
    """stopPoll in a chat that kicked the bot raises ChatUnavailable, not None."""
    api.fail(GROUP, kicked())
    with pytest.raises(ChatUnavailable):
        await adapter.close_poll(ref(GROUP), "5")


async def test_results_go_as_a_photo_with_caption_and_the_rest_follows(
    api: FakeTelegramAPI, adapter: TelegramAdapter
) -> None:
    """Poll results: sendPhoto with the chart and a caption ≤ 1024; longer text follows."""
    text = "Yes 60% · No 40%. " * 100
    results = ResultsPost(Reply(text, title="Will talks succeed?"), chart_png=b"\x89PNG-chart")
    sent = await adapter.send(ref(GROUP), results, "n")
    [photo] = api.calls_to("sendPhoto", GROUP)
    assert photo.files["photo"] == b"\x89PNG-chart"
    assert photo.params["parse_mode"] == "HTML" and photo.params["caption"].startswith("<b>Will")
    assert utf16_len(photo.visible_text) <= 1024
    follow_ups = api.calls_to("sendMessage", GROUP)
    assert follow_ups and sent.message_id == "1001"
    shown = "".join(c.visible_text for c in [photo, *follow_ups])
    assert "".join(shown.split()) == "".join(("Will talks succeed?" + text).split())


async def test_results_without_a_chart_are_a_message(
    api: FakeTelegramAPI, adapter: TelegramAdapter
) -> None:
    """Without a chart image, results are sent as a plain message."""
    await adapter.send(ref(GROUP), ResultsPost(Reply("Yes 3, No 1")), "n")
    assert not api.calls_to("sendPhoto") and len(api.calls_to("sendMessage", GROUP)) == 1


# -- membership and migration -------------------------------------------------------------


@pytest.mark.parametrize(
    ("chat", "old", "new", "active"),
    [
        (GROUP, "member", "kicked", False),
        (GROUP, "member", "left", False),
        (GROUP, "left", "member", True),
        (CHANNEL, "left", "administrator", True),
        (CHANNEL, "administrator", "member", False),
    ],
)
async def test_my_chat_member_pauses_or_resumes_the_chat(
    api: FakeTelegramAPI,
    core: FakeCore,
    adapter: TelegramAdapter,
    chat: int,
    old: str,
    new: str,
    active: bool,
) -> None:
    """The bot being kicked, leaving or losing channel admin makes the chat inactive;
    being added makes it active; the reason says which."""
    api.queue(api.my_chat_member(chat, old, new))
    [membership] = await core.wait_for(1)
    assert isinstance(membership, Membership)
    assert (membership.chat, membership.active) == (ref(chat), active)
    assert membership.reason


async def test_group_upgrade_moves_the_chat(
    api: FakeTelegramAPI, core: FakeCore, adapter: TelegramAdapter
) -> None:
    """migrate_to_chat_id in a group tells the core the chat's new id."""
    api.add_chat(-55, "group")
    api.queue(api.migration(-55, -100555))
    assert await core.wait_for(1) == [Migration(ref(-55), ref(-100555))]


# -- pure helpers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("/summary venezuela oil", ("summary", "venezuela oil")),
        ("/SUMMARY@NewsBrief_Bot  x\ny ", ("summary", "x\ny")),
        ("/summary@otherbot x", None),
        ("/summaryx", None),
        ("/unknown", None),
        ("summary", None),
        ("/start deep-link", ("help", "")),
        ("/Start", ("help", "")),
        ("/results 2", ("results", "2")),
        ("/poll Should X? | Yes | No", ("poll", "Should X? | Yes | No")),
        ("/feeds please", ("feeds", "")),
    ],
)
def test_parse_command(text: str, parsed: tuple[str, str] | None) -> None:
    """Commands are recognised with their arguments, and only when addressed to us."""
    assert parse_command(text, "newsbrief_bot") == parsed


def test_channel_target() -> None:
    """A leading @name or -100 id names the channel a private-chat command is about."""
    assert channel_target("@worldbrief https://e.org") == ("@worldbrief", "https://e.org")
    assert channel_target("-100123 world") == ("-100123", "world")
    assert channel_target("https://e.org") is None
    assert channel_target("@ab x") is None


_COMMAND_TEXT = st.one_of(
    st.text(max_size=300),
    st.builds(
        lambda name, at, rest: f"/{name}{at}{rest}",
        st.sampled_from([*commands.names(), "START", "x", "summary_"]),
        st.sampled_from(["", "@newsbrief_bot", "@NEWSBRIEF_BOT", "@other", "@"]),
        st.text(max_size=300),
    ),
)


@settings(deadline=None)  # a busy CI machine must not fail a pure property
@given(_COMMAND_TEXT)
def test_any_message_is_a_known_command_with_its_own_text_or_nothing(text: str) -> None:
    """Any message text: None, or a command from the table whose argument is the text
    after the command, stripped (nothing added, nothing lost but the ends' spaces)."""
    parsed = parse_command(text, "newsbrief_bot")
    if parsed is None:
        return
    name, args = parsed
    assert name in commands.names()
    assert args == "" or (args == args.strip() and text.rstrip().endswith(args))
    assert len(args) <= len(text)


@settings(deadline=None)
@given(st.text(max_size=200))
def test_any_argument_names_a_channel_and_keeps_the_rest_or_nothing(args: str) -> None:
    """channel_target on any text: None, or a channel name it starts with and the rest of
    the text after it."""
    target = channel_target(args)
    if target is not None:
        channel, rest = target
        assert args.startswith(channel) and args.endswith(rest)
        assert channel.startswith(("@", "-100"))


def test_ptb_still_names_its_polling_task_as_we_look_for_it() -> None:
    """Fails loudly if a PTB upgrade renames the getUpdates loop the supervisor watches."""
    import inspect

    from telegram.ext import _updater

    assert f'name="{POLLING_TASK}"' in inspect.getsource(_updater)


async def test_bot_api_5xx_while_polling_is_one_warning_each_and_polling_goes_on(
    api: FakeTelegramAPI, core: FakeCore, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Telegram answering 500 to getUpdates is an expected fault: each failure is one
    WARNING line with the reason, no traceback is logged, and commands are answered once
    Telegram is back."""
    caplog.set_level(logging.DEBUG)
    api.fail_method("getUpdates", Failure(500, "Internal Server Error"), times=2)
    adapter = TelegramAdapter(token=api.token, base_url=api.base_url, core=core, clock=clock)
    undo = quiet_expected_faults()
    try:
        await adapter.start()
        api.queue(api.message(DM, "/help", user_id=DM))
        await api.wait_for(lambda c: c.method == "sendMessage" and c.chat_id == DM)
        await adapter.stop()
    finally:
        undo()
    failed = [
        r
        for r in caplog.records
        if r.levelno >= logging.WARNING and "Internal Server Error" in r.getMessage()
    ]
    assert [r.levelno for r in failed] == [logging.WARNING] * 2
    assert [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR] == []


async def test_telegram_errors_in_ptb_logs_lose_their_traceback_others_keep_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A record PTB logs about a Telegram error (here: its last getUpdates at shutdown
    failing) becomes one WARNING line with the reason; a record about another exception
    (a bug) keeps its traceback and level."""
    from telegram.error import NetworkError

    undo = quiet_expected_faults()
    try:
        logger = logging.getLogger("telegram.ext.Updater")
        for error in (NetworkError("Bad Gateway"), KeyError("bug")):
            try:
                raise error
            except Exception:
                logger.exception("Error while calling `get_updates` one more time")
    finally:
        undo()
    expected, bug = caplog.records[-2:]
    assert (expected.levelno, expected.exc_info) == (logging.WARNING, None)
    assert "Bad Gateway" in expected.getMessage()
    assert bug.levelno == logging.ERROR and bug.exc_info is not None


# -- stories and forum topics -------------------------------------------------------------

FORUM = -100700


def _update(reply_to: str, new: tuple[str, ...] = ("Three bridges collapsed.",)) -> StoryUpdate:
    told = StoryTold(1, new)
    return StoryUpdate(
        "Floods, day two", new, "https://news.test/2", "Outlet Two", 0.0, 3, reply_to, told
    )


async def test_posts_polls_and_results_go_into_the_channels_forum_topic(
    api: FakeTelegramAPI, adapter: TelegramAdapter
) -> None:
    """A channel naming a forum topic gets every message (post, poll, results) in it."""
    api.add_chat(FORUM, "supergroup", forum=True)
    topic = ChatRef("telegram", str(FORUM), "42")
    await adapter.send(
        topic, Post("Floods", "It rained.", "https://news.test/1", "Wire", 0.0), "n1"
    )
    poll = PollPost("Right or wrong?", ("Right", "Wrong"), close_at=0)
    await adapter.send(topic, poll, "n2")
    results = ResultsPost(Reply("Right 2, Wrong 1", title="Poll results"), b"\x89PNG")
    await adapter.send(topic, results, "n3")
    methods = [c for c in api.calls if c.chat_id == FORUM and c.method.startswith("send")]
    assert [c.method for c in methods] == ["sendMessage", "sendPoll", "sendPhoto"]
    assert all(c.params["message_thread_id"] == 42 for c in methods)
    assert set(api.topics.values()) == {42}


async def test_a_story_update_replies_to_the_storys_post(
    api: FakeTelegramAPI, adapter: TelegramAdapter
) -> None:
    """An update is one message replying to the story's post, with only what is new and
    the sources so far; the post being gone does not stop it."""
    post = await adapter.send(
        ref(GROUP), Post("Floods", "It rained.", "https://news.test/1", "Wire", 0.0), "n"
    )
    await adapter.send(ref(GROUP), _update(post.message_id), "u1")
    await adapter.send(ref(GROUP), _update("999999", ()), "u2")  # its post was deleted
    first, second = api.calls_to("sendMessage", GROUP)[1:]
    assert first.params["reply_parameters"]["message_id"] == int(post.message_id)
    assert first.params["reply_parameters"]["allow_sending_without_reply"] is True
    assert "Three bridges collapsed." in first.visible_text
    assert "Outlet Two" in first.visible_text and "3 sources so far" in first.visible_text
    assert "Three bridges" not in second.visible_text


async def test_a_command_in_a_topic_names_the_topic_and_is_answered_there(
    api: FakeTelegramAPI, adapter: TelegramAdapter, core: FakeCore
) -> None:
    """A command written in forum topic 42 reaches the core with the topic in its chat and
    is answered in that topic; a command in the group itself has no topic."""
    api.add_chat(FORUM, "supergroup", forum=True)
    api.queue(api.message(FORUM, "/help", user_id=MEMBER, topic=42))
    api.queue(api.message(GROUP, "/help", user_id=MEMBER))
    calls = await core.wait_for(2)
    assert [c.chat for c in calls if isinstance(c, Command)] == [
        ChatRef("telegram", str(FORUM), "42"),
        ref(GROUP),
    ]
    answer = await api.wait_for(sent_to(FORUM))
    assert answer.params["message_thread_id"] == 42
    group_answer = await api.wait_for(sent_to(GROUP))
    assert "message_thread_id" not in group_answer.params


# -- images -------------------------------------------------------------------------------

IMAGE = "https://img.test/harbour.jpg"


async def test_a_post_with_an_image_is_a_photo_with_its_caption(
    api: FakeTelegramAPI, adapter: TelegramAdapter
) -> None:
    """A post whose text fits a caption goes as sendPhoto of the image URL, the post as
    its HTML caption."""
    post = Post("Oil & gas", "Prices rose.", "https://ex.org/a", "Ex", 0, image=IMAGE)
    sent = await adapter.send(ref(CHANNEL), post, "n")
    [photo] = api.calls_to("sendPhoto", CHANNEL)
    assert photo.params["photo"] == IMAGE and photo.params["parse_mode"] == "HTML"
    assert photo.visible_text == "Oil & gas\n\nPrices rose.\n\nEx"
    assert api.calls_to("sendMessage", CHANNEL) == []
    assert int(sent.message_id) > 0


async def test_a_post_too_long_for_a_caption_shows_the_image_as_its_link_preview(
    api: FakeTelegramAPI, adapter: TelegramAdapter
) -> None:
    """A post over 1,024 units is a message whose link preview is the image, large and
    above the text; its later parts have the default preview."""
    post = Post(
        "Title", "A long summary sentence. " * 200, "https://ex.org/a", "Ex", 0, image=IMAGE
    )
    await adapter.send(ref(CHANNEL), post, "n")
    first, second = api.calls_to("sendMessage", CHANNEL)
    assert first.params["link_preview_options"] == {
        "url": IMAGE,
        "prefer_large_media": True,
        "show_above_text": True,
    }
    assert "link_preview_options" not in second.params
    assert api.calls_to("sendPhoto") == []


async def test_a_templated_post_previews_the_article_not_a_link_in_its_title(
    api: FakeTelegramAPI, adapter: TelegramAdapter
) -> None:
    """A post without an image asks Telegram to preview the article's page, not whatever
    link comes first in its text (a URL written in a feed's title)."""
    title = Piece("See https://elsewhere.test/x", "title")
    layout = (title, Piece(" "), Piece("https://ex.org/a", "url"))
    post = Post("t", "s", "https://ex.org/a", "Ex", 0, layout=layout)
    await adapter.send(ref(CHANNEL), post, "n")
    [message] = api.calls_to("sendMessage", CHANNEL)
    assert message.params["link_preview_options"] == {"url": "https://ex.org/a"}


async def test_a_refused_image_still_gives_the_post_without_it_and_one_warning(
    api: FakeTelegramAPI, adapter: TelegramAdapter, caplog: pytest.LogCaptureFixture
) -> None:
    """Telegram refusing the photo URL (400) gets the same post at once as a message
    without the image (its link preview the article's page), and one WARNING line."""
    api.bad_images.add(IMAGE)
    post = Post("Oil", "Prices rose.", "https://ex.org/a", "Ex", 0, image=IMAGE)
    with caplog.at_level(logging.WARNING):
        sent = await adapter.send(ref(CHANNEL), post, "n")
    [message] = api.calls_to("sendMessage", CHANNEL)
    assert message.visible_text == "Oil\n\nPrices rose.\n\nEx"
    assert message.params["link_preview_options"] == {"url": "https://ex.org/a"}
    assert int(sent.message_id) > 0
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "refused the image" in warnings[0].getMessage()
    assert not any(r.exc_info for r in caplog.records)
