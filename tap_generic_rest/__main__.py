"""Command line entry point: the SDK's CLI, with one-line errors and redacted output."""

from __future__ import annotations

import sys
import traceback
from typing import NoReturn

import click

from tap_generic_rest import redact
from tap_generic_rest.failures import EXPECTED, describe
from tap_generic_rest.inputs import check_input_files
from tap_generic_rest.logs import error_line
from tap_generic_rest.tap import TapGenericRest

__all__ = ["EXPECTED", "describe", "main"]


def _fail(message: str) -> NoReturn:
    sys.stderr.write(error_line(redact.redact(message)) + "\n")
    sys.stderr.flush()
    raise SystemExit(1)


def main(argv: list[str] | None = None) -> None:
    """Run the tap; expected failures end in one line on stderr and exit status 1."""
    redact.install()
    args = sys.argv[1:] if argv is None else argv
    try:
        check_input_files(args)
        code = TapGenericRest.cli.main(
            args=args, prog_name="tap-generic-rest", standalone_mode=False
        )
    except EXPECTED as exc:
        _fail(describe(exc))
    except click.ClickException as exc:
        exc.show()
        raise SystemExit(exc.exit_code) from None
    except click.exceptions.Abort:
        _fail("aborted")
    except Exception:  # noqa: BLE001  a bug: keep the traceback, but never a secret in it
        _fail(f"unexpected failure (a bug, please report it):\n{traceback.format_exc().rstrip()}")
    raise SystemExit(code or 0)


if __name__ == "__main__":
    main()
