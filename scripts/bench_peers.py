"""What the throughput benchmark measures the tap against, each run as its own process.

``python scripts/bench_peers.py floor CONFIG STREAM [hc|gc]`` runs a raw floor (requests,
or ``http.client`` with ``hc``, and orjson, writing Singer RECORD lines, nothing else);
``python scripts/bench_peers.py dlt CONFIG STREAM`` runs dlt's ``rest_api`` source on the same
API with ``pipeline.extract`` only (no normalize, no load): what a user of dlt-format
configurations would otherwise run. Both read the tap's config file (``source``,
``base_url``, credentials, ``page_size``) and print their record count on stderr.
"""

from __future__ import annotations

import json
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any


def floor_run(config_path: str, stream: str, variant: str = "") -> None:
    """Fetch, decode and write RECORD lines with nothing else: the fastest plain loop.

    ``variant`` "hc" (mode floor-hc) fetches with ``http.client`` (one keep-alive
    connection, one read per body) instead of requests; "gc" (mode floor-gc) gives the
    floor the tap's garbage-collector settings (records.writer.gc_tuned_for_streaming,
    and no collection while decoding).
    """
    import gc
    import http.client
    from urllib.parse import urlencode, urlsplit

    import orjson
    import requests

    loads = orjson.loads
    if variant == "gc":
        from tap_generic_rest.http.body import loads
        from tap_generic_rest.records.writer import GC_THRESHOLD_WHILE_STREAMING

        gc.set_threshold(GC_THRESHOLD_WHILE_STREAMING, *gc.get_threshold()[1:])

    config = json.loads(Path(config_path).read_text())
    page_size = int(config["page_size"])
    base = config["base_url"].rstrip("/")
    out = sys.stdout.buffer
    headers: dict[str, str] = {}
    query: dict[str, Any] = {}
    if config["source"] == "helpdesk":
        url: str | None = f"{base}/v1/contacts"
        params: dict[str, Any] | None = {"offset": 0, "limit": page_size}
        query = {"api_key": config["api_key"]}
    else:
        url, params = f"{base}/v2/alerts", {"limit": page_size}
        headers["api_key"] = config["api_token"]
    session = requests.Session()
    session.params, session.headers["api_key"] = query, headers.get("api_key", "")
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=300)

    def fetch(url: str, params: dict[str, Any] | None) -> bytes:
        if variant != "hc":
            response = session.get(url, params=params, timeout=300)
            response.raise_for_status()
            return response.content
        target = urlsplit(url)  # a next link carries its own query
        path = target.path + "?" + (urlencode({**query, **params}) if params else target.query)
        connection.request("GET", path, headers=headers)
        answer = connection.getresponse()
        body = answer.read()
        if answer.status != 200:
            sys.exit(f"status {answer.status}")
        return body

    head = {"type": "RECORD", "stream": stream}
    count = 0
    while url:
        body = loads(fetch(url, params))
        records = body["data"]
        extracted = datetime.now(timezone.utc).isoformat()
        for record in records:
            line = {**head, "record": record, "time_extracted": extracted}
            out.write(orjson.dumps(line, option=orjson.OPT_APPEND_NEWLINE))
        count += len(records)
        if config["source"] == "helpdesk":
            if len(records) < page_size:
                break
            params = {"offset": count, "limit": page_size}
        else:
            url, params = body.get("paging", {}).get("next"), None
    out.flush()
    sys.stderr.write(f"floor records {count}\n")


def dlt_run(config_path: str, stream: str) -> None:
    """dlt's ``rest_api`` extraction of the stream: the same requests, paging and auth."""
    import dlt
    from dlt.sources.rest_api import rest_api_source

    config = json.loads(Path(config_path).read_text())
    page_size = int(config["page_size"])
    if config["source"] == "helpdesk":
        auth = {"type": "api_key", "name": "api_key", "api_key": config["api_key"]}
        client = {
            "auth": {**auth, "location": "query"},
            "paginator": {"type": "offset", "limit": page_size, "total_path": None},
        }
        path = "v1/contacts"
    else:
        client = {
            "auth": {"type": "api_key", "name": "api_key", "api_key": config["api_token"]},
            "paginator": {"type": "json_link", "next_url_path": "paging.next"},
        }
        path = "v2/alerts"
    endpoint: dict[str, Any] = {"path": path, "data_selector": "data"}
    if config["source"] != "helpdesk":
        endpoint["params"] = {"limit": page_size}
    source = rest_api_source(
        {
            "client": {"base_url": config["base_url"].rstrip("/") + "/", **client},
            "resources": [{"name": stream, "endpoint": endpoint}],
        }
    )
    with tempfile.TemporaryDirectory(prefix="bench-dlt-") as tmp:
        pipeline = dlt.pipeline(pipeline_name="bench", pipelines_dir=tmp, dataset_name="bench")
        info = pipeline.extract(source)
        count = sum(
            job.items_count
            for metrics in info.metrics.values()
            for step in metrics
            for name, job in step["job_metrics"].items()
            if name.startswith(f"{stream}.")
        )
    sys.stderr.write(f"floor records {count}\n")


def main() -> None:
    """``floor CONFIG STREAM [hc|gc]`` or ``dlt CONFIG STREAM``."""
    kind, *args = sys.argv[1:]
    {"floor": floor_run, "dlt": dlt_run}[kind](*args)


if __name__ == "__main__":
    main()
