"""What every vendor-shaped sandbox shares: routes, declared parameters, a checking log.

Routes carry the query parameters the vendor declares; the request log checks each request
against them; vendor error bodies, rate-limit headers and a clock complete the picture.

A vendor module subclasses :class:`VendorAPI`: its data (plain records, changed by
:meth:`VendorAPI.touch`), its :class:`Route` table (path, method, the query parameters the
vendor's OpenAPI document declares), how it authenticates and what its errors look like.
:class:`VendorServer` serves one API on 127.0.0.1 (a free port by default). Standard library
only, like the rest of the sandbox.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, ClassVar, Literal
from urllib.parse import parse_qs, urlsplit

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

Record = dict[str, Any]
Headers = tuple[tuple[str, str], ...]
#: 2024-01-01T00:00:00Z: the vendors' clock starts here, one tick per change.
T0 = 1_704_067_200


@dataclass(frozen=True)
class Param:
    """A query parameter as the vendor declares it."""

    kind: Literal["string", "integer", "boolean", "json"] = "string"
    required: bool = False
    enum: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None

    def problems(self, name: str, values: list[str]) -> list[str]:  # noqa: PLR0911
        """What is wrong with the values sent for ``name`` (nothing: [])."""
        if len(values) > 1:
            return [f"{name} sent {len(values)} times"]
        value = values[0]
        if self.kind == "integer":
            if not re.fullmatch(r"-?\d+", value):
                return [f"{name}={value!r} is not an integer"]
            number = int(value)
            if self.minimum is not None and number < self.minimum:
                return [f"{name}={number} is below {self.minimum}"]
            if self.maximum is not None and number > self.maximum:
                return [f"{name}={number} is above {self.maximum}"]
        elif self.kind == "boolean" and value not in ("true", "false"):
            return [f"{name}={value!r} is not true or false"]
        elif self.kind == "json":
            try:
                json.loads(value)
            except ValueError:
                return [f"{name}={value!r} is not JSON"]
        if self.enum and value not in self.enum:
            return [f"{name}={value!r} is not one of {', '.join(self.enum)}"]
        return []


@dataclass(frozen=True)
class Route:
    """One endpoint: method, path template (``{name}`` segments), handler, declared params."""

    method: str
    template: str
    handler: str
    params: Mapping[str, Param] = field(default_factory=dict)

    @property
    def pattern(self) -> re.Pattern[str]:
        """The template as a regular expression with one group per path variable."""
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.template))
        return re.compile(f"^{regex}$")


@dataclass
class Call:
    """A request as a handler sees it."""

    method: str
    path: str
    vars: dict[str, str]
    query: dict[str, str]
    headers: Any
    body: Any
    origin: str  # scheme://host:port the client addressed, for next-page links

    def integer(self, name: str, default: int) -> int:
        """A declared integer parameter (already checked), or its default."""
        return int(self.query[name]) if name in self.query else default


@dataclass(frozen=True)
class Reply:
    """What the server sends: status, JSON body, extra headers."""

    status: int
    body: Any
    headers: Headers = ()


@dataclass(frozen=True)
class Logged:
    """One request as the sandbox saw it, with what was wrong with it."""

    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    status: int
    problems: tuple[str, ...] = ()


class VendorAPI:
    """One vendor's API: routes, auth, error bodies, rate-limit headers, records, a clock."""

    name: ClassVar[str]
    routes: ClassVar[tuple[Route, ...]]

    def __init__(self, *, seed: int = 7, rate_limit_every: int = 0) -> None:
        self.seed = seed
        #: Every n-th request is refused with the vendor's rate-limit answer (0: never).
        self.rate_limit_every = rate_limit_every
        self.now = T0
        self.log: list[Logged] = []
        self._lock = threading.Lock()
        self._count = 0
        self._compiled = [(route, route.pattern) for route in self.routes]

    # --- what a vendor module says -------------------------------------------------------

    def authorized(self, call: Call) -> bool:
        """Whether the request carries this API's credentials."""
        raise NotImplementedError

    def error(self, status: int, message: str) -> Any:
        """The vendor's error body."""
        raise NotImplementedError

    def rate_headers(self) -> Headers:
        """Rate-limit headers the vendor sends with every answer."""
        return ()

    def rate_limited(self) -> Reply:
        """The vendor's answer when a client goes too fast."""
        return Reply(429, self.error(429, "rate limit exceeded"), (("Retry-After", "0"),))

    def after_reply(self, logged: Logged, reply: Reply) -> None:
        """Called once a reply has been written (a vendor module may act on it)."""

    def body_problems(self, route: Route, body: Any) -> list[str]:
        """What is wrong with a request body for ``route`` (routes with bodies override)."""
        return [] if body is None else [f"{route.method} {route.template} takes no body"]

    def credentials(self) -> dict[str, str]:
        """Tap settings that authenticate against this sandbox."""
        raise NotImplementedError

    # --- the clock and changes --------------------------------------------------------------

    def tick(self, seconds: int = 61) -> int:
        """Move the clock on (past a minute by default: JQL reads minutes) and return it."""
        self.now += seconds
        return self.now

    # --- requests -------------------------------------------------------------------------

    @property
    def violations(self) -> list[str]:
        """Every problem of every request so far, as ``METHOD path: problem``."""
        return [f"{e.method} {e.path}: {p}" for e in self.log for p in e.problems]

    def handle(
        self, method: str, target: str, headers: Any, raw: bytes, origin: str
    ) -> tuple[Reply, Logged]:
        """Answer one request (never raises: a bug in a handler is a 500)."""
        parts = urlsplit(target)
        multi = parse_qs(parts.query, keep_blank_values=True)
        body: Any = None
        problems: list[str] = []
        kind = (headers.get("Content-Type") or "").split(";")[0].strip()
        if raw and kind == "application/x-www-form-urlencoded":
            body = {k: v[-1] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}
        elif raw:
            try:
                body = json.loads(raw)
            except ValueError:
                problems.append("the body is not JSON")
        reply = self._answer(method, parts.path, multi, headers, body, origin, problems)
        own = {name.lower() for name, _ in reply.headers}
        usual = tuple(h for h in self.rate_headers() if h[0].lower() not in own)
        reply = Reply(reply.status, reply.body, reply.headers + usual)
        logged = Logged(method, parts.path, multi, body, reply.status, tuple(problems))
        with self._lock:
            self.log.append(logged)
        return reply, logged

    def _answer(  # noqa: PLR0911, PLR0917
        self,
        method: str,
        path: str,
        multi: dict[str, list[str]],
        headers: Any,
        body: Any,
        origin: str,
        problems: list[str],
    ) -> Reply:
        found = [(route, m) for route, rx in self._compiled if (m := rx.match(path))]
        if not found:
            problems.append("no such path")
            return Reply(404, self.error(404, f"no route for {path}"))
        matching = [(route, m) for route, m in found if route.method == method]
        if not matching:
            problems.append(f"method {method} not allowed")
            return Reply(405, self.error(405, f"{method} not allowed on {path}"))
        route, match = matching[0]
        call = Call(
            method,
            path,
            match.groupdict(),
            {k: v[-1] for k, v in multi.items()},
            headers,
            body,
            origin,
        )
        if not self.authorized(call):
            problems.append("not authorized")
            return Reply(401, self.error(401, "unauthorized"))
        problems.extend(self.param_problems(route, multi))
        problems.extend(self.body_problems(route, body))
        if problems:
            return Reply(400, self.error(400, "; ".join(problems)))
        with self._lock:
            self._count += 1
            limited = self.rate_limit_every and self._count % self.rate_limit_every == 0
        if limited:
            return self.rate_limited()
        handler: Callable[[Call], Reply] = getattr(self, "serve_" + route.handler)
        try:
            return handler(call)
        except BadRequestError as exc:
            problems.append(str(exc))
            return Reply(400, self.error(400, str(exc)))
        except Exception as exc:  # noqa: BLE001  # a sandbox bug: answered, and shown
            problems.append(f"sandbox error: {type(exc).__name__}: {exc}")
            return Reply(500, self.error(500, "internal error"))

    @staticmethod
    def param_problems(route: Route, multi: dict[str, list[str]]) -> list[str]:
        """Undeclared, malformed or missing query parameters."""
        out = [f"undeclared parameter {name}" for name in multi if name not in route.params]
        for name, param in route.params.items():
            if name in multi:
                out.extend(param.problems(name, multi[name]))
            elif param.required:
                out.append(f"missing required parameter {name}")
        return out


class BadRequestError(ValueError):
    """A request the vendor refuses with 400 (a handler's own check)."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    api: VendorAPI

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        host = self.headers.get("Host") or f"127.0.0.1:{self.server.server_address[1]}"
        reply, logged = self.api.handle(
            self.command, self.path, self.headers, raw, f"http://{host}"
        )
        data = json.dumps(reply.body, ensure_ascii=False).encode()
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in reply.headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()
        self.api.after_reply(logged, reply)

    do_GET = do_POST = _serve  # noqa: N815

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the API keeps its own log."""


class VendorServer:
    """One vendor API served on 127.0.0.1 until stopped (a context manager)."""

    def __init__(self, api: VendorAPI, port: int = 0) -> None:
        self.api = api
        handler = type("Handler", (_Handler,), {"api": api})
        self._server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> VendorServer:
        """Serve in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> VendorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- helpers for vendor modules ---------------------------------------------------------------


def iso(seconds: int, ms: int = 0) -> str:
    """``2024-01-01T00:00:00.000Z`` for epoch seconds (and milliseconds)."""
    from datetime import datetime, timezone  # noqa: PLC0415

    moment = datetime.fromtimestamp(seconds, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms:03d}Z"


def pick(seed: int, *parts: object) -> int:
    """A stable 32-bit number for these parts (the same in every process)."""
    from hashlib import blake2b  # noqa: PLC0415

    text = ":".join(map(str, (seed, *parts)))
    return int.from_bytes(blake2b(text.encode(), digest_size=4).digest(), "little")
