"""Every auth kind a spec may name, the secrets it reads, and where they may go.

Each case runs a one-resource spec against requests-mock and checks what the request
carried; secrets read through ``dlt.secrets`` are masked in every log line like the
built-in credentials, and a server refusing them names the settings to check.
"""

from __future__ import annotations

import base64
import logging
from typing import Any
from urllib.parse import quote

import pytest
from singer_sdk.exceptions import FatalAPIError

from tap_generic_rest.errors import ForeignHostError
from tap_generic_rest.http.authenticators import NoAuth
from tap_generic_rest.redact import REDACTOR, install, redact
from tap_generic_rest.spec.compile import compile_spec
from tests.helpers import run_sync

BASE = "https://api.example.com/v1"
SECRET = "sp3c-s3cr3t+/="
OTHER = "0th3r-s3cr3t"


def config(auth: Any, headers: dict[str, Any] | None = None, **settings: Any) -> dict[str, Any]:
    client: dict[str, Any] = {"base_url": BASE, "auth": auth}
    if headers is not None:
        client["headers"] = headers
    return {
        "spec": {"client": client, "resources": [{"name": "things", "endpoint": "/things"}]},
        **settings,
    }


def one_request(requests_mock: Any, cfg: dict[str, Any]) -> Any:
    requests_mock.get(f"{BASE}/things", json=[{"id": 1}])
    run_sync(cfg)
    return requests_mock.request_history[-1]


@pytest.mark.parametrize("quote", ["'", '"'])
def test_api_key_in_a_header_from_a_secret(requests_mock, quote):
    auth = {"type": "api_key", "name": "X-Key", "api_key": f"dlt.secrets[{quote}my_key{quote}]"}
    request = one_request(requests_mock, config(auth, my_key=SECRET))
    assert request.headers["X-Key"] == SECRET


def test_api_key_defaults_to_the_authorization_header(requests_mock):
    auth = {"type": "api_key", "api_key": 'dlt.secrets["api_key"]'}
    request = one_request(requests_mock, config(auth, api_key=SECRET))
    assert request.headers["Authorization"] == SECRET


def test_api_key_in_the_query(requests_mock):
    auth = {
        "type": "api_key",
        "name": "key",
        "api_key": 'dlt.secrets["api_key"]',
        "location": "query",
    }
    request = one_request(requests_mock, config(auth, api_key=SECRET))
    assert request.qs["key"] == [SECRET.lower()]  # requests-mock lower-cases query values
    assert redact(request.url) == f"{BASE}/things?key=****"


def test_api_key_in_a_cookie(requests_mock):
    auth = {
        "type": "api_key",
        "name": "session",
        "api_key": 'dlt.secrets["api_key"]',
        "location": "cookie",
    }
    request = one_request(requests_mock, config(auth, api_key=SECRET))
    assert request.headers["Cookie"] == f"session={SECRET}"


@pytest.mark.parametrize("kind", ["http_basic", "basic"])
def test_http_basic(requests_mock, kind):
    auth = {
        "type": kind,
        "username": 'dlt.secrets["email"]',
        "password": 'dlt.secrets["api_token"]',
    }
    request = one_request(requests_mock, config(auth, email="ann@example.com", api_token=SECRET))
    token = base64.b64encode(f"ann@example.com:{SECRET}".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {token}"
    assert redact(token) == "****"


def test_bearer(requests_mock):
    auth = {"type": "bearer", "token": 'dlt.secrets["api_token"]'}
    request = one_request(requests_mock, config(auth, api_token=SECRET))
    assert request.headers["Authorization"] == f"Bearer {SECRET}"


def test_a_literal_credential_in_the_spec_is_sent_and_masked(requests_mock):
    request = one_request(requests_mock, config({"type": "bearer", "token": SECRET}))
    assert request.headers["Authorization"] == f"Bearer {SECRET}"
    assert redact(f"x {SECRET} y") == "x **** y"


def test_headers_secret_and_plain(requests_mock):
    headers = {
        "X-User-Id": 'dlt.secrets["user_id"]',
        "X-Team": 'dlt.config["team"]',
        "Accept": "application/json",
    }
    auth = {"type": "api_key", "name": "X-Auth-Token", "api_key": 'dlt.secrets["api_token"]'}
    request = one_request(
        requests_mock, config(auth, headers, api_token=SECRET, user_id=OTHER, team="blue-team")
    )
    assert request.headers["X-Auth-Token"] == SECRET
    assert request.headers["X-User-Id"] == OTHER
    assert request.headers["X-Team"] == "blue-team"
    assert request.headers["Accept"] == "application/json"
    assert redact(OTHER) == "****"  # read through dlt.secrets
    assert redact("blue-team") == "blue-team"  # dlt.config: not a secret


def test_no_auth_sends_no_credentials(requests_mock):
    cfg = config(None)
    assert isinstance(compile_spec(cfg).auth.inner, NoAuth)  # type: ignore[attr-defined]
    request = one_request(requests_mock, cfg)
    assert "Authorization" not in request.headers


def test_a_setting_can_come_from_the_environment(requests_mock, monkeypatch):
    monkeypatch.setenv("TAP_GENERIC_REST_PROJECT_TOKEN", SECRET)
    auth = {"type": "bearer", "token": 'dlt.secrets["project_token"]'}
    request = one_request(requests_mock, config(auth))
    assert request.headers["Authorization"] == f"Bearer {SECRET}"
    assert redact(SECRET) == "****"


def test_secrets_never_reach_the_logs(requests_mock, caplog):
    install()
    caplog.set_level(logging.DEBUG)
    auth = {
        "type": "api_key",
        "name": "key",
        "api_key": 'dlt.secrets["api_key"]',
        "location": "query",
    }
    requests_mock.get(f"{BASE}/things", json=[{"id": 1}])
    run_sync(config(auth, api_key=SECRET))
    logging.getLogger("test").warning("url %s/things?key=%s and %s", BASE, SECRET, SECRET)
    assert "GET https://api.example.com/v1/things?key=****" in caplog.text  # requests-mock's line
    assert SECRET not in caplog.text
    assert quote(SECRET, safe="") not in caplog.text


def test_a_refusal_names_the_settings_the_spec_reads(requests_mock):
    requests_mock.get(f"{BASE}/things", status_code=401, json={"error": "no"})
    auth = {
        "type": "http_basic",
        "username": 'dlt.secrets["email"]',
        "password": 'dlt.secrets["api_token"]',
    }
    with pytest.raises(FatalAPIError, match="check the settings email, api_token"):
        run_sync(config(auth, email="ann@example.com", api_token=SECRET))


def test_credentials_are_never_sent_to_another_host(requests_mock):
    requests_mock.get(
        f"{BASE}/things",
        json=[{"id": 1}],
        headers={"Link": '<https://evil.example.net/x>; rel="next"'},
    )
    spec = config({"type": "bearer", "token": 'dlt.secrets["api_token"]'}, api_token=SECRET)
    spec["spec"]["resources"][0]["endpoint"] = {"path": "/things", "paginator": "header_link"}
    with pytest.raises(ForeignHostError, match=r"evil\.example\.net"):
        run_sync(spec)
    assert all("evil" not in r.url for r in requests_mock.request_history)


@pytest.fixture(autouse=True)
def _forget_secrets():
    REDACTOR.clear()
    yield
    REDACTOR.clear()


def test_settings_a_spec_reads_are_not_reported_unknown(requests_mock, caplog):
    requests_mock.get(f"{BASE}/things", json=[{"id": 1}])
    auth = {"type": "bearer", "token": 'dlt.secrets["project_token"]'}
    with caplog.at_level(logging.WARNING):
        run_sync(config(auth, project_token=SECRET, projekt_color="x"))
    warnings = [r.getMessage() for r in caplog.records if "unknown setting" in r.getMessage()]
    assert warnings == ["config: unknown setting ignored: 'projekt_color'"]
