"""Reading a spec as dlt reads it, without running any of it.

The file (JSON, YAML or Python, each bounded in size, depth and aliases: ``bounds``), the
``dlt.secrets``/``dlt.config`` references in it (``loader``), and every key checked against
the keys dlt knows (``keys``), before anything is compiled.
"""
