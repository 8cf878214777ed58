"""What one machine sustains: partitions per minute through the Dagster definitions.

Starts the sandbox, writes an accounts file of N ``oncall`` accounts (one sandbox, an output
folder each, removed afterwards) into ``target-jsonl`` with a ``file://`` state backend in a
tmp folder, and materializes every partition with 1, 2 and 4 at a time (threads, each a
Dagster run on an ephemeral instance; the work is the ``meltano run`` child of each).
Prints partitions per minute and records per second at each concurrency, and the ratio to
one at a time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import dagster as dg  # noqa: E402

from sandbox import Sandbox  # noqa: E402
from scripts._plugins import ensure_plugins  # noqa: E402
from tap_generic_rest.orchestrate.accounts import load_accounts  # noqa: E402
from tap_generic_rest.orchestrate.definitions import build_definitions  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=8, help="partitions per round (8)")
    parser.add_argument("--alerts", type=int, default=2000, help="alerts per account (2000)")
    parser.add_argument("--concurrency", default="1,2,4", help="runs at a time (1,2,4)")
    args = parser.parse_args()
    meltano = ensure_plugins()
    with (
        tempfile.TemporaryDirectory() as tmp,
        Sandbox(
            seed=5, default_size=50, sizes={"oncall.alerts": args.alerts}, log_requests=False
        ) as sandbox,
    ):
        os.environ["BENCH_ONCALL_TOKEN"] = sandbox.credentials("oncall")["api_token"]
        base = Path(tmp)
        print(
            f"{args.accounts} oncall accounts, {sum(sandbox.counts()['oncall'].values()):,} "
            f"records each, target-jsonl, {os.cpu_count()} cores"
        )
        first: float | None = None
        for level in (int(n) for n in args.concurrency.split(",")):
            names = [f"a{level}x{i}" for i in range(args.accounts)]
            path = base / f"accounts-{level}.yml"
            path.write_text(
                json.dumps(
                    {
                        "project": str(ROOT),
                        "meltano": str(meltano),
                        "target": {"plugin": "target-jsonl"},  # into output/<load schema>/
                        "state_backend": (base / "state").as_uri(),
                        "accounts": [
                            {
                                "name": name,
                                "source": "oncall",
                                "config": {
                                    "base_url": sandbox.base_url("oncall"),
                                    "api_token": "${BENCH_ONCALL_TOKEN}",
                                },
                            }
                            for name in names
                        ],
                    }
                )
            )
            asset = build_definitions(load_accounts(path)).resolve_assets_def("oncall")

            def one(name: str, asset: dg.AssetsDefinition = asset) -> int:
                with dg.DagsterInstance.ephemeral() as instance:
                    result = dg.materialize([asset], partition_key=name, instance=instance)
                (m,) = result.asset_materializations_for_node("oncall")
                return int(m.metadata["records"].value)

            started = time.monotonic()
            with ThreadPoolExecutor(level) as pool:
                records = sum(pool.map(one, names))
            seconds = time.monotonic() - started
            rate = len(names) / seconds * 60
            first = first or rate
            for name in names:
                shutil.rmtree(ROOT / "output" / f"oncall_{name}", ignore_errors=True)
            print(
                f"  {level} at a time: {rate:5.1f} partitions/min, {records / seconds:7,.0f} "
                f"records/s, {seconds:5.1f} s for {len(names)} ({rate / first:.2f}x one at a time)"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
