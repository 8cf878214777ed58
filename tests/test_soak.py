"""Soak: every stream of every source against a sandbox that breaks a share of requests.

The sandbox fails at least a fifth of the requests (rate limits with their wait
headers, server errors, connection resets, bodies cut short of their
Content-Length, cut-off JSON), each request at most as often as its source
retries. Every stream must still deliver exactly the sandbox's records, in order:
nothing lost, nothing twice. Waits are capped at a millisecond through
``max_wait_seconds`` and the sandbox's ``retry_after=0``, so nothing sleeps long.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest

from sandbox import Sandbox
from tap_generic_rest.redact import REDACTOR
from tap_generic_rest.sources import all_sources, get_source
from tap_generic_rest.sources.tracker import DEFAULT_AVATAR_TYPES
from tests.helpers import in_read_order, records_by_stream, run_sync

#: Fetching ahead as configured, whatever the pace (see tests/test_pace.py).
pytestmark = pytest.mark.usefixtures("pages_ahead_as_configured")

ALL_FAULTS = ("rate_limit", "server_error", "reset", "truncated", "bad_json")
#: statuspage's seed retries 420 and 429 only: a 5xx fails it at once, by design.
FAULTS = {
    source: tuple(f for f in ALL_FAULTS if f != "server_error" or 500 in policy.retry.statuses)
    for source, policy in all_sources().items()
}
FAULT_RATE = 0.35
MIN_FAULT_SHARE = 0.2
# Small pages: many requests per stream, so every kind of fault shows up.
PAGE_SIZE = {"chat": 3, "helpdesk": 4, "tracker": 4, "statuspage": 4, "oncall": 4}


@pytest.fixture(autouse=True)
def _fresh_redactor() -> None:
    REDACTOR.clear()


def expected_records(sb: Sandbox, source: str, stream: str) -> list[dict[str, Any]]:
    """What the tap must emit: the served records, avatars tagged with their type.

    A stream read sorted by its replication key (oncall alerts) comes in that order.
    """
    if (source, stream) == ("tracker", "avatars"):
        return [
            {**record, "avatar_type": part}
            for part in DEFAULT_AVATAR_TYPES
            for record in sb.records(source, stream, part)
        ]
    return in_read_order(source, stream, sb.records(source, stream))


def settled_requests(sb: Sandbox, patience: float = 5.0) -> list[Any]:
    """The request log once every injected fault has been logged (bounded wait)."""
    deadline = time.monotonic() + patience
    while True:
        requests = sb.requests
        if sum(1 for r in requests if r.fault) >= sb.fault_count or time.monotonic() > deadline:
            return requests
        time.sleep(0.01)


@pytest.mark.parametrize("workers", [1, 4], ids=["sequential", "prefetch"])
@pytest.mark.parametrize("source", sorted(all_sources()))
def test_every_record_once_through_a_fault_storm(source: str, workers: int) -> None:
    with Sandbox(
        seed=7,
        default_size=200,
        sizes={"tracker.boards": 400},
        fault_rate=FAULT_RATE,
        faults=FAULTS[source],
        max_failures_per_request=None,  # the source's own retry count
        retry_after=0,
    ) as sb:
        config = sb.tap_config(
            source,
            page_size=PAGE_SIZE[source],
            max_wait_seconds=0.001,
            max_concurrent_requests=workers,
        )
        got = records_by_stream(run_sync(config))
        for stream_class in get_source(source).streams:
            stream = stream_class.name
            assert got.get(stream, []) == expected_records(sb, source, stream), stream

    # A prefetch worker may still have had a request past the end in flight when the sync
    # returned (its answer is discarded unread): let the sandbox finish logging it.
    requests = settled_requests(sb)
    faults = Counter(r.fault for r in requests if r.fault)
    assert sum(faults.values()) == sb.fault_count
    assert sb.fault_count >= MIN_FAULT_SHARE * len(requests), (sb.fault_count, len(requests))
    assert set(faults) == set(FAULTS[source]), faults
