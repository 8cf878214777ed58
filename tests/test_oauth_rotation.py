"""OAuth 2.0 rotating refresh tokens (Jira Cloud's 3LO): persisted before use, never printed.

The Jira sandbox's token endpoint rotates: each refresh answers a new refresh token and the
old one stops working; an old one used again revokes the whole grant (the user would have to
consent again), unless within the leeway Atlassian allows. Runs are killed with SIGKILL at the
worst moments; the next run must still get in, and no token may appear in any output.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import threading
from typing import TYPE_CHECKING, Any

import pytest

from sandbox.vendors.base import VendorServer
from sandbox.vendors.jira import JiraAPI
from tests.helpers import records_by_stream, run_sync

if TYPE_CHECKING:
    from pathlib import Path

STREAMS = ["boards", "projects"]


def _config(api: JiraAPI, url: str, store: Path, **extra: Any) -> dict[str, Any]:
    return {
        "source": "jira",
        "base_url": url,
        "oauth_token_url": f"{url}/oauth/token",
        "oauth_token_file": str(store),
        "jira_time_zone": "America/Sao_Paulo",
        **api.oauth_settings(),
        **extra,
    }


def _catalog(config: dict[str, Any], folder: Path) -> Path:
    """A catalog selecting two small streams (discovery reads the packaged schemas only)."""
    from tap_generic_rest.tap import TapGenericRest

    catalog = TapGenericRest(config=config, setup_mapper=False).catalog_dict
    for entry in catalog["streams"]:
        for meta in entry["metadata"]:
            if meta["breadcrumb"] == []:
                meta["metadata"]["selected"] = entry["tap_stream_id"] in STREAMS
    path = folder / "catalog.json"
    path.write_text(json.dumps(catalog))
    return path


def _start(config: dict[str, Any], folder: Path, catalog: Path, name: str) -> subprocess.Popen[str]:
    path = folder / f"{name}.json"
    path.write_text(json.dumps(config))
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tap_generic_rest",
            "--config",
            str(path),
            "--catalog",
            str(catalog),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(process: subprocess.Popen[str]) -> tuple[int, str]:
    out, err = process.communicate(timeout=120)
    return process.returncode, out + err


def _no_secret_in(api: JiraAPI, *outputs: str) -> None:
    for secret in api.secrets():
        for output in outputs:
            assert secret not in output


def test_the_store_is_atomic_private_and_locked(tmp_path: Path) -> None:
    from tap_generic_rest.errors import ConfigError
    from tap_generic_rest.http.token_store import StoredTokens, TokenStore

    store = TokenStore(tmp_path / "tokens.json", lock_wait=0.3)
    assert store.read() is None
    nested = TokenStore(tmp_path / "new" / "folder" / "t.json")  # its folder is made (0700)
    with nested.locked():
        nested.write(StoredTokens("rt-0", "seed"))
    assert stat.S_IMODE(os.stat(tmp_path / "new" / "folder").st_mode) == 0o700
    assert nested.read() == StoredTokens("rt-0", "seed")
    with store.locked():
        store.write(StoredTokens("rt-1", "seed", "at-1", 123.0))
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(store.lock_path).st_mode) == 0o600
    files = sorted(p.name for p in tmp_path.iterdir() if p.is_file())
    assert files == ["tokens.json", "tokens.json.lock"]  # no temporary file left
    assert store.read() == StoredTokens("rt-1", "seed", "at-1", 123.0)
    # A second holder waits, boundedly, then says which setting's file is held.
    held, released = threading.Event(), threading.Event()

    def hold() -> None:
        with store.locked():
            held.set()
            released.wait(5)

    thread = threading.Thread(target=hold)
    thread.start()
    held.wait(5)
    with pytest.raises(ConfigError, match=r"oauth_token_file.*held its lock"), store.locked():
        pass
    released.set()
    thread.join()
    os.chmod(store.path, 0o644)
    with pytest.raises(ConfigError, match="others may read it"):
        store.read()
    os.chmod(store.path, 0o600)
    store.path.write_text("{not json")
    with pytest.raises(ConfigError, match="not a token file"):
        store.read()


def test_rotated_token_is_used_by_the_next_run(tmp_path: Path) -> None:
    # Strict: any reuse of an old refresh token revokes the grant. Access tokens live 30 s:
    # too short to be kept for the next run, so each run refreshes (as a nightly run does).
    api = JiraAPI(expires_in=30)
    store = tmp_path / "tokens.json"
    with VendorServer(api) as server:
        config = _config(api, server.url, store)
        first = records_by_stream(run_sync(config, streams=STREAMS))
        assert len(first["boards"]) == len(api.boards)
        saved = json.loads(store.read_text())
        assert saved["refresh_token"] == api.current_refresh_token  # the rotated one, on disk
        second = records_by_stream(run_sync(config, streams=STREAMS))  # the setting is stale now
        assert len(second["boards"]) == len(api.boards)
        assert not api.revoked
        assert api.token_requests == 2
        # What the store prevents: a run that reused the setting's token would revoke the grant.
        with pytest.raises(Exception, match="403"):
            run_sync(_config(api, server.url, tmp_path / "other.json"), streams=STREAMS)
        assert api.revoked


def test_a_new_consent_in_the_setting_starts_a_new_chain(tmp_path: Path) -> None:
    store = tmp_path / "tokens.json"
    old = JiraAPI(seed=3, expires_in=30)
    with VendorServer(old) as server:
        run_sync(_config(old, server.url, store), streams=["boards"])
    fresh = JiraAPI(
        seed=4, expires_in=30
    )  # the user consented again: a new grant, a new refresh token
    with VendorServer(fresh) as server:
        records = records_by_stream(run_sync(_config(fresh, server.url, store), streams=["boards"]))
    assert len(records["boards"]) == len(fresh.boards)
    assert json.loads(store.read_text())["refresh_token"] == fresh.current_refresh_token


@pytest.mark.parametrize("moment", ["after the token endpoint answered", "at the first use"])
def test_killed_at_the_worst_moment_the_next_run_gets_in(tmp_path: Path, moment: str) -> None:
    """SIGKILL right after the token endpoint answered (before or after the write, a race the
    vendor's leeway covers), or at the first request with the new token (after the write,
    even a strict server)."""
    leeway = 600.0 if moment.startswith("after") else None  # Atlassian's leeway; or strict
    api = JiraAPI(leeway_seconds=leeway, expires_in=30)
    store = tmp_path / "tokens.json"
    with VendorServer(api) as server:
        config = _config(api, server.url, store)
        catalog = _catalog(config, tmp_path)
        process = _start(config, tmp_path, catalog, "run1")
        killed = threading.Event()

        def kill(_: str) -> None:
            if not killed.is_set():
                killed.set()
                os.kill(process.pid, signal.SIGKILL)

        if moment.startswith("after"):
            api.on_token_issued = kill
        else:
            api.on_bearer = kill
        code, first = _finish(process)
        assert killed.is_set()
        assert code == -signal.SIGKILL
        api.on_token_issued = api.on_bearer = None  # the next run refreshes: with the token on disk
        code, second = _finish(_start(config, tmp_path, catalog, "run2"))
    assert code == 0, second[-3000:]
    assert not api.revoked
    assert '"stream": "boards"' in second or '"stream":"boards"' in second
    _no_secret_in(api, first, second)
    assert json.loads(store.read_text())["refresh_token"] == api.current_refresh_token


def test_two_runs_at_once_refresh_once(tmp_path: Path) -> None:
    api = JiraAPI()  # strict: a second refresh with the same token would revoke the grant
    store = tmp_path / "tokens.json"
    with VendorServer(api) as server:
        config = _config(api, server.url, store)
        catalog = _catalog(config, tmp_path)
        runs = [_start(config, tmp_path, catalog, f"run{i}") for i in range(2)]
        results = [_finish(run) for run in runs]
    assert [code for code, _ in results] == [0, 0], results[0][1][-2000:] + results[1][1][-2000:]
    assert api.token_requests == 1  # the second run waited, then used what the first wrote
    assert not api.revoked
    _no_secret_in(api, *(output for _, output in results))


def test_token_endpoint_refusal_is_one_line_without_tokens(tmp_path: Path) -> None:
    api = JiraAPI()
    store = tmp_path / "tokens.json"
    with VendorServer(api) as server:
        config = _config(api, server.url, store)
        catalog = _catalog(config, tmp_path)
        api.revoked = True  # the grant is gone (revoked by the user, or a reuse)
        code, output = _finish(_start(config, tmp_path, catalog, "run"))
    assert code != 0
    assert "Traceback" not in output
    errors = [line for line in output.splitlines() if "token endpoint" in line]
    assert errors
    assert "403" in errors[-1]
    assert "invalid_grant" in errors[-1]
    _no_secret_in(api, output)
