"""Secret redaction for every line this process logs or prints.

Credentials must never reach stderr, metrics or error messages, including a key
carried in the query string (where it shows up inside URLs in connection errors).
Redaction happens in one place: a log-record factory that formats each record
eagerly and masks every registered secret, so it covers all loggers and handlers,
including ones created later by the SDK or by libraries. The command line runs
its final error message through :func:`redact` as well.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
import traceback
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "****"

# Shorter values are too likely to collide with ordinary text to be masked blindly.
_MIN_SECRET_LENGTH = 3


def _forms(secret: str) -> set[str]:
    """The ways a secret can be written: as is, URL-encoded, and inside a JSON string.

    A server that echoes the request in an error body may use any of them.
    """
    forms = {secret, quote(secret, safe=""), quote_plus(secret), quote(secret)}
    forms |= {json.dumps(form)[1:-1] for form in list(forms)}
    return forms


class Redactor:
    """Masks registered secret values, in all the encodings a URL or header may use.

    Query parameters registered with :meth:`add_query_param` are masked by name as
    well, whatever their value, so a key in the query string stays hidden even when
    it is too short to be masked by value.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: set[str] = set()
        self._params: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    def add(self, *secrets: str | None) -> None:
        """Register secret values (empty ones are ignored)."""
        with self._lock:
            for secret in secrets:
                if not secret or len(secret) < _MIN_SECRET_LENGTH:
                    continue
                self._values.update(_forms(secret))
            self._compile()

    def add_query_param(self, name: str) -> None:
        """Mask the value of the query parameter ``name`` in every URL, whatever it is."""
        with self._lock:
            self._params.add(name)
            self._compile()

    def add_basic_pair(self, username: str | None, password: str | None) -> None:
        """Register a basic-auth pair, including its base64 header form."""
        self.add(username, password)
        if username and password:
            token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
            self.add(token)

    def clear(self) -> None:
        """Forget every secret (tests register different ones per case)."""
        with self._lock:
            self._values.clear()
            self._params.clear()
            self._pattern = None

    @property
    def active(self) -> bool:
        """Whether anything is registered (nothing to mask otherwise)."""
        return self._pattern is not None

    def _compile(self) -> None:
        # Longest first, so a value that contains another is masked whole.
        ordered = sorted(self._values, key=len, reverse=True)
        alternatives = [re.escape(v) for v in ordered]
        # ``name=value`` in a query string: the value runs to the next separator.
        alternatives += [
            rf"(?<=[?&;]{re.escape(name)}=)[^&;#\s'\"<>]+" for name in sorted(self._params)
        ]
        self._pattern = re.compile("|".join(alternatives)) if alternatives else None

    def redact(self, text: str) -> str:
        """Return ``text`` with every registered secret replaced by a mask."""
        pattern = self._pattern
        if pattern is None or not text:
            return text
        return pattern.sub(MASK, text)


REDACTOR = Redactor()


def redact(text: str) -> str:
    """Mask every registered secret in ``text``."""
    return REDACTOR.redact(text)


_base_factory = logging.getLogRecordFactory()


def _redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    """Make a log record, with every registered secret masked in its message and traceback.

    A record with nothing to mask is left as it was made (the SDK's metric filters and
    structured formatter read ``args``); one with a secret is formatted here, masked,
    and keeps no reference to the unmasked arguments or exception.
    """
    record = _base_factory(*args, **kwargs)
    if not REDACTOR.active:
        return record
    try:
        message = record.getMessage()
    except (TypeError, ValueError):  # a malformed call; leave it to logging's own report
        return record
    masked = redact(message)
    if masked != message:
        record.msg = masked
        record.args = None
    if record.exc_info:
        text = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        if redact(text) != text:
            # Formatters print exc_text when it is set; a structured formatter that reads
            # the exception object itself would print it unmasked, so the object goes.
            record.exc_text = redact(text)
            record.exc_info = None
    return record


def install() -> None:
    """Route every log record of this process through the redactor (idempotent)."""
    if logging.getLogRecordFactory() is not _redacting_factory:
        logging.setLogRecordFactory(_redacting_factory)
