"""Sending one request within a deadline and a size cap, whatever the server does.

``requests`` applies its timeout to each socket read, so a server that trickles a
body holds the tap as long as it keeps trickling, and ``.content`` reads a body of
any size (decompressed, a 1 MB gzip body can be a gigabyte). :func:`send` is the
one place that bounds a request:

* ``request_timeout`` is a deadline for the whole request: connect, headers and
  body. Each read is bounded by the time left, and a watchdog thread shuts the
  socket of a request still running at its deadline (a server trickling headers
  one byte at a time never lets a read time out). Past the deadline the request
  fails with :class:`DeadlineExceededError`, a ``requests`` Timeout, so the
  source's retry policy applies to it as to any timeout.
* ``max_response_mb`` caps the decoded size of one response: the body is read
  and decompressed (gzip, deflate, and br when a brotli package is installed) a
  chunk at a time, urllib3 never decoding more than a chunk ahead, and the read
  stops as soon as the cap is passed: :class:`ResponseTooLargeError`.

Response hooks (the probe's watch) run after the body is read within both bounds:
requests would run them before, and a hook reading ``.content`` would read any body
for as long as it takes. A body cut short names the request's host in its error.

The same watchdog aborts the requests of threads whose pages are no longer
wanted (:func:`abort_requests`), so an abandoned page never keeps a thread alive.
Sessions that send through :func:`send` come from :func:`new_session`, whose
connections tell the watchdog which socket a request is using.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.utils import resolve_proxies
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from tap_generic_rest.errors import TapError

if TYPE_CHECKING:
    from collections.abc import Iterable

#: Decoded bytes read at a time: what one read may decompress ahead of the cap check.
CHUNK_SIZE = 1 << 16
#: The ``max_response_mb`` default.
DEFAULT_MAX_RESPONSE_MB = 256

_local = threading.local()
_PROXIES_ATTR = "_tap_generic_rest_proxies"
_LABEL_ATTR = "_tap_generic_rest_label"


class DeadlineExceededError(requests.exceptions.Timeout):
    """No complete response within ``request_timeout`` (retried as any timeout)."""


class ResponseTooLargeError(TapError):
    """A response's decoded body is larger than ``max_response_mb`` (never retried)."""


class RequestAbortedError(Exception):
    """The request's page was abandoned while it was in flight (never retried)."""


@dataclass(eq=False)
class _InFlight:
    """One request being sent: its deadline, and the connection carrying it once known."""

    deadline: float
    thread: int = field(default_factory=threading.get_ident)
    connection: HTTPConnection | None = None
    #: Why the watchdog cut the request short: "deadline" or "aborted".
    cut: str = ""

    def shut(self) -> None:
        """Shut the socket down: a read blocked on it returns at once (end of stream)."""
        sock = getattr(self.connection, "sock", None)
        if sock is None:
            return
        # The plain socket's shutdown, also for TLS: it unblocks the read, sends no alert.
        with contextlib.suppress(OSError, TypeError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _Watchdog:
    """One daemon thread that cuts requests short at their deadline, or when asked."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._active: set[_InFlight] = set()
        self._thread: threading.Thread | None = None

    def watch(self, request: _InFlight) -> None:
        with self._cond:
            self._active.add(request)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="tap-request-deadlines", daemon=True
                )
                self._thread.start()
            self._cond.notify()

    def forget(self, request: _InFlight) -> None:
        with self._cond:
            self._active.discard(request)

    def connected(self, request: _InFlight, connection: HTTPConnection) -> None:
        """Note the connection of ``request``; shut it at once if the request was cut."""
        with self._cond:
            request.connection = connection
            if request.cut:
                request.shut()

    def abort(self, threads: Iterable[int]) -> None:
        """Cut short the requests that threads ``threads`` are sending."""
        idents = set(threads)
        with self._cond:
            for request in self._active:
                if request.thread in idents and not request.cut:
                    request.cut = "aborted"
                    request.shut()

    def _run(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                waiting = [r for r in self._active if not r.cut]
                for request in waiting:
                    if request.deadline <= now:
                        request.cut = "deadline"
                        request.shut()
                upcoming = [r.deadline for r in waiting if r.deadline > now]
                self._cond.wait(min(upcoming) - now if upcoming else None)


_WATCHDOG = _Watchdog()


class _QuietWhenCut(logging.Filter):
    """Drops urllib3's warnings about a request the watchdog cut (headers cut short)."""

    def filter(self, record: logging.LogRecord) -> bool:
        current: _InFlight | None = getattr(_local, "request", None)
        return current is None or not current.cut


logging.getLogger("urllib3.connection").addFilter(_QuietWhenCut())


def abort_requests(threads: Iterable[int]) -> None:
    """Cut short what the given threads are sending (pages no longer wanted)."""
    _WATCHDOG.abort(threads)


class _Tracked(HTTPConnection):
    """A connection that tells the watchdog which request it carries."""

    def request(self, *args: Any, **kwargs: Any) -> None:
        current: _InFlight | None = getattr(_local, "request", None)
        if current is not None:
            _WATCHDOG.connected(current, self)
        super().request(*args, **kwargs)


class _TrackedHTTPConnection(_Tracked):
    pass


class _TrackedHTTPSConnection(_Tracked, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _TrackedHTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _TrackedHTTPSConnection


_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


class _TrackedAdapter(HTTPAdapter):
    """requests' adapter, its connection pools made of tracked connections."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if hasattr(manager, "pool_classes_by_scheme"):
            manager.pool_classes_by_scheme = _POOLS
        return manager


def new_session(template: requests.Session | None = None) -> requests.Session:
    """A session for :func:`send`; with ``template``, sending as that session would."""
    session = requests.Session()
    adapter = _TrackedAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    if template is not None:
        session.cookies = template.cookies
        session.verify = template.verify
        session.cert = template.cert
        session.proxies = dict(template.proxies)
    return session


@dataclass(frozen=True)
class Limits:
    """The bounds of one request: ``timeout`` seconds in all, ``max_bytes`` decoded."""

    timeout: float
    max_bytes: int

    @classmethod
    def from_config(cls, config: Any) -> Limits:
        """The limits the ``request_timeout`` and ``max_response_mb`` settings set."""
        timeout = float(config.get("request_timeout") or 300)
        megabytes = config.get("max_response_mb")
        megabytes = DEFAULT_MAX_RESPONSE_MB if megabytes is None else megabytes
        return cls(timeout, int(float(megabytes) * 1024 * 1024))

    def describe_timeout(self) -> str:
        """The setting and its value, for messages."""
        return f"request_timeout ({self.timeout:g} s)"

    def describe_size(self) -> str:
        """The setting and its value, for messages."""
        return f"max_response_mb ({self.max_bytes / 1024 / 1024:g} MB)"


def send(
    session: requests.Session,
    request: requests.PreparedRequest,
    *,
    limits: Limits,
    allow_redirects: bool,
    label: str,
) -> requests.Response:
    """Send ``request`` and read its whole body within ``limits``.

    ``label`` names the request in errors (``stream 'x': GET /path``, no query).
    """
    current = _InFlight(time.monotonic() + limits.timeout)
    _local.request = current
    _WATCHDOG.watch(current)
    response: requests.Response | None = None
    # requests runs response hooks before the body is read; they run after it here.
    hooks, request.hooks = request.hooks, requests.hooks.default_hooks()
    try:
        try:
            response = session.send(
                request,
                stream=True,
                timeout=(limits.timeout, limits.timeout),
                allow_redirects=allow_redirects,
                proxies=_proxies(session, request),
            )
            _read_body(response, current, limits, label)
        except requests.RequestException as exc:
            if response is not None:
                response.close()
            _raise_if_cut(current, limits, label, exc)
            if exc.request is None:  # raised while reading the body: name the request
                exc.request = request
            raise
        except ResponseTooLargeError:
            if response is not None:
                response.close()
            raise
    finally:
        request.hooks = hooks
        _WATCHDOG.forget(current)
        _local.request = None
    dispatched: requests.Response = requests.hooks.dispatch_hook(  # type: ignore[no-untyped-call]
        "response", hooks, response
    )
    return dispatched


def _proxies(session: requests.Session, request: requests.PreparedRequest) -> dict[str, str]:
    """The proxies ``session.send`` would resolve for ``request``, resolved once per host.

    requests reads the environment's proxy settings anew for every request (~0.1 ms);
    they do not change while a stream runs, and a session lives as long as one.
    """
    memo: dict[tuple[str, str], dict[str, str]] = session.__dict__.setdefault(_PROXIES_ATTR, {})
    scheme, host = urlsplit(request.url or "")[:2]
    found = memo.get((scheme, host))
    if found is None:
        found = resolve_proxies(request, dict(session.proxies), session.trust_env)
        memo[scheme, host] = found
    return found


def _read_body(response: requests.Response, current: _InFlight, limits: Limits, label: str) -> None:
    """Read and decode the body into ``response.content``, chunk by chunk, within limits."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(_read_size(response, limits)):
        size += len(chunk)
        if size > limits.max_bytes:
            msg = (
                f"{label}: the response is larger than {limits.describe_size()}; "
                "raise max_response_mb or lower page_size"
            )
            raise ResponseTooLargeError(msg)
        if time.monotonic() > current.deadline:
            current.cut = "deadline"
            raise DeadlineExceededError(_late(label, limits))
        chunks.append(chunk)
    if current.cut:  # a body read to the end of the connection ends early when cut
        _raise_if_cut(current, limits, label, None)
    response._content = b"".join(chunks)  # what .content reads, as requests does
    response._content_consumed = True  # type: ignore[attr-defined]
    response.__dict__[_LABEL_ATTR] = label


def label_of(response: requests.Response) -> str:
    """How errors name the request ``response`` answers (``stream 'x': GET /path``)."""
    label = response.__dict__.get(_LABEL_ATTR)
    if isinstance(label, str):
        return label
    request = response.request
    path = str(request.path_url or "").split("?", 1)[0] if request is not None else ""
    return f"{request.method if request is not None else 'GET'} {path}".strip()


def _read_size(response: requests.Response, limits: Limits) -> int:
    """Bytes to read at a time: a plain body of a length within the cap in one read.

    One read is one call that fills the body with the interpreter's lock released,
    where chunks take it back every 64 KiB and stall the thread writing records.
    The deadline still holds: the watchdog shuts a socket read past it. A compressed
    body, or one of unknown length, is read a chunk at a time, checked against the cap.
    """
    headers = response.headers
    length = headers.get("Content-Length", "")
    encoding = headers.get("Content-Encoding", "identity").strip().lower()
    if length.isdigit() and encoding in {"", "identity"} and 0 < int(length) <= limits.max_bytes:
        return int(length)
    return CHUNK_SIZE


def _late(label: str, limits: Limits) -> str:
    return f"{label}: no complete response within {limits.describe_timeout()}"


def _raise_if_cut(
    current: _InFlight, limits: Limits, label: str, exc: BaseException | None
) -> None:
    """Report a request the watchdog cut short as what it is, not as a broken connection."""
    if current.cut == "aborted":
        raise RequestAbortedError(label) from None
    if current.cut == "deadline" or time.monotonic() >= current.deadline:
        if isinstance(exc, DeadlineExceededError):
            return
        raise DeadlineExceededError(_late(label, limits)) from None
