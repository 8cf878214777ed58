"""What a run did, on stderr: a progress line on long streams, one line per stream at the end.

Each stream counts into its :class:`StreamStats` from the places where the thing
happens once: a record written, a page parsed, a request sent (a retry included),
a retry scheduled. The tap's :class:`RunSummary` logs, through the tap's logger so
that Meltano shows them as ``info``::

    stream 'users': 1,204 records so far, 391 records/s
    summary: stream 'users': 2,000 records, 80 pages, 81 requests, 1 retry, 5.1 s
    summary: total: 2,150 records, 95 pages, 97 requests, 1 retry, 3 streams, 5.6 s

A progress line comes at most every :data:`PROGRESS_EVERY` seconds per stream, checked
as pages arrive. The summary is logged when the SDK reports each stream's costs at the
end of a sync (``Stream.log_sync_costs``), the total after the tap's last stream.
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import logging
    from collections.abc import Callable, Iterator, Sequence

#: Least time between two progress lines of one stream, seconds.
PROGRESS_EVERY = 30.0


def _count(number: int, noun: str, plural: str = "") -> str:
    return f"{number:,} {noun if number == 1 else plural or noun + 's'}"


class StreamStats:
    """Counters of one stream; requests and retries may be counted from worker threads."""

    def __init__(self, name: str, summary: RunSummary) -> None:
        self.name = name
        self.records = 0  # counted by the writing thread only
        self.pages = 0
        self.requests = 0
        self.retries = 0
        self.seconds = 0.0
        self.first_start: float | None = None
        self.last_stop: float | None = None
        self._summary = summary
        self._lock = threading.Lock()
        self._running_since: float | None = None
        self._progress_at: float | None = None

    def request(self) -> None:
        """One HTTP request sent (each try counts)."""
        with self._lock:
            self.requests += 1

    def retry(self) -> None:
        """One retry scheduled."""
        with self._lock:
            self.retries += 1

    def page(self) -> None:
        """One page parsed; may log a progress line."""
        self.pages += 1
        self._summary.progress(self)

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        """Time the stream's records (a partitioned stream runs once per partition)."""
        clock = self._summary.clock
        start = clock()
        self.first_start = start if self.first_start is None else self.first_start
        self._running_since = start
        self._progress_at = self._progress_at or start
        try:
            yield
        finally:
            self.last_stop = clock()
            self.seconds += self.last_stop - start
            self._running_since = None

    def elapsed(self) -> float:
        """Seconds run so far, the current partition included."""
        since = self._running_since
        return self.seconds + (self._summary.clock() - since if since is not None else 0.0)

    def due_progress(self, every: float) -> bool:
        """Whether a progress line is due now; if so, the next is ``every`` seconds away."""
        now = self._summary.clock()
        if self._progress_at is None or now - self._progress_at < every:
            return False
        self._progress_at = now
        return True

    def line(self) -> str:
        """The stream's summary line."""
        return (
            f"summary: stream '{self.name}': {_count(self.records, 'record')}, "
            f"{_count(self.pages, 'page')}, {_count(self.requests, 'request')}, "
            f"{_count(self.retries, 'retry', 'retries')}, {self.seconds:.2f} s"
        )


class RunSummary:
    """The counters of every stream of one run, and the lines that report them."""

    def __init__(
        self,
        logger: logging.Logger,
        *,
        clock: Callable[[], float] = time.monotonic,
        progress_every: float = PROGRESS_EVERY,
    ) -> None:
        self.logger = logger
        self.clock = clock
        self.progress_every = progress_every
        self.streams: dict[str, StreamStats] = {}
        self._lock = threading.Lock()

    def stream(self, name: str) -> StreamStats:
        """The counters of stream ``name`` (made on first use)."""
        with self._lock:
            if name not in self.streams:
                self.streams[name] = StreamStats(name, self)
            return self.streams[name]

    def progress(self, stats: StreamStats) -> None:
        """Log how far ``stats``' stream is, if its last progress line is old enough."""
        if not stats.due_progress(self.progress_every):
            return
        elapsed = stats.elapsed()
        rate = stats.records / elapsed if elapsed > 0 else 0.0
        self.logger.info(
            "stream '%s': %s records so far, %s records/s",
            stats.name,
            f"{stats.records:,}",
            f"{rate:,.0f}",
        )

    def finish(self, name: str, streams: Sequence[str]) -> None:
        """Log ``name``'s line if it ran, and the total once the last of ``streams`` is done."""
        stats = self.streams.get(name)
        if stats is not None and stats.first_start is not None:
            self.logger.info("%s", stats.line())
        if streams and name == streams[-1]:
            self.logger.info("%s", self.total())

    def total(self) -> str:
        """The run's total line: counts summed, seconds from the first start to the last stop."""
        ran = [s for s in self.streams.values() if s.first_start is not None]
        starts = [s.first_start for s in ran if s.first_start is not None]
        stops = [s.last_stop for s in ran if s.last_stop is not None]
        seconds = max(stops) - min(starts) if starts and stops else 0.0
        counts = ", ".join(
            _count(sum(getattr(s, field) for s in ran), noun, field)
            for field, noun in (
                ("records", "record"),
                ("pages", "page"),
                ("requests", "request"),
                ("retries", "retry"),
            )
        )
        return f"summary: total: {counts}, {_count(len(ran), 'stream')}, {seconds:.2f} s"
