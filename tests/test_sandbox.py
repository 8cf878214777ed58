"""The sandbox API: envelopes, paging, auth, determinism, faults, latency, manifest, CLI."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from sandbox import FAULTS, Sandbox
from sandbox.sources import SOURCES

ROOT = Path(__file__).resolve().parents[1]

SIZES = {
    "chat.users": 53,
    "chat.rooms": 12,
    "helpdesk.contacts": 200,  # an exact multiple of the page size: the last page is empty
    "helpdesk.teams": 7,
    "tracker.boards": 45,
    "tracker.avatars.project": 4,
    "statuspage.pages": 30,
    "oncall.alerts": 47,
}

# Streams whose real API never returns a null top-level field.
NEVER_NULL = {("chat", "teams"), ("helpdesk", "teams"), ("tracker", "avatars")}

# Streams of identifiers and URLs only.
ASCII_ONLY = {("tracker", "application_roles")}

# Fields the tap adds to records (the partition an avatar was read from), not the API.
TAP_ADDED = {("tracker", "avatars"): {"avatar_type"}}

SCHEMA_FILES = sorted((ROOT / "schemas").glob("*/*.json"))

RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")

# Every path with the records key of its envelope.
ENDPOINTS = [
    (source.name, ep.stream, ep.path, ep.key, ep.part)
    for source in SOURCES.values()
    for ep in source.endpoints
]


def auth(sb: Sandbox, source: str, variant: int = 0) -> dict[str, Any]:
    """``requests`` keyword arguments that authenticate to a source.

    ``variant`` 1 uses the alternative form where a source accepts two.
    """
    creds = sb.credentials(source)
    if source == "chat":
        return {"headers": {"X-Auth-Token": creds["api_token"], "X-User-Id": creds["user_id"]}}
    if source == "helpdesk":
        return {"params": {"api_key": creds["api_key"]}}
    if source == "tracker":
        return {"auth": (creds["email"], creds["api_token"])}
    key = creds["api_key" if source == "statuspage" else "api_token"]
    if variant:
        scheme = "OAuth" if source == "statuspage" else "GenieKey"
        return {"headers": {"Authorization": f"{scheme} {key}"}}
    return {"headers": {"api_key": key}}


def get(
    session: requests.Session,
    sb: Sandbox,
    source: str,
    path: str,
    params: dict[str, Any] | None = None,
    **kwargs: Any,
) -> requests.Response:
    """GET a source path with the source's credentials (kwargs override them)."""
    options = {**auth(sb, source), **kwargs}
    options["params"] = {**options.get("params", {}), **(params or {})}
    return session.get(sb.base_url(source) + path, timeout=10, **options)


@pytest.fixture(scope="module")
def sb() -> Any:
    with Sandbox(seed=11, sizes=SIZES) as sandbox:
        yield sandbox


@pytest.fixture
def session() -> Any:
    with requests.Session() as s:
        yield s


def walk(
    session: requests.Session, sb: Sandbox, source: str, path: str, key: str, page_size: int
) -> list[dict[str, Any]]:
    """Read a whole stream the way the source's paging asks a client to."""
    out: list[dict[str, Any]] = []
    if source == "oncall":
        url: str | None = sb.base_url(source) + path
        params: dict[str, Any] | None = {"limit": page_size}
        while url:
            body = session.get(url, params=params, timeout=10, **auth(sb, source)).json()
            out += body["data"]
            url, params = body["paging"].get("next"), None
        return out
    names = {"chat": ("offset", "count"), "tracker": ("startAt", "maxResults")}
    start_name, size_name = names.get(source, ("offset", "limit"))
    start = 0
    while True:
        body = get(session, sb, source, path, {start_name: start, size_name: page_size}).json()
        out += body[key]
        if source == "tracker" and body["isLast"]:
            return out
        if source == "chat" and start + body["count"] >= body["total"]:
            return out
        if len(body[key]) < (body.get("maxResults") or page_size):
            return out
        start += len(body[key])


# --------------------------------------------------------------------------- envelopes


@pytest.mark.parametrize(("source", "stream", "path", "key", "part"), ENDPOINTS)
def test_every_endpoint_serves_its_envelope(
    sb: Sandbox, session: requests.Session, source: str, stream: str, path: str, key: str, part: str
) -> None:
    response = get(session, sb, source, path)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    records = body[key]
    assert records == sb.records(source, stream, part or None)[: len(records)]
    expected_keys = {
        "chat": {
            "teams": {"teams", "count", "offset", "total", "success"},
            "channels": {"channels", "count", "offset", "total", "success"},
            "users": {"users", "count", "offset", "total", "success"},
            "rooms": {"update", "remove", "success"},
            "subscriptions": {"update", "remove", "success"},
            "roles": {"roles", "success"},
        },
        "tracker": {"boards": {"maxResults", "startAt", "total", "isLast", "values"}},
        "oncall": {
            stream: {"data", "took", "requestId", "paging"}
            for stream in SOURCES["oncall"].streams()
        },
    }.get(source, {}).get(stream, {key})
    assert set(body) == expected_keys


@pytest.mark.parametrize(("source", "stream", "path", "key", "part"), ENDPOINTS)
def test_bare_arrays_serve_the_same_records_without_an_envelope(
    session: requests.Session, source: str, stream: str, path: str, key: str, part: str
) -> None:
    """As the real Statuspage lists and Jira's application roles answer: the records only."""
    with Sandbox(seed=11, sizes=SIZES, bare_arrays=[source]) as bare:
        body = get(session, bare, source, path).json()
        assert isinstance(body, list)
        assert body == bare.records(source, stream, part or None)[: len(body)]
        assert body


def test_bare_arrays_name_sources_or_streams() -> None:
    with Sandbox(bare_arrays=["tracker.application_roles"]) as sb, requests.Session() as s:
        assert isinstance(get(s, sb, "tracker", "/v1/applicationrole").json(), list)
        assert isinstance(get(s, sb, "tracker", "/v1/avatar/user/system").json(), dict)
    with pytest.raises(ValueError, match="unknown source or stream"):
        Sandbox(bare_arrays=["tracker.roles"])


def test_records_have_the_vendors_types() -> None:
    """The types the vendors send, where the first reading of the APIs had others (issue 12)."""
    sb = Sandbox(seed=5, default_size=60)
    advanced = {r["advanced"] for r in sb.records("oncall", "integrations")}
    assert advanced == {True, False}
    teams = [r["team_assignee_id"] for r in sb.records("helpdesk", "conversations")]
    assert {type(t) for t in teams} == {int, type(None)}
    for stream in ("rooms", "channels"):
        forms = {type(r["sysMes"]) for r in sb.records("chat", stream)}
        assert forms == {bool, list}, stream
        lists = [r["sysMes"] for r in sb.records("chat", stream) if isinstance(r["sysMes"], list)]
        assert all(lists)
        assert all(isinstance(t, str) for x in lists for t in x)
    spend = {type(r["monthly_spend"]) for r in sb.records("helpdesk", "companies")}
    assert spend == {int}
    direct = [r for r in sb.records("chat", "rooms") if r["t"] == "d"]
    assert direct
    assert all(r["uids"] and r["usernames"] for r in direct)
    assert any(r["name"] is None and r["u"] is None for r in direct), "DMs have no name or owner"
    assert "" in {r["teamId"] for r in sb.records("oncall", "integrations")}


def test_chat_offset_paging_reports_total(sb: Sandbox, session: requests.Session) -> None:
    body = get(session, sb, "chat", "/users.list", {"offset": 50, "count": 10}).json()
    assert (body["count"], body["offset"], body["total"]) == (3, 50, 53)
    assert body["success"] is True
    default = get(session, sb, "chat", "/users.list").json()
    assert default["count"] == 25  # count defaults to 25
    capped = get(session, sb, "chat", "/users.list", {"count": 500}).json()
    assert capped["count"] == 53  # under the cap of 100: everything
    assert walk(session, sb, "chat", "/users.list", "users", 1) == sb.records("chat", "users")


def test_chat_update_endpoints_filter_on_updated_since(
    sb: Sandbox, session: requests.Session
) -> None:
    rooms = sb.records("chat", "rooms")
    assert len(rooms) == 12
    middle = sorted(room["_updatedAt"] for room in rooms)[5]
    body = get(session, sb, "chat", "/rooms.get", {"updatedSince": middle}).json()
    assert body["update"] == [room for room in rooms if room["_updatedAt"] > middle]
    assert 0 < len(body["update"]) < len(rooms)
    assert get(session, sb, "chat", "/rooms.get", {"updatedSince": "x"}).status_code == 400


def test_helpdesk_has_no_total_and_ends_with_an_empty_page(
    sb: Sandbox, session: requests.Session
) -> None:
    pages = [
        get(session, sb, "helpdesk", "/v1/contacts", {"offset": offset}).json()
        for offset in (0, 100, 200)
    ]
    assert all(set(page) == {"data"} for page in pages)
    assert [len(page["data"]) for page in pages] == [100, 100, 0]
    assert walk(session, sb, "helpdesk", "/v1/contacts", "data", 100) == sb.records(
        "helpdesk", "contacts"
    )
    short = get(session, sb, "helpdesk", "/v1/teams", {"limit": 5, "offset": 5}).json()
    assert len(short["data"]) == 2


def test_tracker_caps_max_results_and_flags_the_last_page(
    sb: Sandbox, session: requests.Session
) -> None:
    first = get(session, sb, "tracker", "/v1/board", {"maxResults": 50}).json()
    assert (first["maxResults"], first["startAt"], first["total"], first["isLast"]) == (
        20,
        0,
        45,
        False,
    )
    assert len(first["values"]) == 20
    last = get(session, sb, "tracker", "/v1/board", {"startAt": 40, "maxResults": 50}).json()
    assert (len(last["values"]), last["isLast"]) == (5, True)
    boards = walk(session, sb, "tracker", "/v1/board", "values", 50)
    assert [board["id"] for board in boards] == list(range(1, 46))
    assert get(session, sb, "tracker", "/v1/board", {"startAt": "x"}).status_code == 400


def test_tracker_avatars_per_type_with_ids_unique_across_types(
    sb: Sandbox, session: requests.Session
) -> None:
    ids = []
    for kind, size in (("issuetype", 10), ("project", 4), ("user", 10)):
        system = get(session, sb, "tracker", f"/v1/avatar/{kind}/system").json()["system"]
        assert len(system) == size
        ids += [avatar["id"] for avatar in system]
    assert len(ids) == len(set(ids)) == sb.counts()["tracker"]["avatars"]
    assert get(session, sb, "tracker", "/v1/avatar/board/system").status_code == 404


def test_oncall_next_urls_are_absolute_and_visit_every_record_once(
    sb: Sandbox, session: requests.Session
) -> None:
    first = get(session, sb, "oncall", "/v2/alerts").json()
    assert len(first["data"]) == 20  # oncall_page_size
    assert first["paging"]["next"] == (
        f"{sb.url}/oncall/v2/alerts?offset=20&limit=20&sort=createdAt&order=desc"
    )
    alerts = walk(session, sb, "oncall", "/v2/alerts", "data", 10)
    assert [alert["id"] for alert in alerts] == [a["id"] for a in sb.records("oncall", "alerts")]
    assert len({alert["id"] for alert in alerts}) == 47
    created = [alert["createdAt"] for alert in alerts]
    assert created == sorted(created, reverse=True)  # newest first
    last = get(session, sb, "oncall", "/v2/alerts", {"offset": 40, "limit": 10}).json()
    assert "next" not in last["paging"]
    assert last["paging"]["first"].startswith(f"{sb.url}/oncall/v2/alerts?offset=0")


def test_every_paged_stream_reads_back_exactly_its_records(
    sb: Sandbox, session: requests.Session
) -> None:
    for source, stream, path, key, part in ENDPOINTS:
        if part or path in (
            "/rooms.get",
            "/subscriptions.get",
            "/roles.list",
            "/v1/applicationrole",
        ):
            continue
        assert walk(session, sb, source, path, key, 7) == sb.records(source, stream), path


# --------------------------------------------------------------------------- data


@pytest.mark.parametrize(("source", "stream"), sorted({(s, st) for s, st, *_ in ENDPOINTS}))
def test_records_are_realistic(source: str, stream: str) -> None:
    sb = Sandbox(seed=5, default_size=120)  # records() needs no running server
    records = sb.records(source, stream)
    key = {"chat": "_id", "tracker": "key" if stream == "application_roles" else "id"}.get(
        source, "id"
    )
    keys = [record[key] for record in records]
    assert len(keys) == len(set(keys)), "primary keys are unique"
    if source == "chat":
        assert all(len(k) == 17 and k.isalnum() for k in keys)
    assert any("_sandbox_extra" in record for record in records)
    values = [v for record in records for v in record.values()]
    if (source, stream) not in NEVER_NULL:
        assert None in values, "some nullable fields are null"
    text = json.dumps(records, ensure_ascii=False)
    if (source, stream) not in ASCII_ONLY:
        assert any(ord(ch) > 127 for ch in text), "some accents, CJK or emoji"
    schema_file = ROOT / "schemas" / source / f"{stream}.json"
    if schema_file.exists():  # the tap's schemas declare every field but the extra one
        jsonschema = pytest.importorskip("jsonschema")
        validator = jsonschema.Draft7Validator(json.loads(schema_file.read_text()))
        declared = set(validator.schema["properties"])
        for record in records:
            record.pop("_sandbox_extra", None)
            assert set(record) <= declared, set(record) - declared
            validator.validate(record)


def _date_time(value: object) -> bool:
    """RFC 3339 ``date-time`` (jsonschema checks it only with an optional package installed)."""
    if not isinstance(value, str):
        return True
    if not RFC3339.fullmatch(value):
        return False
    datetime.fromisoformat(value.replace("Z", "+00:00"))  # a real date: raises ValueError
    return True


def _unset(schema: dict[str, Any], values: list[Any], path: str = "") -> list[str]:
    """Declared properties, nested ones included, without a non-null value among ``values``."""
    missing = []
    objects = [v for v in values if isinstance(v, dict)]
    for name, sub in schema.get("properties", {}).items() if objects else ():
        present = [o[name] for o in objects if o.get(name) is not None]
        missing += _unset(sub, present, f"{path}{name}.") if present else [path + name]
    items = schema.get("items")
    if isinstance(items, dict) and items.get("properties"):
        elements = [x for v in values if isinstance(v, list) for x in v]
        missing += _unset(items, elements, f"{path}[].") if elements else [path + "[]"]
    return missing


def _validator(schema: dict[str, Any]) -> Any:
    """A Draft 7 validator that checks ``date-time`` formats."""
    jsonschema = pytest.importorskip("jsonschema")
    checker = jsonschema.FormatChecker()
    checker.checks("date-time", raises=ValueError)(_date_time)
    return jsonschema.Draft7Validator(schema, format_checker=checker)


@pytest.mark.parametrize("seed", [11, 5, 7])
@pytest.mark.parametrize("schema_file", SCHEMA_FILES, ids=lambda f: f"{f.parent.name}.{f.stem}")
def test_records_cover_and_match_their_schema(schema_file: Path, seed: int) -> None:
    """Like the real APIs: the first 12 records show every declared field (nested ones too)
    with a value, and every record validates, date-times included."""
    source, stream = schema_file.parent.name, schema_file.stem
    schema = json.loads(schema_file.read_text())
    records = Sandbox(seed=seed, default_size=60, undeclared_fields=False).records(source, stream)
    first = records[:12]
    tap_added = TAP_ADDED.get((source, stream), set())
    declared = set(schema["properties"]) - tap_added
    assert set().union(*first) >= declared, declared - set().union(*first)
    unset = [name for name in _unset(schema, first) if name not in tap_added]
    assert not unset, f"never set in the first 12 records: {unset}"
    validator = _validator(schema)
    for record in records:
        assert set(record) <= declared, set(record) - declared
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(record)]
        assert not errors, errors


def test_date_time_check_rejects_bad_times() -> None:
    validator = _validator({"type": ["string", "null"], "format": "date-time"})
    assert validator.is_valid("2023-02-20T22:10:12.733Z")
    assert validator.is_valid(None)
    for bad in ("2023-02-20 22:10:12", "2023-02-30T22:10:12.733Z", "2023-02-20T22:10:12"):
        assert not validator.is_valid(bad), bad


def test_undeclared_fields_can_be_left_out() -> None:
    with_extra, without = Sandbox(seed=3), Sandbox(seed=3, undeclared_fields=False)
    for source, stream in sorted({(s, st) for s, st, *_ in ENDPOINTS}):
        plain = with_extra.records(source, stream)
        assert any("_sandbox_extra" in record for record in plain)
        for record in plain:
            record.pop("_sandbox_extra", None)
        assert without.records(source, stream) == plain, "nothing else changes"


def test_time_formats_per_source() -> None:
    sb = Sandbox(seed=5)
    assert isinstance(sb.records("helpdesk", "contacts")[0]["created_at"], int)
    for source, stream, field in (
        ("chat", "users", "lastLogin"),
        ("oncall", "alerts", "createdAt"),
        ("statuspage", "pages", "created_at"),
    ):
        stamps = [r[field] for r in sb.records(source, stream) if r[field]]
        assert all(len(s) == 24 and s[10] == "T" and s.endswith("Z") for s in stamps), stamps


def test_counts_and_one_page_defaults() -> None:
    sb = Sandbox(default_size=3, sizes={"chat.roles": 12})
    counts = sb.counts()
    assert counts["chat"] == {
        "teams": 3,
        "rooms": 3,
        "channels": 3,
        "roles": 12,
        "subscriptions": 3,
        "users": 3,
    }
    big = Sandbox(default_size=40).counts()
    assert (big["chat"]["rooms"], big["tracker"]["avatars"]) == (10, 30)
    assert (big["tracker"]["application_roles"], big["tracker"]["boards"]) == (10, 40)
    with pytest.raises(ValueError, match="unknown stream"):
        Sandbox(sizes={"chat.user": 3})


# --------------------------------------------------------------------------- auth


@pytest.mark.parametrize("source", list(SOURCES))
def test_auth_is_required_and_checked_first(
    sb: Sandbox, session: requests.Session, source: str
) -> None:
    path = SOURCES[source].endpoints[0].path
    url = sb.base_url(source) + path
    assert session.get(url, timeout=10, **auth(sb, source)).status_code == 200
    if source in ("statuspage", "oncall"):
        assert session.get(url, timeout=10, **auth(sb, source, 1)).status_code == 200
    wrong = {
        "chat": {"headers": {"X-Auth-Token": "nope", "X-User-Id": "nope"}},
        "helpdesk": {"params": {"api_key": "nope"}},
        "tracker": {"auth": ("someone@example.com", "nope")},
    }.get(source, {"headers": {"api_key": "nope"}})
    for kwargs in ({}, wrong):
        response = session.get(url, timeout=10, **kwargs)
        assert response.status_code == 401
        assert "nope" not in response.text  # echoes nothing by default
    if source == "chat":
        assert session.get(url, timeout=10).json() == {
            "status": "error",
            "message": "You must be logged in to do this.",
        }
        one_header = {"headers": {"X-Auth-Token": sb.credentials("chat")["api_token"]}}
        assert session.get(url, timeout=10, **one_header).status_code == 401
    with Sandbox(seed=11, fault_rate=1.0) as failing, requests.Session() as s:
        url = failing.base_url(source) + path
        assert s.get(url, timeout=10).status_code == 401  # no fault before the auth check
    assert failing.fault_count == 0


def test_unknown_paths_are_json_404(sb: Sandbox, session: requests.Session) -> None:
    for url in (f"{sb.url}/nope", f"{sb.base_url('helpdesk')}/v1/nope"):
        response = session.get(url, params=auth(sb, "helpdesk")["params"], timeout=10)
        assert response.status_code == 404
        assert response.json()


def test_echo_errors_leaks_url_and_headers_on_purpose() -> None:
    with (
        Sandbox(echo_errors=True, fault_rate=1.0, faults=("server_error",)) as sb,
        requests.Session() as s,
    ):
        key = sb.credentials("helpdesk")["api_key"]
        response = s.get(
            sb.base_url("helpdesk") + "/v1/teams",
            params={"api_key": key},
            headers={"X-Trace": "t-1"},
            timeout=10,
        )
        assert response.status_code in (500, 502, 503, 504)
        echoed = response.json()["request"]
        assert key in echoed["url"]
        assert echoed["headers"]["X-Trace"] == "t-1"
        bad = s.get(
            sb.base_url("chat") + "/users.list", headers={"X-Auth-Token": "secret-1"}, timeout=10
        )
        assert bad.status_code == 401
        assert "secret-1" in bad.text


# --------------------------------------------------------------------------- determinism


def test_same_seed_serves_identical_bytes() -> None:
    paths = [(s, p) for s, _, p, _, _ in ENDPOINTS if s != "oncall"]  # oncall embeds the port
    bodies = []
    for _ in range(2):
        with Sandbox(seed=3, sizes=SIZES) as sb, requests.Session() as s:
            bodies.append(
                [get(s, sb, source, path).content for source, path in paths]
                + [get(s, sb, "oncall", "/v2/users").content.replace(sb.url.encode(), b"URL")]
            )
            credentials = [sb.credentials(name) for name in SOURCES]
    assert bodies[0] == bodies[1]
    with Sandbox(seed=4, sizes=SIZES) as other, requests.Session() as s:
        assert get(s, other, "chat", "/users.list").content != bodies[0][5]
        assert [other.credentials(name) for name in SOURCES] != credentials


def test_records_are_a_pure_function_of_the_index() -> None:
    sb = Sandbox(seed=9, sizes={"helpdesk.contacts": 2100})
    everything = sb.records("helpdesk", "contacts")
    with sb, requests.Session() as s:
        page = get(s, sb, "helpdesk", "/v1/contacts", {"offset": 2090, "limit": 3}).json()
    assert page["data"] == everything[2090:2093]
    assert everything[7] != everything[7 + 2048]  # bodies repeat, keys and times do not


# --------------------------------------------------------------------------- faults


def test_faults_never_exceed_the_cap_per_request() -> None:
    with (
        Sandbox(fault_rate=1.0, max_failures_per_request=2, retry_after=0) as sb,
        requests.Session() as s,
    ):
        outcomes = []
        for _ in range(3):
            try:
                outcomes.append(get(s, sb, "chat", "/teams.list").status_code)
            except requests.RequestException:
                outcomes.append(0)
        assert outcomes[2] == 200
        assert 200 not in outcomes[:2]
        assert sb.fault_count == 2
        assert [log.fault is not None for log in sb.requests] == [True, True, False]


def test_default_cap_is_the_sources_retry_count() -> None:
    with Sandbox(fault_rate=1.0, faults=("server_error",)) as sb, requests.Session() as s:
        tracker = [get(s, sb, "tracker", "/v1/board").status_code for _ in range(11)]
        helpdesk = [get(s, sb, "helpdesk", "/v1/teams").status_code for _ in range(4)]
    assert tracker[-1] == 200
    assert all(code >= 500 for code in tracker[:10])
    assert helpdesk[-1] == 200
    assert all(code >= 500 for code in helpdesk[:3])


def test_fault_rate_is_roughly_right_and_deterministic() -> None:
    def run() -> list[tuple[str, str | None]]:
        with (
            Sandbox(
                fault_rate=0.2,
                faults=("rate_limit", "server_error", "bad_json"),
                sizes={"helpdesk.contacts": 250},
            ) as sb,
            requests.Session() as s,
        ):
            for offset in range(250):
                get(s, sb, "helpdesk", "/v1/contacts", {"offset": offset, "limit": 1})
            return [(log.query["offset"][0], log.fault) for log in sb.requests]

    first = run()
    failed = sum(1 for _, fault in first if fault)
    assert 30 <= failed <= 75  # 20 % of 250, generously
    assert Counter(fault for _, fault in first if fault).keys() == {
        "rate_limit",
        "server_error",
        "bad_json",
    }
    assert run() == first  # the same requests fail in every run


@pytest.mark.parametrize(
    ("source", "status", "header"),
    [
        ("chat", 429, "X-RateLimit-Reset"),
        ("helpdesk", 429, "X-RateLimit-Reset"),
        ("tracker", 429, "Retry-After"),
        ("statuspage", 420, "Retry-After"),
        ("oncall", 429, "X-RateLimit-Period-In-Sec"),
    ],
)
def test_rate_limit_faults_carry_the_sources_wait_header(
    source: str, status: int, header: str
) -> None:
    with (
        Sandbox(
            fault_rate=1.0, faults=("rate_limit",), retry_after=2, max_failures_per_request=1
        ) as sb,
        requests.Session() as s,
    ):
        seen = Counter()
        now = time.time()
        for ep in SOURCES[source].endpoints:
            response = get(s, sb, source, ep.path)
            seen[response.status_code] += 1
            if response.status_code != 200:
                break
        value = float(response.headers[header])
    assert status in seen or (source == "statuspage" and 429 in seen)
    if source == "chat":
        assert now * 1000 + 1500 <= value <= now * 1000 + 3000  # epoch milliseconds
    elif source == "helpdesk":
        assert now + 1 <= value <= now + 4  # epoch seconds
    else:
        assert value == 2


def test_broken_responses_break_the_client(sb: Sandbox) -> None:
    expected = {"reset": requests.ConnectionError, "truncated": requests.RequestException}
    for kind, error in expected.items():
        with (
            Sandbox(fault_rate=1.0, faults=(kind,), max_failures_per_request=1) as bad,
            requests.Session() as s,
        ):
            with pytest.raises(error):
                get(s, bad, "helpdesk", "/v1/teams").json()
            assert get(s, bad, "helpdesk", "/v1/teams").status_code == 200
    with (
        Sandbox(fault_rate=1.0, faults=("bad_json",), max_failures_per_request=1) as bad,
        requests.Session() as s,
    ):
        response = get(s, bad, "helpdesk", "/v1/teams")
        assert response.status_code == 200
        with pytest.raises(ValueError):  # noqa: PT011 - JSONDecodeError or its parents
            response.json()
        assert bad.requests[0].fault == "bad_json"


# --------------------------------------------------------------------------- speed


def test_latency_applies_and_concurrent_requests_overlap() -> None:
    with Sandbox(latency_ms=150) as sb:

        def one(_: int) -> int:
            with requests.Session() as s:
                return get(s, sb, "helpdesk", "/v1/teams").status_code

        started = time.perf_counter()
        assert one(0) == 200
        single = time.perf_counter() - started
        started = time.perf_counter()
        with ThreadPoolExecutor(6) as pool:
            assert list(pool.map(one, range(6))) == [200] * 6
        parallel = time.perf_counter() - started
    assert single >= 0.15
    assert parallel < 0.15 * 6 * 0.6


def test_prerender_caches_every_page_and_connections_are_reused() -> None:
    with Sandbox(sizes={"helpdesk.contacts": 3000}) as sb, requests.Session() as s:
        assert sb.prerender("helpdesk", "contacts", 1000) == 4  # three full pages, one empty
        assert sb._app.cached_pages() == 4
        assert sb.prerender("tracker", "boards", 50) == 3  # 25 boards in pages of 20
        assert sb.prerender("oncall", "alerts") == 3
        before = sb._app.cached_pages()
        alerts = walk(s, sb, "oncall", "/v2/alerts", "data", 20)
        assert len(alerts) == 25
        assert sb._app.cached_pages() == before  # served from the cache
        get(s, sb, "helpdesk", "/v1/contacts", {"limit": 1000, "offset": 1000})
        get(s, sb, "helpdesk", "/v1/contacts", {"limit": 1000, "offset": 2000})
        assert sb._app.cached_pages() == before
        assert sb.connections_opened == 1  # one keep-alive connection for every request


# --------------------------------------------------------------------------- API and CLI


def test_python_api(sb: Sandbox, session: requests.Session) -> None:
    assert sb.url.startswith("http://127.0.0.1:")
    assert sb.base_url("chat") == f"{sb.url}/chat/api/v1"
    assert sb.base_url("oncall") == f"{sb.url}/oncall"
    assert set(sb.credentials("tracker")) == {"email", "api_token"}
    config = sb.tap_config("oncall", page_size=5)
    assert config == {
        "source": "oncall",
        "base_url": sb.base_url("oncall"),
        "api_token": sb.credentials("oncall")["api_token"],
        "page_size": 5,
    }
    sb.clear_requests()
    get(session, sb, "statuspage", "/v1/resource", {"limit": 3})
    (log,) = sb.requests
    assert (log.source, log.method, log.path, log.status) == (
        "statuspage",
        "GET",
        "/statuspage/v1/resource",
        200,
    )
    assert log.query == {"limit": ["3"]}
    assert log.headers["api_key"] == sb.credentials("statuspage")["api_key"]
    assert set(FAULTS) == {"rate_limit", "server_error", "reset", "truncated", "bad_json"}


def test_manifest_and_health(sb: Sandbox, session: requests.Session) -> None:
    assert session.get(f"{sb.url}/_sandbox/health", timeout=10).status_code == 200
    manifest = session.get(f"{sb.url}/_sandbox/manifest", timeout=10).json()
    assert manifest["counts"] == sb.counts()
    assert manifest["credentials"]["chat"] == sb.credentials("chat")
    assert manifest["base_urls"] == {name: sb.base_url(name) for name in SOURCES}


def test_start_is_fast_and_stop_closes_idle_connections() -> None:
    started = time.perf_counter()
    sb = Sandbox(sizes={"helpdesk.contacts": 2_000_000}).start()
    assert time.perf_counter() - started < 0.5
    with requests.Session() as s:
        assert get(s, sb, "helpdesk", "/v1/contacts", {"offset": 1_999_999}).status_code == 200
        sb.stop()
        with pytest.raises(requests.ConnectionError):
            get(s, sb, "helpdesk", "/v1/contacts")


def test_cli_serves_until_sigterm(tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sandbox",
            "--port",
            "0",
            "--seed",
            "2",
            "--size",
            "chat.users=70",
            "--latency-ms",
            "1",
            "--no-undeclared-fields",
            "--bare-arrays",
            "statuspage",
            "--ready-file",
            str(ready),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline() if process.stdout else ""
        assert line.startswith("sandbox listening on http://127.0.0.1:")
        url = line.split()[-1]
        assert ready.read_text().strip() == url
        with requests.Session() as s:
            manifest = s.get(f"{url}/_sandbox/manifest", timeout=10).json()
            assert manifest["counts"]["chat"]["users"] == 70
            creds = manifest["credentials"]["chat"]
            users = s.get(
                f"{manifest['base_urls']['chat']}/users.list",
                timeout=10,
                headers={"X-Auth-Token": creds["api_token"], "X-User-Id": creds["user_id"]},
            ).json()
            pages = s.get(
                f"{manifest['base_urls']['statuspage']}/v1/resource",
                timeout=10,
                headers={"api_key": manifest["credentials"]["statuspage"]["api_key"]},
            ).json()
        assert users["total"] == 70
        assert not any("_sandbox_extra" in user for user in users["users"])
        assert isinstance(pages, list), "--bare-arrays statuspage"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()
