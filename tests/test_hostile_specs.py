"""Hostile specs (issue 22, cases 2 and 3): bombs and deep nesting, refused in one line.

Each spec runs the console script in a child process whose address space is capped
(``RLIMIT_AS``) and whose run is timed out, so a spec that would take all memory or
hang fails the test instead of the machine: before the fix, an alias bomb ended in a
MemoryError traceback and deep nesting in a RecursionError traceback.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tap_generic_rest.spec.reading.loader import load_spec

TAP = str(Path(sys.executable).with_name("tap-generic-rest"))
ERROR = "tap-generic-rest: error: "
#: Address space of the child: several times a normal run's, far below a bomb's.
MEMORY_CAP = 1536 * 1024 * 1024


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def run_spec(tmp_path: Path, name: str, text: str, *args: str) -> str:
    """The tap's one error line for the spec file ``name`` holding ``text``."""
    spec_path = tmp_path / name
    spec_path.write_text(text)
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"spec": str(spec_path), "api_token": "t0k3n-hostile"}))
    done = subprocess.run(
        [TAP, "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_cap_memory,
        check=False,
    )
    lines = done.stderr.splitlines()
    assert done.returncode == 1, done.stderr[-2000:]
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    assert done.stdout == ""
    assert len(lines) == 1, done.stderr[-2000:]
    assert lines[0].startswith(ERROR), lines
    assert str(spec_path) in lines[0] or "spec" in lines[0]
    return lines[0]


def resource_yaml(extra: str = "") -> str:
    return (
        "client:\n  base_url: http://127.0.0.1:9\n"
        "resources:\n  - name: things\n    endpoint: {path: /things, data_selector: data}\n" + extra
    )


def alias_bomb(levels: int, width: int) -> str:
    """``levels`` anchors, each a list of ``width`` aliases of the one before."""
    lines = ["l0: &l0 [" + ", ".join(['"lol"'] * width) + "]"]
    for level in range(1, levels):
        lines.append(f"l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


# --- YAML -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("levels", "width"), [(9, 9), (6, 30), (30, 2)], ids=["9x9", "6x30", "30x2"]
)
def test_a_yaml_alias_bomb_is_refused_naming_the_file(
    tmp_path: Path, levels: int, width: int
) -> None:
    line = run_spec(tmp_path, "bomb.yaml", resource_yaml(alias_bomb(levels, width)))
    assert "bomb.yaml" in line
    assert "alias" in line


def test_a_yaml_alias_that_contains_itself_is_refused(tmp_path: Path) -> None:
    line = run_spec(tmp_path, "loop.yaml", resource_yaml("loop: &me [1, *me]\n"))
    assert "loop.yaml" in line
    assert "alias" in line


def test_a_yaml_merge_key_bomb_is_refused(tmp_path: Path) -> None:
    lines = ["m0: &m0 {a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8}"]
    for level in range(1, 9):
        keys = ", ".join(f"k{i}: *m{level - 1}" for i in range(9))
        lines.append(f"m{level}: &m{level} {{{keys}}}")
    line = run_spec(tmp_path, "merge.yaml", resource_yaml("\n".join(lines) + "\n"))
    assert "merge.yaml" in line


def test_a_yaml_spec_using_a_few_aliases_still_loads(tmp_path: Path) -> None:
    text = (
        "client:\n  base_url: http://127.0.0.1:9\n"
        "resources:\n"
        "  - name: things\n    endpoint:\n      path: /things\n      data_selector: data\n"
        "      paginator: &paging {type: offset, limit: 10, total_path: total}\n"
        "  - name: others\n    endpoint: {path: /others, data_selector: data, paginator: *paging}\n"
    )
    spec_path = tmp_path / "ok.yaml"
    spec_path.write_text(text)
    data = load_spec(str(spec_path)).data
    paginators = [r["endpoint"]["paginator"] for r in data["resources"]]
    assert paginators == [{"type": "offset", "limit": 10, "total_path": "total"}] * 2


@pytest.mark.parametrize(
    "nested",
    [
        pytest.param("deep: " + "[" * 30_000 + "]" * 30_000 + "\n", id="flow-30000"),
        pytest.param(
            "deep:\n" + "".join("  " * i + "- \n" for i in range(1, 2_000)), id="block-2000"
        ),
        pytest.param("deep: " + "{a: " * 5_000 + "1" + "}" * 5_000 + "\n", id="mappings-5000"),
    ],
)
def test_a_deeply_nested_yaml_spec_is_refused_naming_the_file(tmp_path: Path, nested: str) -> None:
    line = run_spec(tmp_path, "deep.yml", resource_yaml(nested))
    assert "deep.yml" in line
    assert "nested" in line


# --- JSON and Python specs --------------------------------------------------------------


@pytest.mark.parametrize("depth", [900, 5_000])
def test_a_deeply_nested_json_spec_is_refused_naming_the_file(tmp_path: Path, depth: int) -> None:
    spec: dict[str, Any] = {
        "client": {"base_url": "http://127.0.0.1:9"},
        "resources": [{"name": "things", "endpoint": {"path": "/things"}}],
    }
    text = json.dumps(spec)[:-1] + ', "deep": ' + "[" * depth + "]" * depth + "}"
    line = run_spec(tmp_path, "deep.json", text)
    assert "deep.json" in line


def test_a_deeply_nested_python_spec_is_refused_naming_the_file(tmp_path: Path) -> None:
    text = (
        "rest_api_source({'client': {'base_url': 'http://127.0.0.1:9'}, "
        "'resources': [{'name': 'things', 'endpoint': {'path': '/things'}}], 'deep': "
        + "[" * 180
        + "]" * 180
        + "})\n"
    )
    line = run_spec(tmp_path, "deep.py", text)
    assert "deep.py" in line
    assert "nested" in line


def test_a_yaml_number_too_long_to_read_is_refused_naming_the_file(tmp_path: Path) -> None:
    line = run_spec(tmp_path, "long.yaml", resource_yaml("long: " + "7" * 5_000 + "\n"))
    assert "long.yaml" in line


def test_a_huge_spec_file_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    filler = "# " + "x" * 1000 + "\n"
    line = run_spec(tmp_path, "huge.yaml", resource_yaml() + filler * 40_000)
    assert "huge.yaml" in line
    assert "MB" in line


# --- templates ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "template",
    [
        pytest.param("{{ " + "not " * 2_000 + "response.get('next') }}", id="not-2000"),
        pytest.param("{{ " + "not " * 100_000 + "response.get('next') }}", id="not-100000"),
        pytest.param("{{ response" + ".get('a')" * 2_000 + " }}", id="get-2000"),
        pytest.param("{{ response" + "['a']" * 3_000 + " }}", id="subscript-3000"),
        pytest.param(
            "{{ response.get('a', " + "[" * 150 + "]" * 150 + ") }}", id="default-list-150"
        ),
    ],
)
def test_a_deep_or_huge_template_is_refused_naming_the_key(tmp_path: Path, template: str) -> None:
    spec = {
        "client": {"base_url": "http://127.0.0.1:9"},
        "resources": [
            {
                "name": "things",
                "endpoint": {
                    "path": "/things",
                    "data_selector": "data",
                    "paginator": {"type": "cursor", "cursor_value": template},
                },
            }
        ],
    }
    line = run_spec(tmp_path, "tpl.json", json.dumps(spec))
    assert "endpoint.paginator.cursor_value" in line
    assert "template" in line
