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
import html
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
from urllib.parse import parse_qs, quote, quote_plus, urlsplit

import pytest
from singer_sdk.logging import ConsoleFormatter, StructuredFormatter
from singer_sdk.metrics import Metric, Point

from sandbox import Sandbox
from tap_generic_rest.redact import REDACTOR, install
from tap_generic_rest.redact import redact as redact_text
from tap_generic_rest.sources import all_sources, get_source
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


# --- issue 11: credentials full of special characters, echoed in every encoding -----------

#: The issue's credential; each setting gets a distinct alphanumeric tag in front of it,
#: which no encoding changes: finding a tag anywhere means a form went unmasked.
SPECIAL = "a&b=c%d e+f/ü€\"#;x'<>"
#: What a header can carry: the same without the non-ASCII characters.
SPECIAL_ASCII = "a&b=c%d e+f/\"#;x'<>"
TAGS = {"api_token": "Tk7Qw", "user_id": "Ui3Zr", "api_key": "Ky9Xv", "email": "Em5Jp"}
HEADER_SOURCES = {"chat", "statuspage", "oncall"}


def special_credentials(source: str, *, ascii_only: bool) -> dict[str, str]:
    special = SPECIAL_ASCII if ascii_only else SPECIAL
    return {s: TAGS[s] + special for s in get_source(source).auth.settings}


def _lower_hex(text: str) -> str:
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), text)


def _go_json(text: str) -> str:
    escaped = json.dumps(text, ensure_ascii=False)[1:-1]
    return escaped.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


#: Ways a server may echo a value back, written independently of the tap's masking code.
ECHO_FORMS: dict[str, Any] = {
    "raw": lambda v: v,
    "quote": quote,
    "quote-all": lambda v: quote(v, safe=""),
    "lower-percent": lambda v: _lower_hex(quote(v, safe="")),
    "form-plus": quote_plus,
    "form-plus-lower": lambda v: _lower_hex(quote_plus(v)),
    "encodeURIComponent": lambda v: quote(v, safe="!~*'()"),
    "encodeURI": lambda v: quote(v, safe=";,/?:@&=+$-_.!~*'()#"),
    "twice-encoded": lambda v: quote(quote(v, safe=""), safe=""),
    "json-ascii": lambda v: json.dumps(v)[1:-1],
    "json-utf8": lambda v: json.dumps(v, ensure_ascii=False)[1:-1],
    "json-go": _go_json,
    "json-upper-u": lambda v: re.sub(
        r"\\u([0-9a-f]{4})", lambda m: "\\u" + m.group(1).upper(), json.dumps(v)[1:-1]
    ),
    "html": html.escape,
    "html-decimal": lambda v: "".join(c if c.isalnum() else f"&#{ord(c)};" for c in v),
    "html-hex": lambda v: "".join(c if c.isalnum() else f"&#x{ord(c):X};" for c in v),
}


#: The forms the issue names (and the raw value), swept through the console script; every
#: form of ECHO_FORMS goes through the same masking in process, below.
SWEPT_FORMS = ("raw", "lower-percent", "form-plus", "json-go", "html", "encodeURIComponent")


def every_form(value: str) -> set[str]:
    return {form(value) for form in ECHO_FORMS.values()}


def special_leaks(text: str, values: dict[str, str]) -> list[str]:
    """Every form of every value (and of the basic-auth token), and any tag, found in text."""
    needles = set(TAGS.values())
    secrets = list(values.values())
    if "email" in values:
        token = base64.b64encode(f"{values['email']}:{values['api_token']}".encode()).decode()
        secrets.append(token)
        needles.add(token[:12])
    for secret in secrets:
        needles |= every_form(secret)
    return sorted(n for n in needles if n in text)


def received_credentials(handler: Any) -> list[str]:
    """What the request carried that may be a credential, decoded as the server sees it."""
    found: list[str] = []
    for name in ("X-Auth-Token", "X-User-Id", "api_key"):
        if handler.headers.get(name):
            found.append(handler.headers[name])
    authorization = handler.headers.get("Authorization", "")
    if authorization.startswith("Basic "):
        token = authorization.split(" ", 1)[1]
        user, _, password = base64.b64decode(token).decode().partition(":")
        found += [user, password, token]
    query = parse_qs(urlsplit(handler.path).query)
    found += query.get("api_key", [])
    return found


class _EchoHandler(_Handler):
    """Answers 404 with a plain-text body echoing what it received in one form.

    The form is the first path segment of the request (``/<form>/...``): every run of
    the sweep has its own base_url on one server.
    """

    def do_GET(self) -> None:
        form = ECHO_FORMS[urlsplit(self.path).path.split("/")[1]]
        echoed = " ".join(form(value) for value in received_credentials(self))
        payload = f"denied: {echoed}".encode()
        self.send_response(404)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class EchoServer(Recorder):
    def __init__(self) -> None:
        ThreadingHTTPServer.__init__(self, ("127.0.0.1", 0), _EchoHandler)
        self.seen = []
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()


@pytest.fixture(scope="module")
def echo_runs(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[tuple[str, str], tuple[Run, dict[str, str]]]]:
    """Every source against a server echoing its credentials in every form, runs together."""
    directory = tmp_path_factory.mktemp("echo")
    server = EchoServer()
    try:
        jobs: dict[tuple[str, str], dict[str, Any]] = {}
        for source in SOURCES:
            values = special_credentials(source, ascii_only=source in HEADER_SOURCES)
            for form in SWEPT_FORMS:
                jobs[source, form] = {
                    "source": source,
                    "base_url": f"{server.url}/{form}",
                    **values,
                    "max_concurrent_requests": 1,
                }
        with ThreadPoolExecutor(max_workers=8) as pool:
            futures = {
                key: pool.submit(run_cli, config, directory, "-".join(key))
                for key, config in jobs.items()
            }
            yield {
                key: (future.result(), {k: v for k, v in jobs[key].items() if k in TAGS})
                for key, future in futures.items()
            }
    finally:
        server.close()


@pytest.mark.parametrize("form", SWEPT_FORMS)
@pytest.mark.parametrize("source", SOURCES)
def test_credentials_echoed_in_any_encoding_are_masked(
    echo_runs: dict[tuple[str, str], tuple[Run, dict[str, str]]], source: str, form: str
) -> None:
    run, values = echo_runs[source, form]
    assert special_leaks(run.output, values) == [], run.stderr[-3000:]
    assert run.code == 1
    last = run.stderr.splitlines()[-1]
    assert last.startswith("tap-generic-rest: error: ")
    assert "-> 404 Not Found: denied: ****" in last  # the echo was there, and masked
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize("source", sorted(HEADER_SOURCES))
def test_credentials_a_header_cannot_carry_are_refused_unechoed(
    tmp_path: Path, source: str
) -> None:
    server = EchoServer()
    try:
        values = special_credentials(source, ascii_only=False)
        run = run_cli(
            {"source": source, "base_url": f"{server.url}/raw", **values}, tmp_path, source
        )
    finally:
        server.close()
    assert run.code == 1
    assert run.stdout == ""
    [line] = run.stderr.splitlines()
    assert "cannot be sent in an HTTP header" in line
    assert special_leaks(run.output, values) == []
    assert server.seen == []


@pytest.mark.parametrize("form", sorted(ECHO_FORMS))
@pytest.mark.parametrize("source", SOURCES)
def test_error_bodies_echoing_credentials_in_any_form_are_masked(source: str, form: str) -> None:
    """Every form, every source: the error message built from an echoing body."""
    REDACTOR.clear()
    values = special_credentials(source, ascii_only=source in HEADER_SOURCES)
    tap = TapGenericRest(config={"source": source, "base_url": "https://h.example", **values})
    stream = next(iter(tap.streams.values()))
    stream.authenticator  # noqa: B018  # registers derived forms, as the first request does
    echoed = " ".join(ECHO_FORMS[form](v) for v in values.values())
    message = stream.response_error_message(make_response(f"denied: {echoed}".encode(), status=404))
    assert special_leaks(message, values) == [], message
    assert "denied: ****" in message
    REDACTOR.clear()


def test_every_form_of_a_special_credential_is_masked_in_a_log_line() -> None:
    """The masking itself, form by form, through the logging path users see."""
    REDACTOR.clear()
    install()
    values = special_credentials("tracker", ascii_only=False) | special_credentials(
        "helpdesk", ascii_only=False
    )
    REDACTOR.add(*values.values())
    REDACTOR.add_basic_pair(values["email"], values["api_token"])
    stream = io.StringIO()
    logger = logging.getLogger("tests.redaction.forms")
    logger.propagate = False
    handler = logging.StreamHandler(stream)
    handler.setFormatter(ConsoleFormatter())
    logger.addHandler(handler)
    try:
        for name, form in ECHO_FORMS.items():
            for value in values.values():
                logger.warning("%s: <%s>", name, form(value))
    finally:
        logger.removeHandler(handler)
        REDACTOR.clear()
    text = stream.getvalue()
    assert special_leaks(text, values) == []
    assert text.count("<****>") == len(ECHO_FORMS) * len(values)


def test_credentials_shorter_than_four_characters_are_not_masked_by_value() -> None:
    """As the README says: too likely to mask ordinary text (a query key is masked by name)."""
    REDACTOR.clear()
    REDACTOR.add("abc", "abcd")
    assert redact_text("abc abcd") == "abc ****"
    REDACTOR.add_query_param("api_key")
    assert redact_text("/v1?api_key=ab&x=1") == "/v1?api_key=****&x=1"
    REDACTOR.clear()
