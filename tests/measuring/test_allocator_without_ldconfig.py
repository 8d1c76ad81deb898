"""glibc is found through the process itself where find_library cannot name it (no ldconfig or gcc: distroless
containers, NixOS), so the allocator is pinned there too."""

import ctypes.util
import platform

import pytest

from hwprof.measuring import allocator


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="needs a glibc process")
def test_glibc_is_found_in_the_process_when_find_library_names_none(monkeypatch):
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)
    libc = allocator._libc()
    assert libc is not None and hasattr(libc, "mallopt") and hasattr(libc, "gnu_get_libc_version")


def test_a_c_library_without_glibcs_symbols_is_not_pinned(monkeypatch):
    class Musl:
        def mallopt(self, parameter, value):
            return 1

    monkeypatch.setattr(ctypes.util, "find_library", lambda name: "libc.musl.so")
    monkeypatch.setattr(ctypes, "CDLL", lambda name: Musl())
    assert allocator._libc() is None
    assert allocator.pin_allocator("steady")["applied"] is False
