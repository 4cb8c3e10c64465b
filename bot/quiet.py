"""One log line for a library's expected faults.

Platform libraries log the faults the world hands them (a 5xx, a dropped connection, a
refused token) with a traceback, at ERROR. For newsbrief these are expected: retried,
reported in ``/status``, and worth one WARNING line with the reason. A record about any
other exception (a bug) keeps its level and traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable


class ExpectedFaults(logging.Filter):
    """Rewrites records whose exception is one of ``expected`` into one WARNING line."""

    def __init__(
        self, expected: tuple[type[BaseException], ...], reason: Callable[[BaseException], str]
    ) -> None:
        super().__init__()
        self._expected = expected
        self._reason = reason

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite an expected fault's record in place; every record is kept."""
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, self._expected):
            record.msg = f"{record.getMessage()} ({self._reason(error)})"
            record.args = None
            record.exc_info = record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def quiet_expected_faults(
    loggers: Iterable[str],
    expected: tuple[type[BaseException], ...],
    reason: Callable[[BaseException], str] = str,
) -> Callable[[], None]:
    """Install :class:`ExpectedFaults` on the named loggers (a filter is not inherited by
    child loggers, so name each one that logs); returns what removes it again."""
    names = list(loggers)
    quiet = ExpectedFaults(expected, reason)
    for name in names:
        logging.getLogger(name).addFilter(quiet)

    def undo() -> None:
        for name in names:
            logging.getLogger(name).removeFilter(quiet)

    return undo
