"""User specs: any REST API described in dlt's ``rest_api`` format, run on the tap's engine.

:func:`~tap_generic_rest.spec.reading.loader.load_spec` reads a spec (a JSON, YAML or Python file,
or an inline object) without executing anything; :func:`~tap_generic_rest.spec.compile.
compile_spec` turns it into the same :class:`~tap_generic_rest.source.Source` and
:class:`~tap_generic_rest.stream.base.GenericRestStream` subclasses a built-in source declares,
so retries, masking, paging guards, prefetching and the fast record path apply unchanged.

The loader and compiler (and YAML) are imported only when the ``spec`` setting is used:
a run of a built-in source never needs them, and they are a sizeable part of its start-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tap_generic_rest.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from tap_generic_rest.source import Source
    from tap_generic_rest.spec.reading.loader import Reference

__all__ = ["compile_spec", "spec_secrets", "spec_settings"]


def compile_spec(config: Mapping[str, Any]) -> Source:
    """The Source the ``spec`` setting describes (a ConfigError for anything wrong)."""
    # Deferred: only a spec run needs the compiler (see the module docstring).
    from tap_generic_rest.spec.compile import compile_spec as compile_  # noqa: PLC0415

    return compile_(config)


def spec_settings(config: Mapping[str, Any]) -> set[str]:
    """The settings a configured spec reads (``dlt.secrets``/``dlt.config`` names).

    Known settings for the unknown-settings warning; an unreadable spec reads none
    (its error is reported once, by the validation).
    """
    return {reference.name for reference in _references(config.get("spec"))}


def spec_secrets(config: Mapping[str, Any]) -> set[str]:
    """The settings the configured spec, or vendor profile, reads through ``dlt.secrets``.

    Secrets wherever their values go: masked in every line, never written literally in a
    file of settings (the accounts file). An unreadable spec reads none.
    """
    setting = config.get("spec")
    if setting is None and isinstance(config.get("source"), str):
        from tap_generic_rest.profiles import get_profile  # noqa: PLC0415  (deferred)

        profile = get_profile(config["source"])
        setting = None if profile is None else str(profile.spec_path)
    return {reference.name for reference in _references(setting) if reference.secret}


def _references(setting: Any) -> set[Reference]:
    """The references of the spec a ``spec`` setting names (none for None or a bad spec)."""
    if setting is None:
        return set()
    from tap_generic_rest.spec.reading.loader import load_spec, references  # noqa: PLC0415  (deferred)

    try:
        loaded = load_spec(setting)
    except ConfigError:
        return set()
    return references(loaded.data)
