"""The one secret filter: configured secrets never reach a log handler."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator

import pytest

from bot.redact import MARKER, SecretFilter

TELEGRAM_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
TELEGRAM_SECRET = TELEGRAM_TOKEN.partition(":")[2]
DISCORD_TOKEN = "MTk4NjIyNDgzNDcxOTI1MjQ4.Cl2FMQ.ZnCjm1XVW7vRze4b7Cq4se7kKWs"
OPENAI_KEY = "sk-test-0123456789abcdef"


def record(msg: object, *args: object, level: int = logging.INFO) -> logging.LogRecord:
    """A record as a logger would make it, with ``msg % args`` as its message."""
    return logging.LogRecord("lib", level, __file__, 1, msg, args or None, None)


class Collector(logging.Handler):
    """A handler that keeps the messages it is given."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def secret_filter() -> SecretFilter:
    return SecretFilter([TELEGRAM_TOKEN, DISCORD_TOKEN, OPENAI_KEY, ""])


@pytest.fixture
def installed(secret_filter: SecretFilter) -> Iterator[SecretFilter]:
    secret_filter.install()
    yield secret_filter
    secret_filter.uninstall()


def test_token_in_the_message_is_redacted(secret_filter: SecretFilter) -> None:
    """A token written into the message is replaced by one marker."""
    entry = record(f"POST https://api.telegram.org/bot{TELEGRAM_TOKEN}/getMe")
    assert secret_filter.filter(entry)
    assert entry.getMessage() == f"POST https://api.telegram.org/bot{MARKER}/getMe"


def test_token_in_the_arguments_is_redacted(secret_filter: SecretFilter) -> None:
    """A token passed as a %-argument is redacted in the merged message."""
    entry = record("with %s and %d", DISCORD_TOKEN, 3)
    assert secret_filter.filter(entry)
    assert entry.getMessage() == f"with {MARKER} and 3"


def test_secret_half_alone_is_redacted(secret_filter: SecretFilter) -> None:
    """The part of a Telegram token after the colon is a secret on its own (URL-encoded
    tokens show it without the colon)."""
    entry = record(f"GET /bot123456789%3A{TELEGRAM_SECRET}/getUpdates")
    secret_filter.filter(entry)
    assert entry.getMessage() == f"GET /bot123456789%3A{MARKER}/getUpdates"


def test_several_secrets_in_one_record(secret_filter: SecretFilter) -> None:
    """Every configured secret is redacted, wherever it sits."""
    entry = record("%s %s %s", OPENAI_KEY, TELEGRAM_TOKEN, {"auth": DISCORD_TOKEN})
    secret_filter.filter(entry)
    assert entry.getMessage() == f"{MARKER} {MARKER} {{'auth': '{MARKER}'}}"


def test_token_in_a_traceback_is_redacted(secret_filter: SecretFilter) -> None:
    """An exception quoting the token is formatted and redacted before any handler sees it."""
    try:
        raise ValueError(f"bad token {TELEGRAM_TOKEN}")
    except ValueError:
        entry = record("failed with %s", TELEGRAM_TOKEN, level=logging.ERROR)
        entry.exc_info = sys.exc_info()
    assert secret_filter.filter(entry)
    assert entry.getMessage() == f"failed with {MARKER}"
    assert entry.exc_text is not None
    assert f"ValueError: bad token {MARKER}" in entry.exc_text
    formatted = logging.Formatter().format(entry)
    assert TELEGRAM_SECRET not in formatted and MARKER in formatted


def test_token_in_the_stack_info_is_redacted(secret_filter: SecretFilter) -> None:
    """A stack dump that holds the token (a local in a frame line) is redacted."""
    entry = record("where")
    entry.stack_info = f'Stack (most recent call last):\n  token = "{DISCORD_TOKEN}"'
    secret_filter.filter(entry)
    assert entry.stack_info == f'Stack (most recent call last):\n  token = "{MARKER}"'


def test_a_record_without_secrets_is_left_as_it_is(secret_filter: SecretFilter) -> None:
    """Records without a secret keep their msg and args (handlers may use them)."""
    entry = record("sent %d posts", 3)
    assert secret_filter.filter(entry)
    assert (entry.msg, entry.args) == ("sent %d posts", (3,))


def test_short_and_empty_secrets_are_ignored() -> None:
    """An unset setting or a value too short to be a secret does not mangle the logs."""
    secret_filter = SecretFilter(["", "abc", "  "])
    entry = record("abc and more abc")
    assert secret_filter.filter(entry)
    assert entry.getMessage() == "abc and more abc"


def test_a_malformed_record_passes_through(secret_filter: SecretFilter) -> None:
    """A record whose arguments do not fit its message still passes, its parts redacted."""
    entry = record("%d items for %s", "many", TELEGRAM_TOKEN)
    assert secret_filter.filter(entry)
    assert entry.args == ("many", MARKER)
    with pytest.raises(TypeError):
        entry.getMessage()


def test_a_record_from_any_logger_is_redacted_after_install(
    installed: SecretFilter, caplog: pytest.LogCaptureFixture
) -> None:
    """Installed on the root's handlers, the filter sees records from unrelated loggers."""
    caplog.set_level(logging.DEBUG)
    logging.getLogger("some.library.nobody.named").debug("key=%s", OPENAI_KEY)
    assert OPENAI_KEY not in caplog.text
    assert f"key={MARKER}" in caplog.text


def test_install_is_idempotent_and_uninstall_restores(
    secret_filter: SecretFilter, caplog: pytest.LogCaptureFixture
) -> None:
    """Installing twice attaches once; uninstall removes exactly what was attached."""
    caplog.set_level(logging.DEBUG)
    named = logging.getLogger("newsbrief.test.quiet")
    before = [list(h.filters) for h in logging.getLogger().handlers], list(named.filters)
    secret_filter.install(["newsbrief.test.quiet"])
    secret_filter.install(["newsbrief.test.quiet"])
    assert named.filters.count(secret_filter) == 1
    assert all(h.filters.count(secret_filter) == 1 for h in logging.getLogger().handlers)
    secret_filter.uninstall()
    after = [list(h.filters) for h in logging.getLogger().handlers], list(named.filters)
    assert after == before
    logging.getLogger("elsewhere").info("key=%s", OPENAI_KEY)
    assert OPENAI_KEY in caplog.text


def test_a_named_logger_that_does_not_propagate_is_covered(secret_filter: SecretFilter) -> None:
    """A logger with its own handler and no propagation is filtered when named."""
    handler = Collector()
    quiet = logging.getLogger("newsbrief.test.isolated")
    quiet.addHandler(handler)
    quiet.propagate = False
    try:
        secret_filter.install(["newsbrief.test.isolated"])
        quiet.warning("token %s", TELEGRAM_TOKEN)
    finally:
        secret_filter.uninstall()
        quiet.removeHandler(handler)
        quiet.propagate = True
    assert handler.messages == [f"token {MARKER}"]


def test_discord_token_in_arguments_and_traceback() -> None:
    """A Discord token in %-arguments and in an exception is redacted in both (moved from
    the Discord adapter's own redactor)."""
    secret_filter = SecretFilter([DISCORD_TOKEN])
    try:
        raise ValueError(f"bad token {DISCORD_TOKEN}")
    except ValueError as e:
        entry = logging.LogRecord(
            "discord", logging.ERROR, "x", 1, "with %s", (DISCORD_TOKEN,), None
        )
        entry.exc_info = (type(e), e, e.__traceback__)
    assert secret_filter.filter(entry)
    assert entry.getMessage() == "with [redacted]"
    assert entry.exc_text is not None
    assert DISCORD_TOKEN not in entry.exc_text
