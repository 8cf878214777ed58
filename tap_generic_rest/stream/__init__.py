"""``GenericRestStream`` and its layers, one concern each.

Bottom to top: ``incremental`` (the read window from the bookmark; ``replication`` holds the
specs and the values it compares), ``bookmarks`` (the bookmark advanced over what was
written), ``retrying`` (the SDK's backoff hooks driven by the source's policy), ``widening``
(drift, the held first SCHEMA), ``writing`` (post-processing, RECORD messages, counted) and
``base`` (requests, responses, pages). ``page_loop`` and ``prefetch`` are the request loops
``base`` runs; ``schemas`` loads each stream's schema.
"""
