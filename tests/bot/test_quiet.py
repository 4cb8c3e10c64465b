"""One log line for a library's expected faults; bugs keep their traceback."""

from __future__ import annotations

import logging

import pytest

from bot.quiet import quiet_expected_faults


def _log_errors(logger: logging.Logger, *errors: Exception) -> None:
    for error in errors:
        try:
            raise error
        except Exception:
            logger.exception("Attempting a reconnect in 1.00s")


def test_an_expected_fault_is_one_warning_line_and_a_bug_keeps_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """On the named loggers, a record about an expected exception becomes one WARNING
    line with the reason; one about another exception is untouched; after undo nothing is
    rewritten."""
    logger = logging.getLogger("somelib.client")
    undo = quiet_expected_faults(["somelib.client"], (OSError,))
    _log_errors(logger, ConnectionResetError("reset by peer"), KeyError("bug"))
    undo()
    _log_errors(logger, ConnectionResetError("after undo"))
    fault, bug, later = caplog.records[-3:]
    assert (fault.levelno, fault.exc_info) == (logging.WARNING, None)
    assert fault.getMessage() == "Attempting a reconnect in 1.00s (reset by peer)"
    assert bug.levelno == logging.ERROR and bug.exc_info is not None
    assert later.levelno == logging.ERROR and later.exc_info is not None


def test_other_loggers_are_left_alone(caplog: pytest.LogCaptureFixture) -> None:
    """A filter sits on the loggers it names only (child loggers do not inherit it)."""
    undo = quiet_expected_faults(["somelib"], (OSError,))
    try:
        _log_errors(logging.getLogger("somelib.child"), OSError("down"))
    finally:
        undo()
    assert caplog.records[-1].levelno == logging.ERROR
