"""Recurrent layers are predicted as fast as a convolution: on meta their results are made from their shapes,
not by torch's step-by-step decomposition, and an LSTM met before at the same shapes is recalled."""

import pytest
import torch
import torch.nn as nn
from torch.utils._python_dispatch import TorchDispatchMode

from hwprof.models import recall
from hwprof.models.inputs import SEQ, InputSpec, ModelInputs
from hwprof.models.layers import extract_layers_from_example
from hwprof.models.tracing import trace_layers


class CountedOps(TorchDispatchMode):
    """How many aten ops ran: torch's decomposition of an LSTM on meta runs several per step."""

    def __init__(self):
        super().__init__()
        self.count = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.count += 1
        return func(*args, **(kwargs or {}))


def ops_to_trace(module: nn.Module, steps: int) -> int:
    inputs = ModelInputs((InputSpec(None, torch.float32, (SEQ, 8)),))
    with CountedOps() as counted:
        trace = trace_layers(module, inputs, 2, seq_len=steps)
    assert trace.tensors == "meta"
    return counted.count


@pytest.mark.parametrize(
    "build",
    [
        lambda: nn.LSTM(8, 16, 2, batch_first=True, bidirectional=True),
        lambda: nn.GRU(8, 16, batch_first=True),
        lambda: nn.RNN(8, 16, nonlinearity="relu", batch_first=True),
    ],
)
def test_a_recurrent_layer_costs_as_much_to_trace_on_meta_whatever_its_sequence(build):
    module = build().eval()
    assert ops_to_trace(module, 256) == ops_to_trace(module, 4)


@pytest.mark.parametrize(
    "build, shape",
    [
        (lambda: nn.LSTM(8, 16, 2, batch_first=True, bidirectional=True), (7, 8)),
        (lambda: nn.LSTM(8, 16, 2, proj_size=4), (7, 8)),
        (lambda: nn.GRU(8, 16, bidirectional=True), (8,)),  # unbatched
        (lambda: nn.RNN(8, 16, nonlinearity="relu", batch_first=True), (7, 8)),
    ],
)
def test_recurrent_results_made_from_shapes_are_laid_out_as_a_real_run_lays_them_out(build, shape):
    module = build().eval()

    class Reads(nn.Module):
        """Reads every result of the layer, so a wrong shape or layout would change the records after it."""

        def __init__(self):
            super().__init__()
            self.rnn = module

        def forward(self, x):
            output, state = self.rnn(x)
            states = state if isinstance(state, tuple) else (state,)
            return [output.reshape(-1)] + [s.reshape(-1) for s in states]

    traced = trace_layers(Reads(), ModelInputs.from_shape(shape), 3)
    real, _ = extract_layers_from_example(Reads().eval(), (torch.randn(3, *shape),), {})
    assert traced.tensors == "meta"
    assert [layer.facts() for layer in traced.layers] == [layer.facts() for layer in real]


class TwoLstms(nn.Module):
    """Two alike LSTMs on one input (a search space's two branches)."""

    def __init__(self):
        super().__init__()
        self.first = nn.LSTM(8, 8, batch_first=True)
        self.second = nn.LSTM(8, 8, batch_first=True)

    def forward(self, x):
        return self.first(x)[0] + self.second(x)[0]


def test_an_lstm_met_before_at_the_same_shapes_is_recalled_not_run(monkeypatch):
    recall.forget()
    module = TwoLstms().eval()
    real, _ = extract_layers_from_example(module, (torch.randn(2, 5, 8),), {})
    runs = []
    forward = nn.LSTM.forward
    monkeypatch.setattr(nn.LSTM, "forward", lambda self, *args: runs.append(self) or forward(self, *args))
    traced = trace_layers(module, ModelInputs.from_shape((5, 8)), 2)
    assert len(runs) == 1  # the second LSTM, alike, is recalled with its tuple of results
    assert [layer.facts() for layer in traced.layers] == [layer.facts() for layer in real]
    assert [layer.facts() for layer in trace_layers(module, ModelInputs.from_shape((5, 8)), 2).layers] == [
        layer.facts() for layer in real
    ]
    assert len(runs) == 1  # and both again in the next trace
