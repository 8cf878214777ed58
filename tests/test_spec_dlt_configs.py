"""dlt's own test configurations, judged by dlt and by the tap (no dlt needed: a fixture).

``scripts/dlt_configs.py`` extracted every plain-data configuration of dlt's
``tests/sources/rest_api/`` and recorded dlt's verdict (its ``rest_api_source`` run on
each); ``tests/fixtures/dlt_configs/configs.json`` holds them. The tap must accept at least
95% of what dlt accepts and refuse everything dlt refuses, each time in one line.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tap_generic_rest.errors import ConfigError
from tap_generic_rest.spec.compile import compile_spec

FIXTURE = Path(__file__).parent / "fixtures" / "dlt_configs" / "configs.json"
CONFIGS: list[dict[str, Any]] = json.loads(FIXTURE.read_text(encoding="utf-8"))
_REFERENCE = re.compile(r'^dlt\.(secrets|config)\["([^"]+)"\]$')

#: Configurations dlt accepts that the tap refuses, each with why (by where dlt has them).
REFUSED_ON_PURPOSE = {
    "tests/sources/rest_api/integration/test_offline.py:1706": (
        "`json` and `data` on one endpoint: dlt accepts the configuration and fails at the "
        "first request; the tap refuses it before any request"
    ),
}


def _settings(value: Any, found: dict[str, str]) -> dict[str, str]:
    """A value for every setting the configuration reads (as a user would have set them)."""
    if isinstance(value, str) and (match := _REFERENCE.match(value)):
        found[match.group(2)] = "secret-value"
    elif isinstance(value, dict):
        for key, item in value.items():
            if item in ("dlt.secrets.value", "dlt.config.value"):
                found[str(key)] = "secret-value"
            _settings(item, found)
    elif isinstance(value, list):
        for item in value:
            _settings(item, found)
    return found


def _tap_verdict(config: dict[str, Any]) -> tuple[str, str]:
    try:
        compile_spec({"spec": config, **_settings(config, {})})
    except ConfigError as exc:
        return "invalid", str(exc)
    return "valid", ""


def test_the_fixture_holds_dlts_own_configurations_both_kinds():
    verdicts = [entry["dlt"] for entry in CONFIGS]
    assert verdicts.count("valid") >= 50
    assert verdicts.count("invalid") >= 25
    assert all(entry["origin"].startswith("tests/sources/rest_api/") for entry in CONFIGS)


def test_the_tap_accepts_at_least_95_percent_of_what_dlt_accepts():
    accepted = [entry for entry in CONFIGS if entry["dlt"] == "valid"]
    refused = {}
    for entry in accepted:
        verdict, message = _tap_verdict(entry["config"])
        if verdict == "invalid":
            refused[entry["origin"]] = message
    assert set(refused) == set(REFUSED_ON_PURPOSE), refused
    assert len(accepted) - len(refused) >= 0.95 * len(accepted)


@pytest.mark.parametrize(
    "entry",
    [entry for entry in CONFIGS if entry["dlt"] == "invalid"],
    ids=lambda entry: entry["origin"].rsplit("/", 1)[-1],
)
def test_what_dlt_refuses_the_tap_refuses_in_one_line(entry):
    verdict, message = _tap_verdict(entry["config"])
    assert verdict == "invalid", f"accepted; dlt said: {entry['dlt_error']}"
    assert "\n" not in message.strip()
    assert message.startswith("spec: ")
