"""hwprof: latency, power and energy of neural networks, measured and predicted."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("hwprof")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

from hwprof.errors import HwprofError  # noqa: E402

__all__ = ["HwprofError", "__version__"]
