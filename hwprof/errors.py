"""One exception type for mistakes a user can fix.

The CLI prints its message as one sentence and exits non-zero; anything else
is a bug in hwprof and keeps its traceback.
"""


class HwprofError(Exception):
    """A user-facing error: the message says what is wrong and what to do."""

    exit_code = 2
