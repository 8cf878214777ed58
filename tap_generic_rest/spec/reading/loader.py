"""Reading a spec: JSON, YAML or Python files, or an inline object; nothing is executed.

A Python file is parsed with :mod:`ast` and only literals are read from it: the argument
of a ``rest_api_source({...})`` call (as the seeds write it), or a dict literal assigned
to a name. ``dlt.secrets["NAME"]`` and ``dlt.config["NAME"]`` (as Python subscripts, or
as strings in any format) become :class:`Reference` values that the compiler resolves to
the tap setting ``NAME``.

Every spec is bounded before it is used (:mod:`tap_generic_rest.spec.reading.bounds`): its file
size, how deep its values nest, and for YAML how far its aliases expand, so a hostile
spec (an alias bomb, a document nested 30,000 deep) fails in one line naming the file.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import yaml

from tap_generic_rest.errors import ConfigError
from tap_generic_rest.spec.reading.bounds import (
    MAX_SPEC_BYTES,
    SpecTooLargeError,
    check_nesting,
    yaml_load,
)

_REFERENCE = re.compile(r"""^\s*dlt\.(secrets|config)\[\s*(['"])([^'"\]]+)\2\s*\]\s*$""")
_PY_SUFFIXES = (".py",)
_YAML_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class Reference:
    """A value read from the tap setting ``name``; ``secret`` values are masked everywhere."""

    name: str
    secret: bool

    def __str__(self) -> str:
        return f'dlt.{"secrets" if self.secret else "config"}["{self.name}"]'


@dataclass(frozen=True)
class LoadedSpec:
    """A spec's content, and where it came from (its folder holds ``schemas/``)."""

    data: dict[str, Any]
    name: str
    directory: Path | None


def reference_in(value: str) -> Reference | None:
    """The reference a string spells (``'dlt.secrets["api_key"]'``), if it is one."""
    match = _REFERENCE.match(value)
    return Reference(match.group(3), match.group(1) == "secrets") if match else None


def references(value: Any) -> set[Reference]:
    """Every reference in a loaded spec (the settings it reads)."""
    if isinstance(value, Reference):
        return {value}
    if isinstance(value, dict):
        return set().union(*(references(item) for item in value.values()))
    if isinstance(value, list):
        return set().union(*(references(item) for item in value))
    return set()


#: dlt's "resolve this argument from the secrets/config" value, read from the setting named
#: after its key (``"token": dlt.secrets.value`` reads the setting ``token``).
_BY_KEY = {"dlt.secrets.value": True, "dlt.config.value": False}


def _with_references(value: Any) -> Any:
    """``value`` with every ``dlt.secrets[...]``/``dlt.config[...]`` string made a Reference."""
    if isinstance(value, str):
        return reference_in(value) or value
    if isinstance(value, dict):
        return {
            key: Reference(str(key), _BY_KEY[item])
            if isinstance(item, str) and item.strip() in _BY_KEY
            else _with_references(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_with_references(item) for item in value]
    return value


def load_spec(setting: Any) -> LoadedSpec:
    """Read the ``spec`` setting: a file path, a JSON object as text, or an inline object."""
    if isinstance(setting, dict):
        return LoadedSpec(_with_references(_bounded(setting, "setting 'spec'")), "spec", None)
    if not isinstance(setting, str) or not setting.strip():
        msg = "setting 'spec' must be a path to a spec file or an object"
        raise ConfigError(msg)
    if setting.lstrip().startswith("{"):  # an object given as text (an environment variable)
        try:
            data = orjson.loads(setting)
        except orjson.JSONDecodeError as exc:
            msg = f"setting 'spec' is not valid JSON ({exc.msg})"
            raise ConfigError(msg) from None
        data = _bounded(_must_be_object(data, "setting 'spec'"), "setting 'spec'")
        return LoadedSpec(_with_references(data), "spec", None)
    path = Path(setting).expanduser()
    where = f"spec file {setting}"
    try:
        if path.stat().st_size > MAX_SPEC_BYTES:
            msg = f"{where}: larger than {MAX_SPEC_BYTES // (1 << 20)} MB; a spec is read whole"
            raise ConfigError(msg)
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        msg = f"spec file {setting} cannot be read: {reason}"
        raise ConfigError(msg) from None
    suffix = path.suffix.lower()
    if suffix in _PY_SUFFIXES:
        data = python_spec(text, where)
    elif suffix in _YAML_SUFFIXES:
        data = _yaml_spec(text, where)
    elif suffix == ".json":
        data = _json_spec(text, where)
    else:
        msg = f"{where}: unknown format '{suffix}' (use .json, .yaml, .yml or .py)"
        raise ConfigError(msg)
    data = _bounded(_must_be_object(data, where), where)
    return LoadedSpec(_with_references(data), _name(path), path.parent)


def _bounded(data: dict[str, Any], where: str) -> dict[str, Any]:
    """``data``, if it nests no deeper than a spec may (else one line naming ``where``)."""
    try:
        check_nesting(data)
    except SpecTooLargeError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    return data


def _name(path: Path) -> str:
    """The source name of a spec file: its stem, as a word."""
    return re.sub(r"\W+", "_", path.stem).strip("_") or "spec"


def _must_be_object(data: Any, where: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        msg = f"{where} must hold an object with 'client' and 'resources'"
        raise ConfigError(msg)
    return data


def _json_spec(text: str, where: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        msg = f"{where}: not valid JSON ({exc.msg}, line {exc.lineno})"
        raise ConfigError(msg) from None


def _yaml_spec(text: str, where: str) -> Any:
    try:
        return yaml_load(text)
    except SpecTooLargeError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f", line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        msg = f"{where}: YAML syntax error ({problem}{line})"
        raise ConfigError(msg) from None
    except ValueError as exc:  # a value PyYAML's constructors refuse: a 5,000-digit integer
        reason = str(exc).split(":", 1)[0]
        msg = f"{where}: a value YAML cannot read ({reason})"
        raise ConfigError(msg) from None


# --- Python: literals only ----------------------------------------------------------


class _NotLiteralError(Exception):
    def __init__(self, node: ast.AST, what: str) -> None:
        super().__init__(what)
        self.line = getattr(node, "lineno", 0)
        self.what = what


def python_spec(text: str, where: str) -> Any:
    """The spec literal of a Python file: a ``rest_api_source`` argument or a dict assigned.

    Imports and docstrings are allowed around it; any other statement, and any value
    that is not a literal or a ``dlt.secrets``/``dlt.config`` subscript, is an error.
    """
    try:
        tree = ast.parse(text)
    except (RecursionError, MemoryError):
        msg = f"{where}: nested too deep for Python's parser"
        raise ConfigError(msg) from None
    except SyntaxError as exc:
        msg = f"{where}: Python syntax error ({exc.msg}, line {exc.lineno})"
        raise ConfigError(msg) from None
    found: list[ast.expr] = []
    try:
        for statement in tree.body:
            found.extend(_spec_expressions(statement))
        found = _passed_by_name(found, tree)
        if not found:
            msg = f"{where}: no rest_api_source({{...}}) call and no dict assigned to a name"
            raise ConfigError(msg)
        if len(found) > 1:
            msg = f"{where}: more than one spec (lines {found[0].lineno} and {found[1].lineno})"
            raise ConfigError(msg)
        return _literal(found[0])
    except _NotLiteralError as exc:
        msg = f"{where}: only literals are allowed (line {exc.line}: {exc.what})"
        raise ConfigError(msg) from None


def _passed_by_name(found: list[ast.expr], tree: ast.Module) -> list[ast.expr]:
    """``config = {...}`` then ``rest_api_source(config)``: one spec, the dict.

    A name that is not a dict assigned in the file is not a literal.
    """
    names = [node for node in found if isinstance(node, ast.Name)]
    if not names:
        return found
    if len(names) == 1 and len(found) == 2:  # the dict and the call
        for statement in tree.body:
            if (
                isinstance(statement, ast.Assign)
                and isinstance(statement.value, ast.Dict)
                and [getattr(t, "id", None) for t in statement.targets] == [names[0].id]
            ):
                return [statement.value]
    raise _NotLiteralError(names[0], _describe(names[0]))


def _is_rest_api_call(node: ast.Call) -> bool:
    func = node.func
    name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
    return name == "rest_api_source"


def _spec_expressions(statement: ast.stmt) -> list[ast.expr]:
    """The spec literal a top-level statement holds ([] for imports and docstrings)."""
    if isinstance(statement, ast.Import | ast.ImportFrom):
        return []
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
        return []  # a docstring or a bare string
    value = statement.value if isinstance(statement, ast.Assign | ast.Expr) else None
    if value is None:
        raise _NotLiteralError(statement, f"a {type(statement).__name__} statement")
    if isinstance(value, ast.Call) and _is_rest_api_call(value):
        if len(value.args) != 1 or value.keywords:
            raise _NotLiteralError(value, "rest_api_source takes one dict")
        return [value.args[0]]
    if isinstance(statement, ast.Assign) and isinstance(value, ast.Dict):
        return [value]
    raise _NotLiteralError(value, _describe(value))


def _describe(node: ast.AST) -> str:
    if isinstance(node, ast.Call):
        return "a function call"
    if isinstance(node, ast.Name):
        return f"the name '{node.id}'"
    return f"a {type(node).__name__} expression"


def _literal(node: ast.AST) -> Any:
    """The value of a literal node (with dlt references), or _NotLiteralError."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Dict):
        keys = [key for key in node.keys if key is not None]
        if len(keys) != len(node.keys):
            raise _NotLiteralError(node, "a ** unpacking")
        return {_literal(k): _literal(v) for k, v in zip(keys, node.values, strict=True)}
    if isinstance(node, ast.List | ast.Tuple):
        return [_literal(item) for item in node.elts]
    if (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub | ast.UAdd)
        and isinstance(node.operand, ast.Constant)
        and isinstance(node.operand.value, int | float)
    ):
        return -node.operand.value if isinstance(node.op, ast.USub) else node.operand.value
    reference = _reference(node)
    if reference is not None:
        return reference
    raise _NotLiteralError(node, _describe(node))


def _reference(node: ast.AST) -> Reference | str | None:
    """``dlt.secrets["NAME"]`` or ``dlt.config["NAME"]`` as a Reference (``.value`` as text)."""
    if (
        isinstance(node, ast.Attribute)
        and node.attr == "value"
        and isinstance(node.value, ast.Attribute)
        and isinstance(node.value.value, ast.Name)
        and node.value.value.id == "dlt"
        and node.value.attr in ("secrets", "config")
    ):
        return f"dlt.{node.value.attr}.value"  # made a Reference by its key (_with_references)
    if not isinstance(node, ast.Subscript):
        return None
    target, key = node.value, node.slice
    if (
        isinstance(target, ast.Attribute)
        and isinstance(target.value, ast.Name)
        and target.value.id == "dlt"
        and target.attr in ("secrets", "config")
        and isinstance(key, ast.Constant)
        and isinstance(key.value, str)
    ):
        return Reference(key.value, target.attr == "secrets")
    return None
