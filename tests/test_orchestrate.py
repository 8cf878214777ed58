"""Many accounts on Dagster (issue 25): the definitions run in process, against two sandboxes.

Two sandbox APIs (different seeds, so different records) are two accounts of ``oncall``; each
partition is a real ``meltano run`` into PostgreSQL (``PG_DSN``), each account into its own
fresh schema (dropped afterwards). Meltano's state goes to a tmp backend, never the project's
``.meltano``: PostgreSQL (the system database in a tmp schema) where many workers would share
it, a ``file://`` folder in tmp for the backfill. Dagster runs on an ephemeral instance
(``materialize``), the backfill on a tmp persistent one, as the multiprocess executor needs.
"""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

dg = pytest.importorskip("dagster")

from scripts._plugins import ensure_plugins  # noqa: E402
from tap_generic_rest.orchestrate import load_definitions  # noqa: E402
from tap_generic_rest.orchestrate.accounts import ACCOUNTS_ENV, load_accounts  # noqa: E402
from tap_generic_rest.orchestrate.definitions import build_definitions  # noqa: E402
from tap_generic_rest.stream.replication import to_moment  # noqa: E402
from tests.test_e2e_meltano import (  # noqa: E402
    PG_DSN,
    conninfo_to_dict,
    quote,
    row_counts,
    skip_or_fail,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sandbox import Sandbox

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parent.parent
SIZES = {"oncall.alerts": 600, "oncall.incidents": 100}
#: The sandbox's oncall records change on these three days (UTC).
DAYS = ("2025-05-31", "2025-06-01", "2025-06-02")
INCREMENTAL = ("alerts", "incidents")


@pytest.fixture(scope="module")
def meltano() -> Path:
    return ensure_plugins()


@pytest.fixture(scope="module")
def pg() -> Iterator[Any]:
    """An autocommit connection to PG_DSN (skips, or fails in CI, without one)."""
    psycopg = pytest.importorskip("psycopg")
    try:
        connection = psycopg.connect(PG_DSN, autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as error:
        skip_or_fail(f"PostgreSQL unreachable (set PG_DSN): {type(error).__name__}")
    with connection:
        yield connection


@pytest.fixture
def sandboxes() -> Iterator[dict[str, Sandbox]]:
    """Two accounts: two sandbox APIs on free ports, with different data."""
    from sandbox import Sandbox

    with (
        Sandbox(seed=31, default_size=20, sizes=SIZES) as acme,
        Sandbox(seed=32, default_size=20, sizes=SIZES) as globex,
    ):
        yield {"acme": acme, "globex": globex}


@pytest.fixture
def schemas(pg: Any) -> Iterator[dict[str, str]]:
    """A fresh schema per account for this test, dropped afterwards."""
    prefix = f"orch_{uuid.uuid4().hex[:8]}"
    made = {"acme": f"{prefix}_acme", "globex": f"{prefix}_globex"}
    yield made
    for schema in made.values():
        pg.execute(f"DROP SCHEMA IF EXISTS {quote(schema)} CASCADE")


@pytest.fixture
def accounts_file(
    tmp_path: Path,
    meltano: Path,
    sandboxes: dict[str, Sandbox],
    schemas: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> Path:
    """The accounts file of the two accounts; tokens and the password only as ``${NAME}``."""
    params = conninfo_to_dict(PG_DSN)
    for name, sandbox in sandboxes.items():
        monkeypatch.setenv(
            f"{name.upper()}_ONCALL_TOKEN", sandbox.credentials("oncall")["api_token"]
        )
    monkeypatch.setenv("ORCH_PG_PASSWORD", str(params.get("password", "")))
    data = {
        "project": str(ROOT),
        "meltano": str(meltano),
        "target": {
            "plugin": "target-postgres",
            "config": {
                "host": str(params.get("host", "127.0.0.1")),
                "port": int(params.get("port", 5432)),
                "user": str(params.get("user", "postgres")),
                "password": "${ORCH_PG_PASSWORD}",
                "database": str(params.get("dbname", "test")),
            },
        },
        "state_backend": (tmp_path / "state").as_uri(),
        "backfill_start": "2025-05-01",
        "accounts": [
            {
                "name": name,
                "source": "oncall",
                "load_schema": schemas[name],
                "config": {
                    "base_url": sandbox.base_url("oncall"),
                    "api_token": f"${{{name.upper()}_ONCALL_TOKEN}}",
                },
            }
            for name, sandbox in sandboxes.items()
        ],
    }
    path = tmp_path / "accounts.yml"
    path.write_text(json.dumps(data))  # JSON is YAML
    monkeypatch.setenv(ACCOUNTS_ENV, str(path))
    load_definitions.cache_clear()
    return path


@pytest.fixture
def pg_state(pg: Any, accounts_file: Path) -> Iterator[str]:
    """The accounts file's state backend moved to PostgreSQL (Meltano's system database in a
    schema of its own, dropped afterwards); yields that schema."""
    schema = f"orch_state_{uuid.uuid4().hex[:8]}"
    pg.execute(f"CREATE SCHEMA {quote(schema)}")
    data = json.loads(accounts_file.read_text())
    data["state_backend"] = f"{PG_DSN}?options=-csearch_path%3D{schema}"
    accounts_file.write_text(json.dumps(data))
    yield schema
    pg.execute(f"DROP SCHEMA IF EXISTS {quote(schema)} CASCADE")


def states_in_postgres(pg: Any, schema: str) -> dict[str, dict[str, Any]]:
    """Every state id Meltano keeps in the system database, with its bookmarks."""
    rows = pg.execute(f"SELECT state_id, completed_state FROM {quote(schema)}.state").fetchall()
    return {state_id: json.loads(state)["singer_state"]["bookmarks"] for state_id, state in rows}


def state_files(accounts_file: Path) -> dict[str, dict[str, Any]]:
    """Every state id on the tmp backend, with its bookmarks."""
    folder = accounts_file.parent / "state"
    return {
        path.parent.name: json.loads(path.read_text())["completed"]["singer_state"]["bookmarks"]
        for path in folder.glob("*/state.json")
    }


def materialize(partition: str) -> Any:
    defs = build_definitions(load_accounts())
    with dg.DagsterInstance.ephemeral() as instance:
        return dg.materialize(
            [defs.resolve_assets_def("oncall")],
            partition_key=partition,
            instance=instance,
            raise_on_error=False,
        )


def run_metadata(result: Any) -> dict[str, Any]:
    (materialization,) = result.asset_materializations_for_node("oncall")
    return {key: value.value for key, value in materialization.metadata.items()}


def newest(sandbox: Sandbox, stream: str) -> Any:
    return max(to_moment(r["updatedAt"]) for r in sandbox.records("oncall", stream))


def test_each_account_has_its_own_state_resumes_and_fails_alone(
    pg_state: str,
    sandboxes: dict[str, Sandbox],
    schemas: dict[str, str],
    pg: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On a state backend in PostgreSQL, as many workers would share it."""
    for name, sandbox in sandboxes.items():
        result = materialize(name)
        assert result.success
        expected = sandbox.counts()["oncall"]
        assert row_counts(pg, schemas[name]) == expected
        shown = run_metadata(result)
        assert shown["records_by_stream"] == expected
        assert shown["records"] == sum(expected.values())
        assert shown["pages"] > 0
        # The tap's warnings: the sandbox sends a field no schema declares.
        assert "passed through undeclared: _sandbox_extra" in shown["warnings"]
        assert shown["requests"] >= shown["pages"]

    states = states_in_postgres(pg, pg_state)
    assert sorted(states) == [
        "dev:tap-generic-rest-to-target-postgres:oncall.acme",
        "dev:tap-generic-rest-to-target-postgres:oncall.globex",
    ]
    for name, sandbox in sandboxes.items():
        bookmarks = states[f"dev:tap-generic-rest-to-target-postgres:oncall.{name}"]
        for stream in INCREMENTAL:  # each account's bookmark is its own data's newest change
            assert to_moment(bookmarks[stream]["replication_key_value"]) == newest(sandbox, stream)

    acme = sandboxes["acme"]
    changes = acme.mutate(source="oncall", stream="alerts", update=[0, 5, 9], insert=2)
    changed = {r["id"]: r for r in changes["updated"] + changes["inserted"]}
    globex_state = states["dev:tap-generic-rest-to-target-postgres:oncall.globex"]
    acme.clear_requests()
    result = materialize("acme")
    assert result.success
    read = run_metadata(result)["records_by_stream"]
    # Only what changed (and the bookmark's own record, read again by the inclusive filter).
    assert len(changed) <= read["alerts"] <= len(changed) + 1
    assert read["incidents"] <= 1
    rows = dict(pg.execute(f"SELECT id, message FROM {quote(schemas['acme'])}.alerts").fetchall())
    assert len(rows) == SIZES["oncall.alerts"] + 2
    assert all(rows[ident] == record["message"] for ident, record in changed.items())
    after = states_in_postgres(pg, pg_state)
    assert after["dev:tap-generic-rest-to-target-postgres:oncall.globex"] == globex_state
    acme_after = after["dev:tap-generic-rest-to-target-postgres:oncall.acme"]
    assert to_moment(acme_after["alerts"]["replication_key_value"]) == newest(acme, "alerts")

    # A failing account fails only its partition, with the tap's own line, its secret unseen.
    monkeypatch.setenv("GLOBEX_ONCALL_TOKEN", "revoked-7f3a9c")
    failed = materialize("globex")
    assert not failed.success
    (failure,) = [e for e in failed.all_events if e.event_type_value == "STEP_FAILURE"]
    assert failure.event_specific_data.user_failure_data.description == (
        "tap-generic-rest: error: stream 'alerts': GET /oncall/v2/alerts -> 401: the server "
        "refused the credentials; check the settings api_token (and base_url)"
    )
    assert "revoked-7f3a9c" not in "\n".join(str(e) for e in failed.all_events)
    # Its bookmarks stay where they were (Meltano may rewrite the state it had, as it was).
    failed_state = states_in_postgres(pg, pg_state)
    for name in sandboxes:
        before = after[f"dev:tap-generic-rest-to-target-postgres:oncall.{name}"]
        now = failed_state[f"dev:tap-generic-rest-to-target-postgres:oncall.{name}"]
        assert {s: now[s] for s in INCREMENTAL} == {s: before[s] for s in INCREMENTAL}, name
    assert row_counts(pg, schemas["globex"]) == sandboxes["globex"].counts()["oncall"]


def backfill_job() -> Any:
    """The job as the multiprocess executor rebuilds it in each worker process."""
    return load_definitions().resolve_job_def("oncall_backfill")


def test_a_three_day_backfill_on_the_multiprocess_executor_loads_each_record_once(
    accounts_file: Path,
    sandboxes: dict[str, Sandbox],
    schemas: dict[str, str],
    pg: Any,
    tmp_path: Path,
) -> None:
    acme = sandboxes["acme"]
    job = backfill_job()
    assert job.executor_def.name == "multiprocess"
    emitted: dict[str, int] = dict.fromkeys(INCREMENTAL, 0)
    first: dict[str, int] = dict.fromkeys(INCREMENTAL, 0)
    home = tmp_path / "dagster_home"
    home.mkdir()
    with dg.DagsterInstance.local_temp(str(home)) as instance:

        def run_day(day: str) -> dict[str, int]:
            key = dg.MultiPartitionKey({"account": "acme", "day": day})
            result = dg.execute_job(
                dg.reconstructable(backfill_job),
                instance=instance,
                tags=job.partitions_def.get_tags_for_partition_key(key),
                raise_on_error=False,
            )
            assert result.success, day
            (observation,) = [
                e.event_specific_data.asset_observation
                for e in result.all_events
                if e.event_type_value == "ASSET_OBSERVATION"
            ]
            return observation.metadata["records_by_stream"].value

        # The three days at once, as workers run them; then the range again.
        for again in (False, True):
            with ThreadPoolExecutor(len(DAYS)) as pool:
                counts = list(pool.map(run_day, DAYS))
            for by_stream in counts:
                assert set(by_stream) == set(INCREMENTAL)  # full tables have no days
                for stream in INCREMENTAL:
                    emitted[stream] += by_stream[stream] if again else 0
                    first[stream] += 0 if again else by_stream[stream]
    start, end = to_moment(f"{DAYS[0]}T00:00:00Z"), to_moment(f"{DAYS[-1]}T00:00:00Z")
    assert start is not None
    assert end is not None
    end += timedelta(days=1)
    for stream in INCREMENTAL:
        records = [
            r for r in acme.records("oncall", stream) if start <= to_moment(r["updatedAt"]) < end
        ]
        assert len(records) == SIZES[f"oncall.{stream}"]  # the three days hold every record
        # Every record once: the windows neither overlap nor leave a gap; a day read again
        # reads it whole (its bookmark never moved), and the upserts add no row.
        assert first[stream] == emitted[stream] == len(records), stream
        rows = pg.execute(f"SELECT id FROM {quote(schemas['acme'])}.{stream}").fetchall()
        assert sorted(i for (i,) in rows) == sorted(r["id"] for r in records), stream
    states = state_files(accounts_file)
    prefix = "dev:tap-generic-rest-to-target-postgres:oncall.acme"
    assert prefix not in states  # the live bookmark was never touched
    for day in DAYS:  # each day had a state id of its own, and moved no bookmark in it
        for stream in INCREMENTAL:
            assert "replication_key_value" not in states[f"{prefix}.{day}"].get(stream, {})
