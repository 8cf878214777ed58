"""tap-generic-rest: a Singer tap for REST APIs, built on the Meltano SDK.

``TapGenericRest`` is loaded on first use, so that importing a low module of the package
(``tap_generic_rest.errors``) does not import the whole tap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tap_generic_rest.tap import TapGenericRest

__all__ = ["TapGenericRest"]


def __getattr__(name: str) -> Any:
    if name == "TapGenericRest":
        from tap_generic_rest.tap import TapGenericRest  # noqa: PLC0415  (deferred)

        return TapGenericRest
    raise AttributeError(name)
