"""A dynamically quantized LSTM, GRU or recurrent cell (torch.ao.quantization.quantize_dynamic) does its float
form's work on packed int8 or float16 weights: its layer has the float layer's MACs and params, the bytes of
the weights as held, and their dtype in its config."""

import warnings

import pytest
import torch
import torch.nn as nn

from hwprof.models.layers import extract_layers_from_example, module_weights
from hwprof.models.tracing import trace_layers


class Recurrent(nn.Module):
    def __init__(self, layer):
        super().__init__()
        self.layer = layer
        self.fc = nn.Linear(layer.hidden_size * (2 if getattr(layer, "bidirectional", False) else 1), 10)

    def forward(self, x):
        y = self.layer(x)
        return self.fc(y[0] if isinstance(y, tuple) else y)


LAYERS = {  # (the float layer, one sample's input shape)
    "lstm": (lambda: nn.LSTM(32, 64, num_layers=2, bidirectional=True, batch_first=True), (16, 32)),
    "gru": (lambda: nn.GRU(32, 64, batch_first=True), (16, 32)),
    "lstmcell": (lambda: nn.LSTMCell(32, 64), (32,)),
    "grucell": (lambda: nn.GRUCell(32, 64), (32,)),
}


def quantized(module, dtype):
    with warnings.catch_warnings():  # torch.ao.quantization's deprecation notices
        warnings.simplefilter("ignore")
        return torch.ao.quantization.quantize_dynamic(module, {type(module.layer), nn.Linear}, dtype=dtype)


@pytest.mark.parametrize("dtype", [torch.qint8, torch.float16])
@pytest.mark.parametrize("op", sorted(LAYERS))
def test_a_quantized_recurrent_layer_does_its_float_forms_work(op, dtype):
    make, sample = LAYERS[op]
    torch.manual_seed(0)
    float_module = Recurrent(make()).eval()
    module = quantized(Recurrent(make()).eval(), dtype)
    x = torch.randn(2, *sample)
    (plain, _), _ = extract_layers_from_example(float_module, (x,), {})
    (layer, _), _ = extract_layers_from_example(module, (x,), {})
    weights = sum(p.numel() for name, p in float_module.layer.named_parameters() if name.startswith("weight"))
    biases = sum(p.numel() for name, p in float_module.layer.named_parameters() if name.startswith("bias"))
    held = torch.empty(0, dtype=dtype).element_size()
    assert (layer.op, layer.flops, layer.params) == (op, plain.flops, plain.params)
    assert layer.weight_bytes == weights * held + biases * 4
    assert layer.config["weight_dtype"] == str(dtype).removeprefix("torch.")
    parameters, _ = module_weights(module)  # the network row's params
    assert sum(p.numel() for p in parameters) == sum(p.numel() for p in float_module.parameters())


def test_prediction_records_it_alike():
    make, sample = LAYERS["lstm"]
    module = quantized(Recurrent(make()).eval(), torch.qint8)
    real, _ = extract_layers_from_example(module, (torch.randn(2, *sample),), {})
    trace = trace_layers(module, sample, 2)
    assert [layer.facts() for layer in trace.layers] == [layer.facts() for layer in real]
