"""Records of the statuspage source (Atlassian Statuspage shapes)."""

from __future__ import annotations

from typing import Any

from sandbox.data.common import (
    COUNTRIES,
    DAY_MS,
    DOMAINS,
    LAST,
    T0_MS,
    TIME_ZONES,
    WITNESS,
    WORDS,
    Ctx,
    Record,
    Rng,
    base36_id,
    chance,
    created_at,
    iso_ms,
    later_ms,
    maybe,
    person,
    pick,
    rare,
    sentence,
    updated_at,
)

_COLOURS = (
    "css_body_background_color",
    "css_font_color",
    "css_light_font_color",
    "css_greens",
    "css_yellows",
    "css_oranges",
    "css_blues",
    "css_reds",
    "css_border_color",
    "css_graph_color",
    "css_link_color",
    "css_no_data",
)


_LOGOS = ("favicon_logo", "transactional_logo", "hero_cover", "email_logo", "twitter_logo")


def _logo(r: Rng, field: str) -> dict[str, Any]:
    """An uploaded image, as the live API describes one."""
    n = r() % 1_000_000
    stamp = T0_MS + r() % (900 * DAY_MS)
    return {
        "updated_at": iso_ms(stamp),
        "size": 2_000 + r() % 200_000,
        "url": f"https://dka575ofm4ao0.cloudfront.net/pages-{field}/original/{n}.png",
        "normal_url": f"https://dka575ofm4ao0.cloudfront.net/pages-{field}/normal/{n}.png",
        "retina_url": f"https://dka575ofm4ao0.cloudfront.net/pages-{field}/retina/{n}.png",
    }


def statuspage_pages(r: Rng, c: Ctx) -> Record:
    """Body of a status page."""
    _, _, _, state, city = pick(r, COUNTRIES)
    record: Record = {
        "id": None,
        "name": f"{pick(r, LAST)[0]} {pick(r, ('Status', 'Cloud', 'API', 'Statut'))}",
        "page_description": maybe(r, sentence(r)),
        "headline": maybe(r, sentence(r, 2, 5)),
        "branding": maybe(r, pick(r, ("basic", "basic", "premium"))),
        "subdomain": pick(r, LAST)[1],
        "domain": "" if chance(r, 90) else None,
        "url": None,
        "support_url": "" if chance(r, 90) else None,
        "time_zone": pick(r, TIME_ZONES),
        "city": maybe(r, city),
        "state": maybe(r, state),
        "country": maybe(r, pick(r, COUNTRIES)[0]),
        "activity_score": round((r() % 100_000) / 100, 2),
        "allow_page_subscribers": chance(r, 80),
        "allow_incident_subscribers": chance(r, 80),
        "allow_email_subscribers": maybe(r, chance(r, 80)),
        "allow_sms_subscribers": chance(r, 40),
        "allow_rss_atom_feeds": chance(r, 60),
        "allow_webhook_subscribers": chance(r, 50),
        "notifications_from_email": "" if chance(r, 90) else None,
        "notifications_email_footer": maybe(r, f"{sentence(r, 4, 10)}. © {pick(r, LAST)[0]}"),
        "twitter_username": "" if chance(r, 90) else None,
        "hidden_from_search": chance(r, 10),
        "viewers_must_be_team_members": chance(r, 10),
        "ip_restrictions": maybe(
            r, f"192.0.2.0/24,198.51.100.{r() % 256},2001:db8::/{32 + 16 * (r() % 3)}"
        ),
    }
    for field in _COLOURS:
        record[field] = f"#{r() & 0xFFFFFF:06X}"
    for field in _LOGOS:
        record[field] = _logo(r, field) if rare(r, c, 40) else None
    record["created_at"] = None
    record["updated_at"] = None
    return record


def statuspage_pages_patch(rec: Record, i: int, key: int, c: Ctx) -> None:
    """Unique id and subdomain (the domain, URLs, sender and Twitter handle follow it)."""
    created = created_at(i, key)
    rec["id"] = base36_id(key)
    rec["subdomain"] = subdomain = f"{rec['subdomain']}{i}"
    if rec["domain"] is not None:
        rec["domain"] = f"status.{subdomain}.example.com"
    rec["url"] = url = f"https://{subdomain}.example.com"
    if rec["support_url"] is not None:
        rec["support_url"] = f"{url}/support"
    if rec["notifications_from_email"] is not None:
        rec["notifications_from_email"] = f"noreply@{subdomain}.example.com"
    if rec["twitter_username"] is not None:
        rec["twitter_username"] = f"{subdomain}status"[:15]
    rec["created_at"] = iso_ms(created)
    rec["updated_at"] = iso_ms(updated_at(created, key))


def statuspage_subscribers(r: Rng, c: Ctx) -> Record:
    """Body of a subscriber; which contact field is set depends on ``mode``."""
    modes = ("email", "email", "email", "sms", "webhook", "slack")
    mode = "slack" if c.variant == WITNESS else pick(r, modes)
    _, slug = person(r)
    phone = f"{r() % 1000:03d}{r() % 10_000_000:07d}"
    quarantined = rare(r, c, 5)
    stamp = T0_MS + r() % (900 * DAY_MS)
    sms = mode == "sms"
    slack = mode == "slack"
    return {
        "id": None,
        "mode": mode,
        "email": f"{slug}@{pick(r, DOMAINS)}" if mode in ("email", "webhook") else None,
        "endpoint": f"https://hooks.example.com/{r() % 100_000}" if mode == "webhook" else None,
        "phone_number": phone if sms else None,
        "phone_country": pick(r, ("us", "de", "fr", "jp")) if sms else None,
        "display_phone_number": f"+1 {phone[:3]}-{phone[3:6]}-{phone[6:]}" if sms else None,
        "skip_confirmation_notification": chance(r, 20),
        "components": [base36_id(c.ref("components", r() % 30)) for _ in range(r() % 3)],
        "quarantined_at": iso_ms(stamp) if quarantined else None,
        "purge_at": iso_ms(later_ms(r, stamp, 90)) if quarantined else None,
        "created_at": None,
        "obfuscated_channel_name": f"#*******{pick(r, WORDS)[-2:]}" if slack else None,
        "workspace_name": pick(r, ("Atlassian", "Acme", "Équipe")) if slack else None,
        "page_access_user_id": base36_id(c.ref("page_access_users", r() % 50))
        if rare(r, c, 10)
        else None,
    }


def statuspage_subscribers_patch(rec: Record, i: int, key: int, c: Ctx) -> None:
    """Unique id and e-mail address."""
    rec["id"] = base36_id(key)
    email = rec["email"]
    if email is not None:
        local, _, domain = email.partition("@")
        rec["email"] = f"{local}{i}@{domain}"
    rec["created_at"] = iso_ms(created_at(i, key))
