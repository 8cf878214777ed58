"""Command line entry point: the SDK's CLI, with one-line errors and redacted output."""

from __future__ import annotations

import atexit
import errno
import gc
import os
import sys
import traceback
from typing import NoReturn

import click

from tap_generic_rest import interrupt, probe, redact
from tap_generic_rest.cli.failure_lines import EXPECTED, describe
from tap_generic_rest.cli.logs import error_line
from tap_generic_rest.config.input_files import check_input_files
from tap_generic_rest.errors import OutputClosedError
from tap_generic_rest.tap import TapGenericRest

__all__ = ["EXPECTED", "describe", "main"]


def _fail(message: str, status: int = 1) -> NoReturn:
    sys.stderr.write(error_line(redact.redact(message)) + "\n")
    sys.stderr.flush()
    raise SystemExit(status)


def _silence_stdout() -> None:
    """Point stdout at /dev/null: what is left in its buffer can no longer fail the exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no real stdout (tests): nothing to silence
        pass


def _output_closed() -> NoReturn:
    _silence_stdout()
    _fail("the target closed the tap's output (broken pipe); the run was not completed")


def _stopped(stopped: interrupt.Interrupted, *, unwound: bool) -> NoReturn:
    """End an interrupted run: final STATE (when a sync was cut short), one line, 128+signal."""
    try:
        if unwound:
            interrupt.finish()
        sys.stdout.flush()
    except (BrokenPipeError, OutputClosedError):
        _output_closed()
    what = (
        "stopped after writing the records read so far and a STATE covering them"
        if unwound
        else "it came as the run ended; the output is complete"
    )
    sys.stderr.write(error_line(f"interrupted by {stopped.signal_name}: {what}") + "\n")
    sys.stderr.flush()
    raise SystemExit(stopped.exit_code)


def _is_broken_pipe(exc: BaseException) -> bool:
    return isinstance(exc, BrokenPipeError) or (
        isinstance(exc, OSError) and exc.errno == errno.EPIPE
    )


def _bug(status: int = 1) -> NoReturn:
    _fail(
        f"unexpected failure (a bug, please report it):\n{traceback.format_exc().rstrip()}",
        status,
    )


def main(argv: list[str] | None = None) -> None:
    """Run the tap; expected failures: one line on stderr, exit status 1 (2 with --probe).

    SIGINT and SIGTERM end it with status 130 and 143 (see interrupt.py).
    """
    redact.install()
    interrupt.install()
    if argv is None:  # the process is the tap's own (not a caller's, as in the tests)
        # The interpreter's last collection would walk every object left (~50 ms of a
        # short run) only to free memory the OS takes back anyway; frozen ones are skipped.
        atexit.register(gc.freeze)
    args = sys.argv[1:] if argv is None else argv
    # --probe exits 1 for drift, so its failures need another status.
    status = probe.FAILED if "--probe" in args else 1
    try:
        check_input_files(args)
        code = TapGenericRest.cli.main(
            args=args, prog_name="tap-generic-rest", standalone_mode=False
        )
        sys.stdout.flush()
    except interrupt.Interrupted as stopped:
        _stopped(stopped, unwound=True)
    except OutputClosedError:
        _output_closed()
    except OSError as exc:  # requests' exceptions are OSErrors too
        if _is_broken_pipe(exc):
            _output_closed()
        if isinstance(exc, EXPECTED):
            _fail(describe(exc), status)
        _bug(status)
    except EXPECTED as exc:
        _fail(describe(exc), status)
    except click.ClickException as exc:
        exc.show()
        raise SystemExit(exc.exit_code) from None
    except click.exceptions.Abort:
        _fail("aborted", status)
    except Exception:  # noqa: BLE001  a bug: keep the traceback, but never a secret in it
        _bug(status)
    late = interrupt.requested()
    if late is not None:  # the signal came when the work was done: nothing was cut short
        _stopped(late, unwound=False)
    raise SystemExit(code or 0)


if __name__ == "__main__":
    main()
