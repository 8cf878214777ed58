"""User specs: any REST API described in dlt's ``rest_api`` format, run on the tap's engine.

:func:`~tap_generic_rest.spec.loader.load_spec` reads a spec (a JSON, YAML or Python file,
or an inline object) without executing anything; :func:`~tap_generic_rest.spec.compile.
compile_spec` turns it into the same :class:`~tap_generic_rest.registry.Source` and
:class:`~tap_generic_rest.client.GenericRestStream` subclasses a built-in source declares,
so retries, masking, paging guards, prefetching and the fast record path apply unchanged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tap_generic_rest.errors import ConfigError
from tap_generic_rest.spec.compile import compile_spec
from tap_generic_rest.spec.loader import load_spec, references

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["compile_spec", "spec_settings"]


def spec_settings(config: Mapping[str, Any]) -> set[str]:
    """The settings a configured spec reads (``dlt.secrets``/``dlt.config`` names).

    Known settings for the unknown-settings warning; an unreadable spec reads none
    (its error is reported once, by the validation).
    """
    if config.get("spec") is None:
        return set()
    try:
        loaded = load_spec(config["spec"])
    except ConfigError:
        return set()
    return {reference.name for reference in references(loaded.data)}
