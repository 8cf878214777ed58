"""Deterministic changes to the sandbox's data: insert, update and delete records.

Generated data never changes, so tests of incremental reads (what changed since the last run?)
and of paging under concurrent writes (a record inserted at the front while a client pages) need
a layer on top of it. A :class:`StreamView` is one stream (or stream part) as served now: the
generated records ``0..size-1`` in their order, minus deleted ones, plus inserted ones, with
per-record field overrides. It is lazy: until the first mutation it is the generated range, so
streams nobody changes cost nothing extra.

Every change is applied to a copy and published as one new immutable :class:`Snapshot`, so a
page being rendered in another thread sees the data either before or after a mutation, never
half of it; the snapshot's ``version`` is part of the page cache key.

Times are deterministic: the sandbox keeps a mutation clock that starts after every generated
time and advances one minute per mutation, so a changed or new record is always the newest.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from sandbox.data import iso_ms

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from sandbox.data import Record, StreamData

CLOCK_STEP_MS = 60_000
"""How far the mutation clock advances per applied mutation."""


@dataclass(frozen=True, slots=True)
class Touch:
    """Which fields of a stream a mutation sets: the times it stamps and the field it edits.

    ``updated`` fields get the mutation time on updates and inserts, ``created`` fields on
    inserts only; ``edit`` (a string field) changes on every update, so an update is visible
    in the data, not only in its time. A time is written in the type the generator uses for
    that field: epoch seconds for integers, ISO 8601 with milliseconds otherwise.
    """

    updated: tuple[str, ...] = ()
    created: tuple[str, ...] = ()
    edit: str = "name"


TOUCHES: dict[tuple[str, str], Touch] = {
    ("chat", "teams"): Touch(("_updatedAt",), ("createdAt",)),
    ("chat", "rooms"): Touch(("_updatedAt",), ("ts",), "topic"),
    ("chat", "channels"): Touch(("_updatedAt",), ("ts",), "topic"),
    ("chat", "roles"): Touch(("_updatedAt",), (), "description"),
    ("chat", "subscriptions"): Touch(("_updatedAt",), ("ts",), "fname"),
    ("chat", "users"): Touch(("_updatedAt",), ("createdAt",)),
    ("helpdesk", "conversations"): Touch(("updated_at",), ("created_at",), "title"),
    ("helpdesk", "contacts"): Touch(("updated_at",), ("created_at",)),
    ("helpdesk", "conversation_parts"): Touch(("updated_at",), ("created_at",), "body"),
    ("helpdesk", "teams"): Touch(),
    ("helpdesk", "companies"): Touch(("updated_at",), ("created_at",)),
    ("tracker", "application_roles"): Touch(),
    ("tracker", "avatars"): Touch(edit="fileName"),
    ("tracker", "boards"): Touch(),
    ("statuspage", "pages"): Touch(("updated_at",), ("created_at",)),
    ("statuspage", "subscribers"): Touch((), ("created_at",), "email"),
    ("oncall", "users"): Touch((), ("createdAt",), "fullName"),
    ("oncall", "teams"): Touch(),
    ("oncall", "services"): Touch(),
    ("oncall", "integrations"): Touch(),
    ("oncall", "incidents"): Touch(("updatedAt",), ("createdAt",), "message"),
    ("oncall", "alerts"): Touch(("updatedAt", "lastOccurredAt"), ("createdAt",), "message"),
}
"""How updates and inserts change each stream's records."""


class MutationError(ValueError):
    """A mutation that names an unknown stream or a position outside the data."""


@dataclass(frozen=True, slots=True)
class Mutation:
    """One change to one stream (or part): updates, deletions, then insertions.

    Positions (``update``, ``delete``, ``at``) index the stream's records *before* this
    mutation, in served order. ``insert`` new records go before the record at ``at`` (0: the
    front; ``None`` or the length: the end). ``after_requests`` makes it a scheduled mutation,
    applied right after the stream's N-th successfully served page (to change data while a
    client pages it).
    """

    source: str
    stream: str
    part: str = ""
    insert: int = 0
    at: int | None = 0
    update: tuple[int, ...] = ()
    delete: tuple[int, ...] = ()
    after_requests: int | None = None

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> Mutation:
        """Build from a control request's JSON object (raises MutationError when malformed)."""
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(body) - known)
        if unknown:
            raise MutationError(f"unknown mutation fields {unknown}; known: {sorted(known)}")
        try:
            return cls(
                source=str(body["source"]),
                stream=str(body["stream"]),
                part=str(body.get("part", "")),
                insert=_count(body.get("insert", 0), "insert"),
                at=None if body.get("at", 0) is None else _count(body.get("at", 0), "at"),
                update=tuple(_count(p, "update") for p in body.get("update", ())),
                delete=tuple(_count(p, "delete") for p in body.get("delete", ())),
                after_requests=None
                if body.get("after_requests") is None
                else _count(body["after_requests"], "after_requests"),
            )
        except KeyError as exc:
            raise MutationError(f"a mutation needs {exc.args[0]!r}") from None
        except TypeError:
            raise MutationError("update and delete must be lists of positions") from None


def _count(value: Any, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise MutationError(f"{name} must be a non-negative integer, got {value!r}")
    return value


@dataclass(frozen=True, slots=True)
class Removal:
    """A deleted record: its key fields and when it was deleted (for ``remove`` lists)."""

    record: Record
    deleted_ms: int


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A stream's data at one version; never modified once published."""

    size: int  # generated records, before any mutation
    order: tuple[int, ...] | None = None  # record ids in served order; None: range(size)
    overrides: Mapping[int, Mapping[str, Any]] = field(default_factory=dict)
    removed: tuple[Removal, ...] = ()
    next_id: int = -1  # the id of the next inserted record (ids are generator indexes)
    version: int = 0

    def __len__(self) -> int:
        return self.size if self.order is None else len(self.order)

    def ids(self, start: int = 0, stop: int | None = None) -> Sequence[int]:
        """Record ids at positions ``start`` to ``stop`` (clipped)."""
        stop = len(self) if stop is None else min(stop, len(self))
        if self.order is None:
            return range(start, max(start, stop))
        return self.order[start:stop]

    def rows(self, data: StreamData, start: int, stop: int) -> list[Record]:
        """The records at positions ``start`` to ``stop``, as fresh dicts."""
        return self.rows_for(data, self.ids(start, stop))

    def rows_for(self, data: StreamData, ids: Sequence[int]) -> list[Record]:
        """The records with these ids, in this order (consecutive ids rendered in one go)."""
        if isinstance(ids, range):
            rows = data.rows(ids.start, ids.stop)
        else:
            rows = []
            run = 0
            while run < len(ids):
                end = run + 1
                while end < len(ids) and ids[end] == ids[end - 1] + 1:
                    end += 1
                rows.extend(data.rows(ids[run], ids[end - 1] + 1))
                run = end
        overrides = self.overrides
        if overrides:
            for rec, ident in zip(rows, ids, strict=True):
                changed = overrides.get(ident)
                if changed:
                    rec.update(changed)
        return rows


class StreamView:
    """One stream (or part) as served now: generated data plus the mutations applied to it."""

    __slots__ = ("data", "snapshot", "touch")

    def __init__(self, data: StreamData, size: int, touch: Touch) -> None:
        self.data = data
        self.touch = touch
        self.snapshot = Snapshot(size, next_id=size)

    def __len__(self) -> int:
        return len(self.snapshot)

    def rows(self, start: int, stop: int) -> list[Record]:
        """Records at positions ``start`` to ``stop`` of the current snapshot."""
        return self.snapshot.rows(self.data, start, stop)

    def apply(self, mutation: Mutation, now_ms: int) -> dict[str, list[Record]]:
        """Apply one mutation at time ``now_ms``; returns the records it touched.

        ``inserted`` and ``updated`` are the records as served from now on, ``deleted`` as they
        were served before. The caller serialises calls (one mutation at a time).
        """
        snap = self.snapshot
        length = len(snap)
        for name, positions in (("update", mutation.update), ("delete", mutation.delete)):
            bad = [p for p in positions if p >= length]
            if bad:
                raise MutationError(
                    f"{name} positions {bad} are outside {mutation.source}.{mutation.stream}"
                    f" ({length} records)"
                )
        at = length if mutation.at is None else mutation.at
        if at > length:
            raise MutationError(f"insert position {at} is past the end ({length} records)")
        order = list(snap.ids())
        overrides = dict(snap.overrides)
        touch = self.touch
        updated_ids = [order[p] for p in dict.fromkeys(mutation.update)]
        for ident, rec in zip(updated_ids, snap.rows_for(self.data, updated_ids), strict=True):
            changed = dict(overrides.get(ident, {}))
            changed.update(_stamps(rec, touch.updated, now_ms))
            if touch.edit:
                old = rec.get(touch.edit)
                changed[touch.edit] = f"{old} (edited)" if isinstance(old, str) else "edited"
            overrides[ident] = changed
        deleted_ids = [order[p] for p in dict.fromkeys(mutation.delete)]
        deleted_rows = snap.rows_for(self.data, deleted_ids)
        new_ids = range(snap.next_id, snap.next_id + mutation.insert)
        for ident, rec in zip(new_ids, self.data.rows(new_ids.start, new_ids.stop), strict=True):
            overrides[ident] = _stamps(rec, touch.updated + touch.created, now_ms)
        gone = set(deleted_ids)
        order = [
            *(i for i in order[:at] if i not in gone),
            *new_ids,
            *(i for i in order[at:] if i not in gone),
        ]
        for ident in gone:
            overrides.pop(ident, None)
        removed = snap.removed + tuple(Removal(rec, now_ms) for rec in deleted_rows)
        self.snapshot = new = replace(
            snap,
            order=tuple(order),
            overrides=overrides,
            removed=removed,
            next_id=snap.next_id + mutation.insert,
            version=snap.version + 1,
        )
        return {
            "inserted": new.rows_for(self.data, new_ids),
            "updated": new.rows_for(self.data, [i for i in updated_ids if i not in gone]),
            "deleted": deleted_rows,
        }


def _stamps(rec: Record, fields: tuple[str, ...], now_ms: int) -> dict[str, Any]:
    """``now_ms`` in each field's own form: epoch seconds for integers, else ISO 8601."""
    out: dict[str, Any] = {}
    for name in fields:
        old = rec.get(name)
        is_int = isinstance(old, int) and not isinstance(old, bool)
        out[name] = now_ms // 1000 if is_int else iso_ms(now_ms)
    return out
