"""Write the vendor profiles' stream schemas from the vendors' response schemas.

Usage: ``python scripts/profile_schemas.py [REPO]``. The response schemas in
``tests/fixtures/vendors/<vendor>/`` hold what each vendor's OpenAPI document declares (types,
required fields, nullability); a profile's stream schema is the schema of one record there,
made lenient the way a tap's schema must be: every property nullable, objects open to
properties the vendor adds, enums and formats other than date-time dropped, a property of no
declared type any JSON value. ``tests/test_vendor_settings.py`` checks that the shipped schemas
are what this writes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ANY = ["string", "number", "boolean", "object", "array", "null"]
DATE_TIME = {"type": ["string", "null"], "format": "date-time"}
#: vendor -> stream -> (response schema file, path to one record, properties to add or replace)
PLAN: dict[str, dict[str, tuple[str, tuple[str, ...], dict[str, Any]]]] = {
    "rocketchat": {
        "teams": ("teams_list.json", ("teams", "[]"), {}),
        "channels": ("channels_list.json", ("channels", "[]"), {}),
        "groups": ("groups_list.json", ("groups", "[]"), {}),
        "users": ("users_list.json", ("users", "[]"), {}),
        "roles": ("roles_list.json", ("roles", "[]"), {}),
        "rooms": ("rooms_get.json", ("update", "[]"), {}),
        "subscriptions": ("subscriptions_get.json", ("update", "[]"), {}),
        "channel_messages": ("channels_history.json", ("messages", "[]"), {}),
        "group_messages": ("groups_history.json", ("messages", "[]"), {}),
    },
    "intercom": {
        "admins": ("admins.json", ("admins", "[]"), {}),
        "teams": ("teams.json", ("teams", "[]"), {}),
        "tags": ("tags.json", ("data", "[]"), {}),
        "segments": ("segments.json", ("segments", "[]"), {}),
        "data_attributes": ("data_attributes.json", ("data", "[]"), {}),
        "companies": ("companies.json", ("data", "[]"), {}),
        "contacts": ("contacts.json", ("data", "[]"), {}),
        "conversations": ("conversations.json", ("conversations", "[]"), {}),
        "conversation_parts": (
            "conversation.json",
            ("conversation_parts", "conversation_parts", "[]"),
            {},
        ),
    },
    "jira": {
        "application_roles": ("application_roles.json", ("[]",), {}),
        "issuetype_avatars": ("system_avatars.json", ("system", "[]"), {}),
        "project_avatars": ("system_avatars.json", ("system", "[]"), {}),
        "user_avatars": ("system_avatars.json", ("system", "[]"), {}),
        "projects": ("projects.json", ("values", "[]"), {}),
        "boards": ("boards.json", ("values", "[]"), {}),
        # The replication key, copied from fields.updated (a nested cursor_path).
        "issues": ("search_jql.json", ("issues", "[]"), {"updated": DATE_TIME}),
        "issue_comments": ("comments.json", ("comments", "[]"), {}),
        "issue_changelogs": ("changelogs.json", ("values", "[]"), {}),
    },
    "statuspage_io": {
        "pages": ("pages.json", ("[]",), {}),
        "components": ("components.json", ("[]",), {}),
        "incidents": ("incidents.json", ("[]",), {}),
        # A string in the OpenAPI document, an array in Airbyte's schema: either is read.
        "subscribers": (
            "subscribers.json",
            ("[]",),
            {
                "components": {
                    "type": ["string", "array", "null"],
                    "items": {"type": ["string", "null"]},
                }
            },
        ),
    },
    "opsgenie": {
        "users": ("users.json", ("data", "[]"), {}),
        "teams": ("teams.json", ("data", "[]"), {}),
        "team_members": ("team.json", ("data", "members", "[]"), {}),
        "services": ("services.json", ("data", "[]"), {}),
        "integrations": ("integrations.json", ("data", "[]"), {}),
        "incidents": ("incidents.json", ("data", "[]"), {}),
        "alerts": ("alerts.json", ("data", "[]"), {}),
        "alert_logs": ("alert_logs.json", ("data", "[]"), {}),
        "alert_recipients": ("alert_recipients.json", ("data", "[]"), {}),
    },
}


def lenient(schema: dict[str, Any]) -> dict[str, Any]:
    """A vendor's schema of a value as a tap declares it (see the module docstring)."""
    if "anyOf" in schema:
        kinds: set[str] = set()
        for option in schema["anyOf"]:
            kind = option.get("type")
            kinds.update(kind if isinstance(kind, list) else [kind] if kind else [])
        out: dict[str, Any] = (
            {"type": [*sorted(kinds - {"null"}), "null"]} if kinds else {"type": ANY}
        )
        objects = [option for option in schema["anyOf"] if option.get("properties")]
        if objects:
            props = {k: lenient(v) for o in objects for k, v in o["properties"].items()}
            out.update(properties=props, additionalProperties=True)
        return out
    kind = schema.get("type")
    if kind is None:
        return {"type": ANY}
    kinds_list = kind if isinstance(kind, list) else [kind]
    out = {"type": [k for k in kinds_list if k != "null"] + ["null"]}
    if "object" in kinds_list:
        out["properties"] = {k: lenient(v) for k, v in (schema.get("properties") or {}).items()}
        out["additionalProperties"] = True
    if "array" in kinds_list and schema.get("items"):
        out["items"] = lenient(schema["items"])
    if schema.get("format") == "date-time" and kinds_list[0] == "string":
        out["format"] = "date-time"
    return out


def stream_schema(fixtures: Path, vendor: str, stream: str) -> dict[str, Any]:
    """The profile's schema of ``stream``."""
    file, path, extra = PLAN[vendor][stream]
    schema = json.loads((fixtures / vendor / file).read_text())
    for part in path:
        schema = schema["items"] if part == "[]" else schema["properties"][part]
    record = lenient(schema)
    return {
        "type": "object",
        "properties": {**record["properties"], **extra},
        "additionalProperties": True,
    }


def main(argv: list[str]) -> int:
    """Write every profile's schemas under ``tap_generic_rest/profiles/``."""
    root = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent.parent
    fixtures = root / "tests" / "fixtures" / "vendors"
    for vendor, streams in PLAN.items():
        folder = root / "tap_generic_rest" / "profiles" / vendor / "schemas"
        folder.mkdir(parents=True, exist_ok=True)
        for stream in streams:
            text = json.dumps(stream_schema(fixtures, vendor, stream), indent=2) + "\n"
            (folder / f"{stream}.json").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
