"""Records of the oncall source (Opsgenie shapes)."""

from __future__ import annotations

from typing import Any

from sandbox.data.common import (
    COUNTRIES,
    DAY_MS,
    DOMAINS,
    LAST,
    LOCALES,
    T_END_MS,
    TEAM_NAMES,
    TIME_ZONES,
    WITNESS,
    WORDS,
    Ctx,
    Record,
    Rng,
    chance,
    created_at,
    created_desc,
    iso_ms,
    maybe,
    person,
    pick,
    rare,
    referenced,
    sentence,
    some,
    updated_at,
    uuid_like,
)


def _oncall_id(c: Ctx, stream: str, j: int) -> str:
    return uuid_like(c.ref(stream, j))


def _oncall_links(kind: str, ident: str) -> dict[str, str]:
    return {
        "web": f"https://oncall.example.com/{kind}/dashboard/{ident}",
        "api": f"https://api.example.com/v2/{kind}s/{ident}",
    }


def oncall_users(r: Rng, c: Ctx) -> Record:
    """Body of a user; ``username`` is an e-mail address."""
    name, slug = person(r)
    country, _, _, state, city = pick(r, COUNTRIES)
    return {
        "id": None,
        "username": f"{slug}@{pick(r, DOMAINS)}",
        "fullName": name,
        "role": dict.fromkeys(("id", "name"), pick(r, ("Admin", "User", "User", "Owner"))),
        "blocked": chance(r, 5),
        "verified": chance(r, 85),
        "timeZone": pick(r, TIME_ZONES),
        "locale": pick(r, LOCALES),
        "userAddress": maybe(
            r,
            {
                "country": country,
                "state": state,
                "city": city,
                "line": f"{1 + r() % 200} {pick(r, LAST)[0]} Street",
                "zipCode": f"{r() % 100_000:05d}",
            },
        ),
        "tags": some(r, ("sre", "backend", "lead", "emea", "夜勤"), 3),
        "createdAt": None,
        "skypeUsername": maybe(r, f"live:{slug}"),
        "details": {}
        if chance(r, 50)
        else {"department": [pick(r, TEAM_NAMES)], "floor": [str(1 + r() % 9)]},
        "mutedUntil": iso_ms(T_END_MS + r() % (30 * DAY_MS)) if rare(r, c, 5) else None,
        "invitationDisabled": chance(r, 10),
    }


def oncall_users_patch(rec: Record, i: int, key: int, c: Ctx) -> None:
    """Unique id and username."""
    local, _, domain = rec["username"].partition("@")
    rec["id"] = uuid_like(key)
    rec["username"] = f"{local}{i}@{domain}"
    rec["createdAt"] = iso_ms(created_at(i, key))


def oncall_teams(r: Rng, c: Ctx) -> Record:
    """Body of a team."""
    return {
        "id": None,
        "name": pick(r, TEAM_NAMES),
        "description": maybe(r, sentence(r)),
        "links": None,
    }


def oncall_teams_patch(rec: Record, i: int, key: int, c: Ctx) -> None:
    """Unique id and name; links carry the id."""
    rec["id"] = ident = uuid_like(key)
    rec["name"] = f"{rec['name']}-{i}"
    rec["links"] = _oncall_links("team", ident)


def oncall_services(r: Rng, c: Ctx) -> Record:
    """Body of a service."""
    return {
        "id": None,
        "name": f"{pick(r, WORDS)}-service",
        "description": maybe(r, sentence(r)),
        "teamId": _oncall_id(c, "teams", r() % 20),
        "isExternal": chance(r, 10),
        "tags": some(r, ("tier-1", "tier-2", "customer-facing", "internal"), 2),
        "visibility": pick(r, ("TEAM_MEMBERS", "OPSGENIE_USERS")),
        "links": None,
    }


def oncall_named_patch(rec: Record, i: int, key: int, c: Ctx) -> None:
    """Unique id; the name carries the index."""
    rec["id"] = uuid_like(key)
    rec["name"] = f"{rec['name']}-{i}"


def oncall_services_patch(rec: Record, i: int, key: int, c: Ctx) -> None:
    """Unique id and name; links carry the id."""
    oncall_named_patch(rec, i, key, c)
    rec["links"] = _oncall_links("service", rec["id"])


_INTEGRATION_TYPES = ("API", "Email", "Prometheus", "Datadog", "Webhook", "Jira")


def oncall_integrations(r: Rng, c: Ctx) -> Record:
    """Body of an integration."""
    kind = pick(r, _INTEGRATION_TYPES)
    return {
        "id": None,
        "name": f"{kind} {pick(r, WORDS)}",
        "enabled": chance(r, 85),
        "type": kind,
        # the real API writes "" for an integration without a team
        "teamId": _oncall_id(c, "teams", r() % 20) if chance(r, 80) else pick(r, ("", None)),
        "version": pick(r, ("v1", "v2")),
        "advanced": chance(r, 30),
    }


_PRIORITIES = ("P1", "P2", "P3", "P4", "P5")


def _oncall_team(r: Rng, c: Ctx) -> dict[str, str]:
    """``{id, type, name}`` of one of the first 20 teams, as alerts and responders name them."""
    team = referenced(c.seed, "oncall", "teams", r() % 20)
    return {"id": team["id"], "type": "team", "name": team["name"]}


def _oncall_user(r: Rng, c: Ctx) -> dict[str, str]:
    """``{id, type, name}`` of one of the first 20 users (the name is the username)."""
    user = referenced(c.seed, "oncall", "users", r() % 20)
    return {"id": user["id"], "type": "user", "name": user["username"]}


def _responders(r: Rng, c: Ctx) -> list[dict[str, str]]:
    """Up to two teams or users; the witness variant has one of each."""
    if c.variant == WITNESS:
        return [_oncall_team(r, c), _oncall_user(r, c)]
    return [_oncall_team(r, c) if chance(r, 50) else _oncall_user(r, c) for _ in range(r() % 3)]


def oncall_incidents(r: Rng, c: Ctx) -> Record:
    """Body of an incident."""
    return {
        "id": None,
        "tinyId": None,
        "message": sentence(r, 3, 7),
        "description": maybe(r, sentence(r, 6, 16)),
        "status": pick(r, ("open", "resolved", "closed")),
        "tags": some(r, ("outage", "degraded", "database", "network", "🔥"), 3),
        "priority": pick(r, _PRIORITIES),
        "ownerTeam": maybe(r, _oncall_id(c, "teams", r() % 20)),
        "responders": _responders(r, c),
        "impactedServices": [_oncall_id(c, "services", r() % 20) for _ in range(r() % 3)],
        "extraProperties": {}
        if chance(r, 50)
        else {"region": pick(r, ("eu-west-1", "us-east-1")), "customer": pick(r, LAST)[0]},
        "links": None,
        "impactStartDate": None,
        "createdAt": None,
        "updatedAt": None,
        "isSeen": chance(r, 60),
        "source": maybe(r, f"{person(r)[1]}@{DOMAINS[0]}"),
        "owner": maybe(r, f"{person(r)[1]}@{DOMAINS[0]}"),
        "serviceId": _oncall_id(c, "services", r() % 20),
    }


def oncall_incidents_patch(rec: Record, i: int, key: int, c: Ctx) -> None:
    """Unique ids; newest first."""
    created = created_desc(i, key)
    rec["id"] = uuid_like(key)
    rec["tinyId"] = str(1 + i)
    rec["links"] = _oncall_links("incident", rec["id"])
    rec["impactStartDate"] = iso_ms(created - key % 3_600_000)
    rec["createdAt"] = iso_ms(created)
    rec["updatedAt"] = iso_ms(updated_at(created, key, 2))


def oncall_alerts(r: Rng, c: Ctx) -> Record:
    """Body of an alert; ``snoozedUntil`` holds an offset from ``updatedAt`` until the patch."""
    status = "open" if c.variant == WITNESS else pick(r, ("open", "closed", "closed"))
    snoozed = status == "open" and rare(r, c, 15)
    acknowledged = status == "closed" or chance(r, 30)
    source = pick(r, _INTEGRATION_TYPES)
    owner_team = maybe(r, _oncall_team(r, c))
    teams = [owner_team] if owner_team else []
    if chance(r, 20):
        teams.append(_oncall_team(r, c))
    report: dict[str, Any] = {}
    if acknowledged:
        report["ackTime"] = r() % 600_000
        report["acknowledgedBy"] = f"{person(r)[1]}@{DOMAINS[0]}"
    if status == "closed":
        report["closeTime"] = r() % 3_600_000
        report["closedBy"] = f"{person(r)[1]}@{DOMAINS[0]}"
    return {
        "id": None,
        "tinyId": None,
        "alias": None,
        "message": sentence(r, 3, 8),
        "status": status,
        "acknowledged": acknowledged,
        "isSeen": acknowledged or chance(r, 50),
        "snoozed": snoozed,
        "snoozedUntil": 600_000 + r() % DAY_MS if snoozed else None,
        "count": 1 + r() % 20,
        "lastOccurredAt": None,
        "createdAt": None,
        "updatedAt": None,
        "source": source,
        "owner": maybe(r, f"{person(r)[1]}@{DOMAINS[0]}"),
        "ownerTeamId": owner_team["id"] if owner_team else None,
        "priority": pick(r, _PRIORITIES),
        "teams": teams,
        "responders": _responders(r, c),
        "integration": {
            "id": _oncall_id(c, "integrations", r() % 20),
            "name": f"{source} {r() % 7}",
            "type": source,
        },
        "report": report,
        "tags": some(r, ("prod", "staging", "db", "cpu", "日本"), 3),
        "details": {}
        if chance(r, 40)
        else {"host": f"web-{r() % 40:02d}", "region": pick(r, ("eu", "us", "ap"))},
    }


def oncall_alerts_patch(rec: Record, i: int, key: int, c: Ctx) -> None:
    """Unique ids; newest first (the API's ``sort=createdAt&order=desc``)."""
    created = created_desc(i, key)
    updated = updated_at(created, key, 2)
    rec["id"] = uuid_like(key)
    rec["tinyId"] = str(1 + i)
    rec["alias"] = f"alias-{key:016x}"
    rec["lastOccurredAt"] = rec["updatedAt"] = iso_ms(updated)
    rec["createdAt"] = iso_ms(created)
    snoozed_for = rec["snoozedUntil"]
    if snoozed_for is not None:
        rec["snoozedUntil"] = iso_ms(updated + snoozed_for)
