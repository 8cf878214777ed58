"""Checks of the --config, --catalog and --state files before the SDK reads them.

The SDK would fail on an unreadable or malformed file with a traceback; these
checks fail first, with one line naming the option and the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from tap_generic_rest.errors import InputFileError

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


def _catalog_problem(data: Any) -> str | None:
    streams = data.get("streams")
    if not isinstance(streams, list):
        return "has no 'streams' list"
    for index, stream in enumerate(streams):
        if not isinstance(stream, dict) or not isinstance(stream.get("tap_stream_id"), str):
            return f"stream #{index} has no 'tap_stream_id'"
        if not isinstance(stream.get("schema", {}), dict):
            return f"stream '{stream['tap_stream_id']}' has a 'schema' that is not an object"
        if not isinstance(stream.get("metadata", []), list):
            return f"stream '{stream['tap_stream_id']}' has 'metadata' that is not a list"
    return None


_SHAPE_CHECKS: dict[str, Callable[[Any], str | None]] = {
    "--config": lambda data: None,
    "--catalog": _catalog_problem,
    "--state": lambda data: None,
}


def check_input_files(args: list[str]) -> None:
    """Fail with an InputFileError if any input file is unreadable or malformed."""
    for option, shape_problem in _SHAPE_CHECKS.items():
        for value in _options(args, option):
            if option == "--config" and value == "ENV":
                continue
            path = Path(value)
            try:
                data = orjson.loads(path.read_bytes())
            except OSError as exc:
                msg = f"{option} file {value} cannot be read: {exc.strerror or exc}"
                raise InputFileError(msg) from None
            except orjson.JSONDecodeError as exc:
                msg = f"{option} file {value} is not valid JSON ({exc.msg})"
                raise InputFileError(msg) from None
            if not isinstance(data, dict):
                msg = f"{option} file {value} must hold a JSON object"
                raise InputFileError(msg)
            problem = shape_problem(data)
            if problem:
                msg = f"{option} file {value} {problem}"
                raise InputFileError(msg)
