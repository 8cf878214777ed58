"""Checks of the --config, --catalog and --state files before the SDK reads them.

The SDK would fail on an unreadable or malformed file with a traceback (and after
logging a few lines); these checks fail first, with one line naming the option and
the file, or the setting.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from jsonschema import Draft7Validator, SchemaError

from tap_generic_rest.config.refusals import catalog_errors
from tap_generic_rest.config.state_checks import message_problem, unwrapped_state
from tap_generic_rest.config.validate import config_errors, configured_source
from tap_generic_rest.errors import ConfigError, InputFileError
from tap_generic_rest.tap import TapGenericRest

if TYPE_CHECKING:
    from collections.abc import Callable


def _options(args: list[str], name: str) -> list[str]:
    """Values of ``--name X`` and ``--name=X`` in ``args``."""
    values = []
    for index, arg in enumerate(args):
        if arg == name and index + 1 < len(args):
            values.append(args[index + 1])
        elif arg.startswith(f"{name}="):
            values.append(arg.split("=", 1)[1])
    return values


def _schema_problem(schema: Any) -> str | None:
    """Why ``schema`` is not a JSON schema the SDK can read (None if it is)."""
    if not isinstance(schema, dict):
        return "is not an object"
    try:
        Draft7Validator.check_schema(schema)
    except SchemaError as exc:
        where = ".".join(str(p) for p in exc.path) or "its top level"
        return f"is not a valid JSON schema (at {where})"
    return None


def _metadata_problem(metadata: Any) -> str | None:
    if not isinstance(metadata, list):
        return "'metadata' is not a list"
    for index, entry in enumerate(metadata):
        if not isinstance(entry, dict):
            return f"metadata #{index} is not an object"
        breadcrumb = entry.get("breadcrumb")
        if not isinstance(breadcrumb, list) or not all(isinstance(b, str) for b in breadcrumb):
            return f"metadata #{index} has no 'breadcrumb' list of strings"
        if not isinstance(entry.get("metadata"), dict):
            return f"metadata #{index} has no 'metadata' object"
    return None


def _stream_problem(stream: dict[str, Any]) -> str | None:
    problem = _schema_problem(stream.get("schema", {}))
    if problem:
        return f"'schema' {problem}"
    problem = _metadata_problem(stream.get("metadata", []))
    if problem:
        return problem
    keys = stream.get("key_properties", [])
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        return "'key_properties' is not a list of strings"
    for field in ("stream", "replication_key", "replication_method"):
        if not isinstance(stream.get(field, ""), str | None):
            return f"'{field}' is not a string"
    return None


def _catalog_problem(data: dict[str, Any]) -> str | None:
    streams = data.get("streams")
    if not isinstance(streams, list):
        return "no 'streams' list"
    for index, stream in enumerate(streams):
        if not isinstance(stream, dict) or not isinstance(stream.get("tap_stream_id"), str):
            return f"stream #{index} has no 'tap_stream_id'"
        problem = _stream_problem(stream)
        if problem:
            return f"stream '{stream['tap_stream_id']}': {problem}"
    return None


def _state_problem(data: dict[str, Any]) -> str | None:
    problem = message_problem(data)
    if problem:
        return problem
    data = unwrapped_state(data)[0]  # a whole STATE message is read as its value
    bookmarks = data.get("bookmarks", {})
    if not isinstance(bookmarks, dict):
        return "'bookmarks' is not an object"
    for name, bookmark in bookmarks.items():
        if not isinstance(bookmark, dict):
            return f"the bookmark of '{name}' is not an object"
        partitions = bookmark.get("partitions", [])
        if not isinstance(partitions, list) or not all(
            isinstance(p, dict) and isinstance(p.get("context", {}), dict) for p in partitions
        ):
            return f"the 'partitions' of '{name}' are not objects with a 'context'"
    return None


#: Options that print information and read no settings.
_INFO_ONLY = frozenset({"--about", "--help", "--version"})

_SHAPE_CHECKS: dict[str, Callable[[dict[str, Any]], str | None]] = {
    "--config": lambda data: None,
    "--catalog": _catalog_problem,
    "--state": _state_problem,
}


def _read_object(option: str, value: str) -> dict[str, Any]:
    """The JSON object in file ``value``, or an InputFileError naming option and file."""
    try:
        data = orjson.loads(Path(value).read_bytes())
    except OSError as exc:
        msg = f"{option} file {value} cannot be read: {exc.strerror or exc}"
        raise InputFileError(msg) from None
    except orjson.JSONDecodeError as exc:
        msg = f"{option} file {value} is not valid JSON ({exc.msg})"
        raise InputFileError(msg) from None
    if not isinstance(data, dict):
        msg = f"{option} file {value} must hold a JSON object"
        raise InputFileError(msg)
    return data


def check_input_files(args: list[str]) -> None:
    """Fail with one message if any input file, or the configuration, is unusable.

    Runs before the SDK starts (and logs anything), so that a bad input ends in
    exactly one line and no request is made. The settings are checked here when
    they come from files only; ``--config ENV`` leaves them to the tap itself.
    """
    merged: dict[str, Any] = {}
    catalogs: list[tuple[str, dict[str, Any]]] = []
    for option, shape_problem in _SHAPE_CHECKS.items():
        for value in _options(args, option):
            if option == "--config" and value == "ENV":
                continue
            data = _read_object(option, value)
            problem = shape_problem(data)
            if problem:
                msg = f"{option} file {value}: {problem}"
                raise InputFileError(msg)
            if option == "--config":
                merged |= data  # later files win, as in the SDK
            elif option == "--catalog":
                catalogs.append((value, data))
    if "ENV" in _options(args, "--config") or _INFO_ONLY.intersection(args):
        return
    errors = config_errors(merged, TapGenericRest.config_jsonschema)
    if errors:
        raise ConfigError("; ".join(errors))
    for value, catalog in catalogs:
        errors = catalog_errors(catalog, configured_source(merged))
        if errors:
            msg = f"--catalog file {value}: {'; '.join(errors)}"
            raise InputFileError(msg)
