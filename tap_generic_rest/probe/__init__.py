"""``--probe``: see what an API really sends before loading it.

For each selected stream, a few pages are fetched through the stream's own sync
loop, watched (:mod:`.watch`), their records checked against the schema
(:mod:`.findings`), and a report printed (:mod:`.report`); no RECORD or STATE
message is written. Exit status: 0 the sample fits the schemas, 1 drift, 2 failure.
"""

from __future__ import annotations

from tap_generic_rest.probe.report import CLEAN, DRIFT, FAILED, ProbeReport, StreamReport
from tap_generic_rest.probe.run import (
    DEFAULT_PROBE_PAGES,
    NoMessages,
    probe,
    probe_stream,
    run_probe_command,
)

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
