"""Checks of a whole config: every problem, one line per setting, never a value.

The SDK's own validation messages quote the offending value, which may be a secret.
Here the settings schema is checked with jsonschema, then what a schema cannot say:
``source`` or ``spec`` (a spec is compiled, no request made), ``base_url``,
``start_date``, the credentials the source's authentication needs, and the source's
own checks. The tap runs them before it reads anything else (``TapGenericRest``), and
so does the command line before the SDK reads the input files (``config/input_files.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jsonschema import Draft7Validator

from tap_generic_rest.config.refusals import base_url_errors, credential_errors
from tap_generic_rest.config.settings import type_words, with_numbers
from tap_generic_rest.errors import ConfigError
from tap_generic_rest.sources import get_source
from tap_generic_rest.spec import compile_spec
from tap_generic_rest.stream.replication import to_moment

if TYPE_CHECKING:
    from collections.abc import Mapping

    from tap_generic_rest.source import Source


def configured_source(config: Mapping[str, Any]) -> Source:
    """The source a config names: a built-in one, or the one its ``spec`` describes."""
    if config.get("spec") is not None:
        return compile_spec(config)
    return get_source(config.get("source"))


def config_errors(config: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    """Every problem with ``config``, as one message per setting, in a stable order."""
    config = with_numbers(config, schema)
    errors = sorted(
        (_describe_error(e) for e in Draft7Validator(schema).iter_errors(config)),
    )
    if config.get("flattening_enabled") and config.get("flattening_max_depth") is None:
        errors.append(
            "setting 'flattening_max_depth' is required when 'flattening_enabled' is true "
            "(how many levels of nested properties to flatten, e.g. 1)"
        )
    if errors:
        return errors
    window = _window_errors(config)
    if config.get("spec") is not None:
        return window + _spec_errors(config)
    errors.extend(window)
    if not config.get("base_url"):
        errors.append("setting 'base_url' is required")
    if not config.get("source"):
        errors.append("setting 'source' is required (or 'spec')")
    if errors:
        return errors
    errors.extend(base_url_errors(str(config["base_url"])))
    source = get_source(config["source"])
    errors.extend(
        f"setting '{setting}' is required for source '{source.name}'"
        for setting in source.auth.settings
        if not config.get(setting)
    )
    if errors:
        return errors
    errors.extend(credential_errors(config, source))
    for check in source.config_checks:
        errors.extend(check(config))
    return errors


def _spec_errors(config: dict[str, Any]) -> list[str]:
    """Problems with a spec run: the spec itself (compiled, no request made), then base_url."""
    if config.get("source"):
        return ["set either 'source' or 'spec', not both"]
    try:
        source = compile_spec(config)
    except ConfigError as exc:
        return [str(exc)]
    return base_url_errors(str(config.get("base_url") or source.base_url))


def _describe_error(error: Any) -> str:
    """A config validation error, naming the setting but never showing its value."""
    setting = ".".join(str(p) for p in error.absolute_path) or "config"
    schema = error.schema if isinstance(error.schema, dict) else {}
    validator = error.validator
    if validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else "?"
        return f"setting '{missing}' is required"
    if validator in ("type", "anyOf"):  # anyOf: spec, a string or an object
        kinds = (
            error.validator_value
            if validator == "type"
            else [k.get("type") for k in error.validator_value if k.get("type") != "null"]
        )
        return f"setting '{setting}' must be {type_words(kinds)}"
    if validator == "minimum":
        return f"setting '{setting}' must be at least {schema.get('minimum')}"
    if validator == "exclusiveMinimum":
        return f"setting '{setting}' must be greater than {schema.get('exclusiveMinimum')}"
    if validator == "enum":
        return f"setting '{setting}' must be one of {', '.join(map(str, error.validator_value))}"
    return f"setting '{setting}' is invalid ({validator})"


def _window_errors(config: Mapping[str, Any]) -> list[str]:
    """``start_date`` and ``end_date``: date-times, the end after the start."""
    errors = []
    moments = {}
    for name in ("start_date", "end_date"):
        value = config.get(name)
        if value is not None:
            moments[name] = to_moment(value)
            if moments[name] is None:
                errors.append(
                    f"setting '{name}' must be an ISO 8601 date-time (2024-01-31T00:00:00Z)"
                )
    start, end = moments.get("start_date"), moments.get("end_date")
    if start is not None and end is not None and end <= start:
        errors.append("setting 'end_date' must be after 'start_date' (the window is start to end)")
    return errors
