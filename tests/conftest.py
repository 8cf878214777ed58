"""Shared fixtures. Add fixtures in their own clearly named block; never overwrite others'."""

from __future__ import annotations

import pytest

from tap_generic_rest.redact import REDACTOR


@pytest.fixture(autouse=True)
def _fresh_redactor():
    """Secrets are process-wide; forget one test's secrets before the next test runs."""
    REDACTOR.clear()
    yield
    REDACTOR.clear()


# --- End-to-end fixtures (tests/test_e2e_meltano.py, tests/test_e2e_singer_target.py) ---------

E2E_SEED = 11
E2E_SIZE = 25


@pytest.fixture(scope="session")
def e2e_sandbox():
    """One sandbox API on a free 127.0.0.1 port for the end-to-end tests; stopped afterwards.

    Small on purpose (25 records per stream): chat pages one record at a time.
    """
    from sandbox import Sandbox

    with Sandbox(seed=E2E_SEED, default_size=E2E_SIZE) as sandbox:
        yield sandbox


# --- Prefetching (tests/test_prefetch.py and the tests that compare it with one page at a time) ---


@pytest.fixture
def pages_ahead_as_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep ``max_concurrent_requests`` pages in flight whatever the pace would decide.

    Against a local server the pace fetches one page at a time (the server answers at
    once), so the tests of fetching ahead would no longer fetch ahead; the pace itself
    is tested in tests/test_pace.py.
    """
    from tap_generic_rest.stream.prefetch import Pace

    monkeypatch.setattr(Pace, "in_flight", property(lambda pace: pace.most))


# --- The project's own Meltano state (issue 26): no test may write into it ---------------------


@pytest.fixture(scope="session", autouse=True)
def _project_meltano_state_untouched():
    """``make test`` leaves no state id (nor run) in the project's ``.meltano/meltano.db``.

    The Meltano tests keep Meltano's system database in a temporary folder; a test that ran
    ``meltano run`` against the project's own would hand its sandbox bookmarks to the user's
    next run of the same pipeline.
    """
    from scripts._plugins import project_state_ids

    before = project_state_ids()
    yield
    added = project_state_ids() - before
    assert not added, f"tests wrote into the project's own Meltano state: {sorted(added)}"
