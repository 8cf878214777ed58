"""A stock Meltano SDK tap for the throughput benchmark's baseline.

What a tap written from the SDK's template looks like, with none of this project's
work: a plain ``RESTStream`` per stream with the SDK's defaults (JSONPath record
extraction over ``response.json()``, recursive type conformance, the SDK's message
writer), the same schema files and the same authentication as tap-generic-rest,
and the simplest paginator that reads the API correctly.

Streams: helpdesk ``contacts`` (offset paging) and oncall ``alerts`` (next-URL
paging), chosen by the ``source`` setting so that it reads the same config files
as tap-generic-rest:

    python scripts/baseline_tap.py --config helpdesk.json > /dev/null
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from singer_sdk import RESTStream, Tap
from singer_sdk import typing as th
from singer_sdk.authenticators import APIKeyAuthenticator
from singer_sdk.pagination import BaseHATEOASPaginator, BaseOffsetPaginator
from singer_sdk.schema.source import SchemaDirectory, StreamSchema
from typing_extensions import override

if TYPE_CHECKING:
    import requests
    from singer_sdk.helpers.types import Context

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"


class ShortPagePaginator(BaseOffsetPaginator):
    """Offset paging that stops on a short (or empty) page."""

    @override
    def has_more(self, response: requests.Response) -> bool:
        return len(response.json()["data"]) >= self._page_size


class NextLinkPaginator(BaseHATEOASPaginator):
    """Follows ``paging.next`` until it is absent."""

    @override
    def get_next_url(self, response: requests.Response) -> str | None:
        return response.json().get("paging", {}).get("next")  # type: ignore[no-any-return]


class BaselineStream(RESTStream[Any]):
    """Base stream: the config's base URL, records under ``data``."""

    records_jsonpath = "$.data[*]"
    primary_keys = ("id",)

    @override
    @property
    def url_base(self) -> str:
        return str(self.config["base_url"]).rstrip("/")

    @property
    def page_size(self) -> int:
        """The ``page_size`` setting."""
        return int(self.config.get("page_size") or 100)


class ContactsStream(BaselineStream):
    """helpdesk contacts: ``offset``/``limit`` paging, API key in the query string."""

    name = "contacts"
    path = "/v1/contacts"
    schema = StreamSchema(SchemaDirectory(SCHEMAS / "helpdesk"))

    @override
    @property
    def authenticator(self) -> APIKeyAuthenticator:
        return APIKeyAuthenticator(key="api_key", value=self.config["api_key"], location="params")

    @override
    def get_new_paginator(self) -> ShortPagePaginator:
        return ShortPagePaginator(start_value=0, page_size=self.page_size)

    @override
    def get_url_params(self, context: Context | None, next_page_token: Any) -> dict[str, Any]:
        return {"offset": next_page_token or 0, "limit": self.page_size}


class AlertsStream(BaselineStream):
    """oncall alerts: follows ``paging.next``, API token in the ``api_key`` header."""

    name = "alerts"
    path = "/v2/alerts"
    schema = StreamSchema(SchemaDirectory(SCHEMAS / "oncall"))

    @override
    @property
    def authenticator(self) -> APIKeyAuthenticator:
        return APIKeyAuthenticator(key="api_key", value=self.config["api_token"], location="header")

    @override
    def get_new_paginator(self) -> NextLinkPaginator:
        return NextLinkPaginator()

    @override
    def get_url_params(self, context: Context | None, next_page_token: Any) -> dict[str, Any]:
        if next_page_token:
            return dict(parse_qsl(next_page_token.query))
        return {"limit": self.page_size}


class BaselineTap(Tap):
    """Stock SDK tap: helpdesk contacts or oncall alerts."""

    name = "tap-baseline"
    config_jsonschema = th.PropertiesList(
        th.Property("source", th.StringType, required=True),
        th.Property("base_url", th.StringType, required=True),
        th.Property("api_key", th.StringType, secret=True),
        th.Property("api_token", th.StringType, secret=True),
        th.Property("page_size", th.IntegerType),
    ).to_dict()

    @override
    def discover_streams(self) -> list[BaselineStream]:
        stream_class = {"helpdesk": ContactsStream, "oncall": AlertsStream}[self.config["source"]]
        return [stream_class(tap=self)]


if __name__ == "__main__":
    BaselineTap.cli()
