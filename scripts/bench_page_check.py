"""Micro-benchmark: the record check on every record of a page versus one page check.

Starts the sandbox (seed 7, 2,000 helpdesk contacts), lean and rich, fetches the first
page of 1,000 contacts of each, decodes it with orjson and prints µs per record of
``orjson.loads``, ``list(map(record_check, records))`` and ``page_check(records)``:
the minimum of many repeats, with the garbage collector off, from this one run.
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import tempfile
import time
import timeit
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from collections.abc import Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tap_generic_rest.records.checks import compile_page_check, compile_record_check  # noqa: E402


def fetch_page(lean: bool, records: int, limit: int) -> bytes:
    """One page of helpdesk contacts from a sandbox of our own, stopped afterwards."""
    with tempfile.TemporaryDirectory() as workdir:
        ready = Path(workdir) / "ready"
        cmd = [sys.executable, "-m", "sandbox", "--port", "0", "--seed", "7"]
        cmd += ["--undeclared-fields"]  # the records these figures were measured on
        cmd += ["--size", f"helpdesk.contacts={records}", "--ready-file", str(ready)]
        server = subprocess.Popen([*cmd, *(["--lean"] if lean else [])], cwd=ROOT)
        try:
            deadline = time.monotonic() + 60
            while not ready.exists() or not ready.read_text().strip():
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("the sandbox did not start")
                time.sleep(0.05)
            url = ready.read_text().strip()
            with urllib.request.urlopen(f"{url}/_sandbox/manifest") as response:
                manifest = json.load(response)
            key = manifest["credentials"]["helpdesk"]["api_key"]
            base = manifest["base_urls"]["helpdesk"]
            page = f"{base}/v1/contacts?offset=0&limit={limit}&api_key={key}"
            with urllib.request.urlopen(page) as response:
                body: bytes = response.read()
            return body
        finally:
            server.terminate()
            server.wait(10)


def per_record(run: Callable[[], Any], count: int, repeat: int) -> float:
    """µs per record of ``run``: the best of ``repeat`` runs, the collector off."""
    gc.disable()
    try:
        return min(timeit.repeat(run, number=1, repeat=repeat)) / count * 1e6
    finally:
        gc.enable()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2000, help="contacts in the sandbox")
    parser.add_argument("--limit", type=int, default=1000, help="records per page")
    parser.add_argument("--repeat", type=int, default=50, help="runs of each; the best counts")
    args = parser.parse_args()
    schema = json.loads((ROOT / "schemas/helpdesk/contacts.json").read_text())
    for lean in (True, False):
        measure(lean, fetch_page(lean, args.records, args.limit), schema, args.repeat)


def measure(lean: bool, body: bytes, schema: dict[str, Any], repeat: int) -> None:
    """Print what decoding, the record check per record and the page check cost."""
    records = orjson.loads(body)["data"]
    record_check, page_check = compile_record_check(schema), compile_page_check(schema)
    quiet = not any(map(record_check, records))
    decode = per_record(lambda: orjson.loads(body), len(records), repeat)
    each = per_record(lambda: list(map(record_check, records)), len(records), repeat)
    page = per_record(lambda: page_check(records), len(records), repeat)
    print(
        f"{'lean' if lean else 'rich'}: {len(records)} records, {len(body) / len(records):.0f}"
        f" B each, all quiet: {quiet}, page check says {page_check(records)}\n"
        f"  orjson.loads {decode:.2f} µs/record, record check {each:.2f}, page check"
        f" {page:.2f} ({each / page:.1f}x)"
    )


if __name__ == "__main__":
    main()
