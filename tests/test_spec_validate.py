"""A spec checked the way dlt checks its configuration: each mistake refused in one line."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tap_generic_rest.errors import ConfigError
from tap_generic_rest.spec.compile import compile_spec

BASE = "https://api.example.com/v1/"


def spec(*resources: Any, **client: Any) -> dict[str, Any]:
    return {"client": {"base_url": BASE, **client}, "resources": list(resources) or ["things"]}


def refusal(value: dict[str, Any], **settings: Any) -> str:
    with pytest.raises(ConfigError) as caught:
        compile_spec({"spec": value, **settings})
    message = str(caught.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    ("value", "fragments"),
    [
        pytest.param(
            spec({"name": "things", "endpoint": {"path": "things", "paginatr": "header_link"}}),
            ["resource 'things': endpoint", "unknown key `paginatr`", "did you mean `paginator`?"],
            id="misspelled-endpoint-key",
        ),
        pytest.param(
            spec({"name": "things", "primary_kay": "id"}),
            ["unknown key `primary_kay`", "did you mean `primary_key`?"],
            id="misspelled-resource-key",
        ),
        pytest.param(
            {"client": {"base_url": BASE, "timeout": 5}, "resources": ["things"]},
            ["client", "unknown key `timeout`"],
            id="unknown-client-key",
        ),
        pytest.param(
            {"client": {"base_url": BASE}},
            ["missing `resources`"],
            id="missing-resources",
        ),
        pytest.param(
            {"resources": ["things"]},
            ["missing `client`"],
            id="missing-client",
        ),
        pytest.param(
            spec(auth={"type": "bearer", "token": "t", "location": "query"}),
            ["client.auth", "unknown key `location`"],
            id="bearer-with-location",
        ),
        pytest.param(
            spec(paginator={"type": "header_lnk"}),
            [
                "client.paginator.type",
                "unknown paginator 'header_lnk'",
                "did you mean `header_link`?",
            ],
            id="misspelled-paginator",
        ),
        pytest.param(
            spec(
                "issues",
                {
                    "name": "comments",
                    "endpoint": {
                        "path": "issues/{id}/comments",
                        "params": {"id": {"type": "resolve", "resource": "issuess", "field": "id"}},
                    },
                },
            ),
            [
                "resource 'comments'",
                "its parent 'issuess' is not a resource",
                "did you mean `issues`?",
            ],
            id="misspelled-parent",
        ),
        pytest.param(
            spec(
                {
                    "name": "events",
                    "endpoint": {
                        "params": {
                            "since": {"type": "incremental", "cursor_path": "updated"},
                            "after": {"type": "incremental", "cursor_path": "updated"},
                        }
                    },
                }
            ),
            ["more than one incremental param (since, after)"],
            id="two-incremental-params",
        ),
        pytest.param(
            spec(
                "issues",
                {
                    "name": "comments",
                    "endpoint": {
                        "path": "comments",
                        "params": {"id": {"type": "resolve", "resource": "issues", "field": "id"}},
                    },
                },
            ),
            ["resolve params id are not used in endpoint.path 'comments'"],
            id="resolve-not-in-path",
        ),
        pytest.param(
            spec({"name": "things", "processing_steps": [{"filter": "x"}]}),
            ["processing_steps", "Python callables", "a spec file cannot hold"],
            id="processing-steps",
        ),
        pytest.param(
            spec(
                {
                    "name": "things",
                    "endpoint": {"incremental": {"cursor_path": "u", "convert": "int"}},
                }
            ),
            ["incremental.convert", "a Python callable"],
            id="convert",
        ),
        pytest.param(
            spec(
                {
                    "name": "things",
                    "endpoint": {"response_actions": [{"status_code": 404, "action": "retry"}]},
                }
            ),
            ["response_actions[0]", "only 'ignore'"],
            id="response-action-not-ignore",
        ),
        pytest.param(
            spec({"name": "things", "endpoint": {"path": "things/{org}"}}),
            ["needs a param named 'org'"],
            id="unbound-path-placeholder",
        ),
    ],
)
def test_each_mistake_dlt_refuses_is_refused_in_one_line(value, fragments):
    message = refusal(value)
    for fragment in fragments:
        assert fragment in message, message


def test_loader_hints_are_named_in_a_warning_not_ignored_silently(caplog):
    with caplog.at_level(logging.WARNING):
        compile_spec({"spec": spec({"name": "things", "table_name": "t", "columns": {"id": {}}})})
    assert "columns, table_name" in caplog.text
    assert "ignored" in caplog.text


def test_static_params_fill_path_placeholders_and_leave_the_query():
    source = compile_spec(
        {
            "spec": spec(
                {
                    "name": "issues",
                    "endpoint": {
                        "path": "{org}/{repo}/issues",
                        "params": {"org": "dlt-hub", "repo": "dlt", "state": "open"},
                    },
                }
            )
        }
    )
    (stream,) = source.streams
    assert stream.path == "dlt-hub/dlt/issues"
    assert dict(stream.params) == {"state": "open"}


def test_dlt_secrets_value_reads_the_setting_named_after_its_key():
    source = compile_spec(
        {
            "spec": spec(auth={"type": "bearer", "token": "dlt.secrets.value"}),
            "token": "from-settings",
        }
    )
    assert source.auth.settings == ("token",)


def test_an_auth_name_alone_reads_its_credentials_from_settings_of_their_names():
    source = compile_spec({"spec": spec(auth="http_basic"), "username": "u", "password": "p"})
    assert source.auth.settings == ("username", "password")
    message = refusal(spec(auth="api_key"))
    assert "reads setting 'api_key'" in message
    assert "which is not set" in message


def test_oauth_scopes_may_be_a_list():
    auth = {
        "type": "oauth2_client_credentials",
        "access_token_url": "https://login.example.com/token",
        "client_id": "id",
        "client_secret": 'dlt.secrets["secret"]',
        "scopes": ["read", "write"],
    }
    source = compile_spec({"spec": spec(auth=auth), "secret": "s"})
    assert source.auth.inner.scopes == ("read", "write")  # type: ignore[attr-defined]


def test_dlt_secrets_value_in_a_python_spec_file(tmp_path):
    path = tmp_path / "api.py"
    path.write_text(
        "import dlt\n"
        "from dlt.sources.rest_api import rest_api_source\n"
        "source = rest_api_source({\n"
        f"    'client': {{'base_url': '{BASE}', 'auth': {{'token': dlt.secrets.value}}}},\n"
        "    'resources': ['things'],\n"
        "})\n"
    )
    source = compile_spec({"spec": str(path), "token": "t0k3n"})
    assert source.auth.settings == ("token",)


def _incremental(where: str, **keys: Any) -> dict[str, Any]:
    """A resource whose incremental settings (endpoint.incremental, or a param) hold ``keys``."""
    if where == "endpoint":
        endpoint = {"path": "things", "incremental": {"cursor_path": "updated", **keys}}
    else:
        param = {"type": "incremental", "cursor_path": "updated", **keys}
        endpoint = {"path": "things", "params": {"since": param}}
    return spec({"name": "things", "primary_key": "id", "endpoint": endpoint})


@pytest.mark.parametrize("where", ["endpoint", "param"])
@pytest.mark.parametrize(
    ("name", "value"),
    [("primary_key", "id"), ("primary_key", []), ("row_order", "asc"), ("row_order", "desc")],
)
def test_incremental_keys_the_tap_does_not_honour_are_refused(
    where: str, name: str, value: Any
) -> None:
    """dlt deduplicates at the start value by ``primary_key`` and stops early by ``row_order``."""
    message = refusal(_incremental(where, **{name: value}))
    assert f"incremental.{name}" in message, message
    assert "not supported" in message


@pytest.mark.parametrize("where", ["endpoint", "param"])
def test_incremental_keys_at_dlts_default_are_read(where: str) -> None:
    compiled = compile_spec({"spec": _incremental(where, primary_key=None, row_order=None)})
    (stream,) = compiled.streams
    assert stream.replication_key == "updated"
