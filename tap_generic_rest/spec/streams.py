"""The stream base of spec resources: a GenericRestStream with the spec's extras.

What a spec adds to a built-in stream is data on the class (static params with
placeholders, plain headers, the parent's fields a child needs, where the schema comes
from); requests, paging, retries and emitting are the base class's.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from singer_sdk.schema.source import StreamSchema
from typing_extensions import override

from tap_generic_rest.errors import ConfigError, ResponseShapeError
from tap_generic_rest.http.body import ignore_response, lookup, select_records
from tap_generic_rest.paging.request_body import BodyPaging, set_at
from tap_generic_rest.spec.endpoint import join_url, path_segment
from tap_generic_rest.spec.schema import infer_schema, nullable
from tap_generic_rest.stream.base import GenericRestStream

if TYPE_CHECKING:
    import requests
    from singer_sdk.helpers.types import Context

    from tap_generic_rest.spec.endpoint import ResponseAction

#: ``{name}`` in a path or a param; names are context keys or ``incremental.<value>``.
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
START_VALUE = "incremental.start_value"
_SCHEMAS = "_tap_generic_rest_spec_schemas"
_FIRST_PAGES = "_tap_generic_rest_spec_first_pages"
#: Parent records tried, at most, to find a child page with records to infer from.
SAMPLE_PARENTS = 10


class SpecStreamSchema(StreamSchema[str]):
    """The schema of a spec stream: the catalog's, a file beside the spec, or inferred."""

    def __init__(self) -> None:  # no schema source: each stream says where its schema is
        self.schema_source = None  # type: ignore[assignment]
        self.key = None

    @override
    def get_stream_schema(self, stream: Any, stream_class: Any) -> dict[str, Any]:
        if stream is None:  # read on the class: there is no schema before a tap is configured
            return {"type": "object", "properties": {}}
        schema: dict[str, Any] = stream.spec_schema()
        return schema


class SpecStream(GenericRestStream):
    """A resource of a user spec."""

    schema = SpecStreamSchema()

    #: ``schemas/<resource>.json`` beside the spec file, when there is one.
    schema_file: ClassVar[Path | None] = None
    #: Query parameters; string values may hold placeholders filled per request.
    params: ClassVar[tuple[tuple[str, Any], ...]] = ()
    #: Headers that are not secrets (``dlt.config`` values and literals).
    headers: ClassVar[tuple[tuple[str, str], ...]] = ()
    #: ``(context key, parent field)`` this stream reads from each parent record.
    parent_keys: ClassVar[tuple[tuple[str, str], ...]] = ()
    #: The same, for all of this stream's children (filled in by the compiler).
    child_keys: ClassVar[tuple[tuple[str, str], ...]] = ()
    #: The child keys requests need (a missing one is an error; include_from_parent's may be).
    child_required: ClassVar[frozenset[str]] = frozenset()
    #: dlt's write disposition: merge (key properties), append (none), replace.
    write_disposition: ClassVar[str] = "append"
    #: A nested ``cursor_path`` (``fields.updated``): copied to the top-level replication key.
    cursor_source: ClassVar[str | None] = None
    #: The request's method and body: dlt's ``method``, ``json`` (or form ``data``).
    method: ClassVar[str] = "GET"
    request_json: ClassVar[Any] = None
    request_data: ClassVar[Any] = None
    #: The query param that carries dlt's incremental end (the window's: ``end_value``, else
    #: the ``end_date`` setting).
    end_param: ClassVar[str | None] = None
    #: Responses to skip (dlt's ``response_actions`` with ``action: ignore``).
    response_actions: ClassVar[tuple[ResponseAction, ...]] = ()

    # --- requests ---------------------------------------------------------------

    @override
    @property
    def http_method(self) -> str:
        return self._http_method or self.method

    @http_method.setter
    def http_method(self, value: str) -> None:
        self._http_method = value

    @override
    def get_url(self, context: Context | None) -> str:
        values = dict(context or {})
        if "incremental." in self.path:
            values.update(self.incremental_values(context))
        path = PLACEHOLDER.sub(
            lambda m: path_segment(self.name, self._spelled(m.group(1)), values.get(m.group(1))),
            self.path,
        )
        return join_url(self.url_base, path)

    def _spelled(self, key: str) -> str:
        """A placeholder as the spec wrote it (``resources.items.id``, not its context key)."""
        parent = self.parent_stream_type
        for context_key, field in self.parent_keys:
            if context_key == key and parent is not None:
                return f"resources.{getattr(parent, 'name', '')}.{field}"
        return key

    @override
    def prepare_request_payload(
        self, context: Context | None, next_page_token: Any
    ) -> dict[str, Any] | None:
        if self.request_data is not None:  # a form (or raw text), as dlt's ``data``
            return self._render_all(self.request_data, context, keep_types=False)  # type: ignore[no-any-return]
        body = self._render_all(self.request_json, context, keep_types=True)
        if isinstance(self.paging, BodyPaging):
            values = self.paging.body_values(next_page_token, self.page_size)
            if values:
                body = copy.deepcopy(body) if isinstance(body, dict) else {}
                for path, value in values.items():
                    set_at(body, path, value)
        return body  # type: ignore[no-any-return]

    def _render_all(self, value: Any, context: Context | None, *, keep_types: bool) -> Any:
        """A body with every placeholder filled (a lone one keeps its value's type in JSON)."""
        if isinstance(value, dict):
            return {
                k: self._render_all(v, context, keep_types=keep_types) for k, v in value.items()
            }
        if isinstance(value, list):
            return [self._render_all(v, context, keep_types=keep_types) for v in value]
        rendered = self._render(value, context)
        return rendered if keep_types or rendered is None else str(rendered)

    @override
    @property
    def http_headers(self) -> dict[str, Any]:
        headers: dict[str, Any] = super().http_headers
        headers.update(self.headers)
        return headers

    @override
    def get_url_params(self, context: Context | None, next_page_token: Any) -> dict[str, Any]:
        params = super().get_url_params(context, next_page_token)
        for name, value in self.params:
            rendered = self._render(value, context)
            if rendered is not None:
                params[name] = rendered
        end = self.end_bound(context)
        if self.end_param and end is not None:
            params[self.end_param] = end
        return params

    # --- incremental windows (dlt's start and end) ---------------------------------

    def end_bound(self, context: Context | None = None) -> Any:
        """Where the window ends: dlt's ``end_value``, else the ``end_date`` setting."""
        window = self.window if self.window is not None else self.read_window(context)
        return None if window is None else window.end_value

    @override
    @property
    def key_is_time(self) -> bool:
        """As declared by the schema once it is known; while it is inferred, not a time.

        Inference reads a first page, whose request asks for the window's start: asking
        the schema then would infer it again.
        """
        cache: dict[str, dict[str, Any]] = self._tap.__dict__.get(_SCHEMAS, {})
        return self.name in cache and super().key_is_time

    def incremental_values(self, context: Context | None) -> dict[str, Any]:
        """Dlt's ``{incremental.*}`` values for this run."""
        start = self.start_value(context)
        return {
            START_VALUE: start,
            "incremental.last_value": start,
            "incremental.initial_value": self.initial_value,
            "incremental.end_value": self.end_bound(context),
        }

    # --- dlt's response actions ---------------------------------------------------

    @override
    def validate_response(self, response: requests.Response) -> None:
        for action in self.response_actions:
            if action.matches(response.status_code, response.text):
                self.logger.info(
                    "stream '%s': response %d ignored (response_actions)",
                    self.name,
                    response.status_code,
                )
                ignore_response(response)
                return
        super().validate_response(response)

    def _render(self, value: Any, context: Context | None) -> Any:
        """Fill a param's placeholders; a lone placeholder keeps its value's type."""
        if not isinstance(value, str) or "{" not in value:
            return value
        values = dict(context or {})
        if "incremental." in value:
            values.update(self.incremental_values(context))
        whole = PLACEHOLDER.fullmatch(value)
        if whole:
            return values.get(whole.group(1))
        return PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), "")), value)

    # --- parents and children ---------------------------------------------------

    @override
    @property
    def keys_in_response(self) -> tuple[str, ...]:
        # A child's key may include its parent's fields, which the tap adds to each record.
        added = {key for key, _ in self.parent_keys}
        return tuple(key for key in self.primary_keys or () if key not in added)

    @override
    def get_child_context(self, record: dict[str, Any], context: Context | None) -> dict[str, Any]:
        child: dict[str, Any] = {}
        for key, field in self.child_keys:
            value = lookup(record, field)
            if value is None and key in self.child_required:
                msg = (
                    f"stream '{self.name}': a record has no '{field}', which its child "
                    "streams read (see {resources." + self.name + "." + field + "})"
                )
                raise ResponseShapeError(msg)
            child[key] = value
        return child

    @override
    def post_process(
        self, row: dict[str, Any], context: Context | None = None
    ) -> dict[str, Any] | None:
        # The parent's fields go into every child record (what the SDK does only for the
        # state partition's keys, which here are the ones requests depend on).
        return super().post_process(self._with_parent_fields(row, context), context)

    @property
    def post_processes_records(self) -> bool:
        """Whether records change on their way, the filter aside.

        A child's do (its parent's fields go in), and so do those whose nested cursor is
        copied to the top (``cursor_source``): neither may be written as the server's bytes.
        """
        return bool(self.parent_keys) or (
            self.cursor_source is not None and self.replication_key is not None
        )

    def _with_parent_fields(self, row: dict[str, Any], context: Context | None) -> dict[str, Any]:
        if self.cursor_source is not None and self.replication_key:
            row.setdefault(self.replication_key, lookup(row, self.cursor_source))
        if context:
            for key, _ in self.parent_keys:
                row.setdefault(key, context.get(key))
        return row

    # --- write disposition ------------------------------------------------------

    @override
    @property
    def emit_activate_version_messages(self) -> bool:
        """``replace``: the target keeps only this run's records (Singer's ACTIVATE_VERSION)."""
        return self.write_disposition == "replace" or super().emit_activate_version_messages

    # --- schema -----------------------------------------------------------------

    @override
    @property
    def schema_origin(self) -> str:
        if self.schema_file is not None:
            return str(self.schema_file)
        return "the schema inferred from its first page"

    def spec_schema(self) -> dict[str, Any]:
        """The schema, found or inferred once per tap (inference reads the first page)."""
        cache: dict[str, dict[str, Any]] = self._tap.__dict__.setdefault(_SCHEMAS, {})
        if self.name not in cache:
            cache[self.name] = self._find_schema()
        return cache[self.name]

    def _find_schema(self) -> dict[str, Any]:
        catalog = self._tap.input_catalog
        entry = catalog.get_stream(self.name) if catalog else None
        if entry is not None and entry.schema.properties:
            return entry.schema.to_dict()
        if self.schema_file is not None:
            schema = self._read_schema_file(self.schema_file)
        else:
            schema = infer_schema(self.first_page())
            self._write_inferred(schema)
        return self._with_parent_keys(schema)

    def _read_schema_file(self, path: Path) -> dict[str, Any]:
        try:
            schema = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            msg = f"stream '{self.name}': schema file {path} cannot be read ({exc})"
            raise ConfigError(msg) from None
        if not isinstance(schema, dict):
            msg = f"stream '{self.name}': schema file {path} must hold a JSON object"
            raise ConfigError(msg)
        return schema

    def _write_inferred(self, schema: dict[str, Any]) -> None:
        folder = self.config.get("inferred_schemas_dir")
        if not folder:
            return
        path = Path(str(folder)).expanduser() / f"{self.name}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        self.logger.info("stream '%s': inferred schema written to %s", self.name, path)

    def _with_parent_keys(self, schema: dict[str, Any]) -> dict[str, Any]:
        """Declare the parent fields the SDK copies into every child record."""
        if not self.parent_keys:
            return schema
        parent = self._parent_instance()
        parent_props = parent.schema.get("properties", {})
        props = {
            key: nullable(parent_props.get(field.split(".")[0], {}))
            if "." not in field
            else nullable({})
            for key, field in self.parent_keys
        }
        # Listed first, typed as the parent declares them (over what inference saw).
        props.update(
            (key, value) for key, value in schema.get("properties", {}).items() if key not in props
        )
        return {**schema, "properties": props}

    def _parent_instance(self) -> SpecStream:
        parent_type = self.parent_stream_type
        if parent_type is None:  # pragma: no cover - the compiler sets it with parent_keys
            raise TypeError(self.name)
        parent = parent_type(tap=self._tap)
        if not isinstance(parent, SpecStream):  # pragma: no cover - the compiler links specs
            raise TypeError(self.name)
        return parent

    def _sample_contexts(self) -> list[dict[str, Any] | None]:
        """Contexts to read a first page in: none, or those of the parent's first records.

        A child page may be empty for one parent (a project without tasks), so up to
        ``SAMPLE_PARENTS`` parent records are tried, one request each, until one has records.
        """
        if not self.parent_keys:
            return [None]
        parent = self._parent_instance()
        records = parent.first_page()[:SAMPLE_PARENTS]
        if not records:
            self.logger.warning(
                "stream '%s': its parent '%s' has no records to infer a schema from",
                self.name,
                parent.name,
            )
        return [parent.get_child_context(record, None) for record in records]

    def first_page(self) -> list[Any]:
        """The records of the first page (a child's: of its first parent record's first page).

        Read once per tap: a parent's first page serves its own schema and its children's.
        """
        pages: dict[str, list[Any]] = self._tap.__dict__.setdefault(_FIRST_PAGES, {})
        if self.name not in pages:
            pages[self.name] = self._read_first_page()
        return pages[self.name]

    def _read_first_page(self) -> list[Any]:
        records: list[Any] = []
        for context in self._sample_contexts():
            paginator = self.get_new_paginator()
            request = self._prepare_request(context=context, page=paginator)
            response = self.request_decorator(self._request)(request, context)
            # The records as the page holds them: parse_response would check them against
            # the very schema being inferred.
            rows = select_records(response, self.records_key, self.name)
            self._check_records(response, rows)
            records = [self._with_parent_fields(dict(row), context) for row in rows]
            if records:
                break
        if not records:
            self.logger.warning(
                "stream '%s': the first page has no records; its inferred schema is empty "
                "(additional properties allowed)",
                self.name,
            )
        return records
