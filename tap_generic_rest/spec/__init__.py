"""User specs: any REST API described in dlt's ``rest_api`` format, run on the tap's engine.

:func:`~tap_generic_rest.spec.loader.load_spec` reads a spec (a JSON, YAML or Python file,
or an inline object) without executing anything; :func:`~tap_generic_rest.spec.compile.
compile_spec` turns it into the same :class:`~tap_generic_rest.registry.Source` and
:class:`~tap_generic_rest.client.GenericRestStream` subclasses a built-in source declares,
so retries, masking, paging guards, prefetching and the fast record path apply unchanged.
"""

from __future__ import annotations

from tap_generic_rest.spec.compile import compile_spec

__all__ = ["compile_spec"]
