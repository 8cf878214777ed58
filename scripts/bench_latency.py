"""make bench (latency): pages fetched one at a time versus several in flight.

Starts the sandbox on 127.0.0.1 with a fixed latency per response and a chat ``users``
stream of 2,000 records at the seed's page size of 1 (2,000 round trips), then runs the
tap as a subprocess (its Singer output to a temporary file) with
``max_concurrent_requests=1`` and with 8, and prints seconds, records/s and the speed-up
of each, from this one run. Both runs must emit the same records in the same order.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sandbox import Sandbox  # noqa: E402
from tap_generic_rest.tap import TapGenericRest  # noqa: E402

SOURCE, STREAM = "chat", "users"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2000, help="records in chat users")
    parser.add_argument("--latency-ms", type=float, default=20, help="delay of every response")
    parser.add_argument("--page-size", type=int, default=1, help="records per page")
    parser.add_argument(
        "--in-flight", type=int, nargs="+", default=[1, 8], help="max_concurrent_requests"
    )
    return parser.parse_args()


def catalog_for(config: dict[str, object]) -> dict[str, object]:
    """The discovered catalog with only the benchmarked stream selected."""
    catalog = TapGenericRest(config=config, setup_mapper=False).catalog_dict
    for entry in catalog["streams"]:
        for meta in entry["metadata"]:
            if meta["breadcrumb"] == []:
                meta["metadata"]["selected"] = entry["tap_stream_id"] == STREAM
    return catalog


def run_tap(config: dict[str, object], catalog: Path, workdir: Path) -> tuple[float, int, str]:
    """Run the tap once; return seconds, records emitted and a digest of the records in order."""
    config_file = workdir / "config.json"
    config_file.write_text(json.dumps(config))
    out, err = workdir / "out.jsonl", workdir / "err.log"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "tap_generic_rest", "--config", str(config_file),
             "--catalog", str(catalog)],
            stdout=stdout, stderr=stderr, check=False, cwd=ROOT,
        )  # fmt: skip
        seconds = time.perf_counter() - started
    if result.returncode:
        sys.exit(f"the tap failed (exit {result.returncode}):\n{err.read_text()[-2000:]}")
    digest, records = hashlib.sha256(), 0
    with out.open("rb") as lines:
        for line in lines:
            message = json.loads(line)
            if message["type"] == "RECORD":
                records += 1
                digest.update(json.dumps(message["record"], sort_keys=True).encode())
    return seconds, records, digest.hexdigest()


def main() -> None:
    args = parse_args()
    with (
        Sandbox(
            seed=7,
            sizes={f"{SOURCE}.{STREAM}": args.records},
            latency_ms=args.latency_ms,
            log_requests=False,
        ) as sandbox,
        tempfile.TemporaryDirectory() as tmp,
    ):
        workdir = Path(tmp)
        sandbox.prerender(SOURCE, STREAM, args.page_size)
        pages = -(-args.records // args.page_size)
        base = sandbox.tap_config(SOURCE, page_size=args.page_size)
        catalog = workdir / "catalog.json"
        catalog.write_text(json.dumps(catalog_for(base)))
        print(
            f"sandbox: {SOURCE} {STREAM}, {args.records} records, page size {args.page_size} "
            f"({pages} round trips), {args.latency_ms:g} ms per response; tap run as a subprocess"
        )
        print(f"{'in flight':>9}  {'seconds':>8}  {'records/s':>9}  {'speed-up':>8}")
        baseline = None
        digests = set()
        for in_flight in args.in_flight:
            config = {**base, "max_concurrent_requests": in_flight}
            seconds, records, digest = run_tap(config, catalog, workdir)
            if records != args.records:
                sys.exit(f"expected {args.records} records, the tap emitted {records}")
            digests.add(digest)
            baseline = baseline or seconds
            print(
                f"{in_flight:>9}  {seconds:>8.2f}  {records / seconds:>9.0f}  "
                f"{baseline / seconds:>7.1f}x"
            )
        if len(digests) != 1:
            sys.exit("the runs emitted different records or a different order")
        print("every run emitted the same records in the same order")


if __name__ == "__main__":
    main()
