"""A torchvision: or timm: model predicted by name was built with real, randomly initialised weights (vit_h_14:
12.7 s and 2.5 GB, against 0.76 s and 9 MB built on meta, to the same prediction), and under a memory limit its
name raised torch's RuntimeError, which the CLI read as a batch too large. It is now built on meta, as hf:
models are; a constructor that cannot build there builds with real weights, and weights that do not fit are
one sentence naming them. measure still builds real models."""

import pytest
import torch
import torchvision.models

from hwprof.errors import HwprofError
from hwprof.models.spec import resolve_model
from hwprof.predictor.records import clear_cache, network_layers

NAME = "torchvision:squeezenet1_1"


@pytest.fixture
def built(monkeypatch):
    """Whether each module torchvision's get_model built holds real weights; `reads_values` makes it read a
    tensor's value first, as a constructor that computes widths in tensors (RegNet's) does."""
    real_get_model = torchvision.models.get_model
    weights: list[bool] = []

    def get_model(name, **kwargs):
        if get_model.reads_values:
            torch.ones(1).item()  # no value on meta: raises there
        module = get_model.build(name, **kwargs)
        weights.append(not any(p.is_meta for p in module.parameters()))
        return module

    get_model.reads_values, get_model.build, get_model.weights = False, real_get_model, weights
    monkeypatch.setattr(torchvision.models, "get_model", get_model)
    clear_cache()
    yield get_model
    clear_cache()


def test_a_zoo_model_predicted_by_name_allocates_no_weights(built):
    traced = network_layers(NAME, 1)
    assert built.weights == [False]
    assert traced.traced_on == "meta"
    module = resolve_model(NAME).module  # as measure builds it: real weights
    assert built.weights == [False, True]
    assert network_layers(module, 1, input_shape=(3, 224, 224)).records == traced.records


def test_a_constructor_that_fails_on_meta_builds_with_real_weights(built):
    built.reads_values = True
    traced = network_layers(NAME, 1)
    assert built.weights == [True]
    assert traced.traced_on == "meta"  # traced through a meta copy of the real module
    built.reads_values = False
    clear_cache()
    assert network_layers(NAME, 1).records == traced.records


def test_weights_that_do_not_fit_are_one_sentence_naming_them_not_the_batch(built):
    def no_memory(name, **kwargs):
        raise RuntimeError("[enforce fail at alloc_cpu.cpp:127] DefaultCPUAllocator: can't allocate memory")

    built.reads_values, built.build = True, no_memory
    with pytest.raises(HwprofError) as raised:
        network_layers(NAME, 1)
    sentence = raised.value.args[0]
    assert sentence.startswith(f"{NAME} cannot be built on meta tensors (RuntimeError: ")
    assert "its real weights do not fit in the memory available" in sentence
    assert "batch" not in sentence


def test_a_meta_module_rebuilt_for_a_real_trace_names_its_weights_when_they_do_not_fit():
    from hwprof.models.tracing import MetaDevice, trace_layers

    class ReadsValue(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = torch.nn.Linear(4, 4)

        def forward(self, x):
            return self.linear(x) if x.sum() > 0 else x

    def rebuild():
        raise MemoryError

    with MetaDevice():
        module = ReadsValue()
    with pytest.raises(HwprofError, match=r"^net cannot be traced on meta tensors \(.*\), and its real weights do not"):
        trace_layers(module, (4,), label="net", rebuild=rebuild)
