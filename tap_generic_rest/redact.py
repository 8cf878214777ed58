"""Secret redaction for every line this process logs or prints.

Credentials must never reach stderr, metrics or error messages, including a key
carried in the query string (where it shows up inside URLs in connection errors).
Redaction happens in one place: a log-record factory that formats each record
eagerly and masks every registered secret, so it covers all loggers and handlers,
including ones created later by the SDK or by libraries. The command line runs
its final error message through :func:`redact` as well.

A secret is masked in every form it may be printed in (:func:`derived_forms`), not
only whole: its base64 forms, and when it is a URL (a webhook-style ``base_url``
read through ``dlt.secrets``) each part that lines print apart from it, its path
(what error lines and the probe show), query values, user info, fragment, and a
token-like path segment alone. Its scheme and host are not masked: lines name the
server by them.
"""

from __future__ import annotations

import base64
import logging
import re
import threading
import traceback
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

MASK = "****"

#: Shorter values are too likely to collide with ordinary text to be masked by value.
MIN_SECRET_LENGTH = 4
#: Bytes of an error body decoded and masked to make its excerpt.
_EXCERPT_WINDOW = 1 << 16
#: Longest text one character of a secret can be written as (``%25F0%259F%2598%2580``).
_LONGEST_CHAR_FORM = 24

#: A path segment of a secret URL masked alone too: long, or mixing letters and digits.
_TOKEN_LIKE = re.compile(r"(?=.*\d)(?=.*[A-Za-z]).{8,}|.{16,}")

_NAMED_ENTITIES = {"&": ("amp",), "<": ("lt",), ">": ("gt",), '"': ("quot",), "'": ("apos",)}
_JSON_SHORT = {'"': '\\"', "\\": "\\\\", "/": "\\/", "\b": "\\b", "\f": "\\f"}
_JSON_SHORT |= {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _hex(value: int, width: int) -> str:
    """``value`` in hex digits as a pattern matching either case (``%2b`` and ``%2B``)."""
    digits = f"{value:0{width}X}"
    return "".join(f"[{d}{d.lower()}]" if d.isalpha() else d for d in digits)


def _char_forms(char: str) -> list[str]:
    r"""Patterns for every way one character of a secret may be written.

    As is; percent-encoded (UTF-8 bytes, either case, also twice encoded, Latin-1
    and ``%uXXXX`` as old encoders write them; ``+`` for a space); JSON-escaped
    (``\u0026``, ``\"``); and HTML-escaped (``&amp;``, ``&#38;``, ``&#x26;``).
    Together they match encodeURIComponent, quote, quote_plus, form encoding and
    any mixture of them, character by character.
    """
    code = ord(char)
    forms = [re.escape(char)]
    utf8 = char.encode()
    forms.append("".join(f"%(?:25)?{_hex(byte, 2)}" for byte in utf8))
    if 0x80 <= code <= 0xFF:
        forms.append(f"%{_hex(code, 2)}")
    if code > 0xFF:
        forms.append(f"%[uU]{_hex(code, 4)}")
    if char == " ":
        forms.append(r"\+")
    if code > 0xFFFF:
        high, low = 0xD800 + ((code - 0x10000) >> 10), 0xDC00 + ((code - 0x10000) & 0x3FF)
        forms.append(rf"\\[uU]{_hex(high, 4)}\\[uU]{_hex(low, 4)}")
    else:
        forms.append(rf"\\[uU]{_hex(code, 4)}")
    if char in _JSON_SHORT:
        forms.append(re.escape(_JSON_SHORT[char]))
    if char == '"':  # JSON-escaped, then HTML-escaped: \\&quot;
        forms.append(r"\\(?:&quot;|&#0*34;|&#[xX]0*22;)")
    forms.append(f"&#0*{code};")
    forms.append(f"&#[xX]0*{_hex(code, 1)};")
    forms.extend(f"&{name};" for name in _NAMED_ENTITIES.get(char, ()))
    return forms


def derived_forms(secret: str) -> set[str]:
    """Every part of ``secret`` that may be printed apart from it, itself included.

    For a URL, the parts lines print alone: everything after the host, the path
    (with and without its slashes), the query, each query value, user info, the
    fragment, and each token-like path segment. Parts too short to mask are left out.
    """
    forms = {secret}
    try:
        parts = urlsplit(secret)
    except ValueError:
        parts = None
    if parts is not None and parts.scheme and parts.netloc:
        after_host = secret.split(parts.netloc, 1)[1]
        forms |= {after_host, after_host.lstrip("/"), parts.path, parts.path.strip("/")}
        forms |= {parts.query, parts.fragment, parts.password or ""}
        if parts.password:
            forms.add(parts.username or "")
        forms |= {value for _, value in parse_qsl(parts.query)}
        segments = [segment for segment in parts.path.split("/") if segment]
        forms |= {segment for segment in segments if _TOKEN_LIKE.fullmatch(unquote(segment))}
        forms |= {unquote(form) for form in forms}
    return {form for form in forms if len(form) >= MIN_SECRET_LENGTH}


def base64_forms(value: str) -> set[str]:
    """``value`` in base64, standard and URL-safe, with and without padding.

    Matched as they are: base64 text is never escaped further.
    """
    forms = set()
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        text = encode(value.encode()).decode("ascii")
        forms |= {text, text.rstrip("=")}
    return forms


def secret_pattern(secret: str) -> str:
    """A pattern matching ``secret`` in every encoding above, mixed character by character."""
    return "".join(f"(?:{'|'.join(_char_forms(char))})" for char in secret)


class Redactor:
    """Masks registered secret values, in all the encodings a URL or header may use.

    Query parameters registered with :meth:`add_query_param` are masked by name as
    well, whatever their value, so a key in the query string stays hidden even when
    it is too short to be masked by value.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: set[str] = set()
        #: Forms matched literally (base64): not one pattern per character.
        self._literals: set[str] = set()
        self._params: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    def add(self, *secrets: str | None) -> None:
        """Register secret values (empty ones, and ones too short to mask, are ignored)."""
        with self._lock:
            for secret in secrets:
                if not secret or len(secret) < MIN_SECRET_LENGTH:
                    continue
                forms = derived_forms(secret)
                self._values |= forms
                for form in forms:
                    self._literals |= base64_forms(form)
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
            self._literals.clear()
            self._params.clear()
            self._pattern = None

    @property
    def active(self) -> bool:
        """Whether anything is registered (nothing to mask otherwise)."""
        return self._pattern is not None

    def _compile(self) -> None:
        # Longest first, so a value that contains another is masked whole.
        ordered = sorted([*self._values, *self._literals], key=len, reverse=True)
        alternatives = [
            re.escape(v) if v in self._literals and v not in self._values else secret_pattern(v)
            for v in ordered
        ]
        # ``name=value`` in a query string: the value runs to the next separator.
        alternatives += [
            rf"(?<=[?&;]{re.escape(name)}=)[^&;#\s'\"<>]+" for name in sorted(self._params)
        ]
        self._pattern = re.compile("|".join(alternatives)) if alternatives else None

    @property
    def longest_form(self) -> int:
        """An upper bound on the length of any registered secret, however encoded."""
        return max(map(len, self._values), default=0) * _LONGEST_CHAR_FORM

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


def excerpt(body: bytes, encoding: str | None, limit: int) -> str:
    """The start of a response body on one line, masked before it is cut short.

    Only the first 64 KiB are decoded; when the body is longer, the end of that
    window (where a secret could be cut in two, and so left unmasked) is dropped.
    """
    window = body[:_EXCERPT_WINDOW]
    try:
        text = window.decode(encoding or "utf-8", errors="replace")
    except LookupError:  # a charset Python does not know
        text = window.decode("utf-8", errors="replace")
    masked = redact(text)
    if len(body) > _EXCERPT_WINDOW:
        masked = masked[: max(0, len(masked) - REDACTOR.longest_form)]
    return " ".join(masked.split())[:limit]


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
