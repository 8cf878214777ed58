"""A resource's incremental settings and keys, read as dlt reads them.

dlt's incremental options the tap cannot honour are refused unless they hold dlt's default
(``last_value_func: min`` would need the bookmark to move backwards).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tap_generic_rest.spec.values import fail, jsonpath, nonempty

if TYPE_CHECKING:
    from collections.abc import Mapping

    from tap_generic_rest.spec.values import Resolver

#: dlt's incremental options the tap reads only at their defaults (anything else refused).
_INCREMENTAL_DEFAULTS: dict[str, Any] = {
    "last_value_func": "max",
    "range_start": "closed",
    "range_end": "open",
    "lag": 0,
    "allow_external_schedulers": False,
    # A record without the cursor field is emitted (dlt's default raises).
    "on_cursor_value_missing": "include",
}


def incremental_spec(raw: Any, where: str, resolve: Resolver) -> dict[str, Any]:
    """Dlt's incremental: the cursor field, where it starts, and the window's end."""
    key = f"{where}: endpoint.incremental"
    if not isinstance(raw, dict):
        raise fail(key, "must be an object with a cursor_path")
    field = jsonpath(raw.get("cursor_path"), f"{key}.cursor_path")
    if not field or "." in field:
        raise fail(f"{key}.cursor_path", "must name a top-level field of the records")
    for name, default in _INCREMENTAL_DEFAULTS.items():
        if raw.get(name) is not None and raw[name] != default:
            raise fail(f"{key}.{name}", f"only {default!r} (dlt's default) is supported")
    start_param, end_param = raw.get("start_param"), raw.get("end_param")
    initial = resolve(raw.get("initial_value"), f"{key}.initial_value")
    end = resolve(raw.get("end_value"), f"{key}.end_value")
    if end is not None and initial is None:
        raise fail(f"{key}.end_value", "needs an initial_value (as in dlt)")
    return {
        "replication_key": field,
        "initial_value": initial,
        "end_value": end,
        "start_param": None if start_param is None else nonempty(start_param, f"{key}.start_param"),
        "end_param": None if end_param is None else nonempty(end_param, f"{key}.end_param"),
    }


def record_keys(raw: Mapping[str, Any], where: str) -> dict[str, Any]:
    """The key properties and dlt's write disposition (``append`` declares no keys)."""
    key = raw.get("primary_key")
    if key is None:
        primary: tuple[str, ...] = ()
    elif isinstance(key, str):
        primary = (key,)
    elif isinstance(key, list) and all(isinstance(k, str) for k in key):
        primary = tuple(key)
    else:
        raise fail(where, "primary_key: must be a name or a list of names")
    disposition = raw.get("write_disposition", "append")
    if isinstance(disposition, dict):
        disposition = disposition.get("disposition", "append")
    if disposition not in ("append", "merge", "replace"):
        raise fail(where, f"write_disposition: unknown '{disposition}' (append, merge, replace)")
    return {
        "write_disposition": disposition,
        "primary_keys": () if disposition == "append" else primary,
    }
