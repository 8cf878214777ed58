"""Settings as users write them, and every check of what a user gives before a request.

Environment variables and numbers written as text (``settings``), the whole config
(``validate``), inputs refused before any request (``refusals``), and the ``--config``,
``--catalog`` and ``--state`` files (``input_files``).
"""
