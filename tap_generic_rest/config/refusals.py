"""Inputs refused before any request, each in one line naming the setting or stream.

Settings that would reach the wire in a form the user did not mean: a credential
with a control character (the trailing newline of a secrets file) or, for one sent
in a header, a character a header cannot carry (the SDK's traceback printed part
of the value); a ``base_url`` whose query or fragment would be lost; a value that
fills one path segment but is no segment at all. And a catalog that selects
streams the configured source does not have (another source's catalog would send
records under the wrong schema and key). A value is never echoed: it may be secret.
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from singer_sdk.singerlib import Catalog

from tap_generic_rest.http.authenticators import BasicAuth, origin_of

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from tap_generic_rest.source import Source

#: An HTTP header name (RFC 9110 token).
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
#: A header value as the tap sends it: visible ASCII, inner spaces and tabs.
_HEADER_VALUE = re.compile(r"(?:[\x21-\x7e](?:[\x20\x21-\x7e\t]*[\x21-\x7e])?)?")
#: Unicode categories of characters no credential holds: controls, line and paragraph breaks.
_CONTROL_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})


def _has_control(value: str) -> bool:
    return any(unicodedata.category(char) in _CONTROL_CATEGORIES for char in value)


def base_url_errors(value: str) -> list[str]:
    """Problems with ``base_url``, without echoing it (it could carry a password).

    An http(s) URL with a host, no user name or password (credentials have their own
    settings, masked everywhere), and no query string or fragment (they would be
    silently dropped from every path).
    """
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  # raises ValueError for a port that is not a number
    except ValueError:
        return ["setting 'base_url' is not a valid URL (check the host and port)"]
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return ["setting 'base_url' must be an http or https URL with a host"]
    if parts.username is not None or parts.password is not None:
        return [
            "setting 'base_url' must not carry a user name or password; "
            "use the source's credential settings"
        ]
    if parts.query or parts.fragment or "?" in value or "#" in value:
        return [
            "setting 'base_url' must not have a query string or fragment "
            "(the source's paths are appended to it)"
        ]
    return []


def credential_errors(config: Mapping[str, Any], source: Source) -> list[str]:
    """Credentials of ``source`` that cannot be sent as they are."""
    settings = [s for s in source.auth.settings if isinstance(config.get(s), str) and config[s]]
    errors = [
        f"setting '{setting}' contains a control character (a line break at the end "
        "of a secrets file?); remove it"
        for setting in settings
        if _has_control(config[setting])
    ]
    if errors:
        return errors
    header = config.get("auth_header")
    if isinstance(header, str) and header and not _TOKEN.fullmatch(header):
        return ["setting 'auth_header' must be an HTTP header name (letters, digits, - and _)"]
    auth = source.auth
    if isinstance(auth, BasicAuth) and ":" in str(config.get(auth.username_setting) or ""):
        errors.append(
            f"setting '{auth.username_setting}' must not contain ':' "
            "(HTTP basic auth splits the user name from the password there)"
        )
    built = auth.build(config, origin_of(str(config.get("base_url", ""))))
    for value in built.auth_headers.values():
        if _HEADER_VALUE.fullmatch(value):
            continue
        culprits = [s for s in settings if config[s] in value] or ["auth_scheme"]
        errors.extend(
            f"setting '{setting}' has a character that cannot be sent in an HTTP header "
            "(only printable ASCII, no leading or trailing spaces)"
            for setting in culprits
        )
    return errors


def path_segment_errors(setting: str, values: Iterable[Any]) -> list[str]:
    """Values that each fill one path segment: percent-encoded, but never empty, . or .."""
    for index, value in enumerate(values):
        if str(value) in {"", ".", ".."}:
            return [
                f"setting '{setting}' item {index + 1} must be a path segment "
                "(not empty, '.' or '..')"
            ]
    return []


def _selected(metadata: Any) -> bool:
    """Whether a catalog entry's stream is selected, as the SDK decides it."""
    return bool(metadata.resolve_selection().get((), not metadata))  # no metadata: selected


def catalog_errors(catalog: Catalog | Mapping[str, Any], source: Source) -> list[str]:
    """Streams the catalog selects that the configured source does not have."""
    if not isinstance(catalog, Catalog):
        catalog = Catalog.from_dict(dict(catalog))  # type: ignore[arg-type]
    known: set[str] = {stream.name for stream in source.streams}  # type: ignore[misc]
    unknown = sorted(
        entry.tap_stream_id
        for entry in catalog.streams
        if entry.tap_stream_id not in known and _selected(entry.metadata)
    )
    if not unknown:
        return []
    return [
        f"the catalog selects streams that source '{source.name}' does not have: "
        f"{', '.join(unknown)} (run --discover with this configuration for its catalog)"
    ]
