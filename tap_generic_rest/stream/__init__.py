"""``GenericRestStream`` and its layers, one concern each.

Bottom to top: ``incremental`` (bookmarks, the read window; ``replication`` holds the
specs it reads), ``retrying`` (the SDK's backoff hooks driven by the source's policy),
``widening`` (drift, the held first SCHEMA) and ``base`` (requests, responses, the records'
way out). ``page_loop`` and ``prefetch`` are the request loops ``base`` runs.
"""
