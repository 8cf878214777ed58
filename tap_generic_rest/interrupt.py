"""Stopping on SIGINT or SIGTERM: promptly, with whole lines and a state that fits.

The SDK's handler writes a STATE message from inside the signal handler (possibly
in the middle of a line being written) and exits 0, so an interrupted run passed
for a successful one. Here the handler only ever raises :class:`Interrupted` where
nothing is half-written:

* inside an :func:`interruptible` block of the main thread (a request being sent,
  a retry wait, a wait for a page fetched ahead): these write nothing to stdout,
  so raising there at once stops the tap within moments;
* otherwise it only notes the signal, and :func:`check` raises at the next safe
  point (between pages: every record of the previous page is written and counted
  in the state by then).

The command line then writes the records gathered, a final STATE covering exactly
what was written, one line saying the run was interrupted, and exits 130 (SIGINT)
or 143 (SIGTERM). Threads fetching pages ahead stop with the stream that owns them.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from types import FrameType

#: Set when a stop was asked for; waits of any thread end when it is set.
STOPPING = threading.Event()

_signum: int | None = None
_zone_depth = 0
_on_stop: Callable[[], None] | None = None


class Interrupted(BaseException):  # like KeyboardInterrupt: not an error
    """A signal stopped the run; unwinds like KeyboardInterrupt, past ``except Exception``."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        """128 + the signal number, as a shell reports a process ended by it."""
        return 128 + self.signum

    @property
    def signal_name(self) -> str:
        """``SIGINT`` or ``SIGTERM``."""
        return signal.Signals(self.signum).name


def _handle(signum: int, frame: FrameType | None) -> None:
    global _signum  # noqa: PLW0603
    if _signum is None:
        _signum = signum
    STOPPING.set()
    if _zone_depth > 0:
        raise Interrupted(_signum)


def install() -> None:
    """Handle SIGINT and SIGTERM as described above (main thread only; idempotent)."""
    if threading.current_thread() is not threading.main_thread():
        return
    for name in ("SIGINT", "SIGTERM"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), _handle)


def on_stop(callback: Callable[[], None]) -> None:
    """Run ``callback`` when an interrupted run finishes (the tap writes its final STATE).

    One callback: the latest tap's (the command line runs one).
    """
    global _on_stop  # noqa: PLW0603
    _on_stop = callback


def requested() -> Interrupted | None:
    """The interruption asked for, if any."""
    return None if _signum is None else Interrupted(_signum)


def check() -> None:
    """Raise :class:`Interrupted` if a stop was asked for (call only at a safe point)."""
    if _signum is not None:
        raise Interrupted(_signum)


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """Let a signal stop the main thread at once inside this block (writes nothing)."""
    global _zone_depth  # noqa: PLW0603
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    check()
    _zone_depth += 1
    try:
        yield
    finally:
        _zone_depth -= 1


def pause(seconds: float, cancelled: threading.Event | None = None) -> bool:
    """Wait ``seconds`` (a retry wait); True if ``cancelled`` ended the wait early.

    In the main thread a signal ends it at once; elsewhere a stop request does.
    """
    if cancelled is not None:
        return cancelled.wait(seconds)
    with interruptible():
        STOPPING.wait(seconds)
    return False


def finish() -> None:
    """Run the stop callback once (no signal stops it: it writes the last lines)."""
    global _zone_depth, _on_stop  # noqa: PLW0603
    _zone_depth = 0
    callback, _on_stop = _on_stop, None
    if callback is not None:
        callback()


def reset() -> None:
    """Forget any signal and callback (tests run several taps in one process)."""
    global _signum, _zone_depth, _on_stop  # noqa: PLW0603
    _signum = None
    _zone_depth = 0
    _on_stop = None
    STOPPING.clear()
