"""What real APIs send on a bad day, on request: odd JSON and values of the wrong type.

* ``tricky_values``: every 3rd record (by position in the stream) carries an undeclared
  field :data:`TRICKY_FIELD` with values a fast JSON decoder gets wrong or refuses: integers
  beyond 64 bits, numbers with more digits than a double holds, a number below a double's
  range; on every other one also a lone UTF-16 surrogate (Node servers write one when they
  cut an emoji in half), and then the body starts with a UTF-8 byte order mark. Python's
  ``json`` reads all of it.
* ``drift``: every 4th record (position 0, 4, 8...) holds a value of another type than its
  schema declares in one boolean, one object and one array field of the stream (the first
  non-key ones in ``schemas/<source>/<stream>.json``): ``"no"`` in a boolean, ``false`` in an
  object, an object in an array; as the real Opsgenie sends ``advanced: false`` where a
  schema said object.

Both are rendered into the page bytes (the sandbox's serialiser cannot write a lone
surrogate or a raw 20-digit number), so clients see exactly these bytes.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

TRICKY_FIELD = "_sandbox_tricky"
"""The undeclared field carrying the tricky values."""

#: Placeholders (JSON strings in the serialised page) and the JSON text that replaces them.
_TRICKY_TEXT = {
    '"@@big@@"': "18446744073709551617",
    '"@@negbig@@"': "-123456789012345678901234567890",
    '"@@pi@@"': "3.14159265358979323846264338327950288",
    '"@@tiny@@"': "1.5e-400",
    '"@@money@@"': "12345678901234567.89",
    '"@@cut@@"': '"cut \\ud83d emoji"',
    '"@@lone@@"': '"\\udc00"',
}
BOM = b"\xef\xbb\xbf"
_SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"
_KEYS = frozenset({"id", "_id", "key"})


def tricky_record(record: dict[str, Any], position: int) -> dict[str, Any]:
    """``record`` with :data:`TRICKY_FIELD` on every 3rd position (a copy; else itself).

    Every other such record holds numbers only, so that some pages are well-formed for
    any decoder and only their numbers need care; the others add the odd strings.
    """
    if position % 3:
        return record
    placeholders = {name.strip('"').strip("@"): name.strip('"') for name in _TRICKY_TEXT}
    strings = ("cut", "lone")
    values: dict[str, Any] = {k: v for k, v in placeholders.items() if k not in strings}
    values["nested"] = [placeholders["big"], {"pi": placeholders["pi"]}]
    if (position // 3) % 2:
        values.update((k, placeholders[k]) for k in strings)
    return {**record, TRICKY_FIELD: values}


def render_tricky(body: bytes) -> bytes:
    """The serialised page with the placeholders replaced.

    A page holding the odd strings starts with a byte order mark; pages of numbers only
    stay well-formed JSON for any decoder.
    """
    text = body.decode()
    odd_strings = '"@@cut@@"' in text
    for placeholder, replacement in _TRICKY_TEXT.items():
        text = text.replace(placeholder, replacement)
    return (BOM if odd_strings else b"") + text.encode()


@cache
def drift_fields(source: str, stream: str) -> tuple[tuple[str, Any], ...]:
    """The fields ``drift`` changes in a stream, with the wrong-typed value each gets."""
    path = _SCHEMAS / source / f"{stream}.json"
    if not path.is_file():
        return ()
    properties = json.loads(path.read_text()).get("properties", {})
    wrong = {"boolean": "no", "object": False, "array": {"not": "a list"}}
    chosen: dict[str, tuple[str, Any]] = {}
    for name, prop in properties.items():
        types = prop.get("type", [])
        types = [types] if isinstance(types, str) else types
        kinds = [t for t in types if t != "null"]
        if name in _KEYS or len(kinds) != 1 or kinds[0] not in wrong:
            continue
        chosen.setdefault(kinds[0], (name, wrong[kinds[0]]))
    return tuple(chosen.values())


def drift_record(record: dict[str, Any], position: int, source: str, stream: str) -> dict[str, Any]:
    """``record`` with wrong-typed values on every 4th position from 0 (a copy; else itself)."""
    fields = drift_fields(source, stream)
    if position % 4 or not fields:
        return record
    return {**record, **dict(fields)}
