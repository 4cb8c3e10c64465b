"""Regular-expression filters: which articles a channel keeps, by patterns an operator or a
chat admin wrote.

Patterns run on RE2 (google-re2), whose matching time grows linearly with the text
whatever the pattern: ``(a+)+$`` against a 100,000-character title takes microseconds, where
a backtracking engine (Python's ``re``) would take longer than the universe has left. The
price is RE2's syntax: no look-around and no back-references; such a pattern is refused with
a clear reason, like any pattern that is empty, too long or too big to compile.

Matching is case-insensitive unless a pattern says ``(?-i)``. An article is matched field by
field (title, text, each tag), so ``^sport$`` means a tag (or a title) that is exactly
"sport".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from bot.errors import UserInputError
from bot.i18n import _
from bot.types import Filters

MAX_PATTERN_CHARS = 300
MAX_PATTERNS = 20  # per list: include, exclude
_PROGRAM_BYTES = 1 << 20  # RE2's memory for one compiled pattern; bigger ones are refused
_LOOKAROUND = ("(?=", "(?!", "(?<=", "(?<!")


class PatternError(UserInputError):
    """A filter pattern newsbrief cannot run; the message says which and why (in the
    current locale: a chat admin may read it)."""

    def __init__(self, pattern: str, reason: str) -> None:
        super().__init__(
            _("pattern {pattern}: {reason}").format(pattern=repr(pattern[:80]), reason=reason)
        )
        self.pattern = pattern
        self.reason = reason


def _options() -> Any:
    import re2

    options = re2.Options()
    options.case_sensitive = False
    options.never_capture = True  # only "does it match" is asked
    options.log_errors = False  # a refused pattern is our error to report, not a log line
    options.max_mem = _PROGRAM_BYTES
    return options


@lru_cache(maxsize=2048)
def _compiled(pattern: str) -> Any:
    """The compiled pattern (cached: every article of every channel matches against it).

    Raises:
        PatternError: RE2 refuses it.
    """
    import re2  # loaded with the first pattern: most installs have none (2.7 MiB)

    try:
        return re2.compile(pattern, _options())
    except re2.error as e:
        raise PatternError(pattern, _reason(pattern, e)) from e


def _reason(pattern: str, error: Exception) -> str:
    detail = error.args[0] if error.args else error
    text = detail.decode("utf-8", "replace") if isinstance(detail, bytes) else str(detail)
    backreference = text.startswith("invalid escape sequence: \\") and text[-1:].isdigit()
    if backreference or any(marker in pattern for marker in _LOOKAROUND):
        return _(
            "look-around and back-references are not supported (filters run in linear time, on RE2)"
        )
    return _("not a valid regular expression: {error}").format(error=text)


def check_pattern(pattern: str) -> str:
    """A pattern as it will be run.

    Raises:
        PatternError: empty, longer than ``MAX_PATTERN_CHARS``, or refused by RE2.
    """
    if not pattern.strip():
        raise PatternError(pattern, _("an empty pattern would match everything"))
    if len(pattern) > MAX_PATTERN_CHARS:
        raise PatternError(
            pattern, _("longer than {limit} characters").format(limit=MAX_PATTERN_CHARS)
        )
    _compiled(pattern)
    return pattern


def check_patterns(patterns: Iterable[str]) -> tuple[str, ...]:
    """Every pattern checked, at most ``MAX_PATTERNS`` of them.

    Raises:
        PatternError: a pattern cannot be run.
        UserInputError: there are more than ``MAX_PATTERNS``.
    """
    checked = tuple(check_pattern(p) for p in patterns)
    if len(checked) > MAX_PATTERNS:
        raise UserInputError(_("at most {count} patterns per list").format(count=MAX_PATTERNS))
    return checked


def _matches(pattern: str, fields: Sequence[str]) -> bool:
    try:
        compiled = _compiled(pattern)
    except PatternError:  # stored before it was checked (a hand edit): it matches nothing
        return False
    return any(compiled.search(field) is not None for field in fields)


def passes(filters: Filters, title: str, text: str, tags: Sequence[str] = ()) -> bool:
    """Whether an article passes: some include pattern (if any) and no exclude pattern
    matches its title, its text or one of its tags."""
    return refusal(filters, title, text, tags) is None


def refusal(filters: Filters, title: str, text: str, tags: Sequence[str] = ()) -> str | None:
    """Why an article does not pass: ``"exclude"`` (an exclude pattern matches),
    ``"include"`` (no include pattern does), or None when it passes."""
    if not filters:
        return None
    fields = (title, text, *tags)
    if any(_matches(p, fields) for p in filters.exclude):
        return "exclude"
    if filters.include and not any(_matches(p, fields) for p in filters.include):
        return "include"
    return None
