"""Vendor profiles as a user meets them: shipped in the wheel, one-line errors for what is
missing, the start value in the vendor's form, and why ``jira_time_zone`` matters."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import zipfile
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from sandbox.vendors.base import VendorServer
from sandbox.vendors.jira import JiraAPI
from tap_generic_rest.profiles import PROFILES
from tap_generic_rest.stream.replication import StartValueFormat
from tests.helpers import records_by_stream, run_sync

ROOT = Path(__file__).resolve().parent.parent


def test_the_wheel_ships_every_profile_and_its_schemas(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--quiet",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
    )
    names = set(zipfile.ZipFile(next(tmp_path.glob("tap_generic_rest-*.whl"))).namelist())
    folder = ROOT / "tap_generic_rest" / "profiles"
    expected = {
        p.relative_to(ROOT).as_posix() for p in folder.rglob("*") if p.suffix in (".yaml", ".json")
    }
    assert len(expected) > 5 * 4
    assert expected <= names


def _run(config: dict[str, object], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "c.json"
    path.write_text(json.dumps(config))
    return subprocess.run(
        [sys.executable, "-m", "tap_generic_rest", "--config", str(path), "--discover"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"source": "jira"}, "setting 'base_url' is required for source 'jira' (https://<site>"),
        (
            {
                "source": "jira",
                "base_url": "https://acme.atlassian.net",
                "email": "ada@example.com",
            },
            "source 'jira': client.auth: no alternative has its settings: set client_id and "
            "client_secret and oauth_token_file and oauth_token_url and refresh_token "
            "(oauth2_refresh_token), or access_token (bearer), or api_token and email",
        ),
        ({"source": "intercom"}, "setting 'access_token' is required for source 'intercom'"),
        (
            {
                "source": "rocketchat",
                "base_url": "https://chat.example.com/api/v1",
                "api_token": "x" * 20,
            },
            "setting 'user_id' is required for source 'rocketchat'",
        ),
        (
            {"source": "opsgenie", "api_token": "x" * 20, "base_url": "ftp://api.opsgenie.com"},
            "base_url",
        ),
        (
            {
                "source": "jira",
                "base_url": "https://a.atlassian.net",
                "email": "e" * 9,
                "api_token": "t" * 20,
                "jira_time_zone": "Mars/Olympus",
            },
            "unknown time zone 'Mars/Olympus'",
        ),
    ],
    ids=[
        "jira-host",
        "jira-credentials",
        "intercom-token",
        "rocketchat-user",
        "bad-url",
        "bad-zone",
    ],
)
def test_what_is_missing_is_one_line(
    config: dict[str, object], expected: str, tmp_path: Path
) -> None:
    done = _run(config, tmp_path)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert expected in done.stderr, done.stderr[-1500:]


@pytest.mark.parametrize(
    ("pattern", "zone", "value", "expected"),
    [
        ("epoch_ms", "UTC", "2024-01-01T00:00:01.5Z", 1_704_067_201_500),
        ("epoch_s", "UTC", "2024-01-01T00:00:01Z", 1_704_067_201),
        ("epoch_ms", "UTC", 1_704_067_201, 1_704_067_201_000),  # epoch seconds in, ms out
        ("%Y-%m-%d %H:%M", "America/Sao_Paulo", "2024-01-10T12:34:56.789+0000", "2024-01-10 09:34"),
        ("%Y-%m-%d %H:%M", "UTC", "1970-01-01T00:00:00Z", "1970-01-01 00:00"),
        ("iso", "UTC", "2024-01-10T12:34:56.789-0300", "2024-01-10T15:34:56Z"),
        ("iso_ms", "UTC", "not a time", "not a time"),
    ],
)
def test_start_value_format(pattern: str, zone: str, value: object, expected: object) -> None:
    assert StartValueFormat(pattern, ZoneInfo(zone)).render(value) == expected


def test_jql_reads_times_in_the_users_zone(tmp_path: Path) -> None:
    """With the user's zone the second run reads every change; with UTC, west of São Paulo's
    user it asks from three hours too late and misses them (why ``jira_time_zone`` exists)."""
    for zone, misses in (("America/Sao_Paulo", False), ("UTC", True)):
        api = JiraAPI(user_time_zone="America/Sao_Paulo")
        with VendorServer(api) as server:
            config = {
                "source": "jira",
                "base_url": server.url,
                "jira_time_zone": zone,
                **api.credentials(),
            }
            first = run_sync(config, streams=["issues"])
            state = copy.deepcopy([m for m in first if m["type"] == "STATE"][-1]["value"])
            bookmark = state["bookmarks"]["issues"]["replication_key_value"]
            api.now = int(datetime.fromisoformat(bookmark).timestamp()) + 60  # changes just after
            changed = set(api.touch_issues(2))
            second = records_by_stream(run_sync(config, streams=["issues"], state=state))
        read = {record["id"] for record in second.get("issues", [])}
        assert (not changed <= read) is misses, (zone, changed, read)
        jql = [e.query["jql"][0] for e in api.log if e.path.endswith("/search/jql")][-1]
        local = datetime.fromisoformat(bookmark).astimezone(
            ZoneInfo(zone) if zone != "UTC" else timezone.utc
        )
        assert local.strftime('updated >= "%Y-%m-%d %H:%M"') in jql


def test_every_profile_is_offered_as_a_source() -> None:
    from tap_generic_rest.tap import TapGenericRest

    allowed = TapGenericRest.config_jsonschema["properties"]["source"]["enum"]
    assert set(PROFILES) <= set(allowed)
    assert {"chat", "helpdesk", "tracker", "statuspage", "oncall"} <= set(allowed)


def test_the_shipped_schemas_are_the_vendors_made_lenient(tmp_path: Path) -> None:
    """Each profile's schema is one record of the vendor's response schema, every field
    nullable and open (``scripts/profile_schemas.py``): regenerated, nothing differs."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import profile_schemas
    finally:
        sys.path.pop(0)
    fixtures = ROOT / "tests" / "fixtures" / "vendors"
    for vendor, streams in profile_schemas.PLAN.items():
        for stream in streams:
            shipped = json.loads(
                (
                    ROOT / "tap_generic_rest" / "profiles" / vendor / "schemas" / f"{stream}.json"
                ).read_text()
            )
            assert shipped == profile_schemas.stream_schema(fixtures, vendor, stream), (
                vendor,
                stream,
            )
