"""Fetching pages ahead: up to N requests in flight, their records emitted in order.

Offset and startAt paging know the next pages' parameters before the earlier pages
arrive, so :class:`Prefetcher` keeps up to ``max_concurrent_requests`` pages asked
for at once (a sliding window) and hands their records on strictly in page order.
Every stop decision is still the paginator's, run over the responses in order:
pages asked for past the end are dropped unread, and the paginator's guards (a
repeated page, a startAt the server did not honour) apply as in the sequential loop.

Requests are sent by daemon worker threads, each with its own ``requests.Session``
(a Session is not meant to be shared between threads; the workers' sessions share
the stream session's cookie jar, which is). The workers only send and read; the
consuming thread prepares every request, decodes every body and does all the
bookkeeping (request counter, sync costs, parsing), so no SDK state of the stream is
touched from a worker, and decoding never competes with the writing of records.
How many pages are in flight follows the server (:class:`Pace`): up to
``max_concurrent_requests`` where its answers are slow enough to be worth hiding,
none ahead where it answers in a small fraction of the time a page takes to use.
Each request goes through the stream's retry decorator (the source's policy) after
waiting on the tap's gate (``http/rate_gate.py``): a wait the source asks of one request
holds back every worker.

Once the stream's end is known (or it fails, or the run is interrupted) its pages
still in flight are abandoned: their requests are cut short, their retry waits
end, and the holds they placed on the gate are lifted, so a page past the end
never holds back the rest of the run.
"""

from __future__ import annotations

import math
import queue
import threading
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from tap_generic_rest import interrupt
from tap_generic_rest.http import transport
from tap_generic_rest.http.body import BodyNotJSONError, json_body
from tap_generic_rest.paging import OffsetPaginator

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    import requests
    from singer_sdk.helpers.types import Context
    from singer_sdk.pagination import BaseAPIPaginator

    from tap_generic_rest.http.rate_gate import RateGate
    from tap_generic_rest.stream.base import GenericRestStream

#: Pages in flight unless ``max_concurrent_requests`` says otherwise.
DEFAULT_MAX_CONCURRENT_REQUESTS = 4
#: Seconds a closing fetcher waits for its workers to end (they are told to stop at once).
_JOIN_SECONDS = 1.0

_worker = threading.local()


def worker_session() -> requests.Session | None:
    """The session of the page-fetching worker running this thread, if it is one."""
    return cast("requests.Session | None", getattr(_worker, "session", None))


def worker_fetcher() -> PageFetcher | None:
    """The fetcher of the page-fetching worker running this thread, if it is one."""
    return cast("PageFetcher | None", getattr(_worker, "fetcher", None))


def worker_cancelled() -> threading.Event | None:
    """Set when the pages of this worker thread's fetcher are no longer wanted."""
    fetcher = worker_fetcher()
    return None if fetcher is None else fetcher.cancelled


class FetchCancelledError(Exception):
    """A page was no longer wanted when its turn to be sent came (never retried)."""


@dataclass
class _Page:
    """One page asked for: its token, its prepared request and the response to come."""

    token: int
    request: requests.PreparedRequest
    response: Future[requests.Response] = field(default_factory=Future)


class Pace:
    """How many pages to keep in flight: enough to hide the server's answer time, or none.

    Only the time spent waiting for the server can be hidden by fetching ahead: the
    rest of a request (preparing it, reading headers, decoding) takes the interpreter's
    lock, which the stream's thread needs too. So the pace compares the wait a page
    costs (wall time minus the thread's CPU time of a fetch on the stream's thread)
    with the CPU time the stream spends on a page. Where the wait is a small share of
    it (a fast API next door), pages are fetched when needed on the stream's thread:
    threads fetching alongside would then cost more than they hide. Where it is not,
    as many pages are kept in flight as cover the wait, up to ``max_concurrent_requests``.

    The first page is fetched on the stream's thread, and one page in every
    :attr:`REMEASURE` again, so the averages follow a server that speeds up or slows
    down (a wait measured in a worker would count the worker's wait for the lock).
    """

    #: The wait, as a share of the stream's CPU time per page, from which pages go ahead.
    WORTH = 0.25
    #: Pages between two fetched on the stream's thread (to measure the wait anew).
    REMEASURE = 100
    #: Weight of the newest page in the running averages.
    WEIGHT = 0.2

    def __init__(self, most: int) -> None:
        self.most = most
        self.wait: float | None = None  # seconds a page keeps the stream waiting for the server
        self.use: float | None = None  # the stream's CPU seconds per page
        self._since_measured = 0

    def fetched_here(self, wall: float, cpu: float) -> None:
        """A page was fetched on the stream's thread in ``wall`` seconds, ``cpu`` of them busy."""
        self.wait = self._average(self.wait, max(0.0, wall - cpu))
        self._since_measured = 0

    def fetched_ahead(self) -> None:
        """A page fetched ahead was taken."""
        self._since_measured += 1

    def used(self, cpu: float) -> None:
        """The stream spent ``cpu`` seconds of its thread on a page (fetch to next fetch)."""
        self.use = self._average(self.use, cpu)

    @property
    def in_flight(self) -> int:
        """Pages to keep asked for; 0: the next is fetched when needed, on the stream's thread."""
        if self.wait is None or not self.use or self._since_measured >= self.REMEASURE:
            return 0
        if self.wait < self.WORTH * self.use:
            return 0
        return min(self.most, math.ceil(self.wait / self.use))

    def _average(self, average: float | None, seconds: float) -> float:
        return seconds if average is None else average + self.WEIGHT * (seconds - average)


class PageFetcher:
    """Daemon worker threads that send prepared requests; pages come back in asked order.

    Outstanding pages (asked, not yet taken) are what bounds memory: the caller asks
    for at most as many as it allows in flight.
    """

    def __init__(
        self,
        send: Callable[[requests.PreparedRequest], requests.Response],
        *,
        workers: int,
        template: requests.Session,
        name: str,
        gate: RateGate | None = None,
    ) -> None:
        self._send = send
        self._workers = workers
        self._template = template
        self._name = name
        self._gate = gate
        self._jobs: queue.SimpleQueue[_Page | None] = queue.SimpleQueue()
        self._window: deque[_Page] = deque()
        self._threads: list[threading.Thread] = []
        self.cancelled = threading.Event()

    @property
    def outstanding(self) -> int:
        """Pages asked for and not yet taken."""
        return len(self._window)

    @property
    def next_token(self) -> int | None:
        """Token of the page :meth:`take` returns next, if any is outstanding."""
        return self._window[0].token if self._window else None

    def ask(self, token: int, request: requests.PreparedRequest) -> None:
        """Queue a page; a worker sends it as soon as one is free and the gate is open."""
        page = _Page(token, request)
        self._window.append(page)
        self._jobs.put(page)
        if len(self._threads) < min(self._workers, len(self._window)):
            thread = threading.Thread(
                target=self._work, name=f"{self._name}-{len(self._threads)}", daemon=True
            )
            self._threads.append(thread)
            thread.start()

    def take(self) -> tuple[_Page, requests.Response]:
        """Wait for the oldest page; raise its request's error as the request raised it."""
        page = self._window.popleft()
        return page, page.response.result()

    def discard(self) -> None:
        """Drop every outstanding page: unsent ones are not sent, answers are ignored."""
        for page in self._window:
            page.response.cancel()
        self._window.clear()

    def close(self) -> None:
        """Abandon what is outstanding and end the workers.

        Requests in flight are cut short, retry waits end, and the holds the pages
        placed on the gate are lifted; the workers are then given a moment to end.
        """
        self.cancelled.set()
        self.discard()
        for _ in self._threads:
            self._jobs.put(None)
        if self._gate is not None:
            self._gate.release(self)
        transport.abort_requests(t.ident for t in self._threads if t.ident is not None)
        deadline = time.monotonic() + _JOIN_SECONDS
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _work(self) -> None:
        session = transport.new_session(self._template)
        _worker.session = session
        _worker.fetcher = self
        try:
            while (page := self._jobs.get()) is not None:
                if not page.response.set_running_or_notify_cancel():
                    continue
                try:
                    page.response.set_result(self._send(page.request))
                except BaseException as exc:  # noqa: BLE001  # handed to the consuming thread
                    page.response.set_exception(exc)
        finally:
            _worker.session = None
            _worker.fetcher = None
            session.close()


@dataclass(frozen=True)
class _PageAt:
    """Stands in for the paginator when a page is prepared ahead: only its token is read."""

    current_value: int


class Prefetcher:
    """Runs one stream's offset or startAt paging with up to ``workers`` pages in flight.

    The first page is fetched alone: it tells the step (the records a full page holds,
    which a capping server sets) and the total, if any. Pages are then asked for at
    that step, never at or past the reported total, and taken in order; each goes
    through ``parse_response`` and the paginator's ``advance`` exactly as in the
    sequential loop, which decides where the stream ends. If the first page does not
    hold a full page as the paginator defines it, or a page does not end where the
    next one asked for starts, the rest is fetched one page at a time, so no record
    is ever skipped or repeated. The request counter counts the pages used.

    How many pages are in flight follows the server (:class:`Pace`): none ahead when
    it answers in a small fraction of the time a page takes to use.
    """

    def __init__(self, stream: GenericRestStream, context: Context | None, workers: int) -> None:
        self.stream = stream
        self.context = context
        self.workers = workers
        self._gate = stream.rate_gate  # created here, before any worker thread reads it
        decorated = stream.request_decorator(self._try_once)
        self._fetcher = PageFetcher(
            lambda request: decorated(request, context),
            workers=workers,
            template=stream.requests_session,
            name=f"{stream.name}-page",
            gate=self._gate,
        )
        self._send_here = decorated
        self._step = 0  # records per page once the first page has shown it; 0: one at a time
        self._total: int | None = None
        self._ahead = 0  # token of the next page to ask for
        self.pace = Pace(workers)

    def _try_once(
        self, request: requests.PreparedRequest, context: Context | None
    ) -> requests.Response:
        """One try of one request: wait for the gate, then the stream's own ``_request``."""
        if not self._gate.wait(self._fetcher.cancelled):
            raise FetchCancelledError
        return self.stream._request(request, context)

    def pages(self) -> Iterator[list[dict[str, Any]]]:
        """The stream's pages of records, in the order the sequential loop would yield them."""
        stream, context = self.stream, self.context
        paginator = stream.get_new_paginator()
        if not isinstance(paginator, OffsetPaginator):  # pragma: no cover - spec says prefetchable
            msg = f"stream '{stream.name}': paging {type(paginator).__name__} cannot prefetch"
            raise TypeError(msg)
        pages = 0
        try:
            with stream.get_http_request_counter() as request_counter:
                request_counter.with_context(context)
                cpu_since: float | None = None
                while not paginator.finished:
                    if cpu_since is not None:
                        self.pace.used(time.thread_time() - cpu_since)
                    cpu_since = time.thread_time()
                    page, response = self._next(paginator)
                    request_counter.increment()
                    stream.update_sync_costs(page.request, response, context)
                    records = stream.parse_response(response)
                    if not records:
                        if paginator.continue_if_empty(response):
                            self._advance(paginator, response)
                            continue
                        stream.log(
                            "Pagination stopped after %d pages because no records were "
                            "found in the last response",
                            pages,
                        )
                        break
                    yield records
                    pages += 1
                    self._advance(paginator, response)
        finally:
            self._fetcher.close()

    def _next(self, paginator: OffsetPaginator) -> tuple[_Page, requests.Response]:
        """The paginator's page: the oldest asked for, or fetched here when none is."""
        self._fill(paginator)
        if self._fetcher.outstanding:
            with interrupt.interruptible():  # waiting for a page writes nothing
                page, response = self._fetcher.take()
            response = self._decoded(page, response)
            self.pace.fetched_ahead()
        else:
            page = _Page(paginator.current_value, self._prepare(paginator.current_value))
            started, cpu = time.monotonic(), time.thread_time()
            response = self._send_here(page.request, self.context)
            self.pace.fetched_here(time.monotonic() - started, time.thread_time() - cpu)
        return page, response

    def _decoded(self, page: _Page, response: requests.Response) -> requests.Response:
        """The page's response with its body decoded, here: the workers only fetch.

        Decoding holds the interpreter's lock; in a worker it would stall the thread
        that writes records, for no gain. A body that is not JSON is asked for again
        on this thread, as a page fetched here is: the gate, then the source's retries.
        """
        try:
            json_body(response)
        except BodyNotJSONError:
            return self._send_here(page.request, self.context)  # type: ignore[no-any-return]
        return response

    def _fill(self, paginator: OffsetPaginator) -> None:
        """Ask for pages up to the pace: the paginator's own page first, none past the total."""
        in_flight = self.pace.in_flight
        if not in_flight:
            return  # fetched when needed (_next); pages asked for before are taken first
        if not self._fetcher.outstanding:
            self._ahead = paginator.current_value
            self._ask()
        while (
            self._step
            and self._fetcher.outstanding < in_flight
            and (self._total is None or self._ahead < self._total)
        ):
            self._ask()

    def _ask(self) -> None:
        token = self._ahead
        self._fetcher.ask(token, self._prepare(token))
        self._ahead = token + self._step

    def _prepare(self, token: int) -> requests.PreparedRequest:
        page = cast("BaseAPIPaginator[Any]", _PageAt(token))
        return self.stream._prepare_request(context=self.context, page=page)

    def _advance(self, paginator: OffsetPaginator, response: requests.Response) -> None:
        """Advance the paginator, then decide what may be asked ahead of it.

        The step is what a full page holds, known from a page that held a full page
        (the first one, or the first after a capping server's page size was adopted);
        a page that is not full means one page at a time until the next full one.
        Pages asked ahead are dropped when they no longer follow on, and when records
        moved (the data changed while paging): pages answered before the change
        would otherwise skip the records it shifted.
        """
        start = paginator.current_value
        paginator.advance(response)
        if paginator.finished:
            return
        body = json_body(response)
        self._total = paginator.page_total(body)
        received = paginator.current_value - start
        limit = paginator.page_limit(body)
        step = received if received == limit else 0
        if paginator.moved or self._fetcher.next_token not in (None, paginator.current_value):
            self._fetcher.discard()
        if self._step and not step:
            self.stream.log(
                "stream '%s': a page at %d held %d records where a page holds %d; "
                "fetching one page at a time until a full page",
                self.stream.name,
                start,
                received,
                limit,
            )
        self._step = step
