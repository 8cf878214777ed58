"""The source registry: each module of this package declares one source as ``SOURCE``.

A source is declared once, as a :class:`~tap_generic_rest.source.Source` named ``SOURCE`` in
its module: its authentication, its retry policy, its stream classes and any settings of its
own. Adding a sixth source is one new module here plus its schema files.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from tap_generic_rest.errors import ConfigError
from tap_generic_rest.source import Source


@cache
def all_sources() -> dict[str, Source]:
    """Every source module's ``SOURCE``, by name."""
    found: dict[str, Source] = {}
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        source = getattr(importlib.import_module(f"{__name__}.{module.name}"), "SOURCE", None)
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
