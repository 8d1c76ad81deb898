"""Windows has no /proc/cpuinfo, and its platform.processor() is the identifier "Intel64 Family 6 Model 158
Stepping 10, GenuineIntel", the same for an i5-8400 and an i7-8700: the name comes from the registry, and the
identifier's numbers fill cpu_id."""

import sys
from types import SimpleNamespace

import pytest

from hwprof.drivers import host

COFFEE_LAKE = "Intel64 Family 6 Model 158 Stepping 10, GenuineIntel"


class FakeKey:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def fake_winreg(values: dict[str, str], opened: list):
    """A winreg module whose processor key holds `values`; a name it lacks is an OSError, as in winreg."""

    def open_key(root, path):
        opened.append((root, path))
        return FakeKey()

    def query_value(key, name):
        if name not in values:
            raise FileNotFoundError(2, "The system cannot find the file specified")
        return values[name], 1

    return SimpleNamespace(HKEY_LOCAL_MACHINE="HKLM", OpenKey=open_key, QueryValueEx=query_value)


@pytest.fixture
def windows(monkeypatch):
    """No /proc or device tree, the platform of Windows, and an i7-8700's identifier."""
    monkeypatch.setattr(host, "read_text", lambda path: None)
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(host.platform, "system", lambda: "Windows")
    monkeypatch.setattr(host.platform, "processor", lambda: COFFEE_LAKE)
    return monkeypatch


def test_windows_names_the_cpu_by_the_registrys_marketing_name(windows):
    opened = []
    name = "Intel(R) Core(TM) i7-8700 CPU @ 3.20GHz"
    windows.setitem(sys.modules, "winreg", fake_winreg({"ProcessorNameString": name + "  "}, opened))
    assert host.cpu_model() == name
    assert opened == [("HKLM", r"HARDWARE\DESCRIPTION\System\CentralProcessor\0")]


def test_an_unreadable_registry_falls_back_to_the_identifier(windows):
    windows.setitem(sys.modules, "winreg", fake_winreg({}, []))
    assert host.cpu_model() == COFFEE_LAKE


def test_windows_cpu_id_comes_from_the_identifier(windows):
    assert host.cpu_id() == {
        "vendor": "GenuineIntel",
        "family": "6",
        "model": "158",
        "stepping": "10",
        "microcode": "unreadable",
    }


def test_an_identifier_without_the_numbers_leaves_cpu_id_unreadable(windows):
    windows.setattr(host.platform, "processor", lambda: "arm")
    assert set(host.cpu_id().values()) == {"unreadable"}
