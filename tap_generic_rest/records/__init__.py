"""What happens to a page's records before they are written.

The record and page checks (``checks``), drift (values whose type the schema does not
allow), and writing RECORD messages fast with exactly the SDK's output (``writer``).
"""
