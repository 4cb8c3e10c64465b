"""Digest schedules and what a digest holds: pure functions of (settings, last slot, now)
and of the stories held.

A channel's ``digest`` setting is a list of times, each ``"HH:MM [Zone]"`` (a local time
every day, in an IANA zone such as ``Europe/Berlin``, UTC when none is named) or
``"every DURATION [Zone]"`` (every 6h from midnight: a duration that divides a day
gives local times, so ``"every 6h Europe/Berlin"`` is 00:00, 06:00, 12:00 and 18:00 Berlin
time; any other runs from the Unix epoch). The slots are the union of every entry's.

Local times follow daylight-saving changes: 08:00 Berlin is 07:00 UTC in winter and 06:00
UTC in summer. A local time the clocks skip (02:30 on the night they spring forward) is
taken as the same wall time before the change, so it falls an hour later; a time that comes
twice (the night they fall back) is taken the first time. Either way each day has one slot.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.errors import ConfigError
from bot.types import Article, Summary

MIN_EVERY = 15 * 60.0  # the shortest "every"
ONE_LINE_CHARS = 200  # a story's line in a digest
DAY = 86400.0
_AT = re.compile(r"^(\d{1,2}):(\d{2})(?:\s+(\S+))?$")
_EVERY = re.compile(r"^every\s+(\d+(?:\.\d+)?)\s*(m|h|d)(?:\s+(\S+))?$", re.IGNORECASE)
_UNITS = {"m": 60.0, "h": 3600.0, "d": DAY}


@dataclass(frozen=True)
class Daily:
    """A local time every day in a zone."""

    hour: int
    minute: int
    zone: str = "UTC"


@dataclass(frozen=True)
class Every:
    """Every ``seconds``, counted from the Unix epoch (UTC)."""

    seconds: float


Rule = Daily | Every


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    """The IANA zone called ``name``.

    Raises:
        ConfigError: there is no such zone.
    """
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise ConfigError(f"unknown time zone {name!r} (use an IANA name: Europe/Berlin)") from e


def check_zone(name: str) -> str:
    """``name`` if it is an IANA zone (``Europe/Berlin``).

    Raises:
        ConfigError: there is no such zone.
    """
    _zone(name)
    return name


def parse_entry(text: str) -> tuple[Rule, ...]:
    """One entry of a ``digest`` setting as rules.

    Raises:
        ConfigError: neither ``HH:MM [Zone]`` nor ``every DURATION [Zone]``, or a time,
            duration or zone that does not exist.
    """
    text = " ".join(text.split())
    if at := _AT.match(text):
        hour, minute = int(at.group(1)), int(at.group(2))
        if hour > 23 or minute > 59:
            raise ConfigError(f"digest {text!r}: no such time of day")
        zone = at.group(3) or "UTC"
        _zone(zone)
        return (Daily(hour, minute, zone),)
    if every := _EVERY.match(text):
        seconds = float(every.group(1)) * _UNITS[every.group(2).lower()]
        if seconds < MIN_EVERY:
            raise ConfigError(f"digest {text!r}: at most one digest every {MIN_EVERY / 60:g}m")
        return _every(seconds, every.group(3))
    raise ConfigError(
        f'digest {text!r}: expected a time such as "08:00 Europe/Berlin" or "every 6h"'
    )


def _every(seconds: float, zone: str | None) -> tuple[Rule, ...]:
    if zone is not None:
        _zone(zone)
    whole = round(seconds)
    if whole != seconds or DAY % whole:
        if zone is not None:
            raise ConfigError(f"every {seconds:g}s with a time zone must divide a day")
        return (Every(seconds),)
    count = int(DAY // whole)
    return tuple(
        Daily(int(k * whole // 3600), int(k * whole % 3600 // 60), zone or "UTC")
        for k in range(count)
    )


def parse_schedule(entries: Iterable[str]) -> tuple[Rule, ...]:
    """A whole ``digest`` setting (one entry or several) as rules; empty for none.

    Raises:
        ConfigError: an entry is not a digest time (see :func:`parse_entry`).
    """
    rules: list[Rule] = []
    for entry in entries:
        rules += [r for r in parse_entry(entry) if r not in rules]
    return tuple(rules)


def _daily_at(rule: Daily, day: date) -> float:
    zone = _zone(rule.zone)
    local = datetime(day.year, day.month, day.day, rule.hour, rule.minute, tzinfo=zone)
    return local.timestamp()  # fold=0: a skipped time is read before the change


def _latest_daily(rule: Daily, now: float) -> float:
    today = datetime.fromtimestamp(now, _zone(rule.zone)).date()
    for back in range(3):  # today's slot, else yesterday's (a 23-hour day needs no more)
        slot = _daily_at(rule, today - timedelta(days=back))
        if slot <= now:
            return slot
    raise AssertionError("a daily slot within three days")  # pragma: no cover


def _next_daily(rule: Daily, now: float) -> float:
    today = datetime.fromtimestamp(now, _zone(rule.zone)).date()
    for ahead in range(3):
        slot = _daily_at(rule, today + timedelta(days=ahead))
        if slot > now:
            return slot
    raise AssertionError("a daily slot within three days")  # pragma: no cover


def latest_slot(rules: Sequence[Rule], now: float) -> float | None:
    """The latest slot at or before ``now``; None without rules."""
    slots = [
        _latest_daily(r, now) if isinstance(r, Daily) else math.floor(now / r.seconds) * r.seconds
        for r in rules
    ]
    return max(slots, default=None)


def next_slot(rules: Sequence[Rule], now: float) -> float | None:
    """The first slot after ``now``; None without rules."""
    slots = [
        _next_daily(r, now)
        if isinstance(r, Daily)
        else (math.floor(now / r.seconds) + 1) * r.seconds
        for r in rules
    ]
    return min(slots, default=None)


def due_slot(rules: Sequence[Rule], last: float, now: float) -> float | None:
    """The slot a digest is owed for now: the latest slot at or before ``now`` if it
    comes after ``last`` (the last slot decided), else None. However many slots passed
    since ``last`` (the bot was down), only the latest is owed: one digest, not one per
    missed slot."""
    slot = latest_slot(rules, now)
    return slot if slot is not None and slot > last else None


def zone_of(rules: Sequence[Rule]) -> str:
    """The zone a digest's times are shown in: its first local time's, else UTC."""
    return next((r.zone for r in rules if isinstance(r, Daily)), "UTC")


def local_time(when: float, zone: str) -> str:
    """``2027-03-08 08:00`` in ``zone``."""
    return datetime.fromtimestamp(when, _zone(zone)).strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class DigestStory:
    """A story in a digest: the channel's first held article of it (its lead), how many
    feeds tell it, and when it was last published."""

    lead: Article
    sources: int
    latest: float


def gather(held: Sequence[Article], stories: Mapping[int, Sequence[Article]]) -> list[DigestStory]:
    """The stories of a digest, ranked: the most sources first, then the most recent, then
    the earliest story. ``held`` are the articles held for the channel, oldest first;
    ``stories`` every article of their stories (for sources and recency)."""
    leads: dict[int, Article] = {}
    for article in held:
        leads.setdefault(article.story_id, article)
    gathered = []
    for story_id, lead in leads.items():
        tellings = list(stories.get(story_id, ())) or [lead]
        feeds = {a.feed_id for a in tellings}
        gathered.append(DigestStory(lead, len(feeds), max(a.published for a in tellings)))
    return sorted(gathered, key=lambda s: (-s.sources, -s.latest, s.lead.story_id))


def one_line(summary: Summary, limit: int = ONE_LINE_CHARS) -> str:
    """A summary in one line: its headline when it has one, else its first sentence, cut
    at a word to ``limit`` characters."""
    line = summary.headline or (summary.sentences[0] if summary.sentences else summary.text)
    line = " ".join(line.split())
    if len(line) <= limit:
        return line
    return line[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:") + "…"
