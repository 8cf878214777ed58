"""Each stream's body and patch, and :class:`StreamData`, which renders any record by index."""

from __future__ import annotations

from dataclasses import replace
from functools import cache
from hashlib import blake2b

from sandbox.data.chat import (
    chat_channels,
    chat_roles,
    chat_roles_patch,
    chat_rooms,
    chat_rooms_patch,
    chat_subscriptions,
    chat_subscriptions_patch,
    chat_teams,
    chat_teams_patch,
    chat_users,
    chat_users_patch,
)
from sandbox.data.common import (
    EXTRA_FIELD,
    VARIANTS,
    Body,
    Ctx,
    Patch,
    Record,
    mix64,
    stream_salt,
    word_stream,
)
from sandbox.data.helpdesk import (
    helpdesk_companies,
    helpdesk_companies_patch,
    helpdesk_contacts,
    helpdesk_contacts_patch,
    helpdesk_conversation_parts,
    helpdesk_conversation_parts_patch,
    helpdesk_conversations,
    helpdesk_conversations_patch,
    helpdesk_teams,
    helpdesk_teams_patch,
)
from sandbox.data.oncall import (
    oncall_alerts,
    oncall_alerts_patch,
    oncall_incidents,
    oncall_incidents_patch,
    oncall_integrations,
    oncall_named_patch,
    oncall_services,
    oncall_services_patch,
    oncall_teams,
    oncall_teams_patch,
    oncall_users,
    oncall_users_patch,
)
from sandbox.data.statuspage import (
    statuspage_pages,
    statuspage_pages_patch,
    statuspage_subscribers,
    statuspage_subscribers_patch,
)
from sandbox.data.tracker import (
    tracker_application_roles,
    tracker_application_roles_patch,
    tracker_avatars,
    tracker_avatars_patch,
    tracker_boards,
    tracker_boards_patch,
)

GENERATORS: dict[tuple[str, str], tuple[Body, Patch]] = {
    ("chat", "teams"): (chat_teams, chat_teams_patch),
    ("chat", "rooms"): (chat_rooms, chat_rooms_patch),
    ("chat", "channels"): (chat_channels, chat_rooms_patch),
    ("chat", "roles"): (chat_roles, chat_roles_patch),
    ("chat", "subscriptions"): (chat_subscriptions, chat_subscriptions_patch),
    ("chat", "users"): (chat_users, chat_users_patch),
    ("helpdesk", "conversations"): (helpdesk_conversations, helpdesk_conversations_patch),
    ("helpdesk", "contacts"): (helpdesk_contacts, helpdesk_contacts_patch),
    ("helpdesk", "conversation_parts"): (
        helpdesk_conversation_parts,
        helpdesk_conversation_parts_patch,
    ),
    ("helpdesk", "teams"): (helpdesk_teams, helpdesk_teams_patch),
    ("helpdesk", "companies"): (helpdesk_companies, helpdesk_companies_patch),
    ("tracker", "application_roles"): (tracker_application_roles, tracker_application_roles_patch),
    ("tracker", "avatars"): (tracker_avatars, tracker_avatars_patch),
    ("tracker", "boards"): (tracker_boards, tracker_boards_patch),
    ("statuspage", "pages"): (statuspage_pages, statuspage_pages_patch),
    ("statuspage", "subscribers"): (statuspage_subscribers, statuspage_subscribers_patch),
    ("oncall", "users"): (oncall_users, oncall_users_patch),
    ("oncall", "teams"): (oncall_teams, oncall_teams_patch),
    ("oncall", "services"): (oncall_services, oncall_services_patch),
    ("oncall", "integrations"): (oncall_integrations, oncall_named_patch),
    ("oncall", "incidents"): (oncall_incidents, oncall_incidents_patch),
    ("oncall", "alerts"): (oncall_alerts, oncall_alerts_patch),
}
"""Body and patch per (source, stream)."""

#: Lean shapes (``Sandbox(lean=True)``): per stream, the fields a lean record keeps, scalars
#: and one small object. A lean contact is about 650 bytes and 27 values, the shape of many
#: real APIs' list endpoints, where the per-record cost of a tap shows most.
LEAN: dict[tuple[str, str], tuple[str, ...]] = {
    ("helpdesk", "contacts"): (
        *("id", "type", "role", "external_id", "email", "phone", "name", "owner_id"),
        *("created_at", "updated_at", "signed_up_at", "last_seen_at", "location"),
        *("unsubscribed_from_emails", "workspace_id", "email_domain", "has_hard_bounced"),
        *("marked_email_as_spam", "last_replied_at", "last_contacted_at", "browser"),
    )
}


class _Bodies:
    """The cached bodies of one stream, built on first use (shared by all Sandboxes)."""

    def __init__(self, seed: int, source: str, stream: str, part: str) -> None:
        self.prefix = blake2b(f"{seed}:{source}:{stream}:{part}:".encode(), digest_size=64)
        self.slots: list[Record | None] = [None] * VARIANTS


@cache
def _bodies(seed: int, source: str, stream: str, part: str) -> _Bodies:
    return _Bodies(seed, source, stream, part)


class StreamData:
    """Generates the records of one stream (or one part of a sliced stream) by index."""

    __slots__ = ("_bodies", "_ctx", "_extra", "_keep", "_make", "_patch", "stream_salt")

    def __init__(
        self,
        seed: int,
        source: str,
        stream: str,
        part: str = "",
        part_index: int = 0,
        *,
        undeclared_fields: bool = True,
        lean: bool = False,
    ) -> None:
        self._ctx = Ctx(seed, source, stream, part, part_index)
        self._keep = LEAN.get((source, stream)) if lean else None
        self._make, self._patch = GENERATORS[(source, stream)]
        self._bodies = _bodies(seed, source, stream, part)
        self.stream_salt = stream_salt(seed, source, stream)
        self._extra = undeclared_fields

    def _body(self, v: int) -> Record:
        # Two threads may build the same body at once; both build equal dicts, so no lock.
        base = self._bodies.prefix.copy()
        base.update(v.to_bytes(4, "little"))
        body = self._make(word_stream(base).__next__, replace(self._ctx, variant=v))
        self._bodies.slots[v] = body
        return body

    def rows(self, start: int, stop: int) -> list[Record]:
        """Records ``start`` (inclusive) to ``stop`` (exclusive), as fresh dicts.

        With ``undeclared_fields``, every 8th record carries :data:`EXTRA_FIELD`.
        """
        slots, patch, ctx, salt = self._bodies.slots, self._patch, self._ctx, self.stream_salt
        extra, mask = self._extra, VARIANTS - 1
        out = []
        for i in range(start, stop):
            body = slots[i & mask] or self._body(i & mask)
            record = body.copy()
            patch(record, i, mix64(salt | i), ctx)
            if self._keep is not None:
                record = {name: record[name] for name in self._keep}
            if extra and i & 7 == 1:
                record[EXTRA_FIELD] = f"not in any schema ({i})"
            out.append(record)
        return out
