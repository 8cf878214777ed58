"""make demo: the sandbox API -> ``meltano run`` -> JSONL files, for each of the five sources.

Installs Meltano and the plugins of meltano.yml if missing (``.cache/``, ``.meltano/``),
starts the sandbox on a free port of 127.0.0.1, runs
``meltano run tap-generic-rest--<source> target-jsonl`` for every source (files land in
``output/<source>/<stream>.jsonl``) and shows the tap's run summary of each (records, pages,
requests, retries, seconds per stream), then prints the rows written per stream next to the
sandbox's own counts. Exits non-zero if a run failed or a count differs. Credentials are the
sandbox's fake ones, handed to Meltano through environment variables and never printed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sandbox import Sandbox  # noqa: E402
from scripts._plugins import ensure_plugins, meltano_env  # noqa: E402
from tap_generic_rest.tap import TapGenericRest  # noqa: E402

SOURCES = ("chat", "helpdesk", "tracker", "statuspage", "oncall")
OUTPUT = ROOT / "output"
#: Settings the sandbox gives that are secrets, masked wherever output is shown.
SECRET_SETTINGS = ("api_token", "user_id", "api_key", "email")
#: Generous guard against a hung run (a run takes seconds).
RUN_TIMEOUT = 900


def plugin_env(source: str, config: dict[str, Any]) -> dict[str, str]:
    """Environment variables Meltano reads for the settings of ``tap-generic-rest--<source>``."""
    prefix = f"TAP_GENERIC_REST__{source.upper()}_"
    env = {}
    for key, value in config.items():
        if key == "source" or value is None:
            continue  # meltano.yml sets the source of each inherited extractor
        text = value if isinstance(value, str) else json.dumps(value)
        env[prefix + key.upper()] = text
    return env


def mask(text: str, secrets: list[str]) -> str:
    """``text`` with every secret value replaced by ``****``."""
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, "****")
    return text


def primary_keys(config: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    """Each stream's primary key, as the tap declares it."""
    tap = TapGenericRest(config=config, setup_mapper=False)
    return {name: tuple(stream.primary_keys or ()) for name, stream in tap.streams.items()}


def count_rows(folder: Path, keys: dict[str, tuple[str, ...]]) -> dict[str, tuple[int, int]]:
    """(records, distinct primary keys) per ``<stream>.jsonl`` file in ``folder``."""
    counts = {}
    for path in sorted(folder.glob("*.jsonl")):
        with path.open(encoding="utf-8") as handle:
            records = [json.loads(line) for line in handle if line.strip()]
        key = keys.get(path.stem, ())
        distinct = {tuple(json.dumps(r.get(k)) for k in key) for r in records}
        counts[path.stem] = (len(records), len(distinct))
    return counts


def summary_lines(log: str) -> list[str]:
    """The tap's run summary (one line per stream and a total), as Meltano logged it."""
    return [line[line.index("summary: ") :] for line in log.splitlines() if " summary: " in line]


def run_source(meltano: Path, source: str, config: dict[str, Any]) -> tuple[bool, float, Path]:
    """``meltano run`` one source into ``output/<source>/``; returns (ok, seconds, its log).

    The log (Meltano's and the plugins' output, secrets masked) goes to output/logs/.
    """
    folder = OUTPUT / source
    shutil.rmtree(folder, ignore_errors=True)  # target-jsonl appends: start empty
    log_path = OUTPUT / "logs" / f"{source}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    command = [
        str(meltano),
        "run",
        "--full-refresh",
        "--state-id-suffix",
        "demo",
        f"tap-generic-rest--{source}",
        "target-jsonl",
    ]
    try:
        result = subprocess.run(  # noqa: PLW1510 - the exit code is the result
            command,
            cwd=ROOT,
            env=meltano_env(plugin_env(source, config)),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
        )
        ok, output = result.returncode == 0, result.stdout + result.stderr
    except subprocess.TimeoutExpired as timeout:
        ok, output = False, f"{timeout.output or ''}{timeout.stderr or ''}\ntimed out"
    seconds = time.monotonic() - started
    secrets = [str(config.get(s) or "") for s in SECRET_SETTINGS]
    log_path.write_text(mask(str(output), secrets), encoding="utf-8")
    return ok, seconds, log_path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7, help="sandbox data seed (default 7)")
    parser.add_argument("--size", type=int, default=25, help="records per stream (default 25)")
    parser.add_argument("sources", nargs="*", metavar="SOURCE", help="default: all five")
    args = parser.parse_args()
    sources = args.sources or list(SOURCES)
    if unknown := sorted(set(sources) - set(SOURCES)):
        parser.error(f"unknown source(s) {', '.join(unknown)}; choose from {', '.join(SOURCES)}")

    meltano = ensure_plugins()
    rows: list[tuple[str, str, int, tuple[int, int] | None]] = []
    failed: list[str] = []
    with Sandbox(seed=args.seed, default_size=args.size) as sb:
        expected = sb.counts()
        print(f"sandbox at {sb.url} (seed {args.seed}, {args.size} records per stream)")
        for source in sources:
            config = sb.tap_config(source)
            ok, seconds, log_path = run_source(meltano, source, config)
            status = "ok" if ok else f"FAILED, log in {log_path.relative_to(ROOT)}"
            print(
                f"meltano run tap-generic-rest--{source} target-jsonl: {status} ({seconds:.0f} s)"
            )
            for line in summary_lines(log_path.read_text(encoding="utf-8")):
                print(f"    {line}")
            if not ok:
                failed.append(source)
                tail = log_path.read_text(encoding="utf-8").splitlines()[-20:]
                print("\n".join(f"    {line}" for line in tail))
            written = count_rows(OUTPUT / source, primary_keys(config))
            for stream in sorted(expected[source].keys() | written.keys()):
                rows.append((source, stream, expected[source].get(stream, 0), written.get(stream)))
    # The sandbox is stopped here, whatever happened above.

    # A stream matches when every record served was written once: as many rows as the
    # sandbox has, and as many distinct primary keys.
    mismatches = [r for r in rows if r[3] != (r[2], r[2])]
    print()
    print(f"{'source':<12}{'stream':<20}{'sandbox':>9}{'written':>9}{'unique':>8}  check")
    print("-" * 66)
    for source, stream, want, got in rows:
        check = "ok" if got == (want, want) else "MISMATCH"
        written, unique = ("-", "-") if got is None else map(str, got)
        print(f"{source:<12}{stream:<20}{want:>9}{written:>9}{unique:>8}  {check}")
    print("-" * 66)
    print(
        f"{sum(r[3][0] for r in rows if r[3])} rows in {len(rows)} streams of {len(sources)} "
        "sources (unique: distinct primary keys), "
        f"files in {OUTPUT.relative_to(ROOT)}/<source>/<stream>.jsonl"
    )
    if failed or mismatches:
        print(
            f"FAILED: {len(failed)} run(s) failed, {len(mismatches)} count(s) differ",
            file=sys.stderr,
        )
        return 1
    print("all counts match")
    return 0


if __name__ == "__main__":
    sys.exit(main())
