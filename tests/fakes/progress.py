"""A progress that keeps the sentences `measure` says, for tests of what a user is told."""

from hwprof.progress import Progress


class Notes(Progress):
    def __init__(self):
        super().__init__()
        self.notes = []

    def note(self, text):
        self.notes.append(text)
