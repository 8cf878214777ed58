"""helpdesk (seed 001): an Intercom-shaped API.

The API key travels in the query string (``api_key``). Every stream pages with
``offset``/``limit`` (page size 100) and reports no total, so a short or empty
page ends it; a stream whose size is an exact multiple of the page size ends on
the empty page that follows. ``conversations``, ``contacts`` and ``companies`` are
incremental on ``updated_at`` (unix seconds) without an API filter: every page is read and
only records at or after the bookmark are emitted.
"""

from __future__ import annotations

from tap_generic_rest.http.authenticators import QueryKeyAuth
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


class HelpdeskStream(GenericRestStream):
    """A helpdesk stream: primary key ``id``, records under ``data``, offset paging."""

    source_name = "helpdesk"
    primary_keys = ("id",)
    records_key = "data"
    paging = OffsetPaging(page_size=100, offset_param="offset", limit_param="limit")


#: No time filter in the API: every page is read, older records are not emitted.
UPDATED_AT = Incremental("updated_at", numbers="epoch_s")


class ConversationsStream(HelpdeskStream):
    """Conversations."""

    name = "conversations"
    path = "/v1/conversations"
    incremental = UPDATED_AT


class ContactsStream(HelpdeskStream):
    """Contacts (users and leads)."""

    name = "contacts"
    path = "/v1/contacts"
    incremental = UPDATED_AT


class ConversationPartsStream(HelpdeskStream):
    """Conversation parts: the messages, notes and assignments of conversations."""

    name = "conversation_parts"
    path = "/v1/conversation_parts"


class TeamsStream(HelpdeskStream):
    """Teams of admins."""

    name = "teams"
    path = "/v1/teams"


class CompaniesStream(HelpdeskStream):
    """Companies."""

    name = "companies"
    path = "/v1/companies"
    incremental = UPDATED_AT


SOURCE = Source(
    name="helpdesk",
    description="Intercom-shaped helpdesk API",
    auth=QueryKeyAuth("api_key", param="api_key"),
    retry=RetryPolicy(
        statuses=DEFAULT_RETRY_STATUSES,
        max_retries=3,
        backoff="exponential",
        factor=2,
        hints=(RETRY_AFTER, WaitHint("X-RateLimit-Reset", "epoch_s")),
    ),
    streams=(
        ConversationsStream,
        ContactsStream,
        ConversationPartsStream,
        TeamsStream,
        CompaniesStream,
    ),
)
