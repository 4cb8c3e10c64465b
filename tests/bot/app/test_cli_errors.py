"""Bad input on the command line: one clear line on stderr and a non-zero exit, never a
traceback. Each case runs the real ``newsbrief`` in a subprocess (a traceback printed by a
stray thread after the event loop closed only shows there)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from tests.bot.app.test_cli import env_for, newsbrief

OPML = """<?xml version="1.0"?><opml version="2.0"><body>
<outline text="ok" xmlUrl="https://news.example/feed.xml"/>
<outline text="script" xmlUrl="javascript:alert(1)"/>
<outline text="file" xmlUrl="file:///etc/passwd"/>
<outline text="path" xmlUrl="/etc/passwd"/>
</body></opml>"""

# (name, arguments, extra environment, exit code, words the one line must hold)
CASES: list[tuple[str, list[str], dict[str, str], int, str]] = [
    ("binary .txt", ["summarize", "binary.txt"], {}, 1, "not a UTF-8 text file"),
    ("empty .txt", ["summarize", "empty.txt"], {}, 1, "no text to summarize"),
    ("missing .txt", ["summarize", "missing.txt"], {}, 1, "No such file"),
    ("missing OPML", ["feeds", "import", "missing.opml"], {}, 1, "cannot read missing.opml"),
    ("binary OPML", ["feeds", "import", "binary.txt"], {}, 1, "not a UTF-8 OPML file"),
    ("not OPML", ["feeds", "import", "empty.txt"], {}, 1, "not an OPML file"),
    ("unopenable database", ["feeds", "list"], {"NEWSBRIEF_DB": "/no/such/dir/x.db"}, 1, "x.db"),
    ("broken config", ["feeds", "list"], {"NEWSBRIEF_CONFIG": "binary.txt"}, 1, "config file"),
    ("topic like an option", ["summary", "-:*"], {}, 1, "no words"),
    ("topic like markup", ["summary", "[/x]"], {}, 1, "[/x]"),
    ("missing topic", ["summary"], {}, 2, "Missing argument"),
    ("bad option value", ["summary", "--days", "0", "x"], {}, 2, "--days"),
    ("unknown command", ["frobnicate"], {}, 2, "No such command"),
    ("unwritable export", ["feeds", "export", "/no/such/dir/x.opml"], {}, 1, "cannot write"),
    ("script URL", ["feeds", "add", "javascript:alert(1)"], {}, 1, "only http and https"),
]


async def test_every_cli_error_is_one_line_and_a_non_zero_exit(tmp_path: Path) -> None:
    """Binary or empty files, missing files, an unopenable database, a topic that looks
    like an option, usage mistakes: each gives one line on stderr and its exit code."""
    (tmp_path / "binary.txt").write_bytes(bytes(range(256)) * 8)
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "newsbrief.toml").write_text('[[channels]]\nto = "console"\n')
    base = env_for(tmp_path)
    # each case on a database of its own: fifteen processes on one SQLite file wait on
    # each other's locks, which is not what these cases are about
    envs = [
        base | {"NEWSBRIEF_DB": str(tmp_path / f"case{n}.db")} | extra
        for n, (_, _, extra, _, _) in enumerate(CASES)
    ]
    runs = await asyncio.gather(
        *(newsbrief(tmp_path, *case[1], env=env) for case, env in zip(CASES, envs, strict=True))
    )
    problems = []
    for (name, _, _, code, words), (got, _out, err) in zip(CASES, runs, strict=True):
        lines = [line for line in err.splitlines() if line.strip()]
        if got != code or len(lines) != 1 or words not in err or "Traceback" in err:
            problems.append(f"{name}: exit {got}, stderr {err!r}")
    assert problems == []


async def test_opml_import_refuses_everything_but_http_urls(tmp_path: Path) -> None:
    """An OPML file listing javascript:, file:// and a path imports only its http(s) feed,
    says what it refused on one line and exits 1."""
    (tmp_path / "newsbrief.toml").write_text('[[channels]]\nto = "console"\n')
    (tmp_path / "feeds.opml").write_text(OPML)
    code, out, err = await newsbrief(tmp_path, "feeds", "import", "feeds.opml")
    assert (code, out.strip()) == (1, "imported 1 feed(s)")
    assert len(err.strip().splitlines()) == 1 and "refused 3 entries" in err
    _, listed, _ = await newsbrief(tmp_path, "feeds", "list", "--json")
    assert [f["url"] for f in json.loads(listed)] == ["https://news.example/feed.xml"]


async def test_an_unreachable_postgresql_is_named_without_its_password(tmp_path: Path) -> None:
    """A PostgreSQL URL that cannot be opened is one line naming the database, with the
    password left out whether it is in ``user:password@`` or ``?password=``."""
    (tmp_path / "newsbrief.toml").write_text('[[channels]]\nto = "console"\n')
    urls = (
        "postgresql://u@127.0.0.1:1/db?password=s3cretpw&sslmode=disable",
        "postgresql://u:s3cretpw@127.0.0.1:1/db",
    )
    for url in urls:
        env = env_for(tmp_path) | {"NEWSBRIEF_DB": url}
        code, _, err = await newsbrief(tmp_path, "feeds", "list", env=env)
        assert code == 1 and "postgresql://u@127.0.0.1:1/db" in err, err
        assert "s3cretpw" not in err and "Traceback" not in err, err
