"""Command line entry point: the SDK's CLI, with one-line errors and redacted output."""

from __future__ import annotations

import sys
import traceback
from typing import NoReturn

import click

from tap_generic_rest import probe, redact
from tap_generic_rest.failures import EXPECTED, describe
from tap_generic_rest.inputs import check_input_files
from tap_generic_rest.logs import error_line
from tap_generic_rest.tap import TapGenericRest

__all__ = ["EXPECTED", "describe", "main"]


def _fail(message: str, status: int = 1) -> NoReturn:
    sys.stderr.write(error_line(redact.redact(message)) + "\n")
    sys.stderr.flush()
    raise SystemExit(status)


def main(argv: list[str] | None = None) -> None:
    """Run the tap; expected failures: one line on stderr, exit status 1 (2 with --probe)."""
    redact.install()
    args = sys.argv[1:] if argv is None else argv
    # --probe exits 1 for drift, so its failures need another status.
    status = probe.FAILED if "--probe" in args else 1
    try:
        check_input_files(args)
        code = TapGenericRest.cli.main(
            args=args, prog_name="tap-generic-rest", standalone_mode=False
        )
    except EXPECTED as exc:
        _fail(describe(exc), status)
    except click.ClickException as exc:
        exc.show()
        raise SystemExit(exc.exit_code) from None
    except click.exceptions.Abort:
        _fail("aborted", status)
    except Exception:  # noqa: BLE001  a bug: keep the traceback, but never a secret in it
        _fail(
            f"unexpected failure (a bug, please report it):\n{traceback.format_exc().rstrip()}",
            status,
        )
    raise SystemExit(code or 0)


if __name__ == "__main__":
    main()
