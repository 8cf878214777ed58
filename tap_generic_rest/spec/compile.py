"""Compiling a dlt ``rest_api`` spec into a Source and its stream classes.

Everything is checked here, before any request: an unknown paginator or auth type, a
resource without a path, a placeholder that names nothing, a setting the spec reads but
nobody set. Each problem is one ConfigError naming the resource and the key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tap_generic_rest.http.body import AUTO_SELECTOR
from tap_generic_rest.redact import REDACTOR
from tap_generic_rest.source import Source
from tap_generic_rest.spec.auth import AuthCompiler
from tap_generic_rest.spec.endpoint import (
    Bound,
    bind,
    check_expressions,
    is_detail,
    parent_of,
    response_actions,
)
from tap_generic_rest.spec.paginators import DLT_DEFAULT_RETRY, compile_paging, compile_retry
from tap_generic_rest.spec.reading.keys import validate
from tap_generic_rest.spec.reading.loader import LoadedSpec, Reference, load_spec
from tap_generic_rest.spec.replication_keys import incremental_spec, record_keys
from tap_generic_rest.spec.streams import PLACEHOLDER, SpecStream
from tap_generic_rest.spec.values import Resolver, fail
from tap_generic_rest.spec.values import selector as jsonpath_selector

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

_PARENT = re.compile(r"^resources\.([^.]+)\.(.+)$")


def compile_spec(config: Mapping[str, Any]) -> Source:
    """The Source the ``spec`` setting describes (a ConfigError for anything wrong)."""
    return _Compiler(load_spec(config.get("spec")), config).source()


def _merge(defaults: Mapping[str, Any], resource: Mapping[str, Any]) -> dict[str, Any]:
    """``resource_defaults`` under a resource as dlt merges them.

    The resource's keys replace the defaults'; in ``endpoint`` likewise, except ``params``
    and ``json``, merged key by key.
    """
    default_endpoint = defaults.get("endpoint") or {}
    if isinstance(default_endpoint, str):
        default_endpoint = {"path": default_endpoint}
    endpoint = resource.get("endpoint") or {}
    merged_endpoint = {
        **default_endpoint,
        **{k: v for k, v in endpoint.items() if k not in ("params", "json")},
    }
    for key in ("params", "json"):
        if key in endpoint:
            base = merged_endpoint.get(key)
            value = endpoint[key]
            both = isinstance(base, dict) and isinstance(value, dict)
            merged_endpoint[key] = {**base, **value} if both else value  # type: ignore[dict-item]
    return {**defaults, **resource, "endpoint": merged_endpoint}


def stream_name(name: str) -> str:
    """A resource's stream name: its name, or (``/users/list``) its words joined by ``_``.

    dlt normalizes such names into table names the same way at load time.
    """
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", name):
        return name
    return re.sub(r"[^A-Za-z0-9_]+", "_", name).strip("_")


def _expanded(item: Any) -> dict[str, Any]:
    """A resource in dlt's full form: a name alone is its path, an endpoint string a path."""
    if isinstance(item, str):
        return {"name": item, "endpoint": {"path": item}}
    raw = dict(item)
    endpoint = raw.get("endpoint")
    endpoint = {"path": endpoint} if isinstance(endpoint, str) else dict(endpoint or {})
    if endpoint.get("path") is None and isinstance(raw.get("name"), str):
        endpoint["path"] = raw["name"]  # dlt reads the name as the path
    raw["endpoint"] = endpoint
    return raw


@dataclass
class _Resource:
    """A resource while compiling: its attributes and its parent's name."""

    name: str
    attrs: dict[str, Any]
    parent: str | None
    parent_keys: tuple[tuple[str, str], ...]
    #: The parent keys requests are made with (path and params, not include_from_parent).
    request_keys: tuple[str, ...] = ()


class _Compiler:
    """One spec, compiled once: each method checks and turns one part of it."""

    def __init__(self, loaded: LoadedSpec, config: Mapping[str, Any]) -> None:
        self.loaded = loaded
        self.spec = loaded.data
        self.config = config
        self.resolve = Resolver(config)
        #: The resources' names (a parent is looked for among them).
        self.names: list[str] = []

    # --- the whole spec ------------------------------------------------------------

    def source(self) -> Source:
        validate(self.spec)
        client = self.spec["client"]
        base_url = self.config.get("base_url") or self.resolve(
            client.get("base_url"), "client.base_url"
        )
        if not base_url:
            raise fail("client.base_url", "not given, and the base_url setting is not set")
        auth, plain_headers = AuthCompiler(self.resolve).compile(
            client.get("auth"), client.get("headers") or {}
        )
        classes = self.streams(client, plain_headers)
        return Source(
            name=self.loaded.name,
            description=f"REST API described by the spec '{self.loaded.name}'",
            auth=auth,
            retry=DLT_DEFAULT_RETRY,
            streams=classes,
            base_url=str(base_url),
        )

    # --- resources -------------------------------------------------------------------

    def streams(
        self, client: Mapping[str, Any], headers: tuple[tuple[str, str], ...]
    ) -> tuple[type[SpecStream], ...]:
        resources = self.spec.get("resources")
        if not isinstance(resources, list) or not resources:
            raise fail("resources", "must be a non-empty list")
        defaults = self.spec.get("resource_defaults") or {}
        if not isinstance(defaults, dict):
            raise fail("resource_defaults", "must be an object")
        compiled: dict[str, _Resource] = {}
        raws = [_expanded(item) for item in resources]
        self.names = [str(raw["name"]) for raw in raws if isinstance(raw.get("name"), str)]
        for index, raw in enumerate(raws):
            name = raw.get("name")
            if not isinstance(name, str) or not stream_name(name):
                raise fail(f"resources[{index}].name", "must be a name (letters, digits, _ or -)")
            if name in compiled:
                raise fail(f"resource '{name}'", "defined twice")
            compiled[name] = self.resource(name, _merge(defaults, raw), client, headers)
        streams = [res.attrs["name"] for res in compiled.values()]
        twice = sorted({name for name in streams if streams.count(name) > 1})
        if twice:
            raise fail("resources", f"two resources make the stream '{twice[0]}'")
        return self.link(compiled)

    def resource(
        self,
        name: str,
        raw: dict[str, Any],
        client: Mapping[str, Any],
        headers: tuple[tuple[str, str], ...],
    ) -> _Resource:
        where = f"resource '{name}'"
        endpoint = raw.get("endpoint")
        endpoint = {"path": endpoint} if isinstance(endpoint, str) else dict(endpoint or {})
        if endpoint.get("path") is None:  # dlt reads the resource's name as its path
            endpoint["path"] = name
        if endpoint.get("auth") is not None and endpoint["auth"] != client.get("auth"):
            raise fail(where, "endpoint.auth: one auth per spec (client.auth) in the tap")
        method = str(endpoint.get("method", "GET")).upper()
        if method not in ("GET", "POST"):
            raise fail(where, f"endpoint.method: GET or POST (as in dlt), not {method}")
        path = self.resolve(endpoint["path"], f"{where}: endpoint.path")
        if not isinstance(path, str):
            raise fail(where, "endpoint.path: must be a string")
        detail = is_detail(path)
        selector = endpoint.get("data_selector")
        if selector is None and detail:
            selector = "$"  # one object, one record (dlt's guess for a detail path)
        records_key = (
            AUTO_SELECTOR
            if selector is None
            else jsonpath_selector(selector, f"{where}: endpoint.data_selector")
        )
        raw_paginator = endpoint.get("paginator", client.get("paginator"))
        if raw_paginator is None and detail:
            raw_paginator = "single_page"
        paging = compile_paging(raw_paginator, f"{where}: endpoint.paginator")
        attrs: dict[str, Any] = {
            "name": stream_name(name),
            "source_name": self.loaded.name,
            "records_key": records_key,
            "paging": paging,
            "headers": headers + self.endpoint_headers(endpoint.get("headers"), where),
            "schema_file": self.schema_file(name),
            "selected_by_default": raw.get("selected", True) is not False,
            "method": method,
            "request_json": self.resolve(endpoint.get("json"), f"{where}: endpoint.json"),
            "request_data": self.resolve(endpoint.get("data"), f"{where}: endpoint.data"),
            "payload_as_json": endpoint.get("data") is None,
            "response_actions": response_actions(endpoint.get("response_actions"), where),
        }
        attrs.update(record_keys(raw, where))
        if "error_handler" in endpoint:
            attrs["retry"] = compile_retry(
                endpoint["error_handler"], f"{where}: endpoint.error_handler"
            )
        raw_params = endpoint.get("params") or {}
        if not isinstance(raw_params, dict):
            raise fail(where, "endpoint.params: must be an object")
        has_incremental = endpoint.get("incremental") is not None or any(
            isinstance(v, dict) and v.get("type") == "incremental" for v in raw_params.values()
        )
        bound = bind(path, raw_params, incremental=has_incremental, where=where)
        params, incremental = self.params(bound.params, where)
        if endpoint.get("incremental") is not None:
            declared = incremental_spec(endpoint["incremental"], where, self.resolve)
            if incremental:  # a param's incremental wins, as in dlt; the endpoint's adds the end
                declared = {**declared, **{k: v for k, v in incremental.items() if v is not None}}
            incremental = declared
        if incremental:
            attrs.update(incremental)
        uses_start = any(isinstance(v, str) and "incremental." in v for _, v in params)
        if uses_start and "replication_key" not in attrs:
            raise fail(
                where, "endpoint.params: {incremental.start_value} needs endpoint.incremental"
            )
        check_expressions(
            {
                "params": dict(params),
                "json": endpoint.get("json"),
                "data": endpoint.get("data"),
                "headers": endpoint.get("headers"),
            },
            bound,
            incremental=has_incremental,
            where=where,
        )
        parent = parent_of(bound, self.names, where)
        keys, request_keys = self.parent_keys(parent, bound, raw.get("include_from_parent"), where)
        attrs["path"] = self.with_context_keys(bound.path)
        attrs["params"] = tuple((k, self.with_context_keys(v)) for k, v in params)
        attrs["request_json"] = self.with_context_keys(attrs["request_json"])
        attrs["request_data"] = self.with_context_keys(attrs["request_data"])
        return _Resource(name, attrs, parent, keys, request_keys)

    def endpoint_headers(self, raw: Any, where: str) -> tuple[tuple[str, str], ...]:
        """An endpoint's own headers (a secret one is masked like every secret)."""
        if raw is None:
            return ()
        if not isinstance(raw, dict):
            raise fail(where, "endpoint.headers: must be an object")
        out = []
        for header, value in raw.items():
            resolved = self.resolve(value, f"{where}: endpoint.headers.{header}")
            if isinstance(value, Reference) and value.secret:
                REDACTOR.add(str(resolved))
            out.append((str(header), str(resolved)))
        return tuple(out)

    def schema_file(self, name: str) -> Path | None:
        folder = self.loaded.directory
        if folder is None:
            return None
        path = folder / "schemas" / f"{name}.json"
        return path if path.is_file() else None

    # --- paging and retries ----------------------------------------------------------

    # --- params, incremental, parents --------------------------------------------------

    def params(self, raw: Any, where: str) -> tuple[list[tuple[str, Any]], dict[str, Any] | None]:
        if not isinstance(raw, dict):
            raise fail(where, "endpoint.params: must be an object")
        params: list[tuple[str, Any]] = []
        incremental: dict[str, Any] | None = None
        for name, value in raw.items():
            key = f"{where}: endpoint.params.{name}"
            if isinstance(value, dict) and value.get("type") == "incremental":
                incremental = incremental_spec({**value, "start_param": name}, where, self.resolve)
            elif isinstance(value, Reference):
                resolved = self.resolve(value, key)
                if value.secret:
                    REDACTOR.add_query_param(name)
                params.append((name, resolved))
            elif isinstance(value, str | int | float | bool):
                params.append((name, value))
            else:
                raise fail(key, "must be a string, a number or a placeholder")
        return params, incremental

    @staticmethod
    def context_key(placeholder: str) -> str:
        """The context key a ``{resources.<parent>.<field>}`` placeholder is filled from."""
        match = _PARENT.match(placeholder)
        if match is None:
            return placeholder
        return "_" + match.group(1) + "_" + match.group(2).replace(".", "_")

    def with_context_keys(self, value: Any) -> Any:
        """``value`` with each ``{resources.<parent>.<field>}`` renamed to its context key."""
        if isinstance(value, str):
            return PLACEHOLDER.sub(lambda m: "{" + self.context_key(m.group(1)) + "}", value)
        if isinstance(value, dict):
            return {k: self.with_context_keys(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.with_context_keys(v) for v in value]
        return value

    def parent_keys(
        self, parent: str | None, bound: Bound, include: Any, where: str
    ) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
        """The ``(context key, field)`` pairs read from the parent, and those requests use.

        Requests use the fields of the path, params and body; ``include_from_parent``
        fields only go into the records (``_<parent>_<field>``, as dlt names them).
        """
        found = {self.context_key(expr): field for expr, (_, field) in bound.parents.items()}
        request_keys = tuple(found)
        if include is not None:
            if parent is None:
                raise fail(where, "include_from_parent: the resource has no parent")
            if not isinstance(include, list) or not all(isinstance(f, str) for f in include):
                raise fail(where, "include_from_parent: must be a list of field names")
            for field in include:
                found.setdefault(self.context_key(f"resources.{parent}.{field}"), field)
        return tuple(found.items()), request_keys

    def link(self, resources: dict[str, _Resource]) -> tuple[type[SpecStream], ...]:
        """Make the stream classes and point each child at its parent."""
        classes: dict[str, type[SpecStream]] = {
            name: type(
                f"{stream_name(name).title().replace('_', '')}SpecStream",
                (SpecStream,),
                dict(res.attrs),
            )
            for name, res in resources.items()
        }
        for name, res in resources.items():
            if res.parent is None:
                continue
            where = f"resource '{name}'"
            if res.parent not in classes:
                raise fail(
                    where,
                    f"a placeholder names resource '{res.parent}', which the spec does not define",
                )
            if res.parent == name:
                raise fail(where, "a placeholder names the resource itself")
            seen = {name}
            ancestor: str | None = res.parent
            while ancestor is not None:
                if ancestor in seen:
                    raise fail(where, "its parents form a cycle")
                seen.add(ancestor)
                ancestor = resources[ancestor].parent
            child, parent = classes[name], classes[res.parent]
            # Set after all classes exist: a parent may be defined after its child.
            child.parent_stream_type = parent
            child.parent_keys = res.parent_keys
            # State per parent only where a bookmark needs it: keys the requests depend on.
            incremental = res.attrs.get("replication_key") is not None
            child.state_partitioning_keys = list(res.request_keys) if incremental else []  # type: ignore[assignment]
            parent.child_keys = tuple(dict.fromkeys((*parent.child_keys, *res.parent_keys)))
            parent.child_required = parent.child_required | set(res.request_keys)
        return tuple(classes.values())
