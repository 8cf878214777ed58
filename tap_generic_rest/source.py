"""What a source is: its authentication, retry policy, streams and settings, said once.

Built-in sources (:mod:`tap_generic_rest.sources`) and compiled specs are each a :class:`Source`;
every layer that needs to know about one reads it from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from singer_sdk import RESTStream, Tap
    from singer_sdk.typing import Property

    from tap_generic_rest.http.authenticators import AuthSpec
    from tap_generic_rest.http.retry_policy import RetryPolicy


@dataclass(frozen=True)
class Source:
    """One REST API: how to authenticate, how to retry, and which streams it has."""

    name: str
    description: str
    auth: AuthSpec
    retry: RetryPolicy
    streams: tuple[type[RESTStream[Any]], ...]
    #: Settings only this source reads (shown in --about and meltano.yml).
    settings: tuple[Property[Any], ...] = field(default=())
    #: The base URL a spec names (``client.base_url``); the ``base_url`` setting wins.
    base_url: str | None = None
    #: Checks of those settings beyond their schema, each returning one message per problem.
    config_checks: tuple[Callable[[Mapping[str, Any]], list[str]], ...] = field(default=())


def source_of(tap: Tap) -> Source:
    """The source a tap was configured for (set by :class:`~tap_generic_rest.tap.TapGenericRest`).

    Streams and the probe see the tap as the SDK's ``Tap``; this is the one place that reads
    the attribute the tap adds.
    """
    source: Source = tap.source  # type: ignore[attr-defined]
    return source
