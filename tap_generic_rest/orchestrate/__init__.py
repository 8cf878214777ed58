"""Many accounts and backfills on Dagster: ``dagster dev -m tap_generic_rest.orchestrate``.

``defs`` (a ``dagster.Definitions``) is built, on first access, from the accounts file that
``TAP_GENERIC_REST_ACCOUNTS`` names (:mod:`.accounts`); :mod:`.definitions` makes the assets
and jobs, :mod:`.partition_run` runs one partition under Meltano, :mod:`.run_report` reads
what the run said. Needs the ``dagster`` extra: ``pip install "tap-generic-rest[dagster]"``.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import dagster as dg

__all__ = ["defs", "load_definitions"]


@functools.cache
def load_definitions() -> dg.Definitions:
    """The definitions of the accounts file named by ``TAP_GENERIC_REST_ACCOUNTS``."""
    from .accounts import load_accounts  # noqa: PLC0415 - submodules import dagster
    from .definitions import build_definitions  # noqa: PLC0415

    return build_definitions(load_accounts())


def __getattr__(name: str) -> Any:
    # Lazy, so that importing a submodule needs neither the file nor the variable.
    if name == "defs":
        return load_definitions()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), "defs"])
