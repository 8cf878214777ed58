"""Pages fetched ahead (``max_concurrent_requests``): the sequential output, bounded and polite.

Offset and startAt streams against the sandbox must emit exactly the records, in exactly
the order, of the one-page-at-a-time loop, with and without injected faults; ask for
nothing past a reported total, and for at most the pages already in flight past the end
otherwise. A wait the source asks of one request holds back every worker (checked on
the tap's rate gate, never on wall time). Next-URL and one-page streams, and
``max_concurrent_requests=1``, keep the SDK's sequential loop.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import pytest
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError

from sandbox import Sandbox
from tap_generic_rest.errors import ConfigError
from tap_generic_rest.http.rate_gate import RateGate
from tap_generic_rest.redact import REDACTOR
from tap_generic_rest.stream import base as client
from tap_generic_rest.tap import TapGenericRest
from tests.helpers import records_by_stream, run_sync

#: Fetching ahead as configured, whatever the pace (see tests/test_pace.py).
pytestmark = pytest.mark.usefixtures("pages_ahead_as_configured")

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from requests_mock import Mocker

SEQUENTIAL = {"max_concurrent_requests": 1}
AHEAD = {"max_concurrent_requests": 4}
FAULTS = ("rate_limit", "server_error", "reset", "truncated", "bad_json")

# source, stream, primary key, start parameter, records, settings: one per kind of paging.
STREAMS = [
    pytest.param("chat", "users", "_id", "offset", 37, {}, id="chat-total-page-size-1"),
    pytest.param(
        "helpdesk", "contacts", "id", "offset", 120, {"page_size": 20},
        id="helpdesk-no-total-empty-last-page",
    ),
    pytest.param("tracker", "boards", "id", "startAt", 95, {}, id="tracker-capped-maxResults"),
]  # fmt: skip


@pytest.fixture(autouse=True)
def _fresh_redactor() -> None:
    REDACTOR.clear()


def sync(config: dict[str, Any], stream: str) -> list[dict[str, Any]]:
    return records_by_stream(run_sync(config, streams=[stream])).get(stream, [])


def starts(sb: Sandbox, param: str) -> list[int]:
    """The start parameter of every request the sandbox served, in arrival order."""
    return [int(r.query[param][0]) for r in sb.requests if param in r.query]


# --- same output as the sequential loop ------------------------------------------


@pytest.mark.parametrize(("source", "stream", "key", "param", "size", "settings"), STREAMS)
@pytest.mark.parametrize("fault_rate", [0.0, 0.3], ids=["clean", "faults"])
def test_same_records_in_the_same_order_as_sequential(
    source: str,
    stream: str,
    key: str,
    param: str,
    size: int,
    settings: dict[str, Any],
    fault_rate: float,
) -> None:
    # Seed 5 injects faults into the sequential run of every stream here (seed 7 happens to
    # leave helpdesk's seven requests alone, so the faults depended on pages past the end).
    with Sandbox(
        seed=5, sizes={f"{source}.{stream}": size}, fault_rate=fault_rate, faults=FAULTS
    ) as sb:
        config = sb.tap_config(source, max_wait_seconds=0.001, **settings)
        sequential = sync({**config, **SEQUENTIAL}, stream)
        assert sb.fault_count > 0 if fault_rate else sb.fault_count == 0
        ahead = sync({**config, "max_concurrent_requests": 8}, stream)
        served = [r[key] for r in sb.records(source, stream)]

    assert ahead == sequential
    assert [r[key] for r in ahead] == served
    assert len(served) == size


@pytest.mark.parametrize(
    ("source", "stream", "param", "size", "total", "step"),
    [
        pytest.param("chat", "users", "offset", 37, 37, 1, id="chat"),
        pytest.param("tracker", "boards", "startAt", 95, 95, 20, id="tracker"),
    ],
)
def test_with_a_total_nothing_is_asked_for_past_it(
    source: str, stream: str, param: str, size: int, total: int, step: int
) -> None:
    with Sandbox(sizes={f"{source}.{stream}": size}) as sb:
        sync(sb.tap_config(source, max_concurrent_requests=8), stream)
        asked = starts(sb, param)

    # Every page exactly once, none at or past the total.
    assert Counter(asked) == Counter(range(0, total, step))
    # The first page goes alone: the later ones are asked at the server's own step.
    assert asked[0] == 0


@pytest.mark.parametrize(("size", "last"), [(120, 120), (110, 100)], ids=["empty", "short"])
def test_without_a_total_only_pages_already_in_flight_go_past_the_end(size: int, last: int) -> None:
    with Sandbox(sizes={"helpdesk.contacts": size}) as sb:
        records = sync(sb.tap_config("helpdesk", page_size=20, **AHEAD), "contacts")
        asked = starts(sb, "offset")

    assert len(records) == size
    assert Counter(asked) == Counter(set(asked))  # no page asked twice
    assert set(range(0, last + 1, 20)) <= set(asked)
    past = [offset for offset in asked if offset > last]
    assert len(past) <= AHEAD["max_concurrent_requests"] - 1
    assert all(offset % 20 == 0 for offset in past)


# --- servers that do not page as asked -------------------------------------------


CHAT = "https://chat.example.com/api/v1"
CHAT_CONFIG = {
    "source": "chat",
    "base_url": CHAT,
    "api_token": "tok-7c1e9a2f",
    "user_id": "uid-5b3d8e04",
    "max_wait_seconds": 0.001,
}
HELPDESK = "https://helpdesk.example.com"
HELPDESK_CONFIG = {"source": "helpdesk", "base_url": HELPDESK, "api_key": "key-2f6a0c9d"}


def users(count: int) -> list[dict[str, Any]]:
    return [{"_id": f"u{i:03d}", "username": f"user{i}"} for i in range(count)]


def chat_users(
    requests_mock: Mocker,
    rows: list[dict[str, Any]],
    size_at: Callable[[int, int], int] = lambda offset, count: count,
    on_request: Callable[[int, Any], dict[str, Any] | None] = lambda offset, context: None,
) -> list[int]:
    """Serve ``/users.list``; ``size_at`` says how many records a page holds. Returns offsets."""
    asked: list[int] = []
    lock = threading.Lock()

    def respond(request: Any, context: Any) -> dict[str, Any]:
        offset = int(request.qs["offset"][0])
        with lock:
            asked.append(offset)
        answer = on_request(offset, context)
        if answer is not None:
            return answer
        page = rows[offset : offset + size_at(offset, int(request.qs["count"][0]))]
        return {"users": page, "count": len(page), "offset": offset, "total": len(rows)}

    requests_mock.get(f"{CHAT}/users.list", json=respond)
    return asked


def request_records(config: dict[str, Any], stream: str) -> tuple[list[str], TapGenericRest]:
    """The ids the stream's request loop yields (no Singer output), and its tap."""
    tap = TapGenericRest(config=config)
    key = tap.streams[stream].primary_keys[0]
    return [r[key] for r in tap.streams[stream].request_records(None)], tap


def test_a_first_page_larger_than_asked_falls_back_to_one_page_at_a_time(
    requests_mock: Mocker,
) -> None:
    rows = users(10)
    asked = chat_users(requests_mock, rows, size_at=lambda offset, count: 3)  # ignores count

    got, _ = request_records({**CHAT_CONFIG, **AHEAD}, "users")

    assert got == [r["_id"] for r in rows]
    assert asked == [0, 3, 6, 9]  # nothing asked ahead at a step the server does not keep


def test_a_page_larger_than_asked_mid_stream_drops_what_was_asked_ahead(
    requests_mock: Mocker,
) -> None:
    rows = users(12)
    chat_users(requests_mock, rows, size_at=lambda offset, count: 2 if offset == 4 else count)

    ahead, _ = request_records({**CHAT_CONFIG, **AHEAD}, "users")
    sequential, _ = request_records({**CHAT_CONFIG, **SEQUENTIAL}, "users")

    assert ahead == sequential == [r["_id"] for r in rows]


def not_found_from(first: int) -> Callable[[int, Any], dict[str, Any] | None]:
    def answer(offset: int, context: Any) -> dict[str, Any] | None:
        if offset < first:
            return None
        context.status_code = 404
        return {"success": False, "error": "gone"}

    return answer


def records_until_failure(config: dict[str, Any], stream: str) -> tuple[list[str], str]:
    """The ids the stream's request loop yields before it fails, and the failure's message."""
    got: list[str] = []
    tap = TapGenericRest(config=config)
    with pytest.raises(FatalAPIError) as failure:
        got.extend(r["_id"] for r in tap.streams[stream].request_records(None))
    return got, str(failure.value)


def test_a_fatal_error_fails_the_stream_as_the_sequential_loop_does(
    requests_mock: Mocker,
) -> None:
    rows = users(10)
    chat_users(requests_mock, rows, on_request=not_found_from(5))

    ahead = records_until_failure({**CHAT_CONFIG, **AHEAD}, "users")
    sequential = records_until_failure({**CHAT_CONFIG, **SEQUENTIAL}, "users")

    assert ahead == sequential
    assert ahead[0] == [r["_id"] for r in rows[:5]]
    assert ahead[1].startswith("stream 'users': GET /api/v1/users.list -> 404")


def test_a_fatal_error_on_a_page_past_the_end_is_never_seen(requests_mock: Mocker) -> None:
    rows = [{"id": f"c{i}", "email": f"c{i}@example.com"} for i in range(6)]

    def respond(request: Any, context: Any) -> dict[str, Any]:
        offset, limit = int(request.qs["offset"][0]), int(request.qs["limit"][0])
        if offset > len(rows):
            context.status_code = 400
            return {"errors": [{"message": "offset past the end"}]}
        return {"type": "list", "data": rows[offset : offset + limit]}

    requests_mock.get(f"{HELPDESK}/v1/contacts", json=respond)

    got, _ = request_records({**HELPDESK_CONFIG, "page_size": 2, **AHEAD}, "contacts")

    assert got == [r["id"] for r in rows]


# --- rate limits hold back every worker -------------------------------------------


@contextmanager
def chat_server(answer: Callable[[int], tuple[int, dict[str, str], Any]]) -> Iterator[str]:
    """A chat ``/users.list`` on 127.0.0.1 whose pages ``answer(offset)`` decides; the base URL.

    Unlike requests-mock, which sends one request at a time, it answers concurrently.
    """

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, headers, body = answer(int(parse_qs(urlsplit(self.path).query)["offset"][0]))
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            for name, value in {**headers, "Content-Type": "application/json"}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/v1"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_a_429_on_one_page_holds_back_the_other_workers() -> None:
    """Page 2 is rate-limited; page 1 answers only once that hold is placed, so page 5,
    asked after page 1 is used, meets the hold: a worker that was never told to wait waits."""
    rows = users(8)
    gates: list[RateGate] = []
    limited = threading.Event()

    def answer(offset: int) -> tuple[int, dict[str, str], Any]:
        if offset == 2 and not limited.is_set():
            limited.set()
            return 429, {"Retry-After": "0.5"}, {"success": False, "error": "slow down"}
        if offset == 1:
            for _ in range(1000):  # until the 429's hold is placed (a bound, not a timing)
                if gates[0].holds:
                    break
                time.sleep(0.005)
        page = rows[offset : offset + 1]
        return 200, {}, {"users": page, "count": len(page), "offset": offset, "total": len(rows)}

    with chat_server(answer) as base_url:
        config = {**CHAT_CONFIG, "base_url": base_url, "max_wait_seconds": 0.5, **AHEAD}
        tap = TapGenericRest(config=config)
        gates.append(tap.rate_gate)
        got = [r["_id"] for r in tap.streams["users"].request_records(None)]

    assert got == [r["_id"] for r in rows]
    gate = gates[0]
    [hold] = gate.holds
    assert hold.until - hold.at == pytest.approx(0.5)
    held_others = [p for p in gate.passes if p.thread != hold.thread and p.waited > 0]
    assert held_others, gate.passes
    assert all(p.at >= hold.until for p in held_others)


@pytest.mark.parametrize(
    ("source", "stream", "size", "statuses"),
    [
        pytest.param("chat", "users", 40, {429}, id="chat-429"),
        pytest.param("statuspage", "pages", 120, {420, 429}, id="statuspage-420"),
    ],
)
def test_a_rate_limit_storm_holds_every_request_and_loses_nothing(
    monkeypatch: pytest.MonkeyPatch, source: str, stream: str, size: int, statuses: set[int]
) -> None:
    gates: list[RateGate] = []
    monkeypatch.setattr(TapGenericRest, "rate_gate", property(lambda tap: gate_of(tap, gates)))
    with Sandbox(sizes={f"{source}.{stream}": size}, fault_rate=0.5, faults=("rate_limit",)) as sb:
        config = sb.tap_config(source, max_wait_seconds=0.02, page_size=10, **AHEAD)
        got = sync(config, stream)
        served = sb.records(source, stream)
        limited = [r for r in sb.requests if r.status in statuses]

    assert got == served
    [gate] = gates
    assert limited
    # Every rate-limited answer held the whole source for the (capped) wait it asked for,
    # but those to pages past the end that arrived once the end was known (abandoned)...
    past_the_end = AHEAD["max_concurrent_requests"] - 1
    assert len(limited) - past_the_end <= len(gate.holds) <= len(limited)
    assert all(h.until - h.at == pytest.approx(0.02) for h in gate.holds)
    # ...and no request of any worker went out while a hold was on.
    assert not [(p, h) for p in gate.passes for h in gate.holds if h.at <= p.at < h.until]
    assert len({p.thread for p in gate.passes}) > 1


def gate_of(tap: TapGenericRest, gates: list[RateGate]) -> RateGate:
    """The tap's one gate, remembered for the test."""
    gate = tap.__dict__.get("_test_gate")
    if gate is None:
        gate = tap.__dict__["_test_gate"] = RateGate()
        gates.append(gate)
    return gate


def test_rate_gate_never_shortens_a_hold_and_stops_waiting_when_cancelled() -> None:
    gate = RateGate()
    cancelled = threading.Event()
    gate.hold(0.0)
    assert gate.wait(cancelled)
    gate.hold(3600)
    gate.hold(0.0)
    cancelled.set()
    assert not gate.wait(cancelled)  # a one-hour hold still on: only the cancel ends the wait
    assert [h.until - h.at for h in gate.holds] == pytest.approx([0.0, 3600, 0.0])
    assert len(gate.passes) == 1


def test_a_released_owner_lifts_its_hold_and_wakes_the_waiters() -> None:
    """The hold of an abandoned page (its fetcher) no longer holds anyone back (issue 11)."""
    gate = RateGate()
    owner, cancelled = object(), threading.Event()
    gate.hold(3600, owner=owner)
    passed = threading.Event()
    waiter = threading.Thread(target=lambda: gate.wait(cancelled) and passed.set())
    waiter.start()
    assert not passed.wait(0.2)  # held
    gate.release(owner)
    assert passed.wait(5)
    waiter.join(5)
    gate.hold(3600)  # a hold of the run itself (no owner) is not lifted by any release
    gate.release(owner)
    cancelled.set()
    assert not gate.wait(cancelled)


# --- where the sequential loop stays ------------------------------------------------


def test_one_request_at_a_time_and_next_url_and_one_page_streams_stay_sequential(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(*args: Any) -> None:
        raise AssertionError("the prefetcher was used")

    monkeypatch.setattr(client, "Prefetcher", refuse)
    with Sandbox(sizes={"chat.users": 7, "chat.roles": 3, "oncall.users": 45}) as sb:
        assert len(sync(sb.tap_config("chat", **SEQUENTIAL), "users")) == 7
        assert starts(sb, "offset") == list(range(7))
        assert len(sync(sb.tap_config("chat", max_concurrent_requests=8), "roles")) == 3
        assert len(sync(sb.tap_config("oncall", max_concurrent_requests=8), "users")) == 45


def test_max_concurrent_requests_must_be_at_least_one() -> None:
    with pytest.raises(ConfigError, match="setting 'max_concurrent_requests' must be at least 1"):
        TapGenericRest(config={**CHAT_CONFIG, "max_concurrent_requests": 0})


# --- pages fetched ahead are decoded by the stream's thread ------------------------------


def garbled(
    rows: list[dict[str, Any]], cut: Callable[[int, int], bool], asked: list[int]
) -> Callable[[int], tuple[int, dict[str, str], Any]]:
    """Pages of one user (for chat_server) cut short when ``cut(offset, times_asked)``;
    the offsets asked for go on ``asked``."""

    def answer(offset: int) -> tuple[int, dict[str, str], Any]:
        asked.append(offset)
        page = rows[offset : offset + 1]
        body = {"users": page, "count": len(page), "offset": offset, "total": len(rows)}
        data = json.dumps(body).encode()
        return 200, {}, data[: len(data) // 2] if cut(offset, asked.count(offset)) else data

    return answer


def test_a_garbled_page_fetched_ahead_is_asked_again_and_nothing_is_lost() -> None:
    rows, asked = users(12), []
    with chat_server(garbled(rows, lambda offset, times: offset == 5 and times == 1, asked)) as url:
        got, _ = request_records({**CHAT_CONFIG, "base_url": url, **AHEAD}, "users")

    assert got == [r["_id"] for r in rows]
    assert asked.count(5) == 2
    assert all(asked.count(offset) == 1 for offset in range(12) if offset != 5)


def test_a_page_fetched_ahead_that_is_never_json_fails_as_the_sequential_loop_does() -> None:
    rows: list[dict[str, Any]] = users(12)
    with chat_server(garbled(rows, lambda offset, times: offset == 5, [])) as base_url:
        config = {**CHAT_CONFIG, "base_url": base_url, "max_retries": 2}
        with pytest.raises(RetriableAPIError) as ahead:
            request_records({**config, **AHEAD}, "users")
        with pytest.raises(RetriableAPIError) as sequential:
            request_records({**config, **SEQUENTIAL}, "users")

    assert str(ahead.value) == str(sequential.value)
    assert "stream 'users'" in str(ahead.value)
    assert "not valid JSON" in str(ahead.value)
