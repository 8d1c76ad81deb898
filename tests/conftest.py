"""Suite-wide settings: one intra-op thread, so tests do not oversubscribe a 2-core CI machine; and a check
that the hwprof under test is whole."""

import importlib.util

import pytest
import torch

MAPPED_PACKAGES = ("hwprof.drivers", "hwprof.sample_models")  # pyproject's package-dir maps them into hwprof


def missing_mapped_packages() -> list[str]:
    """The packages pyproject maps from top-level folders that this hwprof lacks: run from a source tree (an
    unpacked sdist) against a normal install, the tree's own hwprof/ folder, without them, hides the installed
    package, so every test touching a driver or a sample model would fail on an import."""
    return [name for name in MAPPED_PACKAGES if importlib.util.find_spec(name) is None]


def pytest_configure(config):
    if missing := missing_mapped_packages():
        raise pytest.UsageError(
            f"{', '.join(missing)} cannot be imported: the hwprof/ folder of this source tree hides an installed "
            "hwprof, and only an editable install maps drivers/ and sample_models/ into it; run "
            "`pip install -e '.[test]'` in this tree, then pytest"
        )


@pytest.fixture(autouse=True, scope="session")
def single_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(autouse=True)
def warnings_shown_afresh():
    """hwprof shows each warning once per process: each test expects the warnings of what it runs."""
    from hwprof.errors import forget_shown_warnings

    forget_shown_warnings()
