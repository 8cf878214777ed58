"""Small purpose-built servers that misbehave, for the tap's reliability tests.

Each answers every request on 127.0.0.1 (a free port) through ``respond(handler)``,
which writes whatever it likes with the raw socket file: a body trickled a byte at
a time, headers trickled, an endless chunked body, a decompression bomb. Requests
are recorded (path, query, headers). Started and stopped by the test that uses it.
"""

from __future__ import annotations

import json
import threading
import zlib
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import parse_qs, urlsplit

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import TracebackType


class HostileServer(ThreadingHTTPServer):
    """A threaded HTTP server whose every answer is written by ``respond``."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, respond: Callable[[Handler], None]) -> None:
        self.respond = respond
        self.seen: list[tuple[str, dict[str, list[str]], dict[str, str]]] = []
        self.stopping = threading.Event()
        super().__init__(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stopping.set()
        self.shutdown()
        self.server_close()
        self._thread.join()

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # the tap hanging up on a trickle or a bomb is the point


class Handler(BaseHTTPRequestHandler):
    server: HostileServer
    protocol_version: ClassVar[str] = "HTTP/1.1"

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        self.server.seen.append(
            (parts.path, parse_qs(parts.query, keep_blank_values=True), dict(self.headers.items()))
        )
        self.server.respond(self)

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.path).query, keep_blank_values=True)

    def log_message(self, *args: Any) -> None:
        pass

    # --- ways to answer ---------------------------------------------------------------

    def send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def trickle(self, data: bytes, every: float, *, head: bytes = b"") -> None:
        """Write ``head`` at once, then ``data`` one byte every ``every`` seconds."""
        try:
            self.wfile.write(head)
            self.wfile.flush()
            for byte in data:
                if self.server.stopping.wait(every):
                    return
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
        except OSError:
            self.close_connection = True

    def endless(self, unit: bytes) -> None:
        """A chunked JSON body that never ends: ``{"data": [unit, unit, ...``."""
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunk = b",".join([unit] * 2048) + b","
        framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
        try:
            first = b'{"data": ['
            self.wfile.write(f"{len(first):x}\r\n".encode() + first + b"\r\n")
            while not self.server.stopping.is_set():
                self.wfile.write(framed)
        except OSError:
            self.close_connection = True

    def bomb(self, encoding: str) -> None:
        """A 200 whose ``encoding``-compressed body decodes to 1 GiB (a JSON string)."""
        payload = compressed_gib(encoding)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Encoding", encoding)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        try:
            self.wfile.write(payload)
        except OSError:
            self.close_connection = True


@cache
def compressed_gib(encoding: str) -> bytes:
    """``{"data": "xxxx...."}`` of 1 GiB, compressed with gzip or deflate (about 1 MB)."""
    wbits = {"gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}[encoding]
    compressor = zlib.compressobj(9, zlib.DEFLATED, wbits)
    parts = [compressor.compress(b'{"data": "')]
    block = b"x" * (1 << 20)
    parts.extend(compressor.compress(block) for _ in range(1024))
    parts.append(compressor.compress(b'"}'))
    parts.append(compressor.flush())
    return b"".join(parts)


def records_page(handler: Handler, total: int, *, key: str = "data") -> None:
    """An offset/limit page of ``total`` records ``{"id": "r<i>"}`` (helpdesk-shaped)."""
    offset = int(handler.query.get("offset", ["0"])[0])
    limit = int(handler.query.get("limit", ["100"])[0])
    rows = [{"id": f"r{i}"} for i in range(offset, min(total, offset + limit))]
    handler.send_json(200, {key: rows})
