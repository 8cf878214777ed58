"""Compiling a dlt ``rest_api`` spec into a Source and its stream classes.

Everything is checked here, before any request: an unknown paginator or auth type, a
resource without a path, a placeholder that names nothing, a setting the spec reads but
nobody set. Each problem is one ConfigError naming the resource and the key.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tap_generic_rest.auth import (
    AuthSpec,
    BasicAuth,
    BearerAuth,
    CookieKeyAuth,
    HeaderKeyAuth,
    NoAuth,
    QueryKeyAuth,
)
from tap_generic_rest.errors import ConfigError
from tap_generic_rest.pagination import OffsetPaging, Paging, SinglePage
from tap_generic_rest.paginators import (
    BodyPath,
    CursorPaging,
    LinkHeader,
    LinkPaging,
    PageNumberPaging,
)
from tap_generic_rest.payload import AUTO_SELECTOR
from tap_generic_rest.redact import REDACTOR
from tap_generic_rest.registry import Source
from tap_generic_rest.retry import RETRY_AFTER, SERVER_ERRORS, RetryPolicy
from tap_generic_rest.spec.loader import LoadedSpec, Reference, load_spec
from tap_generic_rest.spec.streams import PLACEHOLDER, START_VALUE, SpecStream
from tap_generic_rest.spec.template import compile_template, is_template

if TYPE_CHECKING:
    from collections.abc import Mapping

    from singer_sdk.authenticators import APIAuthenticatorBase

PAGINATORS = ("offset", "page_number", "json_link", "header_link", "cursor", "single_page")
AUTH_TYPES = ("api_key", "http_basic", "basic", "bearer")
#: dlt's default retries: 429 and every 5xx, five attempts, waits doubling from 1 s.
DLT_DEFAULT_RETRY = RetryPolicy(
    statuses=SERVER_ERRORS | {429},
    max_retries=4,
    backoff="exponential",
    factor=1.0,
    hints=(RETRY_AFTER,),
)
#: Keys that would change what a request sends or what a record is: not read, so refused.
UNSUPPORTED = ("json", "data", "response_actions", "processing_steps")
_ENV_PREFIX = "TAP_GENERIC_REST_"
_PARENT = re.compile(r"^resources\.([^.]+)\.(.+)$")
_INCREMENTAL_VALUES = (START_VALUE, "incremental.initial_value", "incremental.last_value")


def compile_spec(config: Mapping[str, Any]) -> Source:
    """The Source the ``spec`` setting describes (a ConfigError for anything wrong)."""
    return _Compiler(load_spec(config.get("spec")), config).source()


def setting_value(config: Mapping[str, Any], name: str) -> Any:
    """A setting a spec reads: from the config, else ``TAP_GENERIC_REST_<NAME>``."""
    value = config.get(name)
    if value is None or value == "":
        value = os.environ.get(_ENV_PREFIX + name.upper())
    return value


@dataclass(frozen=True)
class SpecAuth:
    """A spec's auth: a built-in auth spec fed with the values the spec resolved.

    ``values`` maps setting names (or, for literals written in the spec, the spec key)
    to values; ``headers`` are secret headers sent with the credentials, bound like
    them to the base_url host.
    """

    inner: AuthSpec
    values: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    names: tuple[str, ...] = ()

    @property
    def settings(self) -> tuple[str, ...]:
        """The settings the spec reads its credentials from (named when a server refuses)."""
        return self.names

    def build(self, config: Mapping[str, Any], origin: str) -> APIAuthenticatorBase:
        """The inner spec's authenticator, carrying the secret headers too."""
        merged = {**config, **dict(self.values)}
        authenticator = self.inner.build(merged, origin)
        extra = {header: merged[key] for header, key in self.headers}
        REDACTOR.add(*extra.values())
        authenticator.auth_headers.update(extra)
        return authenticator


def _fail(where: str, message: str) -> ConfigError:
    return ConfigError(f"spec: {where}: {message}")


def _jsonpath(value: Any, where: str) -> str:
    """A dotted path from a dotted path or a simple JSONPath (``$.data``, ``data[*]``)."""
    if not isinstance(value, str):
        raise _fail(where, "must be a dotted path or a JSONPath string")
    path = value.strip()
    path = re.sub(r"\[\s*['\"]([^'\"]+)['\"]\s*\]", r".\1", path)
    path = path.removesuffix("[*]")
    if path in ("$", ""):
        return AUTO_SELECTOR
    path = path.removeprefix("$.").removeprefix("$")
    if not path or re.search(r"[\[\]*?@()]|\.\.", path):
        raise _fail(where, f"the JSONPath '{value}' is not supported; use a dotted path")
    return path.strip(".")


def _int(value: Any, where: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise _fail(where, f"must be an integer of at least {minimum}")
    return value


def _name(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise _fail(where, "must be a non-empty string")
    return value


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
    def __init__(self, loaded: LoadedSpec, config: Mapping[str, Any]) -> None:
        self.loaded = loaded
        self.spec = loaded.data
        self.config = config
        #: Credentials the auth reads, by setting name (or spec key), and the settings named.
        self.values: dict[str, str] = {}
        self.names: list[str] = []

    # --- values ------------------------------------------------------------------

    def resolve(self, value: Any, where: str) -> Any:
        """A value with its dlt.secrets/dlt.config references replaced by settings."""
        if isinstance(value, Reference):
            found = setting_value(self.config, value.name)
            if found is None or found == "":
                raise _fail(where, f"reads setting '{value.name}' ({value}), which is not set")
            if value.secret:
                REDACTOR.add(str(found))
            return found
        if isinstance(value, dict):
            return {k: self.resolve(v, f"{where}.{k}") for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v, f"{where}[{i}]") for i, v in enumerate(value)]
        return value

    # --- the whole spec ------------------------------------------------------------

    def source(self) -> Source:
        unknown = set(self.spec) - {"client", "resources", "resource_defaults"}
        if unknown:
            raise _fail(
                ", ".join(sorted(unknown)),
                "unknown key (expected client, resources, resource_defaults)",
            )
        client = self.spec.get("client") or {}
        if not isinstance(client, dict):
            raise _fail("client", "must be an object")
        base_url = self.config.get("base_url") or self.resolve(
            client.get("base_url"), "client.base_url"
        )
        if not base_url:
            raise _fail("client.base_url", "not given, and the base_url setting is not set")
        auth, plain_headers = self.auth(client.get("auth"), client.get("headers") or {})
        classes = self.streams(client, plain_headers)
        return Source(
            name=self.loaded.name,
            description=f"REST API described by the spec '{self.loaded.name}'",
            auth=auth,
            retry=DLT_DEFAULT_RETRY,
            streams=classes,
            base_url=str(base_url),
        )

    # --- auth ----------------------------------------------------------------------

    def credential(self, spec: Mapping[str, Any], key: str) -> str:
        """The name an auth spec reads one credential by: a setting, or the spec key."""
        where = f"client.auth.{key}"
        value = spec.get(key)
        if isinstance(value, Reference):
            self.values[value.name] = str(self.resolve(value, where))
            self.names.append(value.name)
            return value.name
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
            self.values[where] = str(value)
            return where
        raise _fail(where, 'missing (a string or dlt.secrets["NAME"])')

    def auth_kind(self, raw: Any) -> AuthSpec:
        """The built-in auth spec for ``client.auth``."""
        if raw is None:
            return NoAuth()
        if not isinstance(raw, dict):
            raise _fail("client.auth", "must be an object with a 'type'")
        kind = raw.get("type")
        if kind == "bearer":
            return BearerAuth(self.credential(raw, "token"))
        if kind in ("http_basic", "basic"):
            return BasicAuth(self.credential(raw, "username"), self.credential(raw, "password"))
        if kind != "api_key":
            raise _fail(
                "client.auth.type", f"unknown auth type '{kind}' (known: {', '.join(AUTH_TYPES)})"
            )
        name = _name(raw.get("name", "Authorization"), "client.auth.name")
        location = raw.get("location", "header")
        key = self.credential(raw, "api_key")
        if location == "header":
            return HeaderKeyAuth(key, header=name)
        if location == "query":
            return QueryKeyAuth(key, param=name)
        if location == "cookie":
            return CookieKeyAuth(key, name=name)
        raise _fail(
            "client.auth.location", f"unknown location '{location}' (header, query or cookie)"
        )

    def auth(self, raw: Any, headers: Any) -> tuple[SpecAuth, tuple[tuple[str, str], ...]]:
        """The spec's auth, and the headers that are not secrets (sent by each stream)."""
        inner = self.auth_kind(raw)
        if not isinstance(headers, dict):
            raise _fail("client.headers", "must be an object")
        secret_headers: list[tuple[str, str]] = []
        plain: list[tuple[str, str]] = []
        for header, value in headers.items():
            if isinstance(value, Reference) and value.secret:
                self.values[value.name] = str(self.resolve(value, f"client.headers.{header}"))
                self.names.append(value.name)
                secret_headers.append((header, value.name))
            else:
                plain.append((header, str(self.resolve(value, f"client.headers.{header}"))))
        auth = SpecAuth(
            inner,
            tuple(self.values.items()),
            tuple(secret_headers),
            tuple(dict.fromkeys(self.names)),
        )
        return auth, tuple(plain)

    # --- resources -------------------------------------------------------------------

    def streams(
        self, client: Mapping[str, Any], headers: tuple[tuple[str, str], ...]
    ) -> tuple[type[SpecStream], ...]:
        resources = self.spec.get("resources")
        if not isinstance(resources, list) or not resources:
            raise _fail("resources", "must be a non-empty list")
        defaults = self.spec.get("resource_defaults") or {}
        if not isinstance(defaults, dict):
            raise _fail("resource_defaults", "must be an object")
        compiled: dict[str, _Resource] = {}
        for index, item in enumerate(resources):
            raw = {"name": item, "endpoint": {"path": item}} if isinstance(item, str) else item
            if not isinstance(raw, dict):
                raise _fail(f"resources[{index}]", "must be an object or a name")
            name = raw.get("name")
            if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                raise _fail(f"resources[{index}].name", "must be a name (letters, digits, _)")
            if name in compiled:
                raise _fail(f"resource '{name}'", "defined twice")
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
            raise _fail(where, "endpoint.path: missing (every resource needs a path)")
        for key in UNSUPPORTED:
            if key in endpoint or key in raw:
                raise _fail(where, f"{key}: not supported")
        method = str(endpoint.get("method", "GET")).upper()
        if method != "GET":
            raise _fail(where, f"endpoint.method: only GET is supported, not {method}")
        path = _name(
            self.resolve(endpoint["path"], f"{where}: endpoint.path"), f"{where}: endpoint.path"
        )
        selector = endpoint.get("data_selector")
        records_key = (
            AUTO_SELECTOR
            if selector is None
            else _jsonpath(selector, f"{where}: endpoint.data_selector")
        )
        paging = self.paging(
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
            attrs["retry"] = self.retry(
                endpoint["error_handler"], f"{where}: endpoint.error_handler"
            )
        params, incremental = self.params(endpoint.get("params") or {}, where)
        if endpoint.get("incremental") is not None:
            incremental = {
                **(incremental or {}),
                **self.incremental_spec(endpoint["incremental"], where),
            }
        if incremental:
            attrs.update(incremental)
        uses_start = any(isinstance(v, str) and START_VALUE in v for _, v in params)
        if uses_start and "replication_key" not in attrs:
            raise _fail(
                where, "endpoint.params: {incremental.start_value} needs endpoint.incremental"
            )
        parent, keys, request_keys = self.parents(
            name, path, params, raw.get("include_from_parent"), where
        )
        attrs["path"] = PLACEHOLDER.sub(lambda m: "{" + self.context_key(m.group(1)) + "}", path)
        attrs["params"] = tuple((k, self.context_params(v)) for k, v in params)
        return _Resource(name, attrs, parent, keys, request_keys)

    def schema_file(self, name: str) -> Any:
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
            raise _fail(where, "primary_key: must be a name or a list of names")
        disposition = raw.get("write_disposition", "append")
        if isinstance(disposition, dict):
            disposition = disposition.get("disposition", "append")
        if disposition not in ("append", "merge", "replace"):
            raise _fail(
                where, f"write_disposition: unknown '{disposition}' (append, merge, replace)"
            )
        return {
            "write_disposition": disposition,
            "primary_keys": () if disposition == "append" else primary,
        }

    # --- paging and retries ----------------------------------------------------------

    def paging(self, raw: Any, where: str) -> Paging:
        if raw is None:
            return SinglePage()
        if isinstance(raw, str):
            raw = {"type": raw}
        if not isinstance(raw, dict):
            raise _fail(where, "must be an object with a 'type' or a paginator name")
        kind = raw.get("type")
        if kind == "single_page":
            return SinglePage()
        if kind in ("offset", "page_number"):
            return self.numbered(kind, raw, where)
        if kind == "json_link":
            path = _jsonpath(raw.get("next_url_path", "next"), f"{where}.next_url_path")
            return LinkPaging(BodyPath(path))
        if kind == "header_link":
            rel = _name(raw.get("links_next_key", "next"), f"{where}.links_next_key")
            return LinkPaging(LinkHeader(rel))
        if kind == "cursor":
            return self.cursor(raw, where)
        raise _fail(f"{where}.type", f"unknown paginator '{kind}' (known: {', '.join(PAGINATORS)})")

    def numbered(self, kind: str, raw: Mapping[str, Any], where: str) -> Paging:
        """Offset or page-number paging."""
        get = raw.get
        if kind == "offset":
            total = get("total_path", "total")
            total_key = _jsonpath(total, f"{where}.total_path") if total else None
            maximum = get("maximum_offset")
            if (
                get("stop_after_empty_page", True) is False
                and total_key is None
                and maximum is None
            ):
                raise _fail(
                    where, "one of total_path, maximum_offset or stop_after_empty_page is needed"
                )
            return OffsetPaging(
                page_size=_int(get("limit"), f"{where}.limit", 1),
                offset_param=_name(get("offset_param", "offset"), f"{where}.offset_param"),
                limit_param=_name(get("limit_param", "limit"), f"{where}.limit_param"),
                total_key=total_key,
                start=_int(get("offset", 0), f"{where}.offset"),
                maximum_offset=None
                if maximum is None
                else _int(maximum, f"{where}.maximum_offset", 1),
            )
        total = get("total_path", "total")
        maximum = get("maximum_page")
        start = get("page")
        return PageNumberPaging(
            page_param=_name(get("page_param", "page"), f"{where}.page_param"),
            base_page=_int(get("base_page", 0), f"{where}.base_page"),
            start=None if start is None else _int(start, f"{where}.page"),
            total_key=_jsonpath(total, f"{where}.total_path") if total else None,
            maximum_page=None if maximum is None else _int(maximum, f"{where}.maximum_page", 1),
        )

    def cursor(self, raw: Mapping[str, Any], where: str) -> Paging:
        """The cursor paginator of dlt, or the seeds' template form (``cursor_value``)."""
        stop_text = raw.get("stop_condition")
        stop = (
            compile_template(stop_text, f"spec: {where}.stop_condition")
            if stop_text is not None
            else None
        )
        value = raw.get("cursor_value")
        if value is not None:
            if not is_template(value):
                raise _fail(
                    f"{where}.cursor_value", "expected a template '{{ response.get(...) }}'"
                )
            find = compile_template(value, f"spec: {where}.cursor_value")
            if "cursor_param" not in raw:  # the seeds' form: the value is the next page's URL
                return LinkPaging(find, stop)
            return CursorPaging(find, _name(raw["cursor_param"], f"{where}.cursor_param"), stop)
        path = _jsonpath(raw.get("cursor_path", "cursors.next"), f"{where}.cursor_path")
        param = _name(raw.get("cursor_param", "cursor"), f"{where}.cursor_param")
        return CursorPaging(BodyPath(path), param, stop)

    def retry(self, raw: Any, where: str) -> RetryPolicy:
        if not isinstance(raw, dict):
            raise _fail(where, "must be an object")
        codes = raw.get("retry_on_status_codes", sorted(DLT_DEFAULT_RETRY.statuses))
        if not isinstance(codes, list) or not all(
            isinstance(c, int) and not isinstance(c, bool) and 100 <= c <= 599 for c in codes
        ):
            raise _fail(f"{where}.retry_on_status_codes", "must be a list of HTTP statuses")
        factor = raw.get("backoff_factor", DLT_DEFAULT_RETRY.factor)
        if isinstance(factor, bool) or not isinstance(factor, int | float) or factor < 0:
            raise _fail(f"{where}.backoff_factor", "must be a number of at least 0")
        return RetryPolicy(
            statuses=frozenset(codes),
            max_retries=_int(
                raw.get("max_retries", DLT_DEFAULT_RETRY.max_retries), f"{where}.max_retries"
            ),
            backoff="exponential",
            factor=float(factor),
            hints=(RETRY_AFTER,),
        )

    # --- params, incremental, parents --------------------------------------------------

    def params(self, raw: Any, where: str) -> tuple[list[tuple[str, Any]], dict[str, Any] | None]:
        if not isinstance(raw, dict):
            raise _fail(where, "endpoint.params: must be an object")
        params: list[tuple[str, Any]] = []
        incremental: dict[str, Any] | None = None
        for name, value in raw.items():
            key = f"{where}: endpoint.params.{name}"
            if isinstance(value, dict) and value.get("type") == "incremental":
                incremental = self.incremental_spec({**value, "start_param": name}, where)
            elif isinstance(value, dict) and value.get("type") == "resolve":
                resource, field = value.get("resource"), value.get("field")
                params.append(
                    (name, "{resources." + _name(resource, key) + "." + _name(field, key) + "}")
                )
            elif isinstance(value, Reference):
                resolved = self.resolve(value, key)
                if value.secret:
                    REDACTOR.add_query_param(name)
                params.append((name, resolved))
            elif isinstance(value, str | int | float | bool):
                params.append((name, value))
            else:
                raise _fail(key, "must be a string, a number or a placeholder")
        return params, incremental

    def incremental_spec(self, raw: Any, where: str) -> dict[str, Any]:
        key = f"{where}: endpoint.incremental"
        if not isinstance(raw, dict):
            raise _fail(key, "must be an object with a cursor_path")
        field = _jsonpath(raw.get("cursor_path"), f"{key}.cursor_path")
        if not field or "." in field:
            raise _fail(f"{key}.cursor_path", "must name a top-level field of the records")
        for unsupported in ("end_param", "end_value", "convert", "transform"):
            if raw.get(unsupported) is not None:
                raise _fail(f"{key}.{unsupported}", "not supported")
        start_param = raw.get("start_param")
        return {
            "replication_key": field,
            "initial_value": self.resolve(raw.get("initial_value"), f"{key}.initial_value"),
            "start_param": None
            if start_param is None
            else _name(start_param, f"{key}.start_param"),
        }

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
                    raise _fail(where, f"{key}: unresolved placeholder '{{{placeholder}}}'")
                found[self.context_key(placeholder)] = (match.group(1), match.group(2))
        parents = {parent for parent, _ in found.values()}
        if len(parents) > 1:
            raise _fail(
                where, f"placeholders name more than one parent: {', '.join(sorted(parents))}"
            )
        parent = next(iter(parents), None)
        request_keys = tuple(found)
        if include is not None:
            if parent is None:
                raise _fail(where, "include_from_parent: the resource has no parent")
            if not isinstance(include, list) or not all(isinstance(f, str) for f in include):
                raise _fail(where, "include_from_parent: must be a list of field names")
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
                raise _fail(
                    where,
                    f"a placeholder names resource '{res.parent}', which the spec does not define",
                )
            if res.parent == name:
                raise _fail(where, "a placeholder names the resource itself")
            seen = {name}
            ancestor: str | None = res.parent
            while ancestor is not None:
                if ancestor in seen:
                    raise _fail(where, "its parents form a cycle")
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
        return tuple(classes.values())
