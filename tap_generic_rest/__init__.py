"""tap-generic-rest: a Singer tap for five REST APIs, built on the Meltano SDK."""

from __future__ import annotations

from tap_generic_rest.tap import TapGenericRest

__all__ = ["TapGenericRest"]
