"""One check per record for both questions a record raises before it is written.

* Drift (``records/drift.py``): may a value have a JSON type the schema does not allow?
  Then the stream looks closer (``find_drift``) and widens the schema.
* Conformance (``records/writer.py``): could the SDK's ``conform_record_data_types`` change
  the record (a boolean-only property holding something else than true, false or
  null; undeclared keys of an object whose ``additionalProperties`` is unset)?
  Then the record goes through the SDK's own conformance.

Both answers depend only on the classes of values (and on undeclared keys), down
through nested objects and arrays. What a value of a class means under its
property's schema is decided once, by one set of rules (``rules.py``):

* drift: a value's exact class among the classes its declared ``type`` allows
  (``drift.allowed_classes``); nested objects and array items are followed;
* conformance: the SDK's own schema tests (``is_uniform_list``, ``is_object_type``,
  ``_is_exclusive_boolean_type``) mirror ``_conform_record_data_types`` for values
  decoded from JSON.

The checks made of these rules (closures per object and per array, remembering
what each property name and class meant) say exactly which flags a record raises.
From them, :func:`compile_record_check` generates ONE flat function per schema
(``generated.py``): per declared property a ``get`` and one class test against the
classes that need nothing, nested objects and arrays inlined, no call per value.
A record with nothing to report (nearly all of them) costs that one function; any
other goes to the exact checks. Property names enter the code only as ``repr``
literals; everything else is bound as a value, never written as code.

A page of records with nothing to report can skip that function altogether:
:func:`compile_page_check` (``pages.py``) reads the page column by column with
C-level iteration, from the same closures' answers (``ObjectShape.fits``,
``ItemsShape``), and says True only when every record would get 0.

Flags over-approximate, never miss: a record flagged for drift may turn out to
fit (an integral float in an integer field), a record flagged for conformance goes
the SDK's slower but exact way.
"""

from tap_generic_rest.records.checks.generated import compile_record_check
from tap_generic_rest.records.checks.pages import MAX_LAYOUTS, PageCheck, compile_page_check
from tap_generic_rest.records.checks.rules import BOTH, CONFORM, DRIFT, MAX_REMEMBERED, ValueCheck

__all__ = [
    "BOTH",
    "CONFORM",
    "DRIFT",
    "MAX_LAYOUTS",
    "MAX_REMEMBERED",
    "PageCheck",
    "ValueCheck",
    "compile_page_check",
    "compile_record_check",
]
