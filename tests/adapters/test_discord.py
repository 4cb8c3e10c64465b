"""The Discord adapter end to end: a real discord.Client against the fake Discord on loopback."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import pytest

from adapters.discord import DiscordAdapter, create_adapter, quiet_expected_faults
from adapters.discord.adapter import (
    DiscordStartError,
    api_url,
    point_discord_at,
)
from adapters.discord.commands import (
    CatalogueTranslator,
    FileSyncState,
    add_commands,
    command_hash,
    use_catalogues,
)
from bot.chat.commands import ADMIN_ONLY, COMMANDS
from bot.clock import ManualClock
from bot.errors import ChatUnavailable, ConfigError, RateLimited, TransientDeliveryError
from bot.redact import SecretFilter
from bot.types import (
    ChatRef,
    Command,
    Piece,
    PollPost,
    Post,
    Reply,
    ResultsPost,
    Source,
    StoryTold,
    StoryUpdate,
    VoteEvent,
)
from tests.fakes.discord_api import ADMINISTRATOR, MANAGE_CHANNELS, SEND_MESSAGES, FakeDiscord

if TYPE_CHECKING:  # at run time discord comes through adapters.discord, which quiets it
    import discord
    from discord import app_commands

T = TypeVar("T")

TOKEN = "MTAxOTk5.fake-bot-token.s3cr3t-value"
NOW = 1_700_000_000.0
CHANNEL, OTHER_CHANNEL = 111111111111111111, 222222222222222222
CHAT = ChatRef("discord", str(CHANNEL))
FORUM = 333333333333333333
FORUM_CHAT = ChatRef("discord", str(FORUM))
READER, OTHER_READER = 424242424242424242, 434343434343434343


@dataclass
class FakeCore:
    """The service API with behaviour: canned replies, and a record of what adapters said."""

    replies: dict[str, Reply] = field(default_factory=dict)
    failing: set[str] = field(default_factory=set)
    commands: list[Command] = field(default_factory=list)
    votes: list[VoteEvent] = field(default_factory=list)
    memberships: list[tuple[ChatRef, bool, str]] = field(default_factory=list)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def handle(self, command: Command) -> Reply:
        await self._record(self.commands, command)
        if command.name in self.failing:
            raise RuntimeError(f"{command.name} broke")
        return self.replies.get(command.name, Reply(f"done: {command.name}"))

    async def chat_membership(self, chat: ChatRef, active: bool, reason: str) -> None:
        await self._record(self.memberships, (chat, active, reason))

    async def chat_migrated(self, old: ChatRef, new: ChatRef) -> None:
        raise AssertionError("Discord channels do not migrate")

    async def record_vote(self, vote: VoteEvent) -> None:
        await self._record(self.votes, vote)

    async def record_counts(self, counts: object) -> None:
        raise AssertionError("Discord reports votes per user, not counts")

    async def wait_for(self, predicate: Callable[[FakeCore], T]) -> T:
        """Wait until ``predicate(self)`` is truthy (bounded so a broken test fails)."""
        async with asyncio.timeout(5), self.changed:
            return await self.changed.wait_for(lambda: predicate(self))

    async def _record(self, into: list[T], item: T) -> None:
        async with self.changed:
            into.append(item)
            self.changed.notify_all()


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    """A fake Discord that discord.py is pointed at, as the composition root does."""
    fake = FakeDiscord(token=TOKEN, channels=(CHANNEL, OTHER_CHANNEL), forums=(FORUM,))
    async with fake as server:
        restore = point_discord_at(server.api_base_url, server.gateway_url)
        try:
            yield server
        finally:
            restore()


@pytest.fixture
def core() -> FakeCore:
    return FakeCore()


def _adapter(fake: FakeDiscord, core: FakeCore, **options: object) -> DiscordAdapter:
    return DiscordAdapter(
        token=TOKEN,
        core=core,
        clock=ManualClock(start=NOW),
        guild_ready_timeout=0.01,  # on_ready waits this long after the last guild
        **options,  # type: ignore[arg-type]
    )


@pytest.fixture
async def adapter(fake: FakeDiscord, core: FakeCore) -> AsyncIterator[DiscordAdapter]:
    started = _adapter(fake, core)
    await started.start()
    yield started
    await started.stop()


def _post(summary: str = "Talks resumed in Caracas.") -> Post:
    return Post("Venezuela talks", summary, "https://news.example/ve", "World", NOW)


# -- connecting ----------------------------------------------------------------------------


async def test_logs_in_and_gets_ready_through_the_overridden_urls(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    """REST login and the gateway handshake both reach the fake, with the bot token."""
    logins = fake.calls_to("GET", "/users/@me") + fake.calls_to("GET", "/oauth2/applications")
    assert [c.authorization for c in logins] == [f"Bot {TOKEN}"] * 2
    assert fake.identify_count == 1
    assert fake.gateway_query["encoding"] == "json"
    assert adapter.name == "discord"
    assert adapter.limits.concurrency == 4


async def test_the_adapter_leaves_discord_py_settings_alone(
    fake: FakeDiscord, core: FakeCore
) -> None:
    """Where discord.py connects is the composition root's process-wide choice: starting
    and stopping an adapter does not change it."""
    before = _discord_urls()
    started = _adapter(fake, core)
    await started.start()
    assert _discord_urls() == before
    await started.stop()
    assert _discord_urls() == before


def test_discord_py_still_reads_the_attributes_we_override() -> None:
    """Fails loudly if a discord.py upgrade moves Route.BASE or DEFAULT_GATEWAY."""
    import discord
    import yarl
    from discord.gateway import DiscordWebSocket

    assert isinstance(discord.http.Route.BASE, str)
    assert isinstance(DiscordWebSocket.DEFAULT_GATEWAY, yarl.URL)
    restore = point_discord_at("http://127.0.0.1:9/api", "ws://127.0.0.1:9/gw")
    try:
        url = discord.http.Route("GET", "/users/@me").url
        assert url == "http://127.0.0.1:9/api/v10/users/@me"
        assert _discord_urls()[1] == "ws://127.0.0.1:9/gw"
    finally:
        restore()
    assert _discord_urls() == ("https://discord.com/api/v10", "wss://gateway.discord.gg/")


def _discord_urls() -> tuple[str, str]:
    """Where discord.py sends REST requests and opens the gateway, right now."""
    import discord
    from discord.gateway import DiscordWebSocket

    return discord.http.Route.BASE, str(DiscordWebSocket.DEFAULT_GATEWAY)


def test_api_url_adds_the_version_only_when_missing() -> None:
    """Both ``.../api`` and ``.../api/v10`` work as DISCORD_API_BASE_URL."""
    assert api_url("http://h/api") == "http://h/api/v10"
    assert api_url("http://h/api/v10/") == "http://h/api/v10"


async def test_a_rejected_token_is_a_config_error(fake: FakeDiscord, core: FakeCore) -> None:
    """A wrong DISCORD_BOT_TOKEN stops start-up with a clear error, and cleans up."""
    wrong = DiscordAdapter(token="not-the-token", core=core, clock=ManualClock())
    with pytest.raises(ConfigError, match="DISCORD_BOT_TOKEN"):
        await wrong.start()
    await wrong.wait_closed()  # nothing left running


async def test_an_unreachable_discord_fails_start_clearly(core: FakeCore) -> None:
    """Nothing listening at the API URL: start raises DiscordStartError, not a hang."""
    async with FakeDiscord(token=TOKEN) as gone:
        api, gateway = gone.api_base_url, gone.gateway_url
    restore = point_discord_at(api, gateway)
    unreachable = DiscordAdapter(token=TOKEN, core=core, clock=ManualClock())
    try:
        with pytest.raises(DiscordStartError, match="cannot log in"):
            await unreachable.start()
    finally:
        restore()


async def test_factory_builds_an_adapter_the_root_can_start(
    fake: FakeDiscord, core: FakeCore, tmp_path: Path
) -> None:
    """``create_adapter`` is what the composition root calls; the result starts and sends."""
    built = create_adapter(
        token=TOKEN, core=core, clock=ManualClock(), sync_state_path=tmp_path / "discord-commands"
    )
    await built.start()
    try:
        sent = await built.send(CHAT, _post(), "nonce-factory")
    finally:
        await built.stop()
    assert fake.messages[int(sent.message_id)]["embeds"]


# -- command sync --------------------------------------------------------------------------


async def test_commands_sync_once_and_not_again_on_a_restart(
    fake: FakeDiscord, core: FakeCore, tmp_path: Path
) -> None:
    """The first start registers the commands; a restart with the same set does not."""
    state = FileSyncState(tmp_path / "discord-commands")
    for _ in range(2):
        started = _adapter(fake, core, sync_state=state)
        await started.start()
        await started.stop()
    syncs = fake.calls_to("PUT", f"/applications/{fake.app_id}/commands")
    assert len(syncs) == 1
    assert fake.identify_count == 2
    names = {c["name"] for c in syncs[0].json}
    assert names == {
        "summary", "latest", "subscribe", "unsubscribe", "feeds", "poll", "results", "filter",
        "preview", "status", "help",
    }  # fmt: skip


async def test_a_changed_command_set_syncs_again(
    fake: FakeDiscord, core: FakeCore, tmp_path: Path
) -> None:
    """When the remembered hash differs (new commands, another app), start syncs."""
    state = FileSyncState(tmp_path / "discord-commands")
    await state.save("hash-of-an-older-command-set")
    started = _adapter(fake, core, sync_state=state)
    await started.start()
    await started.stop()
    assert len(fake.calls_to("PUT", f"/applications/{fake.app_id}/commands")) == 1
    assert await state.load() != "hash-of-an-older-command-set"


async def test_descriptions_are_synced_in_every_locale_newsbrief_speaks(
    fake: FakeDiscord, core: FakeCore
) -> None:
    """The bulk overwrite carries each command's and option's description in German,
    Spanish (Spain and Latin America) and French; names stay the contract's English."""
    await _adapter(fake, core).sync_commands()
    (sync,) = fake.calls_to("PUT", f"/applications/{fake.app_id}/commands")
    synced = {c["name"]: c for c in sync.json}
    for command in synced.values():
        assert set(command["description_localizations"]) == {"de", "es-ES", "es-419", "fr"}
        assert not command.get("name_localizations")
    latest = synced["latest"]["description_localizations"]
    assert latest["de"] == "Die neuesten Meldungen aus den Feeds dieses Chats"
    assert latest["es-ES"] == "Las noticias más recientes de las fuentes de este chat"
    assert latest["fr"] == "Les dernières histoires des flux de ce chat"
    (topic,) = synced["summary"]["options"]
    assert topic["description_localizations"]["de"].startswith("Was zusammengefasst")
    assert synced["summary"]["description"] == "The state of a story, with numbered sources"


class _OtherWords(CatalogueTranslator):
    """A translator with other words: stands for a changed catalogue."""

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        return "Andere Worte" if locale.value == "de" else None


async def test_the_sync_hash_changes_with_the_translations() -> None:
    """A changed translation changes the remembered hash, so start (and ``discord sync``)
    pushes it; the same catalogues give the same hash."""
    import discord  # loaded already, quietly, by adapters.discord
    from discord import app_commands

    client = discord.Client(intents=discord.Intents.none())
    tree: app_commands.CommandTree[discord.Client] = app_commands.CommandTree(client)
    add_commands(tree, _run_nothing)
    untranslated = await command_hash(tree, 1)
    await use_catalogues(tree)
    translated = await command_hash(tree, 1)
    assert translated == await command_hash(tree, 1)
    await tree.set_translator(_OtherWords())
    assert len({untranslated, translated, await command_hash(tree, 1)}) == 3


async def _run_nothing(interaction: object, name: str, args: str) -> None:
    return None


async def test_sync_commands_works_without_connecting(fake: FakeDiscord, core: FakeCore) -> None:
    """``newsbrief discord sync`` registers over REST only: no gateway session."""
    count = await _adapter(fake, core).sync_commands()
    assert count == 11
    assert len(fake.calls_to("PUT", f"/applications/{fake.app_id}/commands")) == 1
    assert fake.identify_count == 0


async def test_typed_options_are_registered(fake: FakeDiscord, adapter: DiscordAdapter) -> None:
    """/summary takes a required string ``topic``; /subscribe defaults to Manage Channels."""
    commands = {c["name"]: c for c in fake.commands["global"]}
    (topic,) = commands["summary"]["options"]
    assert (topic["name"], topic["type"], topic["required"]) == ("topic", 3, True)
    assert commands["subscribe"]["options"][0]["name"] == "url"
    assert commands["unsubscribe"]["options"][0]["name"] == "feed"
    assert commands["subscribe"]["default_member_permissions"] == MANAGE_CHANNELS
    assert commands["latest"]["options"] == []


async def test_synced_commands_take_the_arguments_help_advertises(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    """The bulk-overwrite payloads: /poll takes an optional ``question`` and /results an
    optional ``poll``, like /poll Question? | A | B and /results 2 elsewhere."""
    (sync,) = fake.calls_to("PUT", f"/applications/{fake.app_id}/commands")
    options = {
        c["name"]: [(o["name"], o["type"], o["required"]) for o in c["options"]] for c in sync.json
    }
    assert options == {
        "summary": [("topic", 3, True)],
        "latest": [],
        "subscribe": [("url", 3, True)],
        "unsubscribe": [("feed", 3, True)],
        "feeds": [],
        "poll": [("question", 3, False)],
        "results": [("poll", 3, False)],
        "filter": [("rule", 3, False)],
        "preview": [],
        "status": [],
        "help": [],
    }


async def test_synced_options_carry_the_tables_descriptions_and_lengths(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    """Each command's description, and its option's description and length, are the
    core table's; Discord enforces the length before the core sees the text."""
    (sync,) = fake.calls_to("PUT", f"/applications/{fake.app_id}/commands")
    synced = {c["name"]: c for c in sync.json}
    for spec in COMMANDS:
        payload = synced[spec.name]
        assert payload["description"] == spec.summary
        if spec.arg is not None:
            (option,) = payload["options"]
            assert option["description"] == spec.arg.description
            assert (option["min_length"], option["max_length"]) == (1, spec.arg.max_chars)


async def test_exactly_the_admin_commands_need_manage_channels(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    """default_member_permissions is Manage Channels on /subscribe, /unsubscribe and /poll,
    and unset (everyone) on the rest."""
    (sync,) = fake.calls_to("PUT", f"/applications/{fake.app_id}/commands")
    permissions = {c["name"]: c["default_member_permissions"] for c in sync.json}
    assert {name for name, value in permissions.items() if value is not None} == ADMIN_ONLY
    assert all(permissions[name] == MANAGE_CHANNELS for name in ADMIN_ONLY)
    assert len(permissions) == len(COMMANDS)


# -- sending -------------------------------------------------------------------------------


async def test_a_post_is_one_embed_with_a_nonce_and_no_mentions(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    """A new article becomes one embed; the row's nonce is enforced; nothing can ping."""
    sent = await adapter.send(CHAT, _post(), "row-17-nonce")
    (call,) = fake.channel_posts(CHANNEL)
    (embed,) = call.json["embeds"]
    assert embed["title"] == "Venezuela talks"
    assert embed["url"] == "https://news.example/ve"
    assert embed["footer"]["text"] == "World"
    assert call.json["nonce"] == "row-17-nonce"
    assert call.json["enforce_nonce"] is True
    assert call.json["allowed_mentions"] == {"parse": []}
    assert sent.message_id == str(int(sent.message_id))


async def test_article_text_with_everyone_and_a_role_mention_pings_nobody(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    """Feed text cannot ping @everyone or a role: defused in the embed, parse [] on the send."""
    await adapter.send(CHAT, _post("Breaking @everyone, <@&123> read this"), "n-ping")
    (call,) = fake.channel_posts(CHANNEL)
    assert call.json["allowed_mentions"] == {"parse": []}
    description = call.json["embeds"][0]["description"]
    assert "@everyone" not in description
    assert "<@&123>" not in description


async def test_a_reply_with_a_mention_is_sent_without_parsing_it(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    """Plain content (model text) gets the same guard."""
    await adapter.send(CHAT, Reply("Hey @everyone <@&123>"), "n-reply")
    (call,) = fake.channel_posts(CHANNEL)
    assert call.json["allowed_mentions"] == {"parse": []}
    assert "@everyone" not in call.json["content"]


async def test_a_long_reply_is_several_messages_with_distinct_nonces(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    """Over 2000 characters: split, and each part has its own nonce so none is deduplicated."""
    text = "\n\n".join(f"Paragraph {i}. " + "word " * 150 for i in range(6))
    sent = await adapter.send(CHAT, Reply(text), "n-long")
    calls = fake.channel_posts(CHANNEL)
    assert len(calls) > 1
    assert all(len(c.json["content"]) <= 2000 for c in calls)
    nonces = [c.json["nonce"] for c in calls]
    assert nonces[0] == "n-long"
    assert len(set(nonces)) == len(nonces)
    assert all(len(n) <= 25 for n in nonces)
    assert sent.message_id == str(min(fake.messages))  # the first part's id


async def test_a_resend_with_the_same_nonce_is_deduplicated(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    """A post resent after a crash (same outbox row, same nonce) is one message on Discord."""
    first = await adapter.send(CHAT, _post(), "row-5")
    again = await adapter.send(CHAT, _post(), "row-5")
    assert again.message_id == first.message_id
    assert len(fake.messages) == 1


async def test_a_429_is_retried_by_discord_py_and_delivered(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    """One 429 (with Via and retry_after): discord.py waits, retries, one message lands."""
    fake.fail_next(CHANNEL, 429)
    await adapter.send(CHAT, _post(), "n-429")
    statuses = [c.status for c in fake.calls_to("POST", f"/channels/{CHANNEL}/messages")]
    assert statuses == [429, 200]
    assert len(fake.messages) == 1


async def test_a_long_429_becomes_the_cores_rate_limited(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    """A 429 asking for more than 30 s is not slept through: that channel waits instead."""
    fake.retry_after = 120.0
    fake.fail_next(CHANNEL, 429)
    with pytest.raises(RateLimited) as caught:
        await adapter.send(CHAT, _post(), "n-slow")
    assert caught.value.retry_after == 120.0
    assert fake.messages == {}


@pytest.mark.parametrize("status", [403, 404])
async def test_forbidden_or_unknown_channel_is_chat_unavailable(
    fake: FakeDiscord, adapter: DiscordAdapter, status: int
) -> None:
    """403 and 404 pause the channel (ChatUnavailable) with Discord's reason, no retry."""
    fake.fail_next(CHANNEL, status)
    with pytest.raises(ChatUnavailable, match=f"Discord {status}"):
        await adapter.send(CHAT, _post(), "n-gone")
    assert len(fake.calls_to("POST", f"/channels/{CHANNEL}/messages")) == 1


async def test_a_channel_discord_does_not_know_is_chat_unavailable(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    """A configured id that is no channel answers 404 Unknown Channel."""
    with pytest.raises(ChatUnavailable, match="Unknown Channel"):
        await adapter.send(ChatRef("discord", "999999999999999999"), _post(), "n-unknown")


async def test_other_errors_are_transient(fake: FakeDiscord, adapter: DiscordAdapter) -> None:
    """A 400 (or anything not 403/404/429) is retried later by the dispatcher."""
    fake.fail_next(CHANNEL, 400)
    with pytest.raises(TransientDeliveryError, match="Discord 400"):
        await adapter.send(CHAT, _post(), "n-400")


async def test_sending_before_start_is_transient(core: FakeCore) -> None:
    """The dispatcher may run before the gateway is up; that is a retry, not a pause."""
    idle = DiscordAdapter(token=TOKEN, core=core, clock=ManualClock())
    with pytest.raises(TransientDeliveryError):
        await idle.send(CHAT, _post(), "n-early")


async def test_results_are_text_with_the_chart_attached(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    """A ResultsPost is a message with the reply text and the PNG as a file."""
    png = b"\x89PNG\r\n\x1a\nfake-chart"
    results = ResultsPost(Reply("Yes 2, No 1", title="Should talks go on?"), png)
    await adapter.send(CHAT, results, "n-results")
    (call,) = fake.channel_posts(CHANNEL)
    assert "Yes 2, No 1" in call.json["content"]
    assert call.json["allowed_mentions"] == {"parse": []}
    (chart,) = call.files
    assert (chart["filename"], chart["data"]) == ("results.png", png)


# -- polls ---------------------------------------------------------------------------------


async def _open_poll(adapter: DiscordAdapter) -> int:
    poll = PollPost("Should talks go on?", ("Yes", "No"), close_at=NOW + 90 * 60)
    sent = await adapter.send(CHAT, poll, "n-poll")
    assert sent.poll_id == sent.message_id
    return int(sent.message_id)


async def test_a_poll_is_a_native_discord_poll(fake: FakeDiscord, adapter: DiscordAdapter) -> None:
    """Question, answers, single choice, and the duration rounded up to whole hours."""
    await _open_poll(adapter)
    (call,) = fake.channel_posts(CHANNEL)
    poll = call.json["poll"]
    assert poll["question"] == {"text": "Should talks go on?"}
    assert [a["poll_media"]["text"] for a in poll["answers"]] == ["Yes", "No"]
    assert poll["duration"] == 2
    assert poll["allow_multiselect"] is False
    assert call.json["nonce"] == "n-poll"
    assert call.json["allowed_mentions"] == {"parse": []}


async def test_votes_and_retractions_reach_the_core(
    fake: FakeDiscord, core: FakeCore, adapter: DiscordAdapter
) -> None:
    """MESSAGE_POLL_VOTE_ADD gives the 0-based option; REMOVE gives a retraction."""
    message_id = await _open_poll(adapter)
    await fake.vote(message_id, READER, 2, add=True)
    await fake.vote(message_id, READER, 2, add=False)
    await core.wait_for(lambda c: len(c.votes) == 2)
    poll_id, user = str(message_id), str(READER)
    assert core.votes == [
        VoteEvent("discord", poll_id, user, (1,)),
        VoteEvent("discord", poll_id, user, ()),
    ]


async def test_close_poll_ends_it_and_returns_final_counts(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    """At close time the poll is expired on Discord and its final counts read back."""
    message_id = await _open_poll(adapter)
    await fake.vote(message_id, READER, 1, add=True)
    await fake.vote(message_id, OTHER_READER, 2, add=True)
    await fake.vote(message_id, 999, 1, add=True)
    counts = await adapter.close_poll(CHAT, str(message_id))
    assert counts == (2, 1)
    assert len(fake.calls_to("POST", f"/channels/{CHANNEL}/polls/{message_id}/expire")) == 1


async def test_close_poll_on_a_vanished_message_is_none(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    """A deleted poll message has no counts to give."""
    assert await adapter.close_poll(CHAT, "123456789012345678") is None


async def test_close_poll_after_discord_ended_it_reads_the_counts(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    """If Discord already finalized the poll, the counts are read without ending it twice."""
    message_id = await _open_poll(adapter)
    await fake.vote(message_id, READER, 2, add=True)
    await adapter.close_poll(CHAT, str(message_id))
    assert await adapter.close_poll(CHAT, str(message_id)) == (0, 1)
    assert len(fake.calls_to("POST", f"/channels/{CHANNEL}/polls/{message_id}/expire")) == 1


# -- slash commands ------------------------------------------------------------------------


async def test_summary_defers_then_follows_up_with_numbered_sources(
    fake: FakeDiscord, core: FakeCore, adapter: DiscordAdapter
) -> None:
    """/summary topic:venezuela: a deferred response first, then the reply as a follow-up."""
    core.replies["summary"] = Reply(
        "Talks resumed in Caracas.", (Source("Talks", "https://news.example/ve", "world"),)
    )
    interaction_id, token = await fake.interact("summary", {"topic": "venezuela"}, user_id=READER)
    followups = await fake.wait_for(lambda f: f.calls_to("POST", f"/webhooks/{f.app_id}/{token}"))
    (callback,) = fake.calls_to("POST", f"/interactions/{interaction_id}/{token}/callback")
    assert callback.json["type"] == 5  # deferred channel message: "newsbrief is thinking..."
    assert fake.calls.index(callback) < fake.calls.index(followups[0])
    content = followups[0].json["content"]
    assert content.startswith("Talks resumed in Caracas.")
    assert "1. Talks (world) — <https://news.example/ve>" in content
    assert followups[0].json["allowed_mentions"] == {"parse": []}
    assert core.commands == [
        Command("summary", "venezuela", CHAT, str(READER), is_admin=False, locale="en-US"),
    ]


@pytest.mark.parametrize(
    ("permissions", "is_admin"),
    [(SEND_MESSAGES, False), (SEND_MESSAGES | MANAGE_CHANNELS, True), (ADMINISTRATOR, True)],
    ids=["member", "manage-channels", "administrator"],
)
async def test_subscribe_says_whether_the_user_may_change_the_channel(
    fake: FakeDiscord, core: FakeCore, adapter: DiscordAdapter, permissions: int, is_admin: bool
) -> None:
    """is_admin comes from the member's resolved permissions in that channel, at run time."""
    url = "https://feeds.example/world.rss"
    await fake.interact(
        "subscribe", {"url": url}, channel_id=OTHER_CHANNEL, permissions=permissions
    )
    (command,) = await core.wait_for(lambda c: c.commands)
    assert command == Command(
        "subscribe", url, ChatRef("discord", str(OTHER_CHANNEL)), str(READER), is_admin, "en-US"
    )


@pytest.mark.parametrize(
    ("name", "options", "args"),
    [
        ("poll", {"question": "Should X? | Yes | No"}, "Should X? | Yes | No"),
        ("poll", {}, ""),
        ("results", {"poll": "2"}, "2"),
        ("results", {}, ""),
    ],
    ids=["custom-poll", "poll-on-latest", "results-of-poll-2", "latest-results"],
)
async def test_an_optional_option_reaches_the_core_as_the_argument_text(
    fake: FakeDiscord,
    core: FakeCore,
    adapter: DiscordAdapter,
    name: str,
    options: dict[str, str],
    args: str,
) -> None:
    """/poll question:… and /results poll:2 arrive as on Telegram; left out, args is ""."""
    await fake.interact(name, options, permissions=MANAGE_CHANNELS)
    (command,) = await core.wait_for(lambda c: c.commands)
    assert command == Command(name, args, CHAT, str(READER), is_admin=True, locale="en-US")


async def test_a_failing_command_gets_an_apology_not_silence(
    fake: FakeDiscord, core: FakeCore, adapter: DiscordAdapter
) -> None:
    """An unexpected error in the core becomes one ephemeral apology, and is logged."""
    core.failing.add("status")
    _, token = await fake.interact("status")
    (followup,) = await fake.wait_for(lambda f: f.calls_to("POST", f"/webhooks/{f.app_id}/{token}"))
    assert followup.json["content"].startswith("Sorry")
    assert followup.json["flags"] & 64


async def test_a_deleted_channel_is_reported_to_the_core(
    fake: FakeDiscord, core: FakeCore, adapter: DiscordAdapter
) -> None:
    """CHANNEL_DELETE tells the core the bot lost that channel."""
    await fake.delete_channel(OTHER_CHANNEL)
    memberships = await core.wait_for(lambda c: c.memberships)
    assert memberships == [(ChatRef("discord", str(OTHER_CHANNEL)), False, "channel deleted")]


# -- the token -----------------------------------------------------------------------------


async def test_the_token_never_reaches_the_logs(
    fake: FakeDiscord, core: FakeCore, caplog: pytest.LogCaptureFixture
) -> None:
    """At DEBUG, through login, a send, a command and shutdown, the token is never logged
    with the composition root's secret filter installed (the adapter filters nothing)."""
    caplog.set_level(logging.DEBUG)
    secrets = SecretFilter([TOKEN])
    secrets.install()
    try:
        started = _adapter(fake, core)
        await started.start()
        await started.send(CHAT, _post(), "n-log")
        _, token = await fake.interact("help")
        await fake.wait_for(lambda f: f.calls_to("POST", f"/webhooks/{f.app_id}/{token}"))
        logging.getLogger("discord.http").debug("leaked header: Bot %s", TOKEN)
        await started.stop()
    finally:
        secrets.uninstall()
    assert caplog.records
    assert TOKEN not in caplog.text
    assert "leaked header: Bot [redacted]" in caplog.text


def test_discord_py_reconnect_records_are_one_warning_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """discord.py logs a reconnect after a network fault with a traceback; installed by
    the platform setup, the filter makes it one WARNING line with the reason, while a bug
    in an event handler keeps its traceback."""
    undo = quiet_expected_faults()
    try:
        logger = logging.getLogger("discord.client")
        for error in (ConnectionResetError("gateway reset"), ValueError("bug in a handler")):
            try:
                raise error
            except Exception:
                logger.exception("Attempting a reconnect in 1.00s")
    finally:
        undo()
    fault, bug = caplog.records[-2:]
    assert (fault.levelno, fault.exc_info) == (logging.WARNING, None)
    assert "gateway" in fault.getMessage().lower()
    assert bug.levelno == logging.ERROR and bug.exc_info is not None


# -- stories: threads and forum posts --------------------------------------------------------


def _update(
    reply_to: str, thread: str = "", new: tuple[str, ...] = ("Bridges fell.",)
) -> StoryUpdate:
    told = StoryTold(1, new)
    return StoryUpdate(
        "Talks, day two",
        new,
        "https://news.example/2",
        "Wire",
        NOW,
        2,
        reply_to,
        told,
        thread,
        story_title="Venezuela talks",
    )


async def test_a_forum_channel_gets_a_forum_post_per_story_with_all_of_it_inside(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    """A post to a forum opens a forum post named after it; its update, poll and results
    go inside, and the poll closes there."""
    sent = await adapter.send(FORUM_CHAT, _post(), "n1")
    [thread] = fake.threads_of(FORUM)
    assert sent.thread == str(thread) and fake.threads[thread]["name"] == "Venezuela talks"
    await adapter.send(FORUM_CHAT, _update(sent.message_id, sent.thread), "n2")
    poll = await adapter.send(
        FORUM_CHAT,
        PollPost("Will talks succeed?", ("Yes", "No"), NOW + 3600, thread=sent.thread),
        "n3",
    )
    results = ResultsPost(Reply("Yes 1", title="Poll results"), thread=sent.thread)
    await adapter.send(FORUM_CHAT, results, "n4")
    assert len(fake.channel_posts(thread)) == 3 and fake.channel_posts(FORUM) == []
    assert poll.message_id.startswith(f"{thread}/")
    assert await adapter.close_poll(FORUM_CHAT, poll.message_id) == (0, 0)


async def test_a_text_channel_threads_updates_on_the_storys_post(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    """The first update starts a thread on the story's post and goes in it; an update
    sent again before its thread was recorded (a crash) finds the thread there."""
    post = await adapter.send(CHAT, _post(), "n1")
    first = await adapter.send(CHAT, _update(post.message_id), "n2")
    again = await adapter.send(CHAT, _update(post.message_id), "n3")
    assert fake.threads_of(CHANNEL) == [int(post.message_id)]
    assert first.thread == again.thread == post.message_id
    [update, _] = fake.channel_posts(int(post.message_id))
    embed = update.json["embeds"][0]
    assert embed["description"] == "Bridges fell." and "2 sources so far" in embed["footer"]["text"]
    assert len(fake.channel_posts(CHANNEL)) == 1


async def test_an_update_whose_post_is_gone_starts_the_story_again(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    """A story's post deleted from a text channel, or its forum post gone: the update is
    posted anew there instead of pausing the channel."""
    await adapter.send(CHAT, _update("123456789012345678"), "n1")
    assert len(fake.channel_posts(CHANNEL)) == 1
    sent = await adapter.send(FORUM_CHAT, _update("1", thread="123456789012345678"), "n2")
    [thread] = fake.threads_of(FORUM)
    assert sent.thread == str(thread) and fake.threads[thread]["name"] == "Venezuela talks"


# -- images and templates ----------------------------------------------------------------

IMAGE = "https://img.test/caracas.jpg"


async def test_a_post_with_an_image_shows_it_in_its_embed(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    """A post's image is its embed's image."""
    await adapter.send(CHAT, replace(_post(), image=IMAGE), "n-image")
    (call,) = fake.channel_posts(CHANNEL)
    (embed,) = call.json["embeds"]
    assert embed["image"] == {"url": IMAGE}


async def test_a_refused_image_still_gives_the_post_without_it_and_one_warning(
    fake: FakeDiscord, adapter: DiscordAdapter, caplog: pytest.LogCaptureFixture
) -> None:
    """Discord refusing the embed's image (400) gets the same post at once without it,
    and one WARNING line; in a forum too."""
    fake.bad_images.add(IMAGE)
    with caplog.at_level(logging.WARNING):
        await adapter.send(CHAT, replace(_post(), image=IMAGE), "n-bad")
        forum = await adapter.send(FORUM_CHAT, replace(_post(), image=IMAGE), "f")
    (call,) = fake.channel_posts(CHANNEL)
    (embed,) = call.json["embeds"]
    assert "image" not in embed and embed["title"] == "Venezuela talks"
    assert forum.thread and fake.threads_of(FORUM) == [int(forum.thread)]
    warnings = [r for r in caplog.records if "refused the image" in r.getMessage()]
    assert len(warnings) == 2 and not any(r.exc_info for r in warnings)


async def test_a_template_post_is_escaped_content_with_the_image_embed(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    """A templated post is message content, its values escaped and pinging nobody, the
    image in an embed of its own; a long one is split with a nonce per message."""
    layout = (
        Piece("**@everyone** *bold* {summary}", "title"),
        Piece("\n"),
        Piece("Summary. " * 300, "summary"),
    )
    post = replace(_post(), image=IMAGE, layout=layout)
    await adapter.send(CHAT, post, "n-template")
    first, *rest = fake.channel_posts(CHANNEL)
    assert first.json["content"].startswith("\\*\\*@\u200beveryone\\*\\* \\*bold\\* {summary}")
    (embed,) = first.json["embeds"]
    assert embed["image"] == {"url": IMAGE} and "description" not in embed
    assert rest and all(len(c.json["content"]) <= 2000 for c in [first, *rest])
    assert len({c.json["nonce"] for c in [first, *rest]}) == len(rest) + 1


async def test_a_later_part_refused_leaves_the_post_sent_and_one_warning(
    fake: FakeDiscord, adapter: DiscordAdapter, caplog: pytest.LogCaptureFixture
) -> None:
    """A long templated post whose second message Discord refuses counts as sent (its
    first message is out: a resend would repeat it), with one WARNING naming the part."""
    layout = (Piece("Harbour", "title"), Piece("\n"), Piece("Summary. " * 300, "summary"))
    fake.fail_next(CHANNEL, 0, 403)
    with caplog.at_level(logging.WARNING):
        sent = await adapter.send(CHAT, replace(_post(), layout=layout), "n-part")
    (first,) = fake.channel_posts(CHANNEL)
    assert sent.message_id
    assert first.json["content"].startswith("Harbour")
    (warning,) = [r for r in caplog.records if "refused part 2" in r.getMessage()]
    assert warning.levelno == logging.WARNING and not warning.exc_info


async def test_slash_preview_shows_the_post_without_an_image_discord_refuses(
    fake: FakeDiscord, core: FakeCore, adapter: DiscordAdapter
) -> None:
    """/preview's post whose image Discord refuses (400) is shown without it, as the real
    post would be sent, never leaving the preview without its post."""
    fake.bad_images.add(IMAGE)
    core.replies["preview"] = Reply("✓ Venezuela talks", post=replace(_post(), image=IMAGE))
    _, token = await fake.interact("preview", {}, permissions=MANAGE_CHANNELS)
    reply, refused, shown = await fake.wait_for(
        lambda f: (calls := f.calls_to("POST", f"/webhooks/{f.app_id}/{token}"))[2:] and calls
    )
    assert "Venezuela talks" in reply.json["content"] and refused.status == 400
    (embed,) = shown.json["embeds"]
    assert (shown.status, embed["title"]) == (200, "Venezuela talks") and "image" not in embed


async def test_slash_preview_shows_the_post_after_the_reply(
    fake: FakeDiscord, core: FakeCore, adapter: DiscordAdapter
) -> None:
    """/preview's reply is followed by the post as the channel gets it: its embed, with
    the image."""
    post = replace(_post(), image=IMAGE)
    core.replies["preview"] = Reply("✓ Venezuela talks", title="Preview", post=post)
    _, token = await fake.interact("preview", {}, permissions=MANAGE_CHANNELS)
    reply, shown = await fake.wait_for(
        lambda f: (calls := f.calls_to("POST", f"/webhooks/{f.app_id}/{token}"))[1:] and calls
    )
    assert "Venezuela talks" in reply.json["content"]
    (embed,) = shown.json["embeds"]
    assert embed["title"] == "Venezuela talks" and embed["image"] == {"url": IMAGE}
