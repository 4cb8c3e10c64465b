"""Stories end to end: two outlets' reports of one event make one post and one update in
reply to it, in a Telegram group, a Telegram forum topic, a Discord text channel (a thread
on the post) and a Discord forum (one forum post per story), through the whole bot and the
fakes; ``stories --json`` lists them as one story."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bot.app.settings import Settings
from bot.clock import ManualClock
from tests.bot.app.test_cli import env_for, newsbrief
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.http_server import LocalServer
from tests.fakes.telegram_api import Call, FakeTelegramAPI
from tests.harness import rss, running_bot

GROUP, FORUM, TOPIC = -1001, -1003, 42
TEXT_CHANNEL, FORUM_CHANNEL = 111111111111111111, 333333333333333333
DISCORD_TOKEN = "MTAxOTk5.e2e-bot-token.s3cr3t"
MEMBER = 501
OLD_ONE = [("a0", "Old", "Yesterday's harbour news.")]
OLD_TWO = [("b0", "Old too", "Yesterday's market news.")]
QUAKE_ONE = (
    "Earthquake kills dozens in central Chile",
    "A magnitude 7.1 earthquake struck central Chile near Talca on Tuesday, killing at least "
    "34 people and destroying hundreds of homes, the interior ministry said. Rescue teams "
    "worked through the night.",
)
QUAKE_TWO = (
    "Chile quake: death toll rises in Talca",
    "Rescuers in Talca searched collapsed homes after Tuesday's 7.1 magnitude earthquake in "
    "central Chile; officials said the death toll had risen to 34 and more were missing. "
    "The army sent field hospitals to the region.",
)


@pytest.fixture
def clock() -> ManualClock:
    """Simulated time: pacing passes instantly."""
    return ManualClock(autojump=True)


@pytest.fixture
async def api() -> AsyncIterator[FakeTelegramAPI]:
    """A fake Bot API with a group and a forum supergroup."""
    async with FakeTelegramAPI() as running:
        running.add_chat(GROUP, "supergroup")
        running.add_chat(FORUM, "supergroup", forum=True)
        yield running


@pytest.fixture
async def discord() -> AsyncIterator[FakeDiscord]:
    """A fake Discord with a text channel and a forum channel."""
    fake = FakeDiscord(token=DISCORD_TOKEN, channels=(TEXT_CHANNEL,), forums=(FORUM_CHANNEL,))
    async with fake as running:
        yield running


@pytest.fixture
def settings(
    tmp_path: Path, api: FakeTelegramAPI, discord: FakeDiscord, server: LocalServer
) -> Settings:
    """Two outlets' feeds posted to a Telegram group and topic and two Discord channels."""
    one = server.route("/one.xml", rss(OLD_ONE))
    two = server.route("/two.xml", rss(OLD_TWO))
    chats = [f"telegram:{GROUP}", f"telegram:{FORUM}/{TOPIC}"]
    chats += [f"discord:{TEXT_CHANNEL}", f"discord:{FORUM_CHANNEL}"]
    config = tmp_path / "newsbrief.toml"
    config.write_text(
        f'[[feeds]]\nurl = "{one}"\nname = "Outlet One"\n'
        f'[[feeds]]\nurl = "{two}"\nname = "Outlet Two"\n'
        + "".join(f'[[channels]]\nto = "{to}"\n' for to in chats)
    )
    values = {
        "NEWSBRIEF_DB": str(tmp_path / "nb.db"),
        "NEWSBRIEF_CONFIG": str(config),
        "TELEGRAM_BOT_TOKEN": api.token,
        "TELEGRAM_API_BASE_URL": api.base_url,
        "DISCORD_BOT_TOKEN": DISCORD_TOKEN,
        "DISCORD_API_BASE_URL": discord.api_base_url,
        "DISCORD_GATEWAY_URL": discord.gateway_url,
    }
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def _sent(api: FakeTelegramAPI, chat: int) -> list[Call]:
    return api.calls_to("sendMessage", chat)


async def _one_event_from_two_outlets(
    settings: Settings, server: LocalServer, clock: ManualClock
) -> None:
    """Run the bot: the outlets' first fetch, then outlet one's report, then outlet two's."""
    async with running_bot(settings, server, clock) as bot:
        await bot.tick()  # first fetch: remembered, not posted
        server.route("/one.xml", rss([*OLD_ONE, ("a1", *QUAKE_ONE)]))
        await bot.tick()
        server.route("/two.xml", rss([*OLD_TWO, ("b1", *QUAKE_TWO)]))
        await bot.tick()


async def test_telegram_group_and_topic_get_one_post_and_one_reply_update(
    settings: Settings, server: LocalServer, api: FakeTelegramAPI, clock: ManualClock
) -> None:
    """In the group and in forum topic 42 the story is one full post and one update that
    replies to it (in the same topic), carrying only what is new and the sources so far."""
    await _one_event_from_two_outlets(settings, server, clock)
    for chat, topic in ((GROUP, None), (FORUM, TOPIC)):
        post, update = _sent(api, chat)
        assert post.params.get("message_thread_id") == topic
        assert "reply_parameters" not in post.params
        assert "Earthquake kills dozens" in post.visible_text
        posted, answered = sorted(m for c, m in api.topics if c == chat)
        assert update.params["reply_parameters"]["message_id"] == posted
        assert update.params.get("message_thread_id") == topic
        assert api.topics[(chat, posted)] == api.topics[(chat, answered)] == topic
        assert "2 sources so far" in update.visible_text
        assert "field hospitals" in update.visible_text
        assert "Outlet Two" in update.visible_text


async def test_discord_text_channel_threads_the_update_and_a_forum_gets_one_post_per_story(
    settings: Settings, server: LocalServer, discord: FakeDiscord, clock: ManualClock
) -> None:
    """In a text channel the story is one embed and a thread started on it holding the
    update; in a forum channel it is one forum post named after the story, with the
    update inside it."""
    await _one_event_from_two_outlets(settings, server, clock)
    assert len(discord.channel_posts(TEXT_CHANNEL)) == 1  # the post; the update is not here
    [thread] = discord.threads_of(TEXT_CHANNEL)
    assert thread == post_id(discord, TEXT_CHANNEL)  # started on the story's post
    [update] = discord.channel_posts(thread)
    embed = update.json["embeds"][0]
    assert "2 sources so far" in embed["footer"]["text"]
    assert "field hospitals" in embed.get("description", "")
    assert discord.threads[thread]["name"] == QUAKE_ONE[0]
    [forum_post] = discord.threads_of(FORUM_CHANNEL)
    assert discord.threads[forum_post]["name"] == QUAKE_ONE[0]
    assert discord.calls_to("POST", f"/channels/{FORUM_CHANNEL}/threads")[0].status == 200
    [inside] = discord.channel_posts(forum_post)
    assert "2 sources so far" in inside.json["embeds"][0]["footer"]["text"]
    assert discord.channel_posts(FORUM_CHANNEL) == []


def post_id(discord: FakeDiscord, channel: int) -> int:
    """The id of the one message the bot posted in a channel."""
    [found] = [int(i) for i, m in discord.messages.items() if m["channel_id"] == str(channel)]
    return found


async def test_stories_json_lists_the_two_reports_as_one_story(
    settings: Settings, server: LocalServer, clock: ManualClock, tmp_path: Path
) -> None:
    """After the run, ``newsbrief stories --json`` shows the two outlets' reports as one
    story."""
    await _one_event_from_two_outlets(settings, server, clock)
    code, out, err = await newsbrief(
        tmp_path, "stories", "--json", "--days", "3650", env=env_for(tmp_path)
    )
    assert code == 0, err
    [quake] = [s for s in json.loads(out)["stories"] if "Chile" in s["title"]]
    assert [a["feed"] for a in quake["articles"]] == ["Outlet One", "Outlet Two"]


async def test_a_command_typed_in_a_topic_is_answered_in_that_topic(
    settings: Settings, server: LocalServer, api: FakeTelegramAPI, clock: ManualClock
) -> None:
    """/help typed in forum topic 42 is answered in topic 42, replying to the command."""
    async with running_bot(settings, server, clock):
        command = api.message(FORUM, "/help", user_id=MEMBER, topic=TOPIC)
        api.queue(command)
        reply = await api.wait_for(lambda c: c.method == "sendMessage" and c.chat_id == FORUM)
    assert reply.params.get("message_thread_id") == TOPIC
    assert reply.params["reply_parameters"]["message_id"] == command["message"]["message_id"]


async def test_summary_in_a_topic_answers_by_story_and_says_what_is_new(
    settings: Settings, server: LocalServer, api: FakeTelegramAPI, clock: ManualClock
) -> None:
    """/summary in a forum topic is answered there by story, its sentences citing their
    sources; asked again after a second outlet's report, the answer cites both outlets
    and says what is new since the topic last asked."""

    def summary_reply(marker: str) -> Callable[[Call], bool]:
        return lambda c: (
            c.method == "sendMessage" and c.chat_id == FORUM and marker in c.visible_text
        )

    async with running_bot(settings, server, clock) as bot:
        await bot.tick()
        server.route("/one.xml", rss([*OLD_ONE, ("a1", *QUAKE_ONE)]))
        await bot.tick()
        api.queue(api.message(FORUM, "/summary chile earthquake", user_id=MEMBER, topic=TOPIC))
        first = await api.wait_for(summary_reply("Summary: chile earthquake"))
        server.route("/two.xml", rss([*OLD_TWO, ("b1", *QUAKE_TWO)]))
        await bot.tick()
        api.queue(api.message(FORUM, "/summary chile earthquake", user_id=MEMBER, topic=TOPIC))
        second = await api.wait_for(summary_reply("New since this chat last asked:"))
    assert first.params["message_thread_id"] == second.params["message_thread_id"] == TOPIC
    assert "[1]" in first.visible_text and "[2]" not in first.visible_text
    assert "New since" not in first.visible_text
    new_part = second.visible_text.split("New since this chat last asked:")[1]
    assert "[2]" in new_part
    assert "https://news.test/b1" in str(second.params["text"])
