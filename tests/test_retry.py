"""Retry policy per source: which failures are retried, how often, how long each wait is.

Waits are asserted without sleeping: backoff's ``time.sleep`` is replaced by a list
that records each wait, and the clock the wait hints are read against is fixed.
"""

from __future__ import annotations

import logging
import re
from email.utils import formatdate
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import backoff._sync
import pytest
import requests
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError

from tap_generic_rest import interrupt
from tap_generic_rest.http import retry_policy as retry_module
from tap_generic_rest.http.retry_policy import RETRY_AFTER, RetryPolicy, WaitHint
from tap_generic_rest.redact import REDACTOR
from tap_generic_rest.sources import all_sources, get_source
from tap_generic_rest.tap import TapGenericRest
from tests.helpers import records_by_stream, run_sync
from tests.responses import make_response

if TYPE_CHECKING:
    from requests_mock import Mocker

BASE = "https://api.example.com"
NOW = 1_700_000_000.0

CONFIGS: dict[str, dict[str, Any]] = {
    "chat": {"source": "chat", "api_token": "tok-7c1e9a2f", "user_id": "uid-5b3d8e04"},
    "helpdesk": {"source": "helpdesk", "api_key": "key-2f6a0c9d"},
    "tracker": {"source": "tracker", "email": "ann@example.com", "api_token": "tok-7c1e9a2f"},
    "statuspage": {"source": "statuspage", "api_key": "key-2f6a0c9d"},
    "oncall": {"source": "oncall", "api_token": "tok-7c1e9a2f"},
}
# One stream per source that answers in one request: (stream, path, selector).
ONE_REQUEST = {
    "chat": ("roles", "/roles.list", "roles"),
    "helpdesk": ("teams", "/v1/teams", "data"),
    "tracker": ("application_roles", "/v1/applicationrole", "data"),
    "statuspage": ("pages", "/v1/resource", "data"),
    "oncall": ("users", "/v2/users", "data"),
}
RECORD = {"chat": {"_id": "r1"}, "tracker": {"key": "jira-software"}}

FIVE_XX = frozenset(range(500, 600))
DEFAULT = frozenset({429, 500, 502, 503, 504})


def _doubling(count: int, cap: float = 300.0) -> list[float]:
    return [min(2.0 * 2**n, cap) for n in range(count)]


# What SOURCES.md says, written out independently of the sources' own declarations.
EXPECTED: dict[str, tuple[frozenset[int], int, list[float], str]] = {
    "chat": (DEFAULT, 3, _doubling(3), "exponential backoff"),
    "helpdesk": (DEFAULT, 3, _doubling(3), "exponential backoff"),
    "oncall": (DEFAULT, 3, _doubling(3), "exponential backoff"),
    "tracker": (frozenset({400, 429}) | FIVE_XX, 10, _doubling(10), "exponential backoff"),
    "statuspage": (frozenset({420, 429}), 3, [62.0] * 3, "constant backoff"),
}


@pytest.fixture(autouse=True)
def _fresh_redactor() -> None:
    REDACTOR.clear()


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every retry wait, recorded instead of waited (backoff itself is given none to sleep)."""
    waits: list[float] = []
    monkeypatch.setattr(backoff._sync, "time", SimpleNamespace(sleep=lambda seconds: None))
    monkeypatch.setattr(interrupt, "pause", lambda seconds, cancelled=None: waits.append(seconds))
    return waits


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> float:
    """The wall clock the reset headers are read against, fixed at NOW."""
    monkeypatch.setattr(retry_module, "time", SimpleNamespace(time=lambda: NOW))
    return NOW


def config(source: str, **overrides: Any) -> dict[str, Any]:
    # One request at a time: the retry waits are those of the sequential loop.
    return {**CONFIGS[source], "base_url": BASE, "max_concurrent_requests": 1, **overrides}


def ok_body(source: str) -> dict[str, Any]:
    _, _, selector = ONE_REQUEST[source]
    return {selector: [RECORD.get(source, {"id": "r1"})]}


def stream_of(source: str, **overrides: Any) -> Any:
    stream, _, _ = ONE_REQUEST[source]
    return TapGenericRest(config=config(source, **overrides)).streams[stream]


def sync_one(source: str, **overrides: Any) -> list[dict[str, Any]]:
    stream, _, _ = ONE_REQUEST[source]
    return records_by_stream(run_sync(config(source, **overrides), streams=[stream])).get(
        stream, []
    )


def mock(requests_mock: Mocker, source: str, responses: list[dict[str, Any]]) -> None:
    _, path, selector = ONE_REQUEST[source]
    requests_mock.get(f"{BASE}{path}", responses)
    # Without a reported total, a short first page is confirmed by asking for the next.
    requests_mock.get(f"{BASE}{path}?offset=1", json={selector: []})


def first_page_calls(requests_mock: Mocker) -> int:
    """Requests for the first page (tries and retries), not the one confirming its end."""
    return sum(r.qs.get("offset", ["0"]) == ["0"] for r in requests_mock.request_history)


def retry_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "; retry " in r.getMessage()]


# --- the policies as declared ------------------------------------------------------


def test_every_source_has_an_expected_policy() -> None:
    assert set(all_sources()) == set(EXPECTED)


@pytest.mark.parametrize("source", sorted(EXPECTED))
def test_policy_matches_sources_md(source: str) -> None:
    statuses, retries, waits, _ = EXPECTED[source]
    policy = get_source(source).retry
    assert policy.statuses == statuses
    assert policy.max_retries == retries
    assert [policy.wait(n, None, 300.0)[0] for n in range(1, retries + 1)] == waits


# --- RetryPolicy.wait ------------------------------------------------------------------


POLICY = RetryPolicy(
    hints=(
        RETRY_AFTER,
        WaitHint("X-RateLimit-Reset", "epoch_ms"),
        WaitHint("X-Reset-Seconds", "epoch_s"),
        WaitHint("X-RateLimit-Period-In-Sec"),
    )
)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, (4.0, "exponential backoff")),
        ({"Retry-After": "7"}, (7.0, "Retry-After")),
        ({"Retry-After": " 2.5 "}, (2.5, "Retry-After")),
        ({"Retry-After": formatdate(NOW + 9, usegmt=True)}, (9.0, "Retry-After")),
        ({"Retry-After": formatdate(NOW - 60, usegmt=True)}, (0.0, "Retry-After")),
        # "-0000" (or no zone) parses to a naive time: still GMT, whatever the local zone.
        ({"Retry-After": formatdate(NOW + 9).replace("+0000", "-0000")}, (9.0, "Retry-After")),
        ({"X-RateLimit-Reset": str(int((NOW + 5) * 1000))}, (5.0, "X-RateLimit-Reset")),
        ({"X-RateLimit-Reset": str(int((NOW - 5) * 1000))}, (0.0, "X-RateLimit-Reset")),
        ({"X-Reset-Seconds": str(int(NOW + 11))}, (11.0, "X-Reset-Seconds")),
        ({"X-RateLimit-Period-In-Sec": "13"}, (13.0, "X-RateLimit-Period-In-Sec")),
        # Unreadable hints fall through to the next hint, then to the backoff.
        (
            {"Retry-After": "soon", "X-RateLimit-Period-In-Sec": "3"},
            (3.0, "X-RateLimit-Period-In-Sec"),
        ),
        ({"Retry-After": "nan"}, (4.0, "exponential backoff")),
        ({"X-RateLimit-Reset": "Tue, 01 Jan 2030 00:00:00 GMT"}, (4.0, "exponential backoff")),
        # The first hint listed wins when several are present.
        ({"Retry-After": "1", "X-RateLimit-Period-In-Sec": "3"}, (1.0, "Retry-After")),
    ],
)
def test_wait_reads_the_hints(headers: dict[str, str], expected: tuple[float, str]) -> None:
    wait, reason = POLICY.wait(2, requests.structures.CaseInsensitiveDict(headers), 300.0, NOW)
    assert (wait, reason) == (pytest.approx(expected[0]), expected[1])


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Retry-After": "3600"},
        {"Retry-After": formatdate(NOW + 3600, usegmt=True)},
        {"X-RateLimit-Reset": str(int((NOW + 3600) * 1000))},
        {"X-Reset-Seconds": str(int(NOW + 3600))},
        {"X-RateLimit-Period-In-Sec": "3600"},
    ],
)
def test_every_wait_is_capped(headers: dict[str, str]) -> None:
    wait, _ = POLICY.wait(10, headers, 30.0, NOW)
    assert wait == 30.0


def test_header_names_are_case_insensitive_on_real_responses() -> None:
    response = make_response({}, status=429, headers={"retry-after": "6"})
    assert POLICY.wait(1, response.headers, 300.0, NOW) == (6.0, "Retry-After")


# --- the stream's hooks, on real responses -------------------------------------------


@pytest.mark.parametrize("source", sorted(EXPECTED))
def test_validate_response_follows_the_policy(source: str) -> None:
    statuses, _, _, _ = EXPECTED[source]
    stream = stream_of(source)
    for status in (*sorted(statuses), 400, 404, 409, 418, 420, 422, 500, 501, 503, 599):
        response = make_response({"error": "x"}, status=status)
        expected = RetriableAPIError if status in statuses else FatalAPIError
        with pytest.raises(expected):
            stream.validate_response(response)
    stream.validate_response(make_response(ok_body(source)))


@pytest.mark.parametrize("source", sorted(EXPECTED))
@pytest.mark.parametrize("status", [401, 403])
def test_refused_credentials_are_fatal_and_name_the_settings(source: str, status: int) -> None:
    stream = stream_of(source)
    with pytest.raises(FatalAPIError) as failure:
        stream.validate_response(make_response({"message": "no"}, status=status))
    message = str(failure.value)
    for setting in get_source(source).auth.settings:
        assert setting in message
    assert str(status) in message


@pytest.mark.parametrize("body", [b'{"roles": [1, 2', b"<html>Bad gateway</html>", b""])
def test_unreadable_body_on_200_is_transient(body: bytes) -> None:
    stream = stream_of("chat")
    with pytest.raises(RetriableAPIError, match=r"stream 'roles'.*200.*not valid JSON.*'roles'"):
        stream.validate_response(make_response(body))


@pytest.mark.parametrize(
    ("overrides", "tries"),
    [({}, 4), ({"max_retries": 0}, 1), ({"max_retries": 1}, 2), ({"max_retries": 12}, 13)],
)
def test_max_retries_setting_overrides_the_count(overrides: dict[str, Any], tries: int) -> None:
    assert stream_of("chat", **overrides).backoff_max_tries() == tries


def test_wait_generator_reads_the_failed_response(frozen_clock: float) -> None:
    stream = stream_of("chat", max_wait_seconds=60)
    waits = stream.backoff_wait_generator()
    assert next(waits) == 0.0
    limited = make_response(
        {}, status=429, headers={"X-RateLimit-Reset": str(int((NOW + 7) * 1000))}
    )
    exc = RetriableAPIError("429", limited)
    assert waits.send(exc) == pytest.approx(7.0)
    assert exc._tap_generic_rest_wait_reason == "X-RateLimit-Reset"  # type: ignore[attr-defined]
    assert waits.send(requests.ConnectionError("refused")) == 4.0  # second retry, no response
    capped = make_response({}, status=429, headers={"Retry-After": "3600"})
    assert waits.send(RetriableAPIError("429", capped)) == 60.0


def test_backoff_handler_logs_the_network_failure_and_the_path_sent(
    caplog: pytest.LogCaptureFixture, sleeps: list[float]
) -> None:
    stream = TapGenericRest(config=config("tracker")).streams["avatars"]
    request = requests.Request("GET", f"{BASE}/v1/avatar/project/system").prepare()
    exc = requests.exceptions.ConnectionError("refused", request=request)
    with caplog.at_level(logging.WARNING):
        stream.backoff_handler({"tries": 1, "wait": 2.0, "exception": exc})  # type: ignore[typeddict-item]
    assert retry_lines(caplog) == [
        "stream 'avatars': ConnectionError on /v1/avatar/project/system; retry 1 of 10 in "
        "2.00 s (wait from backoff)"
    ]
    assert sleeps == [2.0]  # the handler waits, where a signal or a cancelled page can end it


def test_backoff_handler_logs_stream_status_retry_wait_and_source(
    caplog: pytest.LogCaptureFixture, sleeps: list[float]
) -> None:
    stream = stream_of("helpdesk")
    url = f"{BASE}/v1/teams?offset=0&limit=100&api_key=key-2f6a0c9d"
    exc = RetriableAPIError("429", make_response({}, status=429, url=url))
    exc._tap_generic_rest_wait_reason = "X-RateLimit-Reset"  # type: ignore[attr-defined]
    with caplog.at_level(logging.WARNING):
        stream.backoff_handler({"tries": 2, "wait": 1.5, "exception": exc})  # type: ignore[typeddict-item]
    assert retry_lines(caplog) == [
        "stream 'teams': status 429 on /v1/teams; retry 2 of 3 in 1.50 s "
        "(wait from X-RateLimit-Reset)"
    ]


# --- whole runs against requests-mock --------------------------------------------------


@pytest.mark.parametrize(
    ("source", "status"),
    [
        (source, status)
        for source in sorted(EXPECTED)
        for status in sorted(EXPECTED[source][0])
        if status < 505 or status == 599
    ],
)
def test_retried_status_until_retries_run_out(
    requests_mock: Mocker,
    sleeps: list[float],
    caplog: pytest.LogCaptureFixture,
    source: str,
    status: int,
) -> None:
    _, retries, waits, reason = EXPECTED[source]
    mock(requests_mock, source, [{"status_code": status, "json": {"error": "busy"}}])
    with caplog.at_level(logging.WARNING), pytest.raises(RetriableAPIError, match=str(status)):
        sync_one(source)
    assert first_page_calls(requests_mock) == 1 + retries
    assert sleeps == waits
    lines = retry_lines(caplog)
    assert len(lines) == retries
    stream, path, _ = ONE_REQUEST[source]
    for number, (line, wait) in enumerate(zip(lines, waits, strict=True), start=1):
        assert line == (
            f"stream '{stream}': status {status} on {path}; "
            f"retry {number} of {retries} in {wait:.2f} s (wait from {reason})"
        )


@pytest.mark.parametrize("source", sorted(EXPECTED))
def test_retried_status_then_success_delivers_the_records(
    requests_mock: Mocker, sleeps: list[float], source: str
) -> None:
    status = min(EXPECTED[source][0])
    mock(
        requests_mock,
        source,
        [{"status_code": status, "json": {}}, {"status_code": status}, {"json": ok_body(source)}],
    )
    assert sync_one(source) == ok_body(source)[ONE_REQUEST[source][2]]
    assert first_page_calls(requests_mock) == 3
    assert len(sleeps) == 2


@pytest.mark.parametrize(
    ("source", "status"),
    [
        (source, status)
        for source in sorted(EXPECTED)
        for status in (400, 404, 405, 409, 410, 418, 420, 422, 500, 501, 503)
        if status not in EXPECTED[source][0]
    ],
)
def test_other_statuses_fail_at_once(
    requests_mock: Mocker, sleeps: list[float], source: str, status: int
) -> None:
    stream, path, _ = ONE_REQUEST[source]
    mock(requests_mock, source, [{"status_code": status, "json": {"error": "nope"}}])
    with pytest.raises(
        FatalAPIError, match=rf"stream '{stream}': GET {re.escape(path)} -> {status}"
    ):
        sync_one(source)
    assert first_page_calls(requests_mock) == 1
    assert sleeps == []


@pytest.mark.parametrize("source", sorted(EXPECTED))
@pytest.mark.parametrize("status", [401, 403])
def test_refused_credentials_are_never_retried(
    requests_mock: Mocker, sleeps: list[float], source: str, status: int
) -> None:
    mock(requests_mock, source, [{"status_code": status, "json": {"message": "no"}}])
    with pytest.raises(FatalAPIError, match="check the settings"):
        sync_one(source)
    assert first_page_calls(requests_mock) == 1
    assert sleeps == []


@pytest.mark.parametrize("retries", [0, 1, 5])
def test_max_retries_setting_overrides_the_policy(
    requests_mock: Mocker, sleeps: list[float], retries: int
) -> None:
    mock(requests_mock, "statuspage", [{"status_code": 429, "json": {}}])
    with pytest.raises(RetriableAPIError):
        sync_one("statuspage", max_retries=retries)
    assert first_page_calls(requests_mock) == 1 + retries
    assert sleeps == [62.0] * retries


@pytest.mark.parametrize(
    "error",
    [
        requests.exceptions.ConnectionError("Connection refused"),
        requests.exceptions.ConnectTimeout("connect timed out"),
        requests.exceptions.ReadTimeout("read timed out"),
        requests.exceptions.ChunkedEncodingError("IncompleteRead"),
        ConnectionResetError(104, "Connection reset by peer"),
    ],
    ids=lambda e: type(e).__name__,
)
@pytest.mark.parametrize("source", sorted(EXPECTED))
def test_network_failures_are_transient_for_every_source(
    requests_mock: Mocker, sleeps: list[float], source: str, error: Exception
) -> None:
    """statuspage retries no 5xx, but a dropped connection is retried everywhere."""
    mock(requests_mock, source, [{"exc": error}, {"json": ok_body(source)}])
    assert sync_one(source) == ok_body(source)[ONE_REQUEST[source][2]]
    assert first_page_calls(requests_mock) == 2
    assert sleeps == EXPECTED[source][2][:1]


def test_network_failures_give_up_after_the_retries(
    requests_mock: Mocker, sleeps: list[float]
) -> None:
    mock(requests_mock, "oncall", [{"exc": requests.exceptions.ConnectTimeout("timed out")}])
    with pytest.raises(requests.exceptions.ConnectTimeout):
        sync_one("oncall")
    assert first_page_calls(requests_mock) == 4
    assert sleeps == [2.0, 4.0, 8.0]


def test_garbled_200_is_retried_then_fails_naming_stream_selector_and_status(
    requests_mock: Mocker, sleeps: list[float]
) -> None:
    mock(requests_mock, "chat", [{"content": b'{"roles": [{"_id": "r1"}, {"_i'}])
    with pytest.raises(RetriableAPIError) as failure:
        sync_one("chat")
    assert first_page_calls(requests_mock) == 4
    message = str(failure.value)
    assert "stream 'roles'" in message
    assert "'roles'" in message.split("expected", 1)[1]
    assert "-> 200" in message


# --- hints honoured in a whole run ---------------------------------------------------


@pytest.mark.parametrize(
    ("source", "headers", "wait", "reason"),
    [
        ("chat", {"X-RateLimit-Reset": str(int((NOW + 5) * 1000))}, 5.0, "X-RateLimit-Reset"),
        ("chat", {"Retry-After": "7"}, 7.0, "Retry-After"),
        ("helpdesk", {"X-RateLimit-Reset": str(int(NOW + 11))}, 11.0, "X-RateLimit-Reset"),
        ("helpdesk", {"Retry-After": formatdate(NOW + 9, usegmt=True)}, 9.0, "Retry-After"),
        ("tracker", {"Retry-After": "3"}, 3.0, "Retry-After"),
        ("statuspage", {"Retry-After": "1"}, 1.0, "Retry-After"),
        ("oncall", {"X-RateLimit-Period-In-Sec": "13"}, 13.0, "X-RateLimit-Period-In-Sec"),
        # Capped by max_wait_seconds (40 here).
        ("chat", {"X-RateLimit-Reset": str(int((NOW + 600) * 1000))}, 40.0, "X-RateLimit-Reset"),
        ("statuspage", {}, 40.0, "constant backoff"),
        ("oncall", {"X-RateLimit-Period-In-Sec": "600"}, 40.0, "X-RateLimit-Period-In-Sec"),
    ],
)
def test_server_wait_hints_are_honoured_and_capped(
    requests_mock: Mocker,
    sleeps: list[float],
    frozen_clock: float,
    caplog: pytest.LogCaptureFixture,
    source: str,
    headers: dict[str, str],
    wait: float,
    reason: str,
) -> None:
    mock(
        requests_mock,
        source,
        [{"status_code": 429, "headers": headers, "json": {}}, {"json": ok_body(source)}],
    )
    with caplog.at_level(logging.WARNING):
        assert sync_one(source, max_wait_seconds=40) == ok_body(source)[ONE_REQUEST[source][2]]
    assert sleeps == [pytest.approx(wait)]
    (line,) = retry_lines(caplog)
    assert line.endswith(f"in {wait:.2f} s (wait from {reason})")
