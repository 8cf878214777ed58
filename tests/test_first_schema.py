"""A stream's first SCHEMA message waits for its first page (issue 26).

A target creates a stream's table when it reads the SCHEMA message. A run whose
credentials are refused reads nothing, so it writes no SCHEMA at all: no empty table for
a run that read nothing. Once a page has arrived the SCHEMA comes before anything that
needs it: the first RECORD, or the first BATCH message.
"""

from __future__ import annotations

import gzip
import io
import json
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import pytest

from sandbox import Sandbox
from tap_generic_rest.sources import all_sources
from tap_generic_rest.tap import TapGenericRest

SPECS = Path(__file__).resolve().parent.parent / "examples" / "specs"


def messages_of(config: dict[str, Any]) -> tuple[list[dict[str, Any]], BaseException | None]:
    """The Singer messages a sync wrote, and what it failed with (None: it did not)."""
    buffer = io.StringIO()
    failure: BaseException | None = None
    with redirect_stdout(buffer):
        try:
            TapGenericRest(config=config).sync_all()
        except Exception as exc:  # noqa: BLE001 - the failure is the result
            failure = exc
    lines = buffer.getvalue().splitlines()
    return [json.loads(line) for line in lines if line.strip()], failure


@pytest.fixture(scope="module")
def sb() -> Any:
    with Sandbox(seed=26, default_size=12) as sandbox:
        yield sandbox


@pytest.mark.parametrize("source", sorted(all_sources()))
def test_a_refused_credential_writes_no_schema(sb: Sandbox, source: str) -> None:
    config = sb.tap_config(source)
    for setting in ("api_token", "api_key"):
        if setting in config:
            config[setting] = "refused-by-the-server-26"
    messages, failure = messages_of(config)
    assert failure is not None
    assert "401" in str(failure)
    assert [m["type"] for m in messages if m["type"] in {"SCHEMA", "RECORD"}] == []


@pytest.mark.parametrize("source", ["oncall", "helpdesk"])
def test_a_refused_credential_of_a_spec_writes_no_schema(sb: Sandbox, source: str) -> None:
    """The same for a spec: the built-in source written as one (examples/specs/)."""
    config = sb.tap_config(source)
    del config["source"]
    config["spec"] = str(SPECS / f"{source}.py")
    for setting in ("api_token", "api_key"):
        if setting in config:
            config[setting] = "refused-by-the-server-26"
    messages, failure = messages_of(config)
    assert failure is not None
    assert "401" in str(failure)
    assert [m for m in messages if m["type"] == "SCHEMA"] == []


def test_after_the_first_page_the_schema_comes_before_the_records(sb: Sandbox) -> None:
    messages, failure = messages_of(sb.tap_config("helpdesk"))
    assert failure is None
    seen: set[str] = set()
    for message in messages:
        if message["type"] == "SCHEMA":
            seen.add(message["stream"])
        elif message["type"] == "RECORD":
            assert message["stream"] in seen
    assert seen == set(sb.counts()["helpdesk"])


def test_batch_messages_come_after_their_schema(sb: Sandbox, tmp_path: Path) -> None:
    batch_config = {
        "encoding": {"format": "jsonl", "compression": "gzip"},
        "storage": {"root": tmp_path.as_uri(), "prefix": "batch-"},
    }
    messages, failure = messages_of({**sb.tap_config("helpdesk"), "batch_config": batch_config})
    assert failure is None
    order = [(m["type"], m.get("stream")) for m in messages if m["type"] in {"SCHEMA", "BATCH"}]
    streams = sorted(sb.counts()["helpdesk"])
    assert order == [(kind, stream) for stream in streams for kind in ("SCHEMA", "BATCH")]
    for message in messages:
        if message["type"] == "BATCH":
            (uri,) = message["manifest"]
            lines = gzip.decompress(Path(uri.removeprefix("file://")).read_bytes()).splitlines()
            assert len(lines) == sb.counts()["helpdesk"][message["stream"]]
