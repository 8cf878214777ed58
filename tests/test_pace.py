"""The pace of fetching ahead (tap_generic_rest.stream.prefetch.Pace) follows the server.

Pages go ahead only where the wait for the server is worth hiding; against a server
that answers at once they are fetched one at a time, on the stream's thread.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from tap_generic_rest.stream import base as client
from tap_generic_rest.stream.prefetch import Pace
from tests.test_prefetch import AHEAD, CHAT_CONFIG, chat_server, request_records, users


def test_the_pace_keeps_as_many_pages_in_flight_as_hide_the_wait() -> None:
    pace = Pace(4)
    assert pace.in_flight == 0  # nothing known: the first page is fetched on the stream's thread
    pace.fetched_here(wall=0.0015, cpu=0.0010)  # 0.5 ms waiting for the server
    pace.used(0.010)
    assert pace.in_flight == 0  # a twentieth of a page's use: nothing ahead
    for _ in range(30):  # the server slows down: the running average follows
        pace.fetched_here(wall=0.026, cpu=0.001)
    assert pace.in_flight == 3  # 25 ms of waiting, 10 ms of use: three pages in flight
    pace.fetched_here(wall=10.0, cpu=0.001)
    assert pace.in_flight == 4  # never more than max_concurrent_requests
    for _ in range(Pace.REMEASURE - 1):
        pace.fetched_ahead()
    assert pace.in_flight == 4
    pace.fetched_ahead()
    assert pace.in_flight == 0  # time to measure the wait again, on the stream's thread
    pace.fetched_here(wall=10.0, cpu=0.001)
    assert pace.in_flight == 4


def overlap_server(delay: float) -> Any:
    """A chat ``/users.list`` (two users a page) answering after ``delay`` seconds; the most
    requests it had in hand at once are kept on ``.most``."""
    rows = users(20)
    lock = threading.Lock()
    state = {"now": 0, "most": 0}

    def answer(offset: int) -> tuple[int, dict[str, str], Any]:
        with lock:
            state["now"] += 1
            state["most"] = max(state["most"], state["now"])
        time.sleep(delay)
        with lock:
            state["now"] -= 1
        page = rows[offset : offset + 2]
        return 200, {}, {"users": page, "count": len(page), "offset": offset, "total": len(rows)}

    return rows, state, answer


@pytest.mark.parametrize(
    ("worth", "overlap"),
    [(1e9, False), (0.0, True)],
    ids=["answers-fast-enough-one-at-a-time", "answers-slowly-pages-ahead"],
)
def test_pages_are_fetched_ahead_only_when_the_pace_says_so(
    monkeypatch: pytest.MonkeyPatch, worth: float, overlap: bool
) -> None:
    monkeypatch.setattr(Pace, "WORTH", worth)
    rows, state, answer = overlap_server(0.02)
    threads: set[str] = set()
    real = client.GenericRestStream._request

    def spy(self: Any, request: Any, context: Any) -> Any:
        threads.add(threading.current_thread().name)
        return real(self, request, context)

    monkeypatch.setattr(client.GenericRestStream, "_request", spy)
    with chat_server(answer) as base_url:
        config = {**CHAT_CONFIG, "base_url": base_url, "page_size": 2, **AHEAD}
        got, _ = request_records(config, "users")

    assert got == [r["_id"] for r in rows]
    assert (state["most"] > 1) is overlap
    # The first page is fetched by the stream's own thread; the others by the same thread
    # one at a time, or by the workers when ahead.
    assert threading.current_thread().name in threads
    assert (len(threads) > 1) is overlap
