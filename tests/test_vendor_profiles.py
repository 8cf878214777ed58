"""The vendor profiles against their vendor-shaped sandboxes (``sandbox/vendors/``).

Each profile: discovery lists its streams, a sync emits each served record exactly once, every
record is valid against the vendor's own response schema (``tests/fixtures/vendors/``, from
the vendor's OpenAPI document), every request sent is one the vendor declares (the sandbox
checks each one), and a second run from the state reads only what changed where the API can
filter by the bookmark.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from jsonschema import Draft7Validator

from sandbox.vendors.base import VendorServer
from tap_generic_rest.profiles import PROFILES
from tap_generic_rest.spec.reading.loader import load_spec
from tap_generic_rest.stream.replication import to_moment
from tests.helpers import records_by_stream, run_sync
from tests.vendor_cases import CASES, Case

NAMES = sorted(CASES)


def _state(messages: list[dict[str, Any]]) -> dict[str, Any]:
    return [m for m in messages if m["type"] == "STATE"][-1]["value"]


def _resources(name: str) -> list[str]:
    return [r["name"] for r in load_spec(str(PROFILES[name].spec_path)).data["resources"]]


def test_every_profile_has_a_case_and_its_schemas() -> None:
    assert set(CASES) == set(PROFILES)
    for name in PROFILES:
        folder = PROFILES[name].spec_path.parent / "schemas"
        assert {p.stem for p in folder.glob("*.json")} == set(_resources(name)), name
        assert set(CASES[name].expected) == set(_resources(name)), name


@pytest.mark.parametrize("name", NAMES)
def test_discover_lists_the_profile_streams(name: str, tmp_path: Any) -> None:
    """``tap-generic-rest --config c.json --discover`` offers every stream of the profile."""
    case = CASES[name]
    api = case.make()
    with VendorServer(api) as server:
        config = tmp_path / "c.json"
        config.write_text(json.dumps(case.config(api, server.url)))
        done = subprocess.run(
            [sys.executable, "-m", "tap_generic_rest", "--config", str(config), "--discover"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 0, done.stderr[-2000:]
    streams = {entry["tap_stream_id"]: entry for entry in json.loads(done.stdout)["streams"]}
    assert set(streams) == set(_resources(name))
    assert api.log == []  # the schemas ship with the profile: discovery asks the API nothing


#: The header each vendor's rate-limit answer says the wait in (Statuspage's says none).
WAIT_HEADERS = {
    "rocketchat": "X-RateLimit-Reset",
    "intercom": "X-RateLimit-Reset",
    "jira": "Retry-After",
    "statuspage_io": "exponential backoff",
    "opsgenie": "X-RateLimit-Period-In-Sec",
}


@pytest.mark.parametrize("name", NAMES)
def test_sync_is_exact_valid_and_asks_only_what_the_vendor_declares(
    name: str, caplog: pytest.LogCaptureFixture
) -> None:
    case = CASES[name]
    api = case.make(rate_limit_every=7)  # the vendor's own rate-limit answer, now and then
    with VendorServer(api) as server:
        messages = run_sync(case.config(api, server.url, max_wait_seconds=1))
    records = records_by_stream(messages)
    assert api.violations == []
    assert any(entry.status in (420, 429) for entry in api.log)  # and the tap waited, retried
    waits = [r.getMessage() for r in caplog.records if "retry 1 of" in r.getMessage()]
    assert waits
    assert all(f"(wait from {WAIT_HEADERS[name]})" in line for line in waits), waits[:2]
    for stream, (key, served) in case.expected.items():
        emitted = Counter(key(record) for record in records.get(stream, []))
        assert emitted == Counter(served(api)), stream  # each served record once, no other
        assert emitted, f"{stream}: the sandbox serves no record of it"
    for stream in case.schemas:
        validator = Draft7Validator(case.record_schema(stream))
        for record in records[stream]:
            errors = [e.message for e in validator.iter_errors(record)]
            assert errors == [], (stream, errors[:3])


@pytest.mark.parametrize("name", NAMES)
def test_second_run_reads_only_what_changed(name: str) -> None:
    case = CASES[name]
    api = case.make()
    with VendorServer(api) as server:
        config = case.config(api, server.url)
        first = run_sync(config)
        changed = case.change(api)
        api.log.clear()
        state = _state(first)
        second = records_by_stream(run_sync(config, state=copy.deepcopy(state)))
    assert api.violations == []
    for stream, keys in changed.items():
        key = case.expected[stream][0]
        again = {key(record): record for record in second.get(stream, [])}
        assert keys <= set(again), stream  # every change is read
        # Beyond the changes, only records at the bookmark itself (read again because the
        # filters are inclusive, so that no change in that instant is lost), or within the
        # spec's lag before it.
        marks = [to_moment(mark) for mark in _bookmarks(state, stream)]
        lag = timedelta(seconds=case.lag.get(stream, 0))
        field = _replication_key(case, stream)
        ties = [to_moment(record[field]) for k, record in again.items() if k not in keys]
        assert all(any(m - lag <= t <= m for m in marks if m) for t in ties if t), (stream, ties)
    for stream in case.filtered:
        served = len(case.expected[stream][1](api))
        asked = [e for e in api.log if stream_path(case, stream) in e.path]
        assert asked, stream
        # The API was asked for the changes only: it served fewer records than it holds.
        assert len(second.get(stream, [])) < served, stream


def _bookmarks(state: dict[str, Any], stream: str) -> set[Any]:
    entry = state["bookmarks"][stream]
    parts = entry.get("partitions") or [entry]
    return {part.get("replication_key_value") for part in parts}


def _replication_key(case: Case, stream: str) -> str:
    spec = load_spec(str(PROFILES[case.name].spec_path)).data
    resource = next(r for r in spec["resources"] if r["name"] == stream)
    path: str = resource["endpoint"]["incremental"]["cursor_path"]
    return path.rsplit(".", 1)[-1]


def stream_path(case: Case, stream: str) -> str:
    """A part of the path of ``stream``'s requests (for finding them in the sandbox's log)."""
    spec = load_spec(str(PROFILES[case.name].spec_path)).data
    resource = next(r for r in spec["resources"] if r["name"] == stream)
    return resource["endpoint"]["path"].split("{")[0]


def test_the_sandbox_refuses_what_the_vendor_does_not_declare() -> None:
    """The request check can fail: an undeclared parameter and a bad value are caught."""
    case = CASES["opsgenie"]
    api = case.make()
    with VendorServer(api) as server:
        run_sync(case.config(api, server.url), streams=["users"])
        assert api.violations == []
        import urllib.request

        request = urllib.request.Request(
            server.url + "/v2/users?limit=500&bogus=1",
            headers={"Authorization": f"GenieKey {api.credentials()['api_token']}"},
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 400
        refused.value.close()
    assert api.violations == [
        "GET /v2/users: undeclared parameter bogus",
        "GET /v2/users: limit=500 is above 100",
    ]


def test_python_m_sandbox_serves_a_vendor(tmp_path: Any) -> None:
    """``python -m sandbox --vendor opsgenie`` serves it and prints a config the tap runs with."""
    ready = tmp_path / "ready"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sandbox",
            "--vendor",
            "opsgenie",
            "--port",
            "0",
            "--ready-file",
            str(ready),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        server.stdout.readline()
        config = json.loads(server.stdout.readline())
        records = records_by_stream(run_sync(config, streams=["users"]))
        assert len(records["users"]) == 12
    finally:
        server.terminate()
        server.communicate(timeout=10)
