"""A spec's ``incremental``: dlt's keys, and the tap's extensions for what a file cannot hold.

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

from tap_generic_rest.stream.replication import StartValueFormat
from tap_generic_rest.spec.values import fail, jsonpath, nonempty

if TYPE_CHECKING:
    from tap_generic_rest.spec.values import Resolver

#: Time format names ``start_value_format`` takes besides strftime patterns.
FORMAT_NAMES = ("iso", "iso_ms", "epoch_s", "epoch_ms")
_REFUSED = ("end_param", "end_value", "convert", "transform")


def incremental_spec(raw: Any, where: str, resolve: Resolver) -> dict[str, Any]:
    """The stream attributes an ``endpoint.incremental`` object sets."""
    key = f"{where}: endpoint.incremental"
    if not isinstance(raw, dict):
        raise fail(key, "must be an object with a cursor_path")
    path = jsonpath(raw.get("cursor_path"), f"{key}.cursor_path")
    if not path or path.startswith("."):
        raise fail(f"{key}.cursor_path", "must name a field of the records")
    for refused in _REFUSED:
        if raw.get(refused) is not None:
            why = "a callable, which a file cannot hold; use start_value_format" if refused == "convert" else "not supported"
            raise fail(f"{key}.{refused}", why)
    start_param = raw.get("start_param")
    attrs: dict[str, Any] = {
        "replication_key": path.rsplit(".", 1)[-1],
        "cursor_source": path if "." in path else None,
        "initial_value": resolve(raw.get("initial_value"), f"{key}.initial_value"),
        "start_param": None if start_param is None else nonempty(start_param, f"{key}.start_param"),
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
        raise fail(where, "must be a format (epoch_ms, \"%Y-%m-%d %H:%M\"...) or {format, timezone}")
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
