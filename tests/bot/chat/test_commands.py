"""The command table: /help, menus and platform limits all come from one definition."""

from __future__ import annotations

import re

import pytest

from bot import i18n
from bot.chat.commands import ADMIN_ONLY, COMMANDS, find, help_text, menu, menus, names
from bot.polls.rules import MAX_OPTION, MAX_OPTIONS, MAX_QUESTION, parse_custom_poll

TELEGRAM_NAME = re.compile(r"[a-z0-9_]{1,32}")
DISCORD_NAME = re.compile(r"[-_a-z0-9]{1,32}")

CONTRACT = {  # ARCHITECTURE.md: the commands and the argument each takes
    "summary": "<topic>",
    "latest": "",
    "subscribe": "<feed url>",
    "unsubscribe": "<feed>",
    "feeds": "",
    "poll": "[question]",
    "results": "[poll]",
    "filter": "[rule]",
    "preview": "",
    "status": "",
    "help": "",
}


def test_the_table_is_the_contract_in_help_order() -> None:
    """Every command of the contract, in /help order, with the argument it takes."""
    assert [spec.name for spec in COMMANDS] == list(CONTRACT)
    assert {s.name: s.arg.usage if s.arg else "" for s in COMMANDS} == CONTRACT


def test_help_lists_every_command_with_its_argument() -> None:
    """One line per command, starting with how to type it."""
    lines = help_text().splitlines()
    assert len(lines) == len(COMMANDS)
    for line, (name, usage) in zip(lines, CONTRACT.items(), strict=True):
        assert line.startswith(f"/{name} {usage} - " if usage else f"/{name} - ")


def test_help_keeps_what_each_command_means() -> None:
    """The lines users know: what a command does and how a custom poll is typed."""
    text = help_text()
    assert "/summary <topic> - the state of a story, with numbered sources\n" in text
    assert "/unsubscribe <feed> - stop following a feed: its number, name or URL (admins)" in text
    assert "or /poll Question? | A | B (admins)" in text
    assert text.endswith("/help - this list")


def test_admin_marks_match_admin_only() -> None:
    """Exactly the commands that change a chat say "(admins)" and need admin rights."""
    marked = {line.split()[0][1:] for line in help_text().splitlines() if "(admins)" in line}
    assert marked == ADMIN_ONLY == {"subscribe", "unsubscribe", "poll", "filter", "preview"}
    assert {spec.name for spec in COMMANDS if spec.admin_only} == ADMIN_ONLY


@pytest.mark.parametrize(
    ("typed", "name"),
    [("summary", "summary"), ("SUMMARY", "summary"), ("start", "help"), ("Start", "help")],
)
def test_find_ignores_case_and_resolves_aliases(typed: str, name: str) -> None:
    """/start is /help; names match in any case."""
    spec = find(typed)
    assert spec is not None and spec.name == name


@pytest.mark.parametrize("typed", ["", "frobnicate", "summaryx", "/summary", "help "])
def test_find_knows_nothing_else(typed: str) -> None:
    """Anything not in the table is not a command."""
    assert find(typed) is None


def test_names_are_every_name_and_alias_once() -> None:
    """What a platform registers handlers for: the commands and their aliases."""
    assert names() == (*CONTRACT, "start")


def test_menu_fits_telegram() -> None:
    """setMyCommands: names of [a-z0-9_]{1,32}, descriptions of 1-256 characters."""
    entries = menu()
    assert [name for name, _ in entries] == list(CONTRACT)
    for name, description in entries:
        assert TELEGRAM_NAME.fullmatch(name)
        assert 1 <= len(description) <= 256


def test_menu_shows_how_to_type_an_argument() -> None:
    """A command picked from the menu arrives without its argument; the menu says it."""
    descriptions = dict(menu())
    assert descriptions["summary"].endswith(": /summary <topic>")
    assert descriptions["results"].endswith(": /results [poll]")
    assert descriptions["latest"] == "The newest stories in this chat's feeds"


def test_menus_come_in_every_locale_and_fit_both_platforms() -> None:
    """Each shipped locale has the whole menu, translated (names stay the contract's), each
    description within Telegram's 256 and each text Discord shows within its 100."""
    found = menus()
    assert tuple(found) == i18n.available()
    assert found[i18n.SOURCE] == menu()
    for locale, entries in found.items():
        assert [name for name, _ in entries] == list(CONTRACT)
        assert all(1 <= len(description) <= 256 for _, description in entries)
        if locale != i18n.SOURCE:
            assert all(d != e for (_, d), (_, e) in zip(entries, menu(), strict=True)), locale
        with i18n.using(locale):
            shown = [i18n.gettext(s.summary) for s in COMMANDS]
            shown += [i18n.gettext(s.arg.description) for s in COMMANDS if s.arg]
        assert all(1 <= len(text) <= 100 for text in shown), locale
    assert dict(found["de"])["results"].endswith(": /results [Umfrage]")


def test_every_name_fits_discord() -> None:
    """Slash commands and options: names of [-_a-z0-9]{1,32}, descriptions of 1-100."""
    for spec in COMMANDS:
        assert DISCORD_NAME.fullmatch(spec.name)
        assert all(TELEGRAM_NAME.fullmatch(alias) for alias in spec.aliases)
        assert 1 <= len(spec.summary) <= 100
        if spec.arg is not None:
            assert DISCORD_NAME.fullmatch(spec.arg.name)
            assert 1 <= len(spec.arg.description) <= 100
            assert 1 <= spec.arg.max_chars <= 6000  # Discord's longest string option


def test_a_custom_poll_fits_its_option() -> None:
    """The longest valid "Question? | A | B" can be typed into /poll's option."""
    question = "Q" * (MAX_QUESTION - 1) + "?"
    longest = " | ".join([question, *(str(i) * MAX_OPTION for i in range(MAX_OPTIONS))])
    assert len(parse_custom_poll(longest).options) == MAX_OPTIONS
    poll = find("poll")
    assert poll is not None and poll.arg is not None
    assert len(longest) <= poll.arg.max_chars
