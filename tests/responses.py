"""Build real ``requests.Response`` objects by hand for paginator and auth unit tests."""

from __future__ import annotations

from typing import Any

import orjson
import requests


def make_response(
    body: Any,
    *,
    status: int = 200,
    url: str = "https://api.example.com/v1/things",
    headers: dict[str, str] | None = None,
) -> requests.Response:
    """A real Response with a JSON body, as the transport adapter would build it."""
    response = requests.Response()
    response.status_code = status
    response._content = body if isinstance(body, bytes) else orjson.dumps(body)
    response.url = url
    response.headers.update(headers or {})
    response.request = requests.Request("GET", url).prepare()
    return response
