"""Shared test helpers: run the tap in-process and collect its Singer messages."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from typing import Any

from singer_sdk.singerlib import Catalog

from tap_generic_rest.sources import get_source
from tap_generic_rest.tap import TapGenericRest


def run_sync(
    config: dict[str, Any],
    streams: list[str] | None = None,
    state: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Run a full sync in-process; return the Singer messages written to stdout.

    ``streams`` selects only those streams (the others are deselected in the catalog).
    """
    catalog = None
    if streams is not None:
        discovered = TapGenericRest(config=config, setup_mapper=False).catalog_dict
        for entry in discovered["streams"]:
            selected = entry["tap_stream_id"] in streams
            for meta in entry["metadata"]:
                if meta["breadcrumb"] == []:
                    meta["metadata"]["selected"] = selected
        catalog = Catalog.from_dict(discovered).to_dict()
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        TapGenericRest(config=config, catalog=catalog, state=state).sync_all()
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


def records_by_stream(messages: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """RECORD messages grouped by stream, in emitted order."""
    out: dict[str, list[dict[str, Any]]] = {}
    for message in messages:
        if message["type"] == "RECORD":
            out.setdefault(message["stream"], []).append(message["record"])
    return out


def in_read_order(source: str, stream: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records served in the stream's own order, as the tap reads them on a first run.

    A stream that asks the API to sort by its replication key (oncall alerts) reads them in
    that order; Python's sort is stable, as the sandbox's.
    """
    spec = next(s for s in get_source(source).streams if s.name == stream).incremental
    if spec is None or not spec.sorted:
        return records
    return sorted(records, key=lambda record: record[spec.key])
