"""Write the vendors' response schemas (``tests/fixtures/vendors/``) from their OpenAPI documents.

Usage: ``python scripts/vendor_response_schemas.py DOCS [OUTPUT]``, DOCS a folder holding:

- ``intercom-2.14.yaml``: ``descriptions/2.14/api.intercom.io.yaml`` of intercom/Intercom-OpenAPI;
- ``jira-platform.json``, ``jira-software.json``: Atlassian's Jira Cloud platform document
  (``swagger-v3.v3.json``) and Software document (``software-swagger.v3.json``);
- ``statuspage.yaml``: Statuspage's API document (``api/v1/statuspage/api/openapi.yaml`` of
  sbecker59/statuspage-api-client-go is a copy);
- ``opsgenie/``: a checkout of opsgenie/opsgenie-oas (its ``paths/`` and ``definitions/``).

Only the structure is kept (types, properties, items, required, nullability, enums, a few
formats), none of the documents' prose. Rocket.Chat's documents give examples, not schemas:
its files are written by hand from those examples; Opsgenie's services (not in opsgenie-oas)
from its API documentation.
"""

from __future__ import annotations

import glob
import json
import os
import sys
from pathlib import Path
from typing import Any

import yaml

#: vendor -> output file -> (document, path, method, status)
RESPONSES: dict[str, dict[str, tuple[str, str, str, str]]] = {
    "intercom": {
        f"{name}.json": ("intercom-2.14.yaml", path, method, "200")
        for name, path, method in (
            ("admins", "/admins", "get"),
            ("teams", "/teams", "get"),
            ("tags", "/tags", "get"),
            ("segments", "/segments", "get"),
            ("data_attributes", "/data_attributes", "get"),
            ("companies", "/companies", "get"),
            ("contacts", "/contacts", "get"),
            ("contacts_search", "/contacts/search", "post"),
            ("conversations", "/conversations", "get"),
            ("conversations_search", "/conversations/search", "post"),
            ("conversation", "/conversations/{conversation_id}", "get"),
        )
    }
    | {"error.json": ("intercom-2.14.yaml", "/admins", "get", "401")},
    "jira": {
        "application_roles.json": (
            "jira-platform.json",
            "/rest/api/3/applicationrole",
            "get",
            "200",
        ),
        "system_avatars.json": (
            "jira-platform.json",
            "/rest/api/3/avatar/{type}/system",
            "get",
            "200",
        ),
        "projects.json": ("jira-platform.json", "/rest/api/3/project/search", "get", "200"),
        "search_jql.json": ("jira-platform.json", "/rest/api/3/search/jql", "get", "200"),
        "comments.json": (
            "jira-platform.json",
            "/rest/api/3/issue/{issueIdOrKey}/comment",
            "get",
            "200",
        ),
        "changelogs.json": (
            "jira-platform.json",
            "/rest/api/3/issue/{issueIdOrKey}/changelog",
            "get",
            "200",
        ),
        "boards.json": ("jira-software.json", "/rest/agile/1.0/board", "get", "200"),
    },
    "statuspage_io": {
        f"{name}.json": ("statuspage.yaml", path, "get", "200")
        for name, path in (
            ("pages", "/pages"),
            ("subscribers", "/pages/{page_id}/subscribers"),
            ("incidents", "/pages/{page_id}/incidents"),
            ("components", "/pages/{page_id}/components"),
        )
    },
    "opsgenie": {
        "alerts.json": ("opsgenie/paths/alert.yaml", "/v2/alerts", "get", "200"),
        "alert_logs.json": (
            "opsgenie/paths/alert.yaml",
            "/v2/alerts/{identifier}/logs",
            "get",
            "200",
        ),
        "alert_recipients.json": (
            "opsgenie/paths/alert.yaml",
            "/v2/alerts/{identifier}/recipients",
            "get",
            "200",
        ),
        "teams.json": ("opsgenie/paths/team.yaml", "/v2/teams", "get", "200"),
        "team.json": ("opsgenie/paths/team.yaml", "/v2/teams/{identifier}", "get", "200"),
        "users.json": ("opsgenie/paths/user.yaml", "/v2/users", "get", "200"),
        "incidents.json": ("opsgenie/paths/incident.yaml", "/v1/incidents/", "get", "200"),
        "integrations.json": ("opsgenie/paths/integration.yaml", "/v2/integrations", "get", "200"),
        "error.json": ("opsgenie/paths/alert.yaml", "/v2/alerts", "get", "401"),
    },
}
_FORMATS = ("date-time", "date", "uri", "uuid", "email")
_cache: dict[str, Any] = {}


def _load(path: str) -> Any:
    if path not in _cache:
        with open(path, encoding="utf-8") as handle:
            _cache[path] = json.load(handle) if path.endswith(".json") else yaml.safe_load(handle)
    return _cache[path]


def _resolve(node: Any, base: str) -> tuple[Any, str]:
    """Follow ``$ref``s, across files too (opsgenie-oas splits its definitions)."""
    while isinstance(node, dict) and "$ref" in node:
        target, _, fragment = node["$ref"].partition("#")
        path = os.path.normpath(os.path.join(os.path.dirname(base), target)) if target else base
        document = _load(path)
        parts = [p.replace("~1", "/") for p in fragment.strip("/").split("/") if p]
        if parts and parts[0] not in document:  # a definition kept in definitions/*.yaml
            folder = os.path.dirname(path)
            for candidate in glob.glob(os.path.join(folder, "..", parts[0], "*.yaml")):
                if parts[1] in (_load(candidate) or {}):
                    document, path, parts = _load(candidate), candidate, parts[1:]
                    break
        for part in parts:
            document = document[part]
        node, base = document, path
    return node, base


def convert(
    node: Any, base: str, depth: int = 0, seen: tuple[tuple[str, int], ...] = ()
) -> dict[str, Any]:
    """One schema of a document as a compact JSON Schema (structure only).

    A schema met again inside itself (Jira's recursive beans) is left open: ``{}``.
    """
    node, base = _resolve(node, base)
    key = (base, id(node))
    if not isinstance(node, dict) or key in seen or depth > 12:
        return {}
    seen = (*seen, key)
    out: dict[str, Any] = {}
    if "allOf" in node:
        out = {"type": "object", "properties": {}}
        required: list[str] = []
        for part in node["allOf"]:
            sub = convert(part, base, depth + 1, seen)
            out["properties"].update(sub.get("properties", {}))
            required += sub.get("required", [])
        if required:
            out["required"] = sorted(set(required))
    for combination in ("oneOf", "anyOf"):
        if combination in node:
            out = {"anyOf": [convert(p, base, depth + 1, seen) for p in node[combination]]}
    kind = node.get("type")
    if kind == "object" or "properties" in node or "additionalProperties" in node:
        props = {
            k: convert(v, base, depth + 1, seen) for k, v in (node.get("properties") or {}).items()
        }
        out = {"type": "object", "properties": {**out.get("properties", {}), **props}}
        if node.get("required"):
            out["required"] = list(node["required"])
    elif kind == "array":
        out = {"type": "array", "items": convert(node.get("items", {}), base, depth + 1, seen)}
    elif kind in ("string", "integer", "number", "boolean"):
        out = {"type": kind}
        if node.get("format") in _FORMATS:
            out["format"] = node["format"]
        if node.get("enum"):
            out["enum"] = [*node["enum"], *([None] if node.get("nullable") else [])]
    if node.get("nullable") or node.get("x-nullable"):
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        elif "anyOf" in out:
            out["anyOf"].append({"type": "null"})
    return out


def response_schema(document: str, path: str, method: str, status: str) -> dict[str, Any]:
    """The JSON Schema of one response of one operation."""
    paths = _load(document)
    paths = paths.get("paths", paths)
    response, base = _resolve(paths[path][method]["responses"][status], document)
    schema = (
        response["content"]["application/json"]["schema"]
        if "content" in response
        else response["schema"]
    )
    return convert(schema, base)


def main(argv: list[str]) -> int:
    """Write every response schema of :data:`RESPONSES`."""
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    docs = Path(argv[1])
    out = (
        Path(argv[2])
        if len(argv) > 2
        else Path(__file__).resolve().parent.parent / "tests/fixtures/vendors"
    )
    for vendor, files in RESPONSES.items():
        (out / vendor).mkdir(parents=True, exist_ok=True)
        for name, (document, path, method, status) in files.items():
            schema = response_schema(str(docs / document), path, method, status)
            (out / vendor / name).write_text(
                json.dumps(schema, separators=(",", ":"), sort_keys=True)
            )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
