"""The one secret filter: no configured secret reaches a log handler.

Libraries log what they send (httpx logs request URLs, and a Telegram Bot API URL holds the
bot token), and exceptions quote what failed. The composition root builds one
:class:`SecretFilter` from every configured secret and installs it on the root logger's
handlers, which every propagating record passes through, whichever logger made it.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterable, Mapping

MARKER = "[redacted]"
MIN_SECRET_CHARS = 6  # shorter values are not secrets worth hiding, and would mangle logs
_BOT_TOKEN = re.compile(r"\d+:([\w-]+)")  # a Telegram bot token: bot id, colon, secret


class SecretFilter(logging.Filter):
    """Replaces every configured secret with ``[redacted]`` in the log records it sees:
    the message (with its arguments), the formatted traceback and the stack.

    A Telegram-style token (``123456:ABC…``) is also redacted by its secret half alone.
    Values shorter than six characters, and empty ones (an unset setting), are ignored.
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._pattern = _pattern(secrets)
        self._attached: list[logging.Filterer] = []

    def redact(self, text: str) -> str:
        """``text`` with each secret replaced by the marker."""
        return self._pattern.sub(MARKER, text) if self._pattern else text

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact ``record`` in place and let it through; never raises."""
        if self._pattern:
            with contextlib.suppress(Exception):
                self._redact_message(record)
            with contextlib.suppress(Exception):
                self._redact_traceback(record)
        return True

    def install(self, logger_names: Iterable[str] = ()) -> None:
        """Attach to the root logger's handlers and to the named loggers; idempotent.

        Call it after logging is configured: a handler added to the root later is not
        covered. A named logger only filters records made at that very logger; name one
        whose records do not reach the root's handlers (``propagate = False``).
        """
        targets = [*logging.getLogger().handlers, *map(logging.getLogger, logger_names)]
        for target in targets:
            if self not in target.filters:
                target.addFilter(self)
                self._attached.append(target)

    def uninstall(self) -> None:
        """Detach from exactly what :meth:`install` attached to."""
        for target in self._attached:
            target.removeFilter(self)
        self._attached = []

    def _redact_message(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: the handler reports it, quoting its parts
            record.msg, record.args = self._redact_value(record.msg), self._redact_args(record)
            return
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()

    def _redact_traceback(self, record: logging.LogRecord) -> None:
        if record.exc_info and not record.exc_text:
            # Formatters use exc_text when it is set, so the redacted copy is what gets out.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)

    def _redact_args(self, record: logging.LogRecord) -> tuple[object, ...] | Mapping[str, object]:
        args = record.args
        if isinstance(args, Mapping):
            return {key: self._redact_value(value) for key, value in args.items()}
        return tuple(self._redact_value(value) for value in args or ())

    def _redact_value(self, value: object) -> object:
        return self.redact(value) if isinstance(value, str) else value


def _pattern(secrets: Iterable[str]) -> re.Pattern[str] | None:
    """One pattern for every secret and secret half, longest first so a whole token is
    replaced before its half could be."""
    values = {part for secret in secrets for part in _parts(secret.strip())}
    values = {value for value in values if len(value) >= MIN_SECRET_CHARS}
    if not values:
        return None
    return re.compile("|".join(re.escape(v) for v in sorted(values, key=len, reverse=True)))


def _parts(secret: str) -> list[str]:
    token = _BOT_TOKEN.fullmatch(secret)
    return [secret, token.group(1)] if token else [secret]
