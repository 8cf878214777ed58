"""Specs against the sandbox: the five seeds as specs, and the sixth API (projects).

Each seed, saved as a Python spec in examples/specs/, produces exactly the records of
its built-in source. The projects spec shows a parent and child, include_from_parent,
an incremental resource resuming from its bookmark, schemas from a file or inferred
(and written out), and the command line's --about, --discover and --test.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sandbox import Sandbox
from tap_generic_rest.__main__ import main
from tap_generic_rest.http.selectors import as_jsonpath
from tap_generic_rest.sources import all_sources
from tap_generic_rest.spec.compile import compile_spec
from tap_generic_rest.tap import TapGenericRest
from tests.helpers import records_by_stream, run_sync

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "examples" / "specs"
PROJECTS = str(SPECS / "projects.yaml")


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(seed=5, default_size=23, sizes={"chat.users": 7, "helpdesk.contacts": 230}) as sb:
        yield sb


def spec_config(sandbox: Sandbox, source: str, **extra: Any) -> dict[str, Any]:
    config = sandbox.tap_config(source, **extra)
    del config["source"]
    return {**config, "spec": str(SPECS / f"{source}.py")}


# --- the five seeds ------------------------------------------------------------------------


@pytest.mark.parametrize("source", sorted(all_sources()))
def test_each_seed_spec_produces_the_records_of_its_built_in_source(sandbox, source):
    built_in = records_by_stream(run_sync(sandbox.tap_config(source)))
    from_spec = records_by_stream(run_sync(spec_config(sandbox, source)))
    if source == "tracker":  # the seed's {slice} avatars are left out of the spec
        assert set(built_in) - set(from_spec) == {"avatars"}
        built_in.pop("avatars")
    assert set(from_spec) == set(built_in)
    classes = {s.name: s for s in all_sources()[source].streams}
    for stream, records in built_in.items():
        assert records, stream
        if getattr(classes[stream], "incremental", None) is not None:
            # The built-in stream asks for changes in its own order (oncall alerts sorted
            # by updatedAt); the seed cannot say that: the same records, in the API's order.
            key = classes[stream].primary_keys[0]
            assert sorted(from_spec[stream], key=lambda r: r[key]) == sorted(
                records, key=lambda r: r[key]
            ), stream
        else:
            assert from_spec[stream] == records, stream


@pytest.mark.parametrize("source", sorted(all_sources()))
def test_each_seed_spec_compiles_to_the_built_in_streams_paths_and_keys(sandbox, source):
    built_in = {s.name: s for s in all_sources()[source].streams}
    compiled = compile_spec(spec_config(sandbox, source))
    assert compiled.name == source
    for stream in compiled.streams:
        twin = built_in[stream.name]
        assert stream.path == twin.path
        assert stream.records_key == as_jsonpath(twin.records_key)  # read by dlt's rules
        assert stream.paging.page_size == twin.paging.page_size
        assert stream.paging.prefetchable == twin.paging.prefetchable
        assert tuple(stream.primary_keys) == tuple(twin.primary_keys)


def test_seed_error_handlers_become_the_streams_retry_policies(sandbox):
    statuspage = compile_spec(spec_config(sandbox, "statuspage"))
    for stream in statuspage.streams:
        assert stream.retry is not None
        assert stream.retry.statuses == frozenset({420, 429})
        assert stream.retry.max_retries == 3
        assert stream.retry.factor == 62
    oncall = compile_spec(spec_config(sandbox, "oncall"))
    assert oncall.retry.statuses >= frozenset({429, 500, 502, 503, 504})  # dlt's defaults


@pytest.mark.usefixtures("pages_ahead_as_configured")
def test_spec_streams_fetch_offset_pages_ahead_like_built_in_ones(sandbox):
    sandbox.clear_requests()
    config = spec_config(sandbox, "helpdesk", page_size=10, max_concurrent_requests=4)
    records = records_by_stream(run_sync(config, streams=["contacts"]))["contacts"]
    assert records == sandbox.records("helpdesk", "contacts")
    offsets = [int(r.query["offset"][0]) for r in sandbox.requests if r.path.endswith("contacts")]
    assert set(offsets) >= set(range(0, 240, 10))
    # One page at a time would stop at the empty page (230); the window asked past it.
    assert max(offsets) > 230


# --- the sixth API: projects ----------------------------------------------------------------


def projects_config(sandbox: Sandbox, **extra: Any) -> dict[str, Any]:
    return {
        "spec": PROJECTS,
        "base_url": sandbox.base_url("projects"),
        **sandbox.projects.credentials,
        **extra,
    }


def test_projects_spec_reads_every_resource_with_parent_fields_in_children(sandbox):
    api = sandbox.projects
    records = records_by_stream(run_sync(projects_config(sandbox)))
    assert records["projects"] == api.projects()
    assert records["members"] == api.members()
    expected_tasks = [
        {**task, "_projects_id": project["id"], "_projects_name": project["name"]}
        for project in api.projects()
        for task in api.tasks(project["id"])
    ]
    assert records["tasks"] == expected_tasks


def test_projects_incremental_resumes_from_the_bookmark(sandbox):
    api = sandbox.projects
    messages = run_sync(projects_config(sandbox))
    state = [m for m in messages if m["type"] == "STATE"][-1]["value"]
    newest = max(p["updated_at"] for p in api.projects())
    assert state["bookmarks"]["projects"]["replication_key_value"] == newest
    assert state["bookmarks"]["tasks"] == {}  # no partition per parent for a full-table child

    sandbox.clear_requests()
    again = records_by_stream(run_sync(projects_config(sandbox), state=state))
    assert again["projects"] == api.projects(newest)
    assert len(again["projects"]) == 1
    assert {t["_projects_id"] for t in again["tasks"]} <= {again["projects"][0]["id"]}
    sync = [r for r in sandbox.requests if r.path.endswith("/projects")][-1]
    assert sync.query["updated_since"] == [newest]


def test_projects_start_from_the_initial_value_without_state(sandbox):
    sandbox.clear_requests()
    run_sync(projects_config(sandbox), streams=["projects"])
    sent = [r.query for r in sandbox.requests if r.path.endswith("/projects")]
    assert {q["updated_since"][0] for q in sent} == {"2023-01-01T00:00:00Z"}
    assert all(q["limit"] == ["10"] for q in sent)


def test_schema_from_the_spec_folder_or_inferred_and_written_out(sandbox, tmp_path):
    out = tmp_path / "inferred"
    tap = TapGenericRest(config=projects_config(sandbox, inferred_schemas_dir=str(out)))
    schemas = {s.name: s.schema for s in tap.streams.values()}
    kept = json.loads((SPECS / "schemas" / "projects.json").read_text())
    assert schemas["projects"] == kept
    assert sorted(p.name for p in out.iterdir()) == ["members.json", "tasks.json"]
    members = json.loads((out / "members.json").read_text())
    assert members["properties"]["id"] == {"type": ["null", "integer"]}
    assert members["properties"]["active"] == {"type": ["null", "boolean"]}
    tasks = schemas["tasks"]["properties"]
    assert tasks["created_at"]["format"] == "date-time"
    assert tasks["estimate_hours"]["type"] == ["null", "number"]
    assert tasks["_projects_id"] == {**kept["properties"]["id"], "type": ["string", "null"]}
    assert schemas["tasks"]["additionalProperties"] is True


def test_a_catalog_schema_is_used_without_inferring(sandbox):
    catalog = TapGenericRest(config=projects_config(sandbox)).catalog_dict
    sandbox.clear_requests()
    tap = TapGenericRest(config=projects_config(sandbox), catalog=catalog)
    assert {s.name for s in tap.streams.values()} == {"projects", "tasks", "members"}
    assert sandbox.requests == []


def test_discovery_keys_and_replication(sandbox):
    catalog = TapGenericRest(config=projects_config(sandbox)).catalog_dict
    entries = {entry["tap_stream_id"]: entry for entry in catalog["streams"]}
    assert list(entries["projects"]["key_properties"]) == ["id"]
    assert entries["projects"]["replication_key"] == "updated_at"
    assert entries["projects"]["replication_method"] == "INCREMENTAL"
    assert entries["tasks"]["replication_method"] == "FULL_TABLE"


def run_cli(tmp_path: Path, capsys: Any, config: dict[str, Any], *args: str) -> tuple[str, str]:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    with pytest.raises(SystemExit) as exit_:
        main(["--config", str(path), *args])
    out, err = capsys.readouterr()
    assert exit_.value.code == 0, err
    return out, err


def test_cli_discover_and_test_and_about(sandbox, tmp_path, capsys):
    config = projects_config(sandbox)
    out, _ = run_cli(tmp_path, capsys, config, "--discover")
    assert {s["tap_stream_id"] for s in json.loads(out)["streams"]} == {
        "projects",
        "tasks",
        "members",
    }
    out, err = run_cli(tmp_path, capsys, config, "--test")
    assert config["api_token"] not in out + err
    records = [json.loads(line) for line in out.splitlines() if '"RECORD"' in line]
    assert {r["stream"] for r in records} >= {"projects", "members"}
    out, _ = run_cli(tmp_path, capsys, {}, "--about", "--format", "json")
    assert "spec" in json.loads(out)["settings"]["properties"]


def test_the_three_file_formats_compile_alike(sandbox, tmp_path):
    import yaml

    data = yaml.safe_load(Path(PROJECTS).read_text())
    (tmp_path / "p.json").write_text(json.dumps(data))
    (tmp_path / "p.py").write_text(
        "import dlt\nfrom dlt.sources.rest_api import rest_api_source\n\nsource = rest_api_source("
        + repr(data).replace("'dlt.secrets[\"api_token\"]'", "dlt.secrets['api_token']")
        + ")\n"
    )
    base = projects_config(sandbox)
    compiled = [
        compile_spec({**base, "spec": spec})
        for spec in (PROJECTS, str(tmp_path / "p.json"), str(tmp_path / "p.py"), data)
    ]
    shapes = [
        [(s.name, s.path, s.paging, s.params, s.parent_keys, s.primary_keys) for s in c.streams]
        for c in compiled
    ]
    assert shapes[1:] == shapes[:1] * 3
    assert [c.auth.settings for c in compiled] == [("api_token",)] * 4


def test_spec_streams_retry_faults_like_built_in_ones():
    """The retry policy, transient-failure handling and waits are the built-in engine's."""
    with Sandbox(seed=9, default_size=60, fault_rate=0.3, retry_after=0) as faulty:
        config = spec_config(faulty, "helpdesk", page_size=7, max_wait_seconds=0)
        records = records_by_stream(run_sync(config, streams=["contacts", "teams"]))
        assert faulty.fault_count > 0
        assert records["contacts"] == faulty.records("helpdesk", "contacts")
        assert records["teams"] == faulty.records("helpdesk", "teams")


def test_settings_from_the_environment_a_spec_path_or_object(sandbox, monkeypatch, capsys):
    """``--config ENV``: the spec as a path or as JSON text, its settings from the environment."""
    monkeypatch.setenv("TAP_GENERIC_REST_SPEC", PROJECTS)
    monkeypatch.setenv("TAP_GENERIC_REST_BASE_URL", sandbox.base_url("projects"))
    monkeypatch.setenv("TAP_GENERIC_REST_API_TOKEN", sandbox.projects.credentials["api_token"])
    with pytest.raises(SystemExit) as exit_:
        main(["--config", "ENV", "--discover"])
    out, err = capsys.readouterr()
    assert exit_.value.code == 0, err
    assert {s["tap_stream_id"] for s in json.loads(out)["streams"]} == {
        "projects",
        "tasks",
        "members",
    }
    inline = {
        "client": {
            "base_url": sandbox.base_url("projects"),
            "auth": {"type": "bearer", "token": 'dlt.secrets["api_token"]'},
        },
        "resources": [{"name": "members", "endpoint": "/members"}],
    }
    monkeypatch.setenv("TAP_GENERIC_REST_SPEC", json.dumps(inline))
    monkeypatch.delenv("TAP_GENERIC_REST_BASE_URL")
    with pytest.raises(SystemExit) as exit_:
        main(["--config", "ENV"])
    out, err = capsys.readouterr()
    assert exit_.value.code == 0, err
    # No paginator is dlt's auto: it finds the members' next link and reads every page.
    assert out.count('"type":"RECORD"') == 20
