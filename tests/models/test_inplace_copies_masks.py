"""What a layer record says the network did: in place or not, a copy or a view."""

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from hwprof.models.layers import _materialise, extract_layers_from_example, run_and_extract
from hwprof.models.tracing import trace_layers


def extract(module, *inputs, method):
    """Layers by torch.fx (positional inputs) or by hooks (the same inputs given by keyword)."""
    if method == "fx":
        layers, found = extract_layers_from_example(module, inputs, {})
    else:
        layers, found = extract_layers_from_example(module, (), {f"x{i}": x for i, x in enumerate(inputs)})
    assert found == method
    return layers


class Calls(nn.Module):
    """Runs `calls(x0, x1)`, a function of its two inputs."""

    def __init__(self, calls):
        super().__init__()
        self.calls = calls

    def forward(self, x0, x1=None):
        return self.calls(x0, x1)


def add_out(x, y):
    return x + y


def add_in(x, y):
    return (x * 1.0).add_(y)


def add_assigned(x, y):
    z = x * 1.0
    z += y
    return z


def relu_out(x, _):
    return F.relu(x)


def relu_method(x, _):
    return (x * 1.0).relu_()


def relu_flagged(x, _):
    return F.relu(x * 1.0, inplace=True)


def relu_flagged_positionally(x, _):
    return F.relu(x * 1.0, True)


def last_layer(calls, method):
    return extract(Calls(calls), torch.randn(2, 8, 5, 5), torch.randn(2, 8, 5, 5), method=method)[-1]


@pytest.mark.parametrize("method", ["fx", "hooks"])
@pytest.mark.parametrize(
    "out_of_place, in_place",
    [(add_out, add_in), (add_out, add_assigned), (relu_out, relu_method), (relu_out, relu_flagged)],
)
def test_an_in_place_call_has_a_config_of_its_own_and_is_timed_in_place(out_of_place, in_place, method):
    new, written = last_layer(out_of_place, method), last_layer(in_place, method)
    assert written.op == new.op
    assert written.config.get("inplace") is True and "inplace" not in new.config
    assert written.config_id("cpu") != new.config_id("cpu")
    args = _materialise(written.call.args, "cpu", [])
    kwargs = _materialise(written.call.kwargs, "cpu", [])
    before = args[0].clone()
    result = written.call.target(*args, **kwargs)
    assert result.untyped_storage().data_ptr() == args[0].untyped_storage().data_ptr()  # the call wrote its input
    assert not torch.equal(args[0], before)


@pytest.mark.parametrize("method", ["fx", "hooks"])
def test_flagged_in_place_activations_are_recorded_as_their_in_place_methods(method):
    flagged = last_layer(relu_flagged, method)
    assert flagged.config_id("cpu") == last_layer(relu_flagged_positionally, method).config_id("cpu")
    assert flagged.config_id("cpu") == last_layer(relu_method, method).config_id("cpu")

    def activations(x, _):
        y = x * 1.0
        F.relu6(y, inplace=True)
        F.silu(y, inplace=True)
        F.hardswish(y, inplace=True)
        F.leaky_relu(y, 0.1, inplace=True)
        F.elu(y, inplace=True)
        return F.dropout(y, 0.5, training=False, inplace=True)  # returns its input: writes nothing

    layers = extract(Calls(activations), torch.randn(1, 4, 3, 3), method=method)
    assert [layer.op for layer in layers] == ["mul", "relu6", "silu", "hardswish", "leakyrelu", "elu"]
    assert all(layer.config["inplace"] for layer in layers[1:])
    assert layers[4].config["kwargs"] == {"negative_slope": 0.1}


def copies(x, index):
    kept = x.contiguous()[:, 1:3].to(torch.float32)[0]  # already contiguous, same dtype, basic slices: views
    permuted = x.permute(0, 2, 3, 1).contiguous()
    wider = permuted.to(torch.float64)
    picked = x[:, index]
    return kept, wider, picked, x[x > 0], x.clone()


@pytest.mark.parametrize("method", ["fx", "hooks"])
def test_copies_are_recorded_and_views_are_not(method):
    x = torch.randn(2, 4, 3, 5)
    layers = extract(Calls(copies), x, torch.tensor([0, 2, 2]), method=method)
    assert [layer.op for layer in layers] == ["contiguous", "to", "getitem", "gt", "getitem", "clone"]
    contiguous, to, picked, _, masked, clone = layers
    assert contiguous.config["input_strides"] == [60, 5, 1, 15]
    assert (contiguous.flops, contiguous.input_bytes, contiguous.output_bytes) == (0, x.nbytes, x.nbytes)
    assert (to.flops, to.output_bytes) == (0, 2 * x.nbytes)
    assert picked.config["output_shape"] == [2, 3, 3, 5] and masked.flops == clone.flops == 0
    # timed alone, the copy gets the permuted layout it copied in the network, not an input already in order
    (made,) = _materialise(contiguous.call.args, "cpu", [])
    assert made.stride() == (60, 5, 1, 15)
    assert contiguous.call.target(made).untyped_storage().data_ptr() != made.untyped_storage().data_ptr()


def views_and_copies(x, _):
    y = x.permute(0, 2, 3, 1).contiguous() + x.contiguous().permute(0, 2, 3, 1)
    y += 1.0
    z = F.relu(y[:, 1:].to(torch.float64), inplace=True)
    return z.to(torch.float64).float().clone()


def test_copies_and_in_place_calls_give_the_same_records_on_meta():
    real, _ = run_and_extract(Calls(views_and_copies), (3, 4, 5), 2)
    trace = trace_layers(Calls(views_and_copies), (3, 4, 5), 2)
    assert trace.tensors == "meta", trace.reason
    assert [layer.op for layer in real] == ["contiguous", "add", "add", "to", "relu", "float", "clone"]
    assert [layer.facts() for layer in trace.layers] == [layer.facts() for layer in real]


class Positions(nn.Module):
    def forward(self, x):
        return x + torch.arange(x.shape[-1]).to(x.device).to(x.dtype) + torch.zeros(x.shape).to(x.device, torch.bool)


def test_a_tensor_moved_to_its_networks_device_is_no_copy_on_meta_as_on_the_host():
    real, _ = run_and_extract(Positions(), (4, 8), 2)
    trace = trace_layers(Positions(), (4, 8), 2)
    assert trace.tensors == "meta", trace.reason
    assert [layer.op for layer in real] == ["arange", "to", "add", "zeros", "to", "add"]
    assert [layer.facts() for layer in trace.layers] == [layer.facts() for layer in real]
