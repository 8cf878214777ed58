"""chat (seed 000): a Rocket.Chat-shaped API.

Two auth headers, ``X-Auth-Token`` and ``X-User-Id``. List endpoints page with
``offset``/``count`` (the seed's page size is 1) and report a ``total``; ``rooms``,
``roles`` and ``subscriptions`` answer in one page. ``rooms`` and ``subscriptions`` are
incremental: ``updatedSince`` asks for what changed, and the deletions the API lists in
``remove`` become records with ``_sdc_deleted_at``.
"""

from __future__ import annotations

from tap_generic_rest.http.authenticators import HeaderPairAuth
from tap_generic_rest.http.retry_policy import (
    DEFAULT_RETRY_STATUSES,
    RETRY_AFTER,
    RetryPolicy,
    WaitHint,
)
from tap_generic_rest.paging import OffsetPaging
from tap_generic_rest.source import Source
from tap_generic_rest.stream.base import GenericRestStream
from tap_generic_rest.stream.replication import Incremental

PAGING = OffsetPaging(page_size=1, offset_param="offset", limit_param="count", total_key="total")
#: ``*.get?updatedSince=``: what changed since (in ``update``) and what was deleted (``remove``).
UPDATED_SINCE = Incremental("_updatedAt", param="updatedSince", format="iso_ms", deletions="remove")


class ChatStream(GenericRestStream):
    """A chat stream: primary key ``_id``."""

    source_name = "chat"
    primary_keys = ("_id",)


class TeamsStream(ChatStream):
    """Teams."""

    name = "teams"
    path = "/teams.list"
    records_key = "teams"
    paging = PAGING


class RoomsStream(ChatStream):
    """Rooms the user can see (one page of ``update``)."""

    name = "rooms"
    path = "/rooms.get"
    records_key = "update"
    incremental = UPDATED_SINCE


class ChannelsStream(ChatStream):
    """Public channels."""

    name = "channels"
    path = "/channels.list"
    records_key = "channels"
    paging = PAGING


class RolesStream(ChatStream):
    """Roles."""

    name = "roles"
    path = "/roles.list"
    records_key = "roles"


class SubscriptionsStream(ChatStream):
    """The user's room subscriptions (one page of ``update``)."""

    name = "subscriptions"
    path = "/subscriptions.get"
    records_key = "update"
    incremental = UPDATED_SINCE


class UsersStream(ChatStream):
    """Users."""

    name = "users"
    path = "/users.list"
    records_key = "users"
    paging = PAGING


SOURCE = Source(
    name="chat",
    description="Rocket.Chat-shaped chat API",
    auth=HeaderPairAuth((("X-Auth-Token", "api_token"), ("X-User-Id", "user_id"))),
    retry=RetryPolicy(
        statuses=DEFAULT_RETRY_STATUSES,
        max_retries=3,
        backoff="exponential",
        factor=2,
        hints=(RETRY_AFTER, WaitHint("X-RateLimit-Reset", "epoch_ms")),
    ),
    streams=(
        TeamsStream,
        RoomsStream,
        ChannelsStream,
        RolesStream,
        SubscriptionsStream,
        UsersStream,
    ),
)
