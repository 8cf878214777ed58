"""``--probe``: see what an API really sends before loading it.

For each selected stream, a few pages are fetched through the stream's own sync
loop, watched (:mod:`.watch`), their records checked against the schema
(:mod:`.findings`), and a report printed (:mod:`.report`); no RECORD or STATE
message is written. Exit status: 0 the sample fits the schemas, 1 drift, 2 failure.

The constants live here and the rest is imported on first use: every run of the tap
reads them, only ``--probe`` needs the engine (a few ms of imports saved otherwise).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tap_generic_rest.probe.report import ProbeReport, StreamReport
    from tap_generic_rest.probe.run import NoMessages, probe, probe_stream, run_probe_command

#: Exit statuses: the sample fits the schemas, it does not, the probe could not finish.
CLEAN, DRIFT, FAILED = 0, 1, 2

#: Pages per request loop when neither --probe-pages nor the probe_pages setting says.
DEFAULT_PROBE_PAGES = 3

#: The names imported on first use, and their modules.
_LAZY = {
    "ProbeReport": "report",
    "StreamReport": "report",
    "NoMessages": "run",
    "probe": "run",
    "probe_stream": "run",
    "run_probe_command": "run",
}

__all__ = [
    "CLEAN",
    "DEFAULT_PROBE_PAGES",
    "DRIFT",
    "FAILED",
    "NoMessages",
    "ProbeReport",
    "StreamReport",
    "probe",
    "probe_stream",
    "run_probe_command",
]


def __getattr__(name: str) -> Any:
    """The probe's engine, imported when one of its names is first asked for."""
    module = _LAZY.get(name)
    if module is None:
        msg = f"module {__name__!r} has no attribute {name!r}"
        raise AttributeError(msg)
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
