"""Hostile servers and interrupted runs (issue 11), through the real console script.

Each test starts a small misbehaving server on 127.0.0.1 (tests/hostile.py) and runs
``tap-generic-rest`` in a subprocess of its own session, its stdout and stderr in
files, and reads its exit status and peak memory (``ru_maxrss`` of that one child,
from ``os.wait4``). Time bounds are generous: each is a fraction of what the run
took before the fix (a trickled body held the tap as long as it trickled, an
endless body grew it without bound, a page past the end held the run 20 s).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.hostile import Handler, HostileServer, compressed_gib, records_page

if TYPE_CHECKING:
    from collections.abc import Callable

TAP = str(Path(sys.executable).with_name("tap-generic-rest"))
ERROR = "tap-generic-rest: error: "
KEY = "hk-2f6a0c9d-reliability"
MB = 1024 * 1024


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    seconds: float
    peak_mb: float
    pid: int

    @property
    def last_line(self) -> str:
        lines = self.stderr.splitlines()
        return lines[-1] if lines else ""

    @property
    def messages(self) -> list[dict[str, Any]]:
        """Every stdout line as JSON: a half-written line fails the test here."""
        return [json.loads(line) for line in self.stdout.splitlines()]


class Tap:
    """The console script running in a session of its own, outputs in files."""

    def __init__(self, config: dict[str, Any], directory: Path, *args: str) -> None:
        path = directory / "config.json"
        path.write_text(json.dumps(config))
        self.out_path, self.err_path = directory / "out.jsonl", directory / "err.txt"
        env = {k: v for k, v in os.environ.items() if not k.startswith("TAP_GENERIC_REST")}
        with self.out_path.open("wb") as out, self.err_path.open("wb") as err:
            self.started = time.monotonic()
            self.process = subprocess.Popen(  # our own console script
                [TAP, "--config", str(path), *args],
                stdout=out,
                stderr=err,
                env=env,
                start_new_session=True,
            )

    def stdout(self) -> str:
        return self.out_path.read_text()

    def stderr(self) -> str:
        return self.err_path.read_text()

    def wait_for(self, predicate: Callable[[Tap], bool], timeout: float = 60) -> None:
        """Poll until ``predicate(self)`` holds (the tap must still be running)."""
        deadline = time.monotonic() + timeout
        while not predicate(self):
            assert self.process.poll() is None, self.stderr()[-3000:]
            assert time.monotonic() < deadline, self.stderr()[-3000:]
            time.sleep(0.02)

    def finish(self, timeout: float = 120) -> Run:
        """Wait for the exit; its status, outputs, duration and peak RSS."""
        deadline = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(self.process.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                self.process.kill()
                pytest.fail(f"the tap did not end within {timeout} s: {self.stderr()[-2000:]}")
            time.sleep(0.01)
        seconds = time.monotonic() - self.started
        code = os.waitstatus_to_exitcode(status)
        self.process.returncode = code
        return Run(code, self.stdout(), self.stderr(), seconds, usage.ru_maxrss / 1024, pid)


def run_tap(config: dict[str, Any], directory: Path, *args: str, timeout: float = 120) -> Run:
    return Tap(config, directory, *args).finish(timeout)


def helpdesk(server: HostileServer, **settings: Any) -> dict[str, Any]:
    return {"source": "helpdesk", "base_url": server.url, "api_key": KEY, **settings}


def assert_one_error_line(run: Run, *fragments: str) -> None:
    assert run.code == 1, run.stderr[-3000:]
    assert run.last_line.startswith(ERROR), run.stderr[-3000:]
    assert "Traceback" not in run.stderr
    assert KEY not in run.stdout + run.stderr
    for fragment in fragments:
        assert fragment in run.last_line, run.last_line


def assert_nothing_left(run: Run) -> None:
    """The tap's session is empty: no thread (they die with it) and no child process."""
    with pytest.raises(ProcessLookupError):
        os.killpg(run.pid, 0)


@pytest.fixture(scope="module")
def footprint(tmp_path_factory: pytest.TempPathFactory) -> float:
    """Peak RSS (MB) of a normal run of every helpdesk stream, 1,000 records each."""
    with HostileServer(lambda h: records_page(h, 1000)) as server:
        run = run_tap(helpdesk(server), tmp_path_factory.mktemp("footprint"))
    assert run.code == 0, run.stderr[-3000:]
    assert len([m for m in run.messages if m["type"] == "RECORD"]) == 5000
    return run.peak_mb


# --- a deadline for the whole request -----------------------------------------------------


def _json_head(handler: Handler, length: int) -> bytes:
    return (
        f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


BODY = json.dumps({"data": [{"id": f"r{i}", "pad": "x" * 20} for i in range(8)]}).encode()


def trickled_body(handler: Handler) -> None:
    """Headers at once, then the body one byte every 0.2 s (about 75 s in all)."""
    handler.trickle(BODY, 0.2, head=_json_head(handler, len(BODY)))


def trickled_headers(handler: Handler) -> None:
    """The status line at once, then the headers one byte every 0.2 s, never the body."""
    headers = b"Content-Type: application/json\r\nX-Pad: " + b"a" * 300 + b"\r\n\r\n"
    handler.trickle(headers, 0.2, head=b"HTTP/1.1 200 OK\r\n")


@pytest.mark.parametrize("ahead", [1, 4], ids=["sequential", "fetched-ahead"])
@pytest.mark.parametrize("respond", [trickled_body, trickled_headers])
def test_a_trickling_server_times_out_at_the_deadline(
    tmp_path: Path, respond: Callable[[Handler], None], ahead: int
) -> None:
    """Every read gets a byte within request_timeout: only a whole-request deadline ends it."""
    with HostileServer(respond) as server:
        config = helpdesk(
            server,
            request_timeout=2,
            max_retries=1,
            max_wait_seconds=0.1,
            max_concurrent_requests=ahead,
        )
        run = run_tap(config, tmp_path)
    assert_one_error_line(
        run,
        "stream 'companies': GET /v1/companies: no complete response within request_timeout "
        "(2 s), after all retries; check request_timeout and the server",
    )
    assert len(server.seen) == 2  # the first try and the one retry
    assert "retry 1 of 1" in run.stderr
    assert run.seconds < 20  # two 2-s deadlines and start-up; a trickle alone takes 60+ s


def test_a_request_past_the_deadline_is_retried_by_the_policy(tmp_path: Path) -> None:
    tries: list[int] = []

    def respond(handler: Handler) -> None:
        tries.append(1)
        if len(tries) == 1:
            trickled_body(handler)
        else:
            records_page(handler, 3)

    with HostileServer(respond) as server:
        run = run_tap(helpdesk(server, request_timeout=1.5, max_wait_seconds=0.1), tmp_path)
    assert run.code == 0, run.stderr[-3000:]
    assert "stream 'companies': DeadlineExceededError on /v1/companies; retry 1 of 3" in run.stderr
    assert len([m for m in run.messages if m["type"] == "RECORD"]) == 15
    assert run.seconds < 30


# --- a cap on the size of one response ----------------------------------------------------


def test_an_endless_body_fails_at_the_cap_with_memory_bounded(
    tmp_path: Path, footprint: float
) -> None:
    """It grew the tap to 4.2 GB in 15 s; now it fails once 8 MB have been read."""
    with HostileServer(lambda h: h.endless(b'{"id": "r0", "pad": "xxxxxxxxxxxxxxxx"}')) as server:
        run = run_tap(helpdesk(server, max_response_mb=8), tmp_path, timeout=60)
    assert_one_error_line(
        run,
        "stream 'companies': GET /v1/companies: the response is larger than max_response_mb (8 MB)",
    )
    assert len(server.seen) == 1  # never retried
    assert run.peak_mb < footprint + 2 * 8 + 40, (run.peak_mb, footprint)


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_a_decompression_bomb_fails_at_the_default_cap_while_decoding(
    tmp_path: Path, footprint: float, encoding: str
) -> None:
    """1 MB that decodes to 1 GiB took 2-3 GB; now decoding stops past 256 MB."""
    compressed_gib(encoding)  # built before the clock starts
    with HostileServer(lambda h: h.bomb(encoding)) as server:
        run = run_tap(helpdesk(server), tmp_path, timeout=90)
    assert_one_error_line(
        run,
        "stream 'companies': GET /v1/companies: the response is larger than "
        "max_response_mb (256 MB)",
    )
    # Normal footprint plus about the cap (the chunks read, then nothing more).
    assert run.peak_mb < footprint + 256 + 96, (run.peak_mb, footprint)


def test_a_compressed_page_under_the_cap_is_decoded(tmp_path: Path) -> None:
    import gzip

    def respond(handler: Handler) -> None:
        offset = int(handler.query.get("offset", ["0"])[0])
        rows = [{"id": f"r{i}"} for i in range(offset, min(250, offset + 100))]
        payload = gzip.compress(json.dumps({"data": rows}).encode())
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Encoding", "gzip")
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    with HostileServer(respond) as server:
        run = run_tap(helpdesk(server, max_response_mb=0.01), tmp_path)
    assert run.code == 0, run.stderr[-3000:]
    assert len([m for m in run.messages if m["type"] == "RECORD"]) == 5 * 250


# --- pages fetched past the end -----------------------------------------------------------


def test_pages_past_the_end_never_hold_back_the_run(tmp_path: Path) -> None:
    """helpdesk has no total: with 4 in flight, pages past the end answer 429 Retry-After 20.

    Each stream's end is known from its short second page; the 429s of the pages
    asked past it once held every request of the run for 20 s (80 s over the run).
    """
    limited: list[str] = []

    def respond(handler: Handler) -> None:
        if int(handler.query.get("offset", ["0"])[0]) >= 200:
            limited.append(handler.path)
            time.sleep(0.05)  # after the end page has been answered
            handler.send_json(429, {"error": "slow down"}, {"Retry-After": "20"})
        else:
            time.sleep(0.02)  # a server far enough away for pages to be fetched ahead
            records_page(handler, 150)

    with HostileServer(respond) as server:
        run = run_tap(helpdesk(server, max_wait_seconds=60), tmp_path)
    assert run.code == 0, run.stderr[-3000:]
    records = [m["record"]["id"] for m in run.messages if m["type"] == "RECORD"]
    assert records == [f"r{i}" for i in range(150)] * 5
    assert limited  # the scenario happened: pages past the end were asked for
    assert run.seconds < 15, run.stderr[-3000:]


def test_a_proxy_from_the_environment_carries_every_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The proxies requests reads from the environment apply to every request of a stream
    (the tap resolves them once per host: tap_generic_rest.http.transport._proxies)."""
    seen: list[str] = []

    def proxy(handler: Handler) -> None:  # a forward proxy that answers itself
        seen.append(handler.path)
        records_page(handler, 250)

    with HostileServer(proxy) as server:
        monkeypatch.setenv("HTTP_PROXY", server.url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        config = {"source": "helpdesk", "base_url": "http://helpdesk.invalid", "api_key": KEY}
        run = run_tap(config, tmp_path)
    assert run.code == 0, run.stderr[-3000:]
    records = [m["record"]["id"] for m in run.messages if m["type"] == "RECORD"]
    assert records == [f"r{i}" for i in range(250)] * 5  # every stream, through the proxy
    assert len(seen) >= 15
    assert all(path.startswith("http://helpdesk.invalid/v1/") for path in seen), seen


# --- interrupted runs ---------------------------------------------------------------------


def endless_records(handler: Handler) -> None:
    """A million records, 100 per page, each page after 20 ms."""
    time.sleep(0.02)
    records_page(handler, 1_000_000)


def records_seen(tap: Tap) -> bool:
    return tap.out_path.stat().st_size > 200_000


def assert_stopped_cleanly(run: Run, signum: int, since: float) -> list[dict[str, Any]]:
    """Exit 128+signal within 2 s, one last line, whole lines, a final STATE after the records."""
    assert run.code == 128 + signum, run.stderr[-3000:]
    assert time.monotonic() - since < 2.0
    name = signal.Signals(signum).name
    assert run.last_line.startswith(f"{ERROR}interrupted by {name}: stopped after"), run.last_line
    assert "Traceback" not in run.stderr
    assert run.stdout.endswith("\n")
    messages = run.messages  # every line is a whole JSON message
    assert messages[-1]["type"] == "STATE"
    assert_nothing_left(run)
    return messages


def record_ids(messages: list[dict[str, Any]]) -> list[str]:
    return [m["record"]["id"] for m in messages if m["type"] == "RECORD"]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
@pytest.mark.parametrize("ahead", [1, 4])
def test_a_signal_mid_sync_stops_with_whole_lines_and_a_final_state(
    tmp_path: Path, signum: int, ahead: int
) -> None:
    with HostileServer(endless_records) as server:
        tap = Tap(helpdesk(server, max_concurrent_requests=ahead), tmp_path)
        tap.wait_for(records_seen)
        sent = time.monotonic()
        tap.process.send_signal(signum)
        run = tap.finish(timeout=30)
    messages = assert_stopped_cleanly(run, signum, sent)
    ids = record_ids(messages)
    # Every record gathered was written, in order, none twice, none skipped.
    assert ids == [f"r{i}" for i in range(len(ids))]
    assert len(ids) >= 1000


@pytest.mark.parametrize("ahead", [1, 4])
def test_a_signal_during_a_retry_wait_or_a_rate_limit_hold_stops_at_once(
    tmp_path: Path, ahead: int
) -> None:
    """After the first page every request is told to wait 30 s: the signal cuts the wait."""

    def respond(handler: Handler) -> None:
        if int(handler.query.get("offset", ["0"])[0]) == 0:
            records_page(handler, 1000)
        else:
            handler.send_json(429, {"error": "slow down"}, {"Retry-After": "30"})

    with HostileServer(respond) as server:
        tap = Tap(helpdesk(server, max_concurrent_requests=ahead, max_wait_seconds=60), tmp_path)
        tap.wait_for(lambda t: "retry 1 of 3 in 30.00 s" in t.stderr())
        time.sleep(0.2)  # well inside the wait (and, with 4 in flight, the gate's hold)
        sent = time.monotonic()
        tap.process.send_signal(signal.SIGTERM)
        run = tap.finish(timeout=30)
    messages = assert_stopped_cleanly(run, signal.SIGTERM, sent)
    assert record_ids(messages) == [f"r{i}" for i in range(100)]  # the first page, all of it


def test_a_target_that_closes_the_pipe_gets_one_line(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    with HostileServer(endless_records) as server:
        path.write_text(json.dumps(helpdesk(server)))
        process = subprocess.Popen(  # our own console script
            [TAP, "--config", str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        assert process.stdout is not None
        assert process.stderr is not None
        for _ in range(50):
            process.stdout.readline()
        process.stdout.close()  # the target goes away
        code = process.wait(timeout=60)
        with process.stderr:
            stderr = process.stderr.read().decode()
    assert code != 0
    last = stderr.splitlines()[-1]
    assert last.startswith(ERROR)
    assert "the target closed the tap's output" in last
    assert "Traceback" not in stderr
    assert "Exception ignored" not in stderr
