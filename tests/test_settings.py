"""Settings as users write them (issue 13): environment variables, numbers as text, typos.

Every setting of every type must work from ``--config ENV`` (the SDK reads the variables as
text; a number setting such as ``max_wait_seconds=0.5`` used to be refused) and from a config
file where Meltano wrote a number as a string. A variable that is not of its setting's type
is one line naming the variable and the setting, never the value. Unknown settings are warned
about once, with the closest known setting.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from tap_generic_rest.__main__ import main
from tap_generic_rest.config.settings import env_settings, unknown_settings, with_numbers
from tap_generic_rest.config.validate import config_errors
from tap_generic_rest.tap import TapGenericRest

PREFIX = "TAP_GENERIC_REST_"
SECRET = "k3y-9f2c7d1e"
BASE = {"source": "helpdesk", "base_url": "https://api.example.com", "api_key": SECRET}


def schema() -> dict[str, Any]:
    return TapGenericRest.full_settings_schema()


@pytest.fixture(autouse=True)
def _root_handlers() -> Any:
    """The SDK's CLI adds a stderr handler to the root logger per call: drop it afterwards."""
    root = logging.getLogger()
    before = list(root.handlers)
    yield
    for handler in [h for h in root.handlers if h not in before]:
        root.removeHandler(handler)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Set ``TAP_GENERIC_REST_<NAME>`` variables for one test (and no others)."""
    import os

    for name in list(os.environ):
        if name.startswith(PREFIX):
            monkeypatch.delenv(name)
    monkeypatch.chdir(Path(__file__).parent)  # no stray .env file is read

    def set_(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(PREFIX + name.upper(), value)

    return set_


# --- --config ENV: every type ------------------------------------------------------------


def test_every_type_of_setting_from_the_environment(env: Any) -> None:
    env(
        source="helpdesk",  # string with allowed values
        base_url="https://api.example.com",  # string
        api_key=SECRET,  # secret string
        page_size="7",  # integer
        max_wait_seconds="0.5",  # number, the case of the issue
        request_timeout="30",  # number without a fraction
        flattening_enabled="true",  # boolean
        flattening_max_depth="1",
        avatar_types='["project", "user"]',  # array, as JSON
        stream_map_config='{"tenant": "acme"}',  # object
    )
    tap = TapGenericRest(config={}, parse_env_config=True, setup_mapper=False)
    assert dict(tap.config) == {
        "source": "helpdesk",
        "base_url": "https://api.example.com",
        "api_key": SECRET,
        "page_size": 7,
        "max_wait_seconds": 0.5,
        "request_timeout": 30.0,
        "flattening_enabled": True,
        "flattening_max_depth": 1,
        "avatar_types": ["project", "user"],
        "stream_map_config": {"tenant": "acme"},
    }
    assert tap.streams["teams"].max_wait_seconds == 0.5


@pytest.mark.parametrize(
    ("name", "text", "value"),
    [
        ("max_wait_seconds", "0.25", 0.25),
        ("max_wait_seconds", " 2 ", 2.0),
        ("max_wait_seconds", "1e1", 10.0),
        ("request_timeout", ".5", 0.5),
        ("max_retries", "0", 0),
        ("flattening_enabled", "FALSE", False),
        ("flattening_enabled", "1", True),
        ("flattening_enabled", "off", False),
        ("avatar_types", "project,user", ["project", "user"]),
        ("stream_maps", '{"teams": {"note": "\'x\'"}}', {"teams": {"note": "'x'"}}),
        ("user_agent", "", ""),
    ],
)
def test_environment_values_by_type(env: Any, name: str, text: str, value: Any) -> None:
    env(**{name: text})
    assert env_settings(schema(), PREFIX) == {name: value}


def test_an_empty_variable_of_a_typed_setting_counts_as_unset(env: Any) -> None:
    env(page_size="", max_wait_seconds=" ")
    assert env_settings(schema(), PREFIX) == {}


@pytest.mark.parametrize(
    ("name", "text", "words"),
    [
        ("page_size", "ten", "an integer"),
        ("page_size", "2.5", "an integer"),
        ("max_wait_seconds", "half", "a number"),
        ("max_wait_seconds", "nan", "a number"),
        ("max_wait_seconds", "inf", "a number"),
        ("flattening_enabled", "maybe", "true or false"),
        ("stream_maps", "[1, 2]", "an object"),
        ("stream_map_config", "7", "an object"),
        ("avatar_types", '{"a": 1}', "a list"),
    ],
)
def test_a_bad_variable_is_one_line_naming_it_and_its_setting(
    env: Any, capsys: pytest.CaptureFixture[str], name: str, text: str, words: str
) -> None:
    env(source="helpdesk", base_url="https://api.example.com", api_key=SECRET, **{name: text})
    with pytest.raises(SystemExit) as exit_:
        main(["--config", "ENV", "--discover"])
    out, err = capsys.readouterr()
    assert exit_.value.code == 1
    assert out == ""
    variable = PREFIX + name.upper()
    line = f"tap-generic-rest: error: environment variable {variable} (setting '{name}') must be "
    assert line + words in err
    assert err.count("tap-generic-rest: error:") == 1
    assert "Traceback" not in err
    assert SECRET not in err
    if len(text) > 2:
        assert text not in err.replace(variable, "")


# --- numbers written as text (Meltano's kind string) ------------------------------------------


def test_a_number_setting_accepts_a_decimal_string_in_a_config_file(tmp_path: Path) -> None:
    config = {**BASE, "max_wait_seconds": "0.5", "request_timeout": "12"}
    assert config_errors(config, TapGenericRest.config_jsonschema) == []
    tap = TapGenericRest(config=config, setup_mapper=False)
    assert tap.config["max_wait_seconds"] == 0.5
    assert tap.config["request_timeout"] == 12.0
    assert tap.streams["teams"].timeout == 12.0


@pytest.mark.parametrize("text", ["half", "nan", "Infinity", "0x10", "1_000", ""])
def test_a_number_setting_still_refuses_text_that_is_not_a_number(text: str) -> None:
    errors = config_errors({**BASE, "max_wait_seconds": text}, TapGenericRest.config_jsonschema)
    assert errors == ["setting 'max_wait_seconds' must be a number"]


def test_only_number_settings_take_text() -> None:
    """Integers stay strict: "3" for max_retries is still refused (Meltano sends integers)."""
    config = with_numbers({**BASE, "max_retries": "3", "api_key": "1.5"}, schema())
    assert config["max_retries"] == "3"
    assert config["api_key"] == "1.5"


# --- unknown settings ----------------------------------------------------------------------


def test_unknown_settings_are_named_with_the_closest_known_one() -> None:
    config = {**BASE, "pagesize": 5, "max_retires": 1, "colour": "blue"}
    assert unknown_settings(config, schema()) == (
        "unknown settings ignored: 'colour', 'max_retires' (did you mean 'max_retries'?), "
        "'pagesize' (did you mean 'page_size'?)"
    )
    assert unknown_settings({**BASE, "flatening_enabled": True}, schema()) == (
        "unknown setting ignored: 'flatening_enabled' (did you mean 'flattening_enabled'?)"
    )


def test_known_settings_including_the_sdks_are_not_reported() -> None:
    config = {**BASE, "stream_maps": {}, "flattening_enabled": False, "batch_config": None}
    assert unknown_settings(config, schema()) is None


def test_the_tap_warns_once_about_unknown_settings(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        TapGenericRest(config={**BASE, "pagesize": 5, "max_retires": 1}, setup_mapper=False)
    warnings = [r.getMessage() for r in caplog.records if "unknown setting" in r.getMessage()]
    assert warnings == [
        "config: unknown settings ignored: 'max_retires' (did you mean 'max_retries'?), "
        "'pagesize' (did you mean 'page_size'?)"
    ]
    assert all(r.levelno == logging.WARNING for r in caplog.records if r.getMessage() in warnings)


def test_unknown_settings_do_not_stop_the_run(tmp_path: Path, capsys: Any) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({**BASE, "pagesize": 5}))
    with pytest.raises(SystemExit) as exit_:
        main(["--config", str(path), "--discover"])
    out, _ = capsys.readouterr()
    assert exit_.value.code == 0
    assert json.loads(out)["streams"]
