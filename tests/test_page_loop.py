"""The page-at-a-time loops (tap_generic_rest/page_loop.py) write what the SDK's record loop writes.

Each test syncs the same data twice with the same message writer: once as the tap runs
(records a page at a time where a stream allows it), once with every stream forced
through the SDK's own ``_sync_records``. The outputs must be the same messages in the same
order (``time_extracted`` aside: one per page instead of one per record), STATE messages
after the same records and holding the same bookmarks.
"""

from __future__ import annotations

import io
import json
import random
import re
from contextlib import redirect_stdout
from typing import TYPE_CHECKING, Any

import pytest
from singer_sdk.exceptions import InvalidStreamSortException

from sandbox import Sandbox
from tap_generic_rest.sources import all_sources
from tap_generic_rest.stream import page_loop
from tap_generic_rest.stream.incremental import IncrementalStream
from tap_generic_rest.tap import TapGenericRest

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=29, default_size=30, oncall_page_size=7) as server:
        yield server


def sync(
    config: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    *,
    by_page: bool,
    state: dict[str, Any] | None = None,
) -> tuple[list[dict[str, Any]], set[str]]:
    """The messages of one in-process sync, and the streams that ran a page at a time."""
    paged: set[str] = set()
    real = page_loop.sync_by_page

    def spy(stream: Any, context: Any) -> Any:
        paged.add(stream.name)
        return real(stream, context)

    with monkeypatch.context() as patch:
        patch.setattr(page_loop, "sync_by_page", spy)
        if not by_page:
            patch.setattr(page_loop, "obstacle", lambda stream: "forced by the test")
        out = io.StringIO()
        with redirect_stdout(out):
            TapGenericRest(config=config, state=state).sync_all()
    return [json.loads(line) for line in out.getvalue().splitlines()], paged


def comparable(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The messages without what differs between two runs of the same sync."""
    kept = []
    for original in messages:
        message = dict(original)
        message.pop("time_extracted", None)
        if message["type"] == "ACTIVATE_VERSION" or "version" in message:
            message["version"] = "the sync's start"
        if message["type"] == "STATE":
            message["value"] = _without_signposts(message["value"])
        kept.append(message)
    return kept


def _without_signposts(value: Any) -> Any:
    """A state without its signposts (the time each sync started)."""
    if isinstance(value, dict):
        return {
            key: "the sync's start" if key == "replication_key_signpost" else _without_signposts(v)
            for key, v in value.items()
        }
    return value


def last_state(messages: list[dict[str, Any]]) -> dict[str, Any]:
    return next(m["value"] for m in reversed(messages) if m["type"] == "STATE")


@pytest.mark.parametrize("state_every", [5, 1000], ids=["state-within-pages", "state-rarely"])
@pytest.mark.parametrize("source", sorted(all_sources()))
def test_page_loop_writes_what_the_record_loop_writes(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, source: str, state_every: int
) -> None:
    monkeypatch.setattr(IncrementalStream, "STATE_MSG_FREQUENCY", state_every)
    config = sandbox.tap_config(source, page_size=8)

    by_page, paged = sync(config, monkeypatch, by_page=True)
    by_record, none = sync(config, monkeypatch, by_page=False)

    assert comparable(by_page) == comparable(by_record)
    assert paged == {stream.name for stream in all_sources()[source].streams}
    assert not none
    assert any(m["type"] == "RECORD" for m in by_page)
    if state_every == 5:  # pages (of 8) were cut where a STATE comes, within a stream
        assert _states_within_a_stream(by_page)


def _states_within_a_stream(messages: list[dict[str, Any]]) -> int:
    """STATE messages between two records of the same stream."""
    return sum(
        before["type"] == after["type"] == "RECORD"
        and before["stream"] == after["stream"]
        and state["type"] == "STATE"
        for before, state, after in zip(messages, messages[1:], messages[2:], strict=False)
    )


@pytest.mark.parametrize("source", ["chat", "helpdesk", "oncall", "statuspage"])
def test_a_run_from_a_bookmark_with_a_lookback_writes_the_same(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, source: str
) -> None:
    """Records read again in the lookback window are written but leave the bookmark alone."""
    monkeypatch.setattr(IncrementalStream, "STATE_MSG_FREQUENCY", 3)
    config = sandbox.tap_config(source, page_size=8, lookback_seconds=30 * 86400)
    first, _ = sync(config, monkeypatch, by_page=True)
    state = last_state(first)

    by_page, _ = sync(config, monkeypatch, by_page=True, state=state)
    by_record, _ = sync(config, monkeypatch, by_page=False, state=state)

    assert comparable(by_page) == comparable(by_record)
    assert any(m["type"] == "RECORD" for m in by_page)


# --- the bookmark advanced once per page ------------------------------------------------------


@pytest.fixture(scope="module")
def contacts() -> Any:
    """An incremental stream whose bookkeeping the tests set as a run's window would."""
    tap = TapGenericRest(
        config={"source": "helpdesk", "base_url": "https://h.example.com", "api_key": "k-123"}
    )
    return tap.streams["contacts"]


def _records(rng: random.Random, key: str) -> list[dict[str, Any]]:
    values: list[Any] = [None, *range(6)]
    return [{"id": i, key: rng.choice(values)} for i in range(rng.randint(0, 6))]


def _per_record(stream: Any, records: list[dict[str, Any]]) -> tuple[dict[str, Any], Any]:
    """The bookmarks after one call per record, and what the calls raised (None: nothing)."""
    try:
        for record in records:
            stream._increment_stream_state(record)
    except InvalidStreamSortException as exc:
        return stream._bookmarks, type(exc)
    return stream._bookmarks, None


@pytest.mark.parametrize("seed", range(6))
def test_advance_bookmark_is_the_per_record_calls_or_declines(contacts: Any, seed: int) -> None:
    rng = random.Random(seed)
    key = contacts.replication_key
    declined = advanced = 0
    for _ in range(400):
        start: dict[str, Any] = {}
        if rng.random() < 0.5:
            start = {"replication_key": key, "replication_key_value": rng.randrange(6)}
        contacts._sorted = rng.random() < 0.5
        contacts._check_sorted = rng.random() < 0.8
        contacts._bookmark_gate = (lambda r: r[key] != 2) if rng.random() < 0.3 else None
        page = _records(rng, key)

        contacts._bookmarks = json.loads(json.dumps(start))
        expected, raised = _per_record(contacts, page)

        contacts._bookmarks = json.loads(json.dumps(start))
        if contacts.advance_bookmark(page):
            advanced += 1
            assert raised is None
            assert contacts._bookmarks == expected
        else:
            declined += 1
            assert contacts._bookmarks == start  # nothing changed: the caller goes per record
    assert advanced > declined > 0


def test_a_full_table_run_has_no_bookmark_to_advance(contacts: Any) -> None:
    contacts._bookmarks = None
    assert contacts.advance_bookmark([{"id": 1}]) is False  # outside a window: per record
    contacts.forced_replication_method = "FULL_TABLE"
    try:
        assert contacts.advance_bookmark([{"id": 1}]) is True  # the per-record call does nothing
    finally:
        contacts.forced_replication_method = "INCREMENTAL"


def test_streams_that_need_the_record_loop_say_why(contacts: Any) -> None:
    assert page_loop.obstacle(contacts) == ""
    contacts.ABORT_AT_RECORD_COUNT = 1
    try:
        assert page_loop.obstacle(contacts) == "a record limit is set"
    finally:
        del contacts.ABORT_AT_RECORD_COUNT


def test_a_page_out_of_order_fails_after_the_same_record_as_the_record_loop(
    monkeypatch: pytest.MonkeyPatch, requests_mock: Any
) -> None:
    """oncall alerts are asked for sorted: a page out of order goes record by record, and
    the sort error comes after the record that breaks the order, as in the SDK's loop."""
    base = "https://oncall.example.com"
    moments = ["2024-01-01T00:00:01Z", "2024-01-01T00:00:02Z", "2024-01-01T00:00:00Z"]
    alerts = [{"id": f"a{i}", "updatedAt": at} for i, at in enumerate([*moments, moments[1]])]
    requests_mock.get(re.compile(f"{base}/v2/"), json={"data": []})  # the other streams
    requests_mock.get(f"{base}/v2/alerts", json={"data": alerts})
    config = {"source": "oncall", "base_url": base, "api_token": "tok-4b1f9c2e"}
    outputs = []
    for by_page in (True, False):
        out = io.StringIO()
        with monkeypatch.context() as patch, redirect_stdout(out):
            if not by_page:
                patch.setattr(page_loop, "obstacle", lambda stream: "forced by the test")
            with pytest.raises(InvalidStreamSortException):
                TapGenericRest(config=config).sync_all()
        outputs.append([json.loads(line) for line in out.getvalue().splitlines()])
    by_page_out, by_record_out = outputs
    assert comparable(by_page_out) == comparable(by_record_out)
    written = [m["record"]["id"] for m in by_page_out if m["type"] == "RECORD"]
    assert written == ["a0", "a1", "a2"]  # the record that breaks the order, then the error
