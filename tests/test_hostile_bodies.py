"""Hostile bodies and secrets in odd places (issue 22, cases 1, 3, 4, 8 and 16).

Each test starts a misbehaving server on 127.0.0.1 (tests/hostile.py) and runs the
console script, as a user does: ``--probe`` against a decompression bomb and a
trickle, a response nested deeper than the decoders go, a secret ``base_url`` whose
path is a token, NaN in a page, a body cut short, an error envelope on a 200.
"""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pytest

from tests.hostile import Handler, HostileServer, compressed_gib, records_page
from tests.test_reliability import ERROR, KEY, Run, helpdesk, run_tap, trickled_body

if TYPE_CHECKING:
    from pathlib import Path


def first_page(body: bytes) -> Any:
    """A server whose first companies page is ``body`` (every other page empty)."""

    def respond(handler: Handler) -> None:
        first = handler.query.get("offset", ["0"])[0] == "0"
        if handler.path.startswith("/v1/companies") and first:
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        else:
            handler.send_json(200, {"data": []})

    return respond


def one_line(run: Run, code: int = 1) -> str:
    assert run.code == code, run.stderr[-3000:]
    assert run.last_line.startswith(ERROR), run.stderr[-3000:]
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    assert KEY not in run.stdout + run.stderr
    return run.last_line


# --- 1: the probe reads under the same deadline and size cap as a sync -----------------


def test_the_probe_reads_a_bomb_under_the_size_cap(tmp_path: Path) -> None:
    """1 MB of gzip that decodes to 1 GiB took the probe past 1.9 GB: now it stops at 8 MB."""
    compressed_gib("gzip")
    with HostileServer(lambda h: h.bomb("gzip")) as server:
        run = run_tap(helpdesk(server, max_response_mb=8), tmp_path, "--probe", timeout=120)
    line = one_line(run, code=2)
    assert "the response is larger than max_response_mb (8 MB)" in line
    assert run.peak_mb < 400, run.peak_mb


def test_the_probe_reads_a_trickle_under_the_deadline(tmp_path: Path) -> None:
    """A body trickled over 75 s held the probe 75 s a try: now each try ends at 2 s."""
    with HostileServer(trickled_body) as server:
        config = helpdesk(server, request_timeout=2, max_retries=1, max_wait_seconds=0.1)
        run = run_tap(config, tmp_path, "--probe", timeout=120)
    line = one_line(run, code=2)
    assert "no complete response within request_timeout (2 s)" in line
    assert run.seconds < 20


# --- 3: a response nested deeper than the decoders go --------------------------------------


@pytest.mark.parametrize("long_number", [True, False], ids=["long-number", "plain"])
@pytest.mark.parametrize("depth", [1_500, 50_000])
def test_a_response_nested_too_deep_fails_in_one_line_naming_it(
    tmp_path: Path, depth: int, *, long_number: bool
) -> None:
    number = ', "n": 12345678901234567890' if long_number else ""
    nested = "[" * depth + "]" * depth
    body = f'{{"data": [{{"id": "1", "deep": {nested}{number}}}]}}'.encode()
    with HostileServer(first_page(body)) as server:
        run = run_tap(helpdesk(server), tmp_path)
    line = one_line(run)
    assert "stream 'companies'" in line
    assert "GET /v1/companies" in line
    assert "nested" in line
    assert not [m for m in run.messages if m["type"] == "RECORD" and m["stream"] == "companies"]


def test_a_number_too_long_for_python_fails_in_one_line_naming_the_response(
    tmp_path: Path,
) -> None:
    body = b'{"data": [{"id": "1", "n": ' + b"9" * 5_000 + b"}]}"
    with HostileServer(first_page(body)) as server:
        run = run_tap(helpdesk(server), tmp_path)
    line = one_line(run)
    assert "stream 'companies': GET /v1/companies" in line
    assert "number longer than Python reads" in line


def test_a_response_nested_within_the_bound_is_read_exactly(tmp_path: Path) -> None:
    nested = "[" * 200 + "]" * 200
    body = f'{{"data": [{{"id": "1", "deep": {nested}, "n": 12345678901234567890}}]}}'.encode()
    with HostileServer(first_page(body)) as server:
        run = run_tap(helpdesk(server), tmp_path)
    assert run.code == 0, run.stderr[-3000:]
    (record,) = [m["record"] for m in run.messages if m["type"] == "RECORD"]
    assert record["n"] == 12345678901234567890


# --- 4: every printed part of a secret is masked -------------------------------------------

TOKEN = "Zq7hK2mVx9TbW4cN"  # the webhook-style token in the secret base_url's path


def secret_base_spec(tmp_path: Path, base: str) -> dict[str, Any]:
    spec = {
        "client": {"base_url": 'dlt.secrets["secret_base"]'},
        "resources": [
            {"name": "things", "endpoint": {"path": "/things", "data_selector": "data"}},
        ],
    }
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))
    return {"spec": str(path), "secret_base": base, "max_retries": 1, "max_wait_seconds": 0.1}


def token_forms(token: str) -> set[str]:
    raw = token.encode()
    forms = {token, quote(token, safe=""), token.lower(), token[:8], token[-8:]}
    forms |= {base64.b64encode(raw).decode().rstrip("="), base64.urlsafe_b64encode(raw).decode()}
    return forms


@pytest.mark.parametrize("mode", [[], ["--probe"]], ids=["sync", "probe"])
def test_a_token_in_a_secret_base_url_path_is_masked_in_every_line(
    tmp_path: Path, mode: list[str]
) -> None:
    def respond(handler: Handler) -> None:
        echoed = base64.b64encode(TOKEN.encode()).decode()
        handler.send_json(500, {"error": f"no hook {handler.path} ({echoed})"})

    with HostileServer(respond) as server:
        config = secret_base_spec(tmp_path, f"{server.url}/hooks/{TOKEN}/")
        run = run_tap(config, tmp_path, *mode)
    assert run.code in {1, 2}, run.stderr[-3000:]
    assert "/hooks/" in server.seen[0][0]  # the token was sent, in the path
    out = run.stdout + run.stderr
    leaked = sorted(form for form in token_forms(TOKEN) if form in out)
    assert leaked == [], (leaked, out[-2000:])


def test_a_secret_url_s_query_and_user_info_are_masked(tmp_path: Path) -> None:
    password, signature = "pw-9d2Kq7Lm", "sig4b8c2e1f9a7d"

    def respond(handler: Handler) -> None:
        handler.send_json(500, {"error": f"bad request {handler.path}"})

    with HostileServer(respond) as server:
        host = server.url.removeprefix("http://")
        base = f"http://user:{password}@{host}/v2?sig={signature}"
        run = run_tap(secret_base_spec(tmp_path, base), tmp_path)
    assert run.code == 1, run.stderr[-3000:]
    out = run.stdout + run.stderr
    assert password not in out
    assert signature not in out
    assert quote(signature) not in out


# --- 8: NaN and Infinity -------------------------------------------------------------------


def test_nan_and_infinity_are_written_as_null_and_the_warning_says_so(tmp_path: Path) -> None:
    body = (
        b'{"data": [{"id": "1", "name": "x", "monthly_spend": NaN, "user_count": Infinity},'
        b' {"id": "2", "name": "y", "monthly_spend": -Infinity, "user_count": 3}]}'
    )
    with HostileServer(first_page(body)) as server:
        run = run_tap(helpdesk(server), tmp_path)
    assert run.code == 0, run.stderr[-3000:]
    records = [m["record"] for m in run.messages if m["type"] == "RECORD"]
    assert [(r["monthly_spend"], r["user_count"]) for r in records] == [(None, None), (None, 3)]
    warnings = [line for line in run.stderr.splitlines() if "NaN" in line or "Infinity" in line]
    assert warnings, run.stderr[-3000:]
    assert all("written as null" in line for line in warnings), warnings
    assert any("monthly_spend" in line and "stream 'companies'" in line for line in warnings)
    assert "the value kept" not in run.stderr


# --- 16: advice that names the host and says what happened ---------------------------------


def cut_short(handler: Handler) -> None:
    """Headers promising 5,000 bytes, 100 of them, then the connection closed."""
    handler.wfile.write(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n"
    )
    handler.wfile.write(b'{"data": [' + b" " * 90)
    handler.wfile.flush()
    handler.close_connection = True


def test_a_body_cut_short_names_the_host_and_says_so(tmp_path: Path) -> None:
    with HostileServer(cut_short) as server:
        run = run_tap(helpdesk(server, max_retries=1, max_wait_seconds=0.1), tmp_path)
    line = one_line(run)
    host = server.url.removeprefix("http://")
    assert host in line, line
    assert "the server:" not in line
    assert "cut short" in line
    assert "is up" not in line  # the server is up: it answered


@pytest.mark.parametrize(
    ("envelope", "message"),
    [
        ({"error": {"message": "invalid token", "code": 401}}, "invalid token"),
        ({"errors": [{"message": "Rate plan exceeded"}]}, "Rate plan exceeded"),
        ({"error": "account_inactive", "ok": False}, "account_inactive"),
        ({"errors": ["the org was deleted"]}, "the org was deleted"),
        ({"message": "Bad credentials", "documentation_url": "x"}, "Bad credentials"),
    ],
)
def test_an_error_envelope_on_a_200_is_reported_with_the_server_s_message(
    tmp_path: Path, envelope: dict[str, Any], message: str
) -> None:
    with HostileServer(lambda h: h.send_json(200, envelope)) as server:
        run = run_tap(helpdesk(server), tmp_path)
    line = one_line(run)
    assert message in line, line
    assert "stream '" in line


def test_the_server_s_message_is_masked(tmp_path: Path) -> None:
    envelope = {"error": {"message": f"key {KEY} is invalid"}}
    with HostileServer(lambda h: h.send_json(200, envelope)) as server:
        run = run_tap(helpdesk(server), tmp_path)
    line = one_line(run)
    assert "is invalid" in line
    assert "****" in line


def test_records_still_flow_past_these_checks(tmp_path: Path) -> None:
    with HostileServer(lambda h: records_page(h, 30)) as server:
        run = run_tap(helpdesk(server), tmp_path)
    assert run.code == 0, run.stderr[-3000:]
    assert len([m for m in run.messages if m["type"] == "RECORD"]) == 150


def test_the_probe_quotes_the_server_s_message_of_an_error_envelope(tmp_path: Path) -> None:
    envelope = {"errors": [{"message": "token expired"}]}
    with HostileServer(lambda h: h.send_json(200, envelope)) as server:
        run = run_tap(helpdesk(server), tmp_path, "--probe", "--format", "json", timeout=120)
    assert run.code == 2, run.stderr[-3000:]
    problems = [
        exchange.get("problem")
        for stream in json.loads(run.stdout)["streams"]
        for exchange in stream.get("exchanges", stream.get("requests", []))
    ]
    assert any(p and "token expired" in p for p in problems), run.stdout[-2000:]
