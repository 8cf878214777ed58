"""A spec's ``client.auth`` and ``client.headers`` as one of the built-in auth specs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tap_generic_rest.http.authenticators import (
    AuthSpec,
    BasicAuth,
    BearerAuth,
    CookieKeyAuth,
    HeaderKeyAuth,
    NoAuth,
    QueryKeyAuth,
)
from tap_generic_rest.http.oauth import DEFAULT_EXPIRES_IN, OAuthClientCredentialsAuth
from tap_generic_rest.http.refresh_grant import RefreshTokenAuth
from tap_generic_rest.redact import REDACTOR
from tap_generic_rest.spec.reading.loader import Reference, references
from tap_generic_rest.spec.values import fail, nonempty, setting_value

if TYPE_CHECKING:
    from collections.abc import Mapping

    from singer_sdk.authenticators import APIAuthenticatorBase

    from tap_generic_rest.spec.values import Resolver

AUTH_TYPES = (
    "api_key",
    "http_basic",
    "basic",
    "bearer",
    "oauth2_client_credentials",
    "oauth2_refresh_token",
)
#: The credentials each auth type reads: with the type's name alone (``auth: bearer``) each
#: is read from the setting of the same name, as dlt reads it from its secrets.
_CREDENTIALS = {
    "bearer": ("token",),
    "api_key": ("api_key",),
    "http_basic": ("username", "password"),
    "basic": ("username", "password"),
    "oauth2_client_credentials": ("client_id", "client_secret"),
}


@dataclass(frozen=True)
class SpecAuth:
    """A spec's auth: a built-in auth spec fed with the values the spec resolved.

    ``values`` maps setting names (or, for literals written in the spec, the spec key)
    to values; ``headers`` are secret headers sent with the credentials, bound like
    them to the base_url host.
    """

    inner: AuthSpec
    values: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    names: tuple[str, ...] = ()

    @property
    def settings(self) -> tuple[str, ...]:
        """The settings the spec reads its credentials from (named when a server refuses)."""
        return self.names

    def build(self, config: Mapping[str, Any], origin: str) -> APIAuthenticatorBase:
        """The inner spec's authenticator, carrying the secret headers too."""
        merged = {**config, **dict(self.values)}
        authenticator = self.inner.build(merged, origin)
        extra = {header: merged[key] for header, key in self.headers}
        REDACTOR.add(*extra.values())
        authenticator.auth_headers.update(extra)
        return authenticator


class AuthCompiler:
    """Compiles ``client.auth`` and ``client.headers``, collecting the credentials read."""

    def __init__(self, resolve: Resolver) -> None:
        self.resolve = resolve
        #: Credentials read, by setting name (or spec key), and the settings named.
        self.values: dict[str, str] = {}
        self.names: list[str] = []

    def credential(self, spec: Mapping[str, Any], key: str) -> str:
        """The name an auth spec reads one credential by: a setting, or the spec key."""
        where = f"client.auth.{key}"
        value = spec.get(key)
        if isinstance(value, Reference):
            self.values[value.name] = str(self.resolve(value, where))
            self.names.append(value.name)
            return value.name
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
            self.values[where] = str(value)
            return where
        raise fail(where, 'missing (a string or dlt.secrets["NAME"])')

    def auth_kind(self, raw: Any) -> AuthSpec:  # noqa: PLR0911  (one return per dlt auth type)
        """The built-in auth spec for ``client.auth``."""
        if raw is None:
            return NoAuth()
        if isinstance(raw, list):  # tap extension: alternatives
            return self.auth_kind(self.alternative(raw))
        if isinstance(raw, str) and raw in _CREDENTIALS:  # dlt's shorthand: credentials by name
            raw = {"type": raw, **{key: Reference(key, secret=True) for key in _CREDENTIALS[raw]}}
        if not isinstance(raw, dict):
            raise fail("client.auth", "must be an object with a 'type', or an auth type's name")
        kind = raw.get("type", "bearer")  # dlt reads an auth without a type as a bearer token
        if kind == "oauth2_client_credentials":
            return self.oauth(raw)
        if kind == "bearer":
            return BearerAuth(self.credential(raw, "token"))
        if kind in ("http_basic", "basic"):
            return BasicAuth(self.credential(raw, "username"), self.credential(raw, "password"))
        if kind == "oauth2_refresh_token":
            return self.refresh_grant(raw)
        if kind != "api_key":
            raise fail(
                "client.auth.type", f"unknown auth type '{kind}' (known: {', '.join(AUTH_TYPES)})"
            )
        return self.api_key(raw)

    def api_key(self, raw: Mapping[str, Any]) -> AuthSpec:
        """The ``api_key`` auth of dlt, and the tap's ``scheme`` word before the key."""
        header = nonempty(raw.get("name", "Authorization"), "client.auth.name")
        location = raw.get("location", "header")
        key = self.credential(raw, "api_key")
        scheme = raw.get("scheme")  # tap extension: "Authorization: GenieKey <key>"
        if scheme is not None and location != "header":
            raise fail("client.auth.scheme", "only a key in a header has a scheme word")
        if location == "header":
            word = None if scheme is None else nonempty(scheme, "client.auth.scheme")
            return HeaderKeyAuth(key, header=header, scheme=word)
        if location in ("query", "param"):
            return QueryKeyAuth(key, param=header)
        if location == "cookie":
            return CookieKeyAuth(key, name=header)
        raise fail(
            "client.auth.location", f"unknown location '{location}' (header, query or cookie)"
        )

    def oauth(self, raw: Mapping[str, Any]) -> AuthSpec:
        """Dlt's ``oauth2_client_credentials``: a token fetched with the client's id and secret."""
        where = "client.auth"
        url = self.resolve(raw.get("access_token_url"), f"{where}.access_token_url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise fail(f"{where}.access_token_url", "must be the token endpoint's http(s) URL")
        if raw.get("access_token") is not None:
            raise fail(
                f"{where}.access_token", "a token given ahead is not read; the tap fetches one"
            )
        extra = self.resolve(
            raw.get("access_token_request_data") or {}, f"{where}.access_token_request_data"
        )
        if not isinstance(extra, dict):
            raise fail(f"{where}.access_token_request_data", "must be an object")
        scopes = raw.get("scopes") or ()
        scopes = (scopes,) if isinstance(scopes, str) else tuple(str(s) for s in scopes)
        expires = raw.get("default_token_expiration", DEFAULT_EXPIRES_IN)
        if isinstance(expires, bool) or not isinstance(expires, int) or expires < 1:
            raise fail(f"{where}.default_token_expiration", "must be a number of seconds")
        return OAuthClientCredentialsAuth(
            token_url=url,
            client_id_setting=self.credential(raw, "client_id"),
            client_secret_setting=self.credential(raw, "client_secret"),
            scopes=scopes,
            extra=tuple((str(k), str(v)) for k, v in extra.items()),
            default_expires_in=float(expires),
        )

    def alternative(self, options: list[Any]) -> Any:
        """Of a list of auths (a tap extension), the first whose settings are all set."""
        if not options or not all(isinstance(option, dict) for option in options):
            raise fail("client.auth", "a list of auths must hold objects with a 'type'")
        missing: list[str] = []
        for option in options:
            names = sorted(ref.name for ref in references(option))
            unset = [
                name for name in names if setting_value(self.resolve.config, name) in (None, "")
            ]
            if not unset:
                return option
            missing.append(f"{' and '.join(names) or 'nothing'} ({option.get('type')})")
        raise fail("client.auth", "no alternative has its settings: set " + ", or ".join(missing))

    def refresh_grant(self, raw: Mapping[str, Any]) -> AuthSpec:
        """``oauth2_refresh_token`` (a tap extension): rotating refresh tokens, persisted."""
        where = "client.auth"
        url = nonempty(
            self.resolve(raw.get("access_token_url"), f"{where}.access_token_url"),
            f"{where}.access_token_url",
        )
        if not url.startswith(("https://", "http://")):
            raise fail(f"{where}.access_token_url", "must be an http or https URL")
        return RefreshTokenAuth(
            token_url=url,
            client_id_setting=self.credential(raw, "client_id"),
            client_secret_setting=self.credential(raw, "client_secret"),
            refresh_token_setting=self.credential(raw, "refresh_token"),
            store_setting=self.credential(raw, "token_store"),
        )

    def compile(self, raw: Any, headers: Any) -> tuple[SpecAuth, tuple[tuple[str, str], ...]]:
        """The spec's auth, and the headers that are not secrets (sent by each stream)."""
        inner = self.auth_kind(raw)
        if not isinstance(headers, dict):
            raise fail("client.headers", "must be an object")
        secret_headers: list[tuple[str, str]] = []
        plain: list[tuple[str, str]] = []
        for header, value in headers.items():
            if isinstance(value, Reference) and value.secret:
                self.values[value.name] = str(self.resolve(value, f"client.headers.{header}"))
                self.names.append(value.name)
                secret_headers.append((header, value.name))
            else:
                plain.append((header, str(self.resolve(value, f"client.headers.{header}"))))
        auth = SpecAuth(
            inner,
            tuple(self.values.items()),
            tuple(secret_headers),
            tuple(dict.fromkeys(self.names)),
        )
        return auth, tuple(plain)
