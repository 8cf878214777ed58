"""OAuth 2 access tokens: fetched from a token endpoint, renewed before they expire, masked.

The token request is the one part every grant shares: :func:`fetch_token` posts a grant's
form to the token URL (within the same deadline and size cap as every request, redirects
never followed), reads ``access_token``/``expires_in`` and registers the token, and every
secret of the form, with the redactor before anything can print them. A grant says only
what it posts (:meth:`Grant.form`) and what it learns from an answer
(:meth:`Grant.accept`, where a refresh-token grant keeps a rotated refresh token);
:class:`OAuthAuthenticator` asks it again when the token is about to expire.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import requests
from typing_extensions import override

from tap_generic_rest.errors import ConfigError, TapError
from tap_generic_rest.http import transport
from tap_generic_rest.http.authenticators import _OriginBound, origin_of
from tap_generic_rest.http.body import BodyNotJSONError, json_body
from tap_generic_rest.redact import REDACTOR, excerpt, redact

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from singer_sdk.authenticators import APIAuthenticatorBase

#: A token is renewed this long before it expires (and at a tenth of its life if that is less),
#: so a request never leaves with a token that expires on the way.
RENEW_BEFORE_SECONDS = 60.0
#: The lifetime of a token whose answer gives none (dlt's ``default_token_expiration``).
DEFAULT_EXPIRES_IN = 3600
_BODY_EXCERPT = 200


class TokenError(TapError):
    """The token endpoint refused or answered something that is not a token."""


@dataclass(frozen=True)
class Token:
    """An access token and when (``time.monotonic``) it must have been renewed."""

    access_token: str
    renew_at: float


class Grant(Protocol):
    """What one OAuth grant posts to the token endpoint and keeps from its answers."""

    #: Where the grant's tokens come from (named in errors).
    token_url: str

    def form(self) -> dict[str, str]:
        """The form fields of the next token request (``grant_type`` and credentials)."""
        ...

    def accept(self, answer: Mapping[str, Any]) -> None:
        """Keep what an answer changes for later requests (a rotated refresh token)."""
        ...


def fetch_token(
    grant: Grant,
    *,
    limits: transport.Limits,
    default_expires_in: float = DEFAULT_EXPIRES_IN,
    session: requests.Session | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Token:
    """One token request for ``grant``: the token, masked everywhere from here on.

    A refusal, a body that is not JSON or an answer without ``access_token`` is a
    :class:`TokenError` naming the token URL and the status (masked: an endpoint may
    echo the client secret).
    """
    form = grant.form()
    REDACTOR.add(*(value for key, value in form.items() if key not in ("grant_type", "scope")))
    prepared = requests.Request(
        "POST",
        grant.token_url,
        data=form,
        headers={"Accept": "application/json"},
    ).prepare()
    label = f"the token endpoint {origin_of(grant.token_url)}"
    sent_at = clock()
    try:
        response = transport.send(
            session or transport.new_session(),
            prepared,
            limits=limits,
            allow_redirects=False,
            label=label,
        )
    except requests.RequestException as exc:
        msg = redact(f"{label}: the token request failed ({type(exc).__name__})")
        raise TokenError(msg) from None
    where = f"{label}: POST {prepared.path_url.split('?', 1)[0]} -> {response.status_code}"
    if response.status_code != 200:
        body = excerpt(response.content, response.encoding, _BODY_EXCERPT)
        raise TokenError(redact(f"{where}: no token ({body})"))
    try:
        answer = json_body(response)
    except BodyNotJSONError as exc:
        raise TokenError(f"{where}: {exc}") from None
    token = answer.get("access_token") if isinstance(answer, dict) else None
    if not isinstance(token, str) or not token:
        raise TokenError(f"{where}: the answer holds no access_token")
    REDACTOR.add(token)
    grant.accept(answer)
    lifetime = _seconds(answer.get("expires_in"), default_expires_in)
    margin = min(RENEW_BEFORE_SECONDS, lifetime / 10)
    return Token(token, sent_at + lifetime - margin)


def _seconds(value: Any, default: float) -> float:
    """``expires_in`` as seconds (a number or a numeric string), else the default."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return default
    return seconds if seconds > 0 else default


@dataclass
class ClientCredentialsGrant:
    """The ``client_credentials`` grant (dlt's ``oauth2_client_credentials``)."""

    token_url: str
    client_id: str
    client_secret: str
    scopes: tuple[str, ...] = ()
    #: More form fields for the token request (dlt's ``access_token_request_data``).
    extra: tuple[tuple[str, str], ...] = ()

    def form(self) -> dict[str, str]:  # noqa: D102
        form = {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self.client_secret,
        }
        if self.scopes:
            form["scope"] = " ".join(self.scopes)
        form.update(self.extra)
        return form

    def accept(self, answer: Mapping[str, Any]) -> None:  # noqa: D102
        return None


class OAuthAuthenticator(_OriginBound):
    """``Authorization: Bearer <token>``, the token fetched for ``grant`` and renewed in time.

    Shared by the threads that fetch pages ahead: one of them renews, the others wait.
    """

    def __init__(
        self,
        *,
        origin: str,
        grant: Grant,
        limits: transport.Limits,
        default_expires_in: float = DEFAULT_EXPIRES_IN,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.origin = origin
        self.grant = grant
        self.limits = limits
        self.default_expires_in = default_expires_in
        self.clock = clock
        self._token: Token | None = None
        self._lock = threading.Lock()

    def token(self) -> str:
        """A token valid for a while yet: the one held, else a new one."""
        with self._lock:
            if self._token is None or self.clock() >= self._token.renew_at:
                self._token = fetch_token(
                    self.grant,
                    limits=self.limits,
                    default_expires_in=self.default_expires_in,
                    clock=self.clock,
                )
            return self._token.access_token

    @override
    def authenticate_request(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        self.auth_headers["Authorization"] = f"Bearer {self.token()}"
        return super().authenticate_request(request)


@dataclass(frozen=True)
class OAuthClientCredentialsAuth:
    """The spec of client-credentials auth: settings for the id and secret, the token URL."""

    token_url: str
    client_id_setting: str
    client_secret_setting: str
    scopes: tuple[str, ...] = ()
    extra: tuple[tuple[str, str], ...] = ()
    default_expires_in: float = DEFAULT_EXPIRES_IN
    names: tuple[str, ...] = field(default=())

    @property
    def settings(self) -> tuple[str, ...]:  # noqa: D102
        return self.names or (self.client_id_setting, self.client_secret_setting)

    def build(self, config: Mapping[str, Any], origin: str) -> APIAuthenticatorBase:  # noqa: D102
        client_id = config.get(self.client_id_setting)
        secret = config.get(self.client_secret_setting)
        if not client_id or not secret:
            msg = f"settings {self.client_id_setting} and {self.client_secret_setting} are required"
            raise ConfigError(msg)
        REDACTOR.add(str(client_id), str(secret))
        grant = ClientCredentialsGrant(
            self.token_url, str(client_id), str(secret), self.scopes, self.extra
        )
        return OAuthAuthenticator(
            origin=origin,
            grant=grant,
            limits=transport.Limits.from_config(config),
            default_expires_in=self.default_expires_in,
        )
