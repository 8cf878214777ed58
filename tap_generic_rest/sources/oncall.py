"""oncall (seed 004): an Opsgenie-shaped API.

The API token travels in a header: ``api_key: <token>`` as in the seed's example,
or ``Authorization: GenieKey <token>`` (the real API) with the ``auth_header``
and ``auth_scheme`` settings. Streams follow the full URL in ``paging.next``
exactly as the server wrote it; the first request sends ``limit`` only when the
``page_size`` setting is set. Rate limiting tells the wait in
``X-RateLimit-Period-In-Sec``. ``alerts`` and ``incidents`` are incremental on ``updatedAt``
(``query=updatedAt>=<epoch ms>``; alerts also ``sort=updatedAt&order=asc``).
"""

from __future__ import annotations

from tap_generic_rest.http.authenticators import HeaderKeyAuth
from tap_generic_rest.http.retry_policy import (
    DEFAULT_RETRY_STATUSES,
    RETRY_AFTER,
    RetryPolicy,
    WaitHint,
)
from tap_generic_rest.paging import NextUrlPaging
from tap_generic_rest.source import Source
from tap_generic_rest.stream.base import GenericRestStream
from tap_generic_rest.stream.replication import Incremental


class OncallStream(GenericRestStream):
    """An oncall stream: primary key ``id``, records under ``data``, next-URL paging."""

    source_name = "oncall"
    primary_keys = ("id",)
    records_key = "data"
    paging = NextUrlPaging(next_key="paging.next", limit_param="limit")


class UsersStream(OncallStream):
    """Users."""

    name = "users"
    path = "/v2/users"


class TeamsStream(OncallStream):
    """Teams."""

    name = "teams"
    path = "/v2/teams"


class ServicesStream(OncallStream):
    """Services."""

    name = "services"
    path = "/v1/services"


class IntegrationsStream(OncallStream):
    """Integrations."""

    name = "integrations"
    path = "/v2/integrations"


class IncidentsStream(OncallStream):
    """Incidents."""

    name = "incidents"
    path = "/v1/incidents"
    # The API cannot sort incidents by updatedAt: the bookmark is the maximum seen.
    incremental = Incremental(
        "updatedAt", param="query", template="updatedAt>={value}", format="epoch_ms"
    )


class AlertsStream(OncallStream):
    """Alerts."""

    name = "alerts"
    path = "/v2/alerts"
    # Sorted by updatedAt: the bookmark advances (and STATE is written) as records arrive.
    incremental = Incremental(
        "updatedAt",
        param="query",
        template="updatedAt>={value}",
        format="epoch_ms",
        params=(("sort", "updatedAt"), ("order", "asc")),
        sorted=True,
    )


SOURCE = Source(
    name="oncall",
    description="Opsgenie-shaped on-call and alerting API",
    auth=HeaderKeyAuth("api_token", header="api_key"),
    retry=RetryPolicy(
        statuses=DEFAULT_RETRY_STATUSES,
        max_retries=3,
        backoff="exponential",
        factor=2,
        hints=(RETRY_AFTER, WaitHint("X-RateLimit-Period-In-Sec", "seconds")),
    ),
    streams=(
        UsersStream,
        TeamsStream,
        ServicesStream,
        IntegrationsStream,
        IncidentsStream,
        AlertsStream,
    ),
)
