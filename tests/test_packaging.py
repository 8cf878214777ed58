"""The wheel is complete: a non-editable install finds its schemas from any directory."""

from __future__ import annotations

import json
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(ROOT)],
        check=True,
    )
    return next(out.glob("tap_generic_rest-*.whl"))


def test_wheel_ships_every_schema(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {n for n in names if n.startswith("tap_generic_rest/schemas/")}
    expected = {
        f"tap_generic_rest/schemas/{p.relative_to(ROOT / 'schemas').as_posix()}"
        for p in (ROOT / "schemas").rglob("*.json")
    }
    assert expected
    assert shipped == expected


def test_non_editable_install_discovers_from_another_directory(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(wheel)],
        check=True,
    )
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps(
            {
                "source": "chat",
                "base_url": "https://chat.example.com/api/v1",
                "api_token": "t",
                "user_id": "u",
            }
        )
    )
    result = subprocess.run(
        [str(env_dir / "bin" / "tap-generic-rest"), "--config", str(config), "--discover"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    catalog = json.loads(result.stdout)
    assert sorted(s["tap_stream_id"] for s in catalog["streams"]) == [
        "channels",
        "roles",
        "rooms",
        "subscriptions",
        "teams",
        "users",
    ]
