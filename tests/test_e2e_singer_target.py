"""The tap piped into a plain Singer target: singer-io style target-jsonl, not the Meltano SDK.

Shows that what the tap writes is ordinary Singer that a target built on singer-python reads
(SCHEMA before RECORD, key_properties, STATE), not only what SDK targets accept. target-jsonl
runs from its own virtualenv, installed once into .cache/ (scripts/_plugins.py); the tap runs
as the console script of this virtualenv; the sandbox serves the API on 127.0.0.1.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from scripts._plugins import ensure_singer_target
from tap_generic_rest.sources import all_sources
from tap_generic_rest.tap import SECRET_SETTINGS

SOURCES = sorted(all_sources())
TAP = Path(sys.executable).parent / "tap-generic-rest"


@pytest.fixture(scope="module")
def target_jsonl() -> Path:
    return ensure_singer_target()


def write_json(path: Path, data: dict[str, Any]) -> Path:
    path.touch(mode=0o600)  # the tap's config holds (fake) credentials
    path.write_text(json.dumps(data))
    return path


def pipe(tap_config: Path, target: Path, target_config: Path, log: Path) -> tuple[int, int, str]:
    """``tap-generic-rest --config A | target-jsonl --config B``; returns both exit codes and
    everything both wrote besides the data (the tap's log, the target's output)."""
    with log.open("w") as tap_log:
        tap = subprocess.Popen(
            [str(TAP), "--config", str(tap_config)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=tap_log,
        )
        assert tap.stdout is not None
        loaded = subprocess.run(
            [str(target), "--config", str(target_config)],
            stdin=tap.stdout,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        tap.stdout.close()
        tap_code = tap.wait(timeout=600)
    return tap_code, loaded.returncode, log.read_text() + loaded.stdout + loaded.stderr


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def primary_key(source: str, stream: str) -> str:
    if source == "chat":
        return "_id"
    if (source, stream) == ("tracker", "application_roles"):
        return "key"
    return "id"


def differing_scalars(
    written: dict[str, Any], served: dict[str, Any]
) -> dict[str, tuple[Any, Any]]:
    """Top-level strings, integers and booleans that differ between the two records.

    Floats are left out: singer-python re-encodes numbers with its own precision.
    """
    differ = {}
    for key, value in served.items():
        if isinstance(value, (str, int, bool)) and key in written and written[key] != value:
            differ[key] = (written[key], value)
    return differ


@pytest.mark.parametrize("source", SOURCES)
def test_tap_piped_into_singer_python_target_writes_every_record(
    source: str, target_jsonl: Path, e2e_sandbox: Any, tmp_path: Path
) -> None:
    config = e2e_sandbox.tap_config(source)
    out = tmp_path / "out"
    tap_code, target_code, logs = pipe(
        write_json(tmp_path / "tap.json", config),
        target_jsonl,
        write_json(
            tmp_path / "target.json", {"destination_path": str(out), "do_timestamp_file": False}
        ),
        tmp_path / "tap.log",
    )
    secrets = [str(config[s]) for s in SECRET_SETTINGS if config.get(s)]
    assert not [s for s in secrets if s in logs], "a credential appears in the output"
    assert (tap_code, target_code) == (0, 0), logs[-6000:]

    expected = e2e_sandbox.counts()[source]
    files = {path.stem: read_jsonl(path) for path in out.glob("*.jsonl")}
    assert {stream: len(rows) for stream, rows in files.items()} == expected

    for stream, rows in files.items():
        key = primary_key(source, stream)
        served = {r[key]: r for r in e2e_sandbox.records(source, stream)}
        written = {r[key]: r for r in rows}
        assert written.keys() == served.keys(), stream
        for ident, record in written.items():
            assert not differing_scalars(record, served[ident]), (stream, ident)
