"""Running one spec through dlt (extraction only) and through the tap, for the oracle tests.

dlt is a test dependency (the ``dev`` extra); :func:`dlt_records` imports it when called, so
the rest of the suite never needs it.
"""

from __future__ import annotations

import copy
import json
from contextlib import nullcontext
from typing import Any

from tests.helpers import records_by_stream, run_sync


def dlt_records(
    config: dict[str, Any], names: list[str], pipeline: Any = None
) -> dict[str, list[Any]]:
    """Each resource's records as dlt's ``rest_api_source`` extracts them (no destination).

    With ``pipeline``, dlt keeps its incremental state there between calls.
    """
    from dlt.sources.rest_api import rest_api_source

    source = rest_api_source(copy.deepcopy(config))  # type: ignore[arg-type]
    state = pipeline.managed_state(extract_state=False) if pipeline is not None else nullcontext()
    with state:
        return {name: [json.loads(json.dumps(r)) for r in source.resources[name]] for name in names}


def tap_run(
    config: dict[str, Any],
    settings: dict[str, Any] | None = None,
    state: dict[str, Any] | None = None,
) -> tuple[dict[str, list[Any]], dict[str, Any] | None]:
    """The tap's records by stream for the same spec, and its last STATE."""
    messages = run_sync({"spec": copy.deepcopy(config), **(settings or {})}, state=state)
    states = [m["value"] for m in messages if m["type"] == "STATE"]
    return records_by_stream(messages), (states[-1] if states else None)


def as_dlt_has_them(
    tap: list[dict[str, Any]], dlt: list[dict[str, Any]], parent: str | None
) -> list[dict[str, Any]]:
    """The tap's records with only dlt's keys, once the extra keys are checked.

    A child's records also carry the parent fields its requests used (``_<parent>_<field>``),
    which dlt leaves out unless ``include_from_parent`` names them; nothing else may differ.
    """
    keys = set().union(*(record.keys() for record in dlt)) if dlt else set()
    out = []
    for record in tap:
        extra = set(record) - keys
        assert all(parent and key.startswith(f"_{parent}_") for key in extra), extra
        out.append({k: v for k, v in record.items() if k in keys})
    return out
