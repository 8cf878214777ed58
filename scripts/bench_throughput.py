"""Throughput benchmark: records/s and peak memory of the tap, dlt's extraction and raw floors.

It starts the sandbox in its own process (so that it never shares the GIL with what is
measured) with ``--records`` records in helpdesk ``contacts`` (offset paging) and oncall
``alerts`` (next-URL paging), every page pre-rendered, then runs, for each stream, each in a
subprocess writing to /dev/null. ``helpdesk.contacts:lean`` is the same stream served by a
second sandbox with lean records (``--lean``: scalar fields and one small object, about 650
bytes against about 1,900), where the per-record cost of a tap shows most. Modes:

* ``tap``: tap-generic-rest (``python -m tap_generic_rest``), default settings;
* ``floor``: a plain loop that fetches the same pages (requests, keep-alive), decodes them
  and writes Singer RECORD lines with orjson, checking nothing (``scripts/bench_peers.py``);
* ``dlt``: dlt's ``rest_api`` source on the same API, ``pipeline.extract`` only (no
  normalize, no load: ``scripts/bench_peers.py``);
* ``baseline`` (only with ``--modes``): ``scripts/baseline_tap.py``, a stock SDK
  ``RESTStream`` tap with the SDK's defaults (same schemas, auth and paging);
* ``floor-hc`` (only with ``--modes``): the floor on ``http.client`` instead of requests;
* ``floor-gc``: the floor with the tap's garbage-collector settings (a floor that does not
  pay for collections walking its decoded pages, which a busy machine makes dearer).

The modes run interleaved (round after round, each mode once per round), so that a machine
shared with other work slows them alike; each mode's figure is its median over the rounds.
It prints records/s (records over the subprocess's wall time, start-up included), CPU
seconds, peak RSS (``wait4``'s ``ru_maxrss``) and the sandbox's CPU seconds during the run,
then the ratios tap/floor and tap/dlt, and the machine's load average before and after.
Every run's record count is checked.

    python scripts/bench_throughput.py                  # 200,000 and 1,000,000 records
    python scripts/bench_throughput.py --records 100000 --streams helpdesk.contacts
    python scripts/bench_throughput.py --repeat 3       # 3 rounds per size, medians
    python scripts/bench_throughput.py --memory         # peak RSS at 200,000 vs 2,000,000
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parent.parent
STREAMS = ("helpdesk.contacts", "helpdesk.contacts:lean", "oncall.alerts")
#: What the tap sends besides paging: it reads alerts sorted by their replication key.
TAP_QUERIES = {"oncall.alerts": "sort=updatedAt&order=asc"}
MODES = ("tap", "floor", "floor-gc", "dlt", "baseline", "floor-hc")
DEFAULT_MODES = ("tap", "floor", "floor-gc", "dlt")
DEFAULT_STREAMS = ("helpdesk.contacts", "helpdesk.contacts:lean")
#: The issue's goals at 1,000,000 records: tap/floor and tap/dlt.
GOALS = {"floor": 1.2, "dlt": 1.8}
LEAN = ":lean"
SANDBOX_READY_TIMEOUT = 1800  # seconds: pre-rendering 2,000,000 records takes minutes
_METRIC = re.compile(r"METRIC: (\{.*\})\s*$")
_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Run:
    """One measured subprocess."""

    stream: str
    mode: str
    records: int
    seconds: float
    cpu_seconds: float
    peak_rss_mb: float
    sandbox_cpu_seconds: float

    @property
    def per_second(self) -> float:
        """Records per second of wall time."""
        return self.records / self.seconds


# --- the sandbox, in its own process ---------------------------------------------------------


class SandboxProcess:
    """``python -m sandbox`` with large streams and pre-rendered pages, in its own process."""

    def __init__(
        self, sizes: dict[str, int], page_size: int, workdir: Path, *, lean: bool = False
    ) -> None:
        self.sizes = sizes
        self.page_size = page_size
        self.lean = lean
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None
        self.manifest: dict[str, Any] = {}

    def __enter__(self) -> SandboxProcess:
        ready = self.workdir / "sandbox.ready"
        ready.unlink(missing_ok=True)
        cmd = [sys.executable, "-m", "sandbox", "--port", "0", "--seed", "7"]
        cmd += ["--undeclared-fields"]  # the records these figures were measured on
        cmd += ["--oncall-page-size", str(self.page_size), "--ready-file", str(ready)]
        cmd += ["--lean"] if self.lean else []
        for stream, size in self.sizes.items():
            cmd += ["--size", f"{stream}={size}", "--prerender", f"{stream}:{self.page_size}"]
            if stream in TAP_QUERIES:  # the tap's own requests differ: render those pages too
                cmd += ["--prerender", f"{stream}:{self.page_size}?{TAP_QUERIES[stream]}"]
        log = (self.workdir / "sandbox.log").open("wb")
        self.process = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + SANDBOX_READY_TIMEOUT
        while not ready.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.__exit__()
                log_text = (self.workdir / "sandbox.log").read_text(errors="replace")
                sys.exit(f"the sandbox did not start:\n{log_text[-2000:]}")
            time.sleep(0.2)
        url = ready.read_text().strip()
        with _http_session() as session:
            self.manifest = session.get(f"{url}/_sandbox/manifest", timeout=30).json()
        return self

    def __exit__(self, *_: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def cpu_seconds(self) -> float:
        """CPU time the sandbox process has used so far."""
        assert self.process is not None
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime

    def tap_config(self, source: str) -> dict[str, Any]:
        """The config of the tap (and of the baseline and floor) for ``source``."""
        return {
            "source": source,
            "base_url": self.manifest["base_urls"][source],
            **self.manifest["credentials"][source],
            "page_size": self.page_size,
        }


@contextlib.contextmanager
def _http_session() -> Iterator[Any]:
    import requests

    with requests.Session() as session:
        yield session


# --- measuring one subprocess -----------------------------------------------------------------


def _write_json(path: Path, value: Any) -> Path:
    path.write_text(json.dumps(value))
    return path


def _tap_catalog(config_path: Path, stream: str, workdir: Path) -> Path:
    """The tap's catalog with only ``stream`` selected."""
    out = subprocess.run(
        [sys.executable, "-m", "tap_generic_rest", "--config", str(config_path), "--discover"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    )
    catalog = json.loads(out.stdout)
    for entry in catalog["streams"]:
        for meta in entry["metadata"]:
            if meta["breadcrumb"] == []:
                meta["metadata"]["selected"] = entry["tap_stream_id"] == stream
    return _write_json(workdir / f"catalog-{stream}.json", catalog)


def _sdk_record_count(stderr: str, stream: str) -> int:
    """Records the SDK counted for ``stream``: the sum of its record_count metric lines."""
    total = 0
    for line in stderr.splitlines():
        match = _METRIC.search(line)
        if match:
            metric = json.loads(match.group(1))
            if metric.get("metric") == "record_count" and metric["tags"].get("stream") == stream:
                total += int(metric["value"])
    return total


def _floor_record_count(stderr: str, _stream: str) -> int:
    match = re.search(r"^floor records (\d+)$", stderr, re.MULTILINE)
    return int(match.group(1)) if match else -1


def measure(
    mode: str, stream_id: str, sandbox: SandboxProcess, workdir: Path, expected: int
) -> Run:
    """Run one mode on one stream in a subprocess (stdout to /dev/null) and measure it."""
    source, stream = stream_id.removesuffix(LEAN).split(".")
    config = _write_json(workdir / f"config-{source}.json", sandbox.tap_config(source))
    if mode == "tap":
        catalog = _tap_catalog(config, stream, workdir)
        cmd = [sys.executable, "-m", "tap_generic_rest", "--config", str(config)]
        cmd += ["--catalog", str(catalog)]
        count = _sdk_record_count
    elif mode == "baseline":
        cmd = [sys.executable, str(ROOT / "scripts" / "baseline_tap.py"), "--config", str(config)]
        count = _sdk_record_count
    else:
        kind = "dlt" if mode == "dlt" else "floor"
        cmd = [sys.executable, str(ROOT / "scripts" / "bench_peers.py"), kind, str(config), stream]
        cmd += [mode.removeprefix("floor-")] if mode.startswith("floor-") else []
        count = _floor_record_count
    stderr_path = workdir / f"{mode}-{stream}.stderr"
    sandbox_cpu = sandbox.cpu_seconds()
    with stderr_path.open("wb") as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=stderr)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    sandbox_cpu = sandbox.cpu_seconds() - sandbox_cpu
    stderr_text = stderr_path.read_text(errors="replace")
    records = count(stderr_text, stream)
    if process.returncode != 0 or records != expected:
        sys.exit(
            f"{mode} on {stream_id}: exit status {process.returncode}, {records} records "
            f"(expected {expected}):\n{stderr_text[-3000:]}"
        )
    return Run(
        stream=stream_id,
        mode=mode,
        records=records,
        seconds=seconds,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        peak_rss_mb=usage.ru_maxrss / 1024,
        sandbox_cpu_seconds=sandbox_cpu,
    )


# --- reports -------------------------------------------------------------------------------------


def _median(runs: list[Run]) -> Run:
    """The run of median records/s (the lower middle one of an even count)."""
    ordered = sorted(runs, key=lambda run: run.per_second)
    return ordered[(len(ordered) - 1) // 2]


def print_throughput(runs: list[Run], repeat: int) -> None:
    """One row per size, stream and mode (the median round), then the ratios."""
    header = (
        f"{'stream':<22} {'mode':<9} {'records':>9} {'seconds':>8} {'records/s':>10} "
        f"{'cpu s':>7} {'rec/cpu s':>10} {'peak RSS':>9} {'sandbox cpu s':>14}"
    )
    print()
    print(header)
    print("-" * len(header))
    for stream, size in dict.fromkeys((run.stream, run.records) for run in runs):
        median: dict[str, Run] = {}
        for mode in MODES:
            mine = [r for r in runs if (r.stream, r.records, r.mode) == (stream, size, mode)]
            if not mine:
                continue
            median[mode] = run = _median(mine)
            rates = [r.per_second for r in mine]
            spread = f"  ({min(rates):,.0f}-{max(rates):,.0f}/s)"
            print(
                f"{stream:<22} {mode:<9} {run.records:>9,} {run.seconds:>8.2f} "
                f"{run.per_second:>10,.0f} {run.cpu_seconds:>7.2f} "
                f"{run.records / run.cpu_seconds:>10,.0f} {run.peak_rss_mb:>7.0f}MB "
                f"{run.sandbox_cpu_seconds:>14.2f}{spread if len(mine) > 1 else ''}"
            )
        tap = median.get("tap")
        for other in MODES[1:]:
            if tap and other in median:
                wall = tap.per_second / median[other].per_second
                cpu = median[other].cpu_seconds / tap.cpu_seconds
                goal = f" (goal at 1,000,000: >= {GOALS[other]}x)" if other in GOALS else ""
                print(
                    f"{'':<22} tap/{other}: {wall:.2f}x records/s{goal}; "
                    f"{cpu:.2f}x records per CPU second"
                )
    print(f"(median of {repeat} interleaved rounds per mode; range in brackets)")


def print_memory(runs: list[Run]) -> None:
    """Peak RSS per stream and mode at each size, and the ratio largest/smallest."""
    print()
    print(f"{'stream':<22} {'mode':<9} {'records':>10} {'peak RSS':>9} {'records/s':>10}")
    for stream in dict.fromkeys(run.stream for run in runs):
        for mode in MODES:
            mine = sorted(
                (run for run in runs if run.stream == stream and run.mode == mode),
                key=lambda run: run.records,
            )
            for run in mine:
                print(
                    f"{stream:<22} {mode:<9} {run.records:>10,} {run.peak_rss_mb:>7.0f}MB "
                    f"{run.per_second:>10,.0f}"
                )
            if len(mine) > 1:
                growth = mine[-1].peak_rss_mb / mine[0].peak_rss_mb
                verdict = "flat" if abs(growth - 1) <= 0.10 else "NOT flat"
                print(
                    f"{'':<22} {mode:<9} peak RSS at {mine[-1].records:,} / at "
                    f"{mine[0].records:,}: {growth:.3f} ({verdict}: goal within 10%)"
                )


# --- main ----------------------------------------------------------------------------------------


def _csv(choices: tuple[str, ...]) -> Any:
    def parse(text: str) -> list[str]:
        items = [item.strip() for item in text.split(",") if item.strip()]
        unknown = [item for item in items if item not in choices]
        if unknown or not items:
            raise argparse.ArgumentTypeError(f"choose from {', '.join(choices)}")
        return items

    return parse


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(item) for item in text.split(",") if item.strip()]
    except ValueError:
        sizes = []
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("expected record counts, e.g. 200000,1000000")
    return sizes


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--records", type=_sizes, default=[200_000, 1_000_000], help="records per stream: N[,N]"
    )
    parser.add_argument("--page-size", type=int, default=1000, help="records per page")
    parser.add_argument(
        "--streams", type=_csv(STREAMS), default=list(DEFAULT_STREAMS), help="comma list"
    )
    parser.add_argument(
        "--modes",
        type=_csv(MODES),
        help="comma list (default: tap,floor,floor-gc,dlt; --memory: tap)",
    )
    parser.add_argument("--repeat", type=int, default=2, help="interleaved rounds per size")
    parser.add_argument(
        "--memory",
        action="store_true",
        help="compare peak RSS at the first --records and at --memory-records, per stream",
    )
    parser.add_argument("--memory-records", type=int, default=2_000_000)
    parser.add_argument("--json", type=Path, help="also write every run to this JSON file")
    args = parser.parse_args()
    modes = args.modes or (["tap"] if args.memory else list(DEFAULT_MODES))
    # Byte-compiled as pip installs a wheel: an editable install, with PYTHONDONTWRITEBYTECODE
    # set, would compile the tap's modules anew in every run (~60 ms of each).
    compileall.compile_dir(ROOT / "tap_generic_rest", quiet=1)

    # One sandbox per size serves every rich stream, a second the lean ones; in the memory
    # mode, one per stream and size, so that the sandbox's page cache holds every page.
    if args.memory:
        groups = [
            ([stream], size)
            for stream in args.streams
            for size in (args.records[0], args.memory_records)
        ]
    else:
        rich = [stream for stream in args.streams if not stream.endswith(LEAN)]
        lean = [stream for stream in args.streams if stream.endswith(LEAN)]
        groups = [(streams, size) for size in args.records for streams in (rich, lean) if streams]
    runs: list[Run] = []
    print(f"load average before: {_load()} ({os.cpu_count()} cores)", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-throughput-") as tmp:
        workdir = Path(tmp)
        for streams, size in groups:
            print(
                f"sandbox: {size:,} records in {', '.join(streams)}; pre-rendering pages of "
                f"{args.page_size:,}...",
                flush=True,
            )
            started = time.perf_counter()
            is_lean = all(stream.endswith(LEAN) for stream in streams)
            served = {stream.removesuffix(LEAN): size for stream in streams}
            with SandboxProcess(served, args.page_size, workdir, lean=is_lean) as sandbox:
                print(f"  ready in {time.perf_counter() - started:.0f} s", flush=True)
                for stream in streams:
                    for _ in range(1 if args.memory else args.repeat):
                        for mode in modes:
                            run = measure(mode, stream, sandbox, workdir, size)
                            runs.append(run)
                            print(
                                f"  {stream:<22} {mode:<9} {run.per_second:>10,.0f} records/s "
                                f"{run.peak_rss_mb:>6.0f}MB  (load {_load()})",
                                flush=True,
                            )
    print(f"load average after: {_load()}")
    if args.memory:
        print_memory(runs)
    else:
        print_throughput(runs, args.repeat)
    if args.json:
        args.json.write_text(json.dumps([asdict(run) for run in runs], indent=2))


if __name__ == "__main__":
    main()
