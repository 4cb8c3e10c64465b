"""The bot's own words in the reader's language: gettext catalogues, chosen per message.

Every user-facing text of the core (command replies, errors, ``/help``, ``/status``, poll
results, digests) goes through :func:`gettext` (``_``) or :func:`ngettext`, with English as
the source. Catalogues are ``bot/locale/<locale>/LC_MESSAGES/newsbrief.mo``, compiled from
the ``.po`` files beside them (``make locales``; a test fails when they drift apart or a
text is not translated).

Which language is the caller's choice for one piece of work: the service answers a command
inside ``with using(locale)``, the composer builds a channel's post inside one; code below
reads the choice from a context variable, so each task (each command, each post) has its
own and nothing is shared between them. Outside any ``using`` block texts are English.
"""

from __future__ import annotations

import gettext as _gettext
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.types import Channel

DOMAIN = "newsbrief"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
SOURCE = "en"  # the language the texts are written in

_current: ContextVar[str] = ContextVar("newsbrief_locale", default=SOURCE)


@cache
def available() -> tuple[str, ...]:
    """Every locale newsbrief speaks: English and each shipped catalogue, sorted."""
    shipped = {p.parents[1].name for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.mo")}
    return tuple(sorted(shipped | {SOURCE}))


def normalize(tag: str) -> str:
    """A language tag as catalogues are named: ``pt-BR`` → ``pt_BR``, ``DE`` → ``de``."""
    parts = tag.strip().replace("-", "_").split("_")
    head = parts[0].lower()
    return "_".join([head, *(p.upper() for p in parts[1:] if p)]) if head else ""


def negotiate(*wanted: str) -> str:
    """The first wanted locale newsbrief speaks (``de-AT`` is served by ``de``); English
    when none is. Empty values are skipped, so callers list their choices in order."""
    for tag in wanted:
        found = _match(normalize(tag))
        if found:
            return found
    return SOURCE


def _match(tag: str) -> str:
    if not tag:
        return ""
    if tag in available():
        return tag
    head = tag.split("_", 1)[0]
    return head if head in available() else ""


@cache
def _catalogue(locale: str) -> _gettext.NullTranslations:
    if locale == SOURCE:
        return _gettext.NullTranslations()
    return _gettext.translation(DOMAIN, LOCALE_DIR, [locale], fallback=True)


def current() -> str:
    """The locale texts are translated into here."""
    return _current.get()


def channel_locale(channel: Channel) -> str:
    """The language of the bot's own words in a channel's posts and previews (poll options,
    results, digests, dates): its ``locale``, else its summaries' ``language``, else English."""
    return negotiate(channel.options.locale, channel.options.language)


@contextmanager
def using(locale: str) -> Iterator[str]:
    """Translate into ``locale`` (negotiated to one newsbrief speaks) inside the block."""
    token = _current.set(negotiate(locale))
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def gettext(message: str) -> str:
    """``message`` in the current locale (itself when it has no translation)."""
    return _catalogue(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form that fits ``n``, in the current locale."""
    return _catalogue(_current.get()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark ``message`` for translation where it is defined; translate it where it is
    shown (``gettext(spec.help)``)."""
    return message


_ = gettext

# abbreviated month names, translated where a date is shown (strftime's %b is the C
# locale's English whatever the channel speaks)
MONTHS = (
    N_("Jan"),
    N_("Feb"),
    N_("Mar"),
    N_("Apr"),
    N_("May"),
    N_("Jun"),
    N_("Jul"),
    N_("Aug"),
    N_("Sep"),
    N_("Oct"),
    N_("Nov"),
    N_("Dec"),
)


def day_month(day: int, month: int) -> str:
    """``12 May`` in the current locale (``12. Mai``, ``12 may``, ``12 mai``)."""
    return gettext("{day} {month}").format(day=day, month=gettext(MONTHS[month - 1]))


def day_month_year(day: int, month: int, year: int) -> str:
    """``12 May 2026`` in the current locale."""
    return gettext("{day} {month} {year}").format(
        day=day, month=gettext(MONTHS[month - 1]), year=year
    )


def names(locales: Iterable[str] | None = None) -> str:
    """``de, en, es, fr``: the locales, for messages about them."""
    return ", ".join(available() if locales is None else locales)
