"""Layer extraction: order, shapes and multiply-accumulates computed by hand."""

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from hwprof.models.layers import extract_layers


def only(module, input_shape, batch_size=1):
    layers, method = extract_layers(module, input_shape, batch_size)
    assert method == "fx"
    return layers


@pytest.mark.parametrize(
    "conv, shape, batch, macs",
    [
        # out elements x (in channels / groups) x kernel area
        (nn.Conv2d(3, 8, 3, padding=1), (3, 16, 16), 1, 8 * 16 * 16 * 3 * 9),
        (nn.Conv2d(8, 16, 3, padding=1, groups=4), (8, 10, 10), 2, 2 * 16 * 10 * 10 * 2 * 9),
        (nn.Conv2d(8, 8, 3, stride=2, padding=1, groups=8), (8, 16, 16), 1, 8 * 8 * 8 * 1 * 9),
        (nn.Conv2d(4, 6, (1, 5)), (4, 7, 9), 3, 3 * 6 * 7 * 5 * 4 * 5),
    ],
)
def test_convolution_macs(conv, shape, batch, macs):
    (layer,) = only(nn.Sequential(conv), shape, batch)
    assert layer.op == "conv2d"
    assert layer.flops == macs
    assert layer.params == sum(p.numel() for p in conv.parameters())
    assert layer.config["groups"] == conv.groups
    assert layer.config["input_shapes"] == [[batch, *shape]]


def test_linear_macs_over_leading_dimensions():
    (layer,) = only(nn.Sequential(nn.Linear(20, 30)), (5, 20), 2)
    assert layer.flops == 2 * 5 * 20 * 30
    assert layer.output_bytes == 2 * 5 * 30 * 4
    assert layer.weight_bytes == (20 * 30 + 30) * 4


@pytest.mark.parametrize(
    "pool, shape, macs",
    [
        (nn.MaxPool2d(2), (4, 8, 8), 4 * 4 * 4 * 4),
        (nn.AvgPool2d(3, stride=1, padding=1), (2, 5, 5), 2 * 5 * 5 * 9),
        (nn.AdaptiveAvgPool2d(1), (6, 7, 7), 6 * 7 * 7),
    ],
)
def test_pooling_macs(pool, shape, macs):
    (layer,) = only(nn.Sequential(pool), shape)
    assert layer.flops == macs


class SelfAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.attention = nn.MultiheadAttention(16, 4, batch_first=True)

    def forward(self, x):
        out, _ = self.attention(x, x, x, need_weights=False)
        return out


def test_attention_macs():
    (layer,) = only(SelfAttention(), (10, 16), 2)
    assert layer.op == "multiheadattention"
    # q, k, v projections 3*L*E^2, scores L*S*E, weighted values L*S*E, output projection L*E^2; per batch item
    assert layer.flops == 2 * (3 * 10 * 16 * 16 + 2 * 10 * 10 * 16 + 10 * 16 * 16)
    assert layer.params == 4 * 16 * 16 + 4 * 16


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 3, padding=1)
        self.relu = nn.ReLU()
        self.fc = nn.Linear(8 * 16, 5)

    def forward(self, x):
        y = self.relu(self.conv(x)) + x
        y = torch.cat([y, x], dim=1)
        tokens = y.flatten(2)  # (N, 8, 16)
        scores = torch.softmax(tokens @ tokens.transpose(1, 2), dim=-1)
        return self.fc(torch.flatten(scores @ tokens, 1))


class BlockWithBranch(Block):
    """The same work behind data-dependent control flow, which torch.fx cannot trace."""

    def forward(self, x):
        if x.shape[0] > 0:
            return super().forward(x)
        return x


EXPECTED_OPS = ["conv2d", "relu", "add", "cat", "flatten", "matmul", "softmax", "matmul", "flatten", "linear"]


def test_functional_ops_in_order_with_shapes_and_views_left_out():
    layers = only(Block(), (4, 4, 4), 2)
    assert [layer.op for layer in layers] == EXPECTED_OPS
    assert [layer.index for layer in layers] == list(range(len(layers)))
    cat = layers[3]
    assert cat.config["input_shapes"] == [[2, 4, 4, 4], [2, 4, 4, 4]]
    assert cat.config["output_shape"] == [2, 8, 4, 4]
    first_matmul = layers[5]
    assert first_matmul.config["output_shape"] == [2, 8, 8]
    assert first_matmul.flops == 2 * 8 * 8 * 16


def test_untraceable_model_falls_back_to_hooks_and_finds_the_same_layers():
    traced = only(Block(), (4, 4, 4), 2)
    hooked, method = extract_layers(BlockWithBranch(), (4, 4, 4), 2)
    assert method == "hooks"
    assert [layer.op for layer in hooked] == EXPECTED_OPS
    assert [layer.flops for layer in hooked] == [layer.flops for layer in traced]
    assert [layer.config["output_shape"] for layer in hooked] == [layer.config["output_shape"] for layer in traced]


def test_layers_run_alone_on_synthetic_inputs_of_the_recorded_shapes():
    for layer in only(Block(), (4, 4, 4), 3):
        with torch.no_grad():
            output = layer.call.bind("cpu")()
        assert list(output.shape) == layer.config["output_shape"]


def test_identical_configurations_share_an_id_and_different_shapes_do_not():
    net = nn.Sequential(nn.Conv2d(4, 4, 3, padding=1), nn.Conv2d(4, 4, 3, padding=1), nn.Conv2d(4, 4, 3, stride=2))
    first, second, third = only(net, (4, 9, 9))
    assert first.config_id("cpu") == second.config_id("cpu")
    assert first.config_id("cpu") != third.config_id("cpu")
    assert first.config_id("cpu") != first.config_id("cuda:0")


class Tokens(nn.Module):
    """Keyword inputs: recorded through hooks, whose embedding reads the range of its token ids."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(50, 8)
        self.linear = nn.Linear(8, 4)

    def forward(self, input_ids):
        return self.linear(self.embed(input_ids))


def test_reading_an_embeddings_token_range_is_not_a_layer_of_the_network():
    from hwprof.models.layers import extract_layers_from_example

    ids = torch.randint(3, 40, (2, 5))
    layers, method = extract_layers_from_example(Tokens(), (), {"input_ids": ids})
    assert method == "hooks"
    assert [layer.op for layer in layers] == ["embedding", "linear"]
    assert layers[0].call.args[0].value_range == (int(ids.min()), int(ids.max()) + 1)


class CrossAttention(nn.Module):
    """The same attention module as SelfAttention, fed a second sequence as keys and values."""

    def __init__(self):
        super().__init__()
        self.attention = nn.MultiheadAttention(16, 2, batch_first=True)

    def forward(self, x):
        return self.attention(x, x * 2, x * 3, need_weights=False)[0]


def test_one_tensor_passed_as_several_inputs_is_recorded_and_run_as_one():
    (self_attention,) = only(SelfAttention(), (10, 16), 2)
    assert self_attention.config["repeated_inputs"] == 2
    query, key, value = self_attention.call.args
    assert query.same_as is None and key.same_as == 0 and value.same_as == 0
    seen = []
    self_attention.call.target.register_forward_pre_hook(lambda module, args: seen.append(args))
    self_attention.call.bind("cpu")()
    assert seen[0][0] is seen[0][1] is seen[0][2]  # torch's self-attention path sees one tensor, as in the network

    cross = [layer for layer in only(CrossAttention(), (10, 16), 2) if layer.op == "multiheadattention"][0]
    assert "repeated_inputs" not in cross.config
    assert cross.config_id("cpu") != self_attention.config_id("cpu")
    assert [arg.same_as for arg in cross.call.args] == [None, None, None]


class OptionalMask(nn.Module):
    """A Hugging Face-style forward: inputs left out take their defaults, and a branch reads one."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(50, 8)
        self.linear = nn.Linear(8, 4)

    def forward(self, input_ids, attention_mask=None, scale=1.0):
        hidden = self.embed(input_ids)
        if attention_mask is not None:
            hidden = hidden * attention_mask.unsqueeze(-1)
        return self.linear(hidden) * scale


def test_inputs_left_at_their_defaults_are_traced_as_the_run_takes_them():
    from hwprof.models.layers import extract_layers_from_example

    tokens = torch.randint(0, 50, (2, 6))
    layers, method = extract_layers_from_example(OptionalMask(), (tokens,), {})
    assert method == "fx"
    assert [layer.op for layer in layers] == ["embedding", "linear", "mul"]
    masked, _ = extract_layers_from_example(OptionalMask(), (tokens, torch.ones(2, 6)), {})
    assert [layer.op for layer in masked] == ["embedding", "mul", "linear", "mul"]


def test_a_graph_that_traced_but_does_not_run_falls_back_to_hooks(monkeypatch):
    from hwprof.models import layers as layers_module

    def failing_run(self, *args):  # as a graph whose traced branch the inputs cannot take
        raise RuntimeError("graph does not run")

    monkeypatch.setattr(layers_module._FxRecorder, "run", failing_run)
    found, method = layers_module.extract_layers_from_example(nn.Sequential(nn.Linear(4, 4)), (torch.randn(2, 4),), {})
    assert method == "hooks"
    assert [layer.op for layer in found] == ["linear"]


class BatchNormAct(nn.BatchNorm2d):
    """timm.layers.BatchNormAct2d's way: F.batch_norm called by the module itself, then its activation."""

    def __init__(self, channels):
        super().__init__(channels)
        self.act = nn.ReLU()

    def forward(self, x):
        x = F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, False, self.momentum, self.eps)
        return self.act(x)


class SqueezeExcite(nn.Module):
    """timm's squeeze-excite pools with a mean over height and width, not an nn.AdaptiveAvgPool2d."""

    def __init__(self, keepdim=True):
        super().__init__()
        self.keepdim = keepdim
        self.gate = nn.Sigmoid()

    def forward(self, x):
        pooled = x.mean((2, 3), keepdim=self.keepdim)
        return self.gate(pooled if self.keepdim else pooled[..., None, None])


class Branching(nn.Module):
    """Python control flow on a value: fx cannot trace it, so hooks record its layers."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        return self.inner(x) if x.sum() > -1e9 else x


def facts(layers):
    return [(layer.op, layer.config, layer.flops, layer.params, *layer.facts()[5:]) for layer in layers]


@pytest.mark.parametrize("untraceable", [False, True])
@pytest.mark.parametrize(
    "zoo, standard",
    [
        (BatchNormAct(8), nn.Sequential(nn.BatchNorm2d(8), nn.ReLU())),
        (SqueezeExcite(), nn.Sequential(nn.AdaptiveAvgPool2d((1, 1)), nn.Sigmoid())),
        (SqueezeExcite(keepdim=False), nn.Sequential(nn.AdaptiveAvgPool2d((1, 1)), nn.Sigmoid())),
    ],
)
def test_a_zoo_module_doing_a_standard_modules_work_is_recorded_as_that_module(zoo, standard, untraceable):
    """batchnorm2d and adaptiveavgpool2d have layer models and sweeps; 'batchnorm' and 'mean' had none, and counted
    the running statistics as inputs and a mean's MACs as one per output."""
    wrap = Branching if untraceable else nn.Sequential
    zoo_layers, zoo_method = extract_layers(wrap(zoo), (8, 6, 6), 2)
    standard_layers, _ = extract_layers(wrap(standard), (8, 6, 6), 2)
    assert zoo_method == ("hooks" if untraceable else "fx")
    assert facts(zoo_layers) == facts(standard_layers)
    for layer in zoo_layers:
        with torch.no_grad():
            assert list(layer.call.bind("cpu")().shape) == layer.config["output_shape"]


def test_a_mean_that_is_no_global_pool_stays_a_mean():
    class Means(nn.Module):
        def forward(self, x):
            return x.mean(1), x.mean((1, 2, 3)), x.mean(-1, keepdim=True)

    assert [layer.op for layer in only(Means(), (8, 6, 6))] == ["mean", "mean", "mean"]


class Masked(nn.Module):
    """A float layer beside integer and boolean ops on the positions and the mask."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(8, 8)

    def forward(self, x, mask):
        positions = torch.arange(x.shape[1], device=x.device) + 1
        keep = (mask == 1).sum(-1) + positions.sum()
        return self.linear(x) * keep[:, None, None]


def test_integer_ops_keep_their_config_id_across_float_dtypes_and_float_layers_do_not():
    """As the README says: a layer's dtype is in its config, and an integer op is the same work in every run."""
    from hwprof.models.layers import extract_layers_from_example

    def ids(dtype):
        module = Masked().to(dtype)
        layers, _ = extract_layers_from_example(
            module, (torch.randn(2, 4, 8, dtype=dtype), torch.ones(2, 4, dtype=torch.int64)), {}
        )
        return {layer.name: (layer.config_id("cpu"), layer.config.get("dtype")) for layer in layers}

    single, half = ids(torch.float32), ids(torch.bfloat16)
    assert single.keys() == half.keys()
    for name in single:
        (single_id, single_dtype), (half_id, half_dtype) = single[name], half[name]
        assert (single_id == half_id) == (single_dtype == half_dtype), name
    assert single["linear"][0] != half["linear"][0]
    assert any(single[name][0] == half[name][0] for name in single)  # the integer ops
