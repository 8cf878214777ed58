"""OAuth 2.0 refresh-token grant with rotating refresh tokens (Jira Cloud's 3LO), persisted.

Built on :mod:`tap_generic_rest.http.oauth` (one token request for every grant): the grant
posts ``grant_type=refresh_token`` with the current refresh token, and the authenticator
renews the access token shortly before it expires. What rotation adds is the token store
(:mod:`tap_generic_rest.http.token_store`): a renewal runs under the store's lock, reads
the store first (another run may have rotated already: its access token is used, no
request made), and the grant writes the new refresh token, with the access token that came
with it, to the store **as it accepts the answer, before that access token is used**. A
run killed at any later moment leaves the newest refresh token on disk; one killed between
the server's answer and the write leaves the previous one, which a server with a reuse
leeway (Atlassian: 10 minutes) still takes.

The refresh token first comes from the ``refresh_token`` setting; once rotated, the store's
copy wins, until the setting holds a value the chain did not start from (a new consent).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from typing_extensions import override

from tap_generic_rest.http import transport
from tap_generic_rest.http.oauth import (
    DEFAULT_EXPIRES_IN,
    RENEW_BEFORE_SECONDS,
    OAuthAuthenticator,
    Token,
    _seconds,
)
from tap_generic_rest.http.token_store import StoredTokens, TokenStore, digest
from tap_generic_rest.redact import REDACTOR

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from singer_sdk.authenticators import APIAuthenticatorBase


@dataclass
class RotatingRefreshGrant:
    """The ``refresh_token`` grant: each answer's new refresh token is written to the store."""

    token_url: str
    client_id: str
    client_secret: str
    refresh_token: str
    store: TokenStore
    seeded_from: str
    wall_clock: Callable[[], float] = field(default=time.time)

    def form(self) -> dict[str, str]:  # noqa: D102
        return {
            "grant_type": "refresh_token",
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "refresh_token": self.refresh_token,
        }

    def accept(self, answer: Mapping[str, Any]) -> None:
        """Persist the rotated refresh token (and its access token) before either is used."""
        rotated = answer.get("refresh_token")
        if isinstance(rotated, str) and rotated:
            REDACTOR.add(rotated)
            self.refresh_token = rotated
        lifetime = _seconds(answer.get("expires_in"), DEFAULT_EXPIRES_IN)
        access = answer.get("access_token")
        self.store.write(
            StoredTokens(
                refresh_token=self.refresh_token,
                seeded_from=self.seeded_from,
                access_token=access if isinstance(access, str) else None,
                expires_at=self.wall_clock() + lifetime,
            )
        )


class RotatingTokenAuthenticator(OAuthAuthenticator):
    """Bearer tokens of a rotating refresh-token grant, renewed under the store's lock."""

    grant: RotatingRefreshGrant

    @override
    def token(self) -> str:
        with self._lock:
            if self._token is None or self.clock() >= self._token.renew_at:
                with self.grant.store.locked():
                    self._token = self._adopt() or self._fetch()
            return self._token.access_token

    def _adopt(self) -> Token | None:
        """The store's tokens, where another run (or an earlier one) left a valid one."""
        stored = self.grant.store.read()
        if stored is None or stored.seeded_from != self.grant.seeded_from:
            return None  # no chain yet, or the setting holds a new consent: start from it
        REDACTOR.add(stored.refresh_token, stored.access_token)
        self.grant.refresh_token = stored.refresh_token
        left = (stored.expires_at or 0.0) - self.grant.wall_clock()
        held = self._token.access_token if self._token is not None else None
        if not stored.access_token or stored.access_token == held or left <= RENEW_BEFORE_SECONDS:
            return None
        return Token(stored.access_token, self.clock() + left - RENEW_BEFORE_SECONDS)

    def _fetch(self) -> Token:
        from tap_generic_rest.http.oauth import fetch_token  # noqa: PLC0415  (one request for all)

        return fetch_token(
            self.grant,
            limits=self.limits,
            default_expires_in=self.default_expires_in,
            clock=self.clock,
        )


@dataclass(frozen=True)
class RefreshTokenAuth:
    """A spec's ``oauth2_refresh_token`` auth: the settings each credential is read from."""

    token_url: str
    client_id_setting: str
    client_secret_setting: str
    refresh_token_setting: str
    store_setting: str

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
        secret = str(config[self.client_secret_setting])
        seed = str(config[self.refresh_token_setting])
        REDACTOR.add(secret, seed)
        grant = RotatingRefreshGrant(
            token_url=self.token_url,
            client_id=str(config[self.client_id_setting]),
            client_secret=secret,
            refresh_token=seed,
            store=TokenStore(str(config[self.store_setting]), setting=self.store_setting),
            seeded_from=digest(seed),
        )
        return RotatingTokenAuthenticator(
            origin=origin, grant=grant, limits=transport.Limits.from_config(config)
        )
