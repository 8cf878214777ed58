"""Rocket.Chat, as its OpenAPI documents (RocketChat/Rocket.Chat-Open-API) describe ``/api/v1``.

Headers ``X-Auth-Token`` (a personal access token) and ``X-User-Id``. Lists page by
``offset``/``count`` (``count`` clamped to 100, the server's default upper limit) and answer
``{"<key>": [...], "count", "offset", "total", "success": true}``; ``rooms.get`` and
``subscriptions.get`` answer ``{"update": [...], "remove": [...]}`` in one page and take
``updatedSince``; ``channels.history`` / ``groups.history`` take ``roomId``, ``oldest``,
``latest``, ``inclusive`` (``true``/``false``), newest first unless ``sort`` says otherwise.
Errors: 401 ``{"status": "error", "message": ...}``, 400 ``{"success": false, "error",
"errorType"}``; ``X-RateLimit-Limit/Remaining/Reset`` (epoch ms) on every answer.
"""

from __future__ import annotations

import hmac
import json
from datetime import datetime, timezone
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
    iso,
    pick,
)

_PAGE = {"offset": Param("integer", minimum=0), "count": Param("integer", minimum=0)}
_METEOR = "23456789ABCDEFGHJKLMNPQRSTWXYZabcdefghijkmnopqrstuvwxyz"
_UPPER_COUNT = 100
_HISTORY = {
    "roomId": Param(),
    "latest": Param(),
    "oldest": Param(),
    "inclusive": Param("boolean"),
    "unreads": Param("boolean"),
    **_PAGE,
}


class RocketChatAPI(VendorAPI):
    """Teams, channels, private groups, users, roles, rooms, subscriptions and messages."""

    name = "rocketchat"
    routes: ClassVar = (
        Route(
            "GET",
            "/api/v1/teams.list",
            "teams",
            {**_PAGE, "sort": Param("json"), "query": Param("json")},
        ),
        Route(
            "GET",
            "/api/v1/channels.list",
            "channels",
            {
                **_PAGE,
                "sort": Param("json"),
                "query": Param("json"),
                "fields": Param("json"),
            },
        ),
        Route("GET", "/api/v1/groups.list", "groups", {**_PAGE, "sort": Param("json")}),
        Route(
            "GET",
            "/api/v1/users.list",
            "users",
            {
                **_PAGE,
                "sort": Param("json"),
                "query": Param("json"),
                "fields": Param("json"),
                "email": Param(),
            },
        ),
        Route("GET", "/api/v1/roles.list", "roles"),
        Route("GET", "/api/v1/rooms.get", "rooms", {"updatedSince": Param()}),
        Route("GET", "/api/v1/subscriptions.get", "subscriptions", {"updatedSince": Param()}),
        Route(
            "GET",
            "/api/v1/channels.history",
            "channel_history",
            {
                **_HISTORY,
                "roomName": Param(),
                "sort": Param("json"),
                "showThreadMessages": Param("boolean"),
            },
        ),
        Route(
            "GET",
            "/api/v1/groups.history",
            "group_history",
            {**_HISTORY, "roomId": Param(required=True)},
        ),
    )

    def __init__(self, *, seed: int = 7, size: int = 9, rate_limit_every: int = 0) -> None:
        super().__init__(seed=seed, rate_limit_every=rate_limit_every)
        self.user_id = self._meteor("me", 0)
        self.token = (
            f"pat-{pick(seed, 'token'):08x}{pick(seed, 'token2'):08x}{pick(seed, 'token3'):08x}"
        )
        self.users = [self._user(i) for i in range(size * 2)]
        self.channels = [self._room(i, "c") for i in range(size)]
        self.groups = [self._room(i, "p") for i in range(max(2, size // 2))]
        self.teams = [self._team(i) for i in range(3)]
        self.roles = [
            {
                "_id": r,
                "description": r.title(),
                "mandatory2fa": False,
                "protected": True,
                "scope": s,
            }
            for r, s in (
                ("admin", "Users"),
                ("user", "Users"),
                ("bot", "Users"),
                ("owner", "Subscriptions"),
            )
        ]
        self.messages: dict[str, list[Record]] = {
            room["_id"]: [self._message(room, j) for j in range(pick(seed, room["_id"]) % 9)]
            for room in [*self.channels, *self.groups]
        }
        self.subscriptions = [
            self._subscription(room) for room in [*self.channels[:4], *self.groups]
        ]

    def _meteor(self, kind: str, i: int) -> str:
        return "".join(_METEOR[pick(self.seed, kind, i, k) % len(_METEOR)] for k in range(17))

    def _ts(self, seconds: int, *parts: object) -> str:
        return iso(seconds, pick(self.seed, "ms", *parts) % 1000)

    def _user(self, i: int) -> Record:
        uid = self.user_id if i == 0 else self._meteor("user", i)
        return {
            "_id": uid,
            "username": f"user.{i}",
            "name": f"Ünïcode User {i}",
            "type": "user",
            "status": ("online", "away", "offline")[i % 3],
            "active": i % 7 != 6,
            "roles": ["user"] + (["admin"] if i == 0 else []),
            "nameInsensitive": f"ünïcode user {i}",
            "emails": [{"address": f"user{i}@example.com", "verified": i % 2 == 0}],
            "createdAt": self._ts(self.now - 86_400 * (90 - i), "u", i),
            "_updatedAt": self._ts(self.now - 3600, "u", i),
        }

    def _room(self, i: int, kind: str) -> Record:
        t = self.now - 86_400 * (30 - i)
        owner = self.users[i % len(self.users)]
        return {
            "_id": self._meteor(f"room-{kind}", i),
            "t": kind,
            "name": f"{'chan' if kind == 'c' else 'grp'}-{i}",
            "fname": f"{'chan' if kind == 'c' else 'grp'}-{i}",
            "msgs": 0,
            "usersCount": 2 + i,
            "u": {"_id": owner["_id"], "username": owner["username"]},
            "ts": self._ts(t, kind, i),
            "ro": False,
            "sysMes": True,
            "default": kind == "c" and i == 0,
            "_updatedAt": self._ts(t + 60, kind, i),
        }

    def _team(self, i: int) -> Record:
        room = self.channels[i]
        return {
            "_id": self._meteor("team", i),
            "name": f"team-{i}",
            "type": i % 2,
            "roomId": room["_id"],
            "createdAt": room["ts"],
            "createdBy": room["u"],
            "_updatedAt": room["_updatedAt"],
            "rooms": 1,
            "numberOfUsers": 2 + i,
        }

    def _message(self, room: Record, j: int) -> Record:
        t = self.now - 3_600 * (48 - j)
        author = self.users[j % len(self.users)]
        return {
            "_id": self._meteor(f"msg-{room['_id']}", j),
            "rid": room["_id"],
            "msg": f"hello {j} 👋",
            "ts": self._ts(t, room["_id"], j),
            "u": {"_id": author["_id"], "username": author["username"]},
            "_updatedAt": self._ts(t + 1, room["_id"], j),
            "urls": [],
            "mentions": [],
            "channels": [],
        }

    def _subscription(self, room: Record) -> Record:
        return {
            "_id": self._meteor("sub", int(pick(self.seed, room["_id"]) % 10_000)),
            "t": room["t"],
            "ts": room["ts"],
            "name": room["name"],
            "fname": room["fname"],
            "rid": room["_id"],
            "u": {"_id": self.user_id, "username": "user.0"},
            "open": True,
            "alert": False,
            "unread": 0,
            "userMentions": 0,
            "groupMentions": 0,
            "_updatedAt": room["_updatedAt"],
        }

    def post_messages(self, count: int) -> list[str]:
        """Post ``count`` new messages in the first channel; return their ids."""
        room = self.channels[0]
        rows = self.messages[room["_id"]]
        out = []
        for _ in range(count):
            now = self.tick()
            message = self._message(room, len(rows))
            message["ts"] = message["_updatedAt"] = self._ts(now, room["_id"], len(rows))
            rows.append(message)
            out.append(message["_id"])
        return out

    # --- protocol --------------------------------------------------------------------------

    def credentials(self) -> dict[str, str]:  # noqa: D102
        return {"api_token": self.token, "user_id": self.user_id}

    def authorized(self, call: Call) -> bool:  # noqa: D102
        token = (call.headers.get("X-Auth-Token") or "").encode()
        user = (call.headers.get("X-User-Id") or "").encode()
        return hmac.compare_digest(token, self.token.encode()) and hmac.compare_digest(
            user, self.user_id.encode()
        )

    def error(self, status: int, message: str) -> Any:  # noqa: D102
        if status == 401:
            return {"status": "error", "message": "You must be logged in to do this."}
        kind = "error-too-many-requests" if status == 429 else "invalid-params"
        return {"success": False, "error": f"{message} [{kind}]", "errorType": kind}

    def rate_headers(self) -> Headers:  # noqa: D102
        reset = (self.now + 60) * 1000
        return (
            ("X-RateLimit-Limit", "10"),
            ("X-RateLimit-Remaining", "9"),
            ("X-RateLimit-Reset", str(reset)),
        )

    def rate_limited(self) -> Reply:  # noqa: D102
        text = (
            "Error, too many requests. Please slow down. "
            "You must wait 0 seconds before trying this endpoint again."
        )
        return Reply(429, self.error(429, text), (("X-RateLimit-Remaining", "0"),))

    # --- handlers --------------------------------------------------------------------------

    def _list(self, call: Call, key: str, rows: list[Record]) -> Reply:
        offset = call.integer("offset", 0)
        count = min(call.integer("count", 50) or _UPPER_COUNT, _UPPER_COUNT)
        sort = call.query.get("sort")
        if sort:
            for field, direction in reversed(list(json.loads(sort).items())):
                rows = sorted(rows, key=lambda r, f=field: str(r.get(f)), reverse=direction == -1)
        page = rows[offset : offset + count]
        return Reply(
            200,
            {key: page, "count": len(page), "offset": offset, "total": len(rows), "success": True},
        )

    def serve_teams(self, call: Call) -> Reply:  # noqa: D102
        return self._list(call, "teams", self.teams)

    def serve_channels(self, call: Call) -> Reply:  # noqa: D102
        return self._list(call, "channels", self.channels)

    def serve_groups(self, call: Call) -> Reply:  # noqa: D102
        return self._list(call, "groups", self.groups)

    def serve_users(self, call: Call) -> Reply:  # noqa: D102
        return self._list(call, "users", self.users)

    def serve_roles(self, call: Call) -> Reply:  # noqa: D102
        return Reply(200, {"roles": self.roles, "success": True})

    def _changed(self, call: Call, rows: list[Record]) -> Reply:
        since = call.query.get("updatedSince")
        if since:
            moment = _moment(since, "updatedSince")
            rows = [r for r in rows if _moment(r["_updatedAt"], "_updatedAt") > moment]
        return Reply(200, {"update": rows, "remove": [], "success": True})

    def serve_rooms(self, call: Call) -> Reply:  # noqa: D102
        return self._changed(call, [*self.channels, *self.groups])

    def serve_subscriptions(self, call: Call) -> Reply:  # noqa: D102
        return self._changed(call, self.subscriptions)

    def _history(self, call: Call, rooms: list[Record]) -> Reply:
        room_id = call.query.get("roomId")
        if not room_id:
            raise BadRequestError('The parameter "roomId" or "roomName" is required')
        if room_id not in {r["_id"] for r in rooms}:
            return Reply(400, self.error(400, "[invalid-channel]"))
        inclusive = call.query.get("inclusive") == "true"
        rows = self.messages[room_id]
        if "oldest" in call.query:
            oldest = _moment(call.query["oldest"], "oldest")
            rows = [
                m
                for m in rows
                if (t := _moment(m["ts"], "ts")) > oldest or (inclusive and t == oldest)
            ]
        if "latest" in call.query:
            latest = _moment(call.query["latest"], "latest")
            rows = [
                m
                for m in rows
                if (t := _moment(m["ts"], "ts")) < latest or (inclusive and t == latest)
            ]
        rows = sorted(
            rows, key=lambda m: m["ts"], reverse=True
        )  # newest first, as the server sends
        return self._list(call, "messages", rows)

    def serve_channel_history(self, call: Call) -> Reply:  # noqa: D102
        return self._history(call, self.channels)

    def serve_group_history(self, call: Call) -> Reply:  # noqa: D102
        return self._history(call, self.groups)


def _moment(text: str, name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequestError(f"{name} must be an ISO 8601 date: {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
