"""One request, from the wire to a decoded body.

The transport (a deadline and a size cap per request), the authenticators (bound to the
``base_url`` origin), the retry policy as data, the run-wide rate gate, and reading bodies
(JSON decoded once, exact numbers, record selectors).
"""
