"""A standard output whose writes fail, for commands' handling of a full disk or a reader gone."""

import io


class FailingStdout(io.StringIO):
    """A stdout whose writes fail with `error`, on a descriptor the test owns (hwprof points it at devnull)."""

    def __init__(self, fd: int, error: OSError):
        super().__init__()
        self.fd, self.error = fd, error

    def fileno(self):
        return self.fd

    def write(self, text):
        raise self.error
