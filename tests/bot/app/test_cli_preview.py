"""``newsbrief preview``: what a channel would get, printed without sending or queueing."""

from __future__ import annotations

from pathlib import Path

from bot.store.sqlite import SqliteStore
from tests.bot.app.test_cli import newsbrief, rss
from tests.fakes.http_server import LocalServer

PAGE = (
    '<html><head><meta property="og:image" content="https://img.test/page.jpg">'
    "<title>Harbour reopens</title></head><body><article><h1>Harbour reopens</h1><p>"
    + " ".join(f"Sentence {i} about the harbour reopening after the strike." for i in range(12))
    + "</p></article></body></html>"
)


def write_config(tmp: Path, url: str) -> None:
    """One loopback feed to the console, with a template, and to a Telegram channel."""
    (tmp / "newsbrief.toml").write_text(
        f'[[feeds]]\nurl = "{url}"\nname = "loop"\n'
        '[[channels]]\nto = "console"\ntemplate = "» {title} ({source})\\n{url}"\n'
        '[[channels]]\nto = "telegram:@worldbrief"\n'
    )


async def test_preview_prints_the_post_and_queues_nothing(
    tmp_path: Path, server: LocalServer
) -> None:
    """The latest article as the console channel would print it (its template), and as
    Telegram would be sent it (the Bot API request, HTML); the outbox is untouched."""
    url = server.route("/feed.xml", rss(3), content_type="application/rss+xml")
    write_config(tmp_path, url)
    code, _, err = await newsbrief(tmp_path, "ingest")
    assert code == 0, err
    code, out, err = await newsbrief(tmp_path, "preview", "console")
    assert code == 0, err
    assert "» Item 2 headline (loop)\nhttps://news.test/2" in out
    code, out, err = await newsbrief(tmp_path, "preview", "telegram:@worldbrief", "--article", "1")
    assert code == 0, err
    assert '"method": "sendMessage"' in out and "<b>Item 0 headline</b>" in out
    store = await SqliteStore.open(tmp_path / "nb.db")
    try:
        assert await store.outbox.rows() == []
    finally:
        await store.close()


async def test_preview_of_a_page_that_is_not_stored(tmp_path: Path, server: LocalServer) -> None:
    """--url summarizes a page without storing it, with the page's og:image."""
    write_config(tmp_path, server.route("/feed.xml", rss(1)))
    page = server.route("/page", PAGE, content_type="text/html")
    code, out, err = await newsbrief(tmp_path, "preview", "telegram:@worldbrief", "--url", page)
    assert code == 0, err
    assert "article: (not stored) Harbour reopens" in out
    assert '"photo": "https://img.test/page.jpg"' in out


async def test_preview_mistakes_are_one_line(tmp_path: Path, server: LocalServer) -> None:
    """An unknown channel, a non-http --url and an unknown article are one line each on
    stderr and exit 1."""
    write_config(tmp_path, server.route("/feed.xml", rss(1)))
    for args in (
        ("discord:42",),
        ("console", "--url", "file:///etc/passwd"),
        ("console", "--article", "999"),
    ):
        code, out, err = await newsbrief(tmp_path, "preview", *args)
        assert code == 1 and out == "" and len(err.strip().splitlines()) == 1, (args, err)
