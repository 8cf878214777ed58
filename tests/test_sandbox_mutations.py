"""The sandbox's data mutations: insert, update, delete; now, over HTTP, or after N pages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
import requests

from sandbox import Sandbox
from sandbox.data import iso_ms as _iso
from tests.test_sandbox import get, walk

SIZES = {"chat.users": 9, "chat.rooms": 6, "tracker.boards": 7, "oncall.alerts": 8}


@pytest.fixture
def sb() -> Any:
    with Sandbox(seed=5, sizes=SIZES, default_size=5) as sandbox:
        yield sandbox


@pytest.fixture
def session() -> Any:
    with requests.Session() as s:
        yield s


def ids(records: list[dict[str, Any]], key: str = "_id") -> list[Any]:
    return [record[key] for record in records]


def test_insert_update_delete_change_records_counts_and_totals(
    sb: Sandbox, session: requests.Session
) -> None:
    before = sb.records("chat", "users")
    newest = max(record["_updatedAt"] for record in before)
    result = sb.mutate("chat", "users", insert=2, at=1, update=[0, 4], delete=[3])
    after = sb.records("chat", "users")
    inserted, updated = result["inserted"], result["updated"]
    assert ids(result["deleted"]) == [before[3]["_id"]]
    assert ids(after) == [
        before[0]["_id"],
        *ids(inserted),
        before[1]["_id"],
        before[2]["_id"],
        *ids(before[4:]),
    ]
    assert not set(ids(inserted)) & set(ids(before))  # new keys, never reused
    assert ids(updated) == [before[0]["_id"], before[4]["_id"]]
    for record in inserted + updated:  # the mutation clock is past every generated time
        assert record["_updatedAt"] > newest
        assert record["_updatedAt"] == inserted[0]["_updatedAt"]
    assert after[0] == updated[0]
    assert after[5] == updated[1]
    assert updated[0]["name"] == f"{before[0]['name']} (edited)"
    assert after[1]["createdAt"] == inserted[0]["_updatedAt"]  # inserts are created now
    assert after[5] == before[4] | {
        "name": updated[1]["name"],
        "_updatedAt": updated[1]["_updatedAt"],
    }
    assert sb.counts()["chat"]["users"] == 10
    assert sb.manifest()["counts"]["chat"]["users"] == 10
    served = walk(session, sb, "chat", "/users.list", "users", 4)
    assert served == after
    body = get(session, sb, "chat", "/users.list", {"count": 4}).json()
    assert body["total"] == 10


def test_tracker_total_and_helpdesk_integer_times_follow_mutations(
    sb: Sandbox, session: requests.Session
) -> None:
    sb.mutate("tracker", "boards", delete=[0, 6])
    body = get(session, sb, "tracker", "/v1/board", {"maxResults": 50}).json()
    assert body["total"] == len(body["values"]) == 5
    assert body["isLast"] is True
    contacts = sb.records("helpdesk", "contacts")
    changed = sb.mutate("helpdesk", "contacts", update=[2])["updated"][0]
    assert isinstance(changed["updated_at"], int)  # epoch seconds, as generated
    assert changed["updated_at"] > max(c["updated_at"] for c in contacts)
    assert changed["created_at"] == contacts[2]["created_at"]


def test_a_later_mutation_is_later_and_results_are_deterministic() -> None:
    def run() -> tuple[list[Any], Any]:
        with Sandbox(seed=5, sizes=SIZES) as sandbox:
            first = sandbox.mutate("oncall", "alerts", insert=1)
            second = sandbox.mutate("oncall", "alerts", update=[0])
            assert second["updated"][0]["updatedAt"] > first["inserted"][0]["updatedAt"]
            assert second["updated"][0]["id"] == first["inserted"][0]["id"]
            with requests.Session() as s:
                page = get(s, sandbox, "oncall", "/v2/alerts", {"limit": 3})
            return sandbox.records("oncall", "alerts"), page.json()["data"]  # links: the port

    assert run() == run()


def test_cached_pages_are_not_served_after_a_mutation(
    sb: Sandbox, session: requests.Session
) -> None:
    sb.prerender("chat", "users", 4)
    first = get(session, sb, "chat", "/users.list", {"count": 4}).json()
    sb.mutate("chat", "users", update=[1])
    again = get(session, sb, "chat", "/users.list", {"count": 4}).json()
    assert again["users"][1]["name"] == first["users"][1]["name"] + " (edited)"
    assert again["users"][0] == first["users"][0]


def test_deleted_rooms_and_subscriptions_are_listed_in_remove_since_then(
    sb: Sandbox, session: requests.Session
) -> None:
    for stream, path in (("rooms", "/rooms.get"), ("subscriptions", "/subscriptions.get")):
        records = sb.records("chat", stream)
        first = sb.mutate("chat", stream, delete=[1])
        second = sb.mutate("chat", stream, delete=[0], update=[1])  # records[2] now at 1
        everything = get(session, sb, "chat", path).json()
        assert everything["remove"] == []  # no updatedSince: no trash lookup
        assert ids(everything["update"]) == ids(records[2:])
        since = get(session, sb, "chat", path, {"updatedSince": "2000-01-01T00:00:00.000Z"})
        assert since.json()["remove"] == [
            {"_id": records[1]["_id"], "_deletedAt": _iso(first["at"])},
            {"_id": records[0]["_id"], "_deletedAt": _iso(second["at"])},
        ]
        between = _iso(first["at"] + 1)
        body = get(session, sb, "chat", path, {"updatedSince": between}).json()
        assert body["remove"] == [{"_id": records[0]["_id"], "_deletedAt": _iso(second["at"])}]
        assert ids(body["update"]) == [records[2]["_id"]]  # only the one updated since


def test_a_scheduled_insert_lands_while_a_client_pages(
    sb: Sandbox, session: requests.Session
) -> None:
    before = sb.records("chat", "users")
    get(session, sb, "chat", "/users.list", {"count": 3})  # pages before scheduling don't count
    assert sb.mutate("chat", "users", insert=1, at=0, after_requests=1) == {"scheduled": 1}
    get(session, sb, "oncall", "/v2/alerts")  # another stream's pages don't count either
    page1 = get(session, sb, "chat", "/users.list", {"count": 3}).json()
    assert ids(page1["users"]) == ids(before[:3])
    assert page1["total"] == 9
    page2 = get(session, sb, "chat", "/users.list", {"count": 3, "offset": 3}).json()
    assert page2["total"] == 10
    assert ids(page2["users"]) == ids(before[2:5])  # shifted by the front insert
    assert len(sb.records("chat", "users")) == 10


def test_control_endpoint_applies_lists_and_rejects_bad_mutations(
    sb: Sandbox, session: requests.Session
) -> None:
    url = sb.url + "/_sandbox/mutate"
    reply = session.post(url, json=[{"source": "oncall", "stream": "alerts", "insert": 3}])
    assert reply.status_code == 200
    assert len(reply.json()[0]["inserted"]) == 3
    assert sb.counts()["oncall"]["alerts"] == 11
    one = session.post(url, json={"source": "tracker", "stream": "avatars", "part": "user"})
    assert one.status_code == 200
    assert one.json()["inserted"] == []
    bad = [
        {"source": "chat", "stream": "nope"},
        {"source": "tracker", "stream": "avatars", "insert": 1},  # which avatar type?
        {"source": "chat", "stream": "users", "delete": [9]},  # past the end
        {"source": "chat", "stream": "users", "insert": -1},
        {"source": "chat", "stream": "users", "colour": "red"},
        {"stream": "users"},
        "users",
    ]
    for body in bad:
        reply = session.post(url, json=body)
        assert reply.status_code == 400, body
        assert reply.json()["error"]
    assert session.post(url, data=b"{").status_code == 400
    assert session.get(url).status_code == 404  # POST only
    assert sb.counts()["chat"]["users"] == 9  # nothing half-applied


# --------------------------------------------------------------------------- oncall filters


def oncall_walk(
    session: requests.Session, sb: Sandbox, path: str, params: dict[str, Any]
) -> list[dict[str, Any]]:
    """Every record a filtered oncall list serves, following ``paging.next``."""
    url: str | None = sb.base_url("oncall") + path
    out: list[dict[str, Any]] = []
    query: dict[str, Any] | None = params
    while url:
        reply = session.get(url, params=query, headers=oncall_auth(sb), timeout=10)
        assert reply.status_code == 200, reply.text
        out += reply.json()["data"]
        url, query = reply.json()["paging"].get("next"), None
        assert url is None or "query=" in url or "query" not in params  # echoed in next links
    return out


def oncall_auth(sb: Sandbox) -> dict[str, str]:
    return {"api_key": sb.credentials("oncall")["api_token"]}


def epoch_ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


def test_oncall_alerts_filter_by_update_time_and_sort_ascending(
    sb: Sandbox, session: requests.Session
) -> None:
    sb.mutate("oncall", "alerts", update=[6], insert=1, at=0)
    records = sb.records("oncall", "alerts")
    bound = sorted(r["updatedAt"] for r in records)[3]
    params = {"query": f"updatedAt>={epoch_ms(bound)}", "sort": "updatedAt", "order": "asc"}
    served = oncall_walk(session, sb, "/v2/alerts", {**params, "limit": 2})
    expected = sorted((r for r in records if r["updatedAt"] >= bound), key=lambda r: r["updatedAt"])
    assert served == expected
    assert len(served) == len(records) - 3
    newest_first = oncall_walk(session, sb, "/v2/alerts", {"sort": "updatedAt", "order": "desc"})
    assert newest_first == sorted(records, key=lambda r: r["updatedAt"], reverse=True)
    assert oncall_walk(session, sb, "/v2/alerts", {"limit": 3}) == records  # as served


def test_oncall_incidents_filter_but_cannot_sort_by_update_time(
    sb: Sandbox, session: requests.Session
) -> None:
    records = sb.records("oncall", "incidents")
    bound = sorted(r["updatedAt"] for r in records)[2]
    query = {"query": f"updatedAt>{epoch_ms(bound)}", "limit": 2}
    assert oncall_walk(session, sb, "/v1/incidents", query) == [
        r for r in records if r["updatedAt"] > bound
    ]
    both = {
        "query": f"status:{records[0]['status']} AND createdAt<={epoch_ms(records[0]['createdAt'])}"
    }
    assert oncall_walk(session, sb, "/v1/incidents", both) == [
        r
        for r in records
        if r["status"] == records[0]["status"] and r["createdAt"] <= records[0]["createdAt"]
    ]
    url = sb.base_url("oncall") + "/v1/incidents"
    for bad in (
        {"sort": "updatedAt"},
        {"query": "updatedAt>=yesterday"},
        {"query": "updatedAt"},
        {"query": "status>open"},
        {"order": "sideways"},
    ):
        reply = session.get(url, params=bad, headers=oncall_auth(sb), timeout=10)
        assert reply.status_code == 400, bad
        assert reply.json()["message"]


def test_sorted_pages_can_be_prerendered_and_are_served_from_the_cache(
    sb: Sandbox, session: requests.Session
) -> None:
    from sandbox.__main__ import _prerender

    assert _prerender("oncall.alerts:3?sort=updatedAt&order=asc") == (
        "oncall",
        "alerts",
        3,
        {"sort": "updatedAt", "order": "asc"},
    )
    params = {"sort": "updatedAt", "order": "asc"}
    assert sb.prerender("oncall", "alerts", 3, params) == 4  # 8 alerts: 3 pages and an empty one
    cached = sb._app.cached_pages()
    served = oncall_walk(session, sb, "/v2/alerts", {**params, "limit": 3})
    assert served == sorted(sb.records("oncall", "alerts"), key=lambda r: r["updatedAt"])
    assert sb._app.cached_pages() == cached
