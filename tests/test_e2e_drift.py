"""Type drift end to end: ``meltano run tap-generic-rest--<source> target-postgres``.

The sandbox serves values of another type than the schemas declare (``drift=True``: ``"no"``
in a boolean, ``false`` in an object, an object in an array). target-postgres validates every
record against the stream's latest SCHEMA; the tap widens the field's type and sends a new
SCHEMA before the first record that needs it, so every record loads with its value intact.
Uses the Meltano fixtures of ``tests/test_e2e_meltano.py``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from sandbox import Sandbox
from sandbox.oddities import drift_fields
from tests import test_e2e_meltano as e2e

# The Meltano end-to-end fixtures, shared with tests/test_e2e_meltano.py.
pg = e2e.pg
meltano = e2e.meltano
load_schema = e2e.load_schema


def stored(connection: Any, schema: str, table: str, key: str) -> dict[Any, dict[str, Any]]:
    rows = connection.execute(
        f"SELECT row_to_json(row__) FROM {e2e.quote(schema)}.{e2e.quote(table)} AS row__"
    ).fetchall()
    return {row[key]: row for (row,) in rows}


@pytest.mark.parametrize("source", e2e.SOURCES)
def test_drifted_values_load_intact_into_postgres(  # fixtures imported above
    source: str, pg: Any, meltano: e2e.Meltano, load_schema: Any
) -> None:
    with Sandbox(seed=13, default_size=9, drift=True) as sandbox:
        schema = load_schema(f"drift_{source}")
        config = sandbox.tap_config(source)
        output = e2e.meltano_run(meltano, source, schema, config, schema)
        expected = sandbox.counts()[source]
        assert e2e.row_counts(pg, schema) == expected
        checked = 0
        for stream in expected:
            fields = drift_fields(source, stream)
            if not fields:
                continue
            key = "_id" if source == "chat" else "key" if stream == "application_roles" else "id"
            rows = stored(pg, schema, stream, key)
            parts = (None,) if stream != "avatars" else ("issuetype", "project", "user")
            for part in parts:
                for position, record in enumerate(sandbox.records(source, stream, part)):
                    if position % 4:
                        continue
                    loaded = rows[record[key]]
                    for field, value in fields:
                        assert _same(loaded[field], value), (stream, field, loaded[field])
                        checked += 1
            assert f"stream '{stream}': field '{fields[0][0]}' is declared" in output
        assert checked


def _same(loaded: Any, sent: Any) -> bool:
    """The loaded value is the sent one (text columns read back JSON scalars as text)."""
    if loaded == sent:
        return True
    if isinstance(loaded, str):
        return loaded in (sent, json.dumps(sent))
    return False
