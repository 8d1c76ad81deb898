"""Matrix products beyond matmul, bmm and addmm count their inner products, not their output's elements:
torch.mv, addmv, dot, vdot, inner, addbmm, F.bilinear and torch.linalg.multi_dot (in the order torch picks)."""

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from hwprof.models.layers import extract_layers_from_example
from hwprof.models.tracing import trace_layers


class Call(nn.Module):
    """fn(x, *weights), with the weights as parameters."""

    def __init__(self, fn, *weights):
        super().__init__()
        self.fn = fn
        self.weights = len(weights)
        for at, weight in enumerate(weights):
            self.register_parameter(f"w{at}", nn.Parameter(weight))

    def forward(self, x):
        return self.fn(x, *(getattr(self, f"w{at}") for at in range(self.weights)))


CASES = {  # (fn, weights, one sample's input shape, MACs at batch size 2)
    "mv": (lambda x, w: torch.mv(w, x[0]), [(20, 32)], (32,), 20 * 32),
    "addmv": (lambda x, w, b: torch.addmv(b, w, x[0]), [(20, 32), (20,)], (32,), 20 * 32),
    "dot": (lambda x, w: torch.dot(x[0], w), [(32,)], (32,), 32),
    "vdot": (lambda x, w: torch.vdot(x[0], w), [(32,)], (32,), 32),
    "inner": (lambda x, w: torch.inner(x, w), [(5, 32)], (4, 32), 2 * 4 * 5 * 32),
    "addbmm": (lambda x, w, b: torch.addbmm(b, x, w), [(2, 32, 20), (10, 20)], (10, 32), 2 * 10 * 32 * 20),
    "bilinear": (lambda x, w: F.bilinear(x, x, w), [(20, 32, 32)], (32,), 2 * 20 * 32 * 32),
    # (2 x 32)(32 x 100) first, then by 5 and by 50: 6400 + 1000 + 500; any other order costs more
    "linalgmultidot": (
        lambda x, a, b, c: torch.linalg.multi_dot([x, a, b, c]),
        [(32, 100), (100, 5), (5, 50)],
        (32,),
        7900,
    ),
}


@pytest.mark.parametrize("op", sorted(CASES))
def test_a_matrix_product_counts_its_inner_products(op):
    fn, shapes, sample, macs = CASES[op]
    module = Call(fn, *(torch.randn(shape) for shape in shapes)).eval()
    x = torch.randn(2, *sample)
    real, method = extract_layers_from_example(module, (x,), {})
    meta = trace_layers(module, sample, 2)
    assert (method, meta.tensors) == ("fx", "meta")
    assert [(layer.op, layer.flops) for layer in real] == [(op, macs)]
    assert [layer.facts() for layer in meta.layers] == [layer.facts() for layer in real]
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module(x)
    assert counter.get_total_flops() // 2 in (0, macs)  # where FlopCounterMode has a formula, it agrees
