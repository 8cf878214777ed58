"""What a spec resource declares beyond paging and auth: keys, dispositions, params,
parents and children, incremental parameters (requests-mock)."""

from __future__ import annotations

from typing import Any

import pytest

from tap_generic_rest.errors import ResponseShapeError
from tap_generic_rest.spec.compile import compile_spec
from tests.helpers import records_by_stream, run_sync

BASE = "https://api.example.com/v1"


def config(*resources: Any, **settings: Any) -> dict[str, Any]:
    return {"spec": {"client": {"base_url": BASE}, "resources": list(resources)}, **settings}


def schema_messages(messages: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {m["stream"]: m for m in messages if m["type"] == "SCHEMA"}


@pytest.mark.parametrize(
    ("disposition", "keys", "activate"),
    [("merge", ["id"], False), ("append", [], False), ("replace", ["id"], True), (None, [], False)],
)
def test_write_dispositions(requests_mock, disposition, keys, activate):
    requests_mock.get(f"{BASE}/things", json=[{"id": 1}])
    resource: dict[str, Any] = {"name": "things", "endpoint": "/things", "primary_key": "id"}
    if disposition:
        resource["write_disposition"] = {"disposition": disposition}
    messages = run_sync(config(resource))
    assert schema_messages(messages)["things"]["key_properties"] == keys
    assert any(m["type"] == "ACTIVATE_VERSION" for m in messages) is activate


def test_resource_defaults_merge_into_each_endpoint(requests_mock):
    requests_mock.get(f"{BASE}/a?per=5&x=1", json={"data": [{"k": 1}]}, complete_qs=True)
    requests_mock.get(f"{BASE}/b?per=5", json={"data": [{"k": 2}]}, complete_qs=True)
    cfg = config(
        {"name": "a", "endpoint": {"path": "/a", "params": {"x": 1}}},
        {"name": "b", "endpoint": "/b"},  # a path alone: the defaults still apply
    )
    cfg["spec"]["resource_defaults"] = {
        "primary_key": ["k"],
        "write_disposition": "merge",
        "endpoint": {"data_selector": "data", "params": {"per": 5}},
    }
    messages = run_sync(cfg)
    assert records_by_stream(messages) == {"a": [{"k": 1}], "b": [{"k": 2}]}
    assert schema_messages(messages)["b"]["key_properties"] == ["k"]


def test_a_child_reads_each_parent_record_with_resolved_params(requests_mock):
    requests_mock.get(f"{BASE}/orgs", json=[{"id": 1, "slug": "a"}, {"id": 2, "slug": "b"}])
    for org, slug in ((1, "a"), (2, "b")):
        requests_mock.get(
            f"{BASE}/orgs/{org}/repos?owner={slug}",
            json=[{"id": org * 10, "name": f"r{org}"}],
            complete_qs=True,
        )
    repos = {
        "name": "repos",
        "endpoint": {
            "path": "/orgs/{resources.orgs.id}/repos",
            "params": {"owner": "{resources.orgs.slug}"},
        },
    }
    records = records_by_stream(run_sync(config({"name": "orgs", "endpoint": "/orgs"}, repos)))
    assert records["repos"] == [
        {"id": 10, "name": "r1", "_orgs_id": 1, "_orgs_slug": "a"},
        {"id": 20, "name": "r2", "_orgs_id": 2, "_orgs_slug": "b"},
    ]


def test_a_parent_record_without_the_field_fails_naming_it(requests_mock):
    requests_mock.get(f"{BASE}/orgs", json=[{"id": 1}, {"name": "no id"}])
    requests_mock.get(f"{BASE}/orgs/1/repos", json=[{"id": 10}])
    child = {"name": "repos", "endpoint": "/orgs/{resources.orgs.id}/repos"}
    with pytest.raises(ResponseShapeError, match="stream 'orgs': a record has no 'id'"):
        run_sync(config({"name": "orgs", "endpoint": "/orgs"}, child))


def test_a_child_may_be_declared_before_its_parent_and_a_parent_may_be_hidden(requests_mock):
    requests_mock.get(f"{BASE}/orgs", json=[{"id": 1}])
    requests_mock.get(f"{BASE}/orgs/1/repos", json=[{"id": 10}])
    source = compile_spec(
        config(
            {"name": "repos", "endpoint": "/orgs/{resources.orgs.id}/repos"},
            {"name": "orgs", "endpoint": "/orgs", "selected": False},
        )
    )
    repos, orgs = source.streams
    assert repos.parent_stream_type is orgs
    assert orgs.child_keys == (("_orgs_id", "id"),)
    assert orgs.selected_by_default is False
    assert records_by_stream(
        run_sync(
            config(
                {"name": "repos", "endpoint": "/orgs/{resources.orgs.id}/repos"},
                {"name": "orgs", "endpoint": "/orgs", "selected": False},
            )
        )
    ) == {"repos": [{"id": 10, "_orgs_id": 1}]}


def test_incremental_start_value_placeholder_in_a_param(requests_mock):
    requests_mock.get(f"{BASE}/events", json=[{"id": 1, "seq": 5}, {"id": 2, "seq": 9}])
    events = {
        "name": "events",
        "endpoint": {
            "path": "/events",
            "params": {"after": "{incremental.start_value}", "q": "seq>{incremental.start_value}"},
            "incremental": {"cursor_path": "seq", "initial_value": 0},
        },
    }
    messages = run_sync(config(events))
    sync = requests_mock.request_history[-1]
    assert sync.qs == {"after": ["0"], "q": ["seq>0"]}
    state = [m for m in messages if m["type"] == "STATE"][-1]["value"]
    assert state["bookmarks"]["events"]["replication_key_value"] == 9
    run_sync(config(events), state=state)
    assert requests_mock.request_history[-1].qs == {"after": ["9"], "q": ["seq>9"]}


def test_incremental_as_a_param_of_type_incremental(requests_mock):
    requests_mock.get(f"{BASE}/events", json=[{"id": 1, "at": "2024-05-01T00:00:00Z"}])
    events = {
        "name": "events",
        "endpoint": {
            "path": "/events",
            "params": {
                "since": {
                    "type": "incremental",
                    "cursor_path": "at",
                    "initial_value": "2024-01-01T00:00:00Z",
                }
            },
        },
    }
    source = compile_spec(config(events))
    stream = source.streams[0]
    assert (stream.replication_key, stream.start_param) == ("at", "since")
    run_sync(config(events))
    assert requests_mock.request_history[-1].qs == {"since": ["2024-01-01t00:00:00z"]}


def test_an_incremental_child_keeps_a_bookmark_per_parent(requests_mock):
    requests_mock.get(f"{BASE}/orgs", json=[{"id": 1, "name": "one"}, {"id": 2, "name": "two"}])
    for org in (1, 2):
        requests_mock.get(f"{BASE}/orgs/{org}/events", json=[{"id": org, "seq": org * 3}])
    events = {
        "name": "events",
        "endpoint": {
            "path": "/orgs/{resources.orgs.id}/events",
            "incremental": {"cursor_path": "seq", "start_param": "after", "initial_value": 0},
        },
        "include_from_parent": ["name"],
    }
    messages = run_sync(config({"name": "orgs", "endpoint": "/orgs"}, events))
    state = [m for m in messages if m["type"] == "STATE"][-1]["value"]
    partitions = state["bookmarks"]["events"]["partitions"]
    assert [(p["context"], p["replication_key_value"]) for p in partitions] == [
        ({"_orgs_id": 1}, 3),
        ({"_orgs_id": 2}, 6),
    ]


def test_an_included_parent_field_may_be_missing(requests_mock):
    requests_mock.get(f"{BASE}/orgs", json=[{"id": 1, "name": "one"}, {"id": 2}])
    for org in (1, 2):
        requests_mock.get(f"{BASE}/orgs/{org}/repos", json=[{"id": org * 10}])
    repos = {
        "name": "repos",
        "endpoint": "/orgs/{resources.orgs.id}/repos",
        "include_from_parent": ["name"],
    }
    records = records_by_stream(run_sync(config({"name": "orgs", "endpoint": "/orgs"}, repos)))
    assert records["repos"] == [
        {"id": 10, "_orgs_id": 1, "_orgs_name": "one"},
        {"id": 20, "_orgs_id": 2, "_orgs_name": None},
    ]


def test_paging_state_does_not_leak_from_one_parent_to_the_next(requests_mock):
    """dlt's known complaint: a child's cursor carried over to the next parent's pages."""
    requests_mock.get(f"{BASE}/orgs", json=[{"id": 1}, {"id": 2}])
    for org in (1, 2):
        requests_mock.get(
            f"{BASE}/orgs/{org}/repos",
            json={"data": [{"id": org * 10}], "next": "c2"},
            complete_qs=True,
        )
        requests_mock.get(
            f"{BASE}/orgs/{org}/repos?cursor=c2",
            json={"data": [{"id": org * 10 + 1}], "next": None},
            complete_qs=True,
        )
    repos = {
        "name": "repos",
        "endpoint": {
            "path": "/orgs/{resources.orgs.id}/repos",
            "paginator": {"type": "cursor", "cursor_path": "next"},
        },
    }
    records = records_by_stream(run_sync(config({"name": "orgs", "endpoint": "/orgs"}, repos)))
    assert [r["id"] for r in records["repos"]] == [10, 11, 20, 21]


def test_a_secret_param_is_sent_and_masked_by_name(requests_mock):
    from tap_generic_rest.redact import redact

    requests_mock.get(f"{BASE}/things?token=tok-5ecret-value", json=[{"id": 1}])
    things = {
        "name": "things",
        "endpoint": {"path": "/things", "params": {"token": 'dlt.secrets["t"]'}},
    }
    run_sync(config(things, t="tok-5ecret-value"))
    assert requests_mock.request_history[-1].qs == {"token": ["tok-5ecret-value"]}
    assert redact(f"{BASE}/things?token=anything") == f"{BASE}/things?token=****"


def test_a_bare_array_is_the_records_when_the_selector_finds_nothing_in_it(requests_mock):
    requests_mock.get(f"{BASE}/things", json=[{"id": 1}, {"id": 2}])
    things = {
        "name": "things",
        "endpoint": {"path": "/things", "data_selector": "data", "paginator": "single_page"},
    }
    records = records_by_stream(run_sync(config(things)))
    assert records["things"] == [{"id": 1}, {"id": 2}]
