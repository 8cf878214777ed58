"""A sixth API that no built-in source covers: projects, their tasks, and members.

It exists for user specs (``examples/specs/projects.yaml``): the tap has no module for it.

- ``/projects/v1/projects``: cursor paging (``cursor`` in, ``meta.next_cursor`` out, ``limit``
  default 10), body ``{"data": [...], "meta": {"next_cursor": ...}}``;
- ``/projects/v1/projects/{id}/tasks``: ``Link: <...>; rel="next"`` paging (``page``,
  ``per_page`` default 5), body a bare JSON array;
- ``/projects/v1/members``: page numbers from 1 (page size 10), body
  ``{"members": [...], "page": N, "total_pages": M}``.

Auth: ``Authorization: Bearer <api_token>`` (401 otherwise). ``projects`` accepts
``updated_since`` (RFC 3339): only projects updated at or after it, oldest change first,
as an incremental client wants. Record ``i`` is a pure function of ``(seed, i)``; a project's
tasks count ``(i * 7) % 5`` (some have none).
"""

from __future__ import annotations

import base64
import hmac
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from sandbox.data import iso_ms, stable_hash

PREFIX = "/projects/v1"
_T0_MS = 1_700_000_000_000
_HOUR_MS = 3_600_000
_STATUSES = ("active", "on_hold", "done", "archived")
_NAMES = ("Atlas", "Borealis", "Cygnus", "Dorado", "Éole", "Fornax", "Gemini", "東京", "Hydra")
_ROLES = ("owner", "admin", "member", "viewer")
PROJECTS_PAGE = 10
TASKS_PAGE = 5
MEMBERS_PAGE = 10


class BadRequest(ValueError):  # noqa: N818  # the HTTP status's name
    """A parameter the API rejects with 400."""


def _int(query: dict[str, list[str]], name: str, default: int, minimum: int) -> int:
    values = query.get(name)
    if not values:
        return default
    try:
        value = int(values[0])
    except ValueError:
        raise BadRequest(f"{name} must be an integer") from None
    if value < minimum:
        raise BadRequest(f"{name} must be at least {minimum}")
    return value


class ProjectsAPI:
    """The projects API's data and responses, independent of sockets."""

    def __init__(self, seed: int, projects: int, members: int) -> None:
        self.seed = seed
        self.size = projects
        self.member_count = members
        digest = f"{stable_hash(f'{seed}:projects:api_token'):016x}"
        self.credentials = {"api_token": f"sbx_projects_api_token_{digest}"}

    # --- data ------------------------------------------------------------------

    def _bits(self, *parts: object) -> int:
        return stable_hash(":".join(map(str, (self.seed, *parts))))

    def project(self, i: int) -> dict[str, Any]:
        """Project ``i``: updated times grow with ``i`` (the cursor order)."""
        bits = self._bits("project", i)
        created = _T0_MS + i * _HOUR_MS
        return {
            "id": f"prj_{bits % 10**8:08d}{i:04d}",
            "key": f"P{i + 1}",
            "name": f"{_NAMES[bits % len(_NAMES)]} {i + 1}",
            "status": _STATUSES[(bits >> 8) % len(_STATUSES)],
            "budget": None if (bits >> 12) % 7 == 0 else round((bits >> 16) % 1_000_000 / 100, 2),
            "owner": {"id": (bits >> 24) % 1000, "name": f"owner{(bits >> 24) % 1000}"},
            "tags": [t for n, t in enumerate(("web", "infra", "ops")) if (bits >> (32 + n)) & 1],
            "created_at": iso_ms(created),
            "updated_at": iso_ms(created + 30 * _HOUR_MS + (bits >> 40) % _HOUR_MS),
            "task_count": (i * 7) % 5,
        }

    def projects(self, since: str | None = None) -> list[dict[str, Any]]:
        """Every project (updated at or after ``since``), in cursor order."""
        rows = [self.project(i) for i in range(self.size)]
        return [row for row in rows if since is None or row["updated_at"] >= since]

    def tasks(self, project_id: str) -> list[dict[str, Any]]:
        """The tasks of one project, in page order ([] for an unknown project)."""
        index = self._index(project_id)
        if index is None:
            return []
        project = self.project(index)
        out = []
        for j in range(project["task_count"]):
            bits = self._bits("task", index, j)
            out.append(
                {
                    "id": f"{project_id}-t{j + 1}",
                    "project_id": project_id,
                    "title": f"Task {j + 1} of {project['name']}",
                    "done": bool(bits & 1),
                    "estimate_hours": None if bits % 5 == 0 else (bits >> 4) % 40 + 0.5,
                    "labels": ["urgent"] if (bits >> 9) % 4 == 0 else [],
                    "created_at": iso_ms(_T0_MS + index * _HOUR_MS + j * 60_000),
                }
            )
        return out

    def members(self) -> list[dict[str, Any]]:
        """Every member, in page order."""
        out = []
        for i in range(self.member_count):
            bits = self._bits("member", i)
            out.append(
                {
                    "id": 1000 + i,
                    "name": f"Member {i + 1}",
                    "email": f"member{i + 1}@example.com",
                    "role": _ROLES[bits % len(_ROLES)],
                    "active": bool((bits >> 3) & 1),
                }
            )
        return out

    def _index(self, project_id: str) -> int | None:
        tail = project_id[-4:]
        if not tail.isdigit():
            return None
        index = int(tail)
        if index >= self.size or self.project(index)["id"] != project_id:
            return None
        return index

    # --- requests ----------------------------------------------------------------

    def authorized(self, headers: Any) -> bool:
        """Whether the request carries ``Authorization: Bearer <api_token>``."""
        scheme, _, token = (headers.get("Authorization") or "").partition(" ")
        expected = self.credentials["api_token"].encode()
        return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), expected)

    def handle(
        self, method: str, target: str, headers: Any, host: str
    ) -> tuple[int, Any, tuple[tuple[str, str], ...]]:
        """``(status, JSON body, extra headers)`` for one request under PREFIX."""
        parts = urlsplit(target)
        query = parse_qs(parts.query, keep_blank_values=True)
        if not self.authorized(headers):
            return 401, {"error": "unauthorized", "message": "Bearer token missing or wrong"}, ()
        if method != "GET":
            return 405, {"error": "method_not_allowed"}, ()
        try:
            return self._route(parts.path, query, host)
        except BadRequest as exc:
            return 400, {"error": "bad_request", "message": str(exc)}, ()

    def _route(
        self, path: str, query: dict[str, list[str]], host: str
    ) -> tuple[int, Any, tuple[tuple[str, str], ...]]:
        route = path.removeprefix(PREFIX).strip("/").split("/")
        if route == ["projects"]:
            return 200, self._projects_page(query), ()
        if len(route) == 3 and route[0] == "projects" and route[2] == "tasks":
            return self._tasks_page(route[1], query, f"http://{host}{path}")
        if route == ["members"]:
            return 200, self._members_page(query), ()
        return 404, {"error": "not_found", "message": f"No route for {path}"}, ()

    def _projects_page(self, query: dict[str, list[str]]) -> dict[str, Any]:
        since = query.get("updated_since", [None])[0]
        if since is not None:
            try:
                moment = datetime.fromisoformat(since.replace("Z", "+00:00"))
            except ValueError:
                raise BadRequest("updated_since must be an RFC 3339 time") from None
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=timezone.utc)
            since = iso_ms(int(moment.timestamp() * 1000))
        limit = _int(query, "limit", PROJECTS_PAGE, 1)
        start = 0
        cursor = query.get("cursor", [""])[0]
        if cursor:
            try:
                start = int(base64.urlsafe_b64decode(cursor.encode()).decode().removeprefix("o:"))
            except ValueError:
                raise BadRequest("cursor is not one this API gave") from None
        rows = self.projects(since)
        page = rows[start : start + limit]
        more = start + limit < len(rows)
        next_cursor = base64.urlsafe_b64encode(f"o:{start + limit}".encode()).decode()
        return {"data": page, "meta": {"next_cursor": next_cursor if more else None}}

    def _tasks_page(
        self, project_id: str, query: dict[str, list[str]], url: str
    ) -> tuple[int, Any, tuple[tuple[str, str], ...]]:
        if self._index(project_id) is None:
            return 404, {"error": "not_found", "message": f"No project {project_id}"}, ()
        page = _int(query, "page", 1, 1)
        per_page = _int(query, "per_page", TASKS_PAGE, 1)
        rows = self.tasks(project_id)
        links = []
        if page * per_page < len(rows):
            links.append(
                f'<{url}?{urlencode({"page": page + 1, "per_page": per_page})}>; rel="next"'
            )
        links.append(f'<{url}?{urlencode({"page": 1, "per_page": per_page})}>; rel="first"')
        body = rows[(page - 1) * per_page : page * per_page]
        return 200, body, (("Link", ", ".join(links)),)

    def _members_page(self, query: dict[str, list[str]]) -> dict[str, Any]:
        page = _int(query, "page", 1, 1)
        rows = self.members()
        total_pages = max(1, -(-len(rows) // MEMBERS_PAGE))
        body = rows[(page - 1) * MEMBERS_PAGE : page * MEMBERS_PAGE]
        return {"members": body, "page": page, "total_pages": total_pages}
