"""Authenticators on real prepared requests: what is sent, and where it is refused."""

from __future__ import annotations

import base64

import pytest
import requests

from tap_generic_rest.errors import ForeignHostError
from tap_generic_rest.http.authenticators import (
    BasicAuth,
    HeaderKeyAuth,
    HeaderPairAuth,
    QueryKeyAuth,
    origin_of,
)

ORIGIN = "https://api.example.com"


def prepared(url: str, **params: str) -> requests.PreparedRequest:
    return requests.Request("GET", url, params=params).prepare()


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://API.example.com/v1/x?y=1", "https://api.example.com"),
        ("https://api.example.com:443/v1", "https://api.example.com"),
        ("http://127.0.0.1:8080/chat", "http://127.0.0.1:8080"),
        ("http://127.0.0.1:80/chat", "http://127.0.0.1"),
    ],
)
def test_origin_of(url, origin):
    assert origin_of(url) == origin


class TestHeaderKey:
    def test_seed_default_header(self):
        auth = HeaderKeyAuth("api_key").build({"api_key": "k-1"}, ORIGIN)
        request = auth(prepared(f"{ORIGIN}/v1/resource"))
        assert request.headers["api_key"] == "k-1"
        assert "Authorization" not in request.headers

    @pytest.mark.parametrize(
        ("scheme", "expected"), [("OAuth", "OAuth k-1"), ("GenieKey", "GenieKey k-1")]
    )
    def test_header_and_scheme_settings(self, scheme, expected):
        config = {"api_token": "k-1", "auth_header": "Authorization", "auth_scheme": scheme}
        auth = HeaderKeyAuth("api_token").build(config, ORIGIN)
        request = auth(prepared(f"{ORIGIN}/v2/users"))
        assert request.headers["Authorization"] == expected
        assert "api_key" not in request.headers


class TestQueryKey:
    def test_key_added_once_and_query_kept_as_sent(self):
        auth = QueryKeyAuth("api_key").build({"api_key": "a+b/c"}, ORIGIN)
        request = auth(prepared(f"{ORIGIN}/v1/contacts?offset=0&limit=100&sort=a%2Cb"))
        assert (
            request.url == f"{ORIGIN}/v1/contacts?offset=0&limit=100&sort=a%2Cb&api_key=a%2Bb%2Fc"
        )
        # Applying it again (the SDK authenticates twice) must not add a second copy.
        assert auth(request).url == request.url

    def test_key_without_other_params(self):
        auth = QueryKeyAuth("api_key").build({"api_key": "abc"}, ORIGIN)
        assert auth(prepared(f"{ORIGIN}/v1/teams")).url == f"{ORIGIN}/v1/teams?api_key=abc"


def test_basic_auth_header():
    auth = BasicAuth("email", "api_token").build({"email": "me@x.io", "api_token": "t"}, ORIGIN)
    request = auth(prepared(f"{ORIGIN}/v1/board"))
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(b"me@x.io:t").decode()


def test_header_pair():
    spec = HeaderPairAuth((("X-Auth-Token", "api_token"), ("X-User-Id", "user_id")))
    assert spec.settings == ("api_token", "user_id")
    auth = spec.build({"api_token": "tok", "user_id": "uid"}, ORIGIN)
    request = auth(prepared(f"{ORIGIN}/api/v1/users.list"))
    assert request.headers["X-Auth-Token"] == "tok"
    assert request.headers["X-User-Id"] == "uid"


@pytest.mark.parametrize(
    "spec",
    [
        HeaderKeyAuth("api_key"),
        QueryKeyAuth("api_key"),
        BasicAuth("email", "api_token"),
        HeaderPairAuth((("X-Auth-Token", "api_token"), ("X-User-Id", "user_id"))),
    ],
)
@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example.net/v1/x",
        "http://api.example.com/v1/x",  # scheme downgrade
        "https://api.example.com:8443/v1/x",  # other port
    ],
)
def test_credentials_never_go_to_another_origin(spec, url):
    config = {"api_key": "k", "api_token": "t", "user_id": "u", "email": "e@x.io"}
    auth = spec.build(config, ORIGIN)
    with pytest.raises(ForeignHostError, match="refusing to send credentials"):
        auth(prepared(url))
