"""``--probe``: the console script against the sandbox, as a user runs it.

Every run is the real console script in a subprocess (exit statuses and output
streams as users see them); the runs are independent and start together. The
sandbox serves clean samples, injected drift (``Sandbox(drift=...)``), short and
empty pages, next-URL paging, refused credentials, and secrets in every form.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from sandbox import Sandbox
from sandbox.oddities import drift_fields
from tap_generic_rest.records.drift import json_type
from tap_generic_rest.sources import all_sources
from tests.test_secrets import SECRETS, WRONG, credentials, leaks

if TYPE_CHECKING:
    from collections.abc import Iterator

TAP = str(Path(sys.executable).with_name("tap-generic-rest"))
SOURCES = sorted(all_sources())


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def report(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.stdout)
        return data

    def stream(self, name: str) -> dict[str, Any]:
        return next(s for s in self.report["streams"] if s["stream"] == name)


def run_probe(directory: Path, name: str, config: dict[str, Any], *args: str) -> Run:
    path = directory / f"{name}.json"
    path.write_text(json.dumps(config))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TAP_GENERIC_REST", "SINGER"))}
    done = subprocess.run(  # our own console script
        [TAP, "--config", str(path), "--probe", *args],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr)


def catalog_selecting(directory: Path, config: dict[str, Any], stream: str) -> str:
    """A catalog file (from --discover) that selects only ``stream``."""
    path = directory / "discover.json"
    path.write_text(json.dumps(config))
    found = subprocess.run(  # our own console script
        [TAP, "--config", str(path), "--discover"],
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    catalog = json.loads(found.stdout)
    for entry in catalog["streams"]:
        for meta in entry["metadata"]:
            if meta["breadcrumb"] == []:
                meta["metadata"]["selected"] = entry["tap_stream_id"] == stream
    out = directory / f"catalog-{stream}.json"
    out.write_text(json.dumps(catalog))
    return str(out)


@dataclass
class Sandboxes:
    clean: Sandbox
    plain: Sandbox
    drifted: Sandbox
    secret: Sandbox


@pytest.fixture(scope="module")
def sandboxes() -> Iterator[Sandboxes]:
    with (
        Sandbox(seed=4, default_size=25, undeclared_fields=False) as clean,
        Sandbox(
            seed=4, default_size=25, sizes={"oncall.users": 50, "statuspage.pages": 12}
        ) as plain,
        Sandbox(seed=4, default_size=25, undeclared_fields=False, drift=True) as drifted,
        Sandbox(seed=4, default_size=12, echo_errors=True) as secret,
    ):
        for source in SOURCES:
            secret._app.credentials[source] = credentials(source, SECRETS)
        yield Sandboxes(clean, plain, drifted, secret)


@pytest.fixture(scope="module")
def runs(sandboxes: Sandboxes, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    """Every probe run of this module, started together."""
    directory = tmp_path_factory.mktemp("probe")
    sb = sandboxes
    jobs: dict[str, tuple[dict[str, Any], tuple[str, ...]]] = {}
    for source in SOURCES:
        jobs[f"clean-{source}"] = (sb.clean.tap_config(source), ())
        jobs[f"clean-json-{source}"] = (sb.clean.tap_config(source), ("--format", "json"))
        jobs[f"secret-{source}"] = (
            sb.secret.tap_config(source, **credentials(source, SECRETS)),
            (),
        )
        jobs[f"secret-json-{source}"] = (
            sb.secret.tap_config(source, **credentials(source, SECRETS)),
            ("--format", "json"),
        )
        jobs[f"refused-{source}"] = (sb.secret.tap_config(source, **credentials(source, WRONG)), ())
    for source in ("helpdesk", "tracker"):  # a key in the query string; the basic-auth pair
        echoed = sb.secret.tap_config(source, **credentials(source, SECRETS))
        jobs[f"not-found-{source}"] = ({**echoed, "base_url": echoed["base_url"] + "/x"}, ())
    jobs["drift-chat"] = (sb.drifted.tap_config("chat"), ())
    jobs["drift-json-chat"] = (sb.drifted.tap_config("chat"), ("--format", "json"))
    teams_only = catalog_selecting(directory, sb.plain.tap_config("chat"), "teams")
    jobs["catalog-chat"] = (
        sb.plain.tap_config("chat", probe_pages=2),
        ("--catalog", teams_only, "--format", "json"),
    )
    jobs["helpdesk"] = (sb.plain.tap_config("helpdesk"), ("--format", "json"))
    jobs["statuspage"] = (
        sb.plain.tap_config("statuspage", page_size=5),
        ("--format", "json", "--probe-pages", "5"),
    )
    jobs["oncall"] = (sb.plain.tap_config("oncall"), ("--format", "json", "--probe-pages", "2"))
    jobs["tracker"] = (sb.plain.tap_config("tracker"), ("--format", "json"))
    jobs["markdown"] = (sb.plain.tap_config("tracker"), ("--format", "markdown"))
    jobs["bad-config"] = ({**sb.plain.tap_config("chat"), "base_url": "ftp://x"}, ())
    with ThreadPoolExecutor(max_workers=6) as pool:
        futures = {
            name: pool.submit(run_probe, directory, name, config, *args)
            for name, (config, args) in jobs.items()
        }
        return {name: future.result() for name, future in futures.items()}


# --- exit statuses and verdicts -----------------------------------------------------------


@pytest.mark.parametrize("source", SOURCES)
def test_a_clean_sample_exits_0(runs: dict[str, Run], source: str) -> None:
    run = runs[f"clean-{source}"]
    assert run.code == 0, run.stdout + run.stderr[-2000:]
    assert run.stdout.splitlines()[-1].endswith("every sample fits its schema (exit 0)")
    assert "DRIFT" not in run.stdout
    report = runs[f"clean-json-{source}"].report
    assert report["exit_code"] == 0
    assert report["drift"] is False
    assert {s["stream"] for s in report["streams"]} == {
        c.name for c in all_sources()[source].streams
    }
    for stream in report["streams"]:
        assert stream["records"] > 0
        assert stream["requests"]
        assert all(r["status"] == 200 for r in stream["requests"])


def test_drift_exits_1_naming_the_field_and_types(runs: dict[str, Run]) -> None:
    """The sandbox's drift: record 0 (of the 3 sampled) has wrong-typed values."""
    properties = json.loads(Path("schemas/chat/users.json").read_text())["properties"]
    expected = [
        {
            "field": name,
            "declared": properties[name]["type"],
            "seen": json_type(value),
            "count": 1,
            "example": json.dumps(value, separators=(",", ":")),
        }
        for name, value in drift_fields("chat", "users")
    ]
    assert expected
    run = runs["drift-chat"]
    assert run.code == 1, run.stderr[-2000:]
    lines = run.stdout.splitlines()
    for want in expected:
        assert (
            f"  type drift {want['field']}: declared {'|'.join(want['declared'])}, "
            f"seen {want['seen']} (1 record), e.g. {want['example']}"
        ) in lines
    users = runs["drift-json-chat"].stream("users")
    assert users["drift"] is True
    assert sorted(users["type_drift"], key=str) == sorted(expected, key=str)
    report = runs["drift-json-chat"].report
    assert report["exit_code"] == 1
    assert report["drift"] is True


def test_undeclared_fields_are_reported_with_their_types(runs: dict[str, Run]) -> None:
    report = runs["helpdesk"].report
    assert runs["helpdesk"].code == 1
    for stream in report["streams"]:
        # Records 1, 9 and 17 of 25 carry the sandbox's undeclared field.
        assert stream["undeclared_fields"] == [{"field": "_sandbox_extra", "types": {"string": 3}}]


# --- paging decisions ---------------------------------------------------------------------


def decisions(stream: dict[str, Any]) -> list[tuple[bool, str]]:
    return [(r["paging"]["more"], r["paging"]["reason"]) for r in stream["requests"]]


def test_a_first_short_page_is_confirmed_then_the_empty_page_ends_the_stream(
    runs: dict[str, Run],
) -> None:
    contacts = runs["helpdesk"].stream("contacts")
    assert decisions(contacts) == [
        (True, "next page at offset 25, to confirm the short page was the last"),
        (False, "empty page"),
    ]
    assert [r["records"] for r in contacts["requests"]] == [25, 0]
    assert contacts["more_pages_not_fetched"] is False


def test_a_no_total_stream_pages_on_full_pages_and_stops_on_a_short_one(
    runs: dict[str, Run],
) -> None:
    pages = runs["statuspage"].stream("pages")
    assert decisions(pages) == [
        (True, "next page at offset 5"),
        (True, "next page at offset 10"),
        (False, "short page (2 of 5 records)"),
    ]
    assert [r["records"] for r in pages["requests"]] == [5, 5, 2]
    assert pages["records"] == 12


def test_a_total_ends_paging(runs: dict[str, Run]) -> None:
    boards = runs["tracker"].stream("boards")
    assert decisions(boards) == [(True, "next page at offset 20"), (False, "total of 25 reached")]
    avatars = runs["tracker"].stream("avatars")
    assert decisions(avatars) == [(False, "the stream does not page")] * 3


def test_a_next_url_stream_stops_at_the_page_limit(
    runs: dict[str, Run], sandboxes: Sandboxes
) -> None:
    run = runs["oncall"]
    users = run.stream("users")
    second = users["requests"][1]["target"]
    assert second.startswith("/oncall/v2/users?")
    assert decisions(users) == [(True, f"next URL {second}"), (True, decisions(users)[1][1])]
    assert decisions(users)[1][1].startswith("next URL /oncall/v2/users?")
    assert users["more_pages_not_fetched"] is True
    assert users["records"] == 40
    # The third page was never asked for.
    asked = [r for r in sandboxes.plain.requests if r.path == "/oncall/v2/users"]
    assert len(asked) == 2
    teams = run.stream("teams")
    assert decisions(teams) == [
        (True, f"next URL {teams['requests'][1]['target']}"),
        (False, "next URL absent"),
    ]
    assert teams["more_pages_not_fetched"] is False


def test_the_text_report_says_why_paging_stopped(runs: dict[str, Run]) -> None:
    text = runs["clean-chat"].stdout
    assert "      more: next page at offset 1\n" in text
    assert "not fetched (page limit 3)" in text
    assert "      stop: the stream does not page" in text


def test_the_catalog_and_the_probe_pages_setting_are_honoured(
    runs: dict[str, Run], sandboxes: Sandboxes
) -> None:
    run = runs["catalog-chat"]
    assert [s["stream"] for s in run.report["streams"]] == ["teams"]
    assert run.report["max_pages"] == 2
    assert len(run.stream("teams")["requests"]) == 2
    chat_paths = {r.path for r in sandboxes.plain.requests if r.source == "chat"}
    assert chat_paths == {"/chat/api/v1/teams.list"}


# --- failures -----------------------------------------------------------------------------


@pytest.mark.parametrize("source", SOURCES)
def test_refused_credentials_fail_in_one_line_with_status_2(
    runs: dict[str, Run], source: str
) -> None:
    run = runs[f"refused-{source}"]
    assert run.code == 2
    errors = [line for line in run.stderr.splitlines() if "error" in line.lower()]
    assert len(errors) == 1, run.stderr[-2000:]
    assert errors[0].startswith("tap-generic-rest: error: ")
    assert "-> 401" in errors[0]
    assert "Traceback" not in run.stderr
    assert "  FAILED: " in run.stdout
    assert run.stdout.splitlines()[-1] == "result: probe failed (exit 2)"


def test_bad_input_fails_with_status_2(runs: dict[str, Run]) -> None:
    assert runs["bad-config"].code == 2
    assert runs["bad-config"].stderr.splitlines() == [
        "tap-generic-rest: error: setting 'base_url' must be an http or https URL with a host"
    ]
    assert runs["markdown"].code == 2
    assert "--format json" in runs["markdown"].stderr


# --- what is written, and what never is ---------------------------------------------------


def test_no_record_or_state_is_written(runs: dict[str, Run]) -> None:
    for name, run in runs.items():
        for line in run.stdout.splitlines():
            assert not line.startswith('{"type"'), name
        assert '"type": "RECORD"' not in run.stdout
        assert '"type":"STATE"' not in run.stdout.replace(" ", "")


@pytest.mark.parametrize("source", SOURCES)
def test_no_secret_in_any_probe_output(runs: dict[str, Run], source: str) -> None:
    for kind in ("secret", "secret-json", "refused"):
        run = runs[f"{kind}-{source}"]
        assert leaks(run.stdout + run.stderr) == [], (kind, run.stdout[-2000:])
    assert runs[f"secret-{source}"].code in {0, 1}
    if source in {"helpdesk", "tracker"}:  # the server echoed the request into its 404 body
        run = runs[f"not-found-{source}"]
        assert run.code == 2
        assert "-> 404 Not Found: {" in run.stdout
        assert leaks(run.stdout + run.stderr) == []
    if source == "helpdesk":  # the key rides in the query string: shown masked
        assert "api_key=****" in runs["secret-helpdesk"].stdout
