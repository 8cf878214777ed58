"""What a run pays for before its first request and after its last record.

The spec compiler (with YAML) and the probe's engine are imported only by the runs that
use them; a run of the command line skips the interpreter's final collection.
"""

from __future__ import annotations

import atexit
import gc
import json
import subprocess
import sys
from typing import Any

import pytest

from tap_generic_rest import __main__ as cli

DEFERRED = ("yaml", "tap_generic_rest.spec.compile", "tap_generic_rest.spec.reading.loader")
PROBE_ENGINE = ("tap_generic_rest.probe.run", "tap_generic_rest.probe.report")


def _loaded_after(code: str) -> set[str]:
    """The modules loaded, of those deferred, after running ``code`` in a fresh interpreter."""
    names = [*DEFERRED, *PROBE_ENGINE]
    script = (
        f"{code}\nimport json, sys\nprint(json.dumps([n for n in {names!r} if n in sys.modules]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    return set(json.loads(out.splitlines()[-1]))


def test_the_command_line_loads_neither_the_spec_compiler_nor_the_probe() -> None:
    assert _loaded_after("import tap_generic_rest.__main__") == set()


def test_they_load_when_asked_for() -> None:
    loaded = _loaded_after(
        "from tap_generic_rest.probe import run_probe_command\n"
        "from tap_generic_rest.spec import spec_settings\n"
        "spec_settings({'spec': {'client': {'base_url': 'http://x'}, 'resources': []}})"
    )
    assert loaded == {*PROBE_ENGINE, "yaml", "tap_generic_rest.spec.reading.loader"}


def test_the_probe_package_still_offers_its_names() -> None:
    from tap_generic_rest import probe
    from tap_generic_rest.probe.run import probe_stream

    assert probe.probe_stream is probe_stream
    assert (probe.CLEAN, probe.DRIFT, probe.FAILED) == (0, 1, 2)
    with pytest.raises(AttributeError):
        _ = probe.no_such_name


@pytest.mark.parametrize(("argv", "frozen"), [(None, True), (["--about"], False)])
def test_only_a_run_of_the_command_line_freezes_the_heap_at_exit(
    monkeypatch: pytest.MonkeyPatch, argv: list[str] | None, *, frozen: bool
) -> None:
    registered: list[Any] = []
    monkeypatch.setattr(atexit, "register", registered.append)
    monkeypatch.setattr(sys, "argv", ["tap-generic-rest", "--about"])
    monkeypatch.setattr(cli.TapGenericRest.cli, "main", lambda **_: 0)
    with pytest.raises(SystemExit):
        cli.main(argv)
    assert (gc.freeze in registered) is frozen
