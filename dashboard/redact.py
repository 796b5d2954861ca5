"""Credentials out of everything the product prints: URLs, log lines, errors.

Broker and Redis URLs carry their password (``redis://:secret@host``,
``mqtt://user:secret@host``); the integrator needs to see which host a process talks to, but
a terminal, a journal or a support ticket must never show the password. Every URL that is
printed goes through ``redact``; every log line goes through ``RedactingFormatter``, so a
URL inside an exception message or a traceback is covered too.

What is hidden: the password of any ``scheme://user:password@`` URL (the user name stays, it
says which account), and the whole user part of ``scheme://token@`` for schemes where the
lone user part is a password (Redis).
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import traceback
from types import TracebackType

MASK = "***"
#: scheme://userinfo@ — the userinfo runs to the last "@" before the host's "/", "?" or "#".
_USERINFO = re.compile(r"\b([a-zA-Z][a-zA-Z0-9+.-]*://)([^\s/?#\"'<>]*)@")
_TOKEN_SCHEMES = (
    "redis://",
    "rediss://",
    "unix://",
    "redis+cluster://",
    "rediss+cluster://",
    "redis+sentinel://",
    "rediss+sentinel://",
)


def _hide(match: re.Match[str]) -> str:
    scheme, userinfo = match.group(1), match.group(2)
    if ":" in userinfo:
        user = userinfo.split(":", 1)[0]
        return f"{scheme}{user}:{MASK}@"
    if scheme.lower() in _TOKEN_SCHEMES and userinfo:
        return f"{scheme}{MASK}@"
    return match.group(0)


def redact(text: str) -> str:
    """``text`` with the password of every URL in it replaced by ``***``."""
    if "@" not in text:
        return text
    return _USERINFO.sub(_hide, text)


#: A JSON member whose name says it holds a secret, with a string value: ``"password": "x"``.
_SECRET_MEMBER = re.compile(
    r'("(?:[A-Za-z_-]*(?:password|passwd|secret|token|api[_-]?key|credential)[A-Za-z_-]*)"\s*:\s*)"(?:[^"\\]|\\.)*"',
    re.IGNORECASE,
)


def redact_payload(text: str) -> str:
    """A producer's message as the dead-letter list shows it: URL passwords and the values of
    members named like secrets hidden. A gateway that sends its own credentials along had
    them shown to every reader of ``/api/v1/dead-letters``."""
    return _SECRET_MEMBER.sub(lambda m: f'{m.group(1)}"{MASK}"', redact(text))


#: The most of one log record that is written: a traceback takes a few thousand characters,
#: while a request's 260 KB path quoted in an error message wrote 260 KB to the log.
MAX_RECORD_CHARS = 16_384
#: What starts every line of a record after its first (a traceback's, a message's own).
CONTINUED = "\n  | "
#: Whatever a reader of the log may take for the end of a line (``str.splitlines`` does).
_LINE_BREAK = re.compile(r"\r\n|[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
#: The other control characters but the tab: written as ``\xNN``.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1b\x1f\x7f-\x84\x86-\x9f]")


class RedactingFormatter(logging.Formatter):
    """Formats as usual, then hides credentials (in messages, arguments and tracebacks) and
    keeps the record one entry of the log.

    A record's later lines are marked, so that text from a request (a path quoted in an
    exception's message) cannot start a line of its own that reads like another record: a
    kiosk token was enough to write "CRITICAL citywall.auth: ..." lines of one's choosing.
    A record past ``MAX_RECORD_CHARS`` is cut, saying how much."""

    def format(self, record: logging.LogRecord) -> str:
        text = _LINE_BREAK.sub(CONTINUED, redact(super().format(record)))
        text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)  # a terminal's escapes, written out
        if len(text) > MAX_RECORD_CHARS:
            text = f"{text[:MAX_RECORD_CHARS]} [... {len(text) - MAX_RECORD_CHARS} more characters cut]"
        return text


def install(level: int, fmt: str) -> None:
    """Root logging with redaction, for every ``citywall`` command; uncaught exceptions too
    (in the main thread and in any other), since their messages may quote a URL."""
    logging.basicConfig(level=level, format=fmt)
    for handler in logging.getLogger().handlers:
        handler.setFormatter(RedactingFormatter(fmt))
    sys.excepthook = _print_redacted
    threading.excepthook = lambda args: _print_redacted(args.exc_type, args.exc_value, args.exc_traceback)


def _print_redacted(kind: type[BaseException], value: BaseException | None, tb: TracebackType | None) -> None:
    sys.stderr.write(redact("".join(traceback.format_exception(kind, value, tb))))
