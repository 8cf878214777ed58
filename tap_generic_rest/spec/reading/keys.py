"""Checking a spec's keys the way dlt checks a ``rest_api`` configuration, before compiling.

dlt validates its configuration against its ``TypedDict`` types (``RESTAPIConfig``,
``Endpoint``, the paginator and auth configs): a key it does not know is refused, a
required one missing is refused. Here the same tables, one per object kind, say every key
dlt knows (and the few the seeds add), so that a misspelled key fails in one line with the
nearest valid one instead of being ignored (``paginatr`` would read one page and exit 0).

Keys that hold Python in dlt (callables, classes, sessions) cannot be written in a file and
are refused saying so; keys that only steer dlt's loader (``columns``, ``table_format``...)
have no effect on a Singer tap, and each one is named in a warning.
"""

from __future__ import annotations

import difflib
import logging
from typing import TYPE_CHECKING, Any

from tap_generic_rest.spec.reading.loader import Reference
from tap_generic_rest.spec.values import fail

if TYPE_CHECKING:
    from collections.abc import Mapping

_logger = logging.getLogger("tap_generic_rest.spec")

#: Keys that need Python in dlt: what each one would be, for the refusal.
PYTHON_ONLY = {
    "session": "a requests Session object",
    "processing_steps": "Python callables (filter, map, yield_map)",
    "convert": "a Python callable",
    "transform": "a Python callable",
    "last_value_func": "a Python callable unless it names 'max' or 'min'",
}
#: Resource hints dlt passes to its loader: a Singer target decides tables and columns.
LOADER_HINTS = (
    "columns",
    "table_name",
    "nested_hints",
    "parent_table_name",
    "schema_contract",
    "table_format",
    "file_format",
    "references",
    "merge_key",
    "max_table_nesting",
)
TOP = ("client", "resources", "resource_defaults")
CLIENT = ("base_url", "headers", "auth", "paginator", "session")
RESOURCE = (
    "name",
    "endpoint",
    "include_from_parent",
    "selected",
    "parallelized",
    "processing_steps",
    "write_disposition",
    "primary_key",
    *LOADER_HINTS,
)
ENDPOINT = (
    "path",
    "method",
    "params",
    "json",
    "data",
    "paginator",
    "data_selector",
    "response_actions",
    "incremental",
    "auth",
    "headers",
    "error_handler",  # the seeds' retry settings (a tap extension)
)
_INCREMENTAL_ARGS = (
    "cursor_path",
    "initial_value",
    "last_value_func",
    "primary_key",
    "end_value",
    "row_order",
    "allow_external_schedulers",
    "lag",
    "on_cursor_value_missing",
    "range_start",
    "range_end",
    "convert",
    "transform",
)
INCREMENTAL = (*_INCREMENTAL_ARGS, "start_param", "end_param", "start_value_format")
INCREMENTAL_PARAM = ("type", *_INCREMENTAL_ARGS)
RESOLVE_PARAM = ("type", "resource", "field")
RESPONSE_ACTION = ("status_code", "content", "action")
ERROR_HANDLER = ("retry_on_status_codes", "max_retries", "backoff_factor", "wait_headers")
_RANGE = ("has_more_path", "stop_after_empty_page", "total_path")
PAGINATORS: dict[str, tuple[str, ...]] = {
    "auto": (),
    "single_page": (),
    "json_link": ("next_url_path",),
    "json_response": ("next_url_path",),
    "header_link": ("links_next_key",),
    "header_cursor": ("cursor_key", "cursor_param"),
    "cursor": (
        "cursor_path",
        "cursor_param",
        "cursor_body_path",
        "stop_after_empty_page",
        "has_more_path",
        "cursor_value",  # the seeds' template form (a tap extension)
        "stop_condition",
    ),
    "offset": (
        "limit",
        "offset",
        "offset_param",
        "offset_body_path",
        "limit_param",
        "limit_body_path",
        "maximum_offset",
        *_RANGE,
    ),
    "page_number": (
        "base_page",
        "page",
        "page_param",
        "page_body_path",
        "maximum_page",
        *_RANGE,
    ),
}
AUTHS: dict[str, tuple[str, ...]] = {
    "bearer": ("token",),
    "api_key": ("name", "api_key", "location", "scheme"),  # scheme: a tap extension
    "http_basic": ("username", "password"),
    "basic": ("username", "password"),  # the seeds' name for http_basic
    "oauth2_client_credentials": (
        "access_token",
        "access_token_url",
        "client_id",
        "client_secret",
        "access_token_request_data",
        "default_token_expiration",
        "session",
        "scopes",  # sent as the token request's scope (a tap extension)
    ),
    # A tap extension: rotating refresh tokens, persisted in a token file.
    "oauth2_refresh_token": (
        "access_token_url",
        "client_id",
        "client_secret",
        "refresh_token",
        "token_store",
    ),
}
_REQUIRED_AUTH = {
    "bearer": ("token",),
    "api_key": ("api_key",),
    "http_basic": ("username", "password"),
    "basic": ("username", "password"),
    "oauth2_client_credentials": ("access_token_url", "client_id", "client_secret"),
    "oauth2_refresh_token": (
        "access_token_url",
        "client_id",
        "client_secret",
        "refresh_token",
        "token_store",
    ),
}


def nearest(key: str, known: tuple[str, ...] | list[str]) -> str:
    """`` (did you mean `paginator`?)`` for the known key closest to ``key``, or nothing."""
    close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
    return f" (did you mean `{close[0]}`?)" if close else ""


def _keys(value: Mapping[str, Any], known: tuple[str, ...], where: str) -> None:
    """Refuse the first key of ``value`` that ``known`` does not hold, naming the nearest."""
    for key in value:
        if key not in known:
            raise fail(where, f"unknown key `{key}`{nearest(str(key), known)}")
        reason = PYTHON_ONLY.get(key)
        if key in PYTHON_ONLY and reason and not _plain_name(key, value[key]):
            raise fail(f"{where}.{key}", f"holds {reason} in dlt, which a spec file cannot hold")


def _plain_name(key: str, value: Any) -> bool:
    """Whether a Python-only key holds a value a file can state (``last_value_func: max``)."""
    return key == "last_value_func" and isinstance(value, str)


def _object(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise fail(where, "must be an object")
    return value


def validate(spec: Mapping[str, Any]) -> None:
    """Refuse, in one ConfigError, the first thing in ``spec`` dlt would refuse or not read."""
    _keys(spec, TOP, "the spec")
    missing = [key for key in ("client", "resources") if key not in spec]
    if missing:
        raise fail("the spec", f"missing `{'` and `'.join(missing)}` (dlt requires both)")
    client = _object(spec["client"], "client")
    _keys(client, CLIENT, "client")
    _auth(client.get("auth"), "client.auth")
    _paginator(client.get("paginator"), "client.paginator")
    resources = spec["resources"]
    if not isinstance(resources, list):
        raise fail("resources", "must be a list")
    if spec.get("resource_defaults") is not None:
        defaults = _object(spec["resource_defaults"], "resource_defaults")
        _resource(defaults, "resource_defaults", defaults=True)
    for index, resource in enumerate(resources):
        if isinstance(resource, str):
            continue
        if not isinstance(resource, dict):
            raise fail(f"resources[{index}]", "must be a name or an object")
        name = resource.get("name")
        where = f"resource '{name}'" if isinstance(name, str) else f"resources[{index}]"
        _resource(resource, where, defaults=False)


def _resource(resource: Mapping[str, Any], where: str, *, defaults: bool) -> None:
    _keys(resource, RESOURCE, where)
    if not defaults and "name" not in resource:
        raise fail(where, "missing `name`")
    hints = [key for key in LOADER_HINTS if key in resource]
    if hints:
        _logger.warning(
            "spec: %s: %s: hints for dlt's loader, which a Singer target does not read; ignored",
            where,
            ", ".join(hints),
        )
    endpoint = resource.get("endpoint")
    if endpoint is None or isinstance(endpoint, str):
        return
    _endpoint(_object(endpoint, f"{where}: endpoint"), f"{where}: endpoint")


def _endpoint(endpoint: Mapping[str, Any], where: str) -> None:
    _keys(endpoint, ENDPOINT, where)
    _auth(endpoint.get("auth"), f"{where}.auth")
    _paginator(endpoint.get("paginator"), f"{where}.paginator")
    if endpoint.get("incremental") is not None:
        incremental = _object(endpoint["incremental"], f"{where}.incremental")
        _keys(incremental, INCREMENTAL, f"{where}.incremental")
        if "cursor_path" not in incremental:
            raise fail(f"{where}.incremental", "missing `cursor_path`")
    if endpoint.get("error_handler") is not None:
        _keys(
            _object(endpoint["error_handler"], f"{where}.error_handler"),
            ERROR_HANDLER,
            f"{where}.error_handler",
        )
    _params(endpoint.get("params"), where)
    actions = endpoint.get("response_actions")
    if actions is not None:
        if not isinstance(actions, list):
            raise fail(f"{where}.response_actions", "must be a list")
        for index, action in enumerate(actions):
            _keys(
                _object(action, f"{where}.response_actions[{index}]"),
                RESPONSE_ACTION,
                f"{where}.response_actions[{index}]",
            )
    if endpoint.get("json") is not None and endpoint.get("data") is not None:
        raise fail(where, "`json` and `data` together (dlt sends one body or the other)")


def _params(params: Any, where: str) -> None:
    if params is None:
        return
    incremental = []
    for name, value in _object(params, f"{where}.params").items():
        if not isinstance(value, dict):
            continue
        key = f"{where}.params.{name}"
        kind = value.get("type")
        if kind == "resolve":
            _keys(value, RESOLVE_PARAM, key)
            for needed in ("resource", "field"):
                if needed not in value:
                    raise fail(key, f"missing `{needed}`")
        elif kind == "incremental":
            incremental.append(name)
            for bounded in ("end_value", "end_param"):
                if bounded in value:
                    raise fail(
                        key,
                        f"`{bounded}` is read only in endpoint.incremental (as in dlt), "
                        "not in a param",
                    )
            _keys(value, INCREMENTAL_PARAM, key)
        else:
            raise fail(key, f"unknown param type `{kind}` (resolve or incremental)")
    if len(incremental) > 1:
        raise fail(
            where,
            f"more than one incremental param ({', '.join(incremental)}); dlt "
            "allows one per endpoint",
        )


def _kind(
    raw: Any, known: Mapping[str, tuple[str, ...]], default: str, where: str, what: str
) -> str | None:
    """The type a paginator or auth names (its string, or its ``type``), checked."""
    if raw is None:
        return None
    if isinstance(raw, str):
        kind = raw
    elif isinstance(raw, dict):
        kind = raw.get("type", default)
    else:
        raise fail(where, "must be a type name or an object")
    if kind not in known:
        names = ", ".join(known)
        hint = nearest(str(kind), list(known))
        raise fail(f"{where}.type", f"unknown {what} '{kind}'{hint} (known: {names})")
    return str(kind)


def _paginator(raw: Any, where: str) -> None:
    kind = _kind(raw, PAGINATORS, "auto", where, "paginator")
    if kind is None or not isinstance(raw, dict):
        return
    _keys(raw, ("type", *PAGINATORS[kind]), where)
    if kind == "offset" and "limit" not in raw:
        raise fail(where, "missing `limit` (dlt's offset paginator requires it)")
    for param, body in (
        ("offset_param", "offset_body_path"),
        ("limit_param", "limit_body_path"),
        ("page_param", "page_body_path"),
        ("cursor_param", "cursor_body_path"),
    ):
        if raw.get(param) is not None and raw.get(body) is not None:
            raise fail(where, f"`{param}` and `{body}` together (one or the other)")


def _auth(raw: Any, where: str) -> None:
    if isinstance(raw, list):  # a tap extension: alternatives, the first whose settings are set
        for index, option in enumerate(raw):
            _auth(option, f"{where}[{index}]")
        return
    default = "bearer"
    kind = _kind(raw, AUTHS, default, where, "auth type")
    if kind is None:
        return
    if not isinstance(raw, dict):
        return  # a type's name alone: its credentials are the settings of their names
    _keys(raw, ("type", *AUTHS[kind]), where)
    for needed in _REQUIRED_AUTH[kind]:
        if raw.get(needed) is None:
            raise fail(where, f'missing `{needed}` (a string or dlt.secrets["NAME"])')
    if raw.get("location") not in (None, "header", "query", "param", "cookie"):
        raise fail(
            f"{where}.location",
            f"unknown location '{raw['location']}' (header, query, param, cookie)",
        )
    for key, value in raw.items():
        if key == "scopes" and isinstance(value, list):
            continue
        if not isinstance(value, str | int | dict | Reference) or isinstance(value, bool):
            raise fail(f"{where}.{key}", 'must be a string or dlt.secrets["NAME"]')
