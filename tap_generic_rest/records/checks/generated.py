"""One generated function per schema that tells, in one pass, that a record needs nothing.

Per declared property a ``get`` and one class test against the classes that need
nothing, nested objects and arrays inlined, no call per value. A record with
something to report goes to the exact closures (``rules.py``). Property names enter
the code only as ``repr`` literals; everything else is bound as a value.
"""

from __future__ import annotations

from typing import Any

from tap_generic_rest.records.checks.rules import (
    BOTH,
    CONFORM,
    JSON_CLASSES,
    MAX_INLINE_DEPTH,
    MISSING,
    SHAPES,
    Missing,
    ObjectShape,
    ValueCheck,
    object_check,
)


def compile_record_check(schema: dict[str, Any]) -> ValueCheck:
    """The check of a stream's records against its (effective) schema."""
    if "properties" not in schema:
        return _conform_always  # the SDK's conformance needs properties: leave it to the SDK
    return _generate(object_check(schema, BOTH))


def _conform_always(_: Any) -> int:
    return CONFORM


class _Generator:
    """Writes one Python function that tells, in one pass, that a record needs nothing.

    The generated function returns 0 at once for such a record, and hands any other
    one to the closures' exact check (``exact(r)``), which says which flags it raises.
    Nothing from the schema or the data is written into the code but property names,
    as ``repr`` string literals; every other value (sets of classes, checks) is a
    name bound in the function's namespace.
    """

    def __init__(self) -> None:
        self.lines = ["def generated(r):"]
        self.namespace: dict[str, Any] = {"M": MISSING}
        self.count = 0

    def name(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def const(self, value: Any) -> str:
        key = self.name("k")
        self.namespace[key] = value
        return key

    def emit(self, indent: int, line: str) -> None:
        self.lines.append("    " * indent + line)

    def object(self, check: ValueCheck, var: str, indent: int, depth: int) -> None:
        shape = SHAPES[check]
        assert isinstance(shape, ObjectShape)
        if shape.declared is not None:
            self.emit(indent, f"if not {self.const(shape.declared)}.issuperset({var}):")
            self.emit(indent + 1, "return exact(r)")
        get = self.name("g")
        self.emit(indent, f"{get} = {var}.get")
        for name in shape.names:
            quiet, deeper = shape.fits(name)
            if quiet.issuperset(JSON_CLASSES) and not deeper:
                continue
            item = self.name("v")
            self.emit(indent, f"{item} = {get}({name!r}, M)")
            if not quiet.issuperset(JSON_CLASSES):
                self.emit(indent, f"if {item}.__class__ not in {self.const(quiet | {Missing})}:")
                self.emit(indent + 1, "return exact(r)")
            self.deeper(deeper, item, indent, depth)

    def deeper(self, deeper: dict[type, ValueCheck], var: str, indent: int, depth: int) -> None:
        for cls, check in deeper.items():
            shape = SHAPES.get(check)
            self.emit(indent, f"if {var}.__class__ is {self.const(cls)}:")
            if shape is None or depth >= MAX_INLINE_DEPTH:
                self.emit(indent + 1, f"if {self.const(check)}({var}):")
                self.emit(indent + 2, "return exact(r)")
            elif isinstance(shape, ObjectShape):
                self.emit(indent + 1, "pass")
                self.object(check, var, indent + 1, depth + 1)
            else:
                item = self.name("i")
                self.emit(indent + 1, f"for {item} in {var}:")
                self.emit(indent + 2, f"if {item}.__class__ not in {self.const(shape.quiet)}:")
                self.emit(indent + 3, "return exact(r)")
                self.deeper(shape.deeper, item, indent + 2, depth + 1)


def _generate(check: ValueCheck) -> ValueCheck:
    """One flat function doing ``check``'s work for records with nothing to report."""
    generator = _Generator()
    generator.object(check, "r", 1, 0)
    generator.emit(1, "return 0")
    generator.namespace["exact"] = check
    code = compile("\n".join(generator.lines), "<record check>", "exec")
    exec(code, generator.namespace)  # noqa: S102  # names as repr literals, values as bindings
    generated: ValueCheck = generator.namespace["generated"]
    return generated
