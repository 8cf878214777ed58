"""Failures users meet on the command line are one line each (issue 13).

Through the installed console script, with the SDK's logging as users see it: a bad stream map
expression, flattening without a depth, a refused connection, a failure in the middle of a run,
and ``--test``. The failure is exactly one line, ``tap-generic-rest: error: ...``, the last on
stderr, naming the stream, setting or host and what to check; no traceback, and not the SDK's
``An unhandled error occurred while syncing`` line before it.
"""

from __future__ import annotations

import json
import os
import socket
import ssl
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
from singer_sdk.exceptions import MapExpressionError

from sandbox import Sandbox
from tap_generic_rest.cli.failure_lines import describe, stream_map_error, tag_stream

TAP = str(Path(sys.executable).with_name("tap-generic-rest"))
PREFIX = "tap-generic-rest: error: "
SDK_LINE = "An unhandled error occurred while syncing"


@pytest.fixture(scope="module")
def sb() -> Any:
    with Sandbox(seed=5, default_size=6) as sandbox:
        yield sandbox


def run(tmp_path: Path, config: dict[str, Any], *args: str) -> tuple[int, str, str]:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    done = subprocess.run(  # our own console script
        [TAP, "--config", str(path), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.returncode, done.stdout, done.stderr


def failure_line(code: int, err: str, secrets: list[str]) -> str:
    """The one error line: last on stderr, the only one of its kind, and nothing else at ERROR."""
    assert code == 1, err[-3000:]
    lines = err.splitlines()
    assert lines[-1].startswith(PREFIX), err[-3000:]
    assert sum(line.startswith(PREFIX) for line in lines) == 1, err[-3000:]
    assert "Traceback" not in err
    assert SDK_LINE not in err
    assert not [line for line in lines if "| ERROR" in line], err[-3000:]
    for secret in secrets:
        assert secret not in err
    return lines[-1]


def secrets_of(config: dict[str, Any]) -> list[str]:
    return [str(v) for k, v in config.items() if k in {"api_key", "api_token", "user_id", "email"}]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- through the console script --------------------------------------------------------------


def test_a_bad_stream_map_expression_names_stream_and_property(sb: Any, tmp_path: Path) -> None:
    config = sb.tap_config("chat", stream_maps={"users": {"name_upper": "name.upper(("}})
    line = failure_line(*run(tmp_path, config)[::2], secrets_of(config))
    assert line == (
        f"{PREFIX}setting 'stream_maps': stream 'users', property 'name_upper': "
        "'name.upper((' is not a valid expression ('(' was never closed); check its syntax"
    )
    assert sb.requests == []


def test_a_stream_map_that_fails_on_a_record_names_the_stream(sb: Any, tmp_path: Path) -> None:
    config = sb.tap_config("helpdesk", stream_maps={"teams": {"x": "no_such_name + 1"}})
    line = failure_line(*run(tmp_path, config)[::2], secrets_of(config))
    assert line.startswith(f"{PREFIX}stream 'teams': setting 'stream_maps': "), line
    assert "'no_such_name' is not defined" in line
    assert line.endswith("check the expression")


def test_an_unsupported_stream_map_option_is_one_line(sb: Any, tmp_path: Path) -> None:
    config = sb.tap_config("helpdesk", stream_maps={"teams": {"__else__": "keep"}})
    line = failure_line(*run(tmp_path, config)[::2], secrets_of(config))
    assert line == f"{PREFIX}setting 'stream_maps': Option '__else__=keep' is not supported."


def test_flattening_without_a_depth_is_one_line_naming_both_settings(
    sb: Any, tmp_path: Path
) -> None:
    config = sb.tap_config("oncall", flattening_enabled=True)
    for args in ([], ["--discover"]):
        code, out, err = run(tmp_path, config, *args)
        assert out == ""
        assert err.splitlines() == [
            f"{PREFIX}setting 'flattening_max_depth' is required when 'flattening_enabled' "
            "is true (how many levels of nested properties to flatten, e.g. 1)"
        ]
        assert code == 1
    config["flattening_max_depth"] = 1
    code, _, err = run(tmp_path, config, "--discover")
    assert code == 0, err


def test_a_refused_connection_names_the_stream_and_the_host(tmp_path: Path) -> None:
    port = closed_port()
    config = {
        "source": "statuspage",
        "base_url": f"http://127.0.0.1:{port}/statuspage",
        "api_key": "k3y-refused-8d1f",
        "max_retries": 0,
    }
    line = failure_line(*run(tmp_path, config)[::2], secrets_of(config))
    assert line == (
        f"{PREFIX}stream 'pages': 127.0.0.1:{port}: connection refused, after all retries; "
        "check base_url and that the server is up and reachable"
    )
    assert "HTTPConnectionPool" not in line


def test_a_failure_mid_run_is_one_line_without_the_sdks_line(sb: Any, tmp_path: Path) -> None:
    config = {**sb.tap_config("tracker"), "api_token": "wrong-token-5c1e"}
    line = failure_line(*run(tmp_path, config)[::2], [*secrets_of(config), "wrong-token-5c1e"])
    assert "the server refused the credentials; check the settings email, api_token" in line


def test_dash_dash_test_logs_no_error_for_streams_it_stops_on_purpose(
    sb: Any, tmp_path: Path
) -> None:
    config = sb.tap_config("chat")
    code, _, err = run(tmp_path, config, "--test")
    assert code == 0, err[-3000:]
    assert SDK_LINE not in err
    assert "| ERROR" not in err
    assert "Beginning sync of 'users'" in err  # every stream was tried


# --- describe(): the words of each network failure ------------------------------------------------


def request_to(url: str) -> requests.PreparedRequest:
    return requests.Request("GET", url).prepare()


@pytest.mark.parametrize(
    ("cause", "words", "advice"),
    [
        (
            socket.gaierror(-2, "Name or service not known"),
            "host name not found",
            "check the host name in base_url, and DNS",
        ),
        (
            ssl.SSLError(1, "wrong version number"),
            "TLS handshake failed",
            "check the scheme and port in base_url, and the server's certificate",
        ),
        (
            ConnectionResetError(104, "reset"),
            "connection closed by the server",
            "check the server's logs, or lower page_size and max_concurrent_requests",
        ),
        (
            OSError("something else"),
            "request failed",
            "check base_url and that the server is up and reachable",
        ),
    ],
)
def test_network_failures_in_words(cause: BaseException, words: str, advice: str) -> None:
    url = "https://api.example.com/v1/teams?api_key=k3y-in-url-77"
    try:
        try:
            raise cause
        except OSError as inner:
            raise requests.exceptions.ConnectionError(inner, request=request_to(url)) from inner
    except requests.exceptions.ConnectionError as exc:
        tag_stream(exc, "teams")
        text = describe(exc)
    assert text == f"stream 'teams': api.example.com:443: {words}, after all retries; {advice}"


def test_a_read_timeout_points_at_request_timeout() -> None:
    exc = requests.exceptions.ReadTimeout("read timed out", request=request_to("http://h:81/x"))
    assert describe(exc) == (
        "h:81: no answer within request_timeout, after all retries; "
        "check request_timeout and the server"
    )


def test_the_innermost_stream_is_kept_and_not_repeated() -> None:
    exc = RuntimeError("stream 'boards': startAt 40 was not honoured")
    tag_stream(exc, "boards")
    tag_stream(exc, "parent")
    assert describe(exc) == "stream 'boards': startAt 40 was not honoured"


def test_a_stream_map_error_without_a_syntax_error_keeps_the_sdks_words() -> None:
    exc = MapExpressionError("Failed to evaluate simpleeval expressions 1/0.")
    assert stream_map_error(exc, {"teams": {"x": "1/0"}}) == (
        "setting 'stream_maps': Failed to evaluate simpleeval expressions 1/0; check the expression"
    )


# --- the error line under Meltano's structured logging -------------------------------------------

#: The fields Meltano 4's SingerSDKLogParser requires of a JSON log line.
MELTANO_FIELDS = {"level", "pid", "logger_name", "ts", "thread_name", "app_name", "message"}


def log_config(tmp_path: Path, formatter: dict[str, str]) -> str:
    """A logging config as Meltano writes it for a Singer SDK plugin."""
    path = tmp_path / "tap.singer_sdk_logging.json"
    path.write_text(
        json.dumps(
            {
                "version": 1,
                "disable_existing_loggers": False,
                "formatters": {"singer_formatter": formatter},
                "handlers": {
                    "console": {
                        "class": "logging.StreamHandler",
                        "formatter": "singer_formatter",
                        "stream": "ext://sys.stderr",
                    }
                },
                "root": {"handlers": ["console"], "level": "INFO"},
            }
        )
    )
    return str(path)


def run_with_env(tmp_path: Path, config: dict[str, Any], env: dict[str, str]) -> tuple[int, str]:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    done = subprocess.run(  # our own console script
        [TAP, "--config", str(path)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.returncode, done.stderr


def test_under_structured_logging_every_line_is_a_record_meltano_reads_at_its_level(
    sb: Any, tmp_path: Path
) -> None:
    structured = log_config(tmp_path, {"()": "singer_sdk.logging.StructuredFormatter"})
    config = {**sb.tap_config("helpdesk"), "api_key": "wrong-key-0c4d2a", "pagesize": 3}
    code, err = run_with_env(tmp_path, config, {"SINGER_SDK_LOG_CONFIG": structured})
    assert code == 1
    records = [json.loads(line) for line in err.splitlines()]  # every line is JSON
    assert all(set(record) >= MELTANO_FIELDS for record in records)
    levels = {record["message"]: record["level"] for record in records}
    unknown = "config: unknown setting ignored: 'pagesize' (did you mean 'page_size'?)"
    assert levels[unknown] == "warning"
    errors = [m for m, level in levels.items() if level == "error"]
    assert len(errors) == 1
    assert errors[0].startswith(PREFIX + "stream '")
    assert "refused the credentials" in errors[0]
    assert "wrong-key-0c4d2a" not in err


def test_a_bad_config_before_the_sdk_starts_is_a_json_error_record_too(tmp_path: Path) -> None:
    structured = log_config(tmp_path, {"()": "singer_sdk.logging.StructuredFormatter"})
    config = {"source": "helpdesk", "base_url": "ftp://x", "api_key": "k3y-bad-77"}
    code, err = run_with_env(tmp_path, config, {"SINGER_SDK_LOG_CONFIG": structured})
    assert code == 1
    [record] = [json.loads(line) for line in err.splitlines()]
    assert record["level"] == "error"
    assert (
        record["message"] == f"{PREFIX}setting 'base_url' must be an http or https URL with a host"
    )


def test_without_structured_logging_the_error_line_is_plain_text(tmp_path: Path) -> None:
    plain = log_config(tmp_path, {"format": "%(message)s"})  # Meltano, capability not declared
    config = {"source": "helpdesk", "base_url": "ftp://x", "api_key": "k3y-bad-77"}
    code, err = run_with_env(tmp_path, config, {"SINGER_SDK_LOG_CONFIG": plain})
    assert code == 1
    assert err == f"{PREFIX}setting 'base_url' must be an http or https URL with a host\n"
