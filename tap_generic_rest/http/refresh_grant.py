"""OAuth 2.0 refresh-token grant with rotating refresh tokens (Jira Cloud's 3LO, RFC 6749 6).

The access token is kept in memory and refreshed shortly before it expires. A refresh is
done under the token store's lock (:mod:`tap_generic_rest.http.token_store`): read the
store, and if another run has already refreshed, use its tokens; else ask the token
endpoint, register the new tokens with the redactor, and **write them to the store before
the new access token is used**. A run killed at any later moment leaves the store holding
the newest refresh token; a run killed between the server's answer and the write leaves
the previous one, which a server with a reuse leeway (Atlassian: 10 minutes) still takes.

The refresh token first comes from the ``refresh_token`` setting; once rotated, the store's
copy wins, until the setting holds a value the chain did not start from (the user consented
again).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import requests
from singer_sdk.authenticators import APIAuthenticatorBase
from typing_extensions import override

from tap_generic_rest.errors import ForeignHostError, TokenRefreshError
from tap_generic_rest.http import transport
from tap_generic_rest.http.authenticators import origin_of
from tap_generic_rest.http.body import json_body
from tap_generic_rest.http.token_store import StoredTokens, TokenStore, digest
from tap_generic_rest.redact import REDACTOR

if TYPE_CHECKING:
    from collections.abc import Mapping

#: Refresh when the access token has less than this to live (seconds).
REFRESH_MARGIN = 60.0
#: Attempts at the token endpoint when it fails transiently (no answer, 429, 5xx).
TOKEN_ATTEMPTS = 3
_TRANSIENT = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RefreshTokenAuth:
    """A spec's ``oauth2_refresh_token`` auth: the settings each credential is read from."""

    token_url: str
    client_id_setting: str
    client_secret_setting: str
    refresh_token_setting: str
    store_setting: str
    #: How the token request is encoded: ``json`` (Atlassian) or ``form`` (RFC 6749).
    body: str = "form"

    @property
    def settings(self) -> tuple[str, ...]:
        """Credential settings this auth requires."""
        return (
            self.client_id_setting,
            self.client_secret_setting,
            self.refresh_token_setting,
            self.store_setting,
        )

    def build(self, config: Mapping[str, Any], origin: str) -> APIAuthenticatorBase:
        """The authenticator, its secrets registered for masking before anything is sent."""
        secret, seed = str(config[self.client_secret_setting]), str(config[self.refresh_token_setting])
        REDACTOR.add(secret, seed)
        return RefreshTokenAuthenticator(
            origin=origin,
            token_url=self.token_url,
            client_id=str(config[self.client_id_setting]),
            client_secret=secret,
            seed_refresh_token=seed,
            store=TokenStore(str(config[self.store_setting])),
            limits=transport.Limits.from_config(config),
            body=self.body,
        )


class RefreshTokenAuthenticator(APIAuthenticatorBase):
    """``Authorization: Bearer <access token>``, refreshed (and persisted) as needed."""

    def __init__(  # noqa: PLR0913
        self,
        *,
        origin: str,
        token_url: str,
        client_id: str,
        client_secret: str,
        seed_refresh_token: str,
        store: TokenStore,
        limits: transport.Limits,
        body: str = "form",
    ) -> None:
        super().__init__()
        self.origin = origin
        self.token_url = token_url
        self._client_id = client_id
        self._client_secret = client_secret
        self._seed = seed_refresh_token
        self._seeded_from = digest(seed_refresh_token)
        self.store = store
        self._limits = limits
        self._body = body
        self._lock = threading.Lock()
        self._access: str | None = None
        self._expires_at = 0.0
        self._session = transport.new_session()

    @override
    def authenticate_request(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        url = request.url or ""
        if origin_of(url) != self.origin:
            msg = (
                f"refusing to send credentials to {origin_of(url)}: "
                f"only {self.origin} (the base_url host) may receive them"
            )
            raise ForeignHostError(msg)
        request.headers["Authorization"] = f"Bearer {self.access_token()}"
        return request

    def access_token(self) -> str:
        """A valid access token: the one held, the store's, or a new one."""
        with self._lock:
            if self._access is None or self._expires_at - REFRESH_MARGIN <= time.time():
                self._renew()
            assert self._access is not None  # noqa: S101  # _renew sets it or raises
            return self._access

    def _renew(self) -> None:
        with self.store.locked():
            stored = self.store.read()
            if stored is not None and stored.seeded_from != self._seeded_from:
                stored = None  # the setting holds a new grant: its token starts a new chain
            now = time.time()
            if stored is not None and stored.access_valid(now, REFRESH_MARGIN) and stored.access_token != self._access:
                REDACTOR.add(stored.refresh_token, stored.access_token)
                self._adopt(stored)  # another run refreshed: use what it wrote
                return
            refresh = stored.refresh_token if stored is not None else self._seed
            REDACTOR.add(refresh)
            answer = self._ask(refresh)
            access = answer.get("access_token")
            if not isinstance(access, str) or not access:
                raise self._error("answered without an access_token")
            new_refresh = answer.get("refresh_token")
            new_refresh = new_refresh if isinstance(new_refresh, str) and new_refresh else refresh
            REDACTOR.add(access, new_refresh)  # before anything could print them
            expires_in = answer.get("expires_in")
            lifetime = float(expires_in) if isinstance(expires_in, int | float) and not isinstance(expires_in, bool) else 3600.0
            tokens = StoredTokens(new_refresh, self._seeded_from, access, now + lifetime)
            self.store.write(tokens)  # on disk before the access token is ever used
            self._adopt(tokens)

    def _adopt(self, tokens: StoredTokens) -> None:
        self._access = tokens.access_token
        self._expires_at = tokens.expires_at or 0.0

    def _ask(self, refresh_token: str) -> dict[str, Any]:
        """POST the refresh grant; the answer's JSON object (TokenRefreshError otherwise)."""
        fields = {
            "grant_type": "refresh_token",
            "client_id": self._client_id,
            "client_secret": self._client_secret,
            "refresh_token": refresh_token,
        }
        kwargs: dict[str, Any] = {"json": fields} if self._body == "json" else {"data": fields}
        prepared = requests.Request("POST", self.token_url, headers={"Accept": "application/json"}, **kwargs).prepare()
        label = f"OAuth token endpoint {origin_of(self.token_url)}"
        for attempt in range(1, TOKEN_ATTEMPTS + 1):
            try:
                response = transport.send(self._session, prepared, limits=self._limits, allow_redirects=False, label=label)
            except requests.RequestException as exc:
                if attempt == TOKEN_ATTEMPTS:
                    raise self._error(f"could not be reached ({type(exc).__name__})") from None
                time.sleep(min(2.0**attempt, 10.0))
                continue
            if response.status_code in _TRANSIENT and attempt < TOKEN_ATTEMPTS:
                time.sleep(min(2.0**attempt, 10.0))
                continue
            return self._answer(response)
        raise self._error("did not answer")  # pragma: no cover - the loop returns or raises

    def _answer(self, response: requests.Response) -> dict[str, Any]:
        try:
            body = json_body(response)
        except ValueError:
            body = None
        if response.status_code != 200 or not isinstance(body, dict):
            code = body.get("error") if isinstance(body, dict) else None
            why = f" ({code})" if isinstance(code, str) and code.isidentifier() else ""
            hint = (
                ": the refresh token was revoked, expired or used twice; consent again and set "
                "refresh_token to the new one"
                if code == "invalid_grant"
                else ""
            )
            raise self._error(f"refused the refresh with HTTP {response.status_code}{why}{hint}")
        return body

    def _error(self, reason: str) -> TokenRefreshError:
        return TokenRefreshError(f"OAuth: the token endpoint {origin_of(self.token_url)} {reason}")
