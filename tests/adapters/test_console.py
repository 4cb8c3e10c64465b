"""The console: posts to a stream, commands from lines, ids unique across runs."""

from __future__ import annotations

import io
from dataclasses import replace

from adapters.console import ConsolePlatform
from adapters.console.adapter import parse_command
from adapters.console.render import render_post
from bot.types import CONSOLE, Command, Piece, Post, Reply, StoryTold, StoryUpdate


async def test_message_ids_are_unique_across_runs() -> None:
    """Two runs (two platforms) never hand out the same message id for different rows:
    a poll's id there must not collide with the previous run's."""
    first, second = ConsolePlatform(io.StringIO()), ConsolePlatform(io.StringIO())
    one = await first.send(CONSOLE, Reply("a"), "nonce-1")
    two = await second.send(CONSOLE, Reply("b"), "nonce-2")
    assert one.message_id != two.message_id


async def test_posts_go_to_the_stream_whole() -> None:
    """A message is written as one block followed by a separator."""
    out = io.StringIO()
    await ConsolePlatform(out).send(CONSOLE, Reply("hello", title="Title"), "n")
    assert out.getvalue().startswith("■ Title\n\nhello\n")


def test_lines_become_commands_from_the_local_admin() -> None:
    """A slash line is a command, a bare line a topic to summarize, a blank line nothing."""
    assert parse_command("/Status@bot\n") == Command("status", "", CONSOLE, "console", True)
    assert parse_command("venezuela") == Command("summary", "venezuela", CONSOLE, "console", True)
    assert parse_command("   ") is None


async def test_a_story_update_prints_only_what_is_new() -> None:
    """An update shows the new article's title, its new sentences, its source and the
    number of sources so far."""
    out = io.StringIO()
    new = ("Three bridges collapsed.",)
    update = StoryUpdate(
        "Day two", new, "https://news.test/2", "Wire", 0.0, 2, "m1", StoryTold(1, new)
    )
    await ConsolePlatform(out).send(CONSOLE, update, "n")
    assert out.getvalue().startswith(
        "↳ Day two\n\nThree bridges collapsed.\n\nWire · 2 sources so far\nhttps://news.test/2\n"
    )


def test_a_templated_post_with_an_image_is_its_filled_template_and_the_image_link() -> None:
    """The console shows a templated post as the filled template, as plain text, and the
    image's link under it."""
    layout = (Piece("<b>Oil</b>", "title"), Piece("\n{not a field} "), Piece("Wire", "source"))
    post = Post("<b>Oil</b>", "S", "https://e.org", "Wire", 0, image="https://img.test/a.jpg")
    assert render_post(replace(post, layout=layout)) == (
        "<b>Oil</b>\n{not a field} Wire\n🖼 https://img.test/a.jpg"
    )
