"""A resource's incremental settings and keys: dlt's, and the tap's extensions.

dlt's incremental options the tap cannot honour are refused unless they hold dlt's default
(``last_value_func: min`` would need the bookmark to move backwards; ``primary_key`` and
``row_order`` steer dlt's deduplication and early stop, which the tap does not do).

dlt's ``convert`` is a callable that turns the start value into the form the API wants; a
spec file cannot hold one, so the tap reads ``start_value_format`` instead (a time format
name or a ``strftime`` pattern, with a ``timezone``). A dotted ``cursor_path``
(``fields.updated``) names a nested field: Singer's replication key is a top-level field, so
the value is copied to the top level under its last segment (``updated``), as peers of the
tap do for Jira's issues.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tap_generic_rest.spec.values import fail, jsonpath, nonempty
from tap_generic_rest.stream.replication import StartValueFormat

if TYPE_CHECKING:
    from collections.abc import Mapping

    from tap_generic_rest.spec.values import Resolver

#: Time format names ``start_value_format`` takes besides strftime patterns.
FORMAT_NAMES = ("iso", "iso_ms", "epoch_s", "epoch_ms")
#: dlt's incremental options the tap reads only at dlt's default.
_DEFAULTS_ONLY: dict[str, Any] = {
    "last_value_func": "max",
    "range_start": "closed",
    "range_end": "open",
    "allow_external_schedulers": False,
    # A record without the cursor field is emitted (dlt's default raises).
    "on_cursor_value_missing": "include",
    # dlt deduplicates records at the start value by this key; the tap emits them again
    # (a target merges them by the resource's primary key).
    "primary_key": None,
    # dlt stops requesting pages once rows in this order leave the range; the tap reads on.
    "row_order": None,
}


def incremental_spec(raw: Any, where: str, resolve: Resolver) -> dict[str, Any]:
    """The stream attributes an ``endpoint.incremental`` object sets."""
    key = f"{where}: endpoint.incremental"
    if not isinstance(raw, dict):
        raise fail(key, "must be an object with a cursor_path")
    path = jsonpath(raw.get("cursor_path"), f"{key}.cursor_path")
    if not path or path.startswith("$"):  # a JSONPath expression, not one field
        raise fail(f"{key}.cursor_path", "must name one field of the records (a.b.c)")
    for name, default in _DEFAULTS_ONLY.items():
        if raw.get(name) is not None and raw[name] != default:
            if default is None:
                raise fail(f"{key}.{name}", "is not supported: leave it out (dlt's default)")
            raise fail(f"{key}.{name}", f"only {default!r} (dlt's default) is supported")
    start_param, end_param = raw.get("start_param"), raw.get("end_param")
    initial = resolve(raw.get("initial_value"), f"{key}.initial_value")
    end = resolve(raw.get("end_value"), f"{key}.end_value")
    if end is not None and initial is None:
        raise fail(f"{key}.end_value", "needs an initial_value (as in dlt)")
    lag = raw.get("lag", 0)
    if isinstance(lag, bool) or not isinstance(lag, int | float) or lag < 0:
        raise fail(f"{key}.lag", "must be a number of at least 0 (seconds, or the cursor's units)")
    attrs: dict[str, Any] = {
        "replication_key": path.rsplit(".", 1)[-1],
        "cursor_source": path if "." in path else None,
        "initial_value": initial,
        "end_value": end,
        "lag": lag,
        "start_param": None if start_param is None else nonempty(start_param, f"{key}.start_param"),
        "end_param": None if end_param is None else nonempty(end_param, f"{key}.end_param"),
    }
    if raw.get("start_value_format") is not None:
        attrs["start_value_format"] = start_value_format(
            raw["start_value_format"], f"{key}.start_value_format", resolve
        )
    return attrs


def start_value_format(raw: Any, where: str, resolve: Resolver) -> StartValueFormat:
    """``start_value_format``: a format name or pattern, or ``{format, timezone}``."""
    if isinstance(raw, str):
        raw = {"format": raw}
    if not isinstance(raw, dict):
        raise fail(where, 'must be a format (epoch_ms, "%Y-%m-%d %H:%M"...) or {format, timezone}')
    unknown = set(raw) - {"format", "timezone"}
    if unknown:
        raise fail(where, f"unknown key {', '.join(sorted(unknown))} (format, timezone)")
    pattern = nonempty(resolve(raw.get("format"), f"{where}.format"), f"{where}.format")
    if pattern not in FORMAT_NAMES and "%" not in pattern:
        raise fail(
            f"{where}.format",
            f"'{pattern}' is neither {', '.join(FORMAT_NAMES)} nor a strftime pattern",
        )
    zone_name = resolve(raw.get("timezone"), f"{where}.timezone")
    if zone_name is None:
        return StartValueFormat(pattern)
    try:
        return StartValueFormat(pattern, ZoneInfo(nonempty(zone_name, f"{where}.timezone")))
    except (ZoneInfoNotFoundError, ValueError):
        raise fail(f"{where}.timezone", f"unknown time zone '{zone_name}' (an IANA name)") from None


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
