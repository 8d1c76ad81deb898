"""hwprof: latency, power and energy of neural networks, measured and predicted.

`hwprof.measure(...)` returns a DataFrame; `hwprof.load_predictor(path)` loads a
fitted cost model. Both import torch lazily so `import hwprof` stays cheap.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("hwprof")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

from hwprof.errors import HwprofError  # noqa: E402

_LAZY = {"measure": "hwprof.measuring.session", "load_predictor": "hwprof.predictor.predictor"}

__all__ = ["HwprofError", "__version__", *_LAZY]


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'hwprof' has no attribute {name!r}")
