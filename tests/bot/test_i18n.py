"""The bot's own texts in several languages: complete catalogues, compiled, shipped, and
chosen per chat."""

from __future__ import annotations

import gettext
import re
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot import i18n
from bot.chat.commands import help_text
from bot.chat.stories import day_of, sources_line

REPO = Path(__file__).resolve().parents[2]
LOCALES = ("de", "es", "fr")
_FIELD = re.compile(r"\{(\w*)[^{}]*\}")


def _code_messages() -> set[str | tuple[str, str]]:
    """Every text the code marks for translation, as ``make locales`` extracts it."""
    found: set[str | tuple[str, str]] = set()
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
    for _file, _line, message, _comments, _context in extract_from_dir(
        REPO / "bot", keywords=keywords
    ):
        found.add(message if isinstance(message, str) else (message[0], message[1]))
    return found


def _catalogue(locale: str):  # type: ignore[no-untyped-def]
    with (i18n.LOCALE_DIR / locale / "LC_MESSAGES" / "newsbrief.po").open("rb") as f:
        return read_po(f, locale=locale)


def test_ships_english_and_three_more_locales() -> None:
    """de, es and fr are compiled and found beside English."""
    assert i18n.available() == ("de", "en", *LOCALES[1:])


@pytest.mark.parametrize("locale", LOCALES)
def test_every_text_in_the_code_is_translated(locale: str) -> None:
    """Each locale's .po holds every marked text of the code, translated, not fuzzy, with
    the same placeholders as the English."""
    catalogue = _catalogue(locale)
    translated = {}
    for message in catalogue:
        if message.id:
            key = message.id if isinstance(message.id, str) else tuple(message.id)
            translated[key] = message
    missing = _code_messages() - set(translated)
    assert not missing, f"run `make locales` and translate: {sorted(map(str, missing))[:5]}"
    for key, message in translated.items():
        assert not message.fuzzy, key
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        english = key if isinstance(key, tuple) else (key,)
        assert all(strings), key
        fields = set(_FIELD.findall(" ".join(english)))
        assert all(set(_FIELD.findall(s)) == fields for s in strings), key


@pytest.mark.parametrize("locale", LOCALES)
def test_compiled_catalogues_match_their_sources(locale: str) -> None:
    """The .mo the bot reads says what its .po says (``make locales`` was run)."""
    mo = i18n.LOCALE_DIR / locale / "LC_MESSAGES" / "newsbrief.mo"
    with mo.open("rb") as f:
        compiled = gettext.GNUTranslations(f)
    for message in _catalogue(locale):
        if isinstance(message.id, str) and message.id:
            assert compiled.gettext(message.id) == message.string
        elif message.id:
            assert compiled.ngettext(*message.id, 1) == message.string[0]
            assert compiled.ngettext(*message.id, 5) == message.string[1]


def test_an_install_carries_the_compiled_catalogues() -> None:
    """The package data of ``bot`` takes every .mo, so pip installs them."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["bot"]
    compiled = [p.relative_to(REPO / "bot").as_posix() for p in i18n.LOCALE_DIR.rglob("*.mo")]
    assert len(compiled) == len(LOCALES)
    assert all(any(fnmatch(path, pattern) for pattern in patterns) for path in compiled)


@pytest.mark.parametrize(
    ("wanted", "chosen"),
    [
        (("de",), "de"),
        (("de-AT",), "de"),
        (("FR_ca",), "fr"),
        (("", "es-419"), "es"),
        (("pt-BR", "fr"), "fr"),
        (("pt-BR",), "en"),
        ((), "en"),
        (("../../etc",), "en"),
    ],
)
def test_negotiation_takes_the_first_locale_spoken(wanted: tuple[str, ...], chosen: str) -> None:
    """A region falls back to its language; an unknown or empty tag to the next, then
    English."""
    assert i18n.negotiate(*wanted) == chosen


def test_texts_follow_the_locale_in_use_and_only_there() -> None:
    """Inside ``using`` texts are translated; outside, and after, they are English."""
    with i18n.using("de"):
        assert help_text().endswith("/help - diese Liste")
        assert "/summary <Thema> - " in help_text()
        assert i18n.ngettext("{count} vote", "{count} votes", 2) == "{count} Stimmen"
    assert help_text().endswith("/help - this list")


def test_story_words_follow_the_channel_locale() -> None:
    """A story update's source count, as every platform renders it, is in the locale in
    use when the dispatcher sends it; English outside."""
    with i18n.using("de"):
        assert sources_line(3) == "bisher 3 Quellen"
    with i18n.using("fr"):
        assert sources_line(1) == "1 source jusqu’ici"
    assert sources_line(2) == "2 sources so far"


def test_dates_in_timelines_and_posts_follow_the_channel_locale() -> None:
    """A timeline's day and a post's date name the month in the locale in use (strftime's
    %b would say it in English whatever the channel speaks)."""
    may_12 = 1778544000.0  # 2026-05-12 00:00 UTC
    assert day_of(may_12) == "12 May"
    with i18n.using("de"):
        assert day_of(may_12) == "12. Mai"
    with i18n.using("fr"):
        assert i18n.day_month_year(1, 2, 2026) == "1 févr. 2026"
    with i18n.using("es"):
        assert [i18n.gettext(m) for m in i18n.MONTHS][-1] == "dic"
