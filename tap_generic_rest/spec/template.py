"""The seeds' paging templates: ``{{ response.get("paging", {}).get("next") }}`` and ``not``.

A template is parsed with :mod:`ast` into a tiny expression tree and evaluated by a
walker that knows four things: the name ``response`` (the decoded body), ``.get(key)``
and ``.get(key, default)`` on a mapping, ``[key]`` subscripts, and ``not``. Defaults are
literals. Nothing is ever passed to ``eval``.

A template is short and shallow: one longer than :data:`MAX_TEMPLATE_CHARS` or nested
deeper than :data:`MAX_TEMPLATE_DEPTH` (``not not not ...``, ``.get(...)`` chained, a
nested default) is refused naming its key, before Python's parser or the walker
could run out of stack or memory on it.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tap_generic_rest.errors import ConfigError
from tap_generic_rest.http.body import json_body

if TYPE_CHECKING:
    from collections.abc import Iterator

    import requests

_TEMPLATE = re.compile(r"^\s*\{\{(.*)\}\}\s*$", re.DOTALL)
#: Longest template read (the seeds' are under a hundred characters).
MAX_TEMPLATE_CHARS = 1000
#: Deepest nesting of a template's expression: ``not``, ``.get``, ``[...]`` and literals.
MAX_TEMPLATE_DEPTH = 32


class TemplateError(ValueError):
    """A template uses something the interpreter does not read."""


class _TooDeepError(ValueError):
    """A template nests past :data:`MAX_TEMPLATE_DEPTH`."""


@dataclass(frozen=True)
class _Response:
    pass


@dataclass(frozen=True)
class _Get:
    target: Any
    key: Any
    default: Any = None


@dataclass(frozen=True)
class _Not:
    operand: Any


@dataclass(frozen=True)
class _Literal:
    value: Any


def is_template(value: Any) -> bool:
    """Whether ``value`` is a ``{{ ... }}`` template string."""
    return isinstance(value, str) and _TEMPLATE.match(value) is not None


@dataclass(frozen=True)
class Template:
    """A compiled template; calling it on a response evaluates it over the JSON body."""

    source: str
    tree: Any

    def __call__(self, response: requests.Response) -> Any:
        """The template's value for this response."""
        return self.evaluate(json_body(response))

    def evaluate(self, body: Any) -> Any:
        """The template's value for a decoded body."""
        return _evaluate(self.tree, body)

    def reads(self, name: str | None) -> bool:
        """Whether the template may read under the body's key ``name`` (None: any key).

        The fast record path asks it: records it leaves undecoded must not be read.
        A position (``response[0]``) reads a bare array body's records.
        """
        keys = set(_first_keys(self.tree))
        return bool(keys) if name is None else name in keys or any(type(k) is int for k in keys)


def compile_template(text: str, where: str) -> Template:
    """Compile ``{{ expr }}``, or raise a ConfigError naming ``where``."""
    match = _TEMPLATE.match(text)
    if match is None:
        msg = f"{where}: expected a template '{{{{ response.get(...) }}}}'"
        raise ConfigError(msg)
    expression = match.group(1).strip()
    if len(expression) > MAX_TEMPLATE_CHARS:
        msg = f"{where}: the template is longer than {MAX_TEMPLATE_CHARS} characters"
        raise ConfigError(msg)
    try:
        tree = _build(ast.parse(expression, mode="eval").body)
    except (RecursionError, MemoryError, _TooDeepError):
        msg = f"{where}: the template nests more than {MAX_TEMPLATE_DEPTH} levels deep"
        raise ConfigError(msg) from None
    except SyntaxError as exc:
        msg = f"{where}: the template is not a valid expression ({exc.msg})"
        raise ConfigError(msg) from None
    except TemplateError as exc:
        msg = f"{where}: the template uses {exc}; only response.get(...), [...] and not are read"
        raise ConfigError(msg) from None
    return Template(expression, tree)


def _build(node: ast.expr, depth: int = 1) -> Any:
    if depth > MAX_TEMPLATE_DEPTH:
        raise _TooDeepError
    if isinstance(node, ast.Name):
        if node.id != "response":
            raise TemplateError(f"the name '{node.id}'")
        return _Response()
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return _Not(_build(node.operand, depth + 1))
    if isinstance(node, ast.Subscript):
        return _Get(_build(node.value, depth + 1), _constant(node.slice, depth))
    if isinstance(node, ast.Call):
        func = node.func
        if not (isinstance(func, ast.Attribute) and func.attr == "get") or node.keywords:
            raise TemplateError("a call other than .get(key[, default])")
        if len(node.args) not in (1, 2):
            raise TemplateError(".get with other than one or two arguments")
        default = _constant(node.args[1], depth) if len(node.args) == 2 else None
        return _Get(_build(func.value, depth + 1), _constant(node.args[0], depth), default)
    if isinstance(node, ast.Constant | ast.Dict | ast.List):
        return _Literal(_constant(node, depth))
    raise TemplateError(f"a {type(node).__name__} expression")


def _constant(node: ast.expr, depth: int) -> Any:
    """A literal key or default: a constant, or an empty-or-literal dict or list."""
    nested: list[tuple[ast.AST, int]] = [(node, depth)]
    while nested:  # literal_eval recurses: its depth is bounded first
        part, level = nested.pop()
        if level > MAX_TEMPLATE_DEPTH:
            raise _TooDeepError
        nested.extend((child, level + 1) for child in ast.iter_child_nodes(part))
    try:
        return ast.literal_eval(node)
    except ValueError:
        raise TemplateError(f"a {type(node).__name__} where a literal belongs") from None


def _first_keys(tree: Any) -> Iterator[Any]:
    """The keys read directly from the body, anywhere in ``tree``."""
    if isinstance(tree, _Not):
        yield from _first_keys(tree.operand)
    elif isinstance(tree, _Get):
        if isinstance(tree.target, _Response):
            yield tree.key
        else:
            yield from _first_keys(tree.target)


def _evaluate(tree: Any, body: Any) -> Any:
    if isinstance(tree, _Response):
        return body
    if isinstance(tree, _Not):
        return not _evaluate(tree.operand, body)
    if isinstance(tree, _Literal):
        return tree.value
    target = _evaluate(tree.target, body)
    if isinstance(target, dict):
        return target.get(tree.key, tree.default)
    if (
        isinstance(target, list)
        and isinstance(tree.key, int)
        and -len(target) <= tree.key < len(target)
    ):
        return target[tree.key]
    return tree.default
