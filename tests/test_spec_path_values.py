"""A parent's value filled into a child's path is exactly one percent-encoded segment.

Issue 22, item 5: a parent record whose id is ``..``, an object or a list must not steer
the child's request to another endpoint (``/details``, ``/y?z=1``) nor label those records
as the child's. Such a value fails the stream in one line, before any request with it.
"""

from __future__ import annotations

from typing import Any

import pytest

from tap_generic_rest.errors import ResponseShapeError
from tests.dlt_oracle import tap_run
from tests.mock_api import MockApi


@pytest.fixture
def api():
    server = MockApi()
    yield server
    server.close()


def config(api: MockApi) -> dict[str, Any]:
    return {
        "client": {"base_url": api.base},
        "resources": [
            {"name": "parents", "endpoint": {"paginator": "single_page"}},
            {"name": "details", "endpoint": "children/{resources.parents.id}/details"},
        ],
    }


@pytest.mark.parametrize(
    ("value", "segment"),
    [("a/b?c=1#d", "a%2Fb%3Fc%3D1%23d"), ("x y", "x%20y"), (7, "7"), ("é", "%C3%A9")],
)
def test_a_value_is_one_encoded_segment(api, value, segment):
    api.parents = [{"id": value}]
    records, _ = tap_run(config(api))
    assert [r["parts"] for r in records["details"]] == [2]  # <segment>/details: one segment
    assert f"/api/children/{segment}/details" in api.paths("/api/children")


@pytest.mark.parametrize("value", ["..", ".", "", None, {"a": 1}, [1, 2]])
def test_dots_empty_and_non_scalar_values_fail_the_stream_in_one_line(api, value):
    api.parents = [{"id": 1}, {"id": value}]
    with pytest.raises(ResponseShapeError) as caught:
        tap_run(config(api))
    message = str(caught.value)
    assert "\n" not in message
    if value is None:  # a missing value is the parent's fault, said as such
        assert "stream 'parents': a record has no 'id'" in message
    else:
        assert "stream 'details'" in message
        assert "not one path segment" in message
    assert api.paths("/api/children") == ["/api/children/1/details"] * len(
        api.paths("/api/children")
    )
