"""predict of a module that cannot be traced on meta (its forward reads a value) runs one real forward pass, and a
module with lazy layers runs once to make their weights. Both drew their inputs and weights from torch's global
generator, so one module got two predictions (0.11 or 0.48 ms, as the gate fell) and the caller's seeded
generator moved; both ran the host's forward hooks, and the real pass ran on the caller's own module, updating
its forward-side state."""

import threading

import pytest
import torch
from torch import nn

from fakes.synthetic import fitted_predictor_path
from hwprof import load_predictor
from hwprof.models.tracing import trace_layers


class Gated(nn.Module):
    """An extra convolution where the input's mean is positive (an early exit read the other way round): half
    the inputs a generator draws take it. It counts its calls in a buffer, as a cache or a step counter would."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, padding=1)
        self.extra = nn.Conv2d(16, 16, 3, padding=1)
        self.head = nn.Linear(16, 10)
        self.register_buffer("calls", torch.zeros((), dtype=torch.long))

    def forward(self, x):
        self.calls += 1
        y = self.conv(x).relu()
        if x.mean() > 0:
            y = self.extra(y).relu()
        return self.head(y.mean((2, 3)))


class LazyCounted(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Flatten(), nn.LazyLinear(40), nn.ReLU(), nn.Linear(40, 10))
        self.register_buffer("calls", torch.zeros((), dtype=torch.long))

    def forward(self, x):
        self.calls += 1
        return self.body(x)


SHAPE = (3, 16, 16)


@pytest.fixture(scope="module")
def predictor(tmp_path_factory):
    return load_predictor(fitted_predictor_path(tmp_path_factory.mktemp("p"), cv=False)[0])


def test_a_real_traced_module_gets_one_prediction_whatever_the_hosts_seed(predictor):
    model = Gated()
    latencies = set()
    for seed in range(6):  # under the global generator the gate fell both ways within these seeds
        torch.manual_seed(seed)
        prediction = predictor.predict(model, input_shape=SHAPE)
        latencies.add(prediction.total["latency_ms"])
    assert prediction.traced_on == "real"
    assert len(latencies) == 1


@pytest.mark.parametrize("make", [Gated, LazyCounted], ids=["real-traced", "lazy"])
def test_predict_leaves_the_hosts_seeded_generator_where_it_was(predictor, make):
    model = make()
    torch.manual_seed(0)
    expected = torch.randn(3)
    torch.manual_seed(0)
    predictor.predict(model, input_shape=SHAPE)
    assert torch.equal(torch.randn(3), expected)


def test_predicting_a_model_file_built_with_real_weights_leaves_the_hosts_generator(predictor, tmp_path):
    """A model named by a file (or torchvision:, timm:) is built with real weights, which drew from torch's global
    generator when hwprof built it to predict it."""
    factory = tmp_path / "net.py"
    factory.write_text(
        "import torch.nn as nn\n\ndef build():\n    return nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU())\n"
    )
    torch.manual_seed(0)
    expected = torch.randn(3)
    torch.manual_seed(0)
    predictor.predict(f"{factory}:build", input_shape=SHAPE)
    assert torch.equal(torch.randn(3), expected)


@pytest.mark.parametrize("make", [Gated, LazyCounted], ids=["real-traced", "lazy"])
def test_predict_runs_no_host_hook_and_leaves_the_modules_state(predictor, make):
    model = make()
    seen = []
    for part in model.modules():
        part.register_forward_hook(lambda module, args, output: seen.append(type(module).__name__))
        part.register_forward_pre_hook(lambda module, args: seen.append(type(module).__name__))
    predictor.predict(model, input_shape=SHAPE)
    predictor.predict(model, input_shape=SHAPE)
    assert seen == []
    assert int(model.calls) == 0
    assert all(hooks for part in model.modules() for hooks in (part._forward_hooks, part._forward_pre_hooks))


class Locked(Gated):
    """A module deepcopy refuses (it holds a lock): the real pass runs on it, and the trace says so."""

    def __init__(self):
        super().__init__()
        self.lock = threading.Lock()


def test_a_module_that_cannot_be_copied_is_traced_on_itself_and_the_trace_says_so():
    model = Locked()
    trace = trace_layers(model, SHAPE)
    assert trace.tensors == "real" and "it ran itself, with its hooks, as it could not be copied" in trace.description
    assert int(model.calls) == 1
