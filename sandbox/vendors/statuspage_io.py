"""Atlassian Statuspage's manage API, as its OpenAPI document describes it (``/v1``).

``Authorization: OAuth <key>`` (or ``?api_key=<key>``). Every list is a bare JSON array with no
total: ``/pages`` in one answer; ``/pages/{page_id}/components`` pages by ``page`` (from 1) and
``per_page`` (at most 100); ``/incidents`` by ``page`` (from 1) and ``limit`` (at most 100);
``/subscribers`` by ``page`` (from **0**) and ``limit``, ``state`` ``active`` unless asked.
Errors: ``{"message": ...}``; going past one request a second answers 420.
"""

from __future__ import annotations

import hmac
from typing import Any, ClassVar

from sandbox.vendors.base import Call, Param, Record, Reply, Route, VendorAPI, iso, pick

_PAGE = Param("integer", minimum=0)
_STATES = ("active", "unconfirmed", "quarantined", "all")


class StatuspageAPI(VendorAPI):
    """Pages, and per page its components, incidents and subscribers."""

    name = "statuspage_io"
    routes: ClassVar = (
        Route("GET", "/v1/pages", "pages"),
        Route(
            "GET",
            "/v1/pages/{page_id}/components",
            "components",
            {
                "page": _PAGE,
                "per_page": Param("integer", minimum=1, maximum=100),
            },
        ),
        Route(
            "GET",
            "/v1/pages/{page_id}/incidents",
            "incidents",
            {
                "q": Param(),
                "limit": Param("integer", minimum=1, maximum=100),
                "page": _PAGE,
            },
        ),
        Route(
            "GET",
            "/v1/pages/{page_id}/subscribers",
            "subscribers",
            {
                "q": Param(),
                "type": Param(enum=("email", "sms", "webhook", "slack", "integration_partner")),
                "state": Param(enum=_STATES),
                "limit": Param("integer", minimum=1),
                "page": _PAGE,
                "sort_field": Param(enum=("primary", "created_at", "quarantined_at", "relevance")),
                "sort_direction": Param(enum=("asc", "desc")),
            },
        ),
    )

    def __init__(
        self, *, seed: int = 7, pages: int = 2, size: int = 9, rate_limit_every: int = 0
    ) -> None:
        super().__init__(seed=seed, rate_limit_every=rate_limit_every)
        self.key = f"{pick(seed, 'sp'):08x}{pick(seed, 'sp2'):08x}{pick(seed, 'sp3'):08x}"
        self.pages = [self._page(i) for i in range(pages)]
        self.components = {
            p["id"]: [self._component(p, j) for j in range(size)] for p in self.pages
        }
        self.incidents = {
            p["id"]: [self._incident(p, j) for j in range(size + 3)] for p in self.pages
        }
        self.subscribers = {
            p["id"]: [self._subscriber(p, j) for j in range(size * 2)] for p in self.pages
        }

    def _id(self, *parts: object) -> str:
        alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
        n, out = pick(self.seed, *parts) << 32 | pick(self.seed, *parts, "low"), ""
        for _ in range(12):
            n, r = divmod(n, 36)
            out += alphabet[r]
        return out

    def _page(self, i: int) -> Record:
        created = self.now - 86_400 * 400
        return {
            "id": self._id("page", i),
            "created_at": iso(created),
            "updated_at": iso(created + i * 3600),
            "name": f"Status {i}",
            "page_description": "",
            "headline": "All systems",
            "branding": "basic",
            "subdomain": f"status{i}",
            "domain": "",
            "url": f"https://status{i}.example.com",
            "support_url": "",
            "hidden_from_search": False,
            "allow_page_subscribers": True,
            "allow_incident_subscribers": True,
            "allow_email_subscribers": True,
            "allow_sms_subscribers": False,
            "allow_rss_atom_feeds": True,
            "allow_webhook_subscribers": True,
            "notifications_from_email": "noreply@example.com",
            "notifications_email_footer": "",
            "activity_score": 0,
            "twitter_username": "",
            "viewers_must_be_team_members": False,
            "ip_restrictions": "",
            "city": "Zürich",
            "state": "",
            "country": "CH",
            "time_zone": "Etc/UTC",
            "css_body_background_color": "#ffffff",
            "css_font_color": "#333333",
        }

    def _component(self, page: Record, j: int) -> Record:
        t = self.now - 86_400 * (100 - j)
        return {
            "id": self._id("component", page["id"], j),
            "page_id": page["id"],
            "group_id": "",
            "created_at": iso(t),
            "updated_at": iso(t + 60),
            "group": False,
            "name": f"API {j}",
            "description": "",
            "position": j + 1,
            "status": ("operational", "degraded_performance", "partial_outage")[j % 3],
            "showcase": True,
            "only_show_if_degraded": False,
            "automation_email": f"component+{j}@example.com",
            "start_date": "2024-01-01",
        }

    def _incident(self, page: Record, j: int) -> Record:
        t = self.now - 86_400 * (50 - j)
        iid = self._id("incident", page["id"], j)
        return {
            "id": iid,
            "page_id": page["id"],
            "name": f"Elevated errors {j}",
            "status": "resolved",
            "impact": "minor",
            "impact_override": "minor",
            "created_at": iso(t),
            "updated_at": iso(t + 900),
            "monitoring_at": iso(t + 600),
            "resolved_at": iso(t + 900),
            "shortlink": f"https://stspg.io/{iid[:6]}",
            "postmortem_body": "",
            "postmortem_ignored": False,
            "postmortem_notified_subscribers": False,
            "postmortem_notified_twitter": False,
            "scheduled_auto_completed": False,
            "scheduled_auto_in_progress": False,
            "scheduled_remind_prior": False,
            "components": [],
            "incident_updates": [
                {
                    "id": self._id("update", iid),
                    "incident_id": iid,
                    "status": "resolved",
                    "body": "Fixed ✅",
                    "created_at": iso(t + 900),
                    "updated_at": iso(t + 900),
                    "display_at": iso(t + 900),
                    "deliver_notifications": True,
                },
            ],
        }

    def _subscriber(self, page: Record, j: int) -> Record:
        state = ("active", "active", "unconfirmed", "quarantined")[j % 4]
        row: Record = {
            "id": self._id("subscriber", page["id"], j),
            "mode": "email",
            "email": f"s{j}@example.com",
            "skip_confirmation_notification": False,
            "created_at": iso(self.now - 3_600 * (200 - j)),
            "components": "",
            "_state": state,
        }
        if state == "quarantined":
            row["quarantined_at"] = iso(self.now - 3_600)
            row["purge_at"] = iso(self.now + 86_400 * 30)
        return row

    def touch_incidents(self, count: int) -> list[str]:
        """Post an update on the first ``count`` incidents of the first page; return their ids."""
        rows = self.incidents[self.pages[0]["id"]][:count]
        for row in rows:
            row["updated_at"] = iso(self.tick())
        return [r["id"] for r in rows]

    # --- protocol --------------------------------------------------------------------------

    def credentials(self) -> dict[str, str]:  # noqa: D102
        return {"api_key": self.key}

    def authorized(self, call: Call) -> bool:  # noqa: D102
        scheme, _, key = (call.headers.get("Authorization") or "").partition(" ")
        if scheme == "OAuth":
            return hmac.compare_digest(key.encode(), self.key.encode())
        return hmac.compare_digest(call.query.get("api_key", "").encode(), self.key.encode())

    def param_problems(self, route: Route, multi: dict[str, list[str]]) -> list[str]:  # noqa: D102
        rest = {k: v for k, v in multi.items() if k != "api_key"}
        return super().param_problems(route, rest)

    def error(self, status: int, message: str) -> Any:  # noqa: D102
        return {"message": {401: "Could not authenticate"}.get(status, message)}

    def rate_limited(self) -> Reply:  # noqa: D102
        return Reply(420, self.error(420, "Rate limit exceeded"))

    # --- handlers --------------------------------------------------------------------------

    def _known(self, call: Call, table: dict[str, list[Record]]) -> list[Record] | None:
        return table.get(call.vars["page_id"])

    @staticmethod
    def _slice(rows: list[Record], page: int, size: int, first: int) -> list[Record]:
        start = (page - first) * size
        return rows[start : start + size] if start >= 0 else []

    def serve_pages(self, call: Call) -> Reply:  # noqa: D102
        return Reply(200, self.pages)

    def serve_components(self, call: Call) -> Reply:  # noqa: D102
        rows = self._known(call, self.components)
        if rows is None:
            return Reply(404, self.error(404, "Page not found"))
        return Reply(
            200, self._slice(rows, call.integer("page", 1), call.integer("per_page", 100), 1)
        )

    def serve_incidents(self, call: Call) -> Reply:  # noqa: D102
        rows = self._known(call, self.incidents)
        if rows is None:
            return Reply(404, self.error(404, "Page not found"))
        rows = sorted(rows, key=lambda r: r["created_at"], reverse=True)
        return Reply(200, self._slice(rows, call.integer("page", 1), call.integer("limit", 100), 1))

    def serve_subscribers(self, call: Call) -> Reply:  # noqa: D102
        rows = self._known(call, self.subscribers)
        if rows is None:
            return Reply(404, self.error(404, "Page not found"))
        state = call.query.get("state", "active")
        rows = [r for r in rows if state == "all" or r["_state"] == state]
        if call.query.get("sort_field") == "created_at":
            rows = sorted(
                rows,
                key=lambda r: r["created_at"],
                reverse=call.query.get("sort_direction") == "desc",
            )
        page = self._slice(rows, call.integer("page", 0), call.integer("limit", 100), 0)
        return Reply(200, [{k: v for k, v in r.items() if k != "_state"} for r in page])
