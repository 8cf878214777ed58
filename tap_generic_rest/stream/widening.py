"""Values the schema does not allow, and the SCHEMA messages that announce them.

Each page is checked before any of its records is written (``checks``): the usual
page at once, column by column; a page with something to report record by record.
A value of a type the schema does not allow widens that field's type (``drift``),
never the value, and a new SCHEMA message says so before the record that needs it.
The stream's first SCHEMA message waits for its first page, so a target that cannot
alter a column once created (target-postgres) creates it wide enough, and a stream
that fails before any page (refused credentials) writes none. Fields the
schema does not declare pass through, with one warning each.
"""

from __future__ import annotations

import copy
from functools import cached_property
from itertools import filterfalse
from typing import TYPE_CHECKING, Any, ClassVar

from singer_sdk.helpers._catalog import get_selected_schema
from typing_extensions import override

from tap_generic_rest.records.checks import (
    CONFORM,
    DRIFT,
    PageCheck,
    compile_page_check,
    compile_record_check,
)
from tap_generic_rest.records.drift import find_drift, widen
from tap_generic_rest.stream.retrying import RetryingStream

if TYPE_CHECKING:
    from singer_sdk.helpers._batch import BaseBatchFileEncoding
    from singer_sdk.helpers.types import Context


class WideningStream(RetryingStream):
    """A REST stream whose schema widens for the values its server sends."""

    #: Name of the source module that declares the stream (its schema folder).
    source_name: ClassVar[str]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._declared = frozenset(self.schema.get("properties", {}))
        self._reported_undeclared: set[str] = set()
        #: The SCHEMA message waits for the first record (see :meth:`sync`).
        self._schema_held = False
        self._schema_pending = False
        self._version_pending: int | None = None
        #: ids of the current page's records the SDK's conformance could change.
        self._to_conform: set[int] = set()

    # --- fields and values the schema does not declare ----------------------------------

    def _report_undeclared(self, records: list[dict[str, Any]]) -> None:
        """Warn once per field about fields the schema does not declare (they pass through)."""
        known = self._declared | self._reported_undeclared
        if all(map(known.issuperset, records)):  # the usual page, without a loop in Python
            return
        if self.record_filter is not None:  # only the records that will be written
            records = list(filter(self.record_filter, records))
        undeclared = set().union(
            *(record.keys() - self._declared for record in filterfalse(known.issuperset, records))
        )
        if undeclared:
            self._reported_undeclared |= undeclared
            self.logger.warning(
                "stream '%s': fields not in %s are passed through undeclared: %s",
                self.name,
                self.schema_origin,
                ", ".join(sorted(undeclared)),
            )

    @cached_property
    def _record_check(self) -> Any:
        """The schema's per-record drift and conformance test (rebuilt when the schema widens)."""
        return compile_record_check(self.effective_schema)

    @cached_property
    def _page_check(self) -> PageCheck:
        """Whether no record of a page needs the record check (rebuilt when the schema widens)."""
        return compile_page_check(self.effective_schema)

    def _flag_records(self, records: list[dict[str, Any]]) -> set[int]:
        """Widen the schema for the page's drift; the records the SDK's conformance could change.

        Returned as ids: the page's records are alive until the next page is parsed,
        after its last record is written.
        """
        flags = list(map(self._record_check, records))
        drifted = [record for record, flag in zip(records, flags, strict=True) if flag & DRIFT]
        if drifted:
            self.admit(drifted)
            flags = list(map(self._record_check, records))  # the widened schema's check
        return {id(record) for record, flag in zip(records, flags, strict=True) if flag & CONFORM}

    def admit(self, records: list[dict[str, Any]]) -> None:
        """Widen the schema to admit every value of ``records``; say so in one new SCHEMA.

        The value is never changed or dropped: a target that validates records then
        accepts it, and the SDK's conformance no longer coerces it (a string in a
        boolean field would otherwise arrive as true). One warning per field and type.
        Drift on the first page widens the first SCHEMA message itself (it waits for
        that page); later drift sends a new SCHEMA before the record that needs it,
        which a target must be able to apply to a table it created already.
        """
        schema = self.effective_schema
        widened = [
            drift
            for record in records
            for drift in find_drift(record, schema)
            if widen(schema, drift)
        ]
        if not widened:
            return
        if self.schema is not schema:  # a catalog's schema: keep the stream's own in step
            for drift in widened:
                widen(self.schema, drift)
        for drift in widened:
            self.logger.warning(
                "stream '%s': field '%s' is declared %s but the server sent %s; the field's "
                "type is widened (a new SCHEMA message comes before the record), the value kept",
                self.name,
                drift.field,
                "/".join(drift.declared),
                drift.seen,
            )
        # The stream maps hold the schema the SCHEMA message is made of; the record path
        # compiled its checks from it.
        self._tap.mapper.register_raw_stream_schema(
            self.name,
            get_selected_schema(self.name, copy.deepcopy(schema), self.mask),
            self.primary_keys,
        )
        self._stream_maps = []
        self.__dict__.pop("_record_check", None)
        self.__dict__.pop("_page_check", None)
        self.__dict__.pop("record_emitter", None)
        self._write_schema_message()

    # --- the first SCHEMA waits for the first page -----------------------------------

    # The SDK marks sync() final, but has no hook between "a sync starts" and "its SCHEMA
    # message is written"; this override only brackets the SDK's own sync.
    @override  # type: ignore[misc]
    def sync(self, context: Context | None = None) -> None:
        """Sync, with the SCHEMA (and ACTIVATE_VERSION) message held until the first record.

        By then the first page has been checked for values the schema does not allow,
        and the schema widened for them: a target that cannot alter a column once it has
        created it (target-postgres) creates it with the right type. A stream with no
        record sends its SCHEMA message at the end; one that fails before any page
        arrived (refused credentials) sends none, so no target creates an empty table
        for a run that read nothing.
        """
        self._schema_held = True
        try:
            super().sync(context)
        except BaseException:
            if not self.stats.pages:
                self._schema_pending, self._version_pending = False, None
            raise
        finally:
            self._release_schema()

    @override
    def _write_schema_message(self) -> None:
        if self._schema_held:
            self._schema_pending = True
            return
        super()._write_schema_message()

    @override
    def _write_activate_version_message(self, full_table_version: int) -> None:
        if self._schema_held:
            self._version_pending = full_table_version
            return
        super()._write_activate_version_message(full_table_version)

    @override
    def _write_batch_message(self, encoding: BaseBatchFileEncoding, manifest: list[str]) -> None:
        self._release_schema()  # a BATCH message, like a RECORD, comes after its SCHEMA
        super()._write_batch_message(encoding, manifest)

    def _release_schema(self) -> None:
        """Write the held SCHEMA and ACTIVATE_VERSION messages, in that order, once."""
        if not self._schema_held:
            return
        self._schema_held = False
        if self._schema_pending:
            self._schema_pending = False
            super()._write_schema_message()
        version = self._version_pending
        if version is not None:
            self._version_pending = None
            super()._write_activate_version_message(version)

    @property
    def schema_origin(self) -> str:
        """Where the stream's schema comes from, as a user would look for it."""
        return f"schemas/{self.source_name}/{self.name}.json"
