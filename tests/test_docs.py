"""The README's settings table and --about stay in step with the tap's settings."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from tap_generic_rest.tap import TapGenericRest

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = set(TapGenericRest.config_jsonschema["properties"])


def test_readme_settings_table_lists_every_setting():
    readme = (ROOT / "README.md").read_text()
    table = readme.split("## Settings", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", table, flags=re.MULTILINE))
    assert documented == SETTINGS


def test_about_shows_title_and_description_of_every_setting():
    result = subprocess.run(
        [sys.executable, "-m", "tap_generic_rest", "--about", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    about = json.loads(result.stdout)
    properties = about["settings"]["properties"]
    assert set(properties) >= SETTINGS
    for name in SETTINGS:
        assert properties[name].get("title"), name
        assert properties[name].get("description"), name
    for secret in ("api_token", "user_id", "api_key", "email"):
        assert properties[secret].get("secret") is True


def test_sources_reference_lists_every_stream_with_its_path_and_selector():
    """docs/sources.md, the users' reference of the sources, stays in step with the code."""
    from tap_generic_rest.sources import all_sources

    reference = (ROOT / "docs" / "sources.md").read_text()
    for name, source in all_sources().items():
        section = reference.split(f"\n## {name} ", 1)[1].split("\n## ", 1)[0]
        for stream in source.streams:
            row = f"| `{stream.name}` | `{stream.path}` | `{stream.records_key}` | "
            assert row in section, (name, stream.name)


def test_readmes_point_at_the_repositorys_own_reference():
    """Not at files a user of the repository does not have (the seeds, SOURCES.md)."""
    for readme in (ROOT / "README.md", ROOT / "sandbox" / "README.md"):
        text = readme.read_text()
        assert "docs/sources.md" in text, readme
        assert "SOURCES.md" not in text, readme
        assert "shared/" not in text, readme


def test_the_docs_speak_of_the_example_specs_not_of_seeds():
    """A reader of the repository has the example specs in examples/specs/, not "the seeds"
    nor "seed 002" (the sandbox's ``--seed`` and ``seed=``, its data's, are another thing)."""
    for path in (ROOT / "README.md", *sorted(ROOT.glob("docs/*.md"))):
        text = re.sub(r"--seed|seed=", "", path.read_text())
        found = re.findall(r"[^\n]{0,30}\bseeds?\b[^\n]{0,30}", text, flags=re.IGNORECASE)
        assert not found, (path.name, found)
    assert "`examples/specs/`" in (ROOT / "README.md").read_text()
