"""The stream base of spec resources: a GenericRestStream with the spec's extras.

What a spec adds to a built-in stream is data on the class (static params with
placeholders, plain headers, the parent's fields a child needs, where the schema comes
from); requests, paging, retries and emitting are the base class's.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from singer_sdk.schema.source import StreamSchema
from typing_extensions import override

from tap_generic_rest.errors import ConfigError, ResponseShapeError
from tap_generic_rest.http.body import lookup, select_records
from tap_generic_rest.spec.schema import infer_schema, nullable
from tap_generic_rest.stream.base import GenericRestStream

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

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

    # --- requests ---------------------------------------------------------------

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
        return params

    def _render(self, value: Any, context: Context | None) -> Any:
        """Fill a param's placeholders; a lone placeholder keeps its value's type."""
        if not isinstance(value, str) or "{" not in value:
            return value
        values = dict(context or {})
        if START_VALUE in value:
            values[START_VALUE] = self.start_value(context)
        whole = PLACEHOLDER.fullmatch(value)
        if whole:
            return values.get(whole.group(1))
        return PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), "")), value)

    # --- parents and children ---------------------------------------------------

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
        """Only a child's records change (its parent's fields go in); the filter aside."""
        return bool(self.parent_keys)

    def _with_parent_fields(self, row: dict[str, Any], context: Context | None) -> dict[str, Any]:
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
