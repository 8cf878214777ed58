"""Bad specs: one line naming the resource and the key, exit status 1, no request made.

Each case runs the command line in process (sync and --discover) with requests-mock
registered for nothing, so any request would show in its history.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tap_generic_rest.__main__ import main
from tap_generic_rest.redact import REDACTOR

PREFIX = "tap-generic-rest: error: "
SECRET = "b4d-sp3c-s3cr3t"
COMMANDS = pytest.mark.parametrize("command", [[], ["--discover"]], ids=["sync", "discover"])


def spec(**resource: Any) -> dict[str, Any]:
    """A good spec with one resource, its keys replaced or added by ``resource``."""
    base = {"name": "things", "endpoint": {"path": "/things", "data_selector": "data"}}
    return {
        "client": {
            "base_url": "https://api.example.com",
            "auth": {"type": "bearer", "token": 'dlt.secrets["api_token"]'},
        },
        "resources": [{**base, **resource}],
    }


def endpoint(**keys: Any) -> dict[str, Any]:
    return spec(endpoint={"path": "/things", **keys})


@pytest.fixture(autouse=True)
def _fresh_redactor() -> None:
    REDACTOR.clear()


def run(tmp_path: Path, capsys: Any, command: list[str], config: dict[str, Any]) -> str:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"api_token": SECRET, **config}))
    with pytest.raises(SystemExit) as exit_:
        main(["--config", str(path), *command])
    out, err = capsys.readouterr()
    assert exit_.value.code == 1
    assert out == ""
    assert err.count("\n") == 1, err
    assert err.startswith(PREFIX), err
    assert "Traceback" not in err
    assert SECRET not in err
    return err


INLINE_CASES = [
    pytest.param(
        endpoint(paginator={"type": "magic"}),
        ["resource 'things'", "endpoint.paginator.type", "unknown paginator 'magic'"],
        id="unknown-paginator",
    ),
    pytest.param(
        endpoint(paginator={"type": "offset"}),
        ["resource 'things'", "endpoint.paginator", "missing `limit`"],
        id="offset-without-limit",
    ),
    pytest.param(
        {**spec(), "client": {"base_url": "https://a.example.com", "auth": {"type": "oauth2"}}},
        ["client.auth.type", "unknown auth type 'oauth2'"],
        id="unknown-auth",
    ),
    pytest.param(
        {
            **spec(),
            "client": {
                "base_url": "https://a.example.com",
                "auth": {"type": "api_key", "api_key": "k3y-value", "location": "body"},
            },
        },
        ["client.auth.location", "unknown location 'body'"],
        id="unknown-key-location",
    ),
    pytest.param(
        spec(endpoint={"path": 5}),
        ["resource 'things'", "endpoint.path: must be a string"],
        id="path-not-text",
    ),
    pytest.param(
        spec(endpoint={"path": "/things/{id}/parts"}),
        ["resource 'things'", "endpoint.path", "needs a param named 'id'"],
        id="unresolved-path-placeholder",
    ),
    pytest.param(
        endpoint(params={"since": "{since}"}),
        ["resource 'things'", "endpoint.params", "'{since}' names nothing"],
        id="unresolved-param-placeholder",
    ),
    pytest.param(
        spec(endpoint={"path": "/owners/{resources.owners.id}/things"}),
        ["resource 'things'", "its parent 'owners' is not a resource of the spec"],
        id="unknown-parent",
    ),
    pytest.param(
        spec(endpoint={"path": "/things/{resources.things.id}"}),
        ["resource 'things'", "names the resource itself"],
        id="own-parent",
    ),
    pytest.param(
        {
            "client": {"base_url": "https://a.example.com"},
            "resources": [
                {"name": "a", "endpoint": "/b/{resources.b.id}/a"},
                {"name": "b", "endpoint": "/a/{resources.a.id}/b"},
            ],
        },
        ["resource 'a'", "cycle"],
        id="parent-cycle",
    ),
    pytest.param(
        {
            **spec(),
            "client": {
                "base_url": "https://a.example.com",
                "auth": {"type": "bearer", "token": 'dlt.secrets["nobody_set_this"]'},
            },
        },
        ["client.auth.token", "setting 'nobody_set_this'", "which is not set"],
        id="setting-not-set",
    ),
    pytest.param(
        endpoint(params={"team": 'dlt.config["team_id"]'}),
        ["resource 'things'", "endpoint.params.team", "setting 'team_id'", "not set"],
        id="config-not-set",
    ),
    pytest.param(
        endpoint(data_selector="$..items[?(@.x"),
        ["resource 'things'", "endpoint.data_selector", "not a JSONPath"],
        id="jsonpath-malformed",
    ),
    pytest.param(
        endpoint(paginator={"type": "cursor", "cursor_value": "{{ __import__('os') }}"}),
        ["resource 'things'", "endpoint.paginator.cursor_value", "a call other than .get"],
        id="template-call",
    ),
    pytest.param(
        endpoint(paginator={"type": "cursor", "cursor_value": "{{ secrets.get('x') }}"}),
        ["resource 'things'", "endpoint.paginator.cursor_value", "the name 'secrets'"],
        id="template-name",
    ),
    pytest.param(
        endpoint(method="PUT"),
        ["resource 'things'", "endpoint.method", "GET or POST"],
        id="put",
    ),
    pytest.param(
        spec(write_disposition="upsert"),
        ["resource 'things'", "write_disposition", "unknown 'upsert'"],
        id="write-disposition",
    ),
    pytest.param(
        endpoint(incremental={"cursor_path": "meta.updated"}),
        ["resource 'things'", "endpoint.incremental.cursor_path", "top-level field"],
        id="incremental-nested",
    ),
    pytest.param(
        endpoint(params={"since": "{incremental.start_value}"}),
        ["resource 'things'", "needs endpoint.incremental"],
        id="start-value-without-incremental",
    ),
    pytest.param(
        spec(include_from_parent=["name"]),
        ["resource 'things'", "include_from_parent", "no parent"],
        id="include-without-parent",
    ),
    pytest.param(
        {"client": {"base_url": "https://a.example.com"}, "resources": []},
        ["resources", "non-empty list"],
        id="no-resources",
    ),
    pytest.param(
        {**spec(), "resources": [spec()["resources"][0], spec()["resources"][0]]},
        ["resource 'things'", "defined twice"],
        id="duplicate",
    ),
    pytest.param(
        {**spec(), "sources": []},
        ["sources", "unknown key"],
        id="unknown-top-key",
    ),
]


@COMMANDS
@pytest.mark.parametrize(("spec_value", "fragments"), INLINE_CASES)
def test_bad_inline_spec(tmp_path, capsys, requests_mock, command, spec_value, fragments):
    err = run(tmp_path, capsys, command, {"spec": spec_value})
    for fragment in fragments:
        assert fragment in err, err
    assert requests_mock.request_history == []


FILE_CASES = [
    pytest.param(
        "spec.yaml",
        "client:\n  base_url: https://a.example.com\nresources:\n  - name: x\n   endpoint: /x\n",
        ["spec.yaml", "YAML syntax error", "line 5"],
        id="yaml-syntax",
    ),
    pytest.param(
        "spec.json",
        '{"client": {"base_url": "https://a.example.com"},\n "resources": [}\n',
        ["spec.json", "not valid JSON", "line 2"],
        id="json-syntax",
    ),
    pytest.param(
        "spec.py",
        "import dlt\n\nsource = rest_api_source({\n    'client': {'base_url': 'x'}\n"
        "    'resources': []\n})\n",
        ["spec.py", "Python syntax error", "line 4"],
        id="python-syntax",
    ),
    pytest.param(
        "spec.py",
        "import os\n\nsource = rest_api_source({\n    'client': {'base_url': os.environ['URL']},\n"
        "    'resources': ['x'],\n})\n",
        ["spec.py", "only literals are allowed", "line 4"],
        id="python-not-literal",
    ),
    pytest.param(
        "spec.py",
        "import os\nos.system('touch /tmp/owned')\nconfig = {'resources': ['x']}\n",
        ["spec.py", "only literals are allowed", "line 2", "a function call"],
        id="python-statement",
    ),
    pytest.param(
        "spec.py",
        "def make():\n    return {}\n",
        ["spec.py", "only literals are allowed", "line 1", "FunctionDef"],
        id="python-def",
    ),
    pytest.param(
        "spec.py",
        "import dlt\n",
        ["spec.py", "no rest_api_source"],
        id="python-empty",
    ),
    pytest.param(
        "spec.toml",
        "x = 1\n",
        ["spec.toml", "unknown format '.toml'"],
        id="unknown-format",
    ),
]


@COMMANDS
@pytest.mark.parametrize(("name", "content", "fragments"), FILE_CASES)
def test_bad_spec_file(tmp_path, capsys, requests_mock, command, name, content, fragments):
    path = tmp_path / name
    path.write_text(content)
    err = run(tmp_path, capsys, command, {"spec": str(path)})
    for fragment in fragments:
        assert fragment in err, err
    assert requests_mock.request_history == []
    assert not Path("/tmp/owned").exists()  # the file the bad spec would make


def test_missing_spec_file(tmp_path, capsys, requests_mock):
    err = run(tmp_path, capsys, [], {"spec": str(tmp_path / "nope.yaml")})
    assert "spec file" in err
    assert "nope.yaml cannot be read" in err
    assert requests_mock.request_history == []


def test_a_spec_that_is_neither_a_path_nor_an_object(tmp_path, capsys):
    err = run(tmp_path, capsys, [], {"spec": 42})
    assert "setting 'spec' must be a string or an object" in err


def test_source_and_spec_together(tmp_path, capsys):
    err = run(tmp_path, capsys, [], {"spec": spec(), "source": "chat", "base_url": "https://x.io"})
    assert "set either 'source' or 'spec', not both" in err


def test_bad_base_url_from_the_spec(tmp_path, capsys):
    bad = {**spec(), "client": {"base_url": "ftp://a.example.com"}}
    err = run(tmp_path, capsys, [], {"spec": bad})
    assert "setting 'base_url' must be an http or https URL" in err


def test_no_base_url_anywhere(tmp_path, capsys):
    err = run(tmp_path, capsys, [], {"spec": {**spec(), "client": {}}})
    assert "client.base_url" in err
    assert "base_url setting is not set" in err
