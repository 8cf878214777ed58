"""Settings as users write them: environment variables, numbers given as text, typos.

Meltano hands a setting of kind ``string`` to the tap as text, and the SDK's
``--config ENV`` reads a ``number`` setting as text too, so a number setting also
accepts a decimal number written as a string (``"0.5"``). Environment variables
are parsed here by the setting's JSON Schema type, with one message naming the
variable and the setting, never the value (it may be a secret). Settings the tap
does not know are reported once, with the closest known name.
"""

from __future__ import annotations

import difflib
import json
import re
from typing import TYPE_CHECKING, Any

from singer_sdk.configuration._dict_config import parse_environment_config

from tap_generic_rest.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Mapping

_TYPE_WORDS = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "object": "an object",
    "array": "a list",
}

#: A decimal number as JSON or a person writes it: no ``inf``, ``nan`` or ``1_000``.
_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


def type_words(types: str | list[str]) -> str:
    """``["integer", "null"]`` -> ``"an integer"``: what a setting must be, in words."""
    names = [types] if isinstance(types, str) else [t for t in types if t != "null"]
    return " or ".join(_TYPE_WORDS.get(name, name) for name in names)


def json_type(prop: Mapping[str, Any]) -> str:
    """The one JSON type of a setting's schema, ``null`` aside (``string`` if unsaid)."""
    types = prop.get("type", "string")
    names = [types] if isinstance(types, str) else [t for t in types if t != "null"]
    return names[0] if names else "string"


def _decimal(text: str) -> float | None:
    text = text.strip()
    return float(text) if _DECIMAL.fullmatch(text) else None


def with_numbers(config: Mapping[str, Any], schema: Mapping[str, Any]) -> dict[str, Any]:
    """``config`` with every number setting given as a decimal string turned into a number.

    Meltano passes settings of kind ``string`` as text (its ``decimal`` kind crashes
    Meltano 4 when set from the environment), so ``"0.5"`` must mean 0.5.
    """
    result = dict(config)
    for name, prop in schema.get("properties", {}).items():
        value = result.get(name)
        if isinstance(value, str) and json_type(prop) == "number":
            number = _decimal(value)
            if number is not None:
                result[name] = number
    return result


def _from_text(text: str, kind: str, where: str) -> Any:  # any JSON value
    """The value of a setting written as text, by its JSON type; ConfigError if it is not one."""
    value: Any = text
    if kind == "integer":
        value = int(text) if re.fullmatch(r"\s*[+-]?\d+\s*", text) else None
    elif kind == "number":
        value = _decimal(text)
    elif kind == "boolean":
        word = text.strip().lower()
        value = True if word in _TRUE else False if word in _FALSE else None
    elif kind in {"array", "object"}:
        try:
            value = json.loads(text)
        except ValueError as exc:
            if text.lstrip().startswith(("[", "{")):  # meant as JSON: never read as a list
                msg = f"{where} starts like JSON but is not valid JSON ({_json_error(exc)})"
                raise ConfigError(msg) from None
            value = text.split(",") if kind == "array" else None
        if not isinstance(value, list if kind == "array" else dict):
            value = None
    if value is None:
        msg = f"{where} must be {type_words(kind)}"
        raise ConfigError(msg)
    return value


def _json_error(exc: ValueError) -> str:
    """Where the JSON went wrong, never the text itself (it may hold a secret)."""
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at character {exc.pos}"
    return type(exc).__name__


#: The ``metrics_log_level`` words, as the logging module knows them.
METRICS_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def metrics_level(value: Any) -> str | None:
    """The ``metrics_log_level`` setting as a logging level name; None if it is not one.

    The SDK logs one METRIC line per request and per stream at INFO; ``WARNING`` (or
    higher) quiets them, as the SDK's documentation suggests for this setting.
    """
    if not isinstance(value, str):
        return None
    word = value.strip().upper()
    return word if word in METRICS_LEVELS else None


def env_settings(schema: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    """Settings from ``<prefix><SETTING>`` environment variables, typed by the schema.

    The SDK reads the variables (and a ``.env`` file) as text; each is then
    parsed by its setting's type. An empty variable counts as unset, except for
    string settings.
    """
    properties = schema.get("properties", {})
    as_text = {name: {"type": ["string"]} for name in properties}
    raw = parse_environment_config({"properties": as_text}, prefix)
    config: dict[str, Any] = {}
    for name, text in raw.items():
        kind = json_type(properties[name])
        if kind != "string" and not text.strip():
            continue
        variable = prefix + name.upper().replace("-", "_")
        config[name] = _from_text(text, kind, f"environment variable {variable} (setting '{name}')")
    return config


def unknown_settings(config: Mapping[str, Any], schema: Mapping[str, Any]) -> str | None:
    """One line naming each setting the tap does not know, with the closest known one."""
    known = sorted(schema.get("properties", {}))
    unknown = sorted(set(config) - set(known))
    if not unknown:
        return None
    parts = []
    for name in unknown:
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        parts.append(f"'{name}'{hint}")
    noun = "setting" if len(unknown) == 1 else "settings"
    return f"unknown {noun} ignored: {', '.join(parts)}"
