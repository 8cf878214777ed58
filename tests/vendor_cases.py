"""The five vendor profiles against their sandboxes: configs, the records each stream must
emit (by key), the change a second run must read, the vendor response schema of each stream.

Shared by ``tests/test_vendor_*.py``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sandbox.vendors.intercom import IntercomAPI
from sandbox.vendors.jira import JiraAPI
from sandbox.vendors.opsgenie import OpsgenieAPI
from sandbox.vendors.rocketchat import RocketChatAPI
from sandbox.vendors.statuspage_io import StatuspageAPI

if TYPE_CHECKING:
    from sandbox.vendors.base import VendorAPI

FIXTURES = Path(__file__).parent / "fixtures" / "vendors"
Keys = Callable[[Any], list[Any]]  # the sandbox's records of a stream, as their keys


@dataclass(frozen=True)
class Case:
    """One profile: how to point it at its sandbox and what a sync must emit."""

    name: str
    make: Callable[..., VendorAPI]
    prefix: str  # appended to the server URL to make base_url
    #: stream -> (the key of an emitted record, the keys the sandbox serves)
    expected: dict[str, tuple[Callable[[dict[str, Any]], Any], Keys]]
    #: stream -> (fixture file, path to the records in it) of the vendor's response schema
    schemas: dict[str, tuple[str, tuple[str, ...]]]
    #: Changes the sandbox, returns {stream: keys a second run must emit}.
    change: Callable[[Any], dict[str, set[Any]]]
    #: Streams whose API filters by the bookmark: a second run requests only the changes.
    filtered: tuple[str, ...] = ()
    #: Streams whose spec reads again this far before the bookmark (dlt's ``lag``).
    lag: dict[str, float] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def config(self, api: VendorAPI, url: str, **overrides: Any) -> dict[str, Any]:
        """Tap settings for the profile against ``api`` served at ``url``."""
        return {
            "source": self.name,
            "base_url": url + self.prefix,
            "page_size": 4,
            **api.credentials(),
            **self.extra,
            **overrides,
        }

    def record_schema(self, stream: str) -> dict[str, Any]:
        """The vendor's schema of one record of ``stream`` (from its OpenAPI document)."""
        file, path = self.schemas[stream]
        schema = json.loads((FIXTURES / self.name / file).read_text())
        for part in path:
            schema = schema["items"] if part == "[]" else schema["properties"][part]
        return schema


def _by(field_name: str) -> Callable[[dict[str, Any]], Any]:
    return lambda record: record[field_name]


def _ids(rows: list[dict[str, Any]], key: str = "id") -> list[Any]:
    return [row[key] for row in rows]


def _flat(table: dict[str, list[dict[str, Any]]], key: str = "id") -> list[Any]:
    return [row[key] for rows in table.values() for row in rows]


def _rc_change(api: RocketChatAPI) -> dict[str, set[Any]]:
    return {"channel_messages": set(api.post_messages(3))}


def _ic_change(api: IntercomAPI) -> dict[str, set[Any]]:
    changed = set(api.reply_to(2))
    return {"conversations": changed, "contacts": set(api.touch_contacts(2))}


def _jira_change(api: JiraAPI) -> dict[str, set[Any]]:
    return {"issues": set(api.touch_issues(3))}


def _sp_change(api: StatuspageAPI) -> dict[str, set[Any]]:
    return {"incidents": set(api.touch_incidents(2))}


def _og_change(api: OpsgenieAPI) -> dict[str, set[Any]]:
    return {"alerts": set(api.touch_alerts(3)), "incidents": set(api.touch_incidents(2))}


def _team_members(api: OpsgenieAPI) -> list[Any]:
    return [(t["id"], m["user"]["id"]) for t in api.teams for m in t["members"]]


def _recipients(api: OpsgenieAPI) -> list[Any]:
    out = []
    for alert in api.alerts:
        count = 1 + int(alert["tinyId"]) % 3
        out += [(alert["id"], user["id"]) for user in api.users[:count]]
    return out


CASES = {
    case.name: case
    for case in (
        Case(
            "rocketchat",
            RocketChatAPI,
            "/api/v1",
            expected={
                "teams": (_by("_id"), lambda a: _ids(a.teams, "_id")),
                "channels": (_by("_id"), lambda a: _ids(a.channels, "_id")),
                "groups": (_by("_id"), lambda a: _ids(a.groups, "_id")),
                "users": (_by("_id"), lambda a: _ids(a.users, "_id")),
                "roles": (_by("_id"), lambda a: _ids(a.roles, "_id")),
                "rooms": (_by("_id"), lambda a: _ids([*a.channels, *a.groups], "_id")),
                "subscriptions": (_by("_id"), lambda a: _ids(a.subscriptions, "_id")),
                "channel_messages": (
                    _by("_id"),
                    lambda a: [m["_id"] for c in a.channels for m in a.messages[c["_id"]]],
                ),
                "group_messages": (
                    _by("_id"),
                    lambda a: [m["_id"] for g in a.groups for m in a.messages[g["_id"]]],
                ),
            },
            schemas={
                "teams": ("teams_list.json", ("teams", "[]")),
                "channels": ("channels_list.json", ("channels", "[]")),
                "groups": ("groups_list.json", ("groups", "[]")),
                "users": ("users_list.json", ("users", "[]")),
                "roles": ("roles_list.json", ("roles", "[]")),
                "rooms": ("rooms_get.json", ("update", "[]")),
                "subscriptions": ("subscriptions_get.json", ("update", "[]")),
                "channel_messages": ("channels_history.json", ("messages", "[]")),
                "group_messages": ("groups_history.json", ("messages", "[]")),
            },
            change=_rc_change,
            filtered=("channel_messages",),
        ),
        Case(
            "intercom",
            IntercomAPI,
            "",
            expected={
                "admins": (_by("id"), lambda a: _ids(a.admins)),
                "teams": (_by("id"), lambda a: _ids(a.team_list)),
                "tags": (_by("id"), lambda a: _ids(a.tag_list)),
                "segments": (_by("id"), lambda a: _ids(a.segment_list)),
                "data_attributes": (
                    lambda r: (r["model"], r["name"]),
                    lambda a: [(x["model"], x["name"]) for x in a.attributes],
                ),
                "companies": (_by("id"), lambda a: _ids(a.company_list)),
                "contacts": (_by("id"), lambda a: _ids(a.contact_list)),
                "conversations": (_by("id"), lambda a: _ids(a.conversation_list)),
                "conversation_parts": (
                    _by("id"),
                    lambda a: [p["id"] for c in a.conversation_list for p in c["_parts"]],
                ),
            },
            schemas={
                "admins": ("admins.json", ("admins", "[]")),
                "teams": ("teams.json", ("teams", "[]")),
                "tags": ("tags.json", ("data", "[]")),
                "segments": ("segments.json", ("segments", "[]")),
                "data_attributes": ("data_attributes.json", ("data", "[]")),
                "companies": ("companies.json", ("data", "[]")),
                "contacts": ("contacts_search.json", ("data", "[]")),
                "conversations": ("conversations_search.json", ("conversations", "[]")),
                "conversation_parts": (
                    "conversation.json",
                    ("conversation_parts", "conversation_parts", "[]"),
                ),
            },
            change=_ic_change,
            filtered=("contacts", "conversations"),
            lag={"contacts": 86_400},
        ),
        Case(
            "jira",
            JiraAPI,
            "",
            expected={
                "application_roles": (_by("key"), lambda a: ["jira-software", "jira-core"]),
                "issuetype_avatars": (
                    _by("id"),
                    lambda a: [str(10_300 + j) for j in range(3 + len("issuetype") % 3)],
                ),
                "project_avatars": (
                    _by("id"),
                    lambda a: [str(10_310 + j) for j in range(3 + len("project") % 3)],
                ),
                "user_avatars": (
                    _by("id"),
                    lambda a: [str(10_320 + j) for j in range(3 + len("user") % 3)],
                ),
                "projects": (_by("id"), lambda a: _ids(a.projects)),
                "boards": (_by("id"), lambda a: _ids(a.boards)),
                "issues": (_by("id"), lambda a: _ids(a.issues)),
                "issue_comments": (_by("id"), lambda a: _flat(a.comments)),
                "issue_changelogs": (_by("id"), lambda a: _flat(a.changelogs)),
            },
            schemas={
                "application_roles": ("application_roles.json", ("[]",)),
                "issuetype_avatars": ("system_avatars.json", ("system", "[]")),
                "project_avatars": ("system_avatars.json", ("system", "[]")),
                "user_avatars": ("system_avatars.json", ("system", "[]")),
                "projects": ("projects.json", ("values", "[]")),
                "boards": ("boards.json", ("values", "[]")),
                "issues": ("search_jql.json", ("issues", "[]")),
                "issue_comments": ("comments.json", ("comments", "[]")),
                "issue_changelogs": ("changelogs.json", ("values", "[]")),
            },
            change=_jira_change,
            filtered=("issues",),
            extra={"jira_time_zone": "America/Sao_Paulo"},
        ),
        Case(
            "statuspage_io",
            StatuspageAPI,
            "/v1",
            expected={
                "pages": (_by("id"), lambda a: _ids(a.pages)),
                "components": (_by("id"), lambda a: _flat(a.components)),
                "incidents": (_by("id"), lambda a: _flat(a.incidents)),
                "subscribers": (_by("id"), lambda a: _flat(a.subscribers)),
            },
            schemas={
                "pages": ("pages.json", ("[]",)),
                "components": ("components.json", ("[]",)),
                "incidents": ("incidents.json", ("[]",)),
                "subscribers": ("subscribers.json", ("[]",)),
            },
            change=_sp_change,
        ),
        Case(
            "opsgenie",
            OpsgenieAPI,
            "",
            expected={
                "users": (_by("id"), lambda a: _ids(a.users)),
                "teams": (_by("id"), lambda a: _ids(a.teams)),
                "team_members": (lambda r: (r["_teams_id"], r["user"]["id"]), _team_members),
                "services": (_by("id"), lambda a: _ids(a.services)),
                "integrations": (_by("id"), lambda a: _ids(a.integrations)),
                "incidents": (_by("id"), lambda a: _ids(a.incidents)),
                "alerts": (_by("id"), lambda a: _ids(a.alerts)),
                "alert_logs": (
                    lambda r: (r["_alerts_id"], r["offset"]),
                    lambda a: [(k, x["offset"]) for k, v in a.logs.items() for x in v],
                ),
                "alert_recipients": (lambda r: (r["_alerts_id"], r["user"]["id"]), _recipients),
            },
            schemas={
                "users": ("users.json", ("data", "[]")),
                "teams": ("teams.json", ("data", "[]")),
                "team_members": ("team.json", ("data", "members", "[]")),
                "services": ("services.json", ("data", "[]")),
                "integrations": ("integrations.json", ("data", "[]")),
                "incidents": ("incidents.json", ("data", "[]")),
                "alerts": ("alerts.json", ("data", "[]")),
                "alert_logs": ("alert_logs.json", ("data", "[]")),
                "alert_recipients": ("alert_recipients.json", ("data", "[]")),
            },
            change=_og_change,
            filtered=("alerts", "incidents"),
        ),
    )
}
