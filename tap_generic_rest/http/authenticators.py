"""Authenticators for the ways APIs authenticate, and their specs.

Each authenticator is a small subclass of an SDK authenticator, bound to the
origin (scheme, host, port) of ``base_url``: it refuses to attach credentials to
a request for any other origin, so a next-page URL or redirect that points
elsewhere can never carry them.

An ``*Auth`` spec is what a source declares: which settings it needs and how to
build its authenticator from the configuration.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlencode, urlsplit, urlunsplit

from singer_sdk.authenticators import (
    APIAuthenticatorBase,
    APIKeyAuthenticator,
)
from singer_sdk.authenticators import (
    BasicAuthenticator as SDKBasicAuthenticator,
)
from typing_extensions import override

from tap_generic_rest.errors import ForeignHostError
from tap_generic_rest.redact import REDACTOR

if TYPE_CHECKING:
    from collections.abc import Mapping

    import requests


def origin_of(url: str) -> str:
    """Return ``scheme://host[:port]`` of a URL, lower-cased, default ports dropped."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    default = {"http": 80, "https": 443}.get(scheme)
    netloc = host if port in (None, default) else f"{host}:{port}"
    return f"{scheme}://{netloc}"


class _OriginBound(APIAuthenticatorBase):
    """Refuses to authenticate a request for any origin but ``base_url``'s."""

    origin: str

    @override
    def authenticate_request(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        url = request.url or ""
        if origin_of(url) != self.origin:
            msg = (
                f"refusing to send credentials to {origin_of(url)}: "
                f"only {self.origin} (the base_url host) may receive them"
            )
            raise ForeignHostError(msg)
        return super().authenticate_request(request)


class HeaderKeyAuthenticator(_OriginBound, APIKeyAuthenticator):
    """An API key in one header, optionally after a scheme word (``OAuth <key>``)."""

    def __init__(self, *, origin: str, header: str, key: str, scheme: str | None = None) -> None:
        value = f"{scheme} {key}" if scheme else key
        super().__init__(key=header, value=value, location="header")
        self.origin = origin


class QueryKeyAuthenticator(_OriginBound, APIKeyAuthenticator):
    """An API key in the query string.

    The SDK re-encodes the whole query when it adds a parameter; this appends the
    key and leaves the rest of the query (a next URL's own) exactly as it was.
    """

    def __init__(self, *, origin: str, param: str, key: str) -> None:
        super().__init__(key=param, value=key, location="params")
        self.origin = origin
        self.param = param
        # Kept out of the SDK's auth_params so that the SDK does not re-encode the query.
        self._key = self.auth_params.pop(param)

    @override
    def authenticate_request(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request = super().authenticate_request(request)
        request.url = self._add_key(request.url or "")
        return request

    def _add_key(self, url: str) -> str:
        """Append the key, replacing any earlier copy, leaving the other parameters as sent."""
        scheme, netloc, path, query, fragment = urlsplit(url)
        kept = "&".join(
            part for part in query.split("&") if part and part.split("=", 1)[0] != self.param
        )
        key = urlencode({self.param: self._key})
        return urlunsplit((scheme, netloc, path, f"{kept}&{key}" if kept else key, fragment))


class BasicAuthenticator(_OriginBound, SDKBasicAuthenticator):
    """HTTP basic auth (``email`` and ``api_token`` for the tracker source)."""

    def __init__(self, *, origin: str, username: str, password: str) -> None:
        super().__init__(username=username, password=password)
        self.origin = origin


class CookieKeyAuthenticator(_OriginBound, APIAuthenticatorBase):
    """An API key sent as a cookie (``Cookie: <name>=<key>``), after any cookie already set."""

    def __init__(self, *, origin: str, name: str, key: str) -> None:
        super().__init__()
        self.origin = origin
        self.name = name
        self._cookie = f"{name}={key}"

    @override
    def authenticate_request(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """Add the key, replacing any earlier copy (a request may be authenticated twice)."""
        request = super().authenticate_request(request)
        kept = [
            part.strip()
            for part in (request.headers.get("Cookie") or "").split(";")
            if part.strip() and part.strip().split("=", 1)[0] != self.name
        ]
        request.headers["Cookie"] = "; ".join([*kept, self._cookie])
        return request


class HeaderPairAuthenticator(_OriginBound, APIAuthenticatorBase):
    """Several headers at once (the chat source's ``X-Auth-Token`` and ``X-User-Id``)."""

    def __init__(self, *, origin: str, headers: Mapping[str, str]) -> None:
        super().__init__()
        self.auth_headers.update(headers)
        self.origin = origin


# --- specs: what a source declares ---------------------------------------------


class AuthSpec(Protocol):
    """How a source authenticates: the settings it needs and its authenticator."""

    @property
    def settings(self) -> tuple[str, ...]:
        """Credential settings this source requires."""
        ...

    def build(self, config: Mapping[str, Any], origin: str) -> APIAuthenticatorBase:
        """Build the authenticator and register its secrets for redaction."""
        ...


@dataclass(frozen=True)
class _OneKeyAuth:
    """A spec whose credential is one setting, registered for redaction when read."""

    setting: str

    @property
    def settings(self) -> tuple[str, ...]:
        return (self.setting,)

    def _key(self, config: Mapping[str, Any]) -> str:
        key = str(config[self.setting])
        REDACTOR.add(key)
        return key


@dataclass(frozen=True)
class HeaderKeyAuth(_OneKeyAuth):
    """API key in a header; ``auth_header``/``auth_scheme`` settings may override both."""

    header: str = "api_key"
    scheme: str | None = None

    def build(self, config: Mapping[str, Any], origin: str) -> APIAuthenticatorBase:  # noqa: D102
        return HeaderKeyAuthenticator(
            origin=origin,
            header=config.get("auth_header") or self.header,
            key=self._key(config),
            scheme=config.get("auth_scheme") or self.scheme,
        )


def BearerAuth(setting: str) -> HeaderKeyAuth:  # noqa: N802  # reads as the spec it makes
    """A bearer token: ``Authorization: Bearer <token>``."""
    return HeaderKeyAuth(setting, header="Authorization", scheme="Bearer")


@dataclass(frozen=True)
class CookieKeyAuth(_OneKeyAuth):
    """API key in a cookie."""

    name: str = "api_key"

    def build(self, config: Mapping[str, Any], origin: str) -> APIAuthenticatorBase:  # noqa: D102
        return CookieKeyAuthenticator(origin=origin, name=self.name, key=self._key(config))


@dataclass(frozen=True)
class QueryKeyAuth(_OneKeyAuth):
    """API key in the query string."""

    param: str = "api_key"

    def build(self, config: Mapping[str, Any], origin: str) -> APIAuthenticatorBase:  # noqa: D102
        REDACTOR.add_query_param(self.param)
        return QueryKeyAuthenticator(origin=origin, param=self.param, key=self._key(config))


@dataclass(frozen=True)
class BasicAuth:
    """HTTP basic auth from two settings."""

    username_setting: str
    password_setting: str

    @property
    def settings(self) -> tuple[str, ...]:  # noqa: D102
        return (self.username_setting, self.password_setting)

    def build(self, config: Mapping[str, Any], origin: str) -> APIAuthenticatorBase:  # noqa: D102
        username, password = config[self.username_setting], config[self.password_setting]
        REDACTOR.add_basic_pair(username, password)
        return BasicAuthenticator(origin=origin, username=username, password=password)


@dataclass(frozen=True)
class HeaderPairAuth:
    """Several headers, each from its own setting: ``((header, setting), ...)``."""

    headers: tuple[tuple[str, str], ...]

    @property
    def settings(self) -> tuple[str, ...]:  # noqa: D102
        return tuple(setting for _, setting in self.headers)

    def build(self, config: Mapping[str, Any], origin: str) -> APIAuthenticatorBase:  # noqa: D102
        values = {header: config[setting] for header, setting in self.headers}
        REDACTOR.add(*values.values())
        return HeaderPairAuthenticator(origin=origin, headers=values)


@dataclass(frozen=True)
class NoAuth:
    """No credentials (an open API); requests are still bound to the base_url host."""

    @property
    def settings(self) -> tuple[str, ...]:  # noqa: D102
        return ()

    def build(self, config: Mapping[str, Any], origin: str) -> APIAuthenticatorBase:  # noqa: D102
        return HeaderPairAuthenticator(origin=origin, headers={})
