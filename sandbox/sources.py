"""The five sources as data: mount prefix, auth, endpoints, paging, envelopes and error shapes.

Everything that differs between the sources lives in :data:`SOURCES` (one :class:`Source` per
API, one :class:`Endpoint` per path) and :data:`PAGINGS` (how a paging style reads its query
parameters and wraps a page of records). The server in ``server.py`` is source-agnostic.
"""

from __future__ import annotations

import base64
import hmac
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from sandbox.data import iso_ms, stable_hash
from sandbox.filters import BadRequestError, select

if TYPE_CHECKING:
    from sandbox.data import Record
    from sandbox.mutations import Removal

Query = Mapping[str, list[str]]
"""Parsed query string: ``urllib.parse.parse_qs`` output."""

AVATAR_TYPES = ("issuetype", "project", "user")
ONE_PAGE_DEFAULT_CAP = 10
"""One-page streams default to ``min(default_size, 10)`` records."""


# --------------------------------------------------------------------------- paging


@dataclass(frozen=True, slots=True)
class Limits:
    """Server-side page-size rules that a run may change."""

    chat_count_cap: int = 100
    boards_max_results_cap: int = 20
    oncall_page_size: int = 20
    #: helpdesk and statuspage: at most this many records a page, whatever ``limit`` asks.
    offset_page_cap: int | None = None


@dataclass(frozen=True, slots=True)
class Window:
    """Which records a request asks for, and anything else its response body depends on."""

    start: int = 0
    size: int | None = None  # None: all records
    params: tuple[tuple[str, str], ...] = ()


def _int(query: Query, name: str, default: int, minimum: int = 0) -> int:
    values = query.get(name)
    if not values:
        return default
    try:
        value = int(values[0])
    except ValueError:
        raise BadRequestError(f"The parameter {name!r} must be an integer.") from None
    if value < minimum:
        raise BadRequestError(f"The parameter {name!r} must be at least {minimum}.")
    return value


def _chat_window(ep: Endpoint, query: Query, limits: Limits) -> Window:
    count = _int(query, "count", 25)
    cap = limits.chat_count_cap
    return Window(_int(query, "offset", 0), min(count, cap) if count else cap)


def _update_window(ep: Endpoint, query: Query, limits: Limits) -> Window:
    since = query.get("updatedSince")
    if not since:
        return Window()
    try:
        moment = datetime.fromisoformat(since[0].replace("Z", "+00:00"))
    except ValueError:
        raise BadRequestError("The parameter 'updatedSince' must be an ISO date.") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return Window(params=(("updatedSince", iso_ms(int(moment.timestamp() * 1000))),))


def _single_window(ep: Endpoint, query: Query, limits: Limits) -> Window:
    return Window()


def _offset_window(ep: Endpoint, query: Query, limits: Limits) -> Window:
    limit = _int(query, "limit", 100, minimum=1)
    cap = limits.offset_page_cap
    return Window(_int(query, "offset", 0), min(limit, cap) if cap else limit)


def _board_window(ep: Endpoint, query: Query, limits: Limits) -> Window:
    asked = _int(query, "maxResults", 50) or 50
    return Window(_int(query, "startAt", 0), min(asked, limits.boards_max_results_cap))


def _next_window(ep: Endpoint, query: Query, limits: Limits) -> Window:
    """Offset and limit; other parameters are echoed into the next-page URL."""
    start = _int(query, "offset", 0)
    size = _int(query, "limit", limits.oncall_page_size, minimum=1)
    params = dict(ep.order)
    for name, values in query.items():
        if name not in ("offset", "limit") and values:
            params[name] = values[0]
    return Window(start, size, tuple(params.items()))


@dataclass(frozen=True, slots=True)
class Page:
    """One page being rendered: what the envelope of a paging style is built from."""

    ep: Endpoint
    win: Window
    rows: list[Record]
    total: int  # records in the whole stream (or part)
    url: str  # absolute URL of the endpoint, from the request's Host
    token: int  # deterministic random bits for request ids and timings
    removed: tuple[Removal, ...] = ()  # records deleted so far (for ``remove`` lists)


def _update_rows(ep: Endpoint, win: Window, rows: list[Record]) -> list[Record]:
    """``updatedSince``: only records changed after that time (ISO strings sort as times)."""
    if not win.params:
        return rows
    since = win.params[0][1]
    return [row for row in rows if row["_updatedAt"] > since]


def _chat_envelope(page: Page) -> dict[str, Any]:
    """Rocket.Chat lists: count returned, offset and total."""
    return {
        page.ep.key: page.rows,
        "count": len(page.rows),
        "offset": page.win.start,
        "total": page.total,
        "success": True,
    }


def _update_envelope(page: Page) -> dict[str, Any]:
    """Rocket.Chat ``*.get``: changed records in ``update``, deleted ones in ``remove``.

    ``remove`` lists what was deleted after ``updatedSince`` (``_id`` and ``_deletedAt``, the
    trash collection's projection); without ``updatedSince`` it is empty, as in Rocket.Chat.
    """
    remove = []
    if page.win.params:
        since = page.win.params[0][1]
        for gone in page.removed:
            deleted = iso_ms(gone.deleted_ms)
            if deleted > since:
                remove.append({"_id": gone.record["_id"], "_deletedAt": deleted})
    return {"update": page.rows, "remove": remove, "success": True}


def _keyed_envelope(page: Page) -> dict[str, Any]:
    """The records under one key, nothing else (plus the endpoint's constant fields)."""
    body = {page.ep.key: page.rows}
    body.update(page.ep.extras)
    return body


def _board_envelope(page: Page) -> dict[str, Any]:
    """Jira: the (capped) page size the server used, total and ``isLast``."""
    start = page.win.start
    return {
        "maxResults": page.win.size,
        "startAt": start,
        "total": page.total,
        "isLast": start + len(page.rows) >= page.total,
        "values": page.rows,
    }


def _next_envelope(page: Page) -> dict[str, Any]:
    """Opsgenie: absolute next/first/last URLs, no total; no ``next`` on the last page."""
    win, total = page.win, page.total
    size = win.size or 1

    def link(offset: int) -> str:
        return f"{page.url}?{urlencode([('offset', offset), ('limit', size), *win.params])}"

    paging = {}
    if win.start + len(page.rows) < total:
        paging["next"] = link(win.start + size)
    paging["first"] = link(0)
    paging["last"] = link((total - 1) // size * size if total else 0)
    return {
        "data": page.rows,
        "took": round(0.002 + (page.token % 40) / 1000, 3),
        "requestId": request_id(page.token),
        "paging": paging,
    }


@dataclass(frozen=True, slots=True)
class Paging:
    """How one paging style reads a request and wraps the records of one page."""

    window: Callable[[Any, Query, Limits], Window]
    envelope: Callable[[Page], dict[str, Any]]
    start_param: str | None = None  # parameter names a client pages with (for prerendering)
    size_param: str | None = None
    filter: Callable[[Any, Window, list[Record]], list[Record]] | None = None
    #: Chooses and orders records over the whole stream (query, sort); None: as served.
    select: Callable[[Any, dict[str, str], list[Record]], list[int] | None] | None = None

    @property
    def one_page(self) -> bool:
        """Whether the stream is served as a single page."""
        return self.start_param is None


PAGINGS: dict[str, Paging] = {
    "chat": Paging(_chat_window, _chat_envelope, "offset", "count"),
    "update": Paging(_update_window, _update_envelope, filter=_update_rows),
    "single": Paging(_single_window, _keyed_envelope),
    "offset": Paging(_offset_window, _keyed_envelope, "offset", "limit"),
    "board": Paging(_board_window, _board_envelope, "startAt", "maxResults"),
    "next": Paging(_next_window, _next_envelope, "offset", "limit", select=select),
}


# --------------------------------------------------------------------------- errors


def request_id(token: int) -> str:
    """A deterministic UUID-shaped request id."""
    h = f"{token & ((1 << 64) - 1):016x}{stable_hash(str(token)):016x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


_MESSAGES = {
    400: "Bad request",
    401: "Unauthorized",
    404: "Not found",
    405: "Method not allowed",
    420: "Enhance your calm",
    429: "Too many requests",
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Gateway timeout",
}


def message_for(status: int) -> str:
    """A short human message for an error status."""
    return _MESSAGES.get(status, "Error")


def _chat_error(status: int, message: str, token: int) -> dict[str, Any]:
    if status == 401:
        return {"status": "error", "message": "You must be logged in to do this."}
    return {"success": False, "error": message}


def _helpdesk_error(status: int, message: str, token: int) -> dict[str, Any]:
    code = {401: "unauthorized", 404: "not_found", 429: "rate_limit_exceeded"}.get(
        status, "server_error" if status >= 500 else "parameter_invalid"
    )
    if status == 401:
        message = "Access Token Invalid"
    return {
        "type": "error.list",
        "request_id": request_id(token),
        "errors": [{"code": code, "message": message}],
    }


def _tracker_error(status: int, message: str, token: int) -> dict[str, Any]:
    if status == 401:
        message = "Client must be authenticated to access this resource."
    return {"errorMessages": [message], "errors": {}}


def _statuspage_error(status: int, message: str, token: int) -> dict[str, Any]:
    return {"error": "Could not authenticate" if status == 401 else message}


def _oncall_error(status: int, message: str, token: int) -> dict[str, Any]:
    if status == 401:
        message = "Could not authenticate"
    return {"message": message, "took": 0.001, "requestId": request_id(token)}


def generic_error(status: int, message: str, token: int) -> dict[str, Any]:
    """Error body for paths outside every source."""
    return {"error": message, "status": status}


# --------------------------------------------------------------------------- rate limits


def _ceil(seconds: float) -> str:
    return str(math.ceil(seconds))


def _chat_limits(now: float, wait: float) -> dict[str, str]:
    """Rocket.Chat: reset time in epoch milliseconds."""
    return {
        "X-RateLimit-Limit": "10",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": str(int((now + wait) * 1000)),
    }


def _helpdesk_limits(now: float, wait: float) -> dict[str, str]:
    """Intercom: reset time in unix seconds."""
    return {
        "X-RateLimit-Limit": "1000",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": _ceil(now + wait),
    }


def _retry_after(now: float, wait: float) -> dict[str, str]:
    """Jira and Statuspage: ``Retry-After`` in seconds."""
    return {"Retry-After": _ceil(wait)}


def _oncall_limits(now: float, wait: float) -> dict[str, str]:
    """Opsgenie: the period to wait, in seconds."""
    return {
        "X-RateLimit-State": "THROTTLED",
        "X-RateLimit-Reason": "INTEGRATION",
        "X-RateLimit-Period-In-Sec": _ceil(wait),
    }


# --------------------------------------------------------------------------- the table


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One path of a source and the stream (or stream part) it serves."""

    stream: str
    path: str  # below the source prefix
    paging: str  # a key of PAGINGS
    key: str  # the envelope field that holds the records
    part: str = ""  # avatar type for tracker avatars
    part_index: int = 0
    extras: tuple[tuple[str, Any], ...] = ()  # constant envelope fields
    order: tuple[tuple[str, str], ...] = ()  # sort parameters echoed in next-page URLs
    sorts: tuple[str, ...] = ()  # fields ``sort`` accepts besides the default order
    time_fields: tuple[str, ...] = ()  # fields ``query`` compares as epoch milliseconds

    @property
    def one_page(self) -> bool:
        """Whether the whole stream (or part) is served as one page."""
        return PAGINGS[self.paging].one_page


@dataclass(frozen=True, slots=True)
class Source:
    """One REST API: where it is mounted, how it authenticates, how it fails."""

    name: str
    prefix: str
    auth: str  # "chat" (two headers), "query", "basic" or "header"
    credential_fields: tuple[str, ...]  # tap setting names, in this order
    retries: int  # the seed's retry count: the default cap on injected failures per request
    endpoints: tuple[Endpoint, ...]
    rate_limit_headers: Callable[[float, float], dict[str, str]]
    error_body: Callable[[int, str, int], dict[str, Any]]
    rate_limit_statuses: tuple[int, ...] = (429,)
    auth_scheme: str = ""  # for "header" auth: the Authorization scheme also accepted
    secret_params: tuple[str, ...] = ()  # query parameters that carry credentials

    def streams(self) -> tuple[str, ...]:
        """Stream names in table order, each once."""
        return tuple(dict.fromkeys(ep.stream for ep in self.endpoints))


_SUCCESS = (("success", True),)
_NEWEST_FIRST = (("sort", "createdAt"), ("order", "desc"))

SOURCES: dict[str, Source] = {
    source.name: source
    for source in (
        Source(
            "chat",
            "/chat/api/v1",
            "chat",
            ("api_token", "user_id"),
            3,
            (
                Endpoint("teams", "/teams.list", "chat", "teams"),
                Endpoint("rooms", "/rooms.get", "update", "update"),
                Endpoint("channels", "/channels.list", "chat", "channels"),
                Endpoint("roles", "/roles.list", "single", "roles", extras=_SUCCESS),
                Endpoint("subscriptions", "/subscriptions.get", "update", "update"),
                Endpoint("users", "/users.list", "chat", "users"),
            ),
            _chat_limits,
            _chat_error,
        ),
        Source(
            "helpdesk",
            "/helpdesk",
            "query",
            ("api_key",),
            3,
            tuple(
                Endpoint(stream, f"/v1/{stream}", "offset", "data")
                for stream in (
                    "conversations",
                    "contacts",
                    "conversation_parts",
                    "teams",
                    "companies",
                )
            ),
            _helpdesk_limits,
            _helpdesk_error,
            secret_params=("api_key",),
        ),
        Source(
            "tracker",
            "/tracker",
            "basic",
            ("email", "api_token"),
            10,
            (
                Endpoint("application_roles", "/v1/applicationrole", "single", "data"),
                *(
                    Endpoint("avatars", f"/v1/avatar/{kind}/system", "single", "system", kind, n)
                    for n, kind in enumerate(AVATAR_TYPES)
                ),
                Endpoint("boards", "/v1/board", "board", "values"),
            ),
            _retry_after,
            _tracker_error,
        ),
        Source(
            "statuspage",
            "/statuspage",
            "header",
            ("api_key",),
            3,
            (
                Endpoint("pages", "/v1/resource", "offset", "data"),
                Endpoint("subscribers", "/v1/resource/subscribers", "offset", "data"),
            ),
            _retry_after,
            _statuspage_error,
            rate_limit_statuses=(420, 420, 420, 429),
            auth_scheme="OAuth",
        ),
        Source(
            "oncall",
            "/oncall",
            "header",
            ("api_token",),
            3,
            (
                Endpoint(
                    "users",
                    "/v2/users",
                    "next",
                    "data",
                    order=(("sort", "username"), ("order", "asc")),
                ),
                Endpoint("teams", "/v2/teams", "next", "data"),
                Endpoint("services", "/v1/services", "next", "data"),
                Endpoint("integrations", "/v2/integrations", "next", "data"),
                Endpoint(
                    "incidents",
                    "/v1/incidents",
                    "next",
                    "data",
                    order=_NEWEST_FIRST,
                    sorts=("createdAt", "tinyId", "status", "priority"),  # not updatedAt
                    time_fields=("createdAt", "updatedAt"),
                ),
                Endpoint(
                    "alerts",
                    "/v2/alerts",
                    "next",
                    "data",
                    order=_NEWEST_FIRST,
                    sorts=("createdAt", "updatedAt", "lastOccurredAt", "tinyId", "count"),
                    time_fields=("createdAt", "updatedAt", "lastOccurredAt"),
                ),
            ),
            _oncall_limits,
            _oncall_error,
            auth_scheme="GenieKey",
        ),
    )
}
"""Every source, by name."""

ROUTES: dict[str, tuple[Source, Endpoint]] = {
    source.prefix + ep.path: (source, ep) for source in SOURCES.values() for ep in source.endpoints
}
"""Full request path -> (source, endpoint)."""


def source_for_path(path: str) -> Source | None:
    """The source whose prefix ``path`` is under, if any."""
    for source in SOURCES.values():
        if path == source.prefix or path.startswith(source.prefix + "/"):
            return source
    return None


# --------------------------------------------------------------------------- auth


def make_credentials(seed: int, source: str) -> dict[str, str]:
    """Deterministic per-seed secrets, distinctive enough to grep for in logs (``sbx``)."""
    source_spec = SOURCES[source]
    out = {}
    for field in source_spec.credential_fields:
        digest = f"{stable_hash(f'{seed}:{source}:{field}'):016x}"
        if field == "email":
            out[field] = f"sandbox.{digest[:8]}@example.com"
        elif field == "user_id":
            out[field] = f"sbxuser{digest[:10]}"
        else:
            out[field] = f"sbx_{source}_{field}_{digest}{stable_hash(digest):016x}"
    return out


def _same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def authorized(source: Source, credentials: Mapping[str, str], headers: Any, query: Query) -> bool:
    """Whether the request carries this source's credentials (``headers``: case-insensitive)."""
    if source.auth == "chat":
        return _same(headers.get("X-Auth-Token"), credentials["api_token"]) and _same(
            headers.get("X-User-Id"), credentials["user_id"]
        )
    if source.auth == "query":
        values = query.get("api_key")
        return _same(values[0] if values else None, credentials["api_key"])
    authorization = headers.get("Authorization") or ""
    scheme, _, value = authorization.partition(" ")
    if source.auth == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except ValueError:
            return False
        expected = f"{credentials['email']}:{credentials['api_token']}"
        return scheme.lower() == "basic" and _same(decoded, expected)
    key = credentials[source.credential_fields[0]]
    if _same(headers.get("api_key"), key):
        return True
    return scheme.lower() == source.auth_scheme.lower() and _same(value.strip(), key)
