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
from tap_generic_rest.spec.incremental import incremental_spec
from tap_generic_rest.spec.loader import LoadedSpec, Reference, load_spec
from tap_generic_rest.spec.paginators import DLT_DEFAULT_RETRY, compile_paging, compile_retry
from tap_generic_rest.spec.streams import PLACEHOLDER, START_VALUE, SpecStream
from tap_generic_rest.spec.values import Resolver, fail, jsonpath, nonempty

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

#: Keys that would change what a request sends or what a record is: not read, so refused.
UNSUPPORTED = ("json", "data", "response_actions", "processing_steps")
_PARENT = re.compile(r"^resources\.([^.]+)\.(.+)$")
_INCREMENTAL_VALUES = (START_VALUE, "incremental.initial_value", "incremental.last_value")


def compile_spec(config: Mapping[str, Any]) -> Source:
    """The Source the ``spec`` setting describes (a ConfigError for anything wrong)."""
    return _Compiler(load_spec(config.get("spec")), config).source()


def _merge(defaults: Mapping[str, Any], resource: Mapping[str, Any]) -> dict[str, Any]:
    """``resource_defaults`` under a resource, dicts merged key by key (as dlt does)."""
    merged = dict(defaults)
    for key, value in resource.items():
        base = merged.get(key)
        if isinstance(base, dict) and isinstance(value, dict):
            merged[key] = _merge(base, value)
        else:
            merged[key] = value
    return merged


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

    # --- the whole spec ------------------------------------------------------------

    def source(self) -> Source:
        unknown = set(self.spec) - {"client", "resources", "resource_defaults"}
        if unknown:
            raise fail(
                ", ".join(sorted(unknown)),
                "unknown key (expected client, resources, resource_defaults)",
            )
        client = self.spec.get("client") or {}
        if not isinstance(client, dict):
            raise fail("client", "must be an object")
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
        for index, item in enumerate(resources):
            raw = {"name": item, "endpoint": {"path": item}} if isinstance(item, str) else item
            if not isinstance(raw, dict):
                raise fail(f"resources[{index}]", "must be an object or a name")
            if isinstance(raw.get("endpoint"), str):  # a path alone; defaults still apply
                raw = {**raw, "endpoint": {"path": raw["endpoint"]}}
            name = raw.get("name")
            if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", name):
                raise fail(f"resources[{index}].name", "must be a name (letters, digits, _ or -)")
            if name in compiled:
                raise fail(f"resource '{name}'", "defined twice")
            compiled[name] = self.resource(name, _merge(defaults, raw), client, headers)
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
        if isinstance(endpoint, str):
            endpoint = {"path": endpoint}
        if not isinstance(endpoint, dict) or not endpoint.get("path"):
            raise fail(where, "endpoint.path: missing (every resource needs a path)")
        for key in UNSUPPORTED:
            if key in endpoint or key in raw:
                raise fail(where, f"{key}: not supported")
        method = str(endpoint.get("method", "GET")).upper()
        if method != "GET":
            raise fail(where, f"endpoint.method: only GET is supported, not {method}")
        path = nonempty(
            self.resolve(endpoint["path"], f"{where}: endpoint.path"), f"{where}: endpoint.path"
        )
        selector = endpoint.get("data_selector")
        records_key = (
            AUTO_SELECTOR
            if selector is None
            else jsonpath(selector, f"{where}: endpoint.data_selector")
        )
        paging = compile_paging(
            endpoint.get("paginator", client.get("paginator")), f"{where}: endpoint.paginator"
        )
        attrs: dict[str, Any] = {
            "name": name,
            "source_name": self.loaded.name,
            "records_key": records_key,
            "paging": paging,
            "headers": headers,
            "schema_file": self.schema_file(name),
            "selected_by_default": raw.get("selected", True) is not False,
        }
        attrs.update(self.keys(raw, where))
        if "error_handler" in endpoint:
            attrs["retry"] = compile_retry(
                endpoint["error_handler"], f"{where}: endpoint.error_handler"
            )
        params, incremental = self.params(endpoint.get("params") or {}, where)
        if endpoint.get("incremental") is not None:
            declared = self.incremental_spec(endpoint["incremental"], where)
            if incremental and declared["start_param"] is None:  # the param names it
                declared["start_param"] = incremental["start_param"]
            incremental = declared
        if incremental:
            attrs.update(incremental)
        uses_start = any(isinstance(v, str) and START_VALUE in v for _, v in params)
        if uses_start and "replication_key" not in attrs:
            raise fail(
                where, "endpoint.params: {incremental.start_value} needs endpoint.incremental"
            )
        parent, keys, request_keys = self.parents(
            name, path, params, raw.get("include_from_parent"), where
        )
        attrs["path"] = PLACEHOLDER.sub(lambda m: "{" + self.context_key(m.group(1)) + "}", path)
        attrs["params"] = tuple((k, self.context_params(v)) for k, v in params)
        return _Resource(name, attrs, parent, keys, request_keys)

    def schema_file(self, name: str) -> Path | None:
        folder = self.loaded.directory
        if folder is None:
            return None
        path = folder / "schemas" / f"{name}.json"
        return path if path.is_file() else None

    def keys(self, raw: Mapping[str, Any], where: str) -> dict[str, Any]:
        key = raw.get("primary_key")
        if key is None:
            primary: tuple[str, ...] = ()
        elif isinstance(key, str):
            primary = (key,)
        elif isinstance(key, list) and all(isinstance(k, str) for k in key):
            primary = tuple(key)
        else:
            raise fail(where, "primary_key: must be a name or a list of names")
        disposition = raw.get("write_disposition", "append")
        if isinstance(disposition, dict):
            disposition = disposition.get("disposition", "append")
        if disposition not in ("append", "merge", "replace"):
            raise fail(
                where, f"write_disposition: unknown '{disposition}' (append, merge, replace)"
            )
        return {
            "write_disposition": disposition,
            "primary_keys": () if disposition == "append" else primary,
        }

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
                incremental = self.incremental_spec({**value, "start_param": name}, where)
            elif isinstance(value, dict) and value.get("type") == "resolve":
                resource, field = value.get("resource"), value.get("field")
                params.append(
                    (
                        name,
                        "{resources." + nonempty(resource, key) + "." + nonempty(field, key) + "}",
                    )
                )
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

    def incremental_spec(self, raw: Any, where: str) -> dict[str, Any]:
        return incremental_spec(raw, where, self.resolve)

    @staticmethod
    def context_key(placeholder: str) -> str:
        """The context key a ``{resources.<parent>.<field>}`` placeholder is filled from."""
        match = _PARENT.match(placeholder)
        if match is None:
            return placeholder
        return "_" + match.group(1) + "_" + match.group(2).replace(".", "_")

    def context_params(self, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        return PLACEHOLDER.sub(lambda m: "{" + self.context_key(m.group(1)) + "}", value)

    def parents(
        self,
        name: str,
        path: str,
        params: list[tuple[str, Any]],
        include: Any,
        where: str,
    ) -> tuple[str | None, tuple[tuple[str, str], ...], tuple[str, ...]]:
        """The parent a resource's placeholders name, and the fields it reads from it.

        Returns the parent, the ``(context key, field)`` pairs, and the context keys that
        requests use (those of the path and params, not of ``include_from_parent``).
        """
        found: dict[str, tuple[str, str]] = {}  # context key -> (parent, field)
        texts = [("endpoint.path", path)] + [
            (f"endpoint.params.{k}", v) for k, v in params if isinstance(v, str)
        ]
        for key, text in texts:
            for placeholder in PLACEHOLDER.findall(text):
                if placeholder in _INCREMENTAL_VALUES and key != "endpoint.path":
                    continue
                match = _PARENT.match(placeholder)
                if match is None:
                    raise fail(where, f"{key}: unresolved placeholder '{{{placeholder}}}'")
                found[self.context_key(placeholder)] = (match.group(1), match.group(2))
        parents = {parent for parent, _ in found.values()}
        if len(parents) > 1:
            raise fail(
                where, f"placeholders name more than one parent: {', '.join(sorted(parents))}"
            )
        parent = next(iter(parents), None)
        request_keys = tuple(found)
        if include is not None:
            if parent is None:
                raise fail(where, "include_from_parent: the resource has no parent")
            if not isinstance(include, list) or not all(isinstance(f, str) for f in include):
                raise fail(where, "include_from_parent: must be a list of field names")
            for field in include:
                found.setdefault(self.context_key(f"resources.{parent}.{field}"), (parent, field))
        return parent, tuple((key, field) for key, (_, field) in found.items()), request_keys

    def link(self, resources: dict[str, _Resource]) -> tuple[type[SpecStream], ...]:
        """Make the stream classes and point each child at its parent."""
        classes: dict[str, type[SpecStream]] = {
            name: type(f"{name.title().replace('_', '')}SpecStream", (SpecStream,), dict(res.attrs))
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
