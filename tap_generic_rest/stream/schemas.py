"""Where a stream's schema comes from: ``schemas/<source>/<stream>.json``, one copy per stream."""

from __future__ import annotations

import copy
import importlib.resources
from pathlib import Path
from typing import Any

from singer_sdk.schema.source import StreamSchema
from typing_extensions import override

from tap_generic_rest.stream.replication import DELETED_AT, DELETED_AT_SCHEMA, Incremental


def schemas_dir() -> Path:
    """The schema folder: inside the installed package, or the repository's top level."""
    packaged = importlib.resources.files("tap_generic_rest") / "schemas"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "schemas"


class SourceStreamSchema(StreamSchema[str]):
    """Loads ``schemas/<source>/<stream>.json`` for the stream it is read from.

    Each stream gets its own copy: a stream widens its schema when the server sends
    a type it does not allow (``GenericRestStream.admit``), and that must not leak
    into another stream or another run in the same process.
    """

    @override
    def get_stream_schema(self, stream: Any, stream_class: Any) -> dict[str, Any]:
        own: dict[str, Any] | None = stream.__dict__.get("_own_schema")
        if own is None:
            own = stream.__dict__["_own_schema"] = copy.deepcopy(
                self.schema_source.get_schema(
                    f"{stream.source_name}/{stream.name}", key_properties=stream.primary_keys
                )
            )
            spec: Incremental | None = getattr(stream_class, "incremental", None)
            if spec is not None and spec.deletions:
                # Deleted records carry the Singer deletion field: declared, so targets see it.
                own["properties"].setdefault(DELETED_AT, dict(DELETED_AT_SCHEMA))
        return own
