"""One resource's endpoint as dlt reads it: its path and params bound, its parent, its body.

dlt binds a path's placeholders before anything else: ``{post_id}`` names a ``resolve``
param (the parent's field) or a static param (its value is put into the path);
``{resources.posts.id}`` names the parent directly; ``{incremental.start_value}`` the
incremental's value. Every other placeholder, and a resolve param the path does not use,
is refused as dlt refuses it. The same expressions may appear in params, ``json``,
``data`` and headers.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from tap_generic_rest.errors import ResponseShapeError
from tap_generic_rest.spec.reading.keys import nearest
from tap_generic_rest.spec.values import fail

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

#: Path segments that would move the request elsewhere (and the empty one, which joins two).
_NOT_SEGMENTS = frozenset({"", ".", ".."})


def join_url(base_url: str, path: str) -> str:
    """``base_url`` and a resource path joined as dlt joins them (one slash between).

    ``https://api.example.com/v2/`` and ``users`` or ``/users`` give ``.../v2/users``; a
    path that is a whole ``http(s)`` URL is used as it is; an empty path is the base URL.
    """
    if urlsplit(path).scheme in ("http", "https"):
        return path
    if not path:
        return base_url
    return base_url.rstrip("/") + "/" + path.lstrip("/")


def path_segment(stream: str, placeholder: str, value: Any) -> str:
    """A parent's value as exactly one percent-encoded path segment, or the stream fails.

    A value such as ``..``, ``a/b?c``, an object or a list would send the request to
    another endpoint (and label its records as this stream's).
    """
    if isinstance(value, str | int | float) and str(value) not in _NOT_SEGMENTS:
        return quote(str(value), safe="")
    shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
    kind = "an empty value" if value is None or value == "" else shown
    msg = (
        f"stream '{stream}': the parent's value for {{{placeholder}}} is {kind}, which is not "
        "one path segment; no request was sent with it"
    )
    raise ResponseShapeError(msg)


#: A detail endpoint: the last path segment is a placeholder (dlt's ``single_entity_path``).
_DETAIL = re.compile(r"\{([a-zA-Z0-9.\-_]+)\}")
_CONTEXTS = ("resources", "incremental")


@dataclass(frozen=True)
class ResponseAction:
    """dlt's ``response_actions`` entry with ``action: ignore``: a response to skip."""

    status_code: int | None
    content: str | None

    def matches(self, status: int, text: str) -> bool:
        """Whether a response with this status and body is the one the action names."""
        if self.status_code is not None and status != self.status_code:
            return False
        return self.content is None or self.content in text


@dataclass
class Bound:
    """A resource's endpoint once dlt's bindings are done."""

    path: str
    #: Params left for the query: static values, and texts holding expressions.
    params: dict[str, Any]
    #: Parent fields used, by expression (``resources.posts.id``).
    parents: dict[str, tuple[str, str]] = field(default_factory=dict)


def is_detail(path: str) -> bool:
    """Whether ``path`` names one object (its last segment is a placeholder), as dlt guesses."""
    return _DETAIL.search(PurePosixPath(path).name) is not None


def expressions(value: Any) -> set[str]:
    """The ``{...}`` expressions in a string or any nesting of dicts and lists (keys too)."""
    found: set[str] = set()
    if isinstance(value, str):
        try:
            found.update(name for _, name, _, _ in string.Formatter().parse(value) if name)
        except ValueError:
            return found  # unbalanced braces: literal text for the tap, as for str.format users
    elif isinstance(value, dict):
        for key, item in value.items():
            found |= expressions(key) | expressions(item)
    elif isinstance(value, list):
        for item in value:
            found |= expressions(item)
    return found


def bind(path: str, params: Mapping[str, Any], *, incremental: bool, where: str) -> Bound:
    """Bind the path's placeholders to params as dlt's ``_bind_path_params`` does."""
    contexts = _CONTEXTS if incremental else _CONTEXTS[:1]
    resolve = {
        key: value
        for key, value in params.items()
        if isinstance(value, dict) and value.get("type") == "resolve"
    }
    left = dict(params)
    parents: dict[str, tuple[str, str]] = {}
    pieces: list[str] = []
    unbound = set(resolve)
    for literal, placeholder, _, _ in string.Formatter().parse(path):
        pieces.append(literal)
        if not placeholder:
            continue
        if any(placeholder.startswith(f"{context}.") for context in contexts):
            pieces.append("{" + placeholder + "}")
            continue
        if placeholder in resolve:
            config = resolve[placeholder]
            expression = f"resources.{config['resource']}.{config['field']}"
            parents[expression] = (str(config["resource"]), str(config["field"]))
            pieces.append("{" + expression + "}")
            unbound.discard(placeholder)
            left.pop(placeholder, None)
            continue
        if placeholder not in params:
            if "." not in placeholder:
                raise fail(
                    where,
                    f"endpoint.path '{path}' needs a param named '{placeholder}', which "
                    "endpoint.params does not have",
                )
            raise fail(
                where,
                f"endpoint.path '{path}': '{{{placeholder}}}' names nothing (expressions start "
                f"with {' or '.join(contexts)}.)",
            )
        value = params[placeholder]
        if isinstance(value, dict):
            raise fail(
                where,
                f"endpoint.path '{path}' binds the param '{placeholder}' of type "
                f"'{value.get('type')}'; a path binds only resolve params",
            )
        pieces.append(str(value))
        left.pop(placeholder)
    if unbound:
        raise fail(
            where,
            f"resolve params {', '.join(sorted(unbound))} are not used in endpoint.path "
            f"'{path}' (for a query param write '{{resources.<parent>.<field>}}')",
        )
    bound = "".join(pieces)
    for expression in expressions(bound):
        _add_parent(parents, expression, where)
    return Bound(bound, left, parents)


def check_expressions(
    parts: Mapping[str, Any], bound: Bound, *, incremental: bool, where: str
) -> None:
    """Every expression of params, json, data and headers names a context (dlt's rule)."""
    contexts = _CONTEXTS if incremental else _CONTEXTS[:1]
    for part, value in parts.items():
        for expression in expressions(value):
            if not any(expression.startswith(f"{context}.") for context in contexts):
                raise fail(
                    where,
                    f"endpoint.{part}: the expression '{{{expression}}}' names nothing "
                    f"(expressions start with {' or '.join(contexts)}.; write {{{{ and }}}} "
                    "for literal braces)",
                )
            _add_parent(bound.parents, expression, where)


def _add_parent(parents: dict[str, tuple[str, str]], expression: str, where: str) -> None:
    if not expression.startswith("resources."):
        return
    parts = expression.split(".", 2)
    if len(parts) != 3 or not parts[1] or not parts[2]:
        raise fail(where, f"'{{{expression}}}': expected resources.<resource>.<field>")
    parents[expression] = (parts[1], parts[2])


def parent_of(bound: Bound, names: Iterable[str], where: str) -> str | None:
    """The one parent the expressions name (none, or a refusal naming the nearest resource)."""
    named = sorted({parent for parent, _ in bound.parents.values()})
    if len(named) > 1:
        raise fail(where, f"its expressions name more than one parent: {', '.join(named)}")
    if not named:
        return None
    known = list(names)
    if named[0] not in known:
        raise fail(
            where,
            f"its parent '{named[0]}' is not a resource of the spec{nearest(named[0], known)}",
        )
    return named[0]


def response_actions(raw: Any, where: str) -> tuple[ResponseAction, ...]:
    """Dlt's ``response_actions``: ``ignore`` by status code and/or content."""
    if raw is None:
        return ()
    actions = []
    for index, item in enumerate(raw):
        key = f"{where}: endpoint.response_actions[{index}]"
        action = item.get("action")
        if action != "ignore":
            raise fail(
                key,
                f"action {action!r}: only 'ignore' can be written in a spec file "
                "(dlt's other actions are Python callables)",
            )
        status, content = item.get("status_code"), item.get("content")
        if status is not None and (isinstance(status, bool) or not isinstance(status, int)):
            raise fail(key, "status_code: must be an integer HTTP status")
        if content is not None and not isinstance(content, str):
            raise fail(key, "content: must be a string")
        if status is None and content is None:
            raise fail(key, "needs a status_code or a content to match")
        actions.append(ResponseAction(status, content))
    return tuple(actions)
