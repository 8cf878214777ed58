"""tracker (seed 002): a Jira Cloud-shaped API.

HTTP basic auth with ``email`` and ``api_token``. ``boards`` pages with
``startAt``/``maxResults`` (page size 50) and reads back the ``maxResults`` the
server applied; ``avatars`` is read once per avatar type (the ``avatar_types``
setting), each record carrying its type. The seed retries 400 as well as 429 and
5xx, ten times, each wait capped by ``max_wait_seconds``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from singer_sdk import typing as th
from typing_extensions import override

from tap_generic_rest.config.refusals import path_segment_errors
from tap_generic_rest.http.authenticators import BasicAuth
from tap_generic_rest.http.retry_policy import RETRY_AFTER, SERVER_ERRORS, RetryPolicy
from tap_generic_rest.paging import StartAtPaging
from tap_generic_rest.source import Source
from tap_generic_rest.stream.base import GenericRestStream

if TYPE_CHECKING:
    from collections.abc import Mapping

DEFAULT_AVATAR_TYPES = ("issuetype", "project", "user")


class TrackerStream(GenericRestStream):
    """A tracker stream: primary key ``id``."""

    source_name = "tracker"
    primary_keys = ("id",)


class ApplicationRolesStream(TrackerStream):
    """Application roles (one page), keyed by ``key``."""

    name = "application_roles"
    path = "/v1/applicationrole"
    records_key = "data"
    primary_keys = ("key",)


class AvatarsStream(TrackerStream):
    """System avatars, one page per avatar type.

    The SDK fills ``{avatar_type}`` in the path from each partition (percent-encoded
    as one segment) and copies the partition's ``avatar_type`` into every record it read.
    """

    name = "avatars"
    path = "/v1/avatar/{avatar_type}/system"
    records_key = "system"

    @override
    @property
    def partitions(self) -> list[dict[str, Any]]:
        types = self.config.get("avatar_types") or DEFAULT_AVATAR_TYPES
        return [{"avatar_type": avatar_type} for avatar_type in types]


class BoardsStream(TrackerStream):
    """Boards, paged with ``startAt``/``maxResults``."""

    name = "boards"
    path = "/v1/board"
    records_key = "values"
    paging = StartAtPaging(page_size=50)


def _avatar_types_errors(config: Mapping[str, Any]) -> list[str]:
    return path_segment_errors("avatar_types", config.get("avatar_types") or ())


SOURCE = Source(
    name="tracker",
    description="Jira Cloud-shaped issue tracker API",
    auth=BasicAuth("email", "api_token"),
    retry=RetryPolicy(
        statuses=SERVER_ERRORS | {400, 429},
        max_retries=10,
        backoff="exponential",
        factor=2,
        hints=(RETRY_AFTER,),
    ),
    streams=(ApplicationRolesStream, AvatarsStream, BoardsStream),
    config_checks=(_avatar_types_errors,),
    settings=(
        th.Property(
            "avatar_types",
            th.ArrayType(th.StringType),
            default=list(DEFAULT_AVATAR_TYPES),
            title="Avatar types",
            description=(
                "tracker: avatar types whose system avatars the avatars stream reads, "
                "one request each (empty or unset: issuetype, project, user)."
            ),
        ),
    ),
)
