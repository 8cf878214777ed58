"""Bad settings and bad input files: one line on stderr naming the culprit, no request.

Each case runs the command line (``tap_generic_rest.__main__.main`` in process, and
a few through the real console script in a subprocess against the sandbox), for a
sync and for ``--discover``: exit status 1, nothing on stdout, exactly one line on
stderr that names the setting or the file, no traceback, no value echoed, and no
request sent (requests-mock, or the sandbox's request log, saw none).
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pytest

from sandbox import Sandbox
from tap_generic_rest.__main__ import main
from tap_generic_rest.redact import REDACTOR
from tap_generic_rest.sources import all_sources, get_source

if TYPE_CHECKING:
    from requests_mock import Mocker

TAP = str(Path(sys.executable).with_name("tap-generic-rest"))
PREFIX = "tap-generic-rest: error: "
SECRET = "s3cr3t-v4lue+/="
GOOD: dict[str, dict[str, Any]] = {
    "chat": {"api_token": SECRET, "user_id": "uid-5b3d8e04"},
    "helpdesk": {"api_key": SECRET},
    "tracker": {"email": "ann@example.com", "api_token": SECRET},
    "statuspage": {"api_key": SECRET},
    "oncall": {"api_token": SECRET},
}
COMMANDS = pytest.mark.parametrize("command", [[], ["--discover"]], ids=["sync", "discover"])


@pytest.fixture(autouse=True)
def _fresh_redactor() -> None:
    REDACTOR.clear()


def good(source: str = "chat", **overrides: Any) -> dict[str, Any]:
    return {"source": source, "base_url": "https://api.example.com", **GOOD[source], **overrides}


def without(config: dict[str, Any], *settings: str) -> dict[str, Any]:
    return {k: v for k, v in config.items() if k not in settings}


def write(path: Path, content: Any) -> str:
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


def run_main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_:
        main(args)
    out, err = capsys.readouterr()
    return int(exit_.value.code or 0), out, err


def assert_one_line(code: int, out: str, err: str, *fragments: str) -> str:
    assert code == 1
    assert out == ""
    assert err.count("\n") == 1, err
    assert err.startswith(PREFIX), err
    assert err.endswith("\n")
    assert "Traceback" not in err
    assert SECRET not in err
    assert quote(SECRET, safe="") not in err
    for fragment in fragments:
        assert fragment in err, err
    return err


# --- settings ------------------------------------------------------------------------------


CONFIG_CASES = [
    pytest.param(without(good(), "source"), ["setting 'source' is required"], id="no-source"),
    pytest.param(without(good(), "base_url"), ["setting 'base_url' is required"], id="no-base-url"),
    pytest.param(
        {}, ["setting 'base_url' is required", "setting 'source' is required"], id="empty"
    ),
    pytest.param(
        dict(good(), source="crm"),
        ["setting 'source' must be one of chat, helpdesk, oncall, statuspage, tracker"],
        id="unknown-source",
    ),
    pytest.param(
        dict(good(), source=5), ["setting 'source' must be a string"], id="source-not-string"
    ),
    pytest.param(
        good(base_url="api.example.com/v1"),
        ["setting 'base_url' must be an http or https URL with a host"],
        id="base-url-no-scheme",
    ),
    pytest.param(
        good(base_url="ftp://api.example.com"),
        ["setting 'base_url' must be an http or https URL with a host"],
        id="base-url-ftp",
    ),
    pytest.param(
        good(base_url="https://"),
        ["setting 'base_url' must be an http or https URL with a host"],
        id="base-url-no-host",
    ),
    pytest.param(
        good(base_url="https:///v1"),
        ["setting 'base_url' must be an http or https URL with a host"],
        id="base-url-empty-host",
    ),
    pytest.param(
        good(base_url="https://api.example.com:port"),
        ["setting 'base_url' is not a valid URL"],
        id="base-url-bad-port",
    ),
    pytest.param(
        good(base_url=f"https://ann:{quote(SECRET, safe='')}@api.example.com"),
        ["setting 'base_url' must not carry a user name or password"],
        id="base-url-with-password",
    ),
    pytest.param(good(base_url=42), ["setting 'base_url' must be a string"], id="base-url-number"),
    pytest.param(good(page_size="ten"), ["setting 'page_size' must be an integer"], id="page-ten"),
    pytest.param(good(page_size=2.5), ["setting 'page_size' must be an integer"], id="page-float"),
    pytest.param(good(page_size=0), ["setting 'page_size' must be at least 1"], id="page-zero"),
    pytest.param(good(page_size=-3), ["setting 'page_size' must be at least 1"], id="page-neg"),
    pytest.param(
        good(max_retries=-1), ["setting 'max_retries' must be at least 0"], id="retries-neg"
    ),
    pytest.param(
        good(max_retries="3"), ["setting 'max_retries' must be an integer"], id="retries-string"
    ),
    pytest.param(
        good(max_wait_seconds=-1), ["setting 'max_wait_seconds' must be at least 0"], id="wait-neg"
    ),
    pytest.param(
        good(request_timeout=0),
        ["setting 'request_timeout' must be greater than 0"],
        id="timeout-zero",
    ),
    pytest.param(
        good(api_token=12345678), ["setting 'api_token' must be a string"], id="token-number"
    ),
    pytest.param(
        good(max_response_mb=0),
        ["setting 'max_response_mb' must be greater than 0"],
        id="max-response-zero",
    ),
    # Issue 11: inputs that would reach the wire other than as meant.
    pytest.param(
        good(base_url="https://api.example.com/api?x=1"),
        ["setting 'base_url' must not have a query string or fragment"],
        id="base-url-query",
    ),
    pytest.param(
        good(base_url="https://api.example.com/api#frag"),
        ["setting 'base_url' must not have a query string or fragment"],
        id="base-url-fragment",
    ),
    pytest.param(
        good(base_url="https://api.example.com/api?"),
        ["setting 'base_url' must not have a query string or fragment"],
        id="base-url-bare-question-mark",
    ),
    *(
        pytest.param(
            good(source, **{setting: SECRET + "\n"}),
            [f"setting '{setting}' contains a control character"],
            id=f"{source}-{setting}-trailing-newline",
        )
        for source in sorted(GOOD)
        for setting in get_source(source).auth.settings
    ),
    pytest.param(
        good("helpdesk", api_key=SECRET[:6] + "\x00" + SECRET[6:]),
        ["setting 'api_key' contains a control character"],
        id="nul-inside",
    ),
    *(
        pytest.param(
            good(source, **{setting: SECRET + "\u20ac"}),
            [f"setting '{setting}' has a character that cannot be sent in an HTTP header"],
            id=f"{source}-{setting}-not-a-header-value",
        )
        for source, setting in [
            ("chat", "api_token"),
            ("chat", "user_id"),
            ("statuspage", "api_key"),
            ("oncall", "api_token"),
        ]
    ),
    pytest.param(
        good("oncall", api_token=" " + SECRET),
        ["setting 'api_token' has a character that cannot be sent in an HTTP header"],
        id="header-leading-space",
    ),
    pytest.param(
        good("statuspage", auth_header="X Key:"),
        ["setting 'auth_header' must be an HTTP header name"],
        id="auth-header-not-a-name",
    ),
    pytest.param(
        good("tracker", email="ann:ops@example.com"),
        ["setting 'email' must not contain ':'"],
        id="basic-user-with-colon",
    ),
    pytest.param(
        good("tracker", avatar_types=["project", ".."]),
        ["setting 'avatar_types' item 2 must be a path segment"],
        id="avatar-type-dot-dot",
    ),
    pytest.param(
        good("tracker", avatar_types=[""]),
        ["setting 'avatar_types' item 1 must be a path segment"],
        id="avatar-type-empty",
    ),
    pytest.param(
        good(page_size="ten", max_retries=-1),
        ["setting 'max_retries' must be at least 0", "setting 'page_size' must be an integer"],
        id="two-problems-one-line",
    ),
]


@COMMANDS
@pytest.mark.parametrize(("config", "fragments"), CONFIG_CASES)
def test_bad_settings(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    requests_mock: Mocker,
    command: list[str],
    config: dict[str, Any],
    fragments: list[str],
) -> None:
    path = write(tmp_path / "config.json", config)
    assert_one_line(*run_main(["--config", path, *command], capsys), *fragments)
    assert requests_mock.call_count == 0


def test_number_secret_is_not_echoed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "config.json", good(api_token=98765432101))
    err = assert_one_line(*run_main(["--config", path], capsys))
    assert "98765432101" not in err


MISSING_CREDENTIALS = [
    (source, setting, blank)
    for source in sorted(all_sources())
    for setting in get_source(source).auth.settings
    for blank in (False, True)
]


@COMMANDS
@pytest.mark.parametrize(("source", "setting", "blank"), MISSING_CREDENTIALS)
def test_credential_the_source_needs(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    requests_mock: Mocker,
    command: list[str],
    source: str,
    setting: str,
    blank: bool,
) -> None:
    config = good(source, **{setting: ""}) if blank else without(good(source), setting)
    path = write(tmp_path / "config.json", config)
    assert_one_line(
        *run_main(["--config", path, *command], capsys),
        f"setting '{setting}' is required for source '{source}'",
    )
    assert requests_mock.call_count == 0


def test_config_split_over_two_files_is_checked_merged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], requests_mock: Mocker
) -> None:
    first = write(tmp_path / "a.json", without(good(), "user_id"))
    second = write(tmp_path / "b.json", {"page_size": 0})
    assert_one_line(
        *run_main(["--config", first, f"--config={second}", "--discover"], capsys),
        "setting 'page_size' must be at least 1",
    )
    assert requests_mock.call_count == 0


def test_no_config_at_all(capsys: pytest.CaptureFixture[str], requests_mock: Mocker) -> None:
    assert_one_line(
        *run_main(["--discover"], capsys),
        "setting 'base_url' is required",
        "setting 'source' is required",
    )
    assert requests_mock.call_count == 0


# --- files ---------------------------------------------------------------------------------


FILE_CASES = [
    pytest.param("{not json", "is not valid JSON", id="not-json"),
    pytest.param("", "is not valid JSON", id="empty"),
    pytest.param("[1, 2]", "must hold a JSON object", id="array"),
    pytest.param('"text"', "must hold a JSON object", id="string"),
    pytest.param("null", "must hold a JSON object", id="null"),
    pytest.param(b"\xff\xfe{}", "is not valid JSON", id="not-utf8"),
]


@COMMANDS
@pytest.mark.parametrize(("content", "fragment"), FILE_CASES)
def test_malformed_config_file(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    requests_mock: Mocker,
    command: list[str],
    content: str | bytes,
    fragment: str,
) -> None:
    path = tmp_path / "config.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    assert_one_line(
        *run_main(["--config", str(path), *command], capsys), f"--config file {path}", fragment
    )
    assert requests_mock.call_count == 0


@COMMANDS
@pytest.mark.parametrize("kind", ["missing", "directory"])
def test_unreadable_config_file(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    requests_mock: Mocker,
    command: list[str],
    kind: str,
) -> None:
    path = tmp_path / "config.json"
    if kind == "directory":
        path.mkdir()
    assert_one_line(
        *run_main(["--config", str(path), *command], capsys),
        f"--config file {path} cannot be read",
    )
    assert requests_mock.call_count == 0


def stream_entry(**changes: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "tap_stream_id": "users",
        "stream": "users",
        "schema": {"type": "object", "properties": {"_id": {"type": "string"}}},
        "key_properties": ["_id"],
        "metadata": [{"breadcrumb": [], "metadata": {"selected": True}}],
    }
    entry.update(changes)
    return {k: v for k, v in entry.items() if v is not ...}


CATALOG_CASES = [
    pytest.param("{", "is not valid JSON", id="not-json"),
    pytest.param([], "must hold a JSON object", id="array"),
    pytest.param({}, "no 'streams' list", id="no-streams"),
    pytest.param({"streams": {}}, "no 'streams' list", id="streams-object"),
    pytest.param({"streams": [5]}, "stream #0 has no 'tap_stream_id'", id="stream-number"),
    pytest.param(
        {"streams": [stream_entry(tap_stream_id=...)]},
        "stream #0 has no 'tap_stream_id'",
        id="no-tap-stream-id",
    ),
    pytest.param(
        {"streams": [stream_entry(schema=[])]},
        "stream 'users': 'schema' is not an object",
        id="schema-list",
    ),
    pytest.param(
        {"streams": [stream_entry(schema={"type": 5})]},
        "stream 'users': 'schema' is not a valid JSON schema (at type)",
        id="schema-type-number",
    ),
    pytest.param(
        {"streams": [stream_entry(schema={"type": "object", "properties": []})]},
        "stream 'users': 'schema' is not a valid JSON schema (at properties)",
        id="properties-list",
    ),
    pytest.param(
        {"streams": [stream_entry(metadata={})]},
        "stream 'users': 'metadata' is not a list",
        id="metadata-object",
    ),
    pytest.param(
        {"streams": [stream_entry(metadata=[1])]},
        "stream 'users': metadata #0 is not an object",
        id="metadata-entry-number",
    ),
    pytest.param(
        {"streams": [stream_entry(metadata=[{"metadata": {}}])]},
        "stream 'users': metadata #0 has no 'breadcrumb' list of strings",
        id="no-breadcrumb",
    ),
    pytest.param(
        {"streams": [stream_entry(metadata=[{"breadcrumb": []}])]},
        "stream 'users': metadata #0 has no 'metadata' object",
        id="no-metadata-object",
    ),
    pytest.param(
        {"streams": [stream_entry(key_properties="_id")]},
        "stream 'users': 'key_properties' is not a list of strings",
        id="key-properties-string",
    ),
    pytest.param(
        {"streams": [stream_entry(replication_method=1)]},
        "stream 'users': 'replication_method' is not a string",
        id="replication-method-number",
    ),
]


@pytest.mark.parametrize(("catalog", "fragment"), CATALOG_CASES)
def test_malformed_catalog_file(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    requests_mock: Mocker,
    catalog: Any,
    fragment: str,
) -> None:
    config = write(tmp_path / "config.json", good())
    path = write(tmp_path / "catalog.json", catalog)
    assert_one_line(
        *run_main(["--config", config, "--catalog", path], capsys),
        f"--catalog file {path}",
        fragment,
    )
    assert requests_mock.call_count == 0


STATE_CASES = [
    pytest.param("{", "is not valid JSON", id="not-json"),
    pytest.param([], "must hold a JSON object", id="array"),
    pytest.param({"bookmarks": []}, "'bookmarks' is not an object", id="bookmarks-list"),
    pytest.param(
        {"bookmarks": {"users": 5}},
        "the bookmark of 'users' is not an object",
        id="bookmark-number",
    ),
    pytest.param(
        {"bookmarks": {"users": {"partitions": {}}}},
        "the 'partitions' of 'users' are not objects with a 'context'",
        id="partitions-object",
    ),
    pytest.param(
        {"bookmarks": {"users": {"partitions": [{"context": []}]}}},
        "the 'partitions' of 'users' are not objects with a 'context'",
        id="partition-context-list",
    ),
]


@pytest.mark.parametrize(("state", "fragment"), STATE_CASES)
def test_malformed_state_file(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    requests_mock: Mocker,
    state: Any,
    fragment: str,
) -> None:
    config = write(tmp_path / "config.json", good())
    path = write(tmp_path / "state.json", state)
    assert_one_line(
        *run_main(["--config", config, "--state", path], capsys), f"--state file {path}", fragment
    )
    assert requests_mock.call_count == 0


def test_missing_catalog_and_state_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], requests_mock: Mocker
) -> None:
    config = write(tmp_path / "config.json", good())
    for option in ("--catalog", "--state"):
        path = tmp_path / f"{option[2:]}.json"
        assert_one_line(
            *run_main(["--config", config, option, str(path)], capsys),
            f"{option} file {path} cannot be read",
        )
    assert requests_mock.call_count == 0


# --- the real console script, against the sandbox ---------------------------------------------


def console(args: list[str]) -> tuple[int, str, str]:
    done = subprocess.run(  # our own console script
        [TAP, *args], capture_output=True, text=True, timeout=120, check=False
    )
    return done.returncode, done.stdout, done.stderr


def test_console_script_fails_before_any_request(tmp_path: Path) -> None:
    """Through the installed script, with logging as users see it: still one line."""
    with Sandbox(seed=3, default_size=5) as sb:
        secret = next(iter(sb.credentials("helpdesk").values()))

        def config(source: str, **changes: Any) -> str:
            return write(tmp_path / f"{source}.json", {**sb.tap_config(source), **changes})

        good_config = config("chat")
        cases: list[tuple[list[str], list[str]]] = [
            (
                [
                    "--config",
                    write(tmp_path / "a.json", without(sb.tap_config("tracker"), "email")),
                ],
                ["setting 'email' is required for source 'tracker'"],
            ),
            (
                ["--config", config("helpdesk", page_size=0), "--discover"],
                ["setting 'page_size' must be at least 1"],
            ),
            (
                ["--config", config("oncall", base_url=sb.url.replace("http", "ftp"))],
                ["setting 'base_url' must be an http or https URL"],
            ),
            (
                ["--config", good_config, "--catalog", write(tmp_path / "c.json", {"x": 1})],
                ["--catalog file", "no 'streams' list"],
            ),
            (
                ["--config", good_config, "--state", write(tmp_path / "s.json", "[")],
                ["--state file", "is not valid JSON"],
            ),
        ]
        for args, fragments in cases:
            err = assert_one_line(*console(args), *fragments)
            assert secret not in err
        assert sb.requests == []


# --- issue 11: a catalog of another source, path segments ----------------------------------


def test_a_catalog_of_another_source_is_refused_naming_its_streams(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], requests_mock: Mocker
) -> None:
    """chat's catalog with helpdesk's settings: chat records would go out as helpdesk's."""
    from tap_generic_rest.tap import TapGenericRest

    catalog = TapGenericRest(config=good("chat"), setup_mapper=False).catalog_dict
    for entry in catalog["streams"]:
        for meta in entry["metadata"]:
            if meta["breadcrumb"] == []:
                meta["metadata"]["selected"] = entry["tap_stream_id"] != "roles"
    config = write(tmp_path / "config.json", good("helpdesk"))
    path = write(tmp_path / "catalog.json", catalog)
    assert_one_line(
        *run_main(["--config", config, "--catalog", path], capsys),
        f"--catalog file {path}",
        "the catalog selects streams that source 'helpdesk' does not have: "
        "channels, rooms, subscriptions, users",  # teams is helpdesk's too; roles deselected
    )
    assert requests_mock.call_count == 0


def test_a_catalog_of_another_source_is_refused_with_settings_from_the_environment(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    requests_mock: Mocker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """--config ENV: the tap itself refuses the catalog, before any request."""
    from tap_generic_rest.tap import TapGenericRest

    catalog = TapGenericRest(config=good("oncall"), setup_mapper=False).catalog_dict
    for name, value in good("statuspage").items():
        monkeypatch.setenv(f"TAP_GENERIC_REST_{name.upper()}", str(value))
    path = write(tmp_path / "catalog.json", catalog)
    root = logging.getLogger()
    handlers = list(root.handlers)
    try:
        code, out, err = run_main(["--config", "ENV", "--catalog", path], capsys)
    finally:  # the SDK's CLI adds a stderr handler (this test's capture) to the root logger
        for handler in [h for h in root.handlers if h not in handlers]:
            root.removeHandler(handler)
    assert code == 1
    assert out == ""
    last = err.splitlines()[-1]
    assert last.startswith(PREFIX)
    assert "the catalog selects streams that source 'statuspage' does not have: " in last
    assert "alerts" in last
    assert "Traceback" not in err
    assert requests_mock.call_count == 0


def test_avatar_types_are_sent_as_one_encoded_path_segment(requests_mock: Mocker) -> None:
    """'a?b=1#c' once rewrote the request (query and fragment); now it is one segment."""
    from tests.helpers import run_sync

    base = "https://api.example.com"
    requests_mock.get(f"{base}/v1/avatar/a%3Fb%3D1%23c%2Fd/system", json={"system": [{"id": "1"}]})
    messages = run_sync(good("tracker", avatar_types=["a?b=1#c/d"]), streams=["avatars"])
    [request] = requests_mock.request_history
    assert request.path == "/v1/avatar/a%3fb%3d1%23c%2fd/system"  # requests-mock lower-cases
    assert request.query == ""
    records = [m["record"] for m in messages if m["type"] == "RECORD"]
    assert records == [{"id": "1", "avatar_type": "a?b=1#c/d"}]
