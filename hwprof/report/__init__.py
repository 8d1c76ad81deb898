"""`hwprof report`: one self-contained HTML page of what datasets (and a predictor) say.

`figures` draws each view from the tables, `page` puts them into the HTML with
every image embedded, so the file opens offline and can be mailed or archived
as it is. It reads datasets, traces and predictors; it measures and fits nothing.
"""


def command_seconds_text(duration_s: float) -> str:
    """A command's wall time in seconds, to the millisecond, as `hwprof run`, `show` and the report's Commands
    table all write it: one figure must not read 1.060 on one surface and 1.06 on another."""
    return f"{duration_s:.3f}"
