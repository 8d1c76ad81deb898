"""allocator="system" after a "steady" measure in the same process puts glibc's defaults back, where it had
recorded "system" while freed memory still stayed in the process."""

from hwprof.measuring import allocator


class FakeLibc:
    def __init__(self, accepts=True):
        self.calls = []
        self.accepts = accepts

    def mallopt(self, parameter, value):
        self.calls.append((parameter, value))
        return 1 if self.accepts else 0


def test_system_after_steady_puts_glibcs_defaults_back(monkeypatch):
    monkeypatch.setattr(allocator, "_pinned_in", None)
    libc = FakeLibc()
    allocator.pin_allocator("steady", libc)
    libc.calls.clear()
    assert allocator.pin_allocator("system") == {"policy": "system", "applied": True}
    settings = dict(libc.calls)
    assert settings[allocator.M_MMAP_MAX] == 65536 and settings[allocator.M_TRIM_THRESHOLD] == 128 << 10
    libc.calls.clear()
    assert allocator.pin_allocator("system") == {"policy": "system", "applied": True}  # once is enough
    assert libc.calls == []


def test_system_that_cannot_unpin_says_the_process_stays_pinned(monkeypatch):
    monkeypatch.setattr(allocator, "_pinned_in", None)
    allocator.pin_allocator("steady", FakeLibc())
    monkeypatch.setattr(allocator._pinned_in, "accepts", False)
    state = allocator.pin_allocator("system")
    assert state["applied"] is False and "stays as an earlier steady measure" in state["unavailable_reason"]
