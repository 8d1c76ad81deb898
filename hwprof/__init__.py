"""hwprof: latency, power and energy of neural networks, measured and predicted.

The public API is what `__all__` names; everything else is private and may
change. Each name loads its module on first use, so `import hwprof` stays cheap
(no torch), and `load_predictor` never loads the fitting or measuring code.

Where a list of models or dataset paths is taken (`measure`, `predict_many`,
`read_dataset`, `merge`, `fit`, `evaluate`), one alone is a list of one; a
path is a str or os.PathLike. Anything else is a HwprofError saying what to give.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("hwprof")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

from hwprof.errors import HwprofError, HwprofWarning, UnfinishedDatasetWarning  # noqa: E402

# public name -> (module, attribute there)
_LAZY = {
    "measure": ("hwprof.measuring.session", "measure"),
    "MeasureOptions": ("hwprof.measuring.session", "MeasureOptions"),
    "energy_window": ("hwprof.measuring.window", "energy_window"),
    "EnergyMonitor": ("hwprof.measuring.window", "EnergyMonitor"),
    "read_dataset": ("hwprof.dataset", "read_dataset"),
    "merge": ("hwprof.dataset", "merge_datasets"),
    "fit": ("hwprof.fitting.fit", "fit"),
    "evaluate": ("hwprof.fitting.evaluate", "evaluate"),
    "load_predictor": ("hwprof.predictor.predictor", "load_predictor"),
    "Predictor": ("hwprof.predictor.predictor", "Predictor"),
}

__all__ = ["HwprofError", "HwprofWarning", "UnfinishedDatasetWarning", "__version__", *_LAZY]


def __getattr__(name):
    if name in _LAZY:
        import importlib
        import random
        import sys

        module, attribute = _LAZY[name]
        if module in sys.modules:
            return getattr(sys.modules[module], attribute)
        state = random.getstate()  # loading must not draw from the host's generator: rich, which sklearn loads
        try:  # for fit, draws a number as it loads
            return getattr(importlib.import_module(module), attribute)
        finally:
            random.setstate(state)
    raise AttributeError(f"module 'hwprof' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
