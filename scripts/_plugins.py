"""Install Meltano, the project's Meltano plugins and a plain Singer target, once.

Shared by ``scripts/demo.py`` and the end-to-end tests. Meltano lives in its own virtualenv
(its dependencies may clash with the tap's), under the ignored ``.cache/`` folder; the plugins
``meltano install`` builds live in the ignored ``.meltano/``. Each step is skipped when a stamp
file says it was already done for the same inputs, and runs under a file lock so that two
processes (the demo and a test run) never install into the same folder at once.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".cache"
MELTANO_VENV = CACHE / "meltano-venv"
MELTANO_SPEC = "meltano[postgres]==4.*"  # [postgres]: a state backend on PostgreSQL
#: singer-io style target (singer-python, not the Meltano SDK), piped to directly by a test.
SINGER_TARGET_VENV = CACHE / "target-jsonl-venv"
SINGER_TARGET_SPEC = "target-jsonl==0.1.4"
#: The executables ``meltano install`` must leave behind, relative to ``.meltano/``.
PLUGIN_EXECUTABLES = (
    "extractors/tap-generic-rest/venv/bin/tap-generic-rest",
    "loaders/target-postgres/venv/bin/target-postgres",
    "loaders/target-jsonl/venv/bin/target-jsonl",
)
#: Inputs of ``meltano install``: a change to any of them reinstalls the plugins.
PLUGIN_INPUTS = ("meltano.yml", "pyproject.toml")


def log(message: str) -> None:
    """Progress on stderr, so it never mixes with data on stdout."""
    print(message, file=sys.stderr, flush=True)


@contextlib.contextmanager
def install_lock() -> Iterator[None]:
    """Hold an exclusive lock on ``.cache/install.lock`` (blocks until it is free)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / "install.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run(command: Sequence[str | os.PathLike[str]], **kwargs: object) -> None:
    """Run an install command; on failure show its output (installs print no secrets)."""
    result = subprocess.run(  # noqa: PLW1510 - checked below, with the output shown
        [str(c) for c in command],
        capture_output=True,
        text=True,
        **kwargs,  # type: ignore[call-overload]
    )
    if result.returncode != 0:
        log(result.stdout[-4000:])
        log(result.stderr[-4000:])
        msg = f"command failed ({result.returncode}): {' '.join(map(str, command))}"
        raise RuntimeError(msg)


def _ensure_venv(venv: Path, spec: str, executable: str) -> Path:
    """A virtualenv at ``venv`` with ``spec`` installed; returns its ``executable``."""
    stamp = venv / ".installed"
    target = venv / "bin" / executable
    if stamp.is_file() and stamp.read_text() == spec and target.is_file():
        return target
    started = time.monotonic()
    log(f"installing {spec} into {venv.relative_to(ROOT)} ...")
    # --clear: start over from a half-finished install.
    _run([sys.executable, "-m", "venv", "--clear", venv])
    pip = [venv / "bin" / "python", "-m", "pip", "--disable-pip-version-check", "install", "-q"]
    _run([*pip, "--upgrade", "pip"])
    _run([*pip, spec])
    stamp.write_text(spec)
    log(f"installed {spec} in {time.monotonic() - started:.0f} s")
    return target


def ensure_meltano() -> Path:
    """The ``meltano`` executable, installed into ``.cache/meltano-venv`` if missing."""
    with install_lock():
        return _ensure_venv(MELTANO_VENV, MELTANO_SPEC, "meltano")


def ensure_singer_target() -> Path:
    """The ``target-jsonl`` executable of ``.cache/target-jsonl-venv``, installed if missing."""
    with install_lock():
        return _ensure_venv(SINGER_TARGET_VENV, SINGER_TARGET_SPEC, "target-jsonl")


def _plugins_fingerprint(meltano: Path) -> str:
    digest = hashlib.sha256(str(meltano.resolve()).encode())
    for name in PLUGIN_INPUTS:
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def ensure_plugins() -> Path:
    """Meltano with every plugin of ``meltano.yml`` installed; returns ``meltano``.

    ``meltano install`` runs again only when meltano.yml or pyproject.toml changed or a
    plugin's executable is missing.
    """
    meltano = ensure_meltano()
    with install_lock():
        stamp = ROOT / ".meltano" / ".plugins-installed"
        fingerprint = _plugins_fingerprint(meltano)
        executables_present = all((ROOT / ".meltano" / p).is_file() for p in PLUGIN_EXECUTABLES)
        if stamp.is_file() and stamp.read_text() == fingerprint and executables_present:
            return meltano
        started = time.monotonic()
        log("meltano install (tap-generic-rest, target-postgres, target-jsonl) ...")
        _run([meltano, "install"], cwd=ROOT, env=meltano_env())
        stamp.write_text(fingerprint)
        log(f"meltano plugins installed in {time.monotonic() - started:.0f} s")
        return meltano


def meltano_env(
    extra: Mapping[str, str] | None = None, *, system_db: Path | None = None
) -> dict[str, str]:
    """Environment for a ``meltano`` command: this one, without telemetry or colours.

    ``system_db``: Meltano's system database (its state and runs) in that file instead of
    the project's ``.meltano/meltano.db``, so that runs made by tests and benchmarks never
    show in ``meltano state list`` nor hand their state to a user's next run.
    """
    env = dict(os.environ)
    # The caller's virtualenv must not leak into Meltano's or its plugins'.
    env.pop("VIRTUAL_ENV", None)
    env.update(
        {
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            "MELTANO_PROJECT_ROOT": str(ROOT),
            "MELTANO_CLI_LOG_LEVEL": env.get("MELTANO_CLI_LOG_LEVEL", "info"),
            "NO_COLOR": "1",
        },
    )
    if system_db is not None:
        env["MELTANO_DATABASE_URI"] = f"sqlite:///{system_db}"
    env.update(extra or {})
    return env


def project_state_ids(root: Path = ROOT) -> set[str]:
    """The state ids and run names in the project's own Meltano system database."""
    database = root / ".meltano" / "meltano.db"
    if not database.is_file():
        return set()
    found: set[str] = set()
    with contextlib.closing(sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True)) as db:
        for query in ("SELECT state_id FROM state", "SELECT job_name FROM runs"):
            with contextlib.suppress(sqlite3.OperationalError):  # a table not made yet
                found.update(str(name) for (name,) in db.execute(query))
    return found
