"""A small REST API on 127.0.0.1 for running one spec through dlt and through the tap.

Every paging style dlt knows, detail endpoints, children of children, POST search with the
page in the body, incremental filters, every auth kind and an OAuth token endpoint. The
data is fixed; :attr:`MockApi.requests` records what each request asked, so request counts
can be compared too.
"""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

ITEMS = [
    {"id": i, "name": f"item {i}", "updated": f"2024-01-{i:02d}T00:00:00Z", "group": i % 3}
    for i in range(1, 12)
]
COMMENTS = {
    item["id"]: [{"cid": item["id"] * 10 + k, "text": f"c{k}"} for k in range(2)]
    for item in ITEMS[:4]
}
TOKEN = "s3cr3t-bearer-token"
API_KEY = "k3y-abcdef"
BASIC = ("alice", "pa55word")
CLIENT = ("client-id-1", "client-secret-1")
OAUTH_TOKEN = "oauth-access-token-9"


class MockApi:
    """The server, started on a free port; ``base`` is its URL with ``/api/``."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.tokens_issued = 0
        self.events = list(ITEMS)
        #: What ``/api/parents`` serves (a test sets it).
        self.parents: list[Any] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return None

            def do_GET(self) -> None:
                api.handle(self, None)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                api.handle(self, raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.origin = f"http://127.0.0.1:{self.server.server_port}"
        self.base = f"{self.origin}/api/"

    def close(self) -> None:
        """Stop serving and free the port."""
        self.server.shutdown()
        self.server.server_close()

    def paths(self, prefix: str) -> list[str]:
        """The requests made to paths starting with ``prefix`` (path and query)."""
        return [r["target"] for r in self.requests if r["path"].startswith(prefix)]

    # --- routing ------------------------------------------------------------------

    def handle(self, handler: BaseHTTPRequestHandler, raw: bytes | None) -> None:
        url = urlsplit(handler.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        body: Any = None
        if raw:
            kind = handler.headers.get("Content-Type", "")
            body = (
                json.loads(raw)
                if "json" in kind
                else {k: v[0] for k, v in parse_qs(raw.decode()).items()}
            )
        self.requests.append(
            {
                "path": url.path,
                "target": handler.path,
                "query": query,
                "body": body,
                "headers": dict(handler.headers),
            }
        )
        status, payload, headers = self.route(url.path, query, body, handler.headers)
        data = json.dumps(payload).encode() if not isinstance(payload, bytes) else payload
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)

    def route(
        self, path: str, q: dict[str, str], body: Any, headers: Any
    ) -> tuple[int, Any, dict[str, str]]:
        parts = [p for p in path.split("/") if p]
        if path == "/oauth/token":
            return self.token(body)
        if parts[:1] != ["api"]:
            return 404, {"error": "not found"}, {}
        name, rest = (parts[1] if len(parts) > 1 else ""), parts[2:]
        auth = self.auth_failure(name, q, headers)
        if auth:
            return auth
        items = self.events if name == "events" else ITEMS
        if name == "events":
            items = [
                i
                for i in items
                if (not q.get("since") or i["updated"] >= q["since"])
                and (not q.get("until") or i["updated"] < q["until"])
            ]
        if name in ("items", "events", "secure") and not rest:
            return self.offset(items, q, total=True)
        if name == "plain":  # offset without a total
            return self.offset(items, q, total=False)
        if name == "items" and len(rest) == 1:
            found = next((i for i in ITEMS if str(i["id"]) == rest[0]), None)
            if found is None:
                return 404, {"error": f"no item {rest[0]}"}, {}
            return 200, {**found, "detail": True}, {}
        if name == "items" and len(rest) == 2 and rest[1] == "comments":
            return 200, COMMENTS.get(int(rest[0]), []), {}
        if name == "comments" and len(rest) == 2 and rest[1] == "likes":
            return 200, {"data": [{"like": f"{rest[0]}-{n}"} for n in range(2)]}, {}
        if name == "hasmore":  # offset, and a flag saying whether more follow ("false" as text)
            offset, limit = int(q.get("offset", 0)), int(q.get("limit", 3))
            more = "true" if offset + limit < len(ITEMS) else "false"
            return 200, {"data": ITEMS[offset : offset + limit], "meta": {"more": more}}, {}
        if name == "pagesmore":
            page = int(q.get("page", 1))
            return (
                200,
                {"data": ITEMS[(page - 1) * 4 : page * 4], "has_more": page * 4 < len(ITEMS)},
                {},
            )
        if name == "gaplink":  # page 2 of 3 holds no record, but links on
            page = int(q.get("page", 1))
            data = {1: ITEMS[:3], 2: [], 3: ITEMS[3:5]}[page]
            following = f"{self.origin}/api/gaplink?page={page + 1}" if page < 3 else None
            return 200, {"data": data, "next": following}, {}
        if name == "gapoffset":  # offset 3 holds no record, the total says more follow
            offset, limit = int(q.get("offset", 0)), int(q.get("limit", 3))
            data = [] if offset == 3 else ITEMS[offset : offset + limit]
            return 200, {"data": data, "total": 9}, {}
        if name == "pages":
            return self.pages(q)
        if name == "link":
            return self.link(q, relative=False)
        if name == "relink":
            return self.link(q, relative=True)
        if name == "headerlink":
            return self.header_link(q)
        if name == "cursor":
            return self.cursor(q.get("cursor"), header=False)
        if name == "headercursor":
            return self.cursor(q.get("cursor"), header=True)
        if name == "nested":
            return 200, {"result": {"items": ITEMS[:3], "count": 3}, "meta": {"x": [1]}}, {}
        if name == "nullpage":
            offset = int(q.get("offset", 0))
            return 200, {"data": ITEMS[offset : offset + 2] if offset < 4 else None}, {}
        if name == "search":
            return self.search(body or {})
        if name == "parents":
            return 200, self.parents, {}
        if name == "children":  # /api/children/<segment>/details
            return 200, [{"segment": rest[0] if rest else None, "parts": len(rest)}], {}
        if name == "ids":  # ids of which one has no item (a 404 for its detail)
            return 200, [{"id": 1}, {"id": 99}, {"id": 2}], {}
        if name == "unready":
            return 200, {"status": "not ready yet"}, {}
        return 404, {"error": "not found"}, {}

    def auth_failure(
        self, name: str, q: dict[str, str], headers: Any
    ) -> tuple[int, Any, dict[str, str]] | None:
        expected = {
            "bearer": ("Authorization", f"Bearer {TOKEN}"),
            "apikey": ("X-API-Key", API_KEY),
            "basic": (
                "Authorization",
                "Basic " + base64.b64encode(":".join(BASIC).encode()).decode(),
            ),
            "oauth": ("Authorization", f"Bearer {OAUTH_TOKEN}"),
        }
        if name == "apiquery":
            ok = q.get("api_key") == API_KEY
            return (200, {"data": ITEMS[:2]}, {}) if ok else (401, {"error": "key"}, {})
        if name not in expected:
            return None
        header, value = expected[name]
        if headers.get(header) != value:
            return 401, {"error": "unauthorized"}, {}
        return 200, {"data": ITEMS[:2]}, {}  # every auth endpoint serves the same page

    # --- paging styles --------------------------------------------------------------

    @staticmethod
    def offset(
        items: list[Any], q: dict[str, str], *, total: bool
    ) -> tuple[int, Any, dict[str, str]]:
        offset, limit = int(q.get("offset", 0)), int(q.get("limit", 3))
        page: dict[str, Any] = {"data": items[offset : offset + limit]}
        if total:
            page["total"] = len(items)
        return 200, page, {}

    @staticmethod
    def pages(q: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        page = int(q.get("page", 1))
        return 200, {"data": ITEMS[(page - 1) * 4 : page * 4], "total_pages": 3}, {}

    def link(self, q: dict[str, str], *, relative: bool) -> tuple[int, Any, dict[str, str]]:
        page = int(q.get("page", 1))
        following = None
        if page * 4 < len(ITEMS):
            target = f"/api/{'relink' if relative else 'link'}?page={page + 1}"
            following = target if relative else self.origin + target
        return 200, {"data": ITEMS[(page - 1) * 4 : page * 4], "next": following}, {}

    def header_link(self, q: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        page = int(q.get("page", 1))
        headers = {}
        if page * 4 < len(ITEMS):
            headers["Link"] = f'<{self.origin}/api/headerlink?page={page + 1}>; rel="next"'
        return 200, ITEMS[(page - 1) * 4 : page * 4], headers

    @staticmethod
    def cursor(cursor: str | None, *, header: bool) -> tuple[int, Any, dict[str, str]]:
        start = int(cursor[1:]) if cursor else 0
        following = f"c{start + 4}" if start + 4 < len(ITEMS) else None
        page = ITEMS[start : start + 4]
        if header:
            return 200, {"items": page}, ({"next": following} if following else {})
        return 200, {"items": page, "cursors": {"next": following}}, {}

    @staticmethod
    def search(body: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        wanted = body.get("filter", {}).get("group")
        items = [i for i in ITEMS if wanted is None or i["group"] == wanted]
        if "cursor" in body:
            start = int(body["cursor"] or 0)
            following = str(start + 2) if start + 2 < len(items) else None
            return 200, {"results": items[start : start + 2], "next_cursor": following}, {}
        if "page_no" in body:
            page = int(body["page_no"])
            return (
                200,
                {"results": items[(page - 1) * 2 : page * 2], "total": (len(items) + 1) // 2},
                {},
            )
        paging = body.get("paging", {})
        offset, limit = int(paging.get("offset", 0)), int(paging.get("limit", 2))
        return 200, {"results": items[offset : offset + limit], "total": len(items)}, {}

    def token(self, form: Any) -> tuple[int, Any, dict[str, str]]:
        form = form or {}
        if (form.get("grant_type"), form.get("client_id"), form.get("client_secret")) != (
            "client_credentials",
            *CLIENT,
        ):
            return 401, {"error": "invalid_client"}, {}
        self.tokens_issued += 1
        return (
            200,
            {"access_token": OAUTH_TOKEN, "expires_in": 3600, "scope": form.get("scope")},
            {},
        )
