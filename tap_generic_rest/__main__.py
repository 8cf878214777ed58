"""Command line entry point: the SDK's CLI, with one-line errors and redacted output."""

from __future__ import annotations

import sys
import traceback
from typing import NoReturn

import click
import requests
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError

from tap_generic_rest import redact
from tap_generic_rest.errors import TapError
from tap_generic_rest.inputs import check_input_files
from tap_generic_rest.tap import TapGenericRest

#: Failures that are about input or the remote API, not bugs: no traceback.
EXPECTED = (TapError, FatalAPIError, RetriableAPIError, requests.RequestException)


def _fail(message: str) -> NoReturn:
    sys.stderr.write(f"tap-generic-rest: error: {redact.redact(message)}\n")
    sys.stderr.flush()
    raise SystemExit(1)


def describe(exc: BaseException) -> str:
    """A one-line description of an expected failure."""
    if isinstance(exc, requests.RequestException) and not isinstance(exc, requests.HTTPError):
        kind = "timed out" if isinstance(exc, requests.Timeout) else "failed"
        return f"request {kind} after all retries: {exc}"
    if isinstance(exc, RetriableAPIError):
        return f"gave up after all retries: {exc}"
    return " ".join(str(exc).split()) or type(exc).__name__


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
        sys.stderr.write(redact.redact(traceback.format_exc()))
        raise SystemExit(1) from None
    raise SystemExit(code or 0)


if __name__ == "__main__":
    main()
