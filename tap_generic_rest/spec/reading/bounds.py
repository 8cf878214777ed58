"""Bounds on a spec, so that a hostile one fails in one line instead of taking the machine.

A spec is a few hundred values nested a few levels deep. Three things a file can do
would otherwise cost unbounded time or memory, or a ``RecursionError`` traceback:

* be huge: a spec file is read whole, so one larger than :data:`MAX_SPEC_BYTES` is
  refused before it is read;
* nest deep (``[[[[...]]]]`` 30,000 levels): PyYAML composes recursively, and so do
  the walks over a loaded spec; more than :data:`MAX_DEPTH` levels is refused, for
  YAML while it is composed, for JSON, Python and inline specs once loaded;
* expand (YAML aliases, the "billion laughs"): PyYAML shares an aliased node, but
  everything that walks the loaded spec visits it once per alias. A YAML document
  whose aliases expand past :data:`MAX_VALUES` values, or nest past
  :data:`MAX_DEPTH` once expanded, or refer to a node that contains them (a loop), is
  refused. A few aliases (one paginator shared by several resources) load as before.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

#: Largest spec file read, in bytes.
MAX_SPEC_BYTES = 16 << 20
#: Deepest nesting of a spec's values (a real spec nests fewer than ten levels).
MAX_DEPTH = 64
#: Most values a spec may hold with every YAML alias expanded.
MAX_VALUES = 200_000


class SpecTooLargeError(ValueError):
    """A spec nests, or its aliases expand, past the bounds; the message says which."""


def _line(node: Node) -> str:
    return f"line {node.start_mark.line + 1}"


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader, composing at most :data:`MAX_DEPTH` levels deep."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                msg = f"nested more than {MAX_DEPTH} levels deep (line {mark.line + 1})"
                raise SpecTooLargeError(msg)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def compose_document(self) -> Node | None:
        node: Node | None = super().compose_document()
        if node is not None:
            _check_expansion(node)
        return node


def yaml_load(text: str) -> Any:
    """``yaml.safe_load`` within the bounds (:class:`SpecTooLargeError` past them)."""
    return yaml.load(text, Loader=_BoundedLoader)  # noqa: S506  a SafeLoader subclass


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _check_expansion(root: Node) -> None:
    """Refuse a composed YAML document whose aliases loop, or expand past the bounds.

    Each node is visited once (its size and depth remembered), so a bomb costs the
    size of its text, not of its expansion.
    """
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    open_nodes: set[int] = set()
    todo: list[tuple[Node, bool]] = [(root, False)]
    while todo:
        node, children_done = todo.pop()
        key = id(node)
        if children_done:
            open_nodes.discard(key)
            children = _children(node)
            size[key] = 1 + sum(size[id(child)] for child in children)
            depth[key] = 1 + max((depth[id(child)] for child in children), default=0)
            if size[key] > MAX_VALUES:
                msg = f"its aliases expand to more than {MAX_VALUES:,} values ({_line(node)})"
                raise SpecTooLargeError(msg)
            if depth[key] > MAX_DEPTH:
                msg = f"its aliases nest values more than {MAX_DEPTH} levels deep ({_line(node)})"
                raise SpecTooLargeError(msg)
            continue
        if key in size:
            continue
        if key in open_nodes:
            msg = f"an alias refers to a value that contains it ({_line(node)})"
            raise SpecTooLargeError(msg)
        open_nodes.add(key)
        todo.append((node, True))
        todo.extend((child, False) for child in _children(node) if id(child) not in size)


def check_nesting(data: Any) -> None:
    """Refuse loaded spec values nested deeper than :data:`MAX_DEPTH` (iteratively)."""
    todo: list[tuple[Any, int]] = [(data, 1)]
    seen: set[int] = set()
    while todo:
        value, level = todo.pop()
        if not isinstance(value, dict | list | tuple) or id(value) in seen:
            continue
        if level > MAX_DEPTH:
            msg = f"values nested more than {MAX_DEPTH} levels deep"
            raise SpecTooLargeError(msg)
        seen.add(id(value))
        items = value.values() if isinstance(value, dict) else value
        todo.extend((item, level + 1) for item in items)
