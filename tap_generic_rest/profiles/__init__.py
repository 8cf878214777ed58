"""Vendor profiles: the real Rocket.Chat, Intercom, Jira Cloud, Statuspage and Opsgenie APIs.

Each profile is a dlt-format spec shipped in this package (``<name>/<name>.yaml``, with its
schemas in ``<name>/schemas/``), selected like a built-in source (``source: jira``) and
compiled by the one spec compiler into the same ``Source`` and stream classes as any spec.
A profile adds only data: a description, where its host comes from, and the settings of its
own that its spec reads through ``dlt.config`` (with their defaults).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from singer_sdk import typing as th

from tap_generic_rest.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from singer_sdk.typing import Property

    from tap_generic_rest.source import Source

_FOLDER = Path(__file__).resolve().parent
_UNSET = re.compile(r"^spec: .*reads setting '([^']+)' \(.*\), which is not set$")


@dataclass(frozen=True)
class Profile:
    """One vendor's real API, as a spec shipped with the tap."""

    name: str
    description: str
    #: What ``base_url`` is for this vendor (the spec's host, or where the user's is).
    base_url_hint: str
    #: Whether the spec names the vendor's host (else the ``base_url`` setting is required).
    has_host: bool = True
    settings: tuple[Property[Any], ...] = field(default=())

    @property
    def spec_path(self) -> Path:
        """The packaged spec file."""
        return _FOLDER / self.name / f"{self.name}.yaml"

    def spec_config(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """``config`` as the spec compiler reads it: the profile's defaults under the user's."""
        defaults = {p.name: p.to_dict()[p.name].get("default") for p in self.settings}
        given = {k: v for k, v in config.items() if v is not None and v != ""}
        merged = {**{k: v for k, v in defaults.items() if v is not None}, **given}
        merged.pop("source", None)
        merged["spec"] = str(self.spec_path)
        return merged

    def compile(self, config: Mapping[str, Any]) -> Source:
        """The profile's Source (a ConfigError, naming the setting at fault, otherwise)."""
        if not self.has_host and not config.get("base_url"):
            msg = f"setting 'base_url' is required for source '{self.name}' ({self.base_url_hint})"
            raise ConfigError(msg)
        from tap_generic_rest.spec.compile import compile_spec  # noqa: PLC0415  (deferred)

        try:
            source = compile_spec(self.spec_config(config))
        except ConfigError as exc:
            raise ConfigError(self._reworded(str(exc))) from None
        return dataclasses.replace(source, description=self.description, settings=self.settings)

    def _reworded(self, message: str) -> str:
        """A spec error as a profile's user reads it: the setting to set, or what is at fault."""
        unset = _UNSET.match(message)
        if unset:
            return f"setting '{unset.group(1)}' is required for source '{self.name}'"
        return f"source '{self.name}': " + message.removeprefix("spec: ")


#: Credentials the profiles' specs read besides the built-in sources' (any spec may read them).
CREDENTIAL_SETTINGS: tuple[Property[Any], ...] = (
    th.Property(
        "access_token",
        th.StringType,
        secret=True,
        title="Access token",
        description="Bearer token: intercom; jira (an OAuth 2.0 access token, without refresh).",
    ),
    th.Property(
        "client_id",
        th.StringType,
        title="OAuth client ID",
        description="jira: the OAuth 2.0 (3LO) app's client id (with its secret, refresh_token).",
    ),
    th.Property(
        "client_secret",
        th.StringType,
        secret=True,
        title="OAuth client secret",
        description="jira: the OAuth 2.0 (3LO) app's secret.",
    ),
    th.Property(
        "refresh_token",
        th.StringType,
        secret=True,
        title="OAuth refresh token",
        description=(
            "jira: the refresh token of the user's consent. It rotates: after the first run the "
            "current one is in oauth_token_file; set a new value here only after a new consent."
        ),
    ),
    th.Property(
        "oauth_token_file",
        th.StringType,
        title="OAuth token file",
        description=(
            "jira with refresh_token: file where rotated tokens are kept between runs (written "
            "atomically, mode 0600, locked against two runs at once). Keep it."
        ),
    ),
)
#: The credential settings among them that are secrets (masked in every output).
SECRET_CREDENTIALS = ("access_token", "client_secret", "refresh_token")

_TOKEN_URL = th.Property(
    "oauth_token_url",
    th.StringType,
    default="https://auth.atlassian.com/oauth/token",
    title="OAuth token URL",
    description="jira: the OAuth 2.0 token endpoint of the refresh_token grant.",
)

PROFILES: dict[str, Profile] = {
    profile.name: profile
    for profile in (
        Profile(
            "rocketchat",
            "Rocket.Chat REST API (/api/v1): personal access token and user id",
            "https://<your server>/api/v1",
            has_host=False,
        ),
        Profile(
            "intercom",
            "Intercom REST API: access token, Intercom-Version header",
            "https://api.intercom.io, https://api.eu.intercom.io or https://api.au.intercom.io",
            settings=(
                th.Property(
                    "intercom_version",
                    th.StringType,
                    default="2.14",
                    title="Intercom API version",
                    description="intercom: the Intercom-Version header (the API version read).",
                ),
            ),
        ),
        Profile(
            "jira",
            "Jira Cloud platform and Software REST APIs: API token, or OAuth 2.0 (3LO)",
            "https://<site>.atlassian.net, or https://api.atlassian.com/ex/jira/<cloudId>",
            has_host=False,
            settings=(
                _TOKEN_URL,
                th.Property(
                    "jira_time_zone",
                    th.StringType,
                    default="UTC",
                    title="Jira user's time zone",
                    description=(
                        "jira: the time zone of the Jira user the tap signs in as (JQL reads "
                        "times in it), an IANA name such as Europe/Berlin."
                    ),
                ),
            ),
        ),
        Profile(
            "statuspage_io",
            "Atlassian Statuspage manage API (/v1): API key",
            "https://api.statuspage.io/v1",
        ),
        Profile(
            "opsgenie",
            "Opsgenie REST API: API key (GenieKey); the API ends on 2027-04-05",
            "https://api.opsgenie.com or https://api.eu.opsgenie.com",
        ),
    )
}


def get_profile(name: object) -> Profile | None:
    """The profile called ``name``, if there is one."""
    return PROFILES.get(name) if isinstance(name, str) else None
