"""The fast record path: records checked in compiled code, written as the server's own bytes.

Today's path decodes every record into Python objects, checks them and encodes them again.
For a page the typed check (``typed.py``) vouches for, none of that is needed:

* the body is split (msgspec, in C) into the records' byte ranges; the rest of the
  envelope (totals, next links) is decoded as today, so paginators read it unchanged;
* the records are decoded once into the stream's record type, which checks every value
  (drift, conformance, undeclared fields), and are thrown away;
* each record's bookkeeping fields (primary key, replication key) are kept as a small
  dict, the record's *view*, in the body where the record was: page guards, the record
  filter, bookmarks and STATE read the views as they read decoded records (the first and
  last records are decoded whole: a page guard fingerprints a page by them);
* each record is written as the bytes the server sent inside the RECORD envelope
  (``RecordEmitter.write_raws``): values exact by construction, no decode-encode trip.

A page the check cannot vouch for (a value of another type, an undeclared field, JSON that
msgspec refuses: a byte order mark, a lone surrogate, ``NaN``, ``1e400`` in a typed
field; a body that is not UTF-8) goes today's way whole: :meth:`FastPath.split` returns
None and the body is decoded as it always was. A stream whose records need more than
their bytes (:func:`obstacle`) never takes this path.
"""

from __future__ import annotations

import codecs
import dataclasses
import re
from dataclasses import dataclass
from operator import is_
from typing import TYPE_CHECKING, Any, TypeAlias

import msgspec

from tap_generic_rest.http.body import AUTO_SELECTOR, exact_number, loads
from tap_generic_rest.http.selectors import detected_path
from tap_generic_rest.records.typed import CannotTypeError, record_type

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence

    from tap_generic_rest.stream.base import GenericRestStream

_TOP = msgspec.json.Decoder(dict[str, msgspec.Raw] | list[msgspec.Raw])
_OBJECT = msgspec.json.Decoder(dict[str, msgspec.Raw])
_RAWS = msgspec.json.Decoder(list[msgspec.Raw])
_LIST: Any = list  # subscripted with a type made at run time
#: Classes whose values the record type decodes exactly as today's decoder does.
_AS_DECODED = frozenset({type(None), bool, int, str})
#: Keys besides the records past which a body is no longer read as one envelope.
MAX_ENVELOPE_KEYS = 32
#: Bytes of a body checked for UTF-8 at a time (see :func:`is_utf8`).
_UTF8_CHUNK = 1 << 16
#: Undeclared fields past which a stream stops rebuilding its record type for new ones.
MAX_EXTRA_FIELDS = 256

#: Makes a page's views from its records' bytes and its checked records.
Views: TypeAlias = "Callable[[Any, list[Any]], list[dict[str, Any]]]"


@dataclass(frozen=True)
class Split:
    """A page split by the fast path: its body for paginators, its records' views and bytes."""

    #: The decoded body, the records at the selector replaced by their views.
    body: Any
    #: One small dict per record: its bookkeeping fields (:attr:`FastPath.view_fields`).
    views: list[dict[str, Any]]
    #: The bytes of each record, as the server sent them (spacing aside: one line each).
    raws: list[msgspec.Raw]

    def holds(self, records: list[Any]) -> bool:
        """Whether ``records`` (what the stream's selector found) are this split's views.

        The split vouches only for the list it checked; any other is checked as today.
        """
        return len(records) == len(self.views) and all(map(is_, records, self.views))


class FastPath:
    """The fast record path of one schema (and one set of reported undeclared fields)."""

    def __init__(
        self,
        schema: dict[str, Any],
        selector: str,
        view_fields: Sequence[str],
        extra: Iterable[str] = (),
    ) -> None:
        self.extra = frozenset(extra)
        self.record = record_type(schema, self.extra)
        self.view_fields = tuple(dict.fromkeys(view_fields))
        dotted = _dotted(selector)
        self._path = dotted.split(".") if dotted is not None else []
        self._check = msgspec.json.Decoder(_LIST[self.record.type])
        self._views = self._view_maker()
        #: A body of one known shape (records under one key) read in two passes, not three.
        self._envelope: _Envelope | None = None

    def _view_maker(self) -> Views:
        """Views from the checked records' attributes, else the fields decoded exactly."""
        names = self.view_fields
        attributes, classes = self.record.attributes, self.record.classes
        self._views_of_records = all(
            name in attributes and classes[name] <= _AS_DECODED for name in names
        )
        if self._views_of_records:
            return _views_of_attributes(names, [attributes[name] for name in names])
        exact = msgspec.json.Decoder(list[dict[str, Any]], float_hook=exact_number)

        def decoded(array: Any, _: list[Any]) -> list[dict[str, Any]]:
            return [{name: row.get(name) for name in names} for row in exact.decode(array)]

        return decoded

    def split(self, content: bytes) -> Split | None:
        """The page split, or None when the typed check cannot vouch for every record."""
        if not content.isascii() and not is_utf8(content):
            return None  # msgspec does not look into the bytes of what it skips
        try:
            if b"\n" in content or b"\r" in content:  # one line per record in the output
                content = msgspec.json.format(content, indent=-1)
            if self._envelope is not None:
                split = self._envelope.split(content, self._views)
                if split is not None:
                    return split
            top = _TOP.decode(content)
            if isinstance(top, list):  # a bare array is the records
                records = self._check.decode(content)
                views = _whole_ends(self._views(content, records), top)
                return Split(views, views, top)
            found = self._records_of(top)
            if found is None:
                return None
            body, level, name, array = found
            records = self._check.decode(array)
            raws = _RAWS.decode(array)
        except (msgspec.DecodeError, RecursionError):
            return None
        views = level[name] = _whole_ends(self._views(array, records), raws)
        if len(self._path) == 1 and self._views_of_records:
            self._learn(top)
        return Split(body, views, raws)

    def _learn(self, top: dict[str, msgspec.Raw]) -> None:
        """Read bodies with these keys (and those seen before) as one envelope from now on."""
        (name,) = self._path
        known = self._envelope.others if self._envelope is not None else ()
        others = tuple(dict.fromkeys((*known, *(key for key in top if key != name))))
        if (self._envelope is None or others != known) and len(others) <= MAX_ENVELOPE_KEYS:
            self._envelope = _Envelope(name, others, self.record.type)

    def _records_of(self, top: dict[str, msgspec.Raw]) -> tuple[Any, Any, str, Any] | None:
        """The body decoded but for the records; the dict and key that hold them; their bytes."""
        path = self._path or _detected_path(top)
        if not path:  # no selector, and dlt's detector finds no list: one record, or none
            return None
        body = level = _decoded_but(top, path[0])
        raws = top
        for depth, name in enumerate(path):
            raw = raws.get(name)
            if raw is None:
                return None
            if depth == len(path) - 1:
                return (body, level, name, raw) if _opens(raw, b"[") else None
            if not _opens(raw, b"{"):
                return None
            raws = _OBJECT.decode(raw)
            level[name] = inner = _decoded_but(raws, path[depth + 1])
            level = inner
        return None


class _Envelope:
    """A body whose records are under one key, read as one Struct: two passes, not three.

    One pass splits the records (``list[Raw]``) and keeps the other keys' bytes, one checks
    the records; a body with a key not seen before, or without the records, is read the
    general way (``FastPath.split``), which learns its keys.
    """

    def __init__(self, name: str, others: tuple[str, ...], record: Any) -> None:
        self.others = others
        rename = {"records": name} | {f"k{i}": key for i, key in enumerate(others)}
        rest = [(f"k{i}", msgspec.Raw, msgspec.UNSET) for i in range(len(others))]
        split = msgspec.defstruct(
            "Envelope",
            [("records", list[msgspec.Raw]), *rest],
            rename=rename,
            forbid_unknown_fields=True,
        )
        checked = msgspec.defstruct(
            "CheckedEnvelope", [("records", _LIST[record]), *rest], rename=rename, gc=False
        )
        self._split = msgspec.json.Decoder(split)
        self._checked = msgspec.json.Decoder(checked)
        self._name = name

    def split(self, content: bytes, views: Views) -> Split | None:
        """The page split, or None to read it the general way (which may still split it)."""
        try:
            head: Any = self._split.decode(content)
            checked: Any = self._checked.decode(content)
            records = checked.records
        except msgspec.DecodeError:
            return None
        body = {
            key: loads(bytes(raw))
            for key, raw in zip(self.others, _values(head), strict=True)
            if raw is not msgspec.UNSET
        }
        body[self._name] = made = _whole_ends(views(None, records), head.records)
        return Split(body, made, head.records)


def _whole_ends(views: list[dict[str, Any]], raws: list[msgspec.Raw]) -> list[dict[str, Any]]:
    """The views, the first and the last record decoded whole (as today's decoder reads them).

    A page guard fingerprints a page by its first and last records: a page seen again must
    give the same fingerprint whichever way it went.
    """
    if views:
        views[0] = loads(bytes(raws[0]))
        views[-1] = loads(bytes(raws[-1]))
    return views


def _values(head: Any) -> Iterator[Any]:
    """The envelope's other keys' values, in order (``k0``, ``k1``...)."""
    return (getattr(head, f"k{i}") for i in range(len(head.__struct_fields__) - 1))


def is_utf8(content: bytes) -> bool:
    """Whether ``content`` is UTF-8, read :data:`_UTF8_CHUNK` bytes at a time.

    As ``bytes.decode`` says, several times faster: a page decoded whole is one string as
    wide as its widest character (four bytes a character for one emoji), chunks are
    strings as wide as theirs. The incremental decoder carries a character cut in two.
    """
    decode = codecs.getincrementaldecoder("utf-8")().decode
    view = memoryview(content)
    try:
        for start in range(0, len(content), _UTF8_CHUNK):
            decode(view[start : start + _UTF8_CHUNK])
        decode(b"", True)
    except UnicodeDecodeError:
        return False
    return True


def _views_of_attributes(names: tuple[str, ...], attributes: list[str]) -> Views:
    """Views made of the checked records' attributes (decoded as today's decoder would).

    One generated comprehension (``{'id': r.f0, ...} for r in records``): field names enter
    the code as ``repr`` literals, attributes are the record type's own ``f<n>`` names.
    """
    items = ", ".join(
        f"{name!r}: r.{attribute}" for name, attribute in zip(names, attributes, strict=True)
    )
    assert all(attribute.isidentifier() for attribute in attributes)
    code = f"lambda _, records: [{{{items}}} for r in records]"
    made: Views = eval(code, {"__builtins__": {}})  # noqa: S307  # names as repr literals
    return made


def _detected_path(top: dict[str, msgspec.Raw]) -> list[str]:
    """The keys to the list dlt's detector picks (``selectors.detected``), read undecoded."""
    objects: dict[int, dict[str, msgspec.Raw]] = {}

    def as_object(raw: msgspec.Raw) -> dict[str, msgspec.Raw] | None:
        if not _opens(raw, b"{"):
            return None
        if id(raw) not in objects:
            objects[id(raw)] = _OBJECT.decode(raw)
        return objects[id(raw)]

    return list(detected_path(top, as_object, lambda raw: _opens(raw, b"[")) or ())


def _decoded_but(level: dict[str, msgspec.Raw], name: str) -> dict[str, Any]:
    """Every value of ``level`` decoded as today (exact), but ``name``'s (filled in later)."""
    return {key: None if key == name else loads(bytes(raw)) for key, raw in level.items()}


def _opens(raw: msgspec.Raw, bracket: bytes) -> bool:
    return memoryview(raw)[:1] == bracket


class RawRecords:
    """The fast path of one stream's sync: splits its pages, keeps the current page's bytes.

    ``GenericRestStream`` hands it every page it parses (:meth:`took`); the page's views
    are kept alive with their bytes, so a view's ``id`` names its bytes until the next page.
    """

    def __init__(self, stream: GenericRestStream) -> None:
        self.stream = stream
        self._views: list[dict[str, Any]] = []
        self._by_id: dict[int, msgspec.Raw] = {}

    def split(self, content: bytes) -> Split | None:
        """What ``json_body`` calls for this stream's responses (see ``body.mark_split``)."""
        fast = self.fast_path()
        return None if fast is None else fast.split(content)

    def fast_path(self) -> FastPath | None:
        """The fast path for the stream's current schema and reported fields; None: none."""
        stream = self.stream
        emitter = stream.record_emitter  # rebuilt when the schema widens: so is this
        extra = stream.reported_undeclared
        fast = emitter.fast_path
        if fast is not None and fast.extra == extra:
            return fast
        if emitter.fast_path_refused or len(extra) > MAX_EXTRA_FIELDS:
            return None
        try:
            emitter.fast_path = FastPath(
                stream.effective_schema, stream.records_key, view_fields(stream), extra
            )
        except CannotTypeError as exc:
            emitter.fast_path_refused = str(exc)
            return None
        return emitter.fast_path

    def took(self, split: Split | None) -> None:
        """The page being parsed: split (its views' bytes kept), or today's (None)."""
        if split is None:
            self._views, self._by_id = [], {}
            return
        self._views = split.views
        self._by_id = dict(zip(map(id, split.views), split.raws, strict=True))

    def lines(self, records: list[dict[str, Any]]) -> list[msgspec.Raw | None] | None:
        """Each record's bytes (None for one not from the current split page); None: none."""
        if not self._by_id:
            return None
        return list(map(self._by_id.get, map(id, records)))

    def line(self, record: dict[str, Any]) -> msgspec.Raw | None:
        """The record's bytes if it is a view of the current page."""
        return self._by_id.get(id(record))

    def close(self) -> None:
        """Forget the last page."""
        self._views, self._by_id = [], {}


def view_fields(stream: GenericRestStream) -> tuple[str, ...]:
    """The fields the engine reads from records: primary key, replication key."""
    fields = list(stream.primary_keys or ())
    if stream.replication_key:
        fields.append(stream.replication_key)
    return tuple(fields)


def obstacle(stream: GenericRestStream) -> str:
    """Why ``stream``'s pages cannot be written as the server's bytes; empty when they can.

    Called when a sync by page starts (``page_loop``): each reason is a way the records
    must be decoded anyway.
    """
    emitter = stream.record_emitter
    first = _first(stream.records_key)
    reasons = (
        (emitter.reason_slow, emitter.reason_slow),
        (getattr(emitter, "prune_tree", None), "properties are deselected"),
        (stream.post_processes_records, "the stream post-processes its records"),
        (stream.partitions, "the stream is partitioned (partition keys go into its records)"),
        (stream.watch_paginator is not None, "the probe watches the paging"),
        (not stream.primary_keys, "the stream has no primary key (page guards read records)"),
        (any(t.reads(first) for t in _templates(stream.paging)), "the paging reads records"),
    )
    return next((reason for found, reason in reasons if found), "")


#: A JSONPath that names one list by plain keys (``$.data``, ``$.result.items[*]``).
_PLAIN_JSONPATH = re.compile(r"\$((?:\.[A-Za-z_][\w-]*)+)(?:\[\*\])?")


def _dotted(selector: str) -> str | None:
    """The selector as a dotted path (None: the detected list), or CannotTypeError.

    A spec's selector is a JSONPath (``http/selectors.py``); one that names its list by
    plain keys finds the records where the dotted path does. Any other (filters,
    ``$..items``, ``$``) is read the general way.
    """
    if selector == AUTO_SELECTOR:
        return None
    if not selector.startswith("$"):
        return selector
    plain = _PLAIN_JSONPATH.fullmatch(selector)
    if plain is None:
        msg = f"the selector {selector!r} is not a plain path"
        raise CannotTypeError(msg)
    return plain.group(1)[1:]


def _first(selector: str) -> str | None:
    try:
        dotted = _dotted(selector)
    except CannotTypeError:
        return None
    return dotted.split(".", 1)[0] if dotted is not None else None


def _templates(value: Any) -> Iterator[Any]:
    """The templates a paging spec holds (``spec.template.Template``), at any depth."""
    if hasattr(value, "reads") and hasattr(value, "tree"):
        yield value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield from _templates(getattr(value, field.name))
