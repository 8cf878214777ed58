"""One wait for the whole run: when a request is told to wait, every request waits.

A retry on a status the source's policy lists (429, 420...) holds back every request
of the run for that retry's wait (``stream/retrying.py``), the pages fetched ahead included
(``stream/prefetch.py``). A hold placed for a page fetched ahead is lifted when that page is
abandoned, so a page past the end never holds back the rest of the run.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import NamedTuple

#: How many holds and passes a :class:`RateGate` remembers.
_HISTORY = 1000


class Hold(NamedTuple):
    """A wait a retry asked for: no request of the source is sent from ``at`` to ``until``."""

    at: float
    until: float
    thread: str


class Pass(NamedTuple):
    """A request let through the gate at ``at``, after being held back ``waited`` seconds."""

    at: float
    thread: str
    waited: float


class RateGate:
    """When one request of a source is told to wait, every request of that source waits.

    Thread-safe. ``holds`` and ``passes`` keep the recent history, in
    ``time.monotonic()`` seconds; a pass is decided under the same lock as the
    holds, so no pass ever falls inside a hold. A hold placed on behalf of an
    ``owner`` (the fetcher of a page fetched ahead) is lifted by :meth:`release`
    when that owner's pages are abandoned.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._until: dict[object, float] = {}  # owner (None: the run itself) -> end of hold
        self.holds: deque[Hold] = deque(maxlen=_HISTORY)
        self.passes: deque[Pass] = deque(maxlen=_HISTORY)

    def hold(self, seconds: float, owner: object = None) -> None:
        """Keep every request from being sent for ``seconds`` from now (never shortens)."""
        with self._cond:
            now = time.monotonic()
            self._until[owner] = max(self._until.get(owner, 0.0), now + seconds)
            self.holds.append(Hold(now, now + seconds, threading.current_thread().name))

    def release(self, owner: object) -> None:
        """Lift the holds placed on behalf of ``owner``; waiters re-check (cancellations too)."""
        with self._cond:
            self._until.pop(owner, None)
            self._cond.notify_all()

    def wait(self, cancelled: threading.Event) -> bool:
        """Block until the gate is open; False if ``cancelled`` was set meanwhile."""
        held_since: float | None = None
        with self._cond:
            while not cancelled.is_set():
                now = time.monotonic()
                delay = max(self._until.values(), default=0.0) - now
                if delay <= 0:
                    waited = 0.0 if held_since is None else now - held_since
                    self.passes.append(Pass(now, threading.current_thread().name, waited))
                    return True
                held_since = now if held_since is None else held_since
                self._cond.wait(delay)
        return False
