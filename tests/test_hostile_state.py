"""State files and settings that silently did the wrong thing (issue 22, cases 9 to 14).

Each run is the console script against the sandbox, as a user runs it: a bookmark
in epoch milliseconds or in the future, a whole STATE message given as the state
file, a bad bookmark of a late stream, a broken JSON list in an environment variable,
``metrics_log_level``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sandbox import Sandbox

TAP = str(Path(sys.executable).with_name("tap-generic-rest"))
ERROR = "tap-generic-rest: error: "
ALERTS = "/oncall/v2/alerts"


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[str]:
        return self.stderr.splitlines()

    @property
    def messages(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stdout.splitlines()]


def run_cli(
    directory: Path,
    config: dict[str, Any] | None,
    *args: str,
    state: Any = None,
    env: dict[str, str] | None = None,
) -> Run:
    command = [TAP]
    if config is not None:
        path = directory / "config.json"
        path.write_text(json.dumps(config))
        command += ["--config", str(path)]
    if state is not None:
        path = directory / "state.json"
        path.write_text(state if isinstance(state, str) else json.dumps(state))
        command += ["--state", str(path)]
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("TAP_GENERIC_REST", "SINGER"))
    }
    done = subprocess.run(
        [*command, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**clean, **(env or {})},
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr)


def one_line(run: Run, *fragments: str) -> str:
    assert run.code == 1, run.stderr[-3000:]
    assert run.stdout == ""
    assert len(run.lines) == 1 or not any(ERROR in line for line in run.lines[:-1]), run.stderr
    line = run.lines[-1]
    assert line.startswith(ERROR), run.stderr[-3000:]
    assert "Traceback" not in run.stderr
    for fragment in fragments:
        assert fragment in line, line
    return line


@pytest.fixture
def sb() -> Any:
    with Sandbox(seed=5, default_size=30) as sandbox:
        yield sandbox


def alerts_state(value: Any) -> dict[str, Any]:
    return {
        "bookmarks": {"alerts": {"replication_key": "updatedAt", "replication_key_value": value}}
    }


# --- 9 and 12: a bookmark that is not a time, checked before any request -------------------


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(1748736000000, id="epoch-ms"),
        pytest.param(10**30, id="huge-int"),
        pytest.param(-(10**20), id="huge-negative"),
        pytest.param(1.5e300, id="huge-float"),
        pytest.param("2025-13-45T00:00:00Z", id="no-such-day"),
        pytest.param("yesterday", id="word"),
        pytest.param(True, id="boolean"),
        pytest.param({"at": "2025-01-01"}, id="object"),
        pytest.param(["2025-01-01"], id="list"),
    ],
)
def test_a_bookmark_that_is_not_a_time_fails_in_one_line_before_any_request(
    sb: Sandbox, tmp_path: Path, value: Any
) -> None:
    run = run_cli(tmp_path, sb.tap_config("oncall"), state=alerts_state(value))
    one_line(run, "--state", "stream 'alerts'", "(updatedAt)", "not a time")
    assert sb.requests == []  # no stream started: the earlier ones wrote nothing either


def test_epoch_milliseconds_are_named_as_such(sb: Sandbox, tmp_path: Path) -> None:
    run = run_cli(tmp_path, sb.tap_config("oncall"), state=alerts_state(1748736000000))
    one_line(run, "epoch seconds", "ISO 8601")


def test_a_bad_bookmark_of_a_partition_is_caught_before_any_request(
    sb: Sandbox, tmp_path: Path
) -> None:
    state = {
        "bookmarks": {
            "alerts": {
                "partitions": [
                    {"context": {"x": 1}, "replication_key_value": "2025-01-01T00:00:00Z"},
                    {"context": {"x": 2}, "replication_key_value": 1748736000000},
                ]
            }
        }
    }
    run = run_cli(tmp_path, sb.tap_config("oncall"), state=state)
    one_line(run, "--state", "stream 'alerts'")
    assert sb.requests == []


# --- 10: a bookmark in the future -------------------------------------------------------------


def test_a_bookmark_in_the_future_is_a_warning_naming_stream_value_and_clock(
    sb: Sandbox, tmp_path: Path
) -> None:
    config = sb.tap_config("oncall")
    run = run_cli(
        tmp_path,
        config,
        "--catalog",
        catalog_of(tmp_path, config, "alerts"),
        state=alerts_state("9999-12-31T00:00:00Z"),
    )
    assert run.code == 0, run.stderr[-3000:]
    (warning,) = [line for line in run.lines if "later than the run's clock" in line]
    assert "stream 'alerts'" in warning
    assert "9999-12-31T00:00:00Z" in warning
    assert "20" in warning.split("clock", 1)[1]  # the clock's own date-time


def catalog_of(directory: Path, config: dict[str, Any], stream: str) -> str:
    from tap_generic_rest.tap import TapGenericRest

    catalog = TapGenericRest(config=config, setup_mapper=False).catalog_dict
    for entry in catalog["streams"]:
        root = next(m for m in entry["metadata"] if m["breadcrumb"] == [])
        root["metadata"]["selected"] = entry["tap_stream_id"] == stream
    path = directory / "catalog.json"
    path.write_text(json.dumps(catalog))
    return str(path)


# --- 11: a whole STATE message (or Meltano's state) as the state file -----------------------


@pytest.mark.parametrize(
    "wrap",
    [
        pytest.param(lambda state: {"type": "STATE", "value": state}, id="state-message"),
        pytest.param(lambda state: {"singer_state": state}, id="meltano-state"),
        pytest.param(lambda state: {"value": state}, id="value-only"),
    ],
)
def test_a_wrapped_state_is_unwrapped_and_its_bookmark_used(
    sb: Sandbox, tmp_path: Path, wrap: Any
) -> None:
    config = sb.tap_config("oncall")
    catalog = catalog_of(tmp_path, config, "alerts")
    first = run_cli(tmp_path, config, "--catalog", catalog)
    assert first.code == 0, first.stderr[-3000:]
    state = next(m["value"] for m in reversed(first.messages) if m["type"] == "STATE")
    bookmark = state["bookmarks"]["alerts"]["replication_key_value"]
    before = len(sb.requests)
    again = run_cli(tmp_path, config, "--catalog", catalog, state=json.dumps(wrap(state)))
    assert again.code == 0, again.stderr[-3000:]
    assert any("--state: it holds" in line for line in again.lines), again.stderr[-3000:]
    queries = [r.query.get("query", [""])[0] for r in sb.requests[before:] if r.path == ALERTS]
    assert queries
    assert all(query.startswith("updatedAt>=") for query in queries), queries
    records = [m for m in again.messages if m["type"] == "RECORD"]
    assert len(records) < len([m for m in first.messages if m["type"] == "RECORD"])
    assert all(r["record"]["updatedAt"] >= bookmark for r in records)


def test_a_state_without_bookmarks_but_other_keys_is_a_warning(sb: Sandbox, tmp_path: Path) -> None:
    config = sb.tap_config("oncall")
    catalog = catalog_of(tmp_path, config, "alerts")
    run = run_cli(tmp_path, config, "--catalog", catalog, state={"bookmark": {"alerts": {}}})
    assert run.code == 0, run.stderr[-3000:]
    (warning,) = [line for line in run.lines if "holds no 'bookmarks'" in line]
    assert "'bookmark'" in warning


def test_another_singer_message_as_the_state_file_is_refused(sb: Sandbox, tmp_path: Path) -> None:
    message = {"type": "RECORD", "stream": "alerts", "record": {"id": "1"}}
    run = run_cli(tmp_path, sb.tap_config("oncall"), state=message)
    one_line(run, "--state", "RECORD message, not a state")
    assert sb.requests == []


# --- 13: an environment variable that starts like JSON and is not -------------------------


@pytest.mark.parametrize(
    ("variable", "text"),
    [
        ("TAP_GENERIC_REST_AVATAR_TYPES", '["project", "user"'),
        ("TAP_GENERIC_REST_AVATAR_TYPES", "  [project, user]"),
        ("TAP_GENERIC_REST_STREAM_MAP_CONFIG", '{"tenant": "acme"'),
        ("TAP_GENERIC_REST_STREAM_MAPS", "{'users': None}"),
    ],
)
def test_an_env_var_that_starts_like_json_and_is_not_is_refused(
    sb: Sandbox, tmp_path: Path, variable: str, text: str
) -> None:
    env = {f"TAP_GENERIC_REST_{k.upper()}": str(v) for k, v in sb.tap_config("tracker").items()}
    env[variable] = text
    run = run_cli(tmp_path, None, "--config", "ENV", env=env)
    line = one_line(run, f"environment variable {variable}", "not valid JSON")
    assert text.strip() not in line
    assert sb.requests == []


def test_a_plain_comma_list_in_an_env_var_still_works(sb: Sandbox, tmp_path: Path) -> None:
    env = {f"TAP_GENERIC_REST_{k.upper()}": str(v) for k, v in sb.tap_config("tracker").items()}
    env["TAP_GENERIC_REST_AVATAR_TYPES"] = "project,user"
    run = run_cli(tmp_path, None, "--config", "ENV", "--discover", env=env)
    assert run.code == 0, run.stderr[-3000:]


# --- 14: metrics_log_level ---------------------------------------------------------------------


def test_metrics_log_level_warning_quiets_the_metric_lines(sb: Sandbox, tmp_path: Path) -> None:
    config = sb.tap_config("statuspage")
    loud = run_cli(tmp_path, config)
    assert loud.code == 0, loud.stderr[-3000:]
    assert any("METRIC" in line for line in loud.lines)
    quiet = run_cli(tmp_path, {**config, "metrics_log_level": "warning"})
    assert quiet.code == 0, quiet.stderr[-3000:]
    assert not [line for line in quiet.lines if "METRIC" in line]
    assert not [line for line in quiet.lines if "unknown setting" in line]
    assert len([m for m in quiet.messages if m["type"] == "RECORD"]) == len(
        [m for m in loud.messages if m["type"] == "RECORD"]
    )


def test_a_bad_metrics_log_level_is_refused_and_unknown_settings_still_warned(
    sb: Sandbox, tmp_path: Path
) -> None:
    config = sb.tap_config("statuspage")
    run = run_cli(tmp_path, {**config, "metrics_log_level": "LOUD"})
    one_line(run, "setting 'metrics_log_level'", "WARNING")
    typo = run_cli(tmp_path, {**config, "metrics_log_levle": "WARNING"}, "--discover")
    assert typo.code == 0, typo.stderr[-3000:]
    (warning,) = [line for line in typo.lines if "unknown setting" in line]
    assert "'metrics_log_levle' (did you mean 'metrics_log_level'?)" in warning
