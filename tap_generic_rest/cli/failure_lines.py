"""Expected failures, each described in one line naming the stream, setting or host at fault.

The command line prints :func:`describe`'s line instead of a traceback for anything in
:data:`EXPECTED`. A failure raised while a stream syncs is tagged with that stream's
name (:func:`tag_stream`), so a network error in urllib3's words still says which
stream and which host to check.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
from singer_sdk.exceptions import (
    ConfigValidationError,
    FatalAPIError,
    MapExpressionError,
    MappingError,
    RetriableAPIError,
)

from tap_generic_rest.errors import TapError
from tap_generic_rest.http.transport import DeadlineExceededError

if TYPE_CHECKING:
    from collections.abc import Iterator

#: Failures that are about input or the remote API, not bugs: no traceback.
EXPECTED: tuple[type[BaseException], ...] = (
    TapError,
    FatalAPIError,
    RetriableAPIError,
    requests.RequestException,
    MappingError,
    ConfigValidationError,
)

_STREAM = "_tap_generic_rest_stream"
_MAX_DEPTH = 12


def tag_stream(exc: BaseException, stream: str) -> None:
    """Remember the stream ``exc`` was raised in (the innermost one, for child streams)."""
    if getattr(exc, _STREAM, None) is None:
        with contextlib.suppress(AttributeError):  # exceptions with __slots__
            setattr(exc, _STREAM, stream)


def stream_of(exc: BaseException) -> str | None:
    """The stream ``exc`` was raised in, if it was tagged."""
    name = getattr(exc, _STREAM, None)
    return name if isinstance(name, str) else None


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what it wraps: causes, contexts, and urllib3's ``reason`` and args."""
    seen: set[int] = set()
    todo: list[Any] = [exc]
    while todo and len(seen) < _MAX_DEPTH:
        current = todo.pop(0)
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo.extend([current.__cause__, current.__context__, getattr(current, "reason", None)])
        todo.extend(current.args)


_UP = "check base_url and that the server is up and reachable"

#: What went wrong on the network, in words, from the innermost exception that says it,
#: and what to check: advice that fits what happened (a server that sent half a body is up).
_NETWORK_REASONS: tuple[
    tuple[type[BaseException] | tuple[type[BaseException], ...], str, str], ...
] = (
    (ConnectionRefusedError, "connection refused", _UP),
    (socket.gaierror, "host name not found", "check the host name in base_url, and DNS"),
    (
        requests.exceptions.ConnectTimeout,
        "no connection within request_timeout",
        "check base_url, request_timeout and that the server is reachable",
    ),
    (
        requests.exceptions.ReadTimeout,
        "no answer within request_timeout",
        "check request_timeout and the server",
    ),
    (
        (ssl.SSLError, requests.exceptions.SSLError),
        "TLS handshake failed",
        "check the scheme and port in base_url, and the server's certificate",
    ),
    (
        requests.exceptions.ChunkedEncodingError,
        "the answer was cut short (the connection closed before the whole body came)",
        "the server, or a proxy on the way, ends long answers early: check its limits, "
        "or lower page_size",
    ),
    (
        (ConnectionResetError, ConnectionAbortedError),
        "connection closed by the server",
        "check the server's logs, or lower page_size and max_concurrent_requests",
    ),
)
_UNKNOWN_FAILURE = ("request failed", _UP)


def _network_reason(exc: BaseException) -> tuple[str, str]:
    causes = list(_causes(exc))
    for kinds, words, advice in _NETWORK_REASONS:
        if any(isinstance(cause, kinds) for cause in causes):
            return words, advice
    if any("RemoteDisconnected" in type(cause).__name__ for cause in causes):
        return "connection closed by the server before it answered", _NETWORK_REASONS[-1][2]
    return _UNKNOWN_FAILURE


def _host(exc: requests.RequestException) -> str:
    """``host:port`` the failed request went to (never the path or query: a key may be there)."""
    url = getattr(getattr(exc, "request", None), "url", None) or ""
    try:
        parts = urlsplit(str(url))
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        return "the server"
    if not parts.hostname:
        return "the server"
    return f"{parts.hostname}:{port}" if port else parts.hostname


def _network(exc: requests.RequestException) -> str:
    reason, advice = _network_reason(exc)
    return f"{_host(exc)}: {reason}, after all retries; {advice}"


def _mapping(exc: MappingError) -> str:
    """A stream map failure: the SDK's message, with what the expression evaluator said."""
    text = " ".join(str(exc).split()).rstrip(".")
    cause = exc.__cause__
    detail = f": {' '.join(str(cause).split())}" if cause is not None and str(cause) else ""
    what = "expression" if isinstance(exc, MapExpressionError) else "stream map"
    return f"setting 'stream_maps': {text}{detail}; check the {what}"


def describe(exc: BaseException) -> str:
    """A one-line description of an expected failure, naming its stream when known."""
    if isinstance(exc, DeadlineExceededError):  # its own words: the stream, request and setting
        text = f"{exc}, after all retries; check request_timeout and the server"
    elif isinstance(exc, requests.RequestException) and not isinstance(exc, requests.HTTPError):
        text = _network(exc)
    elif isinstance(exc, RetriableAPIError):
        text = f"gave up after all retries: {' '.join(str(exc).split())}"
    elif isinstance(exc, MappingError):
        text = _mapping(exc)
    elif isinstance(exc, ConfigValidationError):
        text = "; ".join([*exc.errors]) or str(exc)
    else:
        text = " ".join(str(exc).split()) or type(exc).__name__
    stream = stream_of(exc)
    if stream and f"stream '{stream}'" not in text:
        text = f"stream '{stream}': {text}"
    return text


def stream_map_error(exc: MappingError, stream_maps: Any) -> str:
    """A stream map the SDK refused as the tap starts: name the stream and property."""
    cause = exc.__cause__
    if isinstance(cause, SyntaxError) and isinstance(stream_maps, dict):
        for stream, mapping in stream_maps.items():
            if not isinstance(mapping, dict):
                continue
            for prop, expression in mapping.items():
                if isinstance(expression, str) and f"expression {expression}." in str(exc):
                    return (
                        f"setting 'stream_maps': stream '{stream}', property '{prop}': "
                        f"'{expression}' is not a valid expression ({cause.msg}); "
                        "check its syntax"
                    )
    return _mapping(exc)
