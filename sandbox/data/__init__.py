"""Deterministic record generators for the five sandbox sources.

Record ``i`` of a stream is a pure function of ``(seed, source, stream, part, i)``, so any page can
be rendered without generating the records before it, and :meth:`StreamData.rows` returns exactly
what the server serves.

Speed: building nested dicts in Python costs far more than drawing random numbers, so each record
is made of two halves. The *body* (names, texts, nested objects: the expensive, random part) is
built once per variant ``i % VARIANTS`` and cached; the *patch* then fills the fields that must be
unique or ordered per record (primary keys, names carrying the index, timestamps growing with the
index) from the record's 64-bit key. A shallow copy plus a patch costs a few microseconds. Bodies
set the patched fields to None as placeholders, which keeps the field order of the real APIs.
Patches never mutate a body's nested objects; they replace them.

Primary keys come from a 64-bit bijection of ``(stream salt, i)``: unique for any stream size.

Every property the tap's schemas declare is generated, nested ones included, so the sandbox looks
like the real APIs the schemas describe. Optional fields are null about one time in ten; fields
that only make sense in a rare state (a snoozed alert's ``snoozedUntil``, a quarantined
subscriber's ``quarantined_at``) follow that state, which the *witness* variant always has, so any
sample of the first records shows every field with a value.
"""

from sandbox.data.common import Record, after_all_ms, iso_ms, stable_hash
from sandbox.data.streams import GENERATORS, LEAN, StreamData

__all__ = ["GENERATORS", "LEAN", "Record", "StreamData", "after_all_ms", "iso_ms", "stable_hash"]
