"""statuspage (seed 003): an Atlassian Statuspage-shaped API.

The API key travels in a header: ``api_key: <key>`` as in the seed's example, or
``Authorization: OAuth <key>`` (the real API) with the ``auth_header`` and
``auth_scheme`` settings. Both streams page with ``offset``/``limit`` (page size
100). Rate limiting answers 420 or 429, retried after a constant 62 seconds
unless the server sends ``Retry-After``.
"""

from __future__ import annotations

from tap_generic_rest.http.authenticators import HeaderKeyAuth
from tap_generic_rest.http.retry_policy import RETRY_AFTER, RetryPolicy
from tap_generic_rest.paging import OffsetPaging
from tap_generic_rest.source import Source
from tap_generic_rest.stream.base import GenericRestStream
from tap_generic_rest.stream.replication import Incremental


class StatuspageStream(GenericRestStream):
    """A statuspage stream: primary key ``id``, records under ``data``, offset paging."""

    source_name = "statuspage"
    primary_keys = ("id",)
    records_key = "data"
    paging = OffsetPaging(page_size=100, offset_param="offset", limit_param="limit")


class PagesStream(StatuspageStream):
    """Status pages."""

    name = "pages"
    path = "/v1/resource"
    # No time filter in the API: every page is read, older records are not emitted.
    incremental = Incremental("updated_at")


class SubscribersStream(StatuspageStream):
    """Subscribers to status notifications."""

    name = "subscribers"
    path = "/v1/resource/subscribers"


SOURCE = Source(
    name="statuspage",
    description="Atlassian Statuspage-shaped status page API",
    auth=HeaderKeyAuth("api_key", header="api_key"),
    retry=RetryPolicy(
        statuses=frozenset({420, 429}),
        max_retries=3,
        backoff="constant",
        factor=62,
        hints=(RETRY_AFTER,),
    ),
    streams=(PagesStream, SubscribersStream),
)
