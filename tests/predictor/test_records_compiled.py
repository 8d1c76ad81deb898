"""A torch.compile'd module is traced as the eager module it wraps, as measure does: tracing through the
compiled wrapper ran dynamo over hwprof's own meta trace, tens of times slower and with torch's warnings."""

import torch
import torch.nn as nn

from hwprof.models import tracing
from hwprof.predictor import records


def test_a_compiled_module_is_traced_as_its_eager_module(monkeypatch):
    module = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 2)).eval()
    compiled = torch.compile(module)  # compiles lazily, at its first call: never called here
    traced_modules = []
    trace_layers = tracing.trace_layers

    def spied(traced_module, *args, **kwargs):
        traced_modules.append(traced_module)
        return trace_layers(traced_module, *args, **kwargs)

    monkeypatch.setattr(tracing, "trace_layers", spied)
    records.clear_cache()
    eager = records.network_layers(module, 1, (3, 8, 8))
    from_compiled = records.network_layers(compiled, 1, (3, 8, 8))
    assert traced_modules == [module, module]
    assert from_compiled.name == eager.name
    assert from_compiled.records == eager.records
