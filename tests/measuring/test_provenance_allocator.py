"""The allocator record names the library serving malloc where it is not glibc: under a preloaded jemalloc,
"steady" was recorded as applied while mallopt changed only glibc's unused allocator."""

import ctypes
import json
import platform
import shutil
import subprocess
import sys

import pytest

from hwprof.measuring import allocator

INTERPOSER = """
#include <stddef.h>
extern void *__libc_malloc(size_t size);
void *malloc(size_t size) { return __libc_malloc(size); }
"""
PIN = "import json; from hwprof.measuring import allocator; print(json.dumps(allocator.pin_allocator('steady')))"


class FakeLibc:
    def __init__(self):
        self.calls = []

    def mallopt(self, parameter, value):
        self.calls.append((parameter, value))
        return 1


def test_steady_is_not_applied_where_another_library_serves_malloc(monkeypatch):
    monkeypatch.setattr(allocator, "malloc_library", lambda: "/opt/lib/libtcmalloc.so.4")
    libc = FakeLibc()
    state = allocator.pin_allocator("steady", libc)
    assert state["applied"] is False and state["library"] == "libtcmalloc.so.4"
    assert "malloc is served by libtcmalloc.so.4, not glibc" in state["unavailable_reason"]
    assert libc.calls == []
    assert allocator.pin_allocator("system") == {"policy": "system", "applied": True, "library": "libtcmalloc.so.4"}


def test_ld_preload_tells_the_allocator_where_the_process_cannot(monkeypatch):
    def no_process_handle(name):
        raise OSError("no handle")

    monkeypatch.setattr(ctypes, "CDLL", no_process_handle)
    monkeypatch.setenv("LD_PRELOAD", "/usr/lib/libfoo.so:/usr/lib/x86_64-linux-gnu/libjemalloc.so.2")
    assert allocator.malloc_library() == "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"
    monkeypatch.setenv("LD_PRELOAD", "/usr/lib/libfoo.so")
    assert allocator.malloc_library() is None


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="needs a glibc process")
def test_glibcs_own_malloc_is_pinned():
    assert allocator.malloc_library() is None


@pytest.mark.skipif(
    platform.libc_ver()[0] != "glibc" or shutil.which("cc") is None, reason="needs glibc and a C compiler"
)
def test_a_preloaded_malloc_is_found_by_the_dynamic_linker(tmp_path):
    source, library = tmp_path / "interposer.c", tmp_path / "libinterposer.so"
    source.write_text(INTERPOSER)
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(library), str(source)], check=True, timeout=60)
    env = {"PATH": "/usr/bin:/bin", "LD_PRELOAD": str(library)}
    done = subprocess.run([sys.executable, "-c", PIN], capture_output=True, text=True, env=env, timeout=60, check=True)
    state = json.loads(done.stdout)
    assert state["applied"] is False and state["library"] == "libinterposer.so"
