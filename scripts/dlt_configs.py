"""Extract the plain-data rest_api configurations of dlt's test suite, with dlt's verdict.

Usage: ``python scripts/dlt_configs.py DLT_CHECKOUT [OUTPUT]``. Every dict literal in
``tests/sources/rest_api/`` whose top level is a whole configuration (``client``,
``resources``, ``resource_defaults``) and holds only data (literals, ``dlt.secrets[...]``,
``dlt.config[...]``, ``dlt.secrets.value``) is kept once; each is then given to dlt's own
``rest_api_source`` (dlt must be installed: the ``dev`` extra) and its verdict recorded.
The tests read the output file, so they need neither dlt's repository nor the network.
"""

from __future__ import annotations

import ast
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

_TOP_KEYS = {"client", "resources", "resource_defaults"}
_DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "tests/fixtures/dlt_configs/configs.json"
#: What a referenced setting holds when dlt judges a configuration (set, as a user would).
SECRET_VALUE = "secret-value"


class NotDataError(Exception):
    """A value in a configuration is code, not data (a call, a name, a lambda)."""


def _dlt_attribute(node: ast.AST) -> str | None:
    """``dlt.secrets`` or ``dlt.config`` for such an attribute node."""
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "dlt"
        and node.attr in ("secrets", "config")
    ):
        return node.attr
    return None


def data(node: ast.AST) -> Any:
    """The plain value of ``node`` (dlt references as the strings the tap reads)."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Dict):
        if any(key is None for key in node.keys):
            raise NotDataError("a ** unpacking")
        return {data(k): data(v) for k, v in zip(node.keys, node.values, strict=True)}  # type: ignore[arg-type]
    if isinstance(node, ast.List | ast.Tuple):
        return [data(item) for item in node.elts]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        value = data(node.operand)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return -value
    if isinstance(node, ast.Subscript) and _dlt_attribute(node.value):
        key = node.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            return f'dlt.{_dlt_attribute(node.value)}["{key.value}"]'
    if isinstance(node, ast.Attribute) and node.attr == "value" and _dlt_attribute(node.value):
        return f"dlt.{_dlt_attribute(node.value)}.value"
    raise NotDataError(type(node).__name__)


def _is_whole_config(node: ast.Dict) -> bool:
    keys = {k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)}
    return (
        len(keys) == len(node.keys)
        and bool(keys)
        and keys <= _TOP_KEYS
        and bool(keys & {"client", "resources"})
    )


def extract(checkout: Path) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Every distinct plain-data configuration, with where it was first found; skips by reason."""
    found: dict[str, dict[str, Any]] = {}
    skipped: dict[str, int] = {}
    folder = checkout / "tests" / "sources" / "rest_api"
    for path in sorted(folder.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Dict) and _is_whole_config(node)):
                continue
            try:
                config = data(node)
            except NotDataError as exc:
                skipped[str(exc)] = skipped.get(str(exc), 0) + 1
                continue
            key = json.dumps(config, sort_keys=True)
            origin = f"{path.relative_to(checkout)}:{node.lineno}"
            found.setdefault(key, {"origin": origin, "config": config})
    return list(found.values()), skipped


def _with_values(value: Any) -> Any:
    """``value`` with every dlt reference replaced by a set value (dlt judges it as if set)."""
    if isinstance(value, str) and value.startswith(("dlt.secrets", "dlt.config")):
        return SECRET_VALUE
    if isinstance(value, dict):
        return {k: _with_values(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_values(v) for v in value]
    return value


def dlt_verdict(config: dict[str, Any]) -> tuple[str, str | None]:
    """``("valid", None)`` or ``("invalid", dlt's first error line)``, from dlt itself."""
    from dlt.sources.rest_api import rest_api_source

    try:
        rest_api_source(_with_values(config), name="dlt_configs")  # type: ignore[arg-type]
    except Exception as exc:  # noqa: BLE001  (any refusal is dlt's verdict)
        first = (str(exc).strip().splitlines() or [""])[0]
        return "invalid", f"{type(exc).__name__}: {first}"[:300]
    return "valid", None


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        print("usage: dlt_configs.py DLT_CHECKOUT [OUTPUT]", file=sys.stderr)
        return 2
    checkout = Path(argv[1]).resolve()
    output = Path(argv[2]).resolve() if len(argv) == 3 else _DEFAULT_OUTPUT
    configs, skipped = extract(checkout)
    with tempfile.TemporaryDirectory() as folder:  # no .dlt/ config of this machine is read
        os.chdir(folder)
        for entry in configs:
            entry["dlt"], entry["dlt_error"] = dlt_verdict(entry["config"])
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(configs, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    valid = sum(entry["dlt"] == "valid" for entry in configs)
    print(
        f"{len(configs)} configurations ({valid} valid, {len(configs) - valid} invalid) -> {output}"
    )
    print("skipped (not plain data): " + ", ".join(f"{k} {v}" for k, v in sorted(skipped.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
