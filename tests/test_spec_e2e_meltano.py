"""The sixth API, described only by examples/specs/projects.yaml, through ``meltano run``.

``tap-generic-rest--projects`` (meltano.yml) sets nothing but ``spec``; the sandbox serves the
projects API; target-postgres loads it into a fresh schema. A second run resumes from the
bookmark of the incremental ``projects`` resource: it asks only for projects updated since,
and the upserts leave the tables as they were. Skips (fails in CI) without PostgreSQL, as the
other Meltano end-to-end tests do.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.test_e2e_meltano import (  # noqa: F401  # pytest finds fixtures by name here
    load_schema,
    meltano,
    meltano_run,
    meltano_project,
    pg,
    primary_key_columns,
    quote,
    row_counts,
)


def test_the_projects_extractor_is_a_spec_and_nothing_else():
    extractors = {p["name"]: p for p in meltano_project()["plugins"]["extractors"]}
    plugin = extractors["tap-generic-rest--projects"]
    assert plugin["inherit_from"] == "tap-generic-rest"
    assert plugin["config"] == {"spec": "examples/specs/projects.yaml"}


@pytest.mark.postgres
@pytest.mark.slow
def test_meltano_run_loads_the_spec_api_into_postgres_and_resumes_from_the_bookmark(
    pg: Any, meltano: Any, load_schema: Any, e2e_sandbox: Any
) -> None:
    api = e2e_sandbox.projects
    schema = load_schema("projects")
    config = {"base_url": e2e_sandbox.base_url("projects"), **api.credentials}
    projects = api.projects()
    tasks = [task for project in projects for task in api.tasks(project["id"])]
    expected = {"projects": len(projects), "tasks": len(tasks), "members": len(api.members())}
    assert all(expected.values())

    e2e_sandbox.clear_requests()
    meltano_run(meltano, "projects", schema, config, schema)
    assert row_counts(pg, schema) == expected
    for table in expected:
        assert primary_key_columns(pg, schema, table) == ["id"], table
    # Child rows carry their parent's id and name (include_from_parent).
    loaded = dict(
        pg.execute(f"SELECT id, _projects_id FROM {quote(schema)}.tasks").fetchall()  # noqa: S608
    )
    assert loaded == {task["id"]: task["project_id"] for task in tasks}
    names = pg.execute(
        f"SELECT DISTINCT _projects_name FROM {quote(schema)}.tasks"  # noqa: S608
    ).fetchall()
    assert {name for (name,) in names} == {
        p["name"] for p in projects if api.tasks(p["id"])
    }
    first = [r for r in e2e_sandbox.requests if r.path.endswith("/projects")]
    assert first[0].query["updated_since"] == ["2023-01-01T00:00:00Z"]  # the initial_value

    first_tasks = [r for r in e2e_sandbox.requests if r.path.endswith("/tasks")]

    e2e_sandbox.clear_requests()
    meltano_run(meltano, "projects", schema, config, schema)
    assert row_counts(pg, schema) == expected
    # Discovery reads a first page (from the initial value, to infer the tasks' schema);
    # the sync asks only for what changed since the newest project of the first run.
    again = [r for r in e2e_sandbox.requests if r.path.endswith("/projects")]
    newest = max(p["updated_at"] for p in projects)
    assert again[-1].query == {"updated_since": [newest], "limit": ["10"]}
    newest_id = next(p["id"] for p in projects if p["updated_at"] == newest)
    again_tasks = [r for r in e2e_sandbox.requests if r.path.endswith("/tasks")]
    assert again_tasks[-1].path == f"/projects/v1/projects/{newest_id}/tasks"
    assert len(again_tasks) < len(first_tasks)
