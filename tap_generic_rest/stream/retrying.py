"""How a stream's requests are retried: the SDK's backoff hooks, driven by the source's policy.

The SDK retries a request through ``request_decorator`` and its hooks (the wait
generator, the jitter, the handler). Here they follow the stream's
:class:`~tap_generic_rest.http.retry_policy.RetryPolicy` (its own, else its source's): the statuses
it retries, the waits it asks for (a server's hint first, capped by
``max_wait_seconds``), ``max_retries``. A wait on a retried status holds back every
request of the run (the tap's :class:`~tap_generic_rest.http.rate_gate.RateGate`), and
any wait ends at once on a signal or when the page it was for is abandoned.
"""

from __future__ import annotations

import contextlib
import logging
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

import backoff
import requests
from singer_sdk.exceptions import RetriableAPIError
from typing_extensions import override

from tap_generic_rest import interrupt
from tap_generic_rest.stream.bookmarks import BookmarkStream
from tap_generic_rest.stream.prefetch import FetchCancelledError, worker_cancelled, worker_fetcher

if TYPE_CHECKING:
    from collections.abc import Generator

    from backoff.types import Details

    from tap_generic_rest.http.rate_gate import RateGate
    from tap_generic_rest.http.retry_policy import RetryPolicy
    from tap_generic_rest.source import Source
    from tap_generic_rest.summary import StreamStats

_WAIT_REASON = "_tap_generic_rest_wait_reason"
_WAIT_SECONDS = "_tap_generic_rest_wait_seconds"

#: Failures retried whatever the status policy says: the network, and bodies cut short
#: (a Content-Length larger than the body raises ChunkedEncodingError in requests).
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (
    ConnectionResetError,
    RetriableAPIError,
    requests.exceptions.Timeout,
    requests.exceptions.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


class RetryingStream(BookmarkStream):
    """A REST stream whose requests are retried by its source's policy."""

    #: The source the tap is configured for (set by the stream base class).
    source: Source
    #: The stream's own retry policy, where it differs from its source's (a spec endpoint's).
    retry: ClassVar[RetryPolicy | None] = None

    @property
    def retry_policy(self) -> RetryPolicy:
        """The stream's retry policy: its own if it declares one, else its source's."""
        return self.retry or self.source.retry

    @cached_property
    def stats(self) -> StreamStats:
        """This stream's counters in the run's summary."""
        return self._tap.summary.stream(self.name)  # type: ignore[attr-defined,no-any-return]

    @property
    def rate_gate(self) -> RateGate:
        """The tap's gate: a wait the source asks of one request holds back all of them."""
        gate: RateGate = self._tap.rate_gate  # type: ignore[attr-defined]
        return gate

    def hold_source(self, exception: BaseException | None, wait: float) -> None:
        """Make a retry on a status the policy lists (429, 420...) hold back every request.

        A page fetched ahead holds on behalf of its fetcher: the hold is lifted when
        the stream's end is known and the page abandoned.
        """
        response = getattr(exception, "response", None)
        if response is not None and response.status_code in self.retry_policy.statuses:
            self.rate_gate.hold(wait, owner=worker_fetcher())

    # --- the SDK's backoff hooks -------------------------------------------------------

    @cached_property
    def max_wait_seconds(self) -> float:
        """Cap on any single wait between retries."""
        value = self.config.get("max_wait_seconds")
        return 300.0 if value is None else float(value)

    @override
    def backoff_max_tries(self) -> int:
        retries = self.config.get("max_retries")
        return 1 + (self.retry_policy.max_retries if retries is None else int(retries))

    @override
    def request_decorator(self, func: Any) -> Any:
        """Retry ``func`` on the SDK's transient failures, by the source's policy.

        The same hooks and transient exceptions as the SDK's, without the backoff
        library's own log line: :meth:`backoff_handler` writes the one line per retry
        and waits, where a signal or an abandoned page can end the wait (backoff's
        own sleep cannot be cut short: it is given nothing to sleep).
        """
        retried = backoff.on_exception(
            self._waits_for_handler,
            TRANSIENT_ERRORS,
            max_tries=self.backoff_max_tries,
            on_backoff=self.backoff_handler,
            jitter=None,
            logger=None,
        )(func)

        def send(*args: Any, **kwargs: Any) -> Any:
            with interrupt.interruptible():  # nothing is written meanwhile: stop at once
                return retried(*args, **kwargs)

        return send

    def _waits_for_handler(self) -> Generator[float, Any, None]:
        """The policy's waits, kept on each exception for the handler; backoff sleeps 0."""
        waits = self.backoff_wait_generator()
        exception = yield next(waits)
        while True:
            wait = self.backoff_jitter(waits.send(exception))
            with contextlib.suppress(AttributeError):
                setattr(exception, _WAIT_SECONDS, wait)
            exception = yield 0.0

    @override
    def backoff_wait_generator(self) -> Generator[float, Any, None]:
        retry_number = 0
        exception = yield 0.0  # primed by backoff; the first real value follows a failure
        while True:
            retry_number += 1
            response = getattr(exception, "response", None)
            headers = response.headers if response is not None else None
            wait, reason = self.retry_policy.wait(retry_number, headers, self.max_wait_seconds)
            # Kept on the exception, which backoff hands to backoff_handler next:
            # requests of one stream may run in several threads.
            with contextlib.suppress(AttributeError):
                setattr(exception, _WAIT_REASON, reason)
            exception = yield wait

    @override
    def backoff_jitter(self, value: float) -> float:
        # Waits are exactly the policy's (or the server's): no jitter that could cut a hint.
        return value

    @override
    def backoff_handler(self, details: Details) -> None:
        exception = details.get("exception")
        cancelled = worker_cancelled()
        if cancelled is not None and cancelled.is_set():
            raise FetchCancelledError  # an abandoned page: no retry, no wait, no hold
        wait = float(getattr(exception, _WAIT_SECONDS, details.get("wait") or 0.0))
        response = getattr(exception, "response", None)
        failure = (
            f"status {response.status_code}"
            if response is not None
            else type(exception).__name__
            if exception
            else "failure"
        )
        # The path as sent (avatars fill in their type), never the query: it may hold a key.
        request = getattr(exception, "request", None) or getattr(response, "request", None)
        path = str(getattr(request, "path_url", "") or self.path).split("?", 1)[0]
        self.log(
            "stream '%s': %s on %s; retry %d of %d in %.2f s (wait from %s)",
            self.name,
            failure,
            path,
            details.get("tries", 0),
            self.backoff_max_tries() - 1,
            wait,
            getattr(exception, _WAIT_REASON, "backoff"),
            level=logging.WARNING,
        )
        self.stats.retry()
        self.hold_source(exception, wait)
        if interrupt.pause(wait, cancelled):
            raise FetchCancelledError
