"""Retry policy as data: which failures are retried, how often, and how long to wait.

Each source declares one :class:`RetryPolicy` (from its seed); the stream base class
turns it into the SDK's backoff hooks. Waits honour the server's own hint when the
response carries one, and every wait is capped by the ``max_wait_seconds`` setting.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from datetime import timezone
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from collections.abc import Mapping

DEFAULT_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: Every 5xx status, for a source whose policy says "5xx".
SERVER_ERRORS = frozenset(range(500, 600))


@dataclass(frozen=True)
class WaitHint:
    """A response header that tells how long to wait before the next request.

    ``kind`` says how to read the value: ``"seconds"`` (a delay, or an HTTP date as
    ``Retry-After`` allows), ``"epoch_s"`` or ``"epoch_ms"`` (a reset time).
    """

    header: str
    kind: Literal["seconds", "epoch_s", "epoch_ms"] = "seconds"

    def seconds(self, headers: Mapping[str, str], now: float) -> float | None:
        """Return the wait this header asks for, or None when absent or unreadable."""
        raw = headers.get(self.header)
        if raw is None:
            return None
        value = _number(raw)
        if value is None:
            return _http_date_delay(raw, now) if self.kind == "seconds" else None
        if self.kind == "epoch_ms":
            value = value / 1000.0 - now
        elif self.kind == "epoch_s":
            value -= now
        return max(0.0, value)


def _number(raw: str) -> float | None:
    try:
        value = float(raw.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _http_date_delay(raw: str, now: float) -> float | None:
    try:
        moment = parsedate_to_datetime(raw.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment.tzinfo is None:  # "-0000" or no zone: HTTP dates are always GMT
        moment = moment.replace(tzinfo=timezone.utc)
    return max(0.0, moment.timestamp() - now)


RETRY_AFTER = WaitHint("Retry-After")


@dataclass(frozen=True)
class RetryPolicy:
    """How a source retries: the seed's ``error_handler`` plus the server's wait hints.

    Connection errors, timeouts, resets and unreadable bodies are always transient;
    ``statuses`` lists the HTTP statuses that are. Everything else fails at once.
    """

    statuses: frozenset[int] = DEFAULT_RETRY_STATUSES
    max_retries: int = 3
    backoff: Literal["exponential", "constant"] = "exponential"
    factor: float = 2.0
    hints: tuple[WaitHint, ...] = field(default=(RETRY_AFTER,))

    def backoff_seconds(self, retry_number: int) -> float:
        """The source's own wait before retry ``retry_number`` (1-based)."""
        if self.backoff == "constant":
            return self.factor
        return float(self.factor * 2 ** (retry_number - 1))

    def wait(
        self,
        retry_number: int,
        headers: Mapping[str, str] | None,
        cap: float,
        now: float | None = None,
    ) -> tuple[float, str]:
        """Return the wait before retry ``retry_number`` and where it came from.

        A server hint wins over the source's backoff; either is capped by ``cap``.
        """
        if headers:
            moment = time.time() if now is None else now
            for hint in self.hints:
                seconds = hint.seconds(headers, moment)
                if seconds is not None:
                    return min(seconds, cap), hint.header
        return min(self.backoff_seconds(retry_number), cap), f"{self.backoff} backoff"
