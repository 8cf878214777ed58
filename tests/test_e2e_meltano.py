"""meltano.yml, and ``meltano run tap-generic-rest--<source> target-postgres`` end to end.

The first tests read meltano.yml only. The others install Meltano and the plugins once (into the
ignored .cache/ and .meltano/, see scripts/_plugins.py), run every source against the sandbox
into a real PostgreSQL, each into its own fresh schema (dropped afterwards), and run it again to
show that the load merges on the primary key. Meltano's system database (state, runs) is a
temporary file, never the project's .meltano/meltano.db: a test run leaves no state id in
``meltano state list`` (tests/conftest.py checks it). Every run sets one setting of each kind
from the environment, and checks the levels Meltano shows the tap's lines at (structured
logging). The last tests need Meltano only: the fatal line shown as [error], and every kind of
setting through ``meltano config set`` in a copy of the project.

PostgreSQL comes from ``PG_DSN`` (default ``postgresql://postgres@127.0.0.1:5432/test``). With
the ``CI`` variable set, an unreachable server fails these tests; elsewhere they skip.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from scripts._plugins import ensure_plugins, meltano_env
from tap_generic_rest.sources import all_sources
from tap_generic_rest.tap import SECRET_SETTINGS

ROOT = Path(__file__).resolve().parent.parent
PG_DSN = os.environ.get("PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
SOURCES = sorted(all_sources())
#: Meltano setting kinds that fit each JSON Schema type of the tap's settings. Numbers are
#: kind ``string``: Meltano 4's ``decimal`` fails on a value from an environment variable
#: ("Object of type Decimal is not JSON serializable"); the tap reads "0.5" as 0.5.
KINDS = {
    "string": {"string", "options", "date_iso8601"},
    "integer": {"integer"},
    "number": {"string"},
    "boolean": {"boolean"},
    "array": {"array"},
    "object": {"object"},
}


def kind_settings(source: str) -> dict[str, str]:
    """One setting of each kind of meltano.yml (credentials aside), as text (issue 13).

    Every ``meltano run`` below sets them from the environment, and
    ``test_every_kind_of_setting_through_meltano_config_set`` with ``meltano config set``.
    """
    return {
        "source": source,  # options
        "user_agent": "tap-generic-rest-e2e/1.0",  # string
        "max_wait_seconds": "0.5",  # string holding a number (was decimal: Meltano crashed)
        "request_timeout": "60.5",
        "start_date": "2001-01-01T00:00:00Z",  # date_iso8601 (before every record served)
        "max_retries": "4",  # integer
        "flattening_enabled": "false",  # boolean
        "avatar_types": '["issuetype", "project", "user"]',  # array
        "stream_map_config": '{"run": "e2e"}',  # object
    }


def meltano_project() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "meltano.yml").read_text())


def plugins(kind: str) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in meltano_project()["plugins"][kind]}


def expected_primary_key(source: str, stream: str) -> str:
    """The primary key column of every stream, as SOURCES.md specifies."""
    if source == "chat":
        return "_id"
    if (source, stream) == ("tracker", "application_roles"):
        return "key"
    return "id"


# --- meltano.yml ---------------------------------------------------------------------------


def test_base_extractor_is_the_custom_tap():
    tap = plugins("extractors")["tap-generic-rest"]
    assert tap["namespace"] == "tap_generic_rest"
    assert tap["pip_url"] == "-e ."
    assert tap["executable"] == "tap-generic-rest"
    assert set(tap["capabilities"]) >= {
        "catalog",
        "discover",
        "state",
        "about",
        "stream-maps",
        "schema-flattening",
        # Meltano then reads the tap's stderr as JSON records, each shown at its level.
        "structured-logging",
    }


def about_settings() -> dict[str, Any]:
    """The settings ``--about`` shows: the tap's own and the SDK's (stream maps, flattening)."""
    result = subprocess.run(
        [sys.executable, "-m", "tap_generic_rest", "--about", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)["settings"]["properties"]


def test_every_setting_of_the_tap_is_declared_with_kind_label_and_description():
    declared = {s["name"]: s for s in plugins("extractors")["tap-generic-rest"]["settings"]}
    about = about_settings()
    missing = set(about) - set(declared)
    assert not missing, f"settings missing from meltano.yml: {sorted(missing)}"
    for name, prop in about.items():
        setting = declared[name]
        assert setting.get("label"), name
        assert setting.get("description"), name
        types = prop.get("type") or [one["type"] for one in prop["anyOf"]]  # spec: anyOf
        json_type = next(t for t in types if t != "null")
        assert setting["kind"] in KINDS[json_type], (name, setting["kind"], json_type)
    for name in SECRET_SETTINGS:  # never the deprecated kind password
        assert declared[name]["kind"] == "string", name
        assert declared[name]["sensitive"] is True, name


def test_the_settings_set_from_the_environment_cover_every_kind_of_meltano_yml():
    declared = {s["name"]: s["kind"] for s in plugins("extractors")["tap-generic-rest"]["settings"]}
    covered = {declared[name] for name in kind_settings("chat")} | {
        declared[name] for name in SECRET_SETTINGS
    }
    assert covered == set(declared.values())
    assert "decimal" not in covered


def test_one_inherited_extractor_per_source_each_with_its_own_load_schema():
    extractors = plugins("extractors")
    schemas = []
    for source in SOURCES:
        plugin = extractors[f"tap-generic-rest--{source}"]
        assert plugin["inherit_from"] == "tap-generic-rest"
        assert plugin["config"]["source"] == source
        schemas.append(plugin["load_schema"])
    assert sorted(schemas) == sorted(set(schemas)) == SOURCES


def test_no_credential_is_written_in_meltano_yml():
    for kind in ("extractors", "loaders"):
        for plugin in plugins(kind).values():
            sensitive = {s["name"] for s in plugin.get("settings", []) if s.get("sensitive")} | set(
                SECRET_SETTINGS
            )
            for name in sensitive & set(plugin.get("config", {})):
                assert plugin["config"][name] in ("", None), (plugin["name"], name)


def test_loaders_write_each_source_to_its_own_place():
    loaders = plugins("loaders")
    assert loaders["target-postgres"]["pip_url"].startswith("meltanolabs-target-postgres")
    postgres = loaders["target-postgres"]["config"]
    assert postgres["default_target_schema"] == "$MELTANO_EXTRACT__LOAD_SCHEMA"
    assert postgres["load_method"] == "upsert"
    jsonl = loaders["target-jsonl"]["config"]
    assert jsonl["destination_path"] == "output/$MELTANO_EXTRACT__LOAD_SCHEMA"


# --- meltano run ... target-postgres ---------------------------------------------------------


def skip_or_fail(reason: str) -> None:
    """In CI a missing PostgreSQL is a failure; elsewhere the test skips."""
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def pg() -> Any:
    """An autocommit connection to PG_DSN; skip (fail in CI) when none can be made."""
    try:
        import psycopg
    except ImportError:  # a dev dependency; imported here so only these tests depend on it
        skip_or_fail("psycopg is not installed (pip install -e '.[dev]')")
    params = conninfo_to_dict(PG_DSN)
    where = f"{params.get('host', 'localhost')}:{params.get('port', 5432)}/{params.get('dbname')}"
    try:
        connection = psycopg.connect(PG_DSN, autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as error:
        # The error text may quote the DSN: show only host, port and database.
        skip_or_fail(f"PostgreSQL unreachable at {where} (set PG_DSN): {type(error).__name__}")
    with connection:
        yield connection


@dataclass(frozen=True)
class Meltano:
    """The ``meltano`` executable, and where its system database (state, runs) lives."""

    executable: Path
    system_db: Path

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        """The environment of a ``meltano`` command that never touches the project's state."""
        return meltano_env(extra, system_db=self.system_db)


@pytest.fixture(scope="module")
def meltano(tmp_path_factory: pytest.TempPathFactory) -> Meltano:
    """Meltano with the plugins of meltano.yml, installed once (reused across runs), with its
    state and runs in a temporary system database, never in the project's .meltano/."""
    system_db = tmp_path_factory.mktemp("meltano-system-db") / "meltano.db"
    return Meltano(ensure_plugins(), system_db)


@pytest.fixture(scope="module")
def load_schema(pg: Any) -> Any:
    """Fresh schema names for this test run (``e2e_<random>_<source>``), dropped afterwards."""
    prefix = f"e2e_{uuid.uuid4().hex[:10]}"
    made: list[str] = []

    def name(source: str) -> str:
        made.append(f"{prefix}_{source}")
        return made[-1]

    yield name
    for schema in made:
        pg.execute(f"DROP SCHEMA IF EXISTS {quote(schema)} CASCADE")


def quote(identifier: str) -> str:
    """A quoted SQL identifier (names here are ours: schema, table)."""
    return '"' + identifier.replace('"', '""') + '"'


def conninfo_to_dict(dsn: str) -> dict[str, Any]:
    from psycopg.conninfo import conninfo_to_dict as parse

    return parse(dsn)


def target_env() -> dict[str, str]:
    """target-postgres settings, from PG_DSN."""
    params = conninfo_to_dict(PG_DSN)
    return {
        "TARGET_POSTGRES_HOST": str(params.get("host", "127.0.0.1")),
        "TARGET_POSTGRES_PORT": str(params.get("port", 5432)),
        "TARGET_POSTGRES_USER": str(params.get("user", "postgres")),
        "TARGET_POSTGRES_PASSWORD": str(params.get("password", "")),
        "TARGET_POSTGRES_DATABASE": str(params.get("dbname", "test")),
    }


def tap_env(source: str, config: dict[str, Any]) -> dict[str, str]:
    """The sandbox's tap config as the env vars of ``tap-generic-rest--<source>``."""
    prefix = f"TAP_GENERIC_REST__{source.upper()}_"
    return {
        prefix + key.upper(): value if isinstance(value, str) else json.dumps(value)
        for key, value in config.items()
        if key != "source" and value is not None
    }


def meltano_run(
    meltano: Meltano,
    source: str,
    schema: str,
    config: dict[str, Any],
    run_id: str,
    *,
    spec: bool = False,
) -> str:
    """``spec``: the extractor is a spec (issue 15), so no ``source`` is set for it."""
    env = {
        **tap_env(source, config),
        **{
            f"TAP_GENERIC_REST__{source.upper()}_{name.upper()}": text
            for name, text in kind_settings(source).items()
            if not (spec and name == "source")
        },
        **target_env(),
        "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": schema,
    }
    result = subprocess.run(
        [
            str(meltano.executable),
            "run",
            "--state-id-suffix",
            run_id,
            f"tap-generic-rest--{source}",
            "target-postgres",
        ],
        cwd=ROOT,
        env=meltano.env(env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    output = result.stdout + result.stderr
    secrets = [str(config[s]) for s in SECRET_SETTINGS if config.get(s)]
    leaked = [s for s in secrets if s in output]
    assert not leaked, f"{len(leaked)} credential(s) appear in meltano's output"
    assert result.returncode == 0, output[-6000:]
    return output


#: A line of a plugin as Meltano shows it: ``<time> [<level>   ] <name>   <message>``.
MELTANO_LINE = re.compile(r"^\S+ \[(?P<level>[a-z]+)\s*\] (?P<name>\S+)\s+(?P<text>.*)$")


def plugin_lines(output: str) -> list[tuple[str, str]]:
    """(level, message) of every line Meltano showed."""
    return [
        (match["level"], match["text"])
        for line in output.splitlines()
        if (match := MELTANO_LINE.match(line))
    ]


def row_counts(pg: Any, schema: str) -> dict[str, int]:
    tables = pg.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
        (schema,),
    ).fetchall()
    return {
        table: pg.execute(f"SELECT count(*) FROM {quote(schema)}.{quote(table)}").fetchone()[0]
        for (table,) in tables
    }


def primary_key_columns(pg: Any, schema: str, table: str) -> list[str]:
    rows = pg.execute(
        """
        SELECT k.column_name
        FROM information_schema.table_constraints AS c
        JOIN information_schema.key_column_usage AS k
          ON k.constraint_schema = c.constraint_schema
         AND k.constraint_name = c.constraint_name
         AND k.table_name = c.table_name
        WHERE c.constraint_type = 'PRIMARY KEY' AND c.table_schema = %s AND c.table_name = %s
        ORDER BY k.ordinal_position
        """,
        (schema, table),
    ).fetchall()
    return [column for (column,) in rows]


#: Columns whose vendor types the first reading of the APIs got wrong (issue 12), and a few
#: that hold a JSON union (boolean or list, object or string): each is loaded value for value.
TYPED_COLUMNS = {
    "chat": (("rooms", "sysMes"), ("channels", "sysMes"), ("rooms", "uids")),
    "helpdesk": (("conversations", "team_assignee_id"), ("companies", "monthly_spend")),
    "tracker": (("boards", "location"), ("boards", "canEdit")),
    "statuspage": (("subscribers", "components"), ("pages", "favicon_logo")),
    "oncall": (("integrations", "advanced"), ("users", "details")),
}


def loaded_column(pg: Any, schema: str, table: str, key: str, column: str) -> dict[Any, Any]:
    """``{primary key: value}`` of one column as PostgreSQL returns it (JSON decoded)."""
    names = {
        name.lower(): name
        for (name,) in pg.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s",
            (schema, table),
        ).fetchall()
    }
    sql = (
        f"SELECT {quote(names[key.lower()])}, {quote(names[column.lower()])} "
        f"FROM {quote(schema)}.{quote(table)}"
    )
    return dict(pg.execute(sql).fetchall())


@pytest.mark.parametrize("source", SOURCES)
def test_meltano_run_into_postgres_loads_every_stream_and_merges_on_rerun(
    source: str, pg: Any, meltano: Meltano, load_schema: Any, e2e_sandbox: Any
) -> None:
    schema = load_schema(source)
    expected = e2e_sandbox.counts()[source]
    config = e2e_sandbox.tap_config(source)
    run_id = schema  # its own Meltano state, so no earlier run's state is picked up

    output = meltano_run(meltano, source, schema, config, run_id)
    assert row_counts(pg, schema) == expected
    for table, column in TYPED_COLUMNS[source]:
        key = expected_primary_key(source, table)
        served = {r[key]: r[column] for r in e2e_sandbox.records(source, table)}
        assert loaded_column(pg, schema, table, key, column) == served, (table, column)
    lines = plugin_lines(output)
    # Structured logging: the tap's warnings are shown as warnings, not as [info].
    undeclared = [(level, text) for level, text in lines if "passed through undeclared" in text]
    assert undeclared, output[-6000:]
    assert {level for level, _ in undeclared} == {"warning"}
    totals = [text for level, text in lines if level == "info" and "summary: total: " in text]
    assert len(totals) == 1, output[-6000:]
    assert totals[0].startswith(f"summary: total: {sum(expected.values()):,} records, ")
    for stream in expected:
        assert primary_key_columns(pg, schema, stream) == [expected_primary_key(source, stream)], (
            stream
        )

    # A second full run sends every record again: upserts on the key, no duplicates.
    meltano_run(meltano, source, schema, config, run_id)
    assert row_counts(pg, schema) == expected


# --- settings and log levels as Meltano users meet them (issue 13) ----------------------------


def test_the_tap_error_line_is_shown_at_error_level(meltano: Meltano, e2e_sandbox: Any) -> None:
    """A fatal failure: Meltano shows the tap's one line as [error], never as [info]."""
    config = {**e2e_sandbox.tap_config("helpdesk"), "api_key": "wrong-key-3f9b1c"}
    result = subprocess.run(
        [str(meltano.executable), "invoke", "tap-generic-rest--helpdesk"],
        cwd=ROOT,
        env=meltano.env(tap_env("helpdesk", config)),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "wrong-key-3f9b1c" not in output
    failures = [
        (level, text) for level, text in plugin_lines(output) if "tap-generic-rest: error:" in text
    ]
    assert [level for level, _ in failures] == ["error"], output[-6000:]
    assert "refused the credentials; check the settings api_key" in failures[0][1]
    assert "An unhandled error occurred" not in output


def test_every_kind_of_setting_through_meltano_config_set(
    meltano: Meltano, tmp_path: Path, e2e_sandbox: Any
) -> None:
    """``meltano config set`` writes each kind into meltano.yml (.env for secrets); the tap
    accepts the config Meltano then hands it, numbers written as text included."""
    shutil.copy(ROOT / "meltano.yml", tmp_path / "meltano.yml")
    env = meltano.env({"MELTANO_PROJECT_ROOT": str(tmp_path)})
    plugin = "tap-generic-rest--helpdesk"
    sandbox = e2e_sandbox.tap_config("helpdesk")
    values = {**kind_settings("helpdesk"), "base_url": sandbox["base_url"], "api_key": "k3y"}

    def meltano_cmd(*args: str, extra: dict[str, str] | None = None) -> str:
        done = subprocess.run(
            [str(meltano.executable), *args],
            cwd=tmp_path,
            env={**env, **(extra or {})},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
        return done.stdout

    for name, text in values.items():
        meltano_cmd("config", "set", plugin, name, text)
    # And one number as Meltano users write it in meltano.yml, and one from the environment.
    project = yaml.safe_load((tmp_path / "meltano.yml").read_text())
    helpdesk = next(p for p in project["plugins"]["extractors"] if p["name"] == plugin)
    helpdesk["config"]["request_timeout"] = 45.5
    (tmp_path / "meltano.yml").write_text(yaml.safe_dump(project, sort_keys=False))
    printed = meltano_cmd(
        "config",
        "print",
        plugin,
        "--format",
        "json",
        extra={"TAP_GENERIC_REST__HELPDESK_PAGE_SIZE": "7"},
    )
    config = json.loads(printed[printed.index("{") :])
    assert config["api_key"] != "k3y"  # masked in print; Meltano hands the tap the value
    config["api_key"] = sandbox["api_key"]
    assert config["source"] == "helpdesk"
    assert config["max_retries"] == 4
    assert config["page_size"] == 7
    assert config["flattening_enabled"] is False
    assert config["avatar_types"] == ["issuetype", "project", "user"]
    assert config["stream_map_config"] == {"run": "e2e"}
    assert config["request_timeout"] == 45.5

    from tap_generic_rest.tap import TapGenericRest

    tap = TapGenericRest(config=config, setup_mapper=False)
    assert tap.config["max_wait_seconds"] == 0.5
    assert tap.config["request_timeout"] == 45.5
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    done = subprocess.run(  # our own console script
        [
            str(Path(sys.executable).with_name("tap-generic-rest")),
            "--config",
            str(path),
            "--discover",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "unknown setting" not in done.stderr


def test_meltano_config_list_shows_what_each_source_requires(meltano: Meltano) -> None:
    """Without ``--all``, Meltano lists only the settings of the plugin's settings groups: each
    source's extractor names that source's credentials (the README says so)."""
    for name, source in all_sources().items():
        done = subprocess.run(
            [str(meltano.executable), "config", "list", f"tap-generic-rest--{name}"],
            cwd=ROOT,
            env=meltano.env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )
        required = sorted(["source", "base_url", *source.auth.settings])
        assert f"Required settings: {', '.join(required)}" in done.stdout, done.stdout[-2000:]
        hidden = re.search(r"Optional settings with default values: (\d+) hidden", done.stdout)
        assert hidden, done.stdout[-2000:]
        listed = int(hidden[1]) + len(required)
        assert listed == len(plugins("extractors")["tap-generic-rest"]["settings"])


# --- incremental runs with Meltano's own state ----------------------------------------------

#: Per source: the incremental streams, their primary key, replication key and edited field.
INCREMENTAL = {
    "oncall": {
        "alerts": ("id", "updatedAt", "message"),
        "incidents": ("id", "updatedAt", "message"),
    },
    "chat": {
        "rooms": ("_id", "_updatedAt", "topic"),
        "subscriptions": ("_id", "_updatedAt", "fname"),
    },
}


def table_rows(pg: Any, schema: str, table: str) -> list[dict[str, Any]]:
    """Every row of a table, as JSON objects (column names exactly as loaded)."""
    rows = pg.execute(
        f"SELECT to_jsonb(whole_row)::text FROM {quote(schema)}.{quote(table)} AS whole_row"
    )
    return [json.loads(row) for (row,) in rows.fetchall()]


def assert_postgres_holds_the_sandbox(pg: Any, schema: str, source: str, sandbox: Any) -> None:
    """Live rows are exactly the sandbox's records; rows of deleted records are marked."""
    from tap_generic_rest.stream.replication import to_moment

    for stream, (pk, key, edited) in INCREMENTAL[source].items():
        rows = table_rows(pg, schema, stream)
        live = {r[pk]: r for r in rows if r.get("_sdc_deleted_at") is None}
        records = {r[pk]: r for r in sandbox.records(source, stream)}
        assert sorted(live) == sorted(records), stream
        for ident, record in records.items():
            assert to_moment(live[ident][key]) == to_moment(record[key]), (stream, ident)
            assert live[ident][edited] == record[edited], (stream, ident)
    counts = row_counts(pg, schema)
    for stream, count in sandbox.counts()[source].items():
        if stream not in INCREMENTAL[source]:
            assert counts[stream] == count, stream


@pytest.mark.parametrize("source", sorted(INCREMENTAL))
def test_meltano_incremental_second_run_reads_only_the_changes(
    source: str, pg: Any, meltano: Meltano, load_schema: Any
) -> None:
    from sandbox import Sandbox

    sizes = {"oncall.alerts": 1000, "oncall.incidents": 1000, "chat.rooms": 40}
    with Sandbox(seed=23, default_size=30, sizes=sizes) as sandbox:
        schema = load_schema(f"incremental_{source}")
        config = sandbox.tap_config(source, page_size=50)
        meltano_run(meltano, source, schema, config, run_id=schema)
        first = sum(1 for r in sandbox.requests if r.source == source)
        assert_postgres_holds_the_sandbox(pg, schema, source, sandbox)

        deleted: dict[str, list[Any]] = {}
        for stream, (pk, _, _) in INCREMENTAL[source].items():
            # Only chat's API tells about deletions; oncall's records are updated and added.
            delete = [7, 8] if source == "chat" else []
            change = sandbox.mutate(
                stream=stream, source=source, update=[0, 5, 9], insert=3, delete=delete
            )
            deleted[stream] = [r[pk] for r in change["deleted"]]
        sandbox.clear_requests()
        meltano_run(meltano, source, schema, config, run_id=schema)
        second = [r for r in sandbox.requests if r.source == source]
        print(f"{source}: first run {first} requests, second run {len(second)} requests")

        assert_postgres_holds_the_sandbox(pg, schema, source, sandbox)
        for stream, (pk, _, _) in INCREMENTAL[source].items():
            marked = {
                r[pk]
                for r in table_rows(pg, schema, stream)
                if r.get("_sdc_deleted_at") is not None
            }
            assert marked == set(deleted[stream]), stream
        # The second run asked only for changes: Meltano handed the tap the first run's state.
        filters = [r.query for r in second if "query" in r.query or "updatedSince" in r.query]
        assert len(filters) == len(INCREMENTAL[source]), filters
        if source == "oncall":
            assert len(second) * 5 < first


# --- a spec: the sixth API, described only by examples/specs/projects.yaml -----------------
#
# ``tap-generic-rest--projects`` sets nothing but ``spec``; the sandbox serves the projects API.
# A second run resumes from the bookmark of the incremental ``projects`` resource: it asks only
# for projects updated since, and the upserts leave the tables as they were.


def test_the_projects_extractor_is_a_spec_and_nothing_else():
    extractors = {p["name"]: p for p in meltano_project()["plugins"]["extractors"]}
    plugin = extractors["tap-generic-rest--projects"]
    assert plugin["inherit_from"] == "tap-generic-rest"
    assert plugin["config"] == {"spec": "examples/specs/projects.yaml"}


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
    meltano_run(meltano, "projects", schema, config, schema, spec=True)
    assert row_counts(pg, schema) == expected
    for table in expected:
        assert primary_key_columns(pg, schema, table) == ["id"], table
    # Child rows carry their parent's id and name (include_from_parent).
    loaded = dict(pg.execute(f"SELECT id, _projects_id FROM {quote(schema)}.tasks").fetchall())
    assert loaded == {task["id"]: task["project_id"] for task in tasks}
    names = pg.execute(f"SELECT DISTINCT _projects_name FROM {quote(schema)}.tasks").fetchall()
    assert {name for (name,) in names} == {p["name"] for p in projects if api.tasks(p["id"])}
    first = [r for r in e2e_sandbox.requests if r.path.endswith("/projects")]
    assert first[0].query["updated_since"] == ["2023-01-01T00:00:00Z"]  # the initial_value

    first_tasks = [r for r in e2e_sandbox.requests if r.path.endswith("/tasks")]

    e2e_sandbox.clear_requests()
    meltano_run(meltano, "projects", schema, config, schema, spec=True)
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
