"""A forward that stores into its module (a step counter `self.count += 1`, an EMA buffer) had the fx trace leave a
Proxy in the user's buffers: measure failed with a raw TraceError, and the module's state_dict held the Proxy."""

import torch
import torch.nn as nn

import hwprof
from fakes.modules import BiasCache
from hwprof.models.layers import extract_layers_from_example

FAST = {"power": "none", "precision": 0.3, "max_item_s": 0.05, "threads": 1, "seed": 0, "sweep_share": 0}


class Counter(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.register_buffer("count", torch.zeros(()))

    def forward(self, x):
        self.count += 1
        return self.fc(x)


class Ema(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.register_buffer("ema", torch.zeros(8))

    def forward(self, x):
        h = self.fc(x)
        self.ema = 0.9 * self.ema + 0.1 * h.mean(0)
        return h


class Flagged(nn.Module):
    """Sets a plain flag in forward (a warn-once): no computed value the graph would leave out."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.warned = False

    def forward(self, x):
        self.warned = True
        return self.fc(x)


def all_tensors(module: nn.Module) -> bool:
    return all(type(value) in (torch.Tensor, nn.Parameter) for value in module.state_dict().values())


def test_a_module_storing_into_its_buffers_is_measured_and_left_holding_tensors():
    for model in (Counter(), Ema()):
        before = {name: tensor.clone() for name, tensor in model.state_dict().items()}
        frame = hwprof.measure([(model, torch.randn(1, 8))], **FAST)
        assert "linear" in set(frame[frame.kind == "layer"].op)
        assert (frame.kind == "network").sum() == 1
        assert list(model.state_dict()) == list(before) and all_tensors(model)
        # the timed calls, hundreds of them, updated the buffer; it is put back as it was given
        assert all(torch.equal(model.state_dict()[name], tensor) for name, tensor in before.items())


def test_predict_leaves_the_values_of_its_buffers_as_they_were(tmp_path):
    from fakes.synthetic import fitted_predictor_path

    path, _ = fitted_predictor_path(tmp_path, cv=False)
    predictor = hwprof.load_predictor(path)
    for model in (Counter(), Ema()):
        before = {name: value.clone() for name, value in model.state_dict().items()}
        predictor.predict((model, torch.randn(1, 8)))
        after = model.state_dict()
        assert list(after) == list(before) and all_tensors(model)
        assert all(torch.equal(after[name], value) for name, value in before.items())


def test_the_trace_puts_back_what_it_wrote_into_the_module():
    counter = Counter()
    _, method = extract_layers_from_example(counter, (torch.randn(1, 8),), {})
    assert method == "hooks"  # the graph would leave out the write
    assert type(counter.count) is torch.Tensor and counter.count.item() == 1  # the one forward pass that ran
    cached = BiasCache()
    layers, method = extract_layers_from_example(cached, (torch.randn(1, 8),), {})
    assert method == "fx" and "linear" in {layer.op for layer in layers}
    assert list(cached.attention_bias_cache) == [] and set(vars(cached)) == set(vars(BiasCache()))


def test_a_flag_set_in_forward_keeps_the_graph_and_is_put_back():
    flagged = Flagged()
    _, method = extract_layers_from_example(flagged, (torch.randn(1, 8),), {})
    assert method == "fx" and flagged.warned is False


class Shifted(nn.Module):
    """A tensor made in forward: fx keeps it as a constant, an attribute of the module it traces."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(4, 4)

    def forward(self, x):
        return torch.relu(self.lin(x) + torch.ones(4)) * 2


def test_a_forward_that_makes_a_constant_tensor_keeps_the_graph_and_the_module_its_attributes():
    """Putting the module's attributes back took fx's constant off it, and the graph then failed to run: the
    model fell back to hooks without a word, with other layers (a `ones` row) and other indices."""
    model = Shifted().eval()
    before = set(vars(model))
    layers, method = extract_layers_from_example(model, (torch.randn(2, 4),), {})
    assert method == "fx" and [layer.op for layer in layers] == ["linear", "add", "relu", "mul"]
    assert set(vars(model)) == before


def test_modules_whose_buffers_take_no_write_are_measured_as_before():
    """Putting every buffer back wrote into inference tensors (a module made under torch.inference_mode), which
    torch refuses, and cloned lazy buffers, which have no values: both ended measure with a traceback."""
    import pytest

    from hwprof.errors import HwprofError

    with torch.inference_mode():
        made = nn.Sequential(nn.Linear(8, 8), nn.BatchNorm1d(8)).eval()
    frame = hwprof.measure([(made, torch.randn(2, 8))], batch_sizes=[2], layers=False, **FAST)
    assert len(frame) == 1
    lazy = nn.Sequential(nn.LazyConv2d(8, 3), nn.LazyBatchNorm2d()).eval()
    with pytest.raises(HwprofError, match="has lazy layers"):
        hwprof.measure([(lazy, torch.randn(1, 3, 8, 8))], layers=False, **FAST)
