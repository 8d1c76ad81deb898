"""Blocks met before on meta tensors are recalled, not run again, and give the records a real run gives."""

import pytest
import torch
import torch.nn as nn

from hwprof.models import layers, recall
from hwprof.models.layers import run_and_extract
from hwprof.models.spec import resolve_model
from hwprof.models.tracing import trace_layers


class Residual(nn.Module):
    """A block with functional ops of its own (not torch.nn leaves, so only a block memo can skip them)."""

    def __init__(self, width: int, scale=2) -> None:
        super().__init__()
        self.linear = nn.Linear(width, width)
        self.scale = scale

    def forward(self, x):
        return x + torch.tanh(self.linear(x)) * self.scale


class Tower(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.blocks = nn.Sequential(*[Residual(16) for _ in range(4)])
        self.widen = nn.Linear(16, 32)
        self.wide = nn.Sequential(Residual(32), Residual(32))

    def forward(self, x):
        return self.wide(self.widen(self.blocks(x)))


@pytest.fixture
def functional_calls(monkeypatch):
    """How many functional ops the meta trace ran (recalled blocks run none)."""
    calls = []
    original = layers._FxRecorder.call_function

    def counted(self, target, args, kwargs):
        calls.append(target)
        return original(self, target, args, kwargs)

    monkeypatch.setattr(layers._FxRecorder, "call_function", counted)
    return calls


def test_repeated_blocks_are_recalled_with_the_records_of_a_real_run(functional_calls):
    recall.forget()
    real, _ = run_and_extract(Tower(), (16,), 3)
    assert len(functional_calls) == 6 * 3  # a real run runs every block
    functional_calls.clear()
    first = trace_layers(Tower(), (16,), 3)
    ran_first = len(functional_calls)
    again = trace_layers(Tower(), (16,), 3)
    for trace in (first, again):
        assert trace.tensors == "meta"
        assert [layer.facts() for layer in trace.layers] == [layer.facts() for layer in real]
    # three functional ops per block: the first block of each width runs, the other four are recalled
    assert ran_first == 2 * 3
    assert len(functional_calls) == ran_first  # a second network of the same blocks runs none of them


def test_another_batch_size_is_traced_not_recalled():
    recall.forget()
    trace_layers(Tower(), (16,), 3)
    traced = trace_layers(Tower(), (16,), 5)
    real, _ = run_and_extract(Tower(), (16,), 5)
    assert [layer.facts() for layer in traced.layers] == [layer.facts() for layer in real]


class Scaled(nn.Module):
    """Two blocks whose graphs differ only in a constant's type: x * 2 keeps integers, x * 2.0 does not."""

    def __init__(self) -> None:
        super().__init__()
        self.first = Residual(4, scale=2)
        self.second = Residual(4, scale=2.0)

    def forward(self, x):
        return self.first.linear(x), self.first(x), self.second(x)


def test_a_constant_of_another_type_is_another_block():
    recall.forget()
    traced = trace_layers(Scaled(), (4,), 2)
    real, _ = run_and_extract(Scaled(), (4,), 2)
    assert [layer.facts() for layer in traced.layers] == [layer.facts() for layer in real]
    fingerprints = {key[0] for key in recall._BLOCKS}
    assert len(fingerprints) == 2


class Reshaper(nn.Module):
    """A block whose result is a view of its input: such a result cannot be made afresh, so it is not kept."""

    def forward(self, x):
        return x.flatten(1).unflatten(1, (2, -1))


def test_a_block_that_hands_on_a_view_of_its_input_is_not_remembered():
    recall.forget()
    model = nn.Sequential(nn.Sequential(Reshaper(), nn.ReLU()), Reshaper(), Reshaper())
    traced = trace_layers(model, (4, 3), 2)
    real, _ = run_and_extract(model, (4, 3), 2)
    assert [layer.facts() for layer in traced.layers] == [layer.facts() for layer in real]
    assert len(recall._BLOCKS) == 1  # the outer Sequential, whose ReLU makes a tensor of its own


def test_a_module_with_a_hook_or_real_weights_has_no_signature():
    with torch.device("meta"):
        hooked, plain = nn.Linear(4, 4), nn.Linear(4, 4)
    hooked.register_forward_hook(lambda *args: None)
    assert recall.signature(hooked) is None
    assert recall.signature(nn.Linear(4, 4)) is None  # real weights: not prediction's meta path
    assert recall.signature(plain) == recall.signature(plain) is not None


OTHER_CELL = "nb201:|nor_conv_1x1~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|none~2|"
CELL = "nb201:|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|"


@pytest.mark.parametrize(
    "before, name", [("resnet50", "resnet18"), ("vit_small_patch", "vit_tiny"), (OTHER_CELL, CELL)]
)
def test_networks_traced_after_others_give_their_real_records(before, name):
    """Blocks remembered from one network (another cell, another model) serve the next one only where the
    key matches: each network's records equal its real run's."""
    recall.forget()
    earlier = resolve_model(before)
    trace_layers(earlier.module, earlier.input_shape, 2)
    spec = resolve_model(name)
    traced = trace_layers(spec.module, spec.input_shape, 2)
    real, _ = run_and_extract(spec.module, spec.input_shape, 2)
    assert traced.tensors == "meta"
    assert [layer.facts() for layer in traced.layers] == [layer.facts() for layer in real]


class Pair(nn.Module):
    def forward(self, x):
        return torch.tanh(x) * 2, torch.sigmoid(x) + 1


class ReadsMoreTheSecondTime(nn.Module):
    """The same block twice, the network reading one of its results the first time and both the second."""

    def __init__(self) -> None:
        super().__init__()
        self.first, self.second = Pair(), Pair()

    def forward(self, x):
        a, _ = self.first(x)
        c, d = self.second(x)
        return a + c + d


def test_a_block_whose_other_results_are_read_is_another_block():
    recall.forget()
    traced = trace_layers(ReadsMoreTheSecondTime(), (5,), 2)
    real, _ = run_and_extract(ReadsMoreTheSecondTime(), (5,), 2)
    assert traced.tensors == "meta"  # not a failed recall sending it to real tensors
    assert [layer.facts() for layer in traced.layers] == [layer.facts() for layer in real]


class SameThenAlike(nn.Module):
    """Two alike leaves, one fed one tensor twice, the other two tensors alike."""

    def __init__(self) -> None:
        super().__init__()
        self.first = nn.Bilinear(8, 8, 8)
        self.second = nn.Bilinear(8, 8, 8)

    def forward(self, x):
        h = self.first(x, x)
        return self.second(h, h + 1)


def test_a_leaf_fed_one_tensor_twice_is_not_recalled_for_two_alike_tensors():
    recall.forget()
    traced = trace_layers(SameThenAlike(), (8,), 2)
    real, _ = run_and_extract(SameThenAlike(), (8,), 2)
    assert traced.tensors == "meta"
    assert [layer.facts() for layer in traced.layers] == [layer.facts() for layer in real]
    bilinear = [layer for layer in traced.layers if layer.op == "bilinear"]
    assert [layer.config.get("repeated_inputs") for layer in bilinear] == [1, None]


def test_a_leaf_result_holding_an_input_or_one_storage_twice_is_not_remembered():
    recall.forget()
    x, y = torch.empty(2, 3, device="meta"), torch.empty(2, 3, device="meta")
    recall.remember_leaf(("input",), "layer", (torch.empty(2, device="meta"), x[0]), [x])
    recall.remember_leaf(("view",), "layer", (y, y.view(3, 2)), [x])
    recall.remember_leaf(("own",), "layer", (y, (torch.empty(1, device="meta"), None)), [x])
    assert list(recall._LEAVES) == [("own",)]
    layer, spec = recall.recall_leaf(("own",))
    output, (state, nothing) = recall.make_value(spec)
    assert output.shape == (2, 3) and state.shape == (1,) and nothing is None


def test_blocks_are_planned_alike_from_the_module_stacks_older_torch_notes():
    """torch < 2.2 notes nn_module_stack as {path: type}, not {key: (path, type)}: planning unpacked pairs and
    failed there, so every trace for prediction fell back to hooks and NB-201 cells could not be predicted."""
    import torch.fx as fx

    net = nn.Sequential(*(nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 4)) for _ in range(2)))
    nodes = list(fx.symbolic_trace(net).graph.nodes)
    planned = {start: [(b.start, b.end, b.modules) for b in blocks] for start, blocks in recall.plan(nodes).items()}
    assert planned == {1: [(1, 3, ("0.0", "0.1", "0.2"))], 4: [(4, 6, ("1.0", "1.1", "1.2"))]}
    for node in nodes:  # as torch 2.1 notes them
        stack = node.meta.get("nn_module_stack")
        if stack:
            node.meta["nn_module_stack"] = {path: kind for path, kind in stack.values()}
    old = {start: [(b.start, b.end, b.modules) for b in blocks] for start, blocks in recall.plan(nodes).items()}
    assert old == planned
