"""Intercom's REST API as its OpenAPI document (intercom/Intercom-OpenAPI, version 2.14) has it.

``Authorization: Bearer <token>`` and an ``Intercom-Version`` header. Cursor lists
(``/contacts``, ``/conversations``) take ``per_page`` and ``starting_after`` and answer
``pages.next.starting_after`` while more remain; ``/companies`` pages by ``page``/``per_page``
with ``pages.total_pages``; admins, teams, tags, segments and data attributes answer in one
page. ``POST /contacts/search`` and ``/conversations/search`` take ``{"query": ...,
"pagination": {"per_page", "starting_after"}}``; on contacts, ``>`` on a date matches from the
start of the next day and ``<`` before the start of the day (the workspace's time zone), as
Intercom documents. Timestamps are epoch seconds. Errors: ``{"type": "error.list",
"request_id", "errors": [{"code", "message"}]}``; ``X-RateLimit-Limit/Remaining/Reset``
(epoch seconds) on every answer.
"""

from __future__ import annotations

import base64
import hmac
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar

from sandbox.vendors.base import (
    BadRequestError,
    Call,
    Headers,
    Param,
    Record,
    Reply,
    Route,
    VendorAPI,
    pick,
)

_VERSIONS = (
    "2.7",
    "2.8",
    "2.9",
    "2.10",
    "2.11",
    "2.12",
    "2.13",
    "2.14",
    "2.15",
    "2.16",
    "Unstable",
)
_CURSOR = {"per_page": Param("integer", minimum=1, maximum=150), "starting_after": Param()}
_OPERATORS = {"=", "!=", "IN", "NIN", ">", "<", ">=", "<=", "~", "!~", "^", "$"}
_DATE_FIELDS = {"created_at", "updated_at", "signed_up_at", "last_seen_at"}


class IntercomAPI(VendorAPI):
    """Admins, teams, tags, segments, data attributes, companies, contacts, conversations."""

    name = "intercom"
    routes: ClassVar = (
        Route("GET", "/admins", "admins", {"display_avatar": Param("boolean")}),
        Route("GET", "/teams", "teams"),
        Route("GET", "/tags", "tags"),
        Route("GET", "/segments", "segments", {"include_count": Param("boolean")}),
        Route(
            "GET",
            "/data_attributes",
            "data_attributes",
            {
                "model": Param(enum=("contact", "company")),
                "include_archived": Param("boolean"),
            },
        ),
        Route(
            "GET",
            "/companies",
            "companies",
            {
                "name": Param(),
                "company_id": Param(),
                "tag_id": Param(),
                "segment_id": Param(),
                "page": Param("integer", minimum=1),
                "per_page": Param("integer", minimum=1, maximum=60),
            },
        ),
        Route("GET", "/contacts", "contacts", _CURSOR),
        Route("POST", "/contacts/search", "contacts_search"),
        Route("GET", "/conversations", "conversations", _CURSOR),
        Route("POST", "/conversations/search", "conversations_search"),
        Route(
            "GET",
            "/conversations/{conversation_id}",
            "conversation",
            {
                "display_as": Param(enum=("plaintext",)),
                "include_translations": Param("boolean"),
            },
        ),
    )

    def __init__(
        self, *, seed: int = 7, size: int = 11, workspace_zone: int = -5, rate_limit_every: int = 0
    ) -> None:
        super().__init__(seed=seed, rate_limit_every=rate_limit_every)
        self.token = f"dG9rOm{pick(seed, 'ic'):08x}{pick(seed, 'ic2'):08x}=="
        self.zone = timezone(timedelta(hours=workspace_zone))
        self.admins = [self._admin(i) for i in range(3)]
        self.team_list = [
            {
                "type": "team",
                "id": str(5_017_690 + i),
                "name": f"Team {i}",
                "admin_ids": [int(a["id"]) for a in self.admins[: i + 1]],
                "admin_priority_level": {
                    "primary_admin_ids": [int(self.admins[0]["id"])],
                    "secondary_admin_ids": [],
                },
                "assignment_limit": None,
                "distribution_method": "round_robin",
            }
            for i in range(2)
        ]
        self.tag_list = [
            {"type": "tag", "id": str(1_000 + i), "name": f"tag-{i}"} for i in range(4)
        ]
        self.segment_list = [
            {
                "type": "segment",
                "id": f"{pick(seed, 'seg', i):024x}"[:24],
                "name": f"Segment {i}",
                "created_at": self.now - 9_000_000,
                "updated_at": self.now - 100_000 * i,
                "person_type": "user",
            }
            for i in range(3)
        ]
        self.attributes = [
            {
                "type": "data_attribute",
                "name": name,
                "full_name": name,
                "label": name.title(),
                "description": "",
                "data_type": kind,
                "api_writable": False,
                "ui_writable": False,
                "messenger_writable": False,
                "custom": False,
                "archived": False,
                "model": model,
            }
            for model, name, kind in (
                ("contact", "email", "string"),
                ("contact", "created_at", "date"),
                ("company", "name", "string"),
                ("company", "plan", "string"),
            )
        ]
        self.company_list = [self._company(i) for i in range(size)]
        self.contact_list = [self._contact(i) for i in range(size * 2)]
        self.conversation_list = [self._conversation(i) for i in range(size)]

    # --- records ---------------------------------------------------------------------------

    def _hex(self, *parts: object) -> str:
        return "".join(f"{pick(self.seed, *parts, n):08x}" for n in (1, 2, 3))

    def _admin(self, i: int) -> Record:
        return {
            "type": "admin",
            "id": str(8_000 + i),
            "name": f"Admin Ø {i}",
            "email": f"admin{i}@example.com",
            "job_title": "Support",
            "away_mode_enabled": False,
            "away_mode_reassign": False,
            "has_inbox_seat": True,
            "team_ids": [5_017_690],
            "avatar": None,
        }

    def _company(self, i: int) -> Record:
        t = self.now - 86_400 * (300 - i)
        return {
            "type": "company",
            "id": self._hex("company", i),
            "name": f"Company {i} GmbH",
            "app_id": "abc123",
            "company_id": f"c-{i}",
            "remote_created_at": t,
            "created_at": t,
            "updated_at": t + 3_600 * i,
            "last_request_at": t + 86_400,
            "size": 10 * i,
            "website": f"https://c{i}.example.com",
            "industry": "Software",
            "monthly_spend": 100 * i,
            "session_count": i,
            "user_count": 2 * i,
            "custom_attributes": {},
            "plan": {"type": "plan", "id": "1", "name": "Pro"},
            "tags": {"type": "tag.list", "tags": []},
            "segments": {"type": "segment.list", "segments": []},
        }

    def _contact(self, i: int) -> Record:
        t = self.now - 86_400 * (200 - i)
        return {
            "type": "contact",
            "id": self._hex("contact", i),
            "workspace_id": "abc123",
            "external_id": None,
            "role": "user" if i % 3 else "lead",
            "email": f"contact{i}@example.com",
            "email_domain": "example.com",
            "phone": None,
            "name": f"Contact {i} 山田",
            "owner_id": None,
            "has_hard_bounced": False,
            "marked_email_as_spam": False,
            "unsubscribed_from_emails": i % 5 == 0,
            "created_at": t,
            "updated_at": t + 7_200,
            "signed_up_at": t,
            "last_seen_at": None,
            "custom_attributes": {},
            "tags": {
                "type": "list",
                "data": [],
                "url": "/contacts/x/tags",
                "total_count": 0,
                "has_more": False,
            },
            "location": {
                "type": "location",
                "country": "Ireland",
                "region": "Dublin",
                "city": "Dublin",
            },
        }

    def _conversation(self, i: int) -> Record:
        t = self.now - 86_400 * (60 - i)
        cid = str(2_000_000_000 + i)
        parts = [self._part(cid, t, j) for j in range(i % 4)]
        return {
            "type": "conversation",
            "id": cid,
            "title": None,
            "created_at": t,
            "updated_at": t + 600 * (1 + len(parts)),
            "waiting_since": None,
            "snoozed_until": None,
            "open": i % 2 == 0,
            "state": "open" if i % 2 == 0 else "closed",
            "read": True,
            "priority": "not_priority",
            "admin_assignee_id": int(self.admins[i % 3]["id"]),
            "team_assignee_id": 5_017_690 if i % 2 else None,
            "tags": {"type": "tag.list", "tags": []},
            "source": {
                "type": "conversation",
                "id": str(400 + i),
                "delivered_as": "customer_initiated",
                "subject": "",
                "body": f"<p>Help {i}</p>",
                "author": {"type": "user", "id": self.contact_list[i]["id"]},
            },
            "contacts": {
                "type": "contact.list",
                "contacts": [{"type": "contact", "id": self.contact_list[i]["id"]}],
            },
            "custom_attributes": {},
            "_parts": parts,
        }

    def _part(self, cid: str, t: int, j: int) -> Record:
        return {
            "type": "conversation_part",
            "id": str(int(cid) % 10_000 * 100 + j),
            "part_type": "comment",
            "body": f"<p>Reply {j} ✉️</p>",
            "created_at": t + 600 * (j + 1),
            "updated_at": t + 600 * (j + 1),
            "notified_at": t + 600 * (j + 1),
            "author": {
                "type": "admin",
                "id": "8000",
                "name": "Admin Ø 0",
                "email": "admin0@example.com",
            },
            "attachments": [],
            "redacted": False,
        }

    def reply_to(self, count: int) -> list[str]:
        """An admin replies to the first ``count`` conversations; return their ids."""
        for conversation in self.conversation_list[:count]:
            now = self.tick()
            conversation["_parts"].append(
                self._part(
                    conversation["id"],
                    now - 600 * (len(conversation["_parts"]) + 1),
                    len(conversation["_parts"]),
                )
            )
            conversation["_parts"][-1]["created_at"] = conversation["_parts"][-1]["updated_at"] = (
                now
            )
            conversation["updated_at"] = now
        return [c["id"] for c in self.conversation_list[:count]]

    def touch_contacts(self, count: int, days: int = 2) -> list[str]:
        """Update the first ``count`` contacts ``days`` later; return their ids."""
        for contact in self.contact_list[:count]:
            contact["updated_at"] = self.tick(86_400 * days)
        return [c["id"] for c in self.contact_list[:count]]

    # --- protocol --------------------------------------------------------------------------

    def credentials(self) -> dict[str, str]:  # noqa: D102
        return {"access_token": self.token}

    def authorized(self, call: Call) -> bool:  # noqa: D102
        scheme, _, token = (call.headers.get("Authorization") or "").partition(" ")
        return scheme == "Bearer" and hmac.compare_digest(token.encode(), self.token.encode())

    def error(self, status: int, message: str) -> Any:  # noqa: D102
        code, text = {
            401: ("unauthorized", "Access Token Invalid"),
            404: ("not_found", message),
            429: ("rate_limit_exceeded", "Exceeded rate limit of 10000 in 60_seconds"),
        }.get(status, ("parameter_invalid", message))
        return {
            "type": "error.list",
            "request_id": f"{pick(self.seed, message):08x}-0000-4000-8000-000000000000",
            "errors": [{"code": code, "message": text}],
        }

    def param_problems(self, route: Route, multi: dict[str, list[str]]) -> list[str]:  # noqa: D102
        return super().param_problems(route, multi)

    def rate_headers(self) -> Headers:  # noqa: D102
        return (
            ("X-RateLimit-Limit", "10000"),
            ("X-RateLimit-Remaining", "9999"),
            ("X-RateLimit-Reset", str(self.now + 10)),
        )

    def rate_limited(self) -> Reply:  # noqa: D102
        return Reply(
            429,
            self.error(429, ""),
            (("X-RateLimit-Remaining", "0"), ("X-RateLimit-Reset", str(self.now))),
        )

    def handle(self, method: str, target: str, headers: Any, raw: bytes, origin: str) -> Any:  # noqa: D102
        version = headers.get("Intercom-Version")
        reply, logged = super().handle(method, target, headers, raw, origin)
        if version not in _VERSIONS:  # the header is not a parameter: added to the log entry
            self.log[-1] = type(logged)(
                logged.method,
                logged.path,
                logged.query,
                logged.body,
                logged.status,
                (*logged.problems, f"Intercom-Version header {version!r} is not a version"),
            )
        return reply, logged

    def body_problems(self, route: Route, body: Any) -> list[str]:  # noqa: D102
        if not route.template.endswith("/search"):
            return super().body_problems(route, body)
        if not isinstance(body, dict):
            return ["a search needs a JSON body"]
        out = [f"undeclared body key {key}" for key in body if key not in ("query", "pagination")]
        paging = body.get("pagination") or {}
        out += [
            f"undeclared pagination key {k}"
            for k in paging
            if k not in ("per_page", "starting_after")
        ]
        per_page = paging.get("per_page", 20)
        if not isinstance(per_page, int) or not 1 <= per_page <= 150:
            out.append(f"pagination.per_page={per_page!r} is not 1 to 150")
        out += _query_problems(
            body.get("query"), depth=0, contacts=route.template.startswith("/contacts")
        )
        return out

    # --- handlers --------------------------------------------------------------------------

    def _cursor(  # noqa: PLR0917
        self,
        call: Call,
        key: str,
        rows: list[Record],
        list_type: str,
        per_page: int,
        after: str | None,
        digest: str,
    ) -> Reply:
        start = 0
        if after:
            try:
                mark, position = base64.urlsafe_b64decode(after.encode()).decode().split(":")
                start = int(position)
            except ValueError:
                raise BadRequestError("starting_after is not a cursor this API gave") from None
            if mark != digest:
                raise BadRequestError("starting_after belongs to another query")
        page = rows[start : start + per_page]
        pages: dict[str, Any] = {
            "type": "pages",
            "page": start // per_page + 1,
            "per_page": per_page,
            "total_pages": max(1, -(-len(rows) // per_page)),
        }
        if start + per_page < len(rows):
            cursor = base64.urlsafe_b64encode(f"{digest}:{start + per_page}".encode()).decode()
            pages["next"] = {"page": pages["page"] + 1, "starting_after": cursor}
        return Reply(200, {"type": list_type, key: page, "total_count": len(rows), "pages": pages})

    def serve_admins(self, call: Call) -> Reply:  # noqa: D102
        return Reply(200, {"type": "admin.list", "admins": self.admins})

    def serve_teams(self, call: Call) -> Reply:  # noqa: D102
        return Reply(200, {"type": "team.list", "teams": self.team_list})

    def serve_tags(self, call: Call) -> Reply:  # noqa: D102
        return Reply(200, {"type": "list", "data": self.tag_list})

    def serve_segments(self, call: Call) -> Reply:  # noqa: D102
        return Reply(200, {"type": "segment.list", "segments": self.segment_list})

    def serve_data_attributes(self, call: Call) -> Reply:  # noqa: D102
        model = call.query.get("model")
        return Reply(
            200,
            {"type": "list", "data": [a for a in self.attributes if model in (None, a["model"])]},
        )

    def serve_companies(self, call: Call) -> Reply:  # noqa: D102
        page, per_page = call.integer("page", 1), call.integer("per_page", 15)
        rows = self.company_list[(page - 1) * per_page : page * per_page]
        pages = {
            "type": "pages",
            "page": page,
            "per_page": per_page,
            "total_pages": max(1, -(-len(self.company_list) // per_page)),
        }
        return Reply(
            200,
            {"type": "list", "data": rows, "pages": pages, "total_count": len(self.company_list)},
        )

    def serve_contacts(self, call: Call) -> Reply:  # noqa: D102
        return self._cursor(
            call,
            "data",
            self.contact_list,
            "list",
            call.integer("per_page", 50),
            call.query.get("starting_after"),
            "all",
        )

    @staticmethod
    def _conversation_item(c: Record) -> Record:
        return {k: v for k, v in c.items() if k != "_parts"}

    def serve_conversations(self, call: Call) -> Reply:  # noqa: D102
        rows = [self._conversation_item(c) for c in self.conversation_list]
        return self._cursor(
            call,
            "conversations",
            rows,
            "conversation.list",
            call.integer("per_page", 20),
            call.query.get("starting_after"),
            "all",
        )

    def _search(
        self, call: Call, rows: list[Record], key: str, list_type: str, contacts: bool
    ) -> Reply:
        body = call.body
        kept = [r for r in rows if self._matches(r, body["query"], contacts)]
        kept.sort(key=lambda r: r["id"])
        paging = body.get("pagination") or {}
        digest = f"{pick(self.seed, repr(body['query'])):08x}"
        return self._cursor(
            call,
            key,
            kept,
            list_type,
            paging.get("per_page", 50 if contacts else 20),
            paging.get("starting_after"),
            digest,
        )

    def serve_contacts_search(self, call: Call) -> Reply:  # noqa: D102
        return self._search(call, self.contact_list, "data", "list", contacts=True)

    def serve_conversations_search(self, call: Call) -> Reply:  # noqa: D102
        rows = [self._conversation_item(c) for c in self.conversation_list]
        return self._search(call, rows, "conversations", "conversation.list", contacts=False)

    def serve_conversation(self, call: Call) -> Reply:  # noqa: D102
        found = next(
            (c for c in self.conversation_list if c["id"] == call.vars["conversation_id"]), None
        )
        if found is None:
            return Reply(404, self.error(404, "Resource Not Found"))
        parts = found["_parts"][-500:]
        body = {
            **self._conversation_item(found),
            "conversation_parts": {
                "type": "conversation_part.list",
                "conversation_parts": parts,
                "total_count": len(parts),
            },
        }
        return Reply(200, body)

    def _matches(self, row: Record, query: Any, contacts: bool) -> bool:  # noqa: PLR0911
        if query.get("operator") in ("AND", "OR"):
            results = [self._matches(row, q, contacts) for q in query["value"]]
            return all(results) if query["operator"] == "AND" else any(results)
        field, op, value = query["field"], query["operator"], query["value"]
        have = row.get(field)
        if contacts and field in _DATE_FIELDS and isinstance(have, int):
            day = datetime.fromtimestamp(value, tz=self.zone).date()
            start = datetime.combine(day, datetime.min.time(), tzinfo=self.zone)
            if op == ">":
                return have >= (start + timedelta(days=1)).timestamp()
            if op == "<":
                return have < start.timestamp()
            if op == "=":
                return start.timestamp() <= have < (start + timedelta(days=1)).timestamp()
        if op in ("IN", "NIN"):
            return (have in value) == (op == "IN")
        if op in ("=", "!="):
            return (have == value) == (op == "=")
        if have is None:
            return False
        return {">": have > value, "<": have < value, ">=": have >= value, "<=": have <= value}.get(
            op, False
        )


def _query_problems(query: Any, depth: int, *, contacts: bool) -> list[str]:
    if not isinstance(query, dict):
        return ["query must be an object"]
    op = query.get("operator")
    if op in ("AND", "OR"):
        if depth >= 2:
            return ["more than 2 nested filters"]
        values = query.get("value")
        if not isinstance(values, list) or not 1 <= len(values) <= 15:
            return [f"{op} takes a list of 1 to 15 filters"]
        return [p for q in values for p in _query_problems(q, depth + 1, contacts=contacts)]
    out = [f"undeclared query key {k}" for k in query if k not in ("field", "operator", "value")]
    if op not in _OPERATORS:
        out.append(f"unknown operator {op!r}")
    field, value = query.get("field"), query.get("value")
    if not isinstance(field, str):
        out.append("a filter needs a field")
    if field in _DATE_FIELDS:
        if isinstance(value, bool) or not isinstance(value, int):
            out.append(f"{field} takes a UNIX timestamp, not {value!r}")
        if contacts and op in ("!=", ">=", "<="):
            out.append(f"operator {op} is not supported on the date field {field}")
    return out
