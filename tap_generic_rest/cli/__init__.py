"""The command line's side of a run.

Log lines as users see them (on a terminal and under Meltano), and expected failures
described in one line naming the stream, setting or host at fault.
"""
