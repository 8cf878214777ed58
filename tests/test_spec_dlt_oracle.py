"""dlt as the oracle: one configuration, written as dlt users write it, run by dlt and by the tap.

Both read the same local API (``tests/mock_api.py``) and must give the same records, for
every paginator kind, parents and children, incremental windows, selectors, auths, POST
body paging, detail endpoints and response actions. dlt runs extraction only: its
resources are iterated, no pipeline loads anything.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.dlt_oracle import as_dlt_has_them, dlt_records, tap_run
from tests.mock_api import API_KEY, BASIC, CLIENT, TOKEN, MockApi

pytest.importorskip("dlt", reason="dlt is the oracle (the dev extra installs it)")


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch, tmp_path: Any):
    monkeypatch.setenv("RUNTIME__LOG_LEVEL", "WARNING")
    monkeypatch.setenv("DLT_DATA_DIR", str(tmp_path / "dlt"))
    monkeypatch.chdir(tmp_path)  # no .dlt/ folder of the repository is read
    server = MockApi()
    yield server
    server.close()


def one(resource: dict[str, Any] | str, base: str, **client: Any) -> dict[str, Any]:
    return {"client": {"base_url": base, **client}, "resources": [resource]}


def same_records(
    api: MockApi,
    config: dict[str, Any],
    names: list[str],
    parents: dict[str, str] | None = None,
    settings: dict[str, Any] | None = None,
) -> dict[str, list[Any]]:
    """Run both; assert each resource's records are equal; return dlt's."""
    expected = dlt_records(config, names)
    got, _ = tap_run(config, settings)
    for name in names:
        parent = (parents or {}).get(name)
        records = as_dlt_has_them(got.get(name, []), expected[name], parent)
        if parent:  # children come per parent record in either's own order
            assert sorted(map(repr, records)) == sorted(map(repr, expected[name])), name
        else:
            assert records == expected[name], name
    return expected


PAGINATED = [
    pytest.param(
        {
            "name": "items",
            "endpoint": {"path": "items", "paginator": {"type": "offset", "limit": 3}},
        },
        id="offset-total",
    ),
    pytest.param(
        {
            "name": "plain",
            "endpoint": {"paginator": {"type": "offset", "limit": 3, "total_path": None}},
        },
        id="offset-empty-page",
    ),
    pytest.param(
        {
            "name": "pages",
            "endpoint": {
                "path": "pages",
                "paginator": {"type": "page_number", "base_page": 1, "total_path": "total_pages"},
            },
        },
        id="page-number",
    ),
    pytest.param(
        {"name": "gaplink", "endpoint": {"paginator": "json_link"}},
        id="json-link-past-an-empty-page",
    ),
    pytest.param(
        {
            "name": "gapoffset",
            "endpoint": {
                "paginator": {"type": "offset", "limit": 3, "stop_after_empty_page": False}
            },
        },
        id="offset-past-an-empty-page",
    ),
    pytest.param(
        {
            "name": "hasmore",
            "endpoint": {
                "paginator": {
                    "type": "offset",
                    "limit": 4,
                    "total_path": None,
                    "has_more_path": "meta.more",
                }
            },
        },
        id="offset-has-more",
    ),
    pytest.param(
        {
            "name": "pagesmore",
            "endpoint": {
                "paginator": {
                    "type": "page_number",
                    "base_page": 1,
                    "total_path": None,
                    "has_more_path": "has_more",
                }
            },
        },
        id="page-number-has-more",
    ),
    pytest.param(
        {
            "name": "link",
            "endpoint": {
                "path": "link",
                "paginator": {"type": "json_link", "next_url_path": "next"},
            },
        },
        id="json-link",
    ),
    pytest.param(
        {"name": "relink", "endpoint": {"path": "/relink", "paginator": "json_link"}},
        id="json-link-relative",
    ),
    pytest.param(
        {"name": "link", "endpoint": {"path": "link", "paginator": {"type": "json_response"}}},
        id="json-response",
    ),
    pytest.param(
        {"name": "headerlink", "endpoint": {"paginator": "header_link"}}, id="header-link"
    ),
    pytest.param(
        {
            "name": "cursor",
            "endpoint": {
                "data_selector": "items",
                "paginator": {
                    "type": "cursor",
                    "cursor_path": "cursors.next",
                    "cursor_param": "cursor",
                },
            },
        },
        id="cursor",
    ),
    pytest.param(
        {
            "name": "headercursor",
            "endpoint": {"data_selector": "items", "paginator": {"type": "header_cursor"}},
        },
        id="header-cursor",
    ),
    pytest.param({"name": "link", "endpoint": {"path": "link"}}, id="auto-json-link"),
    pytest.param({"name": "headerlink", "endpoint": {"paginator": "auto"}}, id="auto-header-link"),
    pytest.param({"name": "cursor", "endpoint": {"data_selector": "items"}}, id="auto-cursor"),
    pytest.param(
        {"name": "items", "endpoint": {"path": "items", "paginator": "single_page"}},
        id="single-page",
    ),
    pytest.param(
        {
            "name": "nullpage",
            "endpoint": {"paginator": {"type": "offset", "limit": 2, "total_path": None}},
        },
        id="null-page-ends",
    ),
]


@pytest.mark.parametrize("resource", PAGINATED)
def test_every_paginator_reads_what_dlt_reads_with_as_many_requests(api, resource):
    config = one(resource, api.base)
    name = resource["name"]
    expected = dlt_records(config, [name])
    dlt_requests = list(api.requests)
    assert len(expected[name]) >= 2
    api.requests.clear()
    got, _ = tap_run(config, {"max_concurrent_requests": 1})  # one page at a time, as dlt
    assert got.get(name, []) == expected[name]
    synced_requests = list(api.requests)
    got, _ = tap_run(config)  # pages fetched ahead where the paging allows it
    assert got.get(name, []) == expected[name]
    # The tap's first request reads the first page to infer the schema (no schema file).
    inferred, *synced = [r["target"] for r in synced_requests]
    assert inferred == dlt_requests[0]["target"]
    assert len(synced) == len(dlt_requests)
    # The same requests; after a short page dlt asks offset+limit, the tap offset+received
    # (both past the end: a server that caps its pages loses no record with the tap).
    assert synced[:-1] == [r["target"] for r in dlt_requests][:-1]


@pytest.mark.parametrize(
    "selector",
    [
        "result.items",
        "$.result.items",
        "$.result.items[*]",
        "$..items[*]",
        "$.result.items[?(@.id > 1)]",
        None,
    ],
)
def test_every_data_selector_form_selects_what_dlt_selects(api, selector):
    endpoint: dict[str, Any] = {"path": "nested", "paginator": "single_page"}
    if selector is not None:
        endpoint["data_selector"] = selector
    expected = same_records(
        api, one({"name": "nested", "endpoint": endpoint}, api.base), ["nested"]
    )
    assert expected["nested"]


@pytest.mark.parametrize("base", ["{origin}/api/", "{origin}/api"])
@pytest.mark.parametrize("path", ["items", "/items"])
def test_paths_join_the_base_url_as_dlt_joins_them(api, base, path):
    config = one(
        {"name": "items", "endpoint": {"path": path, "paginator": "single_page"}},
        base.format(origin=api.origin),
    )
    expected = same_records(api, config, ["items"])
    assert len(expected["items"]) == 3
    assert {r["path"] for r in api.requests} == {"/api/items"}


def test_resolve_params_children_of_children_and_include_from_parent(api):
    config = {
        "client": {"base_url": api.base},
        "resources": [
            {
                "name": "items",
                "endpoint": {
                    "path": "items",
                    "paginator": {"type": "offset", "limit": 4, "maximum_offset": 4},
                },
            },
            {
                "name": "comments",
                "endpoint": {
                    "path": "items/{item_id}/comments",
                    "params": {"item_id": {"type": "resolve", "resource": "items", "field": "id"}},
                },
                "include_from_parent": ["name"],
            },
            {
                "name": "likes",
                "endpoint": {"path": "comments/{resources.comments.cid}/likes"},
                "include_from_parent": ["text"],
            },
            {"name": "detail", "endpoint": "items/{resources.items.id}"},
        ],
    }
    expected = same_records(
        api,
        config,
        ["items", "comments", "likes", "detail"],
        parents={"comments": "items", "likes": "comments", "detail": "items"},
    )
    assert len(expected["comments"]) == 8
    assert len(expected["likes"]) == 16
    assert [r["detail"] for r in expected["detail"]] == [True] * 4  # one object, one record


def test_response_actions_ignore_by_status_and_by_content(api):
    config = {
        "client": {"base_url": api.base},
        "resources": [
            {"name": "ids", "endpoint": {"paginator": "single_page"}},
            {
                "name": "detail",
                "endpoint": {
                    "path": "items/{resources.ids.id}",
                    "response_actions": [{"status_code": 404, "action": "ignore"}],
                },
            },
            {
                "name": "unready",
                "endpoint": {"response_actions": [{"content": "not ready", "action": "ignore"}]},
            },
        ],
    }
    expected = same_records(api, config, ["detail", "unready"], parents={"detail": "ids"})
    assert [r["id"] for r in expected["detail"]] == [1, 2]
    assert expected["unready"] == []


AUTHS = [
    pytest.param("bearer", {"type": "bearer", "token": TOKEN}, id="bearer"),
    pytest.param("bearer", {"token": TOKEN}, id="bearer-without-type"),
    pytest.param(
        "apikey", {"type": "api_key", "name": "X-API-Key", "api_key": API_KEY}, id="api-key-header"
    ),
    pytest.param(
        "apiquery",
        {"type": "api_key", "name": "api_key", "api_key": API_KEY, "location": "query"},
        id="api-key-query",
    ),
    pytest.param(
        "basic", {"type": "http_basic", "username": BASIC[0], "password": BASIC[1]}, id="http-basic"
    ),
    pytest.param(
        "oauth",
        {
            "type": "oauth2_client_credentials",
            "access_token_url": "{origin}/oauth/token",
            "client_id": CLIENT[0],
            "client_secret": CLIENT[1],
        },
        id="oauth2-client-credentials",
    ),
]


@pytest.mark.parametrize(("path", "auth"), AUTHS)
def test_every_auth_kind_reads_what_dlt_reads(api, path, auth):
    auth = {k: v.format(origin=api.origin) if isinstance(v, str) else v for k, v in auth.items()}
    config = one(
        {"name": "secure", "endpoint": {"path": path, "paginator": "single_page"}},
        api.base,
        auth=auth,
    )
    expected = same_records(api, config, ["secure"])
    assert len(expected["secure"]) == 2  # a 401 would have failed both


BODY_PAGING = [
    pytest.param(
        {
            "json": {"filter": {"group": 1}},
            "paginator": {
                "type": "offset",
                "limit": 2,
                "offset_body_path": "paging.offset",
                "limit_body_path": "paging.limit",
            },
        },
        id="offset-in-body",
    ),
    pytest.param(
        {
            "json": {"filter": {"group": 1}},
            "paginator": {"type": "page_number", "base_page": 1, "page_body_path": "page_no"},
        },
        id="page-number-in-body",
    ),
    pytest.param(
        {
            "json": {"filter": {"group": 1}, "cursor": 0},
            "paginator": {
                "type": "cursor",
                "cursor_path": "next_cursor",
                "cursor_body_path": "cursor",
            },
        },
        id="cursor-in-body",
    ),
]


@pytest.mark.parametrize("endpoint", BODY_PAGING)
def test_post_searches_page_in_the_body_as_dlt_does(api, endpoint):
    config = one(
        {
            "name": "search",
            "endpoint": {
                "path": "search",
                "method": "POST",
                "data_selector": "results",
                **endpoint,
            },
        },
        api.base,
    )
    expected = dlt_records(config, ["search"])
    dlt_bodies = [r["body"] for r in api.requests]
    api.requests.clear()
    got, _ = tap_run(config)
    assert got["search"] == expected["search"]
    assert [r["id"] for r in expected["search"]] == [1, 4, 7, 10]
    assert [r["body"] for r in api.requests[1:]] == dlt_bodies  # the first infers the schema


def _events(
    api: MockApi, incremental: dict[str, Any], params: dict[str, Any] | None = None
) -> dict[str, Any]:
    endpoint = {
        "path": "events",
        "incremental": incremental,
        "paginator": {"type": "offset", "limit": 3},
    }
    if params:
        endpoint["params"] = params
    return one({"name": "events", "endpoint": endpoint, "primary_key": "id"}, api.base)


@pytest.mark.parametrize("start_param", [True, False], ids=["start-param", "no-start-param"])
def test_incremental_first_run_and_a_run_from_state(api, tmp_path, start_param):
    import dlt

    incremental = {"cursor_path": "updated", "initial_value": "2024-01-05T00:00:00Z"}
    if start_param:
        incremental["start_param"] = "since"
    config = _events(api, incremental)
    pipeline = dlt.pipeline(pipeline_name="oracle", pipelines_dir=str(tmp_path / "pipelines"))
    first = dlt_records(config, ["events"], pipeline)["events"]
    got, state = tap_run(config)
    assert got["events"] == first
    assert [r["id"] for r in first] == list(range(5, 12))
    api.events.append({"id": 12, "name": "new", "updated": "2024-01-20T00:00:00Z", "group": 0})
    second = dlt_records(config, ["events"], pipeline)["events"]
    got, _ = tap_run(config, state=state)
    # dlt drops the records at its last value that it has seen (their hashes are in its
    # state); the tap reads the bookmark's own time again (Singer's inclusive bookmark).
    assert [r["id"] for r in second] == [12]
    assert [r["id"] for r in got["events"]] == [11, 12]


@pytest.mark.parametrize("end_param", [True, False], ids=["end-param", "filtered-by-the-tap"])
def test_end_value_reads_one_window_and_leaves_the_state(api, end_param):
    incremental = {
        "cursor_path": "updated",
        "initial_value": "2024-01-03T00:00:00Z",
        "end_value": "2024-01-07T00:00:00Z",
        "start_param": "since",
    }
    if end_param:
        incremental["end_param"] = "until"
    config = _events(api, incremental)
    expected = dlt_records(config, ["events"])
    state = {
        "bookmarks": {
            "events": {
                "replication_key": "updated",
                "replication_key_value": "2024-01-09T00:00:00Z",
            }
        }
    }
    got, last = tap_run(config, state=state)
    assert got["events"] == expected["events"]
    assert [r["id"] for r in expected["events"]] == [3, 4, 5, 6]
    assert last["bookmarks"]["events"]["replication_key_value"] == "2024-01-09T00:00:00Z"
