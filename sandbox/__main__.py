"""Command line: ``python -m sandbox --port 8765 --seed 7 --size chat.users=2000 ...``."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from sandbox.api import Sandbox
from sandbox.server import FAULTS
from sandbox.sources import SOURCES

if TYPE_CHECKING:
    from types import FrameType


def _size(text: str) -> tuple[str, int]:
    name, sep, value = text.partition("=")
    if not sep or not value.isdigit():
        raise argparse.ArgumentTypeError(f"expected SOURCE.STREAM=N, got {text!r}")
    return name, int(value)


def _prerender(text: str) -> tuple[str, str, int | None, dict[str, str]]:
    spec, _, query = text.partition("?")
    name, _, size = spec.partition(":")
    source, dot, stream = name.partition(".")
    if not dot or (size and not size.isdigit()):
        msg = f"expected SOURCE.STREAM[:PAGE_SIZE][?QUERY], got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return source, stream, int(size) if size else None, dict(parse_qsl(query))


def build_parser() -> argparse.ArgumentParser:
    """The command line options (each mirrors a ``Sandbox`` argument)."""
    parser = argparse.ArgumentParser(
        prog="python -m sandbox",
        description="Serve the five sandbox APIs on 127.0.0.1 until SIGTERM or SIGINT.",
    )
    add = parser.add_argument
    add("--port", type=int, default=8765, help="port on 127.0.0.1 (0: any free port)")
    add("--seed", type=int, default=7)
    add("--default-size", type=int, default=25, help="records per stream")
    add(
        "--size",
        type=_size,
        action="append",
        default=[],
        metavar="SOURCE.STREAM=N",
        help="records in one stream (repeatable)",
    )
    add("--latency-ms", type=float, default=0, help="delay before every response")
    add("--fault-rate", type=float, default=0.0, help="fraction of requests that fail")
    add("--faults", default=",".join(FAULTS), help=f"comma list from {','.join(FAULTS)}")
    add(
        "--max-failures",
        type=int,
        default=None,
        help="failures per request at most (default: the source's retry count)",
    )
    add("--retry-after", type=float, default=1, help="seconds the rate-limit headers ask for")
    add("--boards-max-results-cap", type=int, default=20)
    add("--oncall-page-size", type=int, default=20)
    add("--chat-count-cap", type=int, default=100)
    add(
        "--echo-errors",
        action="store_true",
        help="error bodies echo the request URL and headers (secrets included)",
    )
    add(
        "--prerender",
        type=_prerender,
        action="append",
        default=[],
        metavar="SOURCE.STREAM[:PAGE_SIZE][?QUERY]",
        help="render a stream's pages before serving (QUERY: other parameters, e.g. sort=x)",
    )
    # What real APIs send on a bad day (sandbox/oddities.py): each only when asked for, so
    # that the sandbox as it starts serves records that fit the schemas (--probe exits 0).
    add(
        "--undeclared-fields",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="every 8th record carries _sandbox_extra, a field no schema declares",
    )
    add("--drift", action="store_true", help="every 4th record holds wrong-typed values")
    add("--tricky-values", action="store_true", help="odd JSON: huge numbers, lone surrogates")
    add(
        "--offset-page-cap",
        type=int,
        metavar="N",
        help="helpdesk and statuspage send at most N records a page, and no total",
    )
    add(
        "--bare-arrays",
        default="",
        metavar="SOURCE[.STREAM],...",
        help="serve these sources or streams as bare JSON arrays, without their envelope",
    )
    add(
        "--lean",
        action="store_true",
        help="lean records where a stream has a lean shape (helpdesk.contacts), for benchmarks",
    )
    add("--ready-file", type=Path, help="write the URL here once listening")
    add(
        "--tap-configs",
        type=Path,
        metavar="DIR",
        help="write DIR/<source>.json, a tap config for each source, once listening",
    )
    add(
        "--vendor",
        choices=["rocketchat", "intercom", "jira", "statuspage_io", "opsgenie"],
        help="serve this vendor-shaped API instead (sandbox/vendors/): prints a tap config",
    )
    return parser


def _serve_vendor(args: argparse.Namespace, stop: threading.Event) -> int:
    """Serve one vendor-shaped API (``--vendor``) and print the profile's config for it."""
    from sandbox.vendors import VENDORS  # noqa: PLC0415  (only this option needs them)
    from sandbox.vendors.base import VendorServer  # noqa: PLC0415

    api_class, prefix = VENDORS[args.vendor]
    api = api_class(seed=args.seed)
    with VendorServer(api, port=args.port) as server:
        config = {"source": args.vendor, "base_url": server.url + prefix, **api.credentials()}
        if args.ready_file:
            partial = args.ready_file.with_name(args.ready_file.name + ".tmp")
            partial.write_text(server.url + "\n")
            os.replace(partial, args.ready_file)
        print(f"sandbox {args.vendor} listening on {server.url}", flush=True)
        print(json.dumps(config), flush=True)
        while not stop.wait(1.0):
            pass
    return 0


def _sandbox(args: argparse.Namespace) -> Sandbox:
    return Sandbox(
        seed=args.seed,
        sizes=dict(args.size),
        default_size=args.default_size,
        latency_ms=args.latency_ms,
        fault_rate=args.fault_rate,
        faults=[kind for kind in args.faults.split(",") if kind],
        max_failures_per_request=args.max_failures,
        retry_after=args.retry_after,
        boards_max_results_cap=args.boards_max_results_cap,
        oncall_page_size=args.oncall_page_size,
        port=args.port,
        echo_errors=args.echo_errors,
        chat_count_cap=args.chat_count_cap,
        undeclared_fields=args.undeclared_fields,
        drift=args.drift,
        tricky_values=args.tricky_values,
        offset_page_cap=args.offset_page_cap,
        bare_arrays=[name for name in args.bare_arrays.split(",") if name],
        lean=args.lean,
        log_requests=False,  # nobody reads the log of a long-running server
    )


def write_tap_configs(sandbox: Sandbox, folder: Path) -> None:
    """``<source>.json`` for each source: what ``tap-generic-rest --config`` needs for it."""
    folder.mkdir(parents=True, exist_ok=True)
    for source in SOURCES:
        text = json.dumps(sandbox.tap_config(source), indent=2) + "\n"
        (folder / f"{source}.json").write_text(text)


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGTERM or SIGINT."""
    parser = build_parser()
    args = parser.parse_args(argv)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if args.vendor:
        return _serve_vendor(args, stop)
    try:
        sandbox = _sandbox(args)
    except ValueError as exc:
        parser.error(str(exc))
    sandbox.start()
    try:
        for source, stream, page_size, params in args.prerender:
            sandbox.prerender(source, stream, page_size, params)
        if args.tap_configs:
            write_tap_configs(sandbox, args.tap_configs)
        if args.ready_file:  # before the line: whoever reads the line may read the file
            partial = args.ready_file.with_name(args.ready_file.name + ".tmp")
            partial.write_text(sandbox.url + "\n")
            os.replace(partial, args.ready_file)  # readers never see half a URL
        print(f"sandbox listening on {sandbox.url}", flush=True)
        while not stop.wait(1.0):
            pass
    finally:
        sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
