"""What a run says about its bookmarks: only what is true, once per stream (issue 26).

The SDK warns "Stream is assumed to be unsorted, progress is not resumable if interrupted"
in every healthy incremental run, without naming the stream; a warning that is always there
teaches users to ignore warnings. The tap says instead, at info level and once per stream,
what an unsorted stream's bookmark does: it advances when the stream completes, and a run
stopped before then starts again where it started (``test_incremental.py``'s
``test_an_interrupted_unsorted_stream_keeps_its_old_bookmark`` shows that nothing is lost).
A sorted stream (oncall ``alerts``) and full-table streams say nothing of the kind.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sandbox import Sandbox

ROOT = Path(__file__).resolve().parent.parent
#: Per source, the incremental streams whose records do not arrive sorted by their key.
UNSORTED = {
    "oncall": {"incidents"},  # alerts are asked for sorted by updatedAt
    "chat": {"rooms", "subscriptions"},
    "helpdesk": {"conversations", "contacts", "companies"},  # filtered by the tap
    "tracker": set(),  # full table only
}
NOTE = "records are not sorted by"


def run_tap(config: dict[str, Any], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return subprocess.run(
        [sys.executable, "-m", "tap_generic_rest", "--config", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )


@pytest.fixture(scope="module")
def sb() -> Any:
    with Sandbox(seed=26, default_size=30) as sandbox:
        yield sandbox


@pytest.mark.parametrize("source", sorted(UNSORTED))
def test_only_unsorted_streams_say_how_their_bookmark_moves(
    sb: Sandbox, source: str, tmp_path: Path
) -> None:
    done = run_tap(sb.tap_config(source), tmp_path)
    assert "assumed to be unsorted" not in done.stderr
    assert "not resumable" not in done.stderr
    notes = [line for line in done.stderr.splitlines() if NOTE in line]
    assert all("| INFO " in line for line in notes), notes
    named = [line.split("stream '", 1)[1].split("'", 1)[0] for line in notes]
    assert sorted(named) == sorted(UNSORTED[source])  # each once
    for line in notes:
        assert "the bookmark advances when the stream completes" in line


def test_the_note_holds_also_for_a_run_from_state(sb: Sandbox, tmp_path: Path) -> None:
    first = run_tap(sb.tap_config("oncall"), tmp_path)
    states = [json.loads(line) for line in first.stdout.splitlines() if '"STATE"' in line[:20]]
    state_path = tmp_path / "state.json"
    state_path.write_text(json.dumps(states[-1]["value"]))
    assert "progress_markers" not in state_path.read_text()  # completed: no markers left
    config_path = tmp_path / "config.json"
    again = subprocess.run(
        [
            sys.executable,
            "-m",
            "tap_generic_rest",
            "--config",
            str(config_path),
            "--state",
            str(state_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert "assumed to be unsorted" not in again.stderr
    assert [line for line in again.stderr.splitlines() if NOTE in line] != []
