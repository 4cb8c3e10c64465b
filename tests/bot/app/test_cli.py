"""The ``newsbrief`` command line, run as a real subprocess against loopback servers."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from collections import Counter
from pathlib import Path

from tests.fakes.http_server import LocalServer
from tests.fakes.postgres import Databases

URL_LINE = re.compile(r"^https://news\.test/(\S+)$", re.MULTILINE)


def rss(n: int, start: int = 0, words: int = 60) -> str:
    """A feed of ``n`` items numbered from ``start``, each with a paragraph of its own
    text (not near-duplicates of each other)."""
    items = "".join(
        f"<item><guid>g{i}</guid><title>Item {i} headline</title>"
        f"<link>https://news.test/{i}</link><description>{_text(i, words)}</description>"
        f"<pubDate>Mon, 23 Nov 2026 {i // 60 % 24:02d}:{i % 60:02d}:00 GMT</pubDate></item>"
        for i in range(start, start + n)
    )
    head = '<?xml version="1.0"?><rss version="2.0"><channel><title>Loop</title>'
    return f"{head}{items}</channel></rss>"


def _text(item: int, words: int) -> str:
    return " ".join(f"Word{item}x{n} in sentence {n} about item {item}." for n in range(words // 6))


def env_for(tmp: Path) -> dict[str, str]:
    """A clean environment: temp database and config, no tokens, loopback feeds allowed."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TELEGRAM_", "DISCORD_", "OPENAI_", "NEWSBRIEF_"))
    }
    env.update(
        NEWSBRIEF_DB=str(tmp / "nb.db"),
        NEWSBRIEF_CONFIG=str(tmp / "newsbrief.toml"),
        NEWSBRIEF_ALLOW_PRIVATE_HOSTS="1",
        PYTHONUNBUFFERED="1",
    )
    return env


def write_config(tmp: Path, url: str, backfill: int) -> None:
    """A config with one loopback feed posted to the console."""
    (tmp / "newsbrief.toml").write_text(
        f'[[feeds]]\nurl = "{url}"\nname = "loop"\nbackfill = {backfill}\n'
        '[[channels]]\nto = "console"\n'
    )


async def newsbrief(
    tmp: Path, *args: str, env: dict[str, str] | None = None, stdin: bytes = b""
) -> tuple[int, str, str]:
    """Run the CLI to completion; (exit code, stdout, stderr)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=tmp,
        env=env or env_for(tmp),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(stdin), 120)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_run_once_posts_each_article_once_across_restarts(
    tmp_path: Path, server: LocalServer
) -> None:
    """run --once posts the backfill, nothing on a rerun, then only the new entry."""
    url = server.route("/feed.xml", rss(5), content_type="application/rss+xml")
    write_config(tmp_path, url, backfill=3)
    code, out, err = await newsbrief(tmp_path, "run", "--once")
    assert code == 0, err
    assert sorted(URL_LINE.findall(out)) == ["2", "3", "4"]
    code, out, _ = await newsbrief(tmp_path, "run", "--once")
    assert URL_LINE.findall(out) == []
    server.route("/feed.xml", rss(6), content_type="application/rss+xml")
    code, out, _ = await newsbrief(tmp_path, "run", "--once")
    assert URL_LINE.findall(out) == ["5"]


async def test_run_once_on_postgresql_posts_each_article_once(
    tmp_path: Path, server: LocalServer, postgres: Databases
) -> None:
    """With NEWSBRIEF_DB a postgresql:// URL, the same runs post the same posts once each."""
    url = server.route("/feed.xml", rss(5), content_type="application/rss+xml")
    write_config(tmp_path, url, backfill=3)
    env = {**env_for(tmp_path), "NEWSBRIEF_DB": await postgres.fresh()}
    code, out, err = await newsbrief(tmp_path, "run", "--once", env=env)
    assert code == 0, err
    assert sorted(URL_LINE.findall(out)) == ["2", "3", "4"]
    code, out, _ = await newsbrief(tmp_path, "run", "--once", env=env)
    assert URL_LINE.findall(out) == []
    server.route("/feed.xml", rss(6), content_type="application/rss+xml")
    code, out, _ = await newsbrief(tmp_path, "run", "--once", env=env)
    assert URL_LINE.findall(out) == ["5"]
    assert not (tmp_path / "nb.db").exists()


async def test_unreachable_postgresql_is_one_clear_line(tmp_path: Path) -> None:
    """A PostgreSQL URL nobody answers at stops the CLI with one line naming the database
    (never its password) and a non-zero exit."""
    write_config(tmp_path, "https://example.org/feed", backfill=0)
    env = {**env_for(tmp_path), "NEWSBRIEF_DB": "postgresql://u:s3cret@127.0.0.1:1/nb"}
    code, _, err = await newsbrief(tmp_path, "feeds", "list", env=env)
    assert code == 1
    assert "cannot open database postgresql://u@127.0.0.1:1/nb" in err
    assert "s3cret" not in err


async def test_sigkill_during_delivery_loses_nothing(tmp_path: Path, server: LocalServer) -> None:
    """SIGKILL mid-delivery, restart: every post arrives, at most the in-flight one twice."""
    total = 150
    url = server.route("/feed.xml", rss(total, words=400), content_type="application/rss+xml")
    write_config(tmp_path, url, backfill=total)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "--once",
        cwd=tmp_path,
        env=env_for(tmp_path),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        limit=1 << 20,
    )
    assert proc.stdout is not None
    seen = 0
    while seen < 5:  # read a few posts, then stop reading: the pipe fills, delivery blocks
        line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
        seen += bool(URL_LINE.match(line.strip()))
    proc.send_signal(signal.SIGKILL)
    rest = await proc.stdout.read()
    await proc.wait()
    first = URL_LINE.findall(rest.decode()) + [str(n) for n in range(seen)]
    assert len(first) < total, "the kill came after delivery finished; nothing was tested"
    code, out, err = await newsbrief(tmp_path, "run", "--once")
    assert code == 0, err
    counts = Counter(first + URL_LINE.findall(out))
    assert set(counts) == {str(i) for i in range(total)}
    assert sum(counts.values()) - total <= 1


async def test_sigterm_stops_run_cleanly(tmp_path: Path, server: LocalServer) -> None:
    """`newsbrief run` exits 0 within 10 s of SIGTERM, with no traceback or error logged."""
    url = server.route("/feed.xml", rss(2), content_type="application/rss+xml")
    write_config(tmp_path, url, backfill=1)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=tmp_path,
        env=env_for(tmp_path),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    while not URL_LINE.match((await asyncio.wait_for(proc.stdout.readline(), 60)).decode()):
        pass
    proc.send_signal(signal.SIGTERM)
    code = await asyncio.wait_for(proc.wait(), 10)
    assert proc.stderr is not None
    err = (await proc.stderr.read()).decode()
    assert code == 0, err
    assert "Traceback" not in err and "ERROR" not in err


async def test_default_run_answers_summary_on_console(tmp_path: Path) -> None:
    """With no config, run --once posts the sample feed and answers /summary venezuela."""
    env = env_for(tmp_path)
    del env["NEWSBRIEF_CONFIG"]
    code, out, err = await newsbrief(
        tmp_path, "run", "--once", env=env, stdin=b"/summary venezuela\n/help\n"
    )
    assert code == 0, err
    assert "Washington and Moscow" in out
    assert "Summary: venezuela" in out and "[1]" in out
    assert "/subscribe <feed url>" in out
    code, out, err = await newsbrief(tmp_path, "summary", "venezuela", "--json", env=env)
    answer = json.loads(out)
    assert set(answer) == {"topic", "summary", "sources", "method", "story", "sentences", "new"}
    assert answer["method"] == "extractive"
    assert answer["sources"][0]["url"].startswith("https://example.org/newsbrief-sample/")
    story = answer["story"]
    assert set(story) == {"id", "title", "sources"} and story["sources"] >= 1
    assert answer["sentences"] and all(
        s["sources"] and all(1 <= n <= story["sources"] for n in s["sources"])
        for s in answer["sentences"]
    )
    assert answer["new"] == []  # the console asked already, and nothing joined since


async def test_summary_of_nothing_is_a_clear_error(tmp_path: Path) -> None:
    """`summary` with an empty topic or no match exits 1 with a message, no traceback."""
    write_config(tmp_path, "feed.xml", 0)
    (tmp_path / "feed.xml").write_text(rss(1))
    code, _out, err = await newsbrief(tmp_path, "summary", "!!!")
    assert code == 1 and "no words" in err and "Traceback" not in err


async def test_ingest_json_counts(tmp_path: Path, server: LocalServer) -> None:
    """`ingest --json` prints the pass's counts."""
    url = server.route("/feed.xml", rss(4), content_type="application/rss+xml")
    write_config(tmp_path, url, backfill=0)
    code, out, err = await newsbrief(tmp_path, "ingest", "--json")
    assert code == 0, err
    counts = json.loads(out)
    assert counts["new_articles"] == 4 and counts["queued_posts"] == 0


async def test_summarize_txt_file_json(tmp_path: Path) -> None:
    """`summarize FILE.txt --json` prints one line with the documented keys."""
    write_config(tmp_path, "feed.xml", 0)
    (tmp_path / "feed.xml").write_text(rss(1))
    article = tmp_path / "a.txt"
    article.write_text(
        "Harbour strike ends\n\n" + "The strike at the harbour ended on Monday. "
        "Workers accepted a pay rise of four percent. Ships are moving again. "
        "Unions said talks would continue next year."
    )
    code, out, err = await newsbrief(tmp_path, "summarize", str(article), "--json")
    assert code == 0, err
    line = json.loads(out)
    assert set(line) == {"source", "title", "summary", "sentences", "method"}
    assert line["title"] == "Harbour strike ends" and line["method"] == "extractive"


async def test_summarize_txt_whose_first_line_is_the_lead(tmp_path: Path) -> None:
    """A .txt whose first line is the lead sentence has no title and keeps the lead."""
    write_config(tmp_path, "feed.xml", 0)
    (tmp_path / "feed.xml").write_text(rss(1))
    lead = "The strike at the harbour of Rotterdam ended on Monday after nine days."
    article = tmp_path / "lead.txt"
    article.write_text(
        f"{lead}\n\nWorkers accepted a pay rise of four percent, the union said.\n\n"
        "Ships are moving again.\n\nUnions said talks would continue next year.\n"
    )
    code, out, err = await newsbrief(tmp_path, "summarize", str(article), "--json")
    assert code == 0, err
    line = json.loads(out)
    assert line["title"] == ""
    assert line["sentences"][0] == lead


async def test_summarize_json_keeps_its_shape_for_a_source_that_fails(tmp_path: Path) -> None:
    """A source that cannot be summarized still prints a line with every field of the
    contract (empty) and the reason in ``error``; the others print theirs; exit 1."""
    write_config(tmp_path, "feed.xml", 0)
    (tmp_path / "feed.xml").write_text(rss(1))
    empty = tmp_path / "missing.txt"
    good = tmp_path / "good.txt"
    good.write_text(
        "Harbour strike ends\n\nThe strike at the harbour of Rotterdam ended on Monday after "
        "nine days.\n\nWorkers accepted a pay rise of four percent, the union said.\n"
    )
    code, out, _ = await newsbrief(tmp_path, "summarize", str(empty), str(good), "--json")
    assert code == 1
    failed, ok = (json.loads(line) for line in out.splitlines())
    keys = {"source", "title", "summary", "sentences", "method"}
    assert keys <= failed.keys() and failed["error"] and failed["sentences"] == []
    assert keys == ok.keys() and ok["summary"]


def _feed_file(path: Path, items: list[tuple[str, str, str]]) -> None:
    """An RSS file of (guid, title, description) items without dates (published now)."""
    body = "".join(
        f"<item><guid>{g}</guid><title>{t}</title><link>https://news.test/{g}</link>"
        f"<description>{d}</description></item>"
        for g, t, d in items
    )
    path.write_text(f'<?xml version="1.0"?><rss version="2.0"><channel>{body}</channel></rss>')


async def test_stories_json_lists_one_event_from_two_outlets_as_one_story(tmp_path: Path) -> None:
    """`stories --json` shows two outlets' reports of one quake as one story, in the
    documented shape, and another event as its own."""
    _feed_file(
        tmp_path / "one.xml",
        [
            ("a1", "Earthquake kills dozens in central Chile", QUAKE_ONE),
            ("a2", "Germany agrees 2026 budget after coalition talks", BUDGET),
        ],
    )
    _feed_file(tmp_path / "two.xml", [("b1", "Chile quake: death toll rises in Talca", QUAKE_TWO)])
    (tmp_path / "newsbrief.toml").write_text(
        '[[feeds]]\nurl = "one.xml"\nname = "one"\n[[feeds]]\nurl = "two.xml"\nname = "two"\n'
        '[[channels]]\nto = "console"\n'
    )
    assert (await newsbrief(tmp_path, "ingest"))[0] == 0
    code, out, err = await newsbrief(tmp_path, "stories", "--json", "--days", "1")
    assert code == 0, err
    stories = json.loads(out)["stories"]
    assert all(set(s) == {"id", "title", "articles", "first_seen", "last_seen"} for s in stories)
    quake = next(s for s in stories if "Chile" in s["title"])
    assert sorted(a["feed"] for a in quake["articles"]) == ["one", "two"]
    assert set(quake["articles"][0]) == {"title", "url", "feed"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", quake["first_seen"])
    assert len(stories) == 2
    code, text, _ = await newsbrief(tmp_path, "stories")
    assert code == 0 and "2 article(s)" in text


QUAKE_ONE = (
    "A magnitude 7.1 earthquake struck central Chile near Talca on Tuesday, killing at least "
    "34 people and destroying hundreds of homes, the interior ministry said."
)
QUAKE_TWO = (
    "Rescuers in Talca searched collapsed homes after Tuesday's 7.1 magnitude earthquake in "
    "central Chile; officials said the death toll had risen to 34."
)
BUDGET = (
    "The German coalition agreed a budget for 2026 on Friday, raising defence spending and "
    "cutting subsidies for electric cars, the finance minister told reporters in Berlin."
)


async def test_feeds_add_list_export_import(tmp_path: Path) -> None:
    """Feeds can be added, listed, exported to OPML (http(s) feeds only) and imported into
    another database."""
    write_config(tmp_path, "feed.xml", 0)
    (tmp_path / "feed.xml").write_text(rss(1))
    assert (await newsbrief(tmp_path, "feeds", "add", "https://example.org/a.rss", "--name", "a"))[
        0
    ] == 0
    _, listed, _ = await newsbrief(tmp_path, "feeds", "list", "--json")
    assert {f["url"] for f in json.loads(listed)} >= {"https://example.org/a.rss"}
    _, opml, _ = await newsbrief(tmp_path, "feeds", "export")
    (tmp_path / "feeds.opml").write_text(opml)
    other = env_for(tmp_path) | {"NEWSBRIEF_DB": str(tmp_path / "other.db")}
    code, out, _ = await newsbrief(tmp_path, "feeds", "import", "feeds.opml", env=other)
    assert code == 0 and "imported 1" in out  # the local feed.xml is not exported
    code, _, err = await newsbrief(tmp_path, "feeds", "remove", "nope")
    assert code == 1 and "no active feed" in err
