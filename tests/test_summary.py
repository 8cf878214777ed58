"""The run summary on stderr (issue 13): one line per stream and a total, progress on long streams.

Counts are checked against what the sandbox served and logged (records, pages, requests,
retries); seconds are only checked to be there. Progress lines are driven by a fake clock, so
no test depends on how fast the machine is.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox import Sandbox
from tap_generic_rest.summary import PROGRESS_EVERY, RunSummary
from tests.helpers import run_sync

LINE = re.compile(
    r"summary: stream '(?P<stream>\w+)': (?P<records>[\d,]+) records?, (?P<pages>\d+) pages?, "
    r"(?P<requests>\d+) requests?, (?P<retries>\d+) retr(?:y|ies), \d+\.\d\d s"
)
TOTAL = re.compile(
    r"summary: total: (?P<records>[\d,]+) records?, (?P<pages>\d+) pages?, "
    r"(?P<requests>\d+) requests?, (?P<retries>\d+) retr(?:y|ies), (?P<streams>\d+) streams?, "
    r"\d+\.\d\d s"
)


def summary_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("summary: ")]


def parse(lines: list[str]) -> tuple[dict[str, dict[str, int]], dict[str, int]]:
    streams: dict[str, dict[str, int]] = {}
    for line in lines[:-1]:
        match = LINE.fullmatch(line)
        assert match, line
        name = match["stream"]
        streams[name] = {
            k: int(v.replace(",", "")) for k, v in match.groupdict().items() if k != "stream"
        }
    total = TOTAL.fullmatch(lines[-1])
    assert total, lines[-1]
    return streams, {k: int(v.replace(",", "")) for k, v in total.groupdict().items()}


@pytest.mark.parametrize("workers", [1, 4])
def test_one_line_per_stream_and_a_total_matching_what_the_server_saw(
    caplog: pytest.LogCaptureFixture, workers: int
) -> None:
    with Sandbox(seed=9, default_size=30, sizes={"chat.users": 57}) as sb:
        config = sb.tap_config("chat", page_size=10, max_concurrent_requests=workers)
        with caplog.at_level(logging.INFO):
            messages = run_sync(config, streams=["users", "roles", "channels"])
        served = sb.requests
    streams, total = parse(summary_lines(caplog))
    assert sorted(streams) == ["channels", "roles", "users"]  # deselected streams: no line
    records = {name: 0 for name in streams}
    for message in messages:
        if message["type"] == "RECORD":
            records[message["stream"]] += 1
    assert {name: s["records"] for name, s in streams.items()} == records
    assert streams["users"]["records"] == 57
    assert streams["users"]["pages"] == 6  # 57 records at 10 a page; the total ends it
    assert streams["roles"]["pages"] == 1
    paths = {"users": "/users.list", "roles": "/roles.list", "channels": "/channels.list"}
    for name, stats in streams.items():
        sent = [r for r in served if r.path.endswith(paths[name])]
        assert stats["requests"] == len(sent), name
        assert stats["retries"] == 0
    assert total == {
        "records": sum(s["records"] for s in streams.values()),
        "pages": sum(s["pages"] for s in streams.values()),
        "requests": sum(s["requests"] for s in streams.values()),
        "retries": 0,
        "streams": 3,
    }


def test_retries_are_counted_per_stream(caplog: pytest.LogCaptureFixture) -> None:
    """Injected faults, retried at once (max_wait_seconds 0): every retry is in the summary."""
    with Sandbox(
        seed=4,
        default_size=40,
        fault_rate=0.4,
        faults=("server_error", "rate_limit"),
        max_failures_per_request=2,
        retry_after=0,
    ) as sb:
        config = sb.tap_config(
            "helpdesk", page_size=5, max_wait_seconds=0, max_concurrent_requests=1
        )
        with caplog.at_level(logging.INFO):
            run_sync(config)
        faults = sb.fault_count
        sent = len(sb.requests)
    retried = [r.getMessage() for r in caplog.records if "; retry " in r.getMessage()]
    streams, total = parse(summary_lines(caplog))
    assert faults > 0
    assert total["retries"] == faults == len(retried)
    assert total["requests"] == sent
    for name, stats in streams.items():
        assert stats["retries"] == sum(f"stream '{name}':" in line for line in retried), name
        # One page at a time: every request is a page or a retry of one.
        assert stats["requests"] == stats["pages"] + stats["retries"], name


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_progress_lines_come_at_most_every_30_seconds(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    summary = RunSummary(logging.getLogger("tap-generic-rest"), clock=clock)
    stats = summary.stream("alerts")
    progress: list[str] = []
    with caplog.at_level(logging.INFO), stats.running():
        for second in (0, 10, 29, 31, 45, 60, 61, 95, 96):
            clock.now = 1000.0 + second
            stats.records += 100
            stats.page()
        progress = [r.getMessage() for r in caplog.records if "so far" in r.getMessage()]
    assert PROGRESS_EVERY == 30
    # Lines at 31 s (400 records), 61 s (700) and 95 s (800): never two within 30 s.
    assert progress == [
        "stream 'alerts': 400 records so far, 13 records/s",
        "stream 'alerts': 700 records so far, 11 records/s",
        "stream 'alerts': 800 records so far, 8 records/s",
    ]


def test_a_short_stream_has_no_progress_line(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    summary = RunSummary(logging.getLogger("tap-generic-rest"), clock=clock)
    stats = summary.stream("teams")
    with caplog.at_level(logging.INFO), stats.running():
        for _ in range(50):
            stats.records += 1
            stats.page()
    assert not [r for r in caplog.records if "so far" in r.getMessage()]


def test_the_total_comes_after_the_last_stream_and_counts_only_streams_that_ran(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock()
    summary = RunSummary(logging.getLogger("tap-generic-rest"), clock=clock)
    for name, records in (("a", 1), ("b", 2500)):
        stats = summary.stream(name)
        with stats.running():
            clock.now += 2
            stats.records += records
            stats.page()
            stats.request()
        stats.retry()
    summary.stream("skipped")  # never ran (deselected)
    with caplog.at_level(logging.INFO):
        for name in ("a", "skipped", "b"):
            summary.finish(name, ["a", "skipped", "b"])
    assert summary_lines(caplog) == [
        "summary: stream 'a': 1 record, 1 page, 1 request, 1 retry, 2.00 s",
        "summary: stream 'b': 2,500 records, 1 page, 1 request, 1 retry, 2.00 s",
        "summary: total: 2,501 records, 2 pages, 2 requests, 2 retries, 2 streams, 4.00 s",
    ]


def test_the_summary_is_on_stderr_not_stdout() -> None:
    """Through the console script, settings from the environment: stdout holds only messages."""
    with Sandbox(seed=2, default_size=5) as sb:
        settings = {f"TAP_GENERIC_REST_{k.upper()}": v for k, v in sb.tap_config("oncall").items()}
        done = subprocess.run(  # our own console script
            [str(Path(sys.executable).with_name("tap-generic-rest")), "--config", "ENV"],
            env={**os.environ, **settings},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        counts = sb.counts()["oncall"]
    assert done.returncode == 0, done.stderr[-3000:]
    assert all(json.loads(line)["type"] for line in done.stdout.splitlines())
    assert "summary: " not in done.stdout
    summary = [line.split(" | ")[-1] for line in done.stderr.splitlines() if "summary: " in line]
    streams, total = parse(summary)
    assert {name: s["records"] for name, s in streams.items()} == counts
    assert total["records"] == sum(counts.values())
    assert total["streams"] == len(counts)


def test_make_demo_shows_the_summary_lines_meltano_logged() -> None:
    from scripts.demo import summary_lines

    log = "\n".join(
        [
            "2026-11-29T21:16:53.4Z [info     ] tap-generic-rest--helpdesk Beginning sync",
            "2026-11-29T21:16:53.5Z [info     ] tap-generic-rest--helpdesk "
            "summary: stream 'teams': 5 records, 1 page, 1 request, 0 retries, 0.01 s",
            "2026-11-29T21:16:53.5Z [info     ] tap-generic-rest--helpdesk summary: total: "
            "5 records, 1 page, 1 request, 0 retries, 1 stream, 0.01 s",
            "2026-11-29T21:16:54.2Z [info     ] meltano      Run completed",
        ]
    )
    assert summary_lines(log) == [
        "summary: stream 'teams': 5 records, 1 page, 1 request, 0 retries, 0.01 s",
        "summary: total: 5 records, 1 page, 1 request, 0 retries, 1 stream, 0.01 s",
    ]


# --- issue 22, case 15: the summary counts what was written ------------------------------------


def _summary_of(caplog: pytest.LogCaptureFixture, config: dict, streams: list[str]) -> tuple:
    with caplog.at_level(logging.INFO):
        messages = run_sync(config, streams=streams)
    return (*parse(summary_lines(caplog)), messages)


def test_with_batch_config_the_records_written_to_batch_files_are_counted(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    """It said 'total: 0 records, 80 pages': the records went into batch files, uncounted."""
    batch = {
        "encoding": {"format": "jsonl", "compression": "gzip"},
        "storage": {"root": f"file://{tmp_path}", "prefix": "batch-"},
    }
    with Sandbox(seed=4, default_size=30, sizes={"chat.users": 57}) as sb:
        config = sb.tap_config("chat", page_size=10, batch_config=batch)
        streams, total, messages = _summary_of(caplog, config, ["users", "roles"])
    assert not [m for m in messages if m["type"] == "RECORD"]
    assert [m for m in messages if m["type"] == "BATCH"]
    assert streams["users"]["records"] == 57
    assert total["records"] == 57 + streams["roles"]["records"] > 57


def test_a_stream_removed_by_a_stream_map_counts_no_record(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with Sandbox(seed=4, default_size=30, sizes={"chat.users": 57}) as sb:
        config = sb.tap_config("chat", page_size=10, stream_maps={"users": None})
        streams, total, messages = _summary_of(caplog, config, ["users", "roles"])
    written = [m["stream"] for m in messages if m["type"] == "RECORD"]
    assert "users" not in written
    assert streams["users"]["records"] == 0
    assert total["records"] == len(written) == streams["roles"]["records"]


def test_records_a_stream_map_filters_or_copies_are_counted_as_written(
    caplog: pytest.LogCaptureFixture,
) -> None:
    maps = {
        "users": {"__filter__": "record['_id'][-1] in '02468acegikmoqsuwyACEGIKMOQSUWY'"},
        "users_copy": {"__source__": "users"},
    }
    with Sandbox(seed=4, default_size=30, sizes={"chat.users": 57}) as sb:
        config = sb.tap_config("chat", page_size=10, stream_maps=maps)
        streams, total, messages = _summary_of(caplog, config, ["users"])
    written = [m["stream"] for m in messages if m["type"] == "RECORD"]
    assert 57 < len(written) < 2 * 57
    assert streams["users"]["records"] == len(written)
    assert total["records"] == len(written)
