"""The source registry: each module in :mod:`tap_generic_rest.sources` declares one source.

A source is declared once, as a :class:`Source` named ``SOURCE`` in its module: its
authentication, its retry policy, its stream classes and any settings of its own.
Adding a sixth source is one new module there plus its schema files.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from tap_generic_rest import sources as _sources_package
from tap_generic_rest.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from singer_sdk.typing import Property

    from tap_generic_rest.auth import AuthSpec
    from tap_generic_rest.client import GenericRestStream
    from tap_generic_rest.retry import RetryPolicy


@dataclass(frozen=True)
class Source:
    """One REST API: how to authenticate, how to retry, and which streams it has."""

    name: str
    description: str
    auth: AuthSpec
    retry: RetryPolicy
    streams: tuple[type[GenericRestStream], ...]
    #: Settings only this source reads (shown in --about and meltano.yml).
    settings: tuple[Property[Any], ...] = field(default=())
    #: The base URL a spec names (``client.base_url``); the ``base_url`` setting wins.
    base_url: str | None = None
    #: Checks of those settings beyond their schema, each returning one message per problem.
    config_checks: tuple[Callable[[Mapping[str, Any]], list[str]], ...] = field(default=())


@cache
def all_sources() -> dict[str, Source]:
    """Every source module's ``SOURCE``, by name."""
    found: dict[str, Source] = {}
    for module in sorted(pkgutil.iter_modules(_sources_package.__path__), key=lambda m: m.name):
        source = getattr(
            importlib.import_module(f"{_sources_package.__name__}.{module.name}"), "SOURCE", None
        )
        if isinstance(source, Source):
            found[source.name] = source
    return found


def get_source(name: object) -> Source:
    """The source called ``name``, or a ConfigError naming the ``source`` setting."""
    sources = all_sources()
    if not isinstance(name, str) or name not in sources:
        choices = ", ".join(sources)
        if name is None or name == "":
            msg = f"setting 'source' is required: one of {choices}"
        else:
            msg = f"setting 'source' must be one of {choices}"
        raise ConfigError(msg)
    return sources[name]
