"""``/filter``: reading a chat admin's filter edit, applying it, and showing a chat's
filters. Pure functions; the service stores the result."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.errors import UserInputError
from bot.i18n import _
from bot.ingest.filters import MAX_PATTERNS, check_pattern
from bot.types import Channel, Filters

_EDIT = re.compile(r"^\s*(include|exclude|remove|clear)\b\s*(.*?)\s*$", re.IGNORECASE | re.DOTALL)
_NUMBER = re.compile(r"[0-9]{1,4}")


@dataclass(frozen=True)
class FilterEdit:
    """What ``/filter ARGS`` asks: ``include``/``exclude`` a pattern, ``remove`` the
    numbered one, or ``clear`` them all (the chat's own; the operator's stay)."""

    action: str
    value: str = ""


def parse_edit(args: str) -> FilterEdit | None:
    """The edit ``args`` asks for; None for empty ``args`` (show the filters).

    Raises:
        UserInputError: not one of the edits, or a pattern that cannot be run (the
            message says why).
    """
    if not args.strip():
        return None
    match = _EDIT.match(args)
    if match is None:
        raise UserInputError(_usage())
    action, value = match.group(1).lower(), match.group(2)
    if action in ("include", "exclude"):
        if not value:
            raise UserInputError(_usage())
        check_pattern(value)
    elif (action == "remove" and not _NUMBER.fullmatch(value)) or (action == "clear" and value):
        raise UserInputError(_usage())
    return FilterEdit(action, value)


def _usage() -> str:
    return _(
        "Usage: /filter include <pattern>, /filter exclude <pattern>, /filter remove <number> "
        "or /filter clear; /filter alone shows this chat's filters."
    )


def apply_edit(filters: Filters, edit: FilterEdit) -> Filters:
    """The chat's filters after ``edit``.

    Raises:
        UserInputError: a list would hold more than ``MAX_PATTERNS`` patterns, or there
            is no pattern with that number.
    """
    if edit.action == "clear":
        return Filters()
    if edit.action == "remove":
        return _removed(filters, int(edit.value))
    key = "include" if edit.action == "include" else "exclude"
    patterns: tuple[str, ...] = getattr(filters, key)
    if edit.value in patterns:
        return filters
    if len(patterns) >= MAX_PATTERNS:
        raise UserInputError(
            _("A chat can set at most {count} patterns of each kind.").format(count=MAX_PATTERNS)
        )
    added = (*patterns, edit.value)
    return Filters(added, filters.exclude) if key == "include" else Filters(filters.include, added)


def _removed(filters: Filters, number: int) -> Filters:
    count = len(filters.include) + len(filters.exclude)
    if not 1 <= number <= count:
        raise UserInputError(
            _("There is no filter number {number} set in this chat. See /filter.").format(
                number=number
            )
        )
    index = number - 1
    if index < len(filters.include):
        return Filters(filters.include[:index] + filters.include[index + 1 :], filters.exclude)
    index -= len(filters.include)
    return Filters(filters.include, filters.exclude[:index] + filters.exclude[index + 1 :])


def describe(channel: Channel | None) -> str:
    """A chat's filters as ``/filter`` shows them: the operator's, then the chat's own,
    numbered for ``/filter remove``."""
    lines = [
        _(
            "Filters are regular expressions, matched case-insensitively against each "
            "article's title, text and tags: an article must match an include pattern "
            "(when there is one) and no exclude pattern."
        )
    ]
    operator = channel.subscription.patterns if channel else Filters()
    keywords = _keywords(channel)
    if operator or keywords:
        lines += ["", _("Set by the operator:"), *_listed(operator, numbered=False)]
        lines += [_("keywords: {words}").format(words=keywords)] if keywords else []
    chat = channel.chat_filters if channel else Filters()
    lines += ["", _("Set in this chat:") if chat else _("None set in this chat yet.")]
    lines += _listed(chat, numbered=True)
    lines += ["", _usage()]
    return "\n".join(lines)


def _keywords(channel: Channel | None) -> str:
    if channel is None:
        return ""
    sub = channel.subscription
    return ", ".join([*sub.include, *(f"-{w}" for w in sub.exclude)])


def _listed(filters: Filters, *, numbered: bool) -> list[str]:
    # the words a chat admin types, so not translated
    pairs = [("include", p) for p in filters.include] + [("exclude", p) for p in filters.exclude]
    return [
        f"{f'{n}. ' if numbered else ''}{kind}: {pattern}"
        for n, (kind, pattern) in enumerate(pairs, start=1)
    ]
