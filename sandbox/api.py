"""The public Python API: :class:`Sandbox`, a local stand-in for the five REST APIs."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from sandbox.mutations import Mutation
from sandbox.projects import PREFIX as PROJECTS_PREFIX
from sandbox.projects import ProjectsAPI
from sandbox.server import FAULTS, App, SandboxServer, Settings, dumps, loads
from sandbox.sources import PAGINGS, SOURCES, Endpoint, Limits

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from types import TracebackType

    from sandbox.data import Record
    from sandbox.server import RequestLog


class Sandbox:
    """Serves the chat, helpdesk, tracker, statuspage and oncall APIs on 127.0.0.1.

    Deterministic for a seed: the same settings serve the same bytes. Use as a context manager
    or call :meth:`start` and :meth:`stop`. ``undeclared_fields=False`` drops the field no
    schema declares (``_sandbox_extra``), for suites that require records to match their schema.
    ``offset_page_cap`` makes helpdesk and statuspage send at most that many records a page,
    whatever ``limit`` asks, with no total (as real APIs cap silently); ``tricky_values`` and
    ``drift`` serve odd JSON and wrong-typed values (``sandbox/oddities.py``).
    ``bare_arrays`` names sources (``"statuspage"``) or streams (``"tracker.application_roles"``)
    served as bare JSON arrays, without their envelope, as the real Statuspage and Jira send them.
    ``lean`` serves lean records where a stream has a lean shape (``sandbox.data.LEAN``: helpdesk
    contacts with most of their scalar fields and ``location``, about 650 bytes), for benchmarks.
    """

    def __init__(
        self,
        seed: int = 7,
        *,
        sizes: Mapping[str, int] | None = None,
        default_size: int = 25,
        latency_ms: float = 0,
        fault_rate: float = 0.0,
        faults: Iterable[str] = FAULTS,
        max_failures_per_request: int | None = None,
        retry_after: float = 1,
        boards_max_results_cap: int = 20,
        oncall_page_size: int = 20,
        port: int = 0,
        echo_errors: bool = False,
        chat_count_cap: int = 100,
        log_requests: bool = True,
        cache_bytes: int = 2 * 1024**3,
        undeclared_fields: bool = True,
        offset_page_cap: int | None = None,
        tricky_values: bool = False,
        drift: bool = False,
        bare_arrays: Iterable[str] = (),
        lean: bool = False,
    ) -> None:
        self.settings = Settings(
            seed=seed,
            sizes=dict(sizes or {}),
            default_size=default_size,
            latency_ms=latency_ms,
            fault_rate=fault_rate,
            faults=tuple(faults),
            max_failures_per_request=max_failures_per_request,
            retry_after=retry_after,
            limits=Limits(
                chat_count_cap, boards_max_results_cap, oncall_page_size, offset_page_cap
            ),
            echo_errors=echo_errors,
            log_requests=log_requests,
            cache_bytes=cache_bytes,
            undeclared_fields=undeclared_fields,
            tricky_values=tricky_values,
            drift=drift,
            bare_arrays=frozenset(bare_arrays),
            lean=lean,
        )
        self._port = port
        self._app = App(self.settings)
        self._server: SandboxServer | None = None
        self._thread: threading.Thread | None = None
        self._opened_before_stop = 0

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Sandbox:
        """Bind (port 0: any free port) and serve in a background thread; returns at once."""
        if self._server is not None:
            return self
        server = SandboxServer(self._port, self._app)
        self._app.url = f"http://127.0.0.1:{server.server_address[1]}"
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"sandbox:{server.server_address[1]}",
            daemon=True,
        )
        self._server = server
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close every connection."""
        server, self._server = self._server, None
        if server is None:
            return
        self._opened_before_stop = server.opened
        server.shutdown()
        server.server_close()
        server.close_connections()
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ addresses

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (after :meth:`start`)."""
        if not self._app.url:
            raise RuntimeError("the sandbox is not started")
        return self._app.url

    @property
    def port(self) -> int:
        """The bound port."""
        return int(self.url.rsplit(":", 1)[1])

    def base_url(self, source: str) -> str:
        """The ``base_url`` setting for a source: ``{url}/chat/api/v1`` or ``{url}/<source>``.

        ``projects`` (the API for user specs, see ``sandbox/projects.py``): ``{url}/projects/v1``.
        """
        return self.url + (PROJECTS_PREFIX if source == "projects" else SOURCES[source].prefix)

    def credentials(self, source: str) -> dict[str, str]:
        """The source's credential settings (``api_token``, ``user_id``, ``api_key``...)."""
        return dict(self._app.credentials[source])

    def tap_config(self, source: str, **overrides: Any) -> dict[str, Any]:
        """A tap config for one source: ``source``, ``base_url``, credentials, then overrides."""
        return {
            "source": source,
            "base_url": self.base_url(source),
            **self.credentials(source),
            **overrides,
        }

    def manifest(self) -> dict[str, Any]:
        """Counts, credentials and base URLs, as ``GET /_sandbox/manifest`` returns them."""
        manifest: dict[str, Any] = loads(dumps(self._app.manifest()))
        return manifest

    # ------------------------------------------------------------------ data

    def records(self, source: str, stream: str, part: str | None = None) -> list[Record]:
        """Exactly the records served for a stream, in order (avatars: every type in turn).

        The records are fresh JSON-decoded copies: what a client parses from the pages.
        """
        eps = self._endpoints(source, stream)
        if part is not None:
            eps = [ep for ep in eps if ep.part == part]
            if not eps:
                raise KeyError(f"{source}.{stream} has no part {part!r}")
        rows = [row for ep in eps for row in self._app.rows(ep, source, 0, 1 << 40)]
        return list(loads(dumps(rows)))

    @property
    def projects(self) -> ProjectsAPI:
        """The projects API (records of its three resources, its credentials)."""
        return self._app.projects

    def counts(self) -> dict[str, dict[str, int]]:
        """Records per stream per source, e.g. ``{"chat": {"users": 25, ...}, ...}``."""
        return self._app.counts()

    def mutate(
        self,
        source: str,
        stream: str,
        *,
        insert: int = 0,
        at: int | None = 0,
        update: Iterable[int] = (),
        delete: Iterable[int] = (),
        part: str = "",
        after_requests: int | None = None,
    ) -> dict[str, Any]:
        """Change a stream's data, as ``POST /_sandbox/mutate`` does (see ``sandbox.mutations``).

        Positions index the records as served before this change: ``update`` gives them a new,
        later update time and an edited field, ``delete`` removes them (chat ``*.get`` lists
        them in ``remove``), ``insert`` new records go before position ``at`` (None: the end).
        With ``after_requests=N`` the change happens right after the stream's N-th page served
        from now on. Returns ``{"at": ms, "inserted": [...], "updated": [...], "deleted":
        [...]}`` (records as JSON-decoded copies), or ``{"scheduled": N}``.
        """
        mutation = Mutation(
            source,
            stream,
            part,
            insert,
            at,
            tuple(update),
            tuple(delete),
            after_requests,
        )
        result: dict[str, Any] = loads(dumps(self._app.mutate(mutation)))
        return result

    def prerender(
        self,
        source: str,
        stream: str,
        page_size: int | None = None,
        params: Mapping[str, str] | None = None,
    ) -> int:
        """Render and cache every page of a stream ahead of a benchmark; returns the page count.

        ``page_size`` is what the client will ask for (the source's page-size parameter);
        None renders the pages a client gets when it sends none. ``params`` are the other
        parameters the client sends (oncall ``sort``/``order``). Server caps apply as they do
        for requests. Pages are keyed by their parameters, not by URL spelling.
        """
        host = self.url.removeprefix("http://")
        src = SOURCES[source]
        pages = 0
        for ep in self._endpoints(source, stream):
            paging = PAGINGS[ep.paging]
            total = len(self._app.view(source, ep))
            start = 0
            while True:
                query: dict[str, list[str]] = {k: [v] for k, v in (params or {}).items()}
                if paging.start_param is not None:
                    query[paging.start_param] = [str(start)]
                    if page_size is not None and paging.size_param is not None:
                        query[paging.size_param] = [str(page_size)]
                self._app.page(src, ep, query, host)
                pages += 1
                if paging.one_page or start >= total:
                    break
                size = paging.window(ep, query, self.settings.limits).size
                start += size or total
        return pages

    @staticmethod
    def _endpoints(source: str, stream: str) -> list[Endpoint]:
        eps = [ep for ep in SOURCES[source].endpoints if ep.stream == stream]
        if not eps:
            raise KeyError(f"unknown stream {source}.{stream}")
        return eps

    # ------------------------------------------------------------------ observation

    @property
    def requests(self) -> list[RequestLog]:
        """Every request served so far (a snapshot), oldest first."""
        return list(self._app.log)

    def clear_requests(self) -> None:
        """Forget the logged requests."""
        self._app.log.clear()

    @property
    def connections_opened(self) -> int:
        """TCP connections accepted so far (a client reusing connections keeps this low)."""
        return self._server.opened if self._server else self._opened_before_stop

    @property
    def fault_count(self) -> int:
        """How many faults were injected so far."""
        return self._app.faults.count

    def __repr__(self) -> str:
        where = self._app.url or "not started"
        return f"Sandbox(seed={self.settings.seed}, {where})"
