"""The probe's report: per stream, what was sent, how paging decided, what drifted.

Rendered as text for a terminal or as JSON for machines; every string passes the
redactor once more on the way out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from tap_generic_rest.probe import CLEAN, DRIFT, FAILED
from tap_generic_rest.redact import redact

if TYPE_CHECKING:
    from tap_generic_rest.probe.findings import RecordFindings
    from tap_generic_rest.probe.watch import Decision, Exchange, StreamWatch


@dataclass
class StreamReport:
    """One stream's part of the report."""

    name: str
    watch: StreamWatch
    findings: RecordFindings
    #: Why the stream could not be probed to the end (one line, masked), if it could not.
    error: str | None = None
    #: Why the stream was not probed (a child whose parent's sample gave no context).
    note: str | None = None

    @property
    def drift(self) -> bool:
        """Whether the sample does not fit the stream's schema."""
        return self.findings.has_drift

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of this part."""
        found = self.findings
        replication = None
        if found.replication_key is not None:
            replication = {
                "key": found.replication_key,
                "min": found.replication_min,
                "max": found.replication_max,
                "filters_sent": self.watch.filters,
            }
        return {
            "stream": self.name,
            "primary_keys": list(found.primary_keys),
            "requests": [_exchange_dict(e) for e in self.watch.exchanges],
            "more_pages_not_fetched": self.watch.more_pages,
            "records": found.records,
            "undeclared_fields": [
                {"field": name, "types": dict(types)} for name, types in found.undeclared.items()
            ],
            "type_drift": [
                {
                    "field": d.field,
                    "declared": list(d.declared),
                    "seen": d.seen,
                    "count": d.count,
                    "example": d.example,
                }
                for d in found.drift.values()
            ],
            "replication": replication,
            "drift": self.drift,
            "error": self.error,
            "note": self.note,
        }


@dataclass
class ProbeReport:
    """The whole report."""

    source: str
    max_pages: int
    streams: list[StreamReport] = field(default_factory=list)

    @property
    def error(self) -> str | None:
        """The failure that ended the probe, if one did."""
        return next((s.error for s in self.streams if s.error), None)

    @property
    def exit_code(self) -> int:
        """:data:`FAILED`, :data:`DRIFT` or :data:`CLEAN`."""
        if self.error:
            return FAILED
        return DRIFT if any(s.drift for s in self.streams) else CLEAN

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of the report."""
        return {
            "source": self.source,
            "max_pages": self.max_pages,
            "exit_code": self.exit_code,
            "drift": any(s.drift for s in self.streams),
            "error": self.error,
            "streams": [s.to_dict() for s in self.streams],
        }

    def render(self, output_format: str = "text") -> str:
        """The report as ``text`` or ``json``, secrets masked."""
        if output_format == "json":
            text = orjson.dumps(self.to_dict(), option=orjson.OPT_INDENT_2, default=str).decode()
            return redact(text) + "\n"
        return redact(render_text(self))


def _decision_dict(decision: Decision | None) -> dict[str, Any] | None:
    if decision is None:
        return None
    return {"more": decision.more, "reason": decision.reason}


def _exchange_dict(exchange: Exchange) -> dict[str, Any]:
    return {
        "method": exchange.method,
        "target": exchange.target,
        "status": exchange.status,
        "ms": exchange.ms,
        "bytes": exchange.bytes,
        "records": exchange.records,
        "problem": exchange.problem,
        "retried": exchange.retried,
        "paging": _decision_dict(exchange.decision),
    }


# --- text ------------------------------------------------------------------------------


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _paging_line(decision: Decision, last: bool, stream: StreamReport) -> str:
    if not decision.more:
        return f"      stop: {decision.reason}"
    if last and stream.watch.more_pages:
        limit = stream.watch.max_pages
        return f"      more: {decision.reason}; not fetched (page limit {limit})"
    return f"      more: {decision.reason}"


def _request_lines(stream: StreamReport) -> list[str]:
    lines = []
    exchanges = stream.watch.exchanges
    width = max((len(e.target) for e in exchanges), default=0)
    for index, e in enumerate(exchanges):
        records = "" if e.records is None else f"  {_plural(e.records, 'record')}"
        records += f"  {e.problem}" if e.problem else ""
        records += "  (retried)" if e.retried else ""
        lines.append(
            f"  {e.method} {e.target:<{width}}  {e.status} {e.ms:>4} ms {e.bytes:>7} B{records}"
        )
        if e.decision is not None:
            lines.append(_paging_line(e.decision, index == len(exchanges) - 1, stream))
    return lines


def _finding_lines(stream: StreamReport) -> list[str]:
    found = stream.findings
    lines = []
    for name, types in found.undeclared.items():
        seen = ", ".join(f"{t} ({_plural(n, 'record')})" for t, n in types.most_common())
        lines.append(f"  undeclared field {name}: {seen}")
    for d in found.drift.values():
        lines.append(
            f"  type drift {d.field}: declared {'|'.join(d.declared) or 'nothing'}, "
            f"seen {d.seen} ({_plural(d.count, 'record')}), e.g. {d.example}"
        )
    if found.replication_key is not None:
        sent = ["&".join(f"{k}={v}" for k, v in f.items()) or "none" for f in stream.watch.filters]
        lines.append(
            f"  replication key {found.replication_key}: seen {found.replication_min} .. "
            f"{found.replication_max}; filter sent: {', '.join(sent) or 'none'}"
        )
    return lines


def render_text(report: ProbeReport) -> str:
    """The report for a terminal."""
    lines = [
        f"probe of source '{report.source}': at most {_plural(report.max_pages, 'page')} "
        "per request loop; no RECORD or STATE written",
        "",
    ]
    for stream in report.streams:
        keys = ", ".join(stream.findings.primary_keys) or "none"
        lines.append(f"{stream.name} (primary key {keys})")
        lines.extend(_request_lines(stream))
        sampled = _plural(stream.findings.records, "record")
        if stream.note:
            lines.append(f"  {stream.note}")
        elif stream.error:
            lines.append(f"  FAILED: {stream.error}")
            lines.append(f"  {sampled} sampled before the failure")
        else:
            verdict = "DRIFT" if stream.drift else "fits the schema"
            lines.append(f"  {sampled} sampled: {verdict}")
        lines.extend(_finding_lines(stream))
        lines.append("")
    drifting = [s.name for s in report.streams if s.drift]
    code = report.exit_code
    if report.error:
        summary = "probe failed"
    elif drifting:
        summary = f"drift in {_plural(len(drifting), 'stream')} ({', '.join(drifting)})"
    else:
        summary = f"{_plural(len(report.streams), 'stream')}, every sample fits its schema"
    lines.append(f"result: {summary} (exit {code})")
    return "\n".join(lines) + "\n"
