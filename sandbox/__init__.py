"""A local, deterministic stand-in for the five REST APIs the tap reads.

``Sandbox`` serves chat, helpdesk, tracker, statuspage and oncall on 127.0.0.1 with the envelopes,
paging, auth and rate-limit headers of the real APIs, plus optional latency and injected faults.
"""

from __future__ import annotations

from sandbox.api import Sandbox
from sandbox.server import FAULTS, RequestLog

__all__ = ["FAULTS", "RequestLog", "Sandbox"]
