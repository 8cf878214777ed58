"""Jira Cloud, as Atlassian's platform and Software OpenAPI documents describe it, and OAuth.

The platform API is ``/rest/api/3``, Jira Software's ``/rest/agile/1.0``; the OAuth 2.0 (3LO)
token endpoint is served beside them.

Basic ``email:api_token`` or ``Authorization: Bearer <access token>`` (3LO). Paged lists:
``startAt``/``maxResults`` (50 by default), ``total``, ``isLast``, records under ``values``
(comments under ``comments``); application roles are a bare array; system avatars answer
``{"system": [...]}``. Issues: ``GET /rest/api/3/search/jql`` with ``jql`` (a bounded query:
an unbounded one is refused), ``fields``, ``maxResults`` and ``nextPageToken`` (absent on the
last page); the old ``/rest/api/3/search`` answers 410. JQL times are read in the user's time
zone, minutes only (``updated >= "2024-01-10 09:00"``), as Jira does. Errors:
``{"errorMessages": [...], "errors": {}}``; a 429 carries ``Retry-After``,
``X-RateLimit-Limit/Remaining/Reset`` and ``RateLimit-Reason``.

``POST /oauth/token`` issues rotating refresh tokens: each refresh returns a new one and the old
one stops working; an old one used again after ``leeway_seconds`` revokes the whole family
(every token of the grant), as Atlassian's rotation does: the user must consent again.
"""

from __future__ import annotations

import base64
import hmac
import re
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from sandbox.vendors.base import (
    BadRequestError,
    Call,
    Headers,
    Logged,
    Param,
    Record,
    Reply,
    Route,
    VendorAPI,
    pick,
)

_START = {
    "startAt": Param("integer", minimum=0),
    "maxResults": Param("integer", minimum=0, maximum=100),
}
_CLAUSE = re.compile(
    r'^(updated|created)\s*(>=|>|<=|<)\s*"(\d{4}-\d{2}-\d{2} \d{2}:\d{2})"$', re.IGNORECASE
)
_PROJECT = re.compile(r"^project\s*(=|in)\s*\(?\s*([A-Z0-9_, ]+?)\s*\)?$", re.IGNORECASE)
_ORDER = re.compile(
    r"\s+ORDER\s+BY\s+(\w+)(?:\s+(ASC|DESC))?(?:\s*,\s*\w+(?:\s+(?:ASC|DESC))?)*\s*$", re.IGNORECASE
)
_AVATAR_TYPES = ("issuetype", "project", "user", "priority")


class JiraAPI(VendorAPI):
    """Application roles, system avatars, projects, boards, issues with comments and changelogs."""

    name = "jira"
    routes: ClassVar = (
        Route("GET", "/rest/api/3/applicationrole", "application_roles"),
        Route("GET", "/rest/api/3/avatar/{type}/system", "system_avatars"),
        Route(
            "GET",
            "/rest/api/3/project/search",
            "projects",
            {
                **_START,
                "orderBy": Param(),
                "query": Param(),
                "typeKey": Param(),
                "expand": Param(),
                "action": Param(enum=("view", "browse", "edit", "create")),
            },
        ),
        Route(
            "GET",
            "/rest/agile/1.0/board",
            "boards",
            {
                **_START,
                "type": Param(),
                "name": Param(),
                "projectKeyOrId": Param(),
                "includePrivate": Param("boolean"),
                "orderBy": Param(),
                "expand": Param(),
            },
        ),
        Route(
            "GET",
            "/rest/api/3/search/jql",
            "search",
            {
                "jql": Param(),
                "nextPageToken": Param(),
                "maxResults": Param("integer", minimum=0, maximum=5000),
                "fields": Param(),
                "expand": Param(),
                "properties": Param(),
                "fieldsByKeys": Param("boolean"),
                "failFast": Param("boolean"),
                "reconcileIssues": Param(),
            },
        ),
        Route("GET", "/rest/api/3/search", "removed_search", {"jql": Param(), **_START}),
        Route(
            "GET",
            "/rest/api/3/issue/{issueIdOrKey}/comment",
            "comments",
            {
                **_START,
                "orderBy": Param(enum=("created", "-created", "+created")),
                "expand": Param(),
            },
        ),
        Route("GET", "/rest/api/3/issue/{issueIdOrKey}/changelog", "changelog", _START),
        Route("POST", "/oauth/token", "token"),
    )

    def __init__(
        self,
        *,
        seed: int = 7,
        projects: int = 3,
        issues: int = 14,
        user_time_zone: str = "America/Sao_Paulo",
        expires_in: int = 3600,
        leeway_seconds: float | None = None,
        rate_limit_every: int = 0,
    ) -> None:
        super().__init__(seed=seed, rate_limit_every=rate_limit_every)
        self.zone = ZoneInfo(user_time_zone)
        self.email = "ada@example.com"
        self.api_token = f"ATATT3x{pick(seed, 'jira'):08x}{pick(seed, 'jira2'):08x}"
        self.client_id = f"cid{pick(seed, 'cid'):08x}"
        self.client_secret = f"csecret-{pick(seed, 'cs'):08x}{pick(seed, 'cs2'):08x}"
        self.expires_in = expires_in
        self.leeway_seconds = leeway_seconds
        self._token_lock = threading.Lock()
        self._serial = 0
        #: An old refresh token is accepted again within this many (real) seconds of its first
        #: use (Atlassian: 10 minutes); None: never, any reuse revokes the grant.
        #: Refresh tokens of the grant: token -> [issued at, first used at or None] (monotonic).
        self.refresh_tokens: dict[str, list[float | None]] = {}
        self.access_tokens: dict[str, float] = {}  # token -> expiry (monotonic)
        self.revoked = False
        self.current_refresh_token = self._new_refresh_token()
        #: Called with the new refresh token right after the token endpoint has answered.
        self.on_token_issued: Any = None
        #: Called with each access token a request carries, before it is answered.
        self.on_bearer: Any = None
        #: Token requests answered (with a token or a refusal).
        self.token_requests = 0
        self.projects = [self._project(i) for i in range(projects)]
        self.boards = [self._board(i) for i in range(projects * 2)]
        self.issues = [self._issue(i) for i in range(issues)]
        self.comments = {
            x["id"]: [self._comment(x, j) for j in range(int(x["id"]) % 4)] for x in self.issues
        }
        self.changelogs = {
            x["id"]: [self._change(x, j) for j in range(int(x["id"]) % 3 + 1)] for x in self.issues
        }

    # --- records ---------------------------------------------------------------------------

    def _when(self, seconds: int, *parts: object) -> str:
        """Jira's date-time: milliseconds and the user's offset without a colon."""
        moment = datetime.fromtimestamp(seconds, tz=self.zone) + timedelta(
            milliseconds=pick(self.seed, *parts) % 1000
        )
        return (
            moment.strftime("%Y-%m-%dT%H:%M:%S.")
            + f"{moment.microsecond // 1000:03d}"
            + moment.strftime("%z")
        )

    def _user(self, i: int) -> Record:
        return {
            "accountId": f"5b10ac8d82e05b22cc7d4e{i:02d}",
            "accountType": "atlassian",
            "displayName": f"Dev Ç {i}",
            "active": True,
            "timeZone": str(self.zone),
        }

    def _project(self, i: int) -> Record:
        pid = str(10_000 + i)
        return {
            "expand": "description,lead,issueTypes,url,projectKeys,permissions,insight",
            "self": f"https://example.atlassian.net/rest/api/3/project/{pid}",
            "id": pid,
            "key": f"PRJ{i}",
            "name": f"Project {i} — ✓",
            "projectTypeKey": "software",
            "simplified": i % 2 == 0,
            "style": "next-gen" if i % 2 == 0 else "classic",
            "isPrivate": False,
            "properties": {},
            "uuid": f"{pick(self.seed, 'p', i):08x}-0000-4000-8000-{i:012d}",
            "avatarUrls": {
                k: f"https://example.atlassian.net/avatar/{pid}?size={k}"
                for k in ("16x16", "24x24", "32x32", "48x48")
            },
        }

    def _board(self, i: int) -> Record:
        project = self.projects[i % len(self.projects)]
        location: Record = {
            "projectId": int(project["id"]),
            "displayName": project["name"],
            "projectName": project["name"],
            "projectKey": project["key"],
            "projectTypeKey": "software",
            "name": project["name"],
        }
        if i % 5 == 4:  # a user's board
            location = {
                "userId": 2000 + i,
                "userAccountId": self._user(i)["accountId"],
                "displayName": "Dev",
                "name": "Dev",
            }
        return {
            "id": 1 + i,
            "self": f"https://example.atlassian.net/rest/agile/1.0/board/{1 + i}",
            "name": f"Board {i}",
            "type": "scrum" if i % 2 else "kanban",
            "location": location,
            "isPrivate": False,
        }

    def _issue(self, i: int) -> Record:
        project = self.projects[i % len(self.projects)]
        created = self.now - 86_400 * 20 + i * 5_000
        iid = str(10_100 + i)
        return {
            "expand": "renderedFields,names,schema,operations,editmeta,changelog",
            "id": iid,
            "self": f"https://example.atlassian.net/rest/api/3/issue/{iid}",
            "key": f"{project['key']}-{i + 1}",
            "fields": {
                "summary": f"Issue {i}: fix the flux capacitor",
                "status": {"id": "3", "name": ("To Do", "In Progress", "Done")[i % 3]},
                "issuetype": {"id": "10001", "name": "Task", "subtask": False},
                "project": {"id": project["id"], "key": project["key"], "name": project["name"]},
                "priority": {"id": "3", "name": "Medium"},
                "labels": ["backend"] if i % 2 else [],
                "assignee": self._user(i % 4) if i % 3 else None,
                "reporter": self._user(0),
                "created": self._when(created, "c", i),
                "updated": self._when(created + 3_600, "u", i),
                "customfield_10016": float(i % 8) if i % 4 else None,
            },
        }

    def _comment(self, issue: Record, j: int) -> Record:
        t = self.now - 86_400 * 10 + j * 600
        cid = str(20_000 + int(issue["id"]) * 10 + j)
        doc = {
            "type": "doc",
            "version": 1,
            "content": [
                {"type": "paragraph", "content": [{"type": "text", "text": f"Comment {j} 💬"}]}
            ],
        }
        return {
            "self": f"{issue['self']}/comment/{cid}",
            "id": cid,
            "author": self._user(j),
            "body": doc,
            "updateAuthor": self._user(j),
            "created": self._when(t, "cc", cid),
            "updated": self._when(t + 60, "cu", cid),
            "jsdPublic": True,
        }

    def _change(self, issue: Record, j: int) -> Record:
        hid = str(30_000 + int(issue["id"]) * 10 + j)
        return {
            "id": hid,
            "author": self._user(j),
            "created": self._when(self.now - 86_400 * 5 + j * 60, "h", hid),
            "items": [
                {
                    "field": "status",
                    "fieldtype": "jira",
                    "fieldId": "status",
                    "from": "1",
                    "fromString": "To Do",
                    "to": "3",
                    "toString": "In Progress",
                }
            ],
        }

    def touch_issues(self, count: int) -> list[str]:
        """Comment on ``count`` issues (updating them); return their ids."""
        for issue in self.issues[:count]:
            now = self.tick()
            issue["fields"]["updated"] = self._when(now, "t", issue["id"], now)
            comments = self.comments[issue["id"]]
            comment = self._comment(issue, len(comments))
            comment["created"] = comment["updated"] = issue["fields"]["updated"]
            comments.append(comment)
        return [x["id"] for x in self.issues[:count]]

    # --- OAuth 2.0 (3LO) -------------------------------------------------------------------

    def _token_bits(self, kind: str) -> str:
        return (
            f"{pick(self.seed, kind, self._serial):08x}{pick(self.seed, kind, 2, self._serial):08x}"
        )

    def _new_refresh_token(self) -> str:
        self._serial += 1
        token = f"rt-{self._token_bits('rt')}-{self._serial}"
        self.refresh_tokens[token] = [time.monotonic(), None]
        return token

    def serve_token(self, call: Call) -> Reply:  # noqa: D102
        body = call.body if isinstance(call.body, dict) else {}
        if body.get("grant_type") != "refresh_token":
            return Reply(
                400,
                {
                    "error": "unsupported_grant_type",
                    "error_description": "Grant type is not supported.",
                },
            )
        if (
            body.get("client_id") != self.client_id
            or body.get("client_secret") != self.client_secret
        ):
            return Reply(401, {"error": "access_denied", "error_description": "Unauthorized"})
        denied = Reply(
            403,
            {"error": "invalid_grant", "error_description": "Unknown or invalid refresh token."},
        )
        with self._token_lock:
            self.token_requests += 1
            token = str(body.get("refresh_token") or "")
            state = self.refresh_tokens.get(token)
            if self.revoked or state is None:
                return denied
            used, now = state[1], time.monotonic()
            if used is not None and (
                self.leeway_seconds is None or now - used > self.leeway_seconds
            ):
                self.revoked = True  # reuse detected: the whole grant is gone
                return denied
            state[1] = now if used is None else used
            new = self._new_refresh_token()
            self.current_refresh_token = new
            self._serial += 1
            access = f"at-{self._token_bits('at')}-{self._serial}"
            self.access_tokens[access] = time.monotonic() + self.expires_in
        return Reply(
            200,
            {
                "access_token": access,
                "refresh_token": new,
                "expires_in": self.expires_in,
                "scope": "read:jira-work read:jira-user offline_access",
                "token_type": "Bearer",
            },
        )

    def after_reply(self, logged: Logged, reply: Reply) -> None:  # noqa: D102
        if (
            logged.path == "/oauth/token"
            and reply.status == 200
            and self.on_token_issued is not None
        ):
            self.on_token_issued(reply.body["refresh_token"])

    def expire_access_tokens(self) -> None:
        """Every access token issued so far stops working (as an hour later)."""
        for token in self.access_tokens:
            self.access_tokens[token] = 0.0

    # --- protocol --------------------------------------------------------------------------

    def credentials(self) -> dict[str, str]:  # noqa: D102
        return {"email": self.email, "api_token": self.api_token}

    def oauth_settings(self) -> dict[str, str]:
        """The OAuth settings of a user who has just consented (the first refresh token)."""
        return {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "refresh_token": next(iter(self.refresh_tokens)),
        }

    def secrets(self) -> list[str]:
        """Every credential and token this API ever issued or took (none may be printed)."""
        return [self.api_token, self.client_secret, *self.refresh_tokens, *self.access_tokens]

    def authorized(self, call: Call) -> bool:  # noqa: D102
        if call.path == "/oauth/token":
            return True  # the client authenticates in the body
        scheme, _, value = (call.headers.get("Authorization") or "").partition(" ")
        if scheme == "Bearer":
            if self.on_bearer is not None:
                self.on_bearer(value)
            expiry = self.access_tokens.get(value)
            return not self.revoked and expiry is not None and time.monotonic() <= expiry
        if scheme != "Basic":
            return False
        expected = base64.b64encode(f"{self.email}:{self.api_token}".encode()).decode()
        return hmac.compare_digest(value.encode(), expected.encode())

    def error(self, status: int, message: str) -> Any:  # noqa: D102
        if status == 401:
            message = "Client must be authenticated to access this resource."
        return {"errorMessages": [message], "errors": {}}

    def body_problems(self, route: Route, body: Any) -> list[str]:  # noqa: D102
        if route.template == "/oauth/token":
            return [] if isinstance(body, dict) else ["the token request needs a JSON or form body"]
        return super().body_problems(route, body)

    def rate_headers(self) -> Headers:  # noqa: D102
        reset = datetime.fromtimestamp(self.now + 60, tz=timezone.utc).strftime("%Y-%m-%dT%H:%MZ")
        return (
            ("X-RateLimit-Limit", "350"),
            ("X-RateLimit-Remaining", "349"),
            ("X-RateLimit-Reset", reset),
        )

    def rate_limited(self) -> Reply:  # noqa: D102
        return Reply(
            429,
            self.error(429, "Rate limit exceeded."),
            (
                ("Retry-After", "0"),
                ("RateLimit-Reason", "jira-burst-based"),
                ("X-RateLimit-Remaining", "0"),
            ),
        )

    # --- handlers --------------------------------------------------------------------------

    @staticmethod
    def _start_at(call: Call, rows: list[Record], key: str = "values", **extra: Any) -> Reply:
        start, size = call.integer("startAt", 0), call.integer("maxResults", 50)
        page = rows[start : start + size]
        return Reply(
            200,
            {
                "maxResults": size,
                "startAt": start,
                "total": len(rows),
                "isLast": start + size >= len(rows),
                key: page,
                **extra,
            },
        )

    def serve_application_roles(self, call: Call) -> Reply:  # noqa: D102
        roles = [
            {
                "key": key,
                "name": name,
                "groups": [f"{key}-users"],
                "groupDetails": [{"name": f"{key}-users", "groupId": f"g-{key}"}],
                "defaultGroups": [f"{key}-users"],
                "defaultGroupsDetails": [{"name": f"{key}-users", "groupId": f"g-{key}"}],
                "selectedByDefault": False,
                "defined": True,
                "numberOfSeats": 10,
                "remainingSeats": 5,
                "userCount": 5,
                "userCountDescription": "5 users",
                "hasUnlimitedSeats": False,
                "platform": key == "jira-core",
            }
            for key, name in (
                ("jira-software", "Jira Software"),
                ("jira-core", "Jira Work Management"),
            )
        ]
        return Reply(200, roles)

    def serve_system_avatars(self, call: Call) -> Reply:  # noqa: D102
        kind = call.vars["type"]
        if kind not in _AVATAR_TYPES:
            return Reply(400, self.error(400, f"Invalid avatar type: {kind}"))
        rows = [
            {
                "id": str(10_300 + 10 * _AVATAR_TYPES.index(kind) + j),
                "isSystemAvatar": True,
                "isSelected": False,
                "isDeletable": False,
                "fileName": f"{kind}-{j}.svg",
                "urls": {"16x16": f"https://example.atlassian.net/avatar/{kind}/{j}?s=16"},
            }
            for j in range(3 + len(kind) % 3)
        ]
        return Reply(200, {"system": rows})

    def serve_projects(self, call: Call) -> Reply:  # noqa: D102
        return self._start_at(
            call, self.projects, self="https://example.atlassian.net/rest/api/3/project/search"
        )

    def serve_boards(self, call: Call) -> Reply:  # noqa: D102
        return self._start_at(call, self.boards)

    def serve_removed_search(self, call: Call) -> Reply:  # noqa: D102
        return Reply(
            410,
            self.error(
                410,
                "The requested API has been removed. "
                "Please migrate to the /rest/api/3/search/jql API.",
            ),
        )

    def _jql(self, text: str) -> tuple[list[Any], str, bool]:
        """Filters, the order field and whether it is descending (a tiny, strict JQL subset)."""
        order, descending = "key", False
        match = _ORDER.search(" " + text)
        if match:
            order, descending = match.group(1).lower(), (match.group(2) or "ASC").upper() == "DESC"
            text = (" " + text)[: match.start()].strip()
        filters: list[Any] = []
        for clause in filter(
            None, (c.strip() for c in re.split(r"\s+AND\s+", text, flags=re.IGNORECASE))
        ):
            when, project = _CLAUSE.match(clause), _PROJECT.match(clause)
            if when:
                local = datetime.strptime(when.group(3), "%Y-%m-%d %H:%M").replace(tzinfo=self.zone)
                filters.append((when.group(1).lower(), when.group(2), local))
            elif project:
                filters.append(("project", {k.strip() for k in project.group(2).split(",")}))
            else:
                raise BadRequestError(f"The sandbox does not read the JQL clause {clause!r}")
        if not filters:
            raise BadRequestError(
                "Unbounded JQL queries are not allowed here. "
                "Please add a search restriction to your query."
            )
        return filters, order, descending

    @staticmethod
    def _keeps(issue: Record, filters: list[Any]) -> bool:
        for item in filters:
            if item[0] == "project":
                if issue["fields"]["project"]["key"] not in item[1]:
                    return False
                continue
            field, op, bound = item
            value = datetime.strptime(issue["fields"][field][:16], "%Y-%m-%dT%H:%M")
            value = value.replace(tzinfo=bound.tzinfo)  # minutes, in the same (user's) zone
            if not {
                ">=": value >= bound,
                ">": value > bound,
                "<=": value <= bound,
                "<": value < bound,
            }[op]:
                return False
        return True

    def serve_search(self, call: Call) -> Reply:  # noqa: D102
        jql = call.query.get("jql", "")
        filters, order, descending = self._jql(jql)
        rows = [x for x in self.issues if self._keeps(x, filters)]
        rows.sort(
            key=lambda x: (x["fields"].get(order) or x.get(order) or "", int(x["id"])),
            reverse=descending,
        )
        start = 0
        token = call.query.get("nextPageToken")
        if token:
            try:
                digest, offset = base64.urlsafe_b64decode(token.encode()).decode().split(":")
                start = int(offset)
            except ValueError:
                raise BadRequestError("The nextPageToken is not valid") from None
            if digest != f"{pick(self.seed, jql):08x}":
                raise BadRequestError("The nextPageToken does not belong to this query")
        size = call.integer("maxResults", 50)
        page = [self._fields(x, call.query.get("fields", "id")) for x in rows[start : start + size]]
        body: dict[str, Any] = {"issues": page, "isLast": start + size >= len(rows)}
        if start + size < len(rows):
            body["nextPageToken"] = base64.urlsafe_b64encode(
                f"{pick(self.seed, jql):08x}:{start + size}".encode()
            ).decode()
        return Reply(200, body)

    @staticmethod
    def _fields(issue: Record, wanted: str) -> Record:
        names = [n.strip() for n in wanted.split(",")]
        if "*all" in names or "*navigable" in names:
            return issue
        return {**issue, "fields": {k: v for k, v in issue["fields"].items() if k in names}}

    def _issue_by(self, call: Call) -> Record | None:
        key = call.vars["issueIdOrKey"]
        return next((x for x in self.issues if key in (x["id"], x["key"])), None)

    def serve_comments(self, call: Call) -> Reply:  # noqa: D102
        issue = self._issue_by(call)
        if issue is None:
            return Reply(
                404,
                self.error(404, "Issue does not exist or you do not have permission to see it."),
            )
        return self._start_at(call, self.comments[issue["id"]], key="comments")

    def serve_changelog(self, call: Call) -> Reply:  # noqa: D102
        issue = self._issue_by(call)
        if issue is None:
            return Reply(
                404,
                self.error(404, "Issue does not exist or you do not have permission to see it."),
            )
        return self._start_at(call, self.changelogs[issue["id"]], self=f"{issue['self']}/changelog")
