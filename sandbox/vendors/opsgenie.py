"""Opsgenie, as its OpenAPI document (opsgenie/opsgenie-oas) describes the REST API.

``Authorization: GenieKey <key>``; lists answer ``{"data": [...], "paging": {"next": URL},
"took", "requestId"}`` with ``offset``/``limit`` (20 by default, at most 100) and a full next
URL; users add ``totalCount``. ``/v2/alerts`` takes ``query`` (``updatedAt>=<epoch ms>`` is the
one clause this sandbox reads), ``sort`` and ``order``; ``/v1/incidents`` requires ``query`` and
cannot sort by ``updatedAt``. Alert logs page by an opaque ``offset`` token. Errors:
``{"message", "took", "requestId"}`` (422 for a bad parameter); ``X-RateLimit-State`` on every
answer, ``X-RateLimit-Period-In-Sec`` on a 429.
"""

from __future__ import annotations

import hmac
import re
from typing import Any, ClassVar
from urllib.parse import urlencode

from sandbox.vendors.base import (
    BadRequestError,
    Call,
    Headers,
    Param,
    Record,
    Reply,
    Route,
    VendorAPI,
    iso,
    pick,
)

_LIMIT = Param("integer", minimum=1, maximum=100)
_OFFSET = Param("integer", minimum=0)
_ORDER = Param(enum=("asc", "desc"))
_ALERT_SORTS = ("createdAt", "updatedAt", "tinyId", "alias", "message", "status", "count")
_INCIDENT_SORTS = ("createdAt", "tinyId", "message", "status", "isSeen", "owner")
_ID_TYPE = Param(enum=("id", "alias", "tiny"))
_QUERY = re.compile(r"^\s*updatedAt\s*(>=|>)\s*(\d+)\s*$")
_PRIORITIES = ("P1", "P2", "P3", "P4", "P5")


class OpsgenieAPI(VendorAPI):
    """The Opsgenie REST API's list endpoints, with generated users, teams, alerts..."""

    name = "opsgenie"
    routes: ClassVar = (
        Route(
            "GET",
            "/v2/users",
            "users",
            {
                "limit": _LIMIT,
                "offset": _OFFSET,
                "order": _ORDER,
                "query": Param(),
                "sortField": Param(enum=("username", "fullName", "insertedAt")),
            },
        ),
        Route("GET", "/v2/teams", "teams"),
        Route(
            "GET",
            "/v2/teams/{identifier}",
            "team",
            {
                "identifierType": Param(enum=("id", "name")),
            },
        ),
        Route(
            "GET",
            "/v1/services",
            "services",
            {
                "limit": _LIMIT,
                "offset": _OFFSET,
                "order": _ORDER,
                "query": Param(),
                "sort": Param(enum=("name",)),
            },
        ),
        Route(
            "GET",
            "/v2/integrations",
            "integrations",
            {
                "type": Param(),
                "teamId": Param(),
                "teamName": Param(),
            },
        ),
        Route(
            "GET",
            "/v1/incidents",
            "incidents",
            {
                "query": Param(required=True),
                "offset": _OFFSET,
                "limit": _LIMIT,
                "sort": Param(enum=_INCIDENT_SORTS),
                "order": _ORDER,
            },
        ),
        Route(
            "GET",
            "/v2/alerts",
            "alerts",
            {
                "query": Param(),
                "searchIdentifier": Param(),
                "searchIdentifierType": Param(enum=("id", "name")),
                "offset": _OFFSET,
                "limit": _LIMIT,
                "sort": Param(enum=_ALERT_SORTS),
                "order": _ORDER,
            },
        ),
        Route(
            "GET",
            "/v2/alerts/{identifier}/logs",
            "alert_logs",
            {
                "identifierType": _ID_TYPE,
                "offset": Param(),
                "direction": Param(enum=("next", "prev")),
                "limit": _LIMIT,
                "order": _ORDER,
            },
        ),
        Route(
            "GET",
            "/v2/alerts/{identifier}/recipients",
            "alert_recipients",
            {
                "identifierType": _ID_TYPE,
            },
        ),
    )

    def __init__(self, *, seed: int = 7, size: int = 12, rate_limit_every: int = 0) -> None:
        super().__init__(seed=seed, rate_limit_every=rate_limit_every)
        self.key = f"og-{pick(seed, 'key'):08x}-4b1d-9e2a-{pick(seed, 'key2'):012x}"
        self.users = [self._user(i) for i in range(size)]
        self.teams = [self._team(i) for i in range(max(1, size // 4))]
        self.services = [self._service(i) for i in range(size)]
        self.integrations = [self._integration(i) for i in range(max(1, size // 3))]
        self.incidents = [self._incident(i) for i in range(size)]
        self.alerts = [self._alert(i) for i in range(size * 2)]
        self.logs: dict[str, list[Record]] = {a["id"]: self._logs(a) for a in self.alerts}

    # --- records ---------------------------------------------------------------------------

    def _uuid(self, kind: str, i: int) -> str:
        a, b = pick(self.seed, kind, i), pick(self.seed, kind, i, "b")
        return f"{a:08x}-{b >> 16:04x}-4{b & 0xFFF:03x}-a{i % 4096:03x}-{a:08x}{b & 0xFFFF:04x}"

    def _ms(self, seconds: int, i: int) -> str:
        return iso(seconds, pick(self.seed, "ms", seconds, i) % 1000)

    def _user(self, i: int) -> Record:
        return {
            "id": self._uuid("user", i),
            "username": f"user{i}@example.com",
            "fullName": f"User Ñandú {i}",
            "role": {"id": "User" if i else "Owner", "name": "User" if i else "Owner"},
            "timeZone": "Europe/Kyiv",
            "locale": "en_US",
            "userAddress": {
                "country": "NL",
                "state": "",
                "city": "Utrecht",
                "line": "",
                "zipCode": "",
            },
            "tags": ["oncall"] if i % 2 else [],
            "details": {},
            "blocked": False,
            "verified": i % 3 != 0,
            "createdAt": self._ms(self.now - 86_400 * (60 - i % 60), i),
        }

    def _team(self, i: int) -> Record:
        members = [
            {
                "user": {"id": u["id"], "username": u["username"]},
                "role": "admin" if j == 0 else "user",
            }
            for j, u in enumerate(self.users[i::4])
        ]
        return {
            "id": self._uuid("team", i),
            "name": f"team-{i}",
            "description": f"Team {i} 🚒",
            "members": members,
        }

    def _service(self, i: int) -> Record:
        return {
            "id": self._uuid("service", i),
            "name": f"service-{i}",
            "description": f"Service {i}",
            "teamId": self.teams[i % len(self.teams)]["id"],
            "isExternal": i % 5 == 0,
            "tags": [],
            "links": {
                "web": f"https://app.opsgenie.com/service/{i}",
                "api": f"https://api.opsgenie.com/v1/services/{i}",
            },
        }

    def _integration(self, i: int) -> Record:
        team = self.teams[i % len(self.teams)]["id"] if i % 2 else ""
        return {
            "id": self._uuid("integration", i),
            "name": f"API {i}",
            "enabled": i % 4 != 3,
            "type": "API",
            "teamId": team,
        }

    def _incident(self, i: int) -> Record:
        created = self.now - 3_600 * (3 * 24 - i)
        return {
            "id": self._uuid("incident", i),
            "tinyId": str(i + 1),
            "message": f"Incident {i}: database latency",
            "status": "resolved" if i % 3 else "open",
            "isSeen": bool(i % 2),
            "tags": ["db"],
            "createdAt": self._ms(created, i),
            "updatedAt": self._ms(created + 600 + i, i),
            "source": "API",
            "owner": "",
            "priority": _PRIORITIES[i % 5],
            "responders": [{"type": "team", "id": self.teams[0]["id"]}],
            "ownerTeam": "",
            "extraProperties": {},
        }

    def _alert(self, i: int) -> Record:
        created = self.now - 600 * (400 - i)
        closed = i % 3 == 0
        return {
            "id": self._uuid("alert", i),
            "tinyId": str(i + 1),
            "alias": f"alias-{i}",
            "message": f"CPU load high on host-{i} 🔥",
            "status": "closed" if closed else "open",
            "acknowledged": i % 2 == 0,
            "isSeen": True,
            "tags": ["cpu", "prod"],
            "snoozed": False,
            "count": 1 + i % 4,
            "lastOccurredAt": self._ms(created, i),
            "createdAt": self._ms(created, i),
            "updatedAt": self._ms(created + 30, i),
            "source": "monitor",
            "owner": self.users[i % len(self.users)]["username"] if i % 2 == 0 else "",
            "priority": _PRIORITIES[i % 5],
            "responders": [{"type": "team", "id": self.teams[i % len(self.teams)]["id"]}],
            "integration": {"id": self.integrations[0]["id"], "name": "API 0", "type": "API"},
            "report": {"ackTime": 120_000, "acknowledgedBy": "user0@example.com"}
            | ({"closeTime": 600_000, "closedBy": "user0@example.com"} if closed else {}),
        }

    def _logs(self, alert: Record) -> list[Record]:
        i = int(alert["tinyId"])
        return [self._log(alert, j) for j in range(i % 5)]

    def _log(self, alert: Record, j: int) -> Record:
        ms = pick(self.seed, "log", alert["id"], j) % 1000
        return {
            "log": f"Alert step {j} of {alert['tinyId']}",
            "type": "system" if j == 0 else "alertRecipient",
            "owner": "System" if j == 0 else "user0@example.com",
            "createdAt": alert["createdAt"],
            "offset": f"{1_700_000_000_000 + j}_{alert['tinyId']}{ms:03d}{j:04d}",
        }

    # --- changes ---------------------------------------------------------------------------

    def touch_alerts(self, count: int) -> list[str]:
        """Update ``count`` alerts (the oldest first) with a new log line; return their ids."""
        changed = []
        for alert in self.alerts[:count]:
            now = self.tick()
            alert["updatedAt"] = self._ms(now, 0)
            alert["count"] += 1
            self.logs[alert["id"]].append(self._log(alert, len(self.logs[alert["id"]])))
            changed.append(alert["id"])
        return changed

    def touch_incidents(self, count: int) -> list[str]:
        """Update ``count`` incidents; return their ids."""
        for incident in self.incidents[:count]:
            incident["updatedAt"] = self._ms(self.tick(), 0)
            incident["status"] = "resolved"
        return [x["id"] for x in self.incidents[:count]]

    # --- protocol --------------------------------------------------------------------------

    def credentials(self) -> dict[str, str]:  # noqa: D102
        return {"api_token": self.key}

    def authorized(self, call: Call) -> bool:  # noqa: D102
        scheme, _, key = (call.headers.get("Authorization") or "").partition(" ")
        return scheme == "GenieKey" and hmac.compare_digest(key.encode(), self.key.encode())

    def error(self, status: int, message: str) -> Any:  # noqa: D102
        text = {401: "Could not authenticate", 404: "Not found"}.get(status, message)
        return {"message": text, "took": 0.001, "requestId": f"{pick(self.seed, message):08x}-req"}

    def param_problems(self, route: Route, multi: dict[str, list[str]]) -> list[str]:  # noqa: D102
        return super().param_problems(route, multi)

    def rate_headers(self) -> Headers:  # noqa: D102
        return (("X-RateLimit-State", "OK"),)

    def rate_limited(self) -> Reply:  # noqa: D102
        return Reply(
            429,
            self.error(
                429,
                "You are making too many requests! "
                "To avoid errors, we recommend you limit requests.",
            ),
            (("X-RateLimit-State", "THROTTLED"), ("X-RateLimit-Period-In-Sec", "0")),
        )

    # --- handlers --------------------------------------------------------------------------

    def _envelope(self, call: Call, rows: list[Record], **extra: Any) -> dict[str, Any]:
        return {"data": rows, **extra, "took": 0.01, "requestId": f"{len(self.log):08d}-req"}

    def _page(self, call: Call, rows: list[Record], **extra: Any) -> Reply:
        offset, limit = call.integer("offset", 0), call.integer("limit", 20)
        page = rows[offset : offset + limit]
        paging: dict[str, str] = {}
        params = {k: v for k, v in call.query.items() if k not in ("offset", "limit")}
        link = f"{call.origin}{call.path}?"
        if offset + limit < len(rows):
            paging["next"] = link + urlencode({**params, "offset": offset + limit, "limit": limit})
        paging["first"] = link + urlencode({**params, "offset": 0, "limit": limit})
        return Reply(200, self._envelope(call, page, paging=paging, **extra))

    def serve_users(self, call: Call) -> Reply:  # noqa: D102
        return self._page(call, self.users, totalCount=len(self.users))

    def serve_teams(self, call: Call) -> Reply:  # noqa: D102
        rows = [{k: v for k, v in t.items() if k != "members"} for t in self.teams]
        return Reply(200, self._envelope(call, rows, expandable=["member"]))

    def serve_team(self, call: Call) -> Reply:  # noqa: D102
        found = [t for t in self.teams if t["id"] == call.vars["identifier"]]
        if not found:
            return Reply(404, self.error(404, "No team exists"))
        return Reply(200, {"data": found[0], "took": 0.01, "requestId": "team-req"})

    def serve_services(self, call: Call) -> Reply:  # noqa: D102
        return self._page(call, self.services)

    def serve_integrations(self, call: Call) -> Reply:  # noqa: D102
        return Reply(200, self._envelope(call, self.integrations))

    def _since(self, call: Call, rows: list[Record]) -> list[Record]:
        query = call.query.get("query", "")
        if not query:
            return rows
        match = _QUERY.match(query)
        if match is None:
            raise BadRequestError(f"sandbox reads only updatedAt>=<epoch ms>, not {query!r}")
        op, value = match.group(1), int(match.group(2))
        return [
            r
            for r in rows
            if (ms := _epoch_ms(r["updatedAt"])) > value or (op == ">=" and ms == value)
        ]

    def _sorted(self, call: Call, rows: list[Record]) -> list[Record]:
        field = call.query.get("sort", "createdAt")
        return sorted(
            rows,
            key=lambda r: (r.get(field), r["id"]),
            reverse=call.query.get("order", "desc") == "desc",
        )

    def serve_incidents(self, call: Call) -> Reply:  # noqa: D102
        return self._page(call, self._sorted(call, self._since(call, self.incidents)))

    def serve_alerts(self, call: Call) -> Reply:  # noqa: D102
        rows = [
            {k: v for k, v in a.items()} for a in self._sorted(call, self._since(call, self.alerts))
        ]
        return self._page(call, rows)

    def _alert_by(self, call: Call) -> Record | None:
        kind = call.query.get("identifierType", "id")
        field = {"id": "id", "alias": "alias", "tiny": "tinyId"}[kind]
        return next((a for a in self.alerts if a[field] == call.vars["identifier"]), None)

    def serve_alert_logs(self, call: Call) -> Reply:  # noqa: D102
        alert = self._alert_by(call)
        if alert is None:
            return Reply(404, self.error(404, "Alert does not exist"))
        rows = sorted(
            self.logs[alert["id"]],
            key=lambda r: r["offset"],
            reverse=call.query.get("order", "desc") == "desc",
        )
        after = call.query.get("offset")
        if after:
            keys = [r["offset"] for r in rows]
            if after not in keys:
                raise BadRequestError("offset is not one this API gave")
            rows = rows[keys.index(after) + 1 :]
        limit = call.integer("limit", 20)
        page, paging = rows[:limit], {}
        if len(rows) > limit:
            params = {
                **call.query,
                "offset": page[-1]["offset"],
                "direction": "next",
                "limit": limit,
            }
            paging["next"] = f"{call.origin}{call.path}?{urlencode(params)}"
        return Reply(200, self._envelope(call, page, paging=paging))

    def serve_alert_recipients(self, call: Call) -> Reply:  # noqa: D102
        alert = self._alert_by(call)
        if alert is None:
            return Reply(404, self.error(404, "Alert does not exist"))
        rows = [
            {
                "user": {"id": u["id"], "username": u["username"]},
                "state": "notified",
                "method": "Email",
                "createdAt": alert["createdAt"],
                "updatedAt": alert["updatedAt"],
            }
            for u in self.users[: 1 + int(alert["tinyId"]) % 3]
        ]
        return Reply(200, self._envelope(call, rows))


def _epoch_ms(text: str) -> int:
    from datetime import datetime  # noqa: PLC0415

    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)
