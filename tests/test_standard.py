"""The SDK's standard tap tests for every source, against the bundled sandbox API."""

from __future__ import annotations

import pytest
from singer_sdk.testing import SuiteConfig, get_tap_test_class

from sandbox import Sandbox
from tap_generic_rest.sources import all_sources
from tap_generic_rest.tap import TapGenericRest

# The test classes are built at import time from a config, so the server starts here;
# the module fixture below stops it when the module's tests are done. The suite requires every
# record field to be in the catalog, so the sandbox leaves out its undeclared field.
_SANDBOX = Sandbox(seed=11, default_size=12, undeclared_fields=False)
_SANDBOX.start()
# A deleted room and subscription, which chat lists in `remove` for a run with a start date:
# their `_sdc_deleted_at` records go through the suite's checks too.
for _stream in ("rooms", "subscriptions"):
    _SANDBOX.mutate("chat", _stream, delete=[1])
#: Per source: settings besides the sandbox's (chat reads changes since a start date).
_SETTINGS = {"chat": {"start_date": "2000-01-01T00:00:00Z"}}


@pytest.fixture(scope="module", autouse=True)
def _stop_sandbox():
    yield
    _SANDBOX.stop()


def _suite(source: str) -> type:
    return get_tap_test_class(
        tap_class=TapGenericRest,
        config=_SANDBOX.tap_config(source, max_wait_seconds=0.01, **_SETTINGS.get(source, {})),
        suite_config=SuiteConfig(ignore_no_records=False),
    )


TestChat = _suite("chat")
TestHelpdesk = _suite("helpdesk")
TestTracker = _suite("tracker")
TestStatuspage = _suite("statuspage")
TestOncall = _suite("oncall")


def test_every_source_has_a_standard_suite():
    assert {name.removeprefix("Test").lower() for name in globals() if name.startswith("Test")} >= (
        set(all_sources())
    )
