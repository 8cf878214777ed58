"""OAuth 2 client credentials: the token fetched, sent, renewed before expiry, and masked."""

from __future__ import annotations

from typing import Any

import pytest

from tap_generic_rest.http import transport
from tap_generic_rest.http.oauth import (
    ClientCredentialsGrant,
    OAuthAuthenticator,
    TokenError,
    fetch_token,
)
from tap_generic_rest.redact import redact
from tests.dlt_oracle import tap_run
from tests.mock_api import CLIENT, OAUTH_TOKEN, MockApi

LIMITS = transport.Limits(timeout=10, max_bytes=1 << 20)


@pytest.fixture
def api():
    server = MockApi()
    yield server
    server.close()


def grant(
    api: MockApi, secret: str = CLIENT[1], scopes: tuple[str, ...] = ()
) -> ClientCredentialsGrant:
    return ClientCredentialsGrant(f"{api.origin}/oauth/token", CLIENT[0], secret, scopes)


def test_the_token_is_fetched_with_the_clients_credentials_and_masked(api):
    token = fetch_token(grant(api, scopes=("read", "write")), limits=LIMITS)
    assert token.access_token == OAUTH_TOKEN
    form = api.requests[-1]["body"]
    assert form == {
        "grant_type": "client_credentials",
        "client_id": CLIENT[0],
        "client_secret": CLIENT[1],
        "scope": "read write",
    }
    assert OAUTH_TOKEN not in redact(f"got {OAUTH_TOKEN} for {CLIENT[1]}")
    assert CLIENT[1] not in redact(f"got {OAUTH_TOKEN} for {CLIENT[1]}")


def test_a_refused_token_request_is_one_line_without_the_secret(api):
    with pytest.raises(TokenError) as caught:
        fetch_token(grant(api, secret="wrong-secret-xyz"), limits=LIMITS)
    message = str(caught.value)
    assert "token endpoint" in message
    assert "401" in message
    assert "\n" not in message
    assert "wrong-secret-xyz" not in message


def test_the_token_is_renewed_before_it_expires(api):
    now = [1000.0]
    authenticator = OAuthAuthenticator(
        origin=api.origin, grant=grant(api), limits=LIMITS, clock=lambda: now[0]
    )
    assert authenticator.token() == OAUTH_TOKEN
    now[0] += 3000  # within the hour the server gave, more than a minute before its end
    authenticator.token()
    assert api.tokens_issued == 1
    now[0] += 560  # 40 s before expiry: renewed
    authenticator.token()
    assert api.tokens_issued == 2


def test_a_spec_with_oauth2_client_credentials_reads_with_the_token(api, caplog):
    config: dict[str, Any] = {
        "client": {
            "base_url": api.base,
            "auth": {
                "type": "oauth2_client_credentials",
                "access_token_url": f"{api.origin}/oauth/token",
                "client_id": 'dlt.secrets["client_id"]',
                "client_secret": 'dlt.secrets["client_secret"]',
            },
        },
        "resources": [{"name": "oauth", "endpoint": {"paginator": "single_page"}}],
    }
    records, _ = tap_run(config, {"client_id": CLIENT[0], "client_secret": CLIENT[1]})
    assert len(records["oauth"]) == 2
    assert api.tokens_issued == 1  # one token for the schema's page and the sync
    assert OAUTH_TOKEN not in caplog.text
