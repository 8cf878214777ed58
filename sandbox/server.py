"""The HTTP side of the sandbox: request handling, fault injection, page cache.

:class:`App` decides every response (auth, routing, faults, rendering, caching) without touching
a socket; :class:`Handler` parses requests and writes what the app decided, one ``wfile.write``
per response, keeping HTTP/1.1 connections alive.
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from email.utils import formatdate
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from sandbox.data import Record, StreamData, after_all_ms, stable_hash
from sandbox.filters import BadRequestError
from sandbox.mutations import (
    CLOCK_STEP_MS,
    TOUCHES,
    Mutation,
    MutationError,
    Snapshot,
    StreamView,
)
from sandbox.oddities import drift_record, render_tricky, tricky_record
from sandbox.projects import PREFIX as PROJECTS_PREFIX
from sandbox.projects import ProjectsAPI
from sandbox.sources import (
    AVATAR_TYPES,
    ONE_PAGE_DEFAULT_CAP,
    PAGINGS,
    ROUTES,
    SOURCES,
    Endpoint,
    Limits,
    Page,
    Query,
    Source,
    Window,
    authorized,
    generic_error,
    make_credentials,
    message_for,
    source_for_path,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

try:
    import orjson

    def dumps(obj: Any) -> bytes:
        """Serialise to compact UTF-8 JSON bytes."""
        return orjson.dumps(obj)

    def loads(data: bytes) -> Any:
        """Parse JSON bytes."""
        return orjson.loads(data)

except ImportError:  # pragma: no cover - orjson is a dependency of the tap

    def dumps(obj: Any) -> bytes:
        """Serialise to compact UTF-8 JSON bytes."""
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()

    def loads(data: bytes) -> Any:
        """Parse JSON bytes."""
        return json.loads(data)


FAULTS = ("rate_limit", "server_error", "reset", "truncated", "bad_json")
"""Every kind of injected fault."""

_SERVER_ERRORS = (500, 502, 503, 504)
_SELECTIONS_KEPT = 16  # query/sort selections cached (each a list of record ids)
_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    420: "Enhance Your Calm",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass(frozen=True)
class Settings:
    """Everything that shapes one sandbox run."""

    seed: int = 7
    sizes: Mapping[str, int] = field(default_factory=dict)
    default_size: int = 25
    latency_ms: float = 0
    fault_rate: float = 0.0
    faults: tuple[str, ...] = FAULTS
    max_failures_per_request: int | None = None
    retry_after: float = 1
    limits: Limits = field(default_factory=Limits)
    echo_errors: bool = False
    log_requests: bool = True
    cache_bytes: int = 2 * 1024**3
    undeclared_fields: bool = True
    tricky_values: bool = False
    drift: bool = False
    lean: bool = False
    """Streams with a lean shape (``sandbox.data.LEAN``) serve only scalars and one object."""
    bare_arrays: frozenset[str] = frozenset()
    """Sources (``statuspage``) or streams (``tracker.application_roles``) whose pages are bare
    JSON arrays of records, as the real Statuspage and Jira's application roles answer."""

    def serves_bare_array(self, source: str, stream: str) -> bool:
        """Whether a page of this stream is a bare JSON array instead of its envelope."""
        return source in self.bare_arrays or f"{source}.{stream}" in self.bare_arrays

    def __post_init__(self) -> None:
        """Reject settings that would silently serve something else than asked."""
        unknown = [kind for kind in self.faults if kind not in FAULTS]
        if unknown:
            raise ValueError(f"unknown faults {unknown}; choose from {FAULTS}")
        if not 0 <= self.fault_rate <= 1:
            raise ValueError("fault_rate must be within [0, 1]")
        if self.fault_rate and not self.faults:
            raise ValueError("fault_rate > 0 needs at least one fault kind")
        known = {f"{s.name}.{ep.stream}" for s in SOURCES.values() for ep in s.endpoints}
        known |= {f"tracker.avatars.{kind}" for kind in AVATAR_TYPES}
        bad = sorted(self.bare_arrays - known - set(SOURCES))
        if bad:
            raise ValueError(f"unknown source or stream {bad} in bare_arrays")
        known |= {"projects.projects", "projects.members"}
        for key, value in self.sizes.items():
            if key not in known:
                raise ValueError(f"unknown stream {key!r} in sizes; known: {sorted(known)}")
            if value < 0:
                raise ValueError(f"size of {key} must not be negative")
        if self.default_size < 0 or self.latency_ms < 0 or self.retry_after < 0:
            raise ValueError("default_size, latency_ms and retry_after must not be negative")


@dataclass(frozen=True, slots=True)
class RequestLog:
    """One request as the server saw it (``status`` 0: the connection was reset)."""

    source: str
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    status: int
    fault: str | None = None


@dataclass(frozen=True, slots=True)
class Request:
    """The parts of an HTTP request the app looks at."""

    method: str
    target: str  # path and query string, as sent
    headers: Any  # case-insensitive (http.client.HTTPMessage)
    host: str  # the Host header: next-page URLs are built from it


@dataclass(frozen=True, slots=True)
class Response:
    """What to send; ``fault`` says how to break it ("reset", "truncated", ...)."""

    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()
    fault: str | None = None


class FaultPlan:
    """Decides, reproducibly, which requests fail and how.

    The decision hashes (seed, method, path, sorted query without credentials, attempt number of
    that exact request), so it does not depend on thread timing, and a request never fails more
    than its cap (by default the source's retry count), so a client that retries always wins.
    """

    def __init__(self, settings: Settings) -> None:
        self._seed = settings.seed
        self._rate = settings.fault_rate
        self._kinds = settings.faults
        self._cap = settings.max_failures_per_request
        self._attempts: dict[str, int] = {}
        self._failures: dict[str, int] = {}
        self._lock = threading.Lock()
        self.count = 0

    def decide(self, source: Source, method: str, path: str, query: Query) -> tuple[str, int]:
        """``(fault kind, random bits)``, or ``("", 0)`` for a normal response."""
        if self._rate <= 0:
            return "", 0
        items = sorted(
            (name, value)
            for name, values in query.items()
            if name not in source.secret_params
            for value in values
        )
        key = f"{method} {path} {items!r}"
        cap = source.retries if self._cap is None else self._cap
        with self._lock:
            attempt = self._attempts.get(key, 0)
            self._attempts[key] = attempt + 1
            failures = self._failures.get(key, 0)
            if failures >= cap:
                return "", 0
            bits = stable_hash(f"{self._seed}|{key}|{attempt}")
            if (bits >> 11) / (1 << 53) >= self._rate:
                return "", 0
            self._failures[key] = failures + 1
            self.count += 1
        return self._kinds[(bits & 0x7FF) % len(self._kinds)], bits


class App:
    """The sandbox's behaviour, independent of sockets."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.url = ""  # set once the server is bound
        self.credentials = {name: make_credentials(settings.seed, name) for name in SOURCES}
        sizes, default = settings.sizes, settings.default_size
        #: The sixth API, for user specs (see sandbox/projects.py); not a built-in source.
        self.projects = ProjectsAPI(
            settings.seed,
            sizes.get("projects.projects", default),
            sizes.get("projects.members", default),
        )
        self.credentials["projects"] = self.projects.credentials
        self.faults = FaultPlan(settings)
        self.log: list[RequestLog] = []
        self._views: dict[tuple[str, str, str], StreamView] = {}
        self._cache: dict[tuple[Any, ...], bytes] = {}
        self._cache_size = 0
        self._cache_lock = threading.Lock()
        # Mutations: applied one at a time; the clock starts after every generated time.
        self._data_lock = threading.Lock()
        biggest = max([settings.default_size, *settings.sizes.values()])
        self._clock_ms = after_all_ms(biggest)
        self._served: dict[tuple[str, str], int] = {}  # pages served per stream
        self._scheduled: list[tuple[int, Mutation]] = []  # (due page count, mutation)
        self._selections: dict[tuple[Any, ...], list[int]] = {}

    # ------------------------------------------------------------------ data

    def size(self, source: str, stream: str, part: str = "") -> int:
        """How many records a stream (or one part of it) has."""
        sizes = self.settings.sizes
        if part and f"{source}.{stream}.{part}" in sizes:
            return sizes[f"{source}.{stream}.{part}"]
        if f"{source}.{stream}" in sizes:
            return sizes[f"{source}.{stream}"]
        ep = next(ep for ep in SOURCES[source].endpoints if ep.stream == stream)
        default = self.settings.default_size
        return min(default, ONE_PAGE_DEFAULT_CAP) if ep.one_page else default

    def view(self, source: str, ep: Endpoint) -> StreamView:
        """The data an endpoint serves now: generated records plus applied mutations."""
        key = (source, ep.stream, ep.part)
        view = self._views.get(key)
        if view is None:
            data = StreamData(
                self.settings.seed,
                source,
                ep.stream,
                ep.part,
                ep.part_index,
                undeclared_fields=self.settings.undeclared_fields,
                lean=self.settings.lean,
            )
            size = self.size(source, ep.stream, ep.part)
            # setdefault: two threads creating the same view keep one (and its mutations)
            view = self._views.setdefault(key, StreamView(data, size, TOUCHES[source, ep.stream]))
        return view

    def rows(self, ep: Endpoint, source: str, start: int, stop: int) -> list[Record]:
        """Records ``start`` to ``stop`` (clipped to the stream's length) of an endpoint."""
        return self.view(source, ep).rows(start, stop)

    # ------------------------------------------------------------------ mutations

    def mutate(self, mutation: Mutation) -> dict[str, Any]:
        """Apply a mutation now, or schedule it when it has ``after_requests``.

        Returns what changed (``inserted``/``updated`` as served from now on, ``deleted`` as
        served before) or, for a scheduled one, ``{"scheduled": N}``. Raises MutationError.
        """
        ep = self._endpoint(mutation)
        if mutation.after_requests is not None:
            with self._data_lock:
                served = self._served.get((mutation.source, mutation.stream), 0)
                self._scheduled.append((served + mutation.after_requests, mutation))
            return {"scheduled": mutation.after_requests}
        with self._data_lock:
            return self._apply(ep, mutation)

    def _apply(self, ep: Endpoint, mutation: Mutation) -> dict[str, Any]:
        """Apply under the data lock: advance the clock, publish the new snapshot."""
        self._clock_ms += CLOCK_STEP_MS
        changed = self.view(mutation.source, ep).apply(mutation, self._clock_ms)
        self._forget(SOURCES[mutation.source].prefix + ep.path)
        return {"at": self._clock_ms, **changed}

    def _endpoint(self, mutation: Mutation) -> Endpoint:
        source = SOURCES.get(mutation.source)
        eps = [ep for ep in source.endpoints if ep.stream == mutation.stream] if source else []
        if not eps:
            raise MutationError(f"unknown stream {mutation.source}.{mutation.stream}")
        parts = [ep for ep in eps if ep.part == mutation.part]
        if not parts:
            names = [ep.part for ep in eps]
            raise MutationError(f"{mutation.source}.{mutation.stream} needs a part from {names}")
        return parts[0]

    def _page_served(self, source: str, stream: str) -> None:
        """Count a served page; apply the scheduled mutations that are now due."""
        with self._data_lock:
            served = self._served[source, stream] = self._served.get((source, stream), 0) + 1
            if not self._scheduled:
                return
            due = [
                m
                for count, m in self._scheduled
                if (m.source, m.stream) == (source, stream) and count <= served
            ]
            self._scheduled = [
                (count, m) for count, m in self._scheduled if not any(m is d for d in due)
            ]
            for mutation in due:
                self._apply(self._endpoint(mutation), mutation)

    def _forget(self, path: str) -> None:
        """Drop an endpoint's cached pages (their keys' versions can never match again)."""
        with self._cache_lock:
            for key in [key for key in self._cache if key[0] == path]:
                self._cache_size -= len(self._cache.pop(key))

    def page(self, source: Source, ep: Endpoint, query: Query, host: str) -> bytes:
        """The body of one page, from the cache or rendered now (raises BadRequest)."""
        paging = PAGINGS[ep.paging]
        win = paging.window(ep, query, self.settings.limits)
        view = self.view(source.name, ep)
        snap = view.snapshot  # one version for the key and the rendering
        key = (
            source.prefix + ep.path,
            win.start,
            win.size,
            win.params,
            snap.version,
            host if ep.paging == "next" else "",
        )
        body = self._cache.get(key)
        if body is None:
            body = self._render(source, ep, win, host, key=key, data=view.data, snap=snap)
            self._remember(key, body)
        return body

    def _render(
        self,
        source: Source,
        ep: Endpoint,
        win: Window,
        host: str,
        *,
        key: tuple[Any, ...],
        data: StreamData,
        snap: Snapshot,
    ) -> bytes:
        paging = PAGINGS[ep.paging]
        chosen = self._selection(key[0], ep, win, data, snap) if paging.select else None
        total = len(snap) if chosen is None else len(chosen)
        stop = total if win.size is None else win.start + win.size
        # Each row's position as served in the stream's own order: what its oddities depend
        # on, so a record looks the same whichever order (sort) a request asks for.
        positions: Sequence[int]
        if chosen is None:
            rows = snap.rows(data, win.start, stop)
            positions = range(win.start, win.start + len(rows))
        else:
            positions = chosen[win.start : stop]
            ids = snap.ids()
            rows = snap.rows_for(data, [ids[p] for p in positions])
        if paging.filter is not None:
            kept = paging.filter(ep, win, rows)
            if len(kept) != len(rows):  # the filter keeps row objects: keep their positions
                ids_kept = {id(row) for row in kept}
                positions = [
                    p for p, row in zip(positions, rows, strict=True) if id(row) in ids_kept
                ]
            rows = kept
        settings = self.settings
        if settings.drift:
            rows = [
                drift_record(row, at, source.name, ep.stream)
                for at, row in zip(positions, rows, strict=True)
            ]
        if settings.tricky_values:
            rows = [tricky_record(row, at) for at, row in zip(positions, rows, strict=True)]
        url = f"http://{host}{source.prefix}{ep.path}"
        token = stable_hash(f"{self.settings.seed}|{key[:-1]!r}")  # not the host: same bytes
        page = (
            rows
            if settings.serves_bare_array(source.name, ep.stream)  # no envelope: no total, no link
            else paging.envelope(Page(ep, win, rows, total, url, token, snap.removed))
        )
        body = dumps(page)
        return render_tricky(body) if settings.tricky_values else body

    def _selection(
        self, path: str, ep: Endpoint, win: Window, data: StreamData, snap: Snapshot
    ) -> Sequence[int] | None:
        """Positions a ``query``/``sort`` selects over the whole stream; None: as served.

        Computed once per data version and parameters: every page of a run shares it.
        """
        key = (path, snap.version, win.params)
        chosen = self._selections.get(key)
        if chosen is None:
            select = PAGINGS[ep.paging].select
            positions = (
                select(ep, dict(win.params), snap.rows(data, 0, len(snap))) if select else None
            )
            if positions is None:
                return None
            chosen = self._selections[key] = positions
            while len(self._selections) > _SELECTIONS_KEPT:
                self._selections.pop(next(iter(self._selections)))
        return chosen

    def _remember(self, key: tuple[Any, ...], body: bytes) -> None:
        """Cache a page; past the byte budget, forget the oldest pages first."""
        limit = self.settings.cache_bytes
        if len(body) > limit:
            return
        with self._cache_lock:
            if key in self._cache:
                return
            self._cache[key] = body
            self._cache_size += len(body)
            while self._cache_size > limit:
                oldest = next(iter(self._cache))
                self._cache_size -= len(self._cache.pop(oldest))

    def cached_pages(self) -> int:
        """How many page bodies are cached."""
        return len(self._cache)

    # ------------------------------------------------------------------ requests

    def handle(self, req: Request) -> tuple[str, Response]:
        """Decide the response to one request; returns ``(source name, response)``.

        Order matters: unknown prefix 404, then auth (401 before any fault), then route 404,
        method 405, then faults, then the page (or 400 for a bad parameter).
        """
        parts = urlsplit(req.target)
        if parts.path == PROJECTS_PREFIX or parts.path.startswith(PROJECTS_PREFIX + "/"):
            status, body, headers = self.projects.handle(
                req.method, req.target, req.headers, req.host
            )
            return "projects", Response(status, dumps(body), headers)
        query = parse_qs(parts.query, keep_blank_values=True)
        route = ROUTES.get(parts.path)
        source = route[0] if route else source_for_path(parts.path)
        if source is None:
            return "", self._error(None, 404, f"No route for {parts.path}", req)
        if not authorized(source, self.credentials[source.name], req.headers, query):
            status, message = 401, "Unauthorized"
        elif route is None:
            status, message = 404, f"No route for {parts.path}"
        elif req.method != "GET":
            status, message = 405, f"{req.method} is not allowed"
        else:
            return source.name, self._serve(source, route[1], req, parts.path, query)
        return source.name, self._error(source, status, message, req)

    def _serve(
        self, source: Source, ep: Endpoint, req: Request, path: str, query: Query
    ) -> Response:
        fault, bits = self.faults.decide(source, req.method, path, query)
        if fault == "rate_limit":
            statuses = source.rate_limit_statuses
            status = statuses[(bits >> 16) % len(statuses)]
            wait = source.rate_limit_headers(time.time(), self.settings.retry_after)
            return self._error(
                source, status, message_for(status), req, headers=tuple(wait.items()), fault=fault
            )
        if fault == "server_error":
            status = _SERVER_ERRORS[(bits >> 16) % len(_SERVER_ERRORS)]
            return self._error(source, status, message_for(status), req, fault=fault)
        try:
            body = self.page(source, ep, query, req.host)
        except BadRequestError as exc:
            return self._error(source, 400, str(exc), req)
        if fault == "bad_json":
            body = body[: len(body) // 2]  # a proper prefix of a JSON object never parses
        elif not fault:
            self._page_served(source.name, ep.stream)
        return Response(200, body, fault=fault or None)

    def _error(
        self,
        source: Source | None,
        status: int,
        message: str,
        req: Request,
        *,
        headers: tuple[tuple[str, str], ...] = (),
        fault: str | None = None,
    ) -> Response:
        token = stable_hash(f"{self.settings.seed}|{status}|{req.target}")
        maker = source.error_body if source else generic_error
        body = maker(status, message, token)
        if self.settings.echo_errors:  # a badly-behaved server: leaks the URL and headers
            body["request"] = {
                "url": f"http://{req.host}{req.target}",
                "headers": dict(req.headers.items()),
            }
        return Response(status, dumps(body), headers, fault)

    def manifest(self) -> dict[str, Any]:
        """What is served, for scripts in other processes (``GET /_sandbox/manifest``)."""
        return {
            "url": self.url,
            "seed": self.settings.seed,
            "counts": self.counts(),
            "credentials": self.credentials,
            "base_urls": {name: self.url + source.prefix for name, source in SOURCES.items()},
        }

    def counts(self) -> dict[str, dict[str, int]]:
        """Records per stream (avatars: summed over the avatar types)."""
        out: dict[str, dict[str, int]] = {}
        for name, source in SOURCES.items():
            streams = out[name] = {}
            for ep in source.endpoints:
                streams[ep.stream] = streams.get(ep.stream, 0) + len(self.view(name, ep))
        return out


# --------------------------------------------------------------------------- HTTP


def _mutate(app: App, payload: bytes) -> Response:
    """``POST /_sandbox/mutate``: one mutation object or a list of them, applied in order."""
    try:
        body = loads(payload or b"null")
    except ValueError:
        return Response(400, dumps(generic_error(400, "the body must be JSON", 0)))
    items = body if isinstance(body, list) else [body]
    results = []
    try:
        for item in items:
            if not isinstance(item, dict):
                raise MutationError("a mutation must be a JSON object")
            results.append(app.mutate(Mutation.from_json(item)))
    except MutationError as exc:
        return Response(400, dumps(generic_error(400, str(exc), 0)))
    return Response(200, dumps(results if isinstance(body, list) else results[0]))


@lru_cache(maxsize=2)
def _http_date(second: int) -> str:
    """The ``Date`` header value, formatted once per second."""
    return formatdate(second, usegmt=True)


class Handler(BaseHTTPRequestHandler):
    """Parses a request, asks the app, writes the answer in one ``wfile.write``."""

    protocol_version = "HTTP/1.1"
    server_version = "sandbox/1.0"
    timeout = 120  # idle keep-alive connections are closed after this many seconds
    server: SandboxServer

    def setup(self) -> None:
        """Track the connection so ``stop()`` can close idle keep-alive sockets."""
        super().setup()
        with self.server.lock:
            self.server.connections.add(self.connection)
            self.server.opened += 1

    def finish(self) -> None:
        """Forget the connection."""
        with self.server.lock:
            self.server.connections.discard(self.connection)
        super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request stderr lines of ``http.server``."""

    def do_GET(self) -> None:
        """Serve a page, an error or an injected fault."""
        self._serve("GET")

    def do_POST(self) -> None:
        """The sandbox is read-only: 405."""
        self._serve("POST")

    do_PUT = do_PATCH = do_DELETE = do_POST  # noqa: N815

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        payload = self.rfile.read(length) if length else b""
        app = self.server.app
        if self.path.startswith("/_sandbox/"):
            self._control(method, payload)
            return
        if app.settings.latency_ms:
            time.sleep(app.settings.latency_ms / 1000)
        host = self.headers.get("Host") or app.url.removeprefix("http://")
        try:
            source, response = app.handle(Request(method, self.path, self.headers, host))
        except Exception:  # noqa: BLE001 - a sandbox bug must not pass for an injected fault
            traceback.print_exc()
            source, response = "", Response(500, dumps(generic_error(500, "sandbox bug", 0)))
        if app.settings.log_requests:
            parts = urlsplit(self.path)
            app.log.append(
                RequestLog(
                    source,
                    method,
                    parts.path,
                    parse_qs(parts.query, keep_blank_values=True),
                    dict(self.headers.items()),
                    0 if response.fault == "reset" else response.status,
                    response.fault,
                )
            )
        if response.fault == "reset":
            self._reset()
        else:
            self._write(response)

    def _control(self, method: str, payload: bytes) -> None:
        app = self.server.app
        path = urlsplit(self.path).path
        if path == "/_sandbox/health":
            self._write(Response(200, b'{"status":"ok"}'))
        elif path == "/_sandbox/manifest":
            self._write(Response(200, dumps(app.manifest())))
        elif path == "/_sandbox/mutate" and method == "POST":
            self._write(_mutate(app, payload))
        else:
            self._write(Response(404, dumps(generic_error(404, "Not found", 0))))

    def _write(self, response: Response) -> None:
        body = response.body
        length = len(body)
        close = response.fault == "truncated"
        if close:  # announce the whole body, send half of it, hang up
            body = body[: length // 2]
            self.close_connection = True
        lines = [
            f"HTTP/1.1 {response.status} {_REASONS.get(response.status, 'Error')}",
            "Content-Type: application/json",
            f"Content-Length: {length}",
            f"Date: {_http_date(int(time.time()))}",
            *(f"{name}: {value}" for name, value in response.headers),
        ]
        if close:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        try:
            self.wfile.write(head + body)
        except OSError:
            self.close_connection = True

    def _reset(self) -> None:
        """Drop the connection with a TCP RST and no response at all."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            return
        self.connection.close()  # the descriptor closes (with RST) when rfile closes


class SandboxServer(ThreadingHTTPServer):
    """A threading HTTP server on 127.0.0.1 that knows its app and open connections."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, port: int, app: App) -> None:
        self.app = app
        self.connections: set[socket.socket] = set()
        self.opened = 0  # connections accepted so far: shows whether clients reuse them
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", port), Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hanging up mid-response are normal here; other errors are printed."""
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)

    def close_connections(self) -> None:
        """Shut down every open keep-alive connection so handler threads end."""
        with self.lock:
            open_now = list(self.connections)
        for conn in open_now:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
