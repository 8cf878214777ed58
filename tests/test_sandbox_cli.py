"""``python -m sandbox`` as the README uses it: clean by default, oddities on request (issue 26).

The sandbox the command line starts serves records that fit the schemas, so ``--probe``
against it exits 0 for every source; ``--drift``, ``--undeclared-fields`` and
``--tricky-values`` each bring back what real APIs send on a bad day, and
``--tap-configs DIR`` writes the tap config of every source, so that the README's
drift example runs as written.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import requests

from tap_generic_rest.sources import all_sources

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def sandbox_cli(folder: Path, *options: str) -> Iterator[Path]:
    """``python -m sandbox --port 0 --tap-configs <folder> <options>``, until the block ends."""
    ready = folder / "ready"
    command = [sys.executable, "-m", "sandbox", "--port", "0", "--ready-file", str(ready)]
    process = subprocess.Popen(
        [*command, "--tap-configs", str(folder), *options],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().startswith("sandbox listening on ")
        yield folder
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stdout:
            process.stdout.close()


def probe(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tap_generic_rest", "--config", str(config), "--probe"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_default_sandbox_probes_clean_for_every_source(tmp_path: Path) -> None:
    with sandbox_cli(tmp_path) as configs:
        assert sorted(p.stem for p in configs.glob("*.json")) == sorted(all_sources())
        for source in all_sources():
            config = json.loads((configs / f"{source}.json").read_text())
            assert config["source"] == source
            done = probe(configs / f"{source}.json")
            assert done.returncode == 0, (source, done.stdout[-3000:])
            assert "every sample fits its schema (exit 0)" in done.stdout


@pytest.mark.parametrize(
    ("option", "finding"),
    [
        ("--drift", "type drift isPrivate: declared boolean|null, seen string"),
        ("--undeclared-fields", "undeclared field _sandbox_extra: string"),
    ],
)
def test_each_oddity_is_an_option_the_probe_finds(
    tmp_path: Path, option: str, finding: str
) -> None:
    with sandbox_cli(tmp_path, option) as configs:
        done = probe(configs / "tracker.json")
    assert done.returncode == 1, done.stdout[-3000:]
    assert finding in done.stdout
    assert "result: drift in" in done.stdout


def test_tricky_values_and_capped_pages_are_options(tmp_path: Path) -> None:
    with sandbox_cli(tmp_path, "--tricky-values", "--offset-page-cap", "7") as configs:
        config = json.loads((configs / "helpdesk.json").read_text())
        page = requests.get(
            f"{config['base_url']}/v1/contacts",
            params={"api_key": config["api_key"], "limit": 50},
            timeout=30,
        )
    assert len(page.json()["data"]) == 7
    assert "_sandbox_tricky" in page.text


def readme_drift_example() -> tuple[list[str], list[str]]:
    """The README's drift example: the commands (after ``$``) and the lines they print."""
    text = (ROOT / "README.md").read_text()
    block = text[text.index("$ python -m sandbox") :]
    lines = block[: block.index("```")].splitlines()
    commands = [line[2:] for line in lines if line.startswith("$ ")]
    printed = [line for line in lines if not line.startswith("$ ")]
    return commands, printed[printed.index(next(p for p in printed if p.startswith("probe"))) :]


def without_timings(lines: list[str]) -> list[str]:
    """Lines with the milliseconds and the column widths they set left out."""
    return [" ".join(re.sub(r"\d+ ms", "_ ms", line).split()) for line in lines]


def test_the_readme_drift_example_is_what_its_commands_print(tmp_path: Path) -> None:
    commands, printed = readme_drift_example()
    assert commands[0].split()[:3] == ["python", "-m", "sandbox"]
    options = commands[0].split()[3:]
    assert options[:2] == ["--port", "8765"]
    assert options[2:] == ["--drift", "--tap-configs", "sandbox-configs", "&"]
    assert commands[1].split()[:3] == [
        "tap-generic-rest",
        "--config",
        "sandbox-configs/tracker.json",
    ]
    with sandbox_cli(tmp_path, "--drift") as configs:  # on a free port: the output is the same
        done = probe(configs / "tracker.json")
    assert done.returncode == 1
    assert without_timings(done.stdout.splitlines()) == without_timings(printed)
