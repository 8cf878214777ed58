"""Pipeline benchmark: ``meltano run tap-generic-rest--helpdesk target-postgres``, per setting.

The headline job moves helpdesk contacts (about 1,900 bytes each: nested objects,
date-times) into PostgreSQL. The tap alone writes them many times faster than
target-postgres loads them, so the target's settings set the pipeline's pace. This script
starts the sandbox in its own process (pages pre-rendered) with ``--records`` contacts,
installs Meltano and the plugins if needed (``scripts/_plugins.py``), then runs the pipeline
once per configuration, each into a fresh schema of PostgreSQL (``--dsn``; rows counted and
checked, then the schema dropped), with Meltano's system database (state, runs) in a
temporary folder, never the project's. Only the ``contacts`` stream is selected.

Each configuration is ``meltano.yml``'s target-postgres config with a few settings changed
through the environment. It prints, per configuration, the wall time of ``meltano run``,
records/s and the ratio to the first one, then the tap alone (``meltano invoke`` into
/dev/null) for scale. The machine may be shared: compare the ratios of one run.

    python scripts/bench_pipeline.py                       # 200,000 contacts, every config
    python scripts/bench_pipeline.py --records 100000 --configs meltano.yml,validate-records
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script
    sys.path.insert(0, str(ROOT))

from scripts._plugins import ensure_plugins, meltano_env  # noqa: E402
from scripts.bench_throughput import SandboxProcess  # noqa: E402

PLUGIN = "tap-generic-rest--helpdesk"
STREAM = "contacts"
PAGE_SIZE = 100  # the source's own
#: target-postgres settings over meltano.yml's, per configuration; ratios are to the first.
CONFIGS: dict[str, dict[str, Any]] = {
    "target-defaults": {  # the target's own, for every setting meltano.yml sets
        "use_copy": False,
        "load_method": "append-only",
        "validate_records": True,
        "batch_size_rows": 10_000,
    },
    "meltano.yml": {},
    "validate-records": {"validate_records": True},
    "insert-not-copy": {"use_copy": False},
    "batch-10000": {"batch_size_rows": 10_000},
    "batch-100000": {"batch_size_rows": 100_000},
    "append-only": {"load_method": "append-only"},
    "no-record-metadata": {"add_record_metadata": False, "activate_version": False},
    "hard-delete": {"hard_delete": True},
}


def psql(dsn: str, sql: str) -> str:
    """One statement through psql (PostgreSQL's own client), its output as text."""
    done = subprocess.run(
        ["psql", dsn, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return done.stdout.strip()


def target_env(dsn: str, schema: str, settings: dict[str, Any]) -> dict[str, str]:
    """target-postgres settings as Meltano reads them from the environment."""
    from psycopg.conninfo import conninfo_to_dict

    params = conninfo_to_dict(dsn)
    env = {
        "TARGET_POSTGRES_HOST": str(params.get("host", "127.0.0.1")),
        "TARGET_POSTGRES_PORT": str(params.get("port", 5432)),
        "TARGET_POSTGRES_USER": str(params.get("user", "postgres")),
        "TARGET_POSTGRES_PASSWORD": str(params.get("password", "")),
        "TARGET_POSTGRES_DATABASE": str(params.get("dbname", "test")),
        "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": schema,
    }
    for name, value in settings.items():
        text = value if isinstance(value, str) else json.dumps(value)
        env[f"TARGET_POSTGRES_{name.upper()}"] = text
    return env


def tap_env(sandbox: SandboxProcess) -> dict[str, str]:
    """The helpdesk extractor's settings and selection, from the sandbox's manifest."""
    prefix = PLUGIN.upper().replace("-", "_") + "_"
    config = sandbox.tap_config("helpdesk")
    env = {prefix + k.upper(): str(v) for k, v in config.items() if k != "source"}
    env[prefix + "_SELECT"] = json.dumps([f"{STREAM}.*"])
    return env


def run(command: list[str], env: dict[str, str], log: Path) -> float:
    """Run a Meltano command from the project folder; its wall seconds (fails loudly)."""
    started = time.monotonic()
    with log.open("w") as out:
        done = subprocess.run(
            command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            check=False,
        )
    seconds = time.monotonic() - started
    if done.returncode != 0:
        print(log.read_text()[-3000:], file=sys.stderr)
        sys.exit(f"meltano {command[1]} failed ({done.returncode})")
    return seconds


def loaded_rows(dsn: str, schema: str) -> int:
    """Rows of the loaded table; the schema is dropped whatever happens."""
    try:
        return int(psql(dsn, f'SELECT count(*) FROM "{schema}"."{STREAM}"'))
    finally:
        psql(dsn, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def without_meltano(
    meltano: str, env: dict[str, str], sandbox: SandboxProcess, workdir: Path
) -> float:
    """``tap-generic-rest | target-postgres``, the plugins Meltano installed, the same configs."""
    printed = subprocess.run(
        [meltano, "config", "print", "target-postgres", "--format", "json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    target = json.loads(printed[printed.index("{") :])
    target["password"] = env["TARGET_POSTGRES_PASSWORD"]  # printed masked
    bins = ROOT / ".meltano"
    tap_bin = bins / "extractors" / "tap-generic-rest" / "venv" / "bin" / "tap-generic-rest"
    target_bin = bins / "loaders" / "target-postgres" / "venv" / "bin" / "target-postgres"
    (workdir / "tap.json").write_text(json.dumps(sandbox.tap_config("helpdesk")))
    (workdir / "target.json").write_text(json.dumps(target))
    discovered = subprocess.run(
        [str(tap_bin), "--config", str(workdir / "tap.json"), "--discover"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    catalog = json.loads(discovered)
    for entry in catalog["streams"]:
        for meta in entry["metadata"]:
            if meta["breadcrumb"] == []:
                meta["metadata"]["selected"] = entry["tap_stream_id"] == STREAM
    (workdir / "catalog.json").write_text(json.dumps(catalog))
    started = time.monotonic()
    with (workdir / "pipe.log").open("w") as log:
        tap = subprocess.Popen(
            [
                str(tap_bin),
                "--config",
                str(workdir / "tap.json"),
                "--catalog",
                str(workdir / "catalog.json"),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=log,
        )
        done = subprocess.run(
            [str(target_bin), "--config", str(workdir / "target.json")],
            cwd=ROOT,
            stdin=tap.stdout,
            stdout=subprocess.DEVNULL,
            stderr=log,
            check=False,
        )
        assert tap.stdout is not None
        tap.stdout.close()
        if tap.wait() != 0 or done.returncode != 0:
            sys.exit(f"tap | target failed; see {workdir / 'pipe.log'}")
    return time.monotonic() - started


def tap_alone(meltano: str, env: dict[str, str], workdir: Path) -> float:
    """``meltano invoke`` of the extractor into /dev/null: the tap's pace under Meltano."""
    started = time.monotonic()
    with (workdir / "tap.log").open("w") as log:
        subprocess.run(
            [meltano, "invoke", PLUGIN],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log,
            check=True,
        )
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000, help="contacts served")
    parser.add_argument("--configs", help=f"comma list from: {', '.join(CONFIGS)}")
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    names = args.configs.split(",") if args.configs else list(CONFIGS)
    if unknown := [name for name in names if name not in CONFIGS]:
        parser.error(f"unknown configuration(s): {', '.join(unknown)}")

    meltano = str(ensure_plugins())
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as folder:
        workdir = Path(folder)
        system_db = workdir / "meltano.db"
        sizes = {f"helpdesk.{STREAM}": args.records}
        print(f"sandbox: {args.records:,} helpdesk contacts, pages of {PAGE_SIZE} pre-rendered")
        with SandboxProcess(sizes, PAGE_SIZE, workdir) as sandbox:
            tap = tap_env(sandbox)
            timings: dict[str, float] = {}

            def show(name: str, seconds: float, note: str = "") -> None:
                timings.setdefault(name, seconds)
                ratio = next(iter(timings.values())) / seconds
                per_second = args.records / seconds
                print(
                    f"{name:<22} {seconds:7.1f} s {per_second:9,.0f} records/s  {ratio:5.2f}x{note}"
                )

            for name in names:
                schema = f"bench_{uuid.uuid4().hex[:10]}"
                env = meltano_env(
                    {**tap, **target_env(args.dsn, schema, CONFIGS[name])}, system_db=system_db
                )
                command = [meltano, "run", "--state-id-suffix", schema, PLUGIN, "target-postgres"]
                seconds = run(command, env, workdir / f"{schema}.log")
                if (rows := loaded_rows(args.dsn, schema)) != args.records:
                    sys.exit(f"{name}: {rows:,} rows loaded, {args.records:,} served")
                show(name, seconds)
            schema = f"bench_{uuid.uuid4().hex[:10]}"
            env = meltano_env({**tap, **target_env(args.dsn, schema, {})}, system_db=system_db)
            seconds = without_meltano(meltano, env, sandbox, workdir)
            if (rows := loaded_rows(args.dsn, schema)) != args.records:
                sys.exit(f"tap | target: {rows:,} rows loaded, {args.records:,} served")
            show("meltano.yml, no Meltano", seconds, "  (tap | target-postgres, same settings)")
            seconds = tap_alone(meltano, meltano_env(tap, system_db=system_db), workdir)
            show("tap alone", seconds, f"  (meltano invoke {PLUGIN} > /dev/null)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
