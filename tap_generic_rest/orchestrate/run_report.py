"""What one ``meltano run`` of a partition did, read from Meltano's JSON log lines.

Meltano runs with ``--log-format=json``: each line is one JSON record, the tap's own lines
among them (the tap declares structured logging, so each keeps its level). The tap's run
summary (:mod:`tap_generic_rest.summary`) gives records, pages, requests and retries per
stream; its warnings (type drift, undeclared fields, paging) and its final
``tap-generic-rest: error: ...`` line are kept as they are. Nothing here runs anything.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

#: ``summary: stream 'users': 2,000 records, 80 pages, 81 requests, 1 retry, 5.10 s``
_STREAM = re.compile(
    r"^summary: stream '(?P<name>.+)': (?P<records>[\d,]+) records?, (?P<pages>[\d,]+) pages?, "
    r"(?P<requests>[\d,]+) requests?, (?P<retries>[\d,]+) (?:retry|retries), "
    r"(?P<seconds>[\d.]+) s$"
)
#: The tap's last line when it fails.
ERROR_PREFIX = "tap-generic-rest: error: "
COUNTS = ("records", "pages", "requests", "retries")


@dataclass(frozen=True)
class StreamCounts:
    """One stream's line of the tap's run summary."""

    records: int
    pages: int
    requests: int
    retries: int
    seconds: float


@dataclass
class RunReport:
    """The tap's summary, warnings and failure line of one run, and Meltano's own errors."""

    extractor: str
    streams: dict[str, StreamCounts] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    tap_error: str | None = None
    errors: list[str] = field(default_factory=list)  # error lines of Meltano and the target

    def read(self, line: str) -> str:
        """Take one line of Meltano's output into the report; returns its text for the log."""
        record = _json(line)
        if record is None:
            return line.rstrip("\n")
        text = str(record.get("event", ""))
        level = str(record.get("level", "info"))
        from_tap = record.get("string_id") == self.extractor and record.get("producer") is True
        if from_tap:
            self._tap_line(text, level)
        elif level in ("error", "critical") and text:
            self.errors.append(_with_cause(text, record))
        name = record.get("string_id") or "meltano"
        return f"[{level}] {name}: {text}"

    def _tap_line(self, text: str, level: str) -> None:
        if match := _STREAM.match(text):
            records, pages, requests, retries = (int(match[k].replace(",", "")) for k in COUNTS)
            self.streams[match["name"]] = StreamCounts(
                records, pages, requests, retries, float(match["seconds"])
            )
        elif text.startswith(ERROR_PREFIX):
            self.tap_error = text
        elif level == "warning":
            self.warnings.append(text)

    def total(self, key: str) -> int:
        """The sum of one count over the streams that ran."""
        return sum(getattr(counts, key) for counts in self.streams.values())

    def failure(self, returncode: int) -> str:
        """The one line that says why the run failed: the tap's own line first."""
        if self.tap_error:
            return self.tap_error
        if self.errors:
            return f"meltano run failed: {self.errors[-1]}"
        return f"meltano run failed with exit code {returncode}"


def _json(line: str) -> dict[str, Any] | None:
    if not line.startswith("{"):
        return None
    try:
        record = json.loads(line)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def _with_cause(text: str, record: dict[str, Any]) -> str:
    """Meltano's ``Block run completed`` says what failed in ``err``."""
    cause = record.get("err")
    return f"{text}: {cause}" if isinstance(cause, str) and cause not in text else text
