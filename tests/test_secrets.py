"""No credential ever reaches stdout or stderr, and none is sent to another host.

The real console script runs in a subprocess (logging configured as users see it)
with ``--config`` pointing at a file, for every source, in every scenario: success,
refused credentials, a 404, a 5xx (or rate-limit) storm until the retries run out,
a connection refused, timeouts, all against a sandbox whose error bodies echo the
full request URL and headers. Both output streams are searched for every secret in
every form a URL, a header or a JSON body may carry it. The runs are independent
and start together, so the module takes a few seconds rather than a minute.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import re
import socket
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote, quote_plus

import pytest
from singer_sdk.logging import ConsoleFormatter, StructuredFormatter
from singer_sdk.metrics import Metric, Point

from sandbox import Sandbox
from tap_generic_rest.redact import REDACTOR, install
from tap_generic_rest.registry import all_sources, get_source
from tap_generic_rest.tap import TapGenericRest
from tests.responses import make_response

if TYPE_CHECKING:
    from collections.abc import Iterator

TAP = str(Path(sys.executable).with_name("tap-generic-rest"))
SOURCES = sorted(all_sources())

#: Secrets with characters that URL-encode differently (``+``, ``/``, ``=``, space).
SECRETS: dict[str, str] = {
    "api_token": "tok+/= 7c1e9a2f/Zq+",
    "user_id": "uid+/= 5b3d8e04",
    "api_key": "key+/= 2f6a0c9d==",
    "email": "ann+ops 4e8a1c3b@example.com",
}
#: Credentials the sandbox does not accept: same shapes, other values.
WRONG: dict[str, str] = {
    "api_token": "tok+/= d00df00d/Xy+",
    "user_id": "uid+/= feedbeef",
    "api_key": "key+/= 0badc0de==",
    "email": "bob+ops 9f0e2d1c@example.com",
}
#: Scenarios that each source runs; every one but "success" must fail.
SCENARIOS = ("success", "refused", "not_found", "storm", "connection_refused", "timeout")


def credentials(source: str, values: dict[str, str]) -> dict[str, str]:
    return {setting: values[setting] for setting in get_source(source).auth.settings}


def forms(secret: str) -> set[str]:
    """A secret as it may appear: raw, URL-encoded three ways, and JSON-escaped."""
    found = {secret, quote(secret), quote(secret, safe=""), quote_plus(secret)}
    return found | {json.dumps(f)[1:-1] for f in found}


def leaks(text: str) -> list[str]:
    """Every secret form (and the distinctive core of each secret) found in ``text``."""
    needles: set[str] = set()
    for values in (SECRETS, WRONG):
        for secret in values.values():
            needles |= forms(secret)
            needles.add(secret.split()[1][:8])  # the core: survives any encoding but base64
        basic = f"{values['email']}:{values['api_token']}"
        token = base64.b64encode(basic.encode()).decode()
        needles |= forms(token) | {token[:16]}
    return sorted(n for n in needles if n in text)


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_cli(config: dict[str, Any], directory: Path, name: str, *args: str) -> Run:
    path = directory / f"{name}.json"
    path.write_text(json.dumps(config))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TAP_GENERIC_REST", "SINGER"))}
    done = subprocess.run(  # our own console script
        [TAP, "--config", str(path), *args],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr)


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[tuple[str, str], Run]]:
    """Every (source, scenario) run of the console script, started together."""
    directory = tmp_path_factory.mktemp("secrets")
    fast = {"max_wait_seconds": 0.001, "max_concurrent_requests": 2}
    with (
        Sandbox(seed=5, default_size=12, echo_errors=True) as good,
        Sandbox(
            seed=5,
            default_size=12,
            echo_errors=True,
            fault_rate=1.0,
            faults=("server_error",),
            max_failures_per_request=1000,
        ) as broken,
        Sandbox(
            seed=5,
            default_size=12,
            echo_errors=True,
            fault_rate=1.0,
            faults=("rate_limit",),
            max_failures_per_request=1000,
            retry_after=0,
        ) as limited,
        Sandbox(seed=5, default_size=12, echo_errors=True, latency_ms=400) as slow,
    ):
        for sandbox in (good, broken, limited, slow):
            for source in SOURCES:
                sandbox._app.credentials[source] = credentials(source, SECRETS)
        jobs: dict[tuple[str, str], dict[str, Any]] = {}
        refused_port = closed_port()
        for source in SOURCES:
            mine = credentials(source, SECRETS)
            # statuspage retries no 5xx: its storm is of 420 and 429.
            stormy = broken if 500 in get_source(source).retry.statuses else limited
            jobs[source, "success"] = good.tap_config(source, **mine, **fast)
            jobs[source, "refused"] = good.tap_config(source, **credentials(source, WRONG), **fast)
            jobs[source, "not_found"] = {
                **good.tap_config(source, **mine, **fast),
                "base_url": good.base_url(source) + "/missing",
            }
            jobs[source, "storm"] = stormy.tap_config(source, **mine, **fast)
            jobs[source, "connection_refused"] = {
                **good.tap_config(source, **mine, **fast),
                "base_url": f"http://127.0.0.1:{refused_port}/{source}",
            }
            jobs[source, "timeout"] = slow.tap_config(
                source, **mine, **fast, request_timeout=0.05, max_retries=1
            )
        with ThreadPoolExecutor(max_workers=8) as pool:
            futures = {
                key: pool.submit(run_cli, config, directory, "-".join(key))
                for key, config in jobs.items()
            }
            yield {key: future.result() for key, future in futures.items()}


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("source", SOURCES)
def test_no_secret_in_any_output(
    runs: dict[tuple[str, str], Run], source: str, scenario: str
) -> None:
    run = runs[source, scenario]
    assert leaks(run.output) == [], run.stderr[-3000:]
    if scenario == "success":
        assert run.code == 0, run.stderr[-3000:]
        assert '"type":"RECORD"' in run.stdout.replace(" ", "")
    else:
        assert run.code == 1, run.stderr[-3000:]
        assert run.stderr.splitlines()[-1].startswith("tap-generic-rest: error: ")
        assert "Traceback" not in run.stderr


@pytest.mark.parametrize("source", SOURCES)
def test_refused_credentials_name_the_settings_to_check(
    runs: dict[tuple[str, str], Run], source: str
) -> None:
    last = runs[source, "refused"].stderr.splitlines()[-1]
    assert "-> 401" in last
    for setting in get_source(source).auth.settings:
        assert setting in last


@pytest.mark.parametrize("source", SOURCES)
def test_echoed_error_bodies_still_explain_the_failure(
    runs: dict[tuple[str, str], Run], source: str
) -> None:
    """The sandbox echoed the request: the message keeps the body's text, without secrets."""
    last = runs[source, "not_found"].stderr.splitlines()[-1]
    assert "-> 404 Not Found: {" in last
    assert "No route for" in last or "not_found" in last


def test_an_error_body_is_masked_before_it_is_cut_short() -> None:
    """A secret straddling the excerpt's end must not leave its first half behind."""
    REDACTOR.clear()
    config = {
        "source": "helpdesk",
        "base_url": "https://api.example.com",
        "api_key": SECRETS["api_key"],
    }
    stream = TapGenericRest(config=config).streams["teams"]
    stream.authenticator  # noqa: B018  # registers the key, as the first request does
    for offset in range(170, 200):
        body = ("x" * offset + SECRETS["api_key"] + " tail").encode()
        message = stream.response_error_message(make_response(body, status=404))
        assert leaks(message) == [], offset
        assert SECRETS["api_key"][:5] not in message, offset
    REDACTOR.clear()


@pytest.mark.parametrize("source", SOURCES)
def test_retry_lines_and_metrics_carry_no_query_string(
    runs: dict[tuple[str, str], Run], source: str
) -> None:
    """The SDK's metric lines and our retry lines name paths, never a query string."""
    text = "".join(runs[source, s].stderr for s in SCENARIOS)
    metrics = [line for line in text.splitlines() if "METRIC" in line]
    retries = [line for line in text.splitlines() if "; retry " in line]
    assert metrics
    assert retries
    for line in metrics + retries:
        assert "?" not in line, line
        assert "api_key=" not in line, line
    # Any api_key=... left anywhere in the output is masked.
    assert re.findall(r"api_key=(?!\*\*\*\*)[^&\s\"']+", text) == []
    # One line per retry, ours: the backoff library's own lines are off.
    assert "Backing off" not in text
    assert "Giving up" not in text


def test_query_key_is_masked_in_a_refused_connection_message(
    runs: dict[tuple[str, str], Run],
) -> None:
    """requests puts the full URL (key included) in a connection error; the tap's line names
    the stream and the host only, so no part of the query string is shown at all."""
    last = runs["helpdesk", "connection_refused"].stderr.splitlines()[-1]
    assert "connection refused, after all retries; check base_url" in last
    assert "stream '" in last
    assert "api_key" not in last
    assert "?" not in last


# --- credentials go to the base_url host only -------------------------------------------


class Recorder(ThreadingHTTPServer):
    """A local HTTP server that records each request and answers with ``respond``."""

    daemon_threads = True

    def __init__(self, respond: Any) -> None:
        self.seen: list[tuple[str, dict[str, str]]] = []
        self.respond = respond
        super().__init__(("127.0.0.1", 0), _Handler)
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def close(self) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join()


class _Handler(BaseHTTPRequestHandler):
    server: Recorder
    protocol_version: ClassVar[str] = "HTTP/1.1"

    def do_GET(self) -> None:
        self.server.seen.append((self.path, dict(self.headers.items())))
        status, headers, body = self.server.respond(self.path)
        payload = json.dumps(body).encode()
        self.send_response(status)
        for name, value in {**headers, "Content-Type": "application/json"}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def other_host() -> Iterator[Recorder]:
    server = Recorder(lambda path: (200, {}, {"data": [], "paging": {}}))
    yield server
    server.close()


def test_next_url_on_another_host_is_refused_and_never_requested(
    tmp_path: Path, other_host: Recorder
) -> None:
    def respond(path: str) -> tuple[int, dict[str, str], Any]:
        return (
            200,
            {},
            {
                "data": [{"id": "u1"}],
                "paging": {"next": f"{other_host.url}/v2/users?offset=1"},
            },
        )

    origin = Recorder(respond)
    try:
        config = {"source": "oncall", "base_url": origin.url, **credentials("oncall", SECRETS)}
        run = run_cli(config, tmp_path, "foreign", "--config", str(tmp_path / "foreign.json"))
    finally:
        origin.close()
    assert run.code == 1
    last = run.stderr.splitlines()[-1]
    assert re.search(r"stream '\w+': the next page is on ", last)
    assert other_host.url in last
    assert "refusing to follow it" in last
    assert other_host.seen == []
    assert len(origin.seen) == 1
    assert leaks(run.output) == []


@pytest.mark.parametrize("source", ["helpdesk", "tracker"])
def test_redirect_to_another_host_is_not_followed(
    tmp_path: Path, other_host: Recorder, source: str
) -> None:
    def respond(path: str) -> tuple[int, dict[str, str], Any]:
        return 302, {"Location": f"{other_host.url}{path}"}, {}

    origin = Recorder(respond)
    try:
        config = {"source": source, "base_url": origin.url, **credentials(source, SECRETS)}
        run = run_cli(config, tmp_path, f"redirect-{source}")
    finally:
        origin.close()
    assert run.code == 1
    assert "redirected" in run.stderr.splitlines()[-1]
    assert other_host.seen == []
    assert leaks(run.output) == []


# --- the log-record factory ----------------------------------------------------------------


@pytest.fixture
def redacting_logger() -> Iterator[tuple[logging.Logger, io.StringIO, io.StringIO]]:
    """A logger writing through the SDK's console and structured formatters, redaction on."""
    REDACTOR.clear()
    REDACTOR.add(SECRETS["api_key"])
    REDACTOR.add_query_param("api_key")
    install()
    console, structured = io.StringIO(), io.StringIO()
    logger = logging.getLogger("tests.redaction")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    handlers = [logging.StreamHandler(console), logging.StreamHandler(structured)]
    handlers[0].setFormatter(ConsoleFormatter())
    handlers[1].setFormatter(StructuredFormatter())
    for handler in handlers:
        logger.addHandler(handler)
    yield logger, console, structured
    for handler in handlers:
        logger.removeHandler(handler)
    REDACTOR.clear()


def test_log_arguments_and_tracebacks_are_masked_in_every_formatter(
    redacting_logger: tuple[logging.Logger, io.StringIO, io.StringIO],
) -> None:
    logger, console, structured = redacting_logger
    url = f"https://h/v1/teams?offset=0&api_key={quote_plus(SECRETS['api_key'])}"
    try:
        raise ConnectionError(f"cannot reach {url}")
    except ConnectionError:
        logger.exception("request to %s failed", url)
    logger.info("short key: %s", "https://h/v1?api_key=ab&x=1")
    for text in (console.getvalue(), structured.getvalue()):
        assert leaks(text) == []
        assert "api_key=****" in text
        assert "api_key=ab" not in text
    assert "ConnectionError: cannot reach" in console.getvalue()


def test_records_without_secrets_keep_their_arguments_for_the_sdk(
    redacting_logger: tuple[logging.Logger, io.StringIO, io.StringIO],
) -> None:
    """The SDK's structured formatter turns a metric Point argument into metric_info."""
    logger, _, structured = redacting_logger
    point = Point("counter", Metric.RECORD_COUNT, 3, {"stream": "teams"})
    logger.info("METRIC: %s", point)
    assert json.loads(structured.getvalue())["metric_info"]["value"] == 3
