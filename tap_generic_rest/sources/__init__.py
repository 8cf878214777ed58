"""The source registry: each module of this package declares one source as ``SOURCE``.

The vendor profiles (:mod:`tap_generic_rest.profiles`) are offered by name beside them.

A source is declared once, as a :class:`~tap_generic_rest.source.Source` named ``SOURCE`` in
its module: its authentication, its retry policy, its stream classes and any settings of its
own. Adding a sixth source is one new module here plus its schema files.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from typing import TYPE_CHECKING, Any

from tap_generic_rest.errors import ConfigError
from tap_generic_rest.profiles import PROFILES, get_profile
from tap_generic_rest.source import Source

if TYPE_CHECKING:
    from collections.abc import Mapping


@cache
def all_sources() -> dict[str, Source]:
    """Every source module's ``SOURCE``, by name."""
    found: dict[str, Source] = {}
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        source = getattr(importlib.import_module(f"{__name__}.{module.name}"), "SOURCE", None)
        if isinstance(source, Source):
            found[source.name] = source
    return found


def source_names() -> list[str]:
    """Every name the ``source`` setting takes: the built-in sources, then the vendor profiles."""
    return [*all_sources(), *PROFILES]


def configured_source(name: object, config: Mapping[str, Any]) -> Source:
    """The source ``name`` names: a built-in one, or a vendor profile compiled for ``config``."""
    profile = get_profile(name)
    return profile.compile(config) if profile is not None else get_source(name)


def get_source(name: object) -> Source:
    """The built-in source called ``name``, or a ConfigError naming the ``source`` setting."""
    sources = all_sources()
    if not isinstance(name, str) or name not in sources:
        choices = ", ".join(source_names())
        if name is None or name == "":
            msg = f"setting 'source' is required: one of {choices}"
        else:
            msg = f"setting 'source' must be one of {choices}"
        raise ConfigError(msg)
    return sources[name]
