"""One partition under Meltano: ``meltano run <tap> <target>`` for one account (and one day).

Every setting reaches Meltano as an environment variable of the plugin it belongs to
(``TAP_GENERIC_REST_BASE_URL``, ``TARGET_POSTGRES_HOST``...), resolved from the accounts
file only now, so the secrets live in this process and the child only. Variables of those
plugins inherited from the worker's environment are dropped first: one account never picks
up another's settings. The state id is Meltano's own, ``<env>:<tap>-to-<target>:<suffix>``,
with the asset and account (and the day of a backfill) as the suffix, on the state backend
of the accounts file, so whichever worker runs a partition next resumes from its bookmark.
Each line of the run is masked, handed to ``log`` and read into a :class:`RunReport`.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from tap_generic_rest.errors import TapError
from tap_generic_rest.redact import Redactor
from tap_generic_rest.tap import TapGenericRest

from .accounts import AccountsError, resolve
from .run_report import RunReport

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

    from .accounts import Account, Accounts

#: Exit codes of a run stopped by a signal (SIGINT, SIGTERM): worth another try.
INTERRUPTED = (130, 143, -signal.SIGINT, -signal.SIGTERM)
#: Seconds a stopped run has to write its last state before it is killed.
STOP_GRACE = 30
#: What each run keeps of its own in ``.meltano`` (with its system database, ``meltano.db``).
OWN_ENTRIES = frozenset({"run", "logs"})


@dataclass(frozen=True)
class Window:
    """A backfill's day: records with ``start <= key < end``, under their own state id."""

    day: date

    @property
    def start(self) -> datetime:
        """Midnight UTC that opens the day."""
        return datetime.combine(self.day, time(), tzinfo=timezone.utc)

    @property
    def end(self) -> datetime:
        """Midnight UTC of the next day (excluded)."""
        return self.start + timedelta(days=1)


@dataclass(frozen=True)
class Invocation:
    """A ``meltano run`` ready to start: command, environment and what it is about."""

    command: list[str]
    env: dict[str, str]
    cwd: str
    state_id: str
    secrets: tuple[str, ...]


@dataclass(frozen=True)
class Outcome:
    """A finished run: its exit code and what its lines said."""

    invocation: Invocation
    returncode: int
    report: RunReport

    @property
    def ok(self) -> bool:
        """Whether Meltano and both plugins exited 0."""
        return self.returncode == 0

    @property
    def interrupted(self) -> bool:
        """Whether a signal stopped it (another try may well succeed)."""
        return self.returncode in INTERRUPTED


def plugin_env_prefix(plugin: str) -> str:
    """How Meltano names a plugin's settings in the environment: ``TARGET_POSTGRES_``."""
    return plugin.upper().replace("-", "_") + "_"


def env_value(value: Any) -> str:
    """A setting as Meltano reads it from the environment: text as is, the rest as JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def plan(
    accounts: Accounts,
    account: Account,
    window: Window | None = None,
    *,
    environ: Mapping[str, str] | None = None,
) -> Invocation:
    """The ``meltano run`` of one partition; a missing ``${NAME}`` is an :class:`AccountsError`."""
    environ = os.environ if environ is None else environ
    where = f"{accounts.path}: account {account.name!r} of {account.asset!r}"
    tap_config = resolve(dict(account.config), environ, f"{where}: config")
    target_config = resolve(dict(accounts.target_config), environ, f"{where}: target.config")
    state_backend = resolve(accounts.state_backend, environ, f"{where}: state_backend")
    select: dict[str, str] = {}
    if window is not None:
        tap_config["start_date"] = window.start.isoformat().replace("+00:00", "Z")
        tap_config["end_date"] = window.end.isoformat().replace("+00:00", "Z")
        streams = incremental_streams(tap_config, where)
        select = {plugin_env_prefix(accounts.extractor) + "_SELECT_FILTER": json.dumps(streams)}
    tap, target = plugin_env_prefix(accounts.extractor), plugin_env_prefix(accounts.target)
    env = {
        name: value
        for name, value in environ.items()
        if not name.startswith((tap, target)) and name != "VIRTUAL_ENV"
    }
    env.update(
        {
            "MELTANO_PROJECT_ROOT": str(accounts.project),
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            "NO_COLOR": "1",
            tap + "_LOAD_SCHEMA": account.load_schema,  # the extra: ``<TAP>__LOAD_SCHEMA``
            **{tap + k.upper(): env_value(v) for k, v in tap_config.items() if v is not None},
            **{target + k.upper(): env_value(v) for k, v in target_config.items() if v is not None},
            **state_backend_env(state_backend),
            **select,
        }
    )
    suffix = account.state_suffix(window.day.isoformat() if window else None)
    command = [accounts.meltano, "--log-format=json", f"--environment={accounts.environment}"]
    command += ["run", "--state-id-suffix", suffix, accounts.extractor, accounts.target]
    secrets = [str(v) for k, v in tap_config.items() if v and account.is_secret(k)]
    secrets += [str(v) for k, v in target_config.items() if v and accounts.is_target_secret(k)]
    return Invocation(
        command=command,
        env=env,
        cwd=str(accounts.project),
        state_id=f"{accounts.environment}:{accounts.extractor}-to-{accounts.target}:{suffix}",
        secrets=tuple(secrets + _uri_secrets(state_backend)),
    )


def incremental_streams(config: Mapping[str, Any], where: str) -> list[str]:
    """The streams a day window reads: the incremental ones (a full table has no days).

    Asked of the tap itself, so specs and built-in sources answer alike.
    """
    try:
        tap = TapGenericRest(config=dict(config), setup_mapper=False)
    except TapError as error:
        raise AccountsError(f"{where}: {error}") from None
    streams = sorted(name for name, stream in tap.streams.items() if stream.replication_key)
    if not streams:
        raise AccountsError(f"{where}: no incremental stream, so nothing to read day by day")
    return streams


def state_backend_env(uri: str) -> dict[str, str]:
    """Meltano's settings for a state backend URI.

    ``postgresql://`` is Meltano's system database on PostgreSQL (state in its ``state``
    table); any other scheme (``s3://``, ``gs://``, ``azure://``, ``file://``) is a
    state backend of its own.
    """
    scheme = uri.split("://", 1)[0].lower()
    if scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        return {
            "MELTANO_DATABASE_URI": "postgresql+psycopg://" + uri.split("://", 1)[1],
            "MELTANO_STATE_BACKEND_URI": "systemdb",
        }
    return {"MELTANO_STATE_BACKEND_URI": uri}


def run(invocation: Invocation, extractor: str, log: Callable[[str], None]) -> Outcome:
    """Run it to the end, each line masked and logged; a stop of this process stops it too."""
    redactor = Redactor()
    redactor.add(*invocation.secrets)
    report = RunReport(extractor=extractor)
    with (
        own_system_dir(Path(invocation.cwd)) as system_dir,
        subprocess.Popen(  # noqa: S603 - the command is ours, the executable is configured
            invocation.command,
            cwd=invocation.cwd,
            env={**invocation.env, "MELTANO_SYS_DIR_ROOT": str(system_dir)},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        ) as process,
    ):
        try:
            assert process.stdout is not None
            for line in process.stdout:
                log(report.read(redactor.redact(line)))
            returncode = process.wait()
        except BaseException:  # stopped (Dagster's termination): let the run write its state
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(STOP_GRACE)
            except subprocess.TimeoutExpired:
                process.kill()
            raise
    return Outcome(invocation, returncode, report)


@contextlib.contextmanager
def own_system_dir(project: Path) -> Iterator[Path]:
    """A ``.meltano`` folder of this run's own, holding the project's installed plugins.

    Meltano writes each plugin's config and catalog into ``.meltano/run/<plugin>/``: two runs
    of one plugin in one project at once would overwrite each other's. Here each run gets a
    fresh folder (its ``run/``, ``logs/`` and system database, removed afterwards) in which
    every other entry of the project's ``.meltano`` (the plugins' virtualenvs) is a link.
    """
    shared = project / ".meltano"
    with tempfile.TemporaryDirectory(prefix="tap-generic-rest-meltano-") as folder:
        own = Path(folder)
        if shared.is_dir():
            for entry in shared.iterdir():
                if entry.name not in OWN_ENTRIES and not entry.name.startswith("meltano.db"):
                    (own / entry.name).symlink_to(entry)
        yield own


def run_partition(
    accounts: Accounts,
    asset: str,
    name: str,
    window: Window | None = None,
    *,
    log: Callable[[str], None] = print,
) -> Outcome:
    """Plan and run one partition (``AccountsError`` when it cannot even start)."""
    account = accounts.account(asset, name)
    invocation = plan(accounts, account, window)
    try:
        return run(invocation, accounts.extractor, log)
    except FileNotFoundError:
        raise AccountsError(
            f"{accounts.path}: meltano: no executable {accounts.meltano!r} "
            "(install Meltano 4, or set meltano: to its path)"
        ) from None


def _uri_secrets(uri: str) -> list[str]:
    try:
        password = urlsplit(uri).password
    except ValueError:
        return []
    return [password] if password else []
