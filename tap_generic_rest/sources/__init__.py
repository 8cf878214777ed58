"""One module per source; each declares ``SOURCE`` (see :mod:`tap_generic_rest.registry`)."""
