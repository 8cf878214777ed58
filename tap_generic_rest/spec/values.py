"""Reading values out of a spec: settings it refers to, paths, numbers, names.

Every helper raises a ConfigError naming where in the spec the value is (``spec:
resource 'tasks': endpoint.paginator.limit: ...``).
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any

from tap_generic_rest.errors import ConfigError
from tap_generic_rest.http.body import AUTO_SELECTOR
from tap_generic_rest.http.selectors import SelectorError, as_jsonpath
from tap_generic_rest.redact import REDACTOR
from tap_generic_rest.spec.reading.loader import Reference

if TYPE_CHECKING:
    from collections.abc import Mapping

_ENV_PREFIX = "TAP_GENERIC_REST_"


def setting_value(config: Mapping[str, Any], name: str) -> Any:
    """A setting a spec reads: from the config, else ``TAP_GENERIC_REST_<NAME>``."""
    value = config.get(name)
    if value is None or value == "":
        value = os.environ.get(_ENV_PREFIX + name.upper())
    return value


class Resolver:
    """Replaces a spec's ``dlt.secrets``/``dlt.config`` references by the settings they name.

    A value read through ``dlt.secrets`` is registered for masking as it is read.
    """

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config

    def __call__(self, value: Any, where: str) -> Any:
        """A value with its dlt.secrets/dlt.config references replaced by settings."""
        if isinstance(value, Reference):
            found = setting_value(self.config, value.name)
            if found is None or found == "":
                raise fail(where, f"reads setting '{value.name}' ({value}), which is not set")
            if value.secret:
                REDACTOR.add(str(found))
            return found
        if isinstance(value, dict):
            return {k: self(v, f"{where}.{k}") for k, v in value.items()}
        if isinstance(value, list):
            return [self(v, f"{where}[{i}]") for i, v in enumerate(value)]
        return value


def fail(where: str, message: str) -> ConfigError:
    """The error for a bad value at ``where``."""
    return ConfigError(f"spec: {where}: {message}")


def jsonpath(value: Any, where: str) -> str:
    """A path into a body: dotted when it is one, else the JSONPath itself.

    ``$.meta.total`` is ``meta.total``; ``$..next`` stays a JSONPath, checked by
    jsonpath-ng (read as dlt reads it).
    """
    if not isinstance(value, str):
        raise fail(where, "must be a dotted path or a JSONPath string")
    path = value.strip()
    simple = re.sub(r"\[\s*['\"]([^'\"]+)['\"]\s*\]", r".\1", path)
    if simple in ("$", ""):
        return AUTO_SELECTOR
    simple = simple.removeprefix("$.").removeprefix("$")
    if simple and not re.search(r"[\[\]*?@()$]|\.\.|^\.|\.$", simple):
        return simple
    try:
        return as_jsonpath(path)
    except SelectorError as exc:
        raise fail(where, f"not a JSONPath jsonpath-ng reads: '{value}' ({exc})") from None


def selector(value: Any, where: str) -> str:
    """A ``data_selector`` as the JSONPath records are selected by (dlt's rules)."""
    if not isinstance(value, str):
        raise fail(where, "must be a JSONPath string")
    try:
        return as_jsonpath(value)
    except SelectorError as exc:
        raise fail(where, f"not a JSONPath jsonpath-ng reads: '{value}' ({exc})") from None


def integer(value: Any, where: str, minimum: int = 0) -> int:
    """An integer of at least ``minimum`` (not a boolean)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise fail(where, f"must be an integer of at least {minimum}")
    return value


def nonempty(value: Any, where: str) -> str:
    """A non-empty string."""
    if not isinstance(value, str) or not value:
        raise fail(where, "must be a non-empty string")
    return value
