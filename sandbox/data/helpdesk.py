"""Records of the helpdesk source (Intercom shapes: unix-second times)."""

from __future__ import annotations

from typing import Any

from sandbox.data.common import (
    COUNTRIES,
    DOMAINS,
    LAST,
    T0_MS,
    TEAM_NAMES,
    WITNESS,
    WORDS,
    Ctx,
    Record,
    Rng,
    chance,
    created_at,
    maybe,
    mix64,
    object_id,
    person,
    pick,
    rare,
    sentence,
    some,
    updated_at,
    uuid_like,
)


def _seconds(ms: int) -> int:
    return ms // 1000


def _intercom_list(kind: str, plural: str, ids: list[str]) -> dict[str, Any]:
    return {
        "type": "list",
        "data": [{"type": kind, "id": x, "url": f"/{plural}/{x}"} for x in ids],
        "url": None,
        "total_count": len(ids),
        "has_more": False,
    }


def helpdesk_contacts(r: Rng, c: Ctx) -> Record:
    """Body of a contact: nested lists carry ``total_count`` and ``has_more``."""
    name, slug = person(r)
    country, code, continent, region, city = pick(r, COUNTRIES)
    return {
        "id": None,
        "type": "contact",
        "role": pick(r, ("user", "user", "lead")),
        "external_id": "" if chance(r, 90) else None,
        "email": maybe(r, f"{slug}@{pick(r, DOMAINS)}"),
        "phone": maybe(r, f"+{1 + r() % 98} {r() % 1000:03d} {r() % 10_000_000:07d}"),
        "name": maybe(r, name),
        "owner_id": maybe(r, 400_000 + r() % 100),
        "created_at": None,
        "updated_at": None,
        "signed_up_at": 0 if chance(r, 90) else None,
        "last_seen_at": maybe(r, r() % (200 * 86_400)),
        "custom_attributes": {}
        if chance(r, 50)
        else {"plan": pick(r, ("free", "pro")), "seats": r() % 50},
        "tags": _intercom_list("tag", "tags", [str(7_000_000 + r() % 500) for _ in range(r() % 3)]),
        "companies": _intercom_list(
            "company", "companies", [f"{r():08x}{r():08x}{r():08x}" for _ in range(r() % 2)]
        ),
        "notes": _intercom_list(
            "note", "notes", [str(90_000_000 + r() % 10_000_000) for _ in range(r() % 3)]
        ),
        "location": {
            "type": "location",
            "country": country,
            "region": region,
            "city": city,
            "country_code": code,
            "continent_code": continent,
        },
        "unsubscribed_from_emails": chance(r, 10),
        "workspace_id": "ecahpwf5",
        "email_domain": None,  # follows the e-mail address
        "avatar": {
            "type": "avatar",
            "image_url": maybe(r, f"https://static.example.com/avatars/{r():08x}.png"),
        },
        "social_profiles": {
            "type": "list",
            "data": [
                {
                    "type": "social_profile",
                    "name": network,
                    "url": f"https://{network}.example/{slug}",
                }
                for network in some(r, ("twitter", "facebook", "linkedin"), 2)
            ],
        },
        "has_hard_bounced": chance(r, 3),
        "marked_email_as_spam": chance(r, 2),
        # offsets from creation until the patch adds them
        **{name: maybe(r, r() % (300 * 86_400)) for name in _CONTACT_TIMES},
        "language_override": maybe(r, pick(r, ("en", "de", "fr", "ja", "pt-BR"))),
        **_browser(r),
        **_app(r, c, "android", ("Pixel 8", "Galaxy S23"), ("13", "14")),
        **_app(r, c, "ios", ("iPhone 15", "iPad Air"), ("17.4", "16.7.2")),
    }


_CONTACT_TIMES = (
    "last_replied_at",
    "last_contacted_at",
    "last_email_opened_at",
    "last_email_clicked_at",
    "android_last_seen_at",
    "ios_last_seen_at",
)


def _browser(r: Rng) -> dict[str, str | None]:
    """The browser and operating system a contact last used (none: mobile-only contacts)."""
    if chance(r, 10):
        return dict.fromkeys(("browser", "browser_version", "browser_language", "os"))
    return {
        "browser": pick(r, ("Chrome", "Firefox", "Safari", "Edge")),
        "browser_version": f"{90 + r() % 40}.0.{r() % 6000}.{r() % 200}",
        "browser_language": pick(r, ("en-US", "de-DE", "fr-FR", "ja-JP", "pt-BR")),
        "os": pick(r, ("Mac OS X", "Windows 10", "Linux", "iOS 17.4", "Android 14")),
    }


def _app(
    r: Rng, c: Ctx, platform: str, devices: tuple[str, ...], versions: tuple[str, ...]
) -> dict[str, Any]:
    """The mobile app fields of one platform: all set when the contact uses the app."""
    uses = rare(r, c, 30)
    fields = ("app_name", "app_version", "device", "os_version", "sdk_version")
    if not uses:
        return {f"{platform}_{name}": None for name in fields}
    return {
        f"{platform}_app_name": f"Example {platform.title()}",
        f"{platform}_app_version": f"{1 + r() % 5}.{r() % 10}.{r() % 10}",
        f"{platform}_device": pick(r, devices),
        f"{platform}_os_version": pick(r, versions),
        f"{platform}_sdk_version": f"{10 + r() % 6}.{r() % 10}.0",
    }


def helpdesk_contacts_patch(rec: Record, i: int, key: int, c: Ctx) -> None:
    """Unique id, external id and e-mail; lists link back to the contact."""
    created = _seconds(created_at(i, key))
    rec["id"] = contact_id = object_id(key, created)
    if rec["external_id"] is not None:
        rec["external_id"] = f"ext-{i:07d}"
    email = rec["email"]
    if email is not None:
        local, _, domain = email.partition("@")
        rec["email"] = f"{local}{i}@{domain}"
    rec["created_at"] = created
    rec["updated_at"] = _seconds(updated_at(created * 1000, key))
    if rec["signed_up_at"] is not None:
        rec["signed_up_at"] = created
    if rec["last_seen_at"] is not None:
        rec["last_seen_at"] += created
    for name in _CONTACT_TIMES:
        if rec[name] is not None:
            rec[name] += created
    if rec["ios_app_name"] is None:
        rec["ios_last_seen_at"] = None
    if rec["android_app_name"] is None:
        rec["android_last_seen_at"] = None
    if email is not None:
        rec["email_domain"] = email.partition("@")[2]
    for field in ("tags", "companies", "notes"):
        rec[field] = {**rec[field], "url": f"/contacts/{contact_id}/{field}"}


_INDUSTRIES = ("Software", "Retail", "Finance", "Health", "Éducation", "Manufacturing", "Media")
_PLANS = (("269", "Starter"), ("270", "Pro"), ("271", "Premium"))
_COMPANY_KINDS = ("GmbH", "Inc.", "SARL", "Ltd", "株式会社", "S.A.")


def _tag_list(r: Rng) -> dict[str, Any]:
    """An Intercom ``tag.list`` of up to two tags."""
    tags = [r() % 500 for _ in range(r() % 3)]
    return {
        "type": "tag.list",
        "tags": [
            {"type": "tag", "id": str(7_000_000 + t), "name": WORDS[t % len(WORDS)]} for t in tags
        ],
    }


def _upload(r: Rng) -> dict[str, Any]:
    """An image attachment."""
    n = r() % 100_000
    return {
        "type": "upload",
        "name": f"screenshot-{n}.png",
        "url": f"https://files.example.com/{n}.png",
        "content_type": "image/png",
        "filesize": 1000 + r() % 900_000,
        "width": 640 + r() % 1280,
        "height": 480 + r() % 720,
    }


def helpdesk_companies(r: Rng, c: Ctx) -> Record:
    """Body of a company."""
    plan_id, plan_name = pick(r, _PLANS)
    return {
        "type": "company",
        "id": None,
        "company_id": None,
        "name": f"{pick(r, LAST)[0]} {pick(r, _COMPANY_KINDS)}",
        "created_at": None,
        "updated_at": None,
        # offsets from created_at until the patch: created in the customer's system before,
        # last request after
        "remote_created_at": maybe(r, r() % (400 * 86_400)),
        "last_request_at": maybe(r, r() % (200 * 86_400)),
        "monthly_spend": r() % 20_000,  # whole units: the real API truncates decimals
        "session_count": r() % 5000,
        "user_count": r() % 300,
        "size": maybe(r, r() % 5000),
        "website": maybe(r, f"https://{pick(r, LAST)[1]}.example.com"),
        "industry": maybe(r, pick(r, _INDUSTRIES)),
        "plan": {"type": "plan", "id": plan_id, "name": plan_name},
        "custom_attributes": {}
        if chance(r, 40)
        else {"account_tier": pick(r, ("smb", "mid-market", "enterprise")), "seats": r() % 900},
        "tags": _tag_list(r),
        "app_id": "ecahpwf5",
        "segments": {
            "type": "segment.list",
            "segments": [_segment(r) for _ in range(1 if c.variant == WITNESS else r() % 3)],
        },
    }


def _segment(r: Rng) -> dict[str, Any]:
    """A segment a company is in."""
    created = _seconds(T0_MS) + r() % (300 * 86_400)
    return {
        "type": "segment",
        "id": f"{r():08x}{r():08x}{r():08x}",
        "name": pick(r, ("Active", "New", "Slipping away", "VIP 🌟", "Entreprises")),
        "created_at": created,
        "updated_at": created + r() % 86_400,
        "person_type": pick(r, ("contact", "user")),
        "count": maybe(r, r() % 5000),
    }


def helpdesk_companies_patch(rec: Record, i: int, key: int, c: Ctx) -> None:
    """Unique ids; times growing with the index (the body holds offsets from creation)."""
    created = _seconds(created_at(i, key))
    rec["id"] = object_id(key, created)
    rec["company_id"] = f"company-{i}"
    rec["created_at"] = created
    rec["updated_at"] = _seconds(updated_at(created * 1000, key))
    if rec["remote_created_at"] is not None:
        rec["remote_created_at"] = created - rec["remote_created_at"]
    if rec["last_request_at"] is not None:
        rec["last_request_at"] += created


def helpdesk_teams(r: Rng, c: Ctx) -> Record:
    """Body of a team."""
    return {
        "type": "team",
        "id": None,
        "name": pick(r, TEAM_NAMES),
        "admin_ids": (admins := [400_000 + r() % 100 for _ in range(1 + r() % 4)]),
        "admin_priority_level": maybe(
            r, {"primary_admin_ids": admins[:1], "secondary_admin_ids": admins[1:]}
        ),
        "assignment_limit": maybe(r, 5 + r() % 20),
        "distribution_method": maybe(r, pick(r, ("round_robin", "balanced"))),
    }


def helpdesk_teams_patch(rec: Record, i: int, key: int, c: Ctx) -> None:
    """Numeric string ids, names carrying the index."""
    rec["id"] = str(814_860 + i)
    rec["name"] = f"{rec['name']} {i}"


def helpdesk_conversations(r: Rng, c: Ctx) -> Record:
    """Body of a conversation with its source, contacts, tags and statistics objects.

    Times other than ``created_at`` and ``updated_at`` are offsets until the patch adds them.
    """
    name, slug = person(r)
    state = "snoozed" if c.variant == WITNESS else pick(r, ("open", "closed", "snoozed"))
    assigned = chance(r, 70)
    kind = pick(r, ("conversation", "conversation", "email", "push"))
    reopens = r() % 4
    closed_once = state == "closed" or reopens > 0
    return {
        "type": "conversation",
        "id": None,
        "title": maybe(r, sentence(r, 2, 6)),
        "created_at": None,
        "updated_at": None,
        "waiting_since": r() % 86_400 if state != "closed" and chance(r, 80) else None,
        "snoozed_until": 3600 + r() % (7 * 86_400) if state == "snoozed" else None,
        "open": state == "open",
        "state": state,
        "read": chance(r, 60),
        "priority": pick(r, ("priority", "not_priority", "not_priority")),
        "admin_assignee_id": 400_000 + r() % 100 if assigned else None,
        "team_assignee_id": 814_860 + r() % 20 if chance(r, 50) else None,
        "source": {
            "type": kind,
            "id": str(403_918_320 + r() % 1_000_000),
            "delivered_as": pick(r, ("customer_initiated", "admin_initiated")),
            "subject": maybe(r, sentence(r, 2, 5)),
            "body": f"<p>{sentence(r)}</p>",
            "author": {
                "type": "user",
                "id": f"{r():08x}{r():08x}{r():08x}",
                "name": name,
                "email": f"{slug}@{pick(r, DOMAINS)}",
                "from_ai_agent": False,
                "is_ai_answer": False,
            },
            "attachments": [_upload(r)] if rare(r, c, 15) else [],
            # the page a chat started on; e-mails and pushes have none
            "url": f"https://www.example.com/{pick(r, ('pricing', 'docs', 'aide', ''))}"
            if kind == "conversation"
            else None,
            "redacted": chance(r, 2),
        },
        "contacts": {
            "type": "contact.list",
            "contacts": [
                {
                    "type": "contact",
                    "id": f"{r():08x}{r():08x}{r():08x}",
                    "external_id": maybe(r, str(r())),
                },
            ],
        },
        "tags": _tag_list(r),
        "statistics": {
            "type": "conversation_statistics",
            "time_to_assignment": r() % 3600 if assigned else None,
            "time_to_admin_reply": maybe(r, r() % 86_400),
            "time_to_first_close": 600 + r() % (7 * 86_400) if closed_once else None,
            "first_contact_reply_at": maybe(r, r() % 3600),
            "first_admin_reply_at": maybe(r, r() % 86_400),
            "last_close_at": r() % (20 * 86_400) if closed_once else None,
            "count_reopens": reopens,
            "count_conversation_parts": 1 + r() % 30,
            "time_to_last_close": 900 + r() % (9 * 86_400) if closed_once else None,
            "median_time_to_reply": maybe(r, r() % 7200),
            "first_close_at": r() % (7 * 86_400) if closed_once else None,
            "last_admin_reply_at": maybe(r, r() % (9 * 86_400)),
            "last_closed_by_id": str(400_000 + r() % 100) if closed_once else None,
            "count_assignments": r() % 5 if assigned else 0,
            "handling_time": maybe(r, r() % 5400),
        },
        "teammates": {
            "type": "admin.list",
            "teammates": [
                {"type": "admin", "id": str(400_000 + r() % 100)} for _ in range(1 + r() % 2)
            ],
        },
        "custom_attributes": {}
        if chance(r, 50)
        else {"order_id": f"#{r() % 100_000}", "paid_subscriber": chance(r, 50)},
        "conversation_rating": {
            "rating": 1 + r() % 5,
            "remark": maybe(r, sentence(r, 2, 8)),
            "created_at": r() % 86_400,  # offset from creation until the patch
            "contact": {"type": "contact", "id": f"{r():08x}{r():08x}{r():08x}"},
            "teammate": {"type": "admin", "id": str(400_000 + r() % 100)},
        }
        if rare(r, c, 30)
        else None,
        "first_contact_reply": {
            "created_at": r() % 600,  # offset from creation until the patch
            "type": kind,
            "url": "https://www.example.com/" if kind == "conversation" else None,
        }
        if kind != "push" or c.variant == WITNESS
        else None,
        "sla_applied": {
            "type": "conversation_sla_summary",
            "sla_name": pick(r, ("VIP", "Standard", "Priorité")),
            "sla_status": pick(r, ("hit", "missed", "cancelled", "active")),
        }
        if rare(r, c, 25)
        else None,
        "linked_objects": {
            "type": "list",
            "total_count": (links := 1 if c.variant == WITNESS else r() % 2),
            "has_more": False,
            "data": [
                {
                    "type": "ticket",
                    "id": str(7000 + r() % 1000),
                    "category": pick(r, ("Customer", "Back-office", "Tracker")),
                }
                for _ in range(links)
            ],
        },
        "ai_agent_participated": (ai := rare(r, c, 20)),
        "ai_agent": {
            "source_type": pick(r, ("workflow", "profile", "essentials_plan_setup")),
            "source_title": f"{pick(r, WORDS).title()} workflow",
            "last_answer_type": pick(r, ("ai_answer", "custom_answer")),
            "resolution_state": pick(
                r, ("assumed_resolution", "confirmed_resolution", "routed_to_team", "abandoned")
            ),
            "rating": 1 + r() % 5,
            "rating_remark": maybe(r, sentence(r, 2, 6)),
        }
        if ai
        else None,
    }


_STAT_TIMES = (
    "first_contact_reply_at",
    "first_admin_reply_at",
    "last_close_at",
    "first_close_at",
    "last_admin_reply_at",
)


def helpdesk_conversations_patch(rec: Record, i: int, key: int, c: Ctx) -> None:
    """Numeric string ids; times growing with the index; offsets become times."""
    created_ms = created_at(i, key)
    created = _seconds(created_ms)
    updated = _seconds(updated_at(created_ms, key))
    rec["id"] = str(1_911_149_811 + i)
    rec["created_at"] = created
    rec["updated_at"] = updated
    if rec["waiting_since"] is not None:
        rec["waiting_since"] = min(created + rec["waiting_since"], updated)
    if rec["snoozed_until"] is not None:
        rec["snoozed_until"] += updated
    stats = rec["statistics"]
    times = {name: created + stats[name] for name in _STAT_TIMES if stats[name] is not None}
    rec["statistics"] = {**stats, **times}
    for name in ("conversation_rating", "first_contact_reply"):
        if rec[name] is not None:
            rec[name] = {**rec[name], "created_at": created + rec[name]["created_at"]}


def helpdesk_conversation_parts(r: Rng, c: Ctx) -> Record:
    """Body of a conversation part (comment, note, assignment...).

    ``notified_at`` is an offset from creation until the patch adds it; only assignments have
    ``assigned_to``.
    """
    name, slug = person(r)
    attachments = [_upload(r)] if rare(r, c, 15) else []
    part_type = pick(r, ("comment", "note", "assignment", "close", "open"))
    if c.variant == WITNESS:
        part_type = "assignment"
    assigned_to = None
    if part_type == "assignment":
        team = chance(r, 30)
        assigned_to = {
            "type": "team" if team else "admin",
            "id": str(814_860 + r() % 20 if team else 400_000 + r() % 100),
        }
    return {
        "type": "conversation_part",
        "id": None,
        "part_type": part_type,
        "body": maybe(r, f"<p>{sentence(r, 4, 14)}</p>"),
        "created_at": None,
        "updated_at": None,
        "notified_at": maybe(r, r() % 120),
        "assigned_to": assigned_to,
        "author": {
            "type": (author := pick(r, ("admin", "user", "bot"))),
            "id": str(400_000 + r() % 100),
            "name": name,
            "email": maybe(r, f"{slug}@{pick(r, DOMAINS)}"),
            "from_ai_agent": (ai := author == "bot" and chance(r, 50)),
            "is_ai_answer": ai and chance(r, 70),
        },
        "attachments": attachments,
        "external_id": maybe(r, f"msg-{r():08x}{r():04x}"),
        "redacted": chance(r, 3),
        "state": pick(r, ("open", "closed", "snoozed")),
        "tags": _part_tags(r, c),
        "metadata": {}
        if chance(r, 80)
        else {"quick_reply_uuid": uuid_like(mix64(r() << 32 | r()))},
        "email_message_metadata": {
            "subject": sentence(r, 2, 6),
            "email_address_headers": [
                {"type": "from", "email_address": f"{slug}@{pick(r, DOMAINS)}", "name": name}
            ],
        }
        if rare(r, c, 25)
        else None,
        "event_details": {} if chance(r, 70) else {"action": pick(r, ("merged", "linked"))},
        "app_package_code": maybe(r, pick(r, ("jira-cloud", "salesforce", "slack"))),
    }


def _part_tags(r: Rng, c: Ctx) -> list[dict[str, str]]:
    """Up to two tags (the witness: two)."""
    tags = _tag_list(r)["tags"]
    if c.variant == WITNESS:
        tags = [*tags, {"type": "tag", "id": "7000001", "name": WORDS[1]}][-2:]
    return tags


def helpdesk_conversation_parts_patch(rec: Record, i: int, key: int, c: Ctx) -> None:
    """Numeric string ids; times growing with the index."""
    created = created_at(i, key)
    rec["id"] = str(90_000_000_000 + i)
    rec["created_at"] = created_s = _seconds(created)
    rec["updated_at"] = _seconds(updated_at(created, key, 2))
    if rec["notified_at"] is not None:
        rec["notified_at"] += created_s
