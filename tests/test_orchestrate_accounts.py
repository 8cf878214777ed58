"""The accounts file and the definitions made of it (issue 25), without running Meltano."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

dg = pytest.importorskip("dagster")

from tap_generic_rest.orchestrate import load_definitions  # noqa: E402
from tap_generic_rest.orchestrate.accounts import (  # noqa: E402
    ACCOUNTS_ENV,
    AccountsError,
    load_accounts,
)
from tap_generic_rest.orchestrate.definitions import POOL_TAG, build_definitions  # noqa: E402
from tap_generic_rest.orchestrate.partition_run import Window, plan, run  # noqa: E402
from tap_generic_rest.orchestrate.run_report import RunReport  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def accounts_data(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "project": str(ROOT),
        "target": {"plugin": "target-postgres", "config": {"password": "${PG_PASSWORD}"}},
        "state_backend": "file:///tmp/state",
        "accounts": [
            {
                "name": "acme",
                "source": "oncall",
                "config": {"base_url": "https://acme.example", "api_token": "${ACME_TOKEN}"},
            },
            {
                "name": "globex-eu",
                "source": "oncall",
                "config": {"base_url": "https://${GLOBEX_HOST}/", "api_token": "${GLOBEX_TOKEN}"},
            },
            {"name": "acme", "source": "chat", "config": {"api_token": "${CHAT_TOKEN}"}},
            {"name": "acme", "spec": str(ROOT / "examples/specs/projects.yaml")},
        ],
    }
    data.update(changes)
    return data


def write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "accounts.yml"
    path.write_text(json.dumps(data))
    return path


def refused(tmp_path: Path, data: dict[str, Any]) -> str:
    with pytest.raises(AccountsError) as caught:
        load_accounts(write(tmp_path, data))
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(str(tmp_path / "accounts.yml"))
    return message


def with_account(index: int, **changes: Any) -> dict[str, Any]:
    data = accounts_data()
    data["accounts"][index] = {**data["accounts"][index], **changes}
    return data


def test_one_asset_per_source_or_spec_partitioned_by_account(tmp_path: Path) -> None:
    accounts = load_accounts(write(tmp_path, accounts_data()))
    assert {a: [m.name for m in ms] for a, ms in accounts.assets().items()} == {
        "oncall": ["acme", "globex-eu"],
        "chat": ["acme"],
        "projects": ["acme"],
    }
    defs = build_definitions(accounts)
    dg.Definitions.validate_loadable(defs)
    oncall = defs.resolve_assets_def("oncall")
    assert oncall.partitions_def.get_partition_keys() == ["acme", "globex-eu"]
    backfill = defs.resolve_job_def("oncall_backfill")
    assert backfill.executor_def.name == "multiprocess"
    dimensions = {d.name: d.partitions_def for d in backfill.partitions_def.partitions_defs}
    assert dimensions["account"].get_partition_keys() == ["acme", "globex-eu"]
    assert isinstance(dimensions["day"], dg.DailyPartitionsDefinition)
    # One pool per vendor, for the live asset and the backfill's days alike.
    (op,) = backfill.graph.node_defs
    assert oncall.op.pool == op.pool == "vendor-oncall"
    assert backfill.tags[POOL_TAG] == defs.resolve_job_def("oncall_job").tags[POOL_TAG]


def test_pools_are_configurable_per_asset(tmp_path: Path) -> None:
    defs = build_definitions(
        load_accounts(write(tmp_path, accounts_data(pools={"oncall": "opsgenie"})))
    )
    assert defs.resolve_assets_def("oncall").op.pool == "opsgenie"
    assert defs.resolve_assets_def("chat").op.pool == "vendor-chat"


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (
            with_account(0, config={"api_token": "sk-live-1234"}),
            "accounts[0] (acme): config.api_token: a credential is never written",
        ),
        (
            accounts_data(target={"plugin": "target-postgres", "config": {"password": "hunter2"}}),
            "target.config.password: a credential",
        ),
        (
            accounts_data(state_backend="postgresql://meltano:hunter2@db/state"),
            "state_backend: the URI holds a password",
        ),
        (with_account(1, name="Globex EU"), "accounts[1]: name: lower-case letters"),
        (with_account(0, source="pagerduty"), "source: 'pagerduty' is not one of"),
        (
            with_account(0, spec="nowhere.yaml"),
            "accounts[0] (acme): set exactly one of source and spec",
        ),
        (with_account(3, spec="nowhere.yaml"), "spec: no file"),
        (with_account(1, name="acme"), "account 'acme' of 'oncall' twice"),
        (
            with_account(2, asset="oncall"),
            "asset 'oncall' reads source oncall for 'acme' but source chat",
        ),
        (with_account(0, schedule="daily"), "accounts[0] (acme): unknown key 'schedule'"),
        (with_account(0, config={"source": "chat"}), "config.source: write source beside config"),
        (accounts_data(project="/nonexistent"), "project: no meltano.yml in /nonexistent"),
        (accounts_data(accounts=[]), "accounts: a list of at least one account"),
        (accounts_data(pools={"jira": "x"}), "pools.jira"),
        (accounts_data(backfill_start="June"), "backfill_start: a date"),
        (accounts_data(environment=""), "environment: a non-empty string"),
        (accounts_data(state_backend="systemdb"), "state_backend: systemdb is one machine's"),
    ],
)
def test_a_bad_accounts_file_is_refused_in_one_line(
    tmp_path: Path, data: dict[str, Any], says: str
) -> None:
    assert says in refused(tmp_path, data)


def test_references_to_credentials_are_accepted(tmp_path: Path) -> None:
    for backend in ("${STATE_URI}", "postgresql://meltano:${PG_STATE_PASSWORD}@db/state"):
        load_accounts(write(tmp_path, accounts_data(state_backend=backend)))
    empty = {"plugin": "target-postgres", "config": {"password": ""}}  # trust authentication
    load_accounts(write(tmp_path, accounts_data(target=empty)))


def test_unreadable_files_and_a_missing_variable(tmp_path: Path) -> None:
    with pytest.raises(AccountsError, match=f"^{ACCOUNTS_ENV} is not set"):
        load_accounts(env={})
    with pytest.raises(AccountsError, match="cannot read the accounts file"):
        load_accounts(tmp_path / "missing.yml")
    (tmp_path / "bad.yml").write_text("accounts: [\n")
    with pytest.raises(AccountsError, match="not valid YAML at line"):
        load_accounts(tmp_path / "bad.yml")


ENV = {
    "ACME_TOKEN": "tok-acme-93ab",
    "GLOBEX_TOKEN": "tok-globex-5521",
    "GLOBEX_HOST": "globex.example",
    "CHAT_TOKEN": "tok-chat",
    "PG_PASSWORD": "pw-81c2",
    "PATH": "/usr/bin",
    # Inherited settings of the plugins never reach a partition's run.
    "TAP_GENERIC_REST_API_KEY": "inherited",
    "TARGET_POSTGRES_HOST": "inherited",
}


def test_a_partition_runs_meltano_with_its_own_settings_and_state_id(tmp_path: Path) -> None:
    accounts = load_accounts(write(tmp_path, accounts_data(meltano="/opt/meltano/bin/meltano")))
    invocation = plan(accounts, accounts.account("oncall", "globex-eu"), environ=ENV)
    assert invocation.command == [
        "/opt/meltano/bin/meltano",
        "--log-format=json",
        "--environment=dev",
        "run",
        "--state-id-suffix",
        "oncall.globex-eu",
        "tap-generic-rest",
        "target-postgres",
    ]
    assert invocation.state_id == "dev:tap-generic-rest-to-target-postgres:oncall.globex-eu"
    env = invocation.env
    assert env["TAP_GENERIC_REST_SOURCE"] == "oncall"
    assert env["TAP_GENERIC_REST_BASE_URL"] == "https://globex.example/"
    assert env["TAP_GENERIC_REST_API_TOKEN"] == "tok-globex-5521"
    assert env["TAP_GENERIC_REST__LOAD_SCHEMA"] == "oncall_globex_eu"
    assert env["TARGET_POSTGRES_PASSWORD"] == "pw-81c2"
    assert "TAP_GENERIC_REST_API_KEY" not in env
    assert "TARGET_POSTGRES_HOST" not in env
    assert env["MELTANO_STATE_BACKEND_URI"] == "file:///tmp/state"
    assert env["MELTANO_PROJECT_ROOT"] == str(ROOT)
    assert set(invocation.secrets) == {"tok-globex-5521", "pw-81c2"}


def test_a_day_of_a_backfill_is_a_window_with_its_own_state_id(tmp_path: Path) -> None:
    from datetime import date

    accounts = load_accounts(write(tmp_path, accounts_data()))
    invocation = plan(
        accounts, accounts.account("oncall", "acme"), Window(date(2025, 6, 1)), environ=ENV
    )
    assert invocation.state_id.endswith(":oncall.acme.2025-06-01")
    assert invocation.env["TAP_GENERIC_REST_START_DATE"] == "2025-06-01T00:00:00Z"
    assert invocation.env["TAP_GENERIC_REST_END_DATE"] == "2025-06-02T00:00:00Z"
    assert json.loads(invocation.env["TAP_GENERIC_REST__SELECT_FILTER"]) == ["alerts", "incidents"]


def test_a_missing_environment_variable_names_it_and_the_account(tmp_path: Path) -> None:
    accounts = load_accounts(write(tmp_path, accounts_data()))
    with pytest.raises(AccountsError) as caught:
        plan(accounts, accounts.account("oncall", "acme"), environ={"PG_PASSWORD": ""})
    assert str(caught.value).endswith(
        "account 'acme' of 'oncall': config.api_token: environment variable ACME_TOKEN is not set"
    )


def test_a_postgresql_state_backend_is_meltanos_system_database(tmp_path: Path) -> None:
    data = accounts_data(state_backend="postgresql://meltano:${PG_PASSWORD}@db:5432/state")
    accounts = load_accounts(write(tmp_path, data))
    env = plan(accounts, accounts.account("chat", "acme"), environ=ENV).env
    assert env["MELTANO_DATABASE_URI"] == "postgresql+psycopg://meltano:pw-81c2@db:5432/state"
    assert env["MELTANO_STATE_BACKEND_URI"] == "systemdb"


def meltano_line(event: str, level: str = "info", **extra: Any) -> str:
    """One line of ``meltano --log-format=json run`` as it relays the tap's stderr."""
    record = {"string_id": "tap-generic-rest", "producer": True, "event": event, "level": level}
    return json.dumps({**record, **extra}) + "\n"


def test_the_run_report_reads_the_taps_summary_warnings_and_error() -> None:
    report = RunReport("tap-generic-rest")
    lines = [
        meltano_line(
            "summary: stream 'alerts': 1,500 records, 75 pages, 77 requests, 2 retries, 0.25 s"
        ),
        meltano_line("summary: stream 'users': 1 record, 1 page, 1 request, 0 retries, 0.01 s"),
        meltano_line(
            "summary: total: 1,501 records, 76 pages, 78 requests, 2 retries, 2 streams, 0.3 s"
        ),
        meltano_line(
            "stream 'alerts': field 'x' is declared object but the server sent boolean; ...",
            "warning",
        ),
        json.dumps({"event": "Extractor failed", "level": "error"}) + "\n",
        "not json\n",
    ]
    shown = [report.read(line) for line in lines]
    assert shown[-1] == "not json"
    assert report.streams["alerts"].records == 1500
    assert report.streams["alerts"].retries == 2
    assert report.total("records") == 1501
    assert report.total("requests") == 78
    assert report.warnings == [
        "stream 'alerts': field 'x' is declared object but the server sent boolean; ..."
    ]
    assert report.failure(1) == "meltano run failed: Extractor failed"
    report.read(meltano_line("tap-generic-rest: error: stream 'alerts': 401", "error"))
    assert report.failure(1) == "tap-generic-rest: error: stream 'alerts': 401"


def test_dagster_loads_the_module_from_the_environment_variable(tmp_path: Path) -> None:
    path = write(tmp_path, accounts_data())
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("dagster")),
            "definitions",
            "validate",
            "-m",
            "tap_generic_rest.orchestrate",
        ],
        env={
            "PATH": "/usr/bin:/bin",
            ACCOUNTS_ENV: str(path),
            "DAGSTER_HOME": str(tmp_path),
            "NO_COLOR": "1",
        },
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=tmp_path,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert "Validation successful for code location tap_generic_rest.orchestrate" in output


def test_defs_is_built_on_first_access(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tap_generic_rest.orchestrate as orchestrate

    monkeypatch.setenv(ACCOUNTS_ENV, str(write(tmp_path, accounts_data())))
    load_definitions.cache_clear()
    try:
        assert "defs" in dir(orchestrate)
        assert isinstance(orchestrate.defs, dg.Definitions)
    finally:
        load_definitions.cache_clear()


# --- a stand-in for Meltano: the pool, retries and failure lines without a real run --------

FAKE_MELTANO = """#!{python}
import json, os, sys, time
suffix = sys.argv[sys.argv.index("--state-id-suffix") + 1]
with open(os.environ["FAKE_MELTANO_LOG"], "a") as log:
    log.write(f"start {{suffix}} {{time.time()}}\\n")
def line(event, level="info", tap=True):
    record = {{"event": event, "level": level}}
    if tap:
        record.update(string_id="tap-generic-rest", producer=True)
    print(json.dumps(record), flush=True)
line("summary: stream 'alerts': 3 records, 1 page, 2 requests, 1 retry, 0.10 s")
line("stream 'alerts': fields not in x.json are passed through undeclared: extra", "warning")
time.sleep(float(os.environ.get("FAKE_MELTANO_SECONDS", "0")))
with open(os.environ["FAKE_MELTANO_LOG"], "a") as log:
    log.write(f"stop {{suffix}} {{time.time()}}\\n")
code = int(os.environ.get("FAKE_MELTANO_EXIT", "0"))
if code:
    line("Block run completed", "error", tap=False)
sys.exit(code)
"""


@pytest.fixture
def fake_meltano(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    script = tmp_path / "meltano"
    script.write_text(FAKE_MELTANO.format(python=sys.executable))
    script.chmod(0o755)
    monkeypatch.setenv("FAKE_MELTANO_LOG", str(tmp_path / "runs.log"))
    for name, value in ENV.items():
        if name != "PATH" and not name.startswith(("TAP_", "TARGET_")):
            monkeypatch.setenv(name, value)
    path = write(tmp_path, accounts_data(meltano=str(script)))
    monkeypatch.setenv(ACCOUNTS_ENV, str(path))
    load_definitions.cache_clear()
    yield tmp_path / "runs.log"
    load_definitions.cache_clear()


def materialize_oncall(partition: str) -> Any:
    defs = load_definitions()
    with dg.DagsterInstance.ephemeral() as instance:
        return dg.materialize(
            [defs.resolve_assets_def("oncall")],
            partition_key=partition,
            instance=instance,
            raise_on_error=False,
        )


def test_metadata_and_failures_come_from_the_runs_lines(
    fake_meltano: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = materialize_oncall("acme")
    assert result.success
    (shown,) = result.asset_materializations_for_node("oncall")
    values = {key: value.value for key, value in shown.metadata.items()}
    assert values["records"] == 3
    assert values["retries"] == 1
    assert values["records_by_stream"] == {"alerts": 3}
    assert "passed through undeclared" in values["warnings"]
    assert values["state_id"] == "dev:tap-generic-rest-to-target-postgres:oncall.acme"

    monkeypatch.setenv("FAKE_MELTANO_EXIT", "1")
    failed = materialize_oncall("acme")
    (failure,) = [e for e in failed.all_events if e.event_type_value == "STEP_FAILURE"]
    # No line of the tap's: Meltano's last error line says what failed.
    assert failure.event_specific_data.user_failure_data.description == (
        "meltano run failed: Block run completed"
    )

    monkeypatch.delenv("ACME_TOKEN")
    failed = materialize_oncall("acme")
    (failure,) = [e for e in failed.all_events if e.event_type_value == "STEP_FAILURE"]
    assert failure.event_specific_data.user_failure_data.description.endswith(
        "account 'acme' of 'oncall': config.api_token: environment variable ACME_TOKEN is not set"
    )


def live_job() -> Any:
    return load_definitions().resolve_job_def("oncall_job")


def test_runs_of_one_vendor_wait_for_its_pool(fake_meltano: Path, tmp_path: Path) -> None:
    """A limit of 1 on the pool: two accounts' runs started together run one after the other."""
    import threading

    home = tmp_path / "dagster_home"
    home.mkdir()
    with dg.DagsterInstance.local_temp(str(home)) as instance:
        instance.event_log_storage.set_concurrency_slots("vendor-oncall", 1)
        results: list[Any] = []

        def run(partition: str) -> None:
            results.append(
                dg.execute_job(
                    dg.reconstructable(live_job),
                    instance=instance,
                    tags={"dagster/partition": partition},
                    raise_on_error=False,
                )
            )

        threads = [threading.Thread(target=run, args=(p,)) for p in ("acme", "globex-eu")]
        os.environ["FAKE_MELTANO_SECONDS"] = "2"
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=300)
        finally:
            del os.environ["FAKE_MELTANO_SECONDS"]
    assert [r.success for r in results] == [True, True]
    times = {}
    for line in fake_meltano.read_text().splitlines():
        what, suffix, moment = line.split()
        times[what, suffix] = float(moment)
    first, second = sorted(("oncall.acme", "oncall.globex-eu"), key=lambda s: times["start", s])
    assert times["start", second] >= times["stop", first]


# --- settings a spec reads through dlt.secrets are credentials --------------------------------

SECRET_SPEC = """
client:
  base_url: https://api.github.example/
  auth: {type: bearer, token: 'dlt.secrets["github_pat"]'}
  headers: {X-Tenant: dlt.secrets.value, X-Region: 'dlt.config["region"]'}
resources: [issues]
"""


def spec_account(tmp_path: Path, **config: Any) -> dict[str, Any]:
    """The accounts file with one account of a spec that reads two secrets and one setting."""
    spec = tmp_path / "github.yaml"
    spec.write_text(SECRET_SPEC)
    account = {"name": "acme", "spec": str(spec), "config": config}
    return accounts_data(accounts=[account])


@pytest.mark.parametrize("setting", ["github_pat", "X-Tenant"])
def test_a_setting_the_spec_reads_through_dlt_secrets_is_never_written_literally(
    tmp_path: Path, setting: str
) -> None:
    config = {"github_pat": "${GITHUB_PAT}", "X-Tenant": "${TENANT}", "region": "eu"}
    load_accounts(write(tmp_path, spec_account(tmp_path, **config)))  # references: accepted
    config[setting] = "ghp-literal-4b1d9c"
    says = refused(tmp_path, spec_account(tmp_path, **config))
    assert f"accounts[0] (acme): config.{setting}: a credential is never written" in says


def test_a_vendor_profiles_dlt_secrets_are_credentials_too(tmp_path: Path) -> None:
    """jira's spec reads client_id through dlt.secrets: not in the tap's own secret settings."""
    config = {"base_url": "https://acme.atlassian.example", "client_id": "${JIRA_CLIENT_ID}"}
    jira = {"name": "acme", "source": "jira", "config": config}
    accounts = load_accounts(write(tmp_path, accounts_data(accounts=[jira])))
    assert accounts.account("jira", "acme").origin == "source jira"  # a profile is a source
    jira["config"] = {**config, "client_id": "client-literal-77"}
    says = refused(tmp_path, accounts_data(accounts=[jira]))
    assert "config.client_id: a credential is never written" in says


def test_values_of_a_specs_secrets_are_masked_in_meltanos_lines(tmp_path: Path) -> None:
    config = {"github_pat": "${GITHUB_PAT}", "X-Tenant": "${TENANT}", "region": "eu"}
    config["db_password"] = "${DB_PASSWORD}"  # a credential by its name, whatever reads it
    accounts = load_accounts(write(tmp_path, spec_account(tmp_path, **config)))
    environ = {
        **ENV,
        "GITHUB_PAT": "ghp-9f3e1a77c2",
        "TENANT": "tenant-5e0c41",
        "DB_PASSWORD": "pw-d00b3f",
    }
    invocation = plan(accounts, accounts.account("github", "acme"), environ=environ)
    assert invocation.env["TAP_GENERIC_REST_GITHUB_PAT"] == "ghp-9f3e1a77c2"
    secrets = {"ghp-9f3e1a77c2", "tenant-5e0c41", "pw-d00b3f", "pw-81c2"}
    assert set(invocation.secrets) == secrets
    # Meltano's own lines (not the tap's, which masks itself) carry the values as it read them.
    names = ["TAP_GENERIC_REST_GITHUB_PAT", "TAP_GENERIC_REST_X-TENANT"]
    names += ["TAP_GENERIC_REST_DB_PASSWORD", "TAP_GENERIC_REST_REGION"]
    script = (
        "import json, os\n"
        f"for name in {names!r}:\n"
        "    print(json.dumps({'event': f'{name}={os.environ[name]}', 'level': 'debug'}))\n"
    )
    echoing = dataclasses.replace(invocation, command=[sys.executable, "-c", script])
    lines: list[str] = []
    outcome = run(echoing, accounts.extractor, lines.append)
    assert outcome.ok
    logged = "\n".join(lines)
    assert "TAP_GENERIC_REST_REGION=eu" in logged  # a dlt.config setting is no secret
    assert len(lines) == len(names)
    for secret in secrets - {"pw-81c2"}:
        assert secret not in logged
