"""Allocator pinning: what is asked of glibc, and what is said when it cannot be done."""

import pytest

from hwprof.errors import HwprofError
from hwprof.measuring import allocator
from hwprof.measuring.session import measure


class FakeLibc:
    def __init__(self, accepts=True):
        self.calls = []
        self.accepts = accepts

    def mallopt(self, parameter, value):
        self.calls.append((parameter, value))
        return 1 if self.accepts else 0


def test_steady_keeps_freed_memory_in_the_process():
    libc = FakeLibc()
    assert allocator.pin_allocator("steady", libc) == {"policy": "steady", "applied": True}
    settings = dict(libc.calls)
    assert settings[allocator.M_MMAP_MAX] == 0  # no block mapped on its own, so none handed back on free
    assert settings[allocator.M_TRIM_THRESHOLD] >= 2**31 - 1  # the heap's top is never trimmed


def test_system_leaves_the_allocator_alone(monkeypatch):
    monkeypatch.setattr(allocator, "_libc", lambda: pytest.fail("system must not touch the C library"))
    assert allocator.pin_allocator("system") == {"policy": "system", "applied": True}


def test_without_glibc_or_when_refused_it_says_so(monkeypatch):
    monkeypatch.setattr(allocator, "_libc", lambda: None)
    state = allocator.pin_allocator("steady")
    assert state["applied"] is False and "not glibc" in state["unavailable_reason"]
    state = allocator.pin_allocator("steady", FakeLibc(accepts=False))
    assert state["applied"] is False and "refused" in state["unavailable_reason"]


def test_an_unknown_policy_is_one_sentence():
    with pytest.raises(HwprofError, match="choose from steady, system"):
        measure(["mlp"], allocator="warm")


# allocator="system" after a "steady" measure in the same process puts glibc's defaults back, where it had
# recorded "system" while freed memory still stayed in the process.
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
