"""Tracing on meta tensors gives the layer records a real forward pass gives, without running one."""

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from hwprof.errors import HwprofError
from hwprof.models.layers import extract_layers, run_and_extract
from hwprof.models.spec import resolve_model
from hwprof.models.tracing import meta_copy, trace_layers
from hwprof.sample_models import MODELS

CELL = "nb201:|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_3x3~1|none~2|"
QUICK = {"mlp", "mlp_large", CELL}


def as_measured(module, channels_last):
    """The module as `measure --channels-last` runs it: its weights NHWC too, not only its inputs."""
    return module.to(memory_format=torch.channels_last) if channels_last else module


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=() if n in QUICK else pytest.mark.slow) for n in [*MODELS, CELL]]
)
@pytest.mark.parametrize("channels_last", [False, True])
def test_meta_trace_matches_real_trace_for_every_built_in(name, channels_last):
    spec = resolve_model(name)
    if channels_last and len(spec.input_shape) != 3:
        pytest.skip("channels-last is a layout of images")
    real, real_method = run_and_extract(
        as_measured(spec.module, channels_last), spec.input_shape, 2, channels_last=channels_last
    )
    with torch.device("meta"):
        meta_spec = resolve_model(name)
    trace = trace_layers(meta_spec.module, spec.input_shape, 2, channels_last=channels_last)
    assert trace.tensors == "meta"
    assert trace.method == real_method
    assert [layer.facts() for layer in trace.layers] == [layer.facts() for layer in real]


class Functional(nn.Module):
    """Functional ops the meta path answers by shape, in-place ones included."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.register_buffer("mean", torch.zeros(8))
        self.register_buffer("var", torch.ones(8))

    def forward(self, x):
        x = self.conv(x)
        x = F.batch_norm(x, self.mean, self.var)
        x = F.relu(x, True)
        x = F.hardtanh(x, 0.0, 6.0)
        x = F.layer_norm(x, x.shape[-2:])
        x = F.gelu(x) + torch.sigmoid(x)
        x = F.dropout(x, 0.1, training=False) + F.dropout(x, p=0.0)  # each returns its input: no layer
        return F.silu(x).flatten(1)


def test_functional_ops_give_the_same_records_on_meta():
    model = Functional()
    real, _ = extract_layers(model, (3, 12, 12), 3)
    trace = trace_layers(model, (3, 12, 12), 3)
    assert trace.tensors == "meta"
    assert [layer.facts() for layer in trace.layers] == [layer.facts() for layer in real]


class ShapeRules(nn.Module):
    """Ops whose meta result hwprof makes itself, each beside the cases it leaves to torch."""

    def forward(self, x):
        a = F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)
        b = F.avg_pool2d(x, 2).flatten(1)  # stride from the kernel
        b_ceil = F.avg_pool2d(x, (2, 2), (2, 2), 0, True).flatten(1)  # ceil mode: left to torch
        c = F.adaptive_avg_pool2d(x, (None, 3)) * F.adaptive_avg_pool2d(x, (9, 3)) - F.adaptive_avg_pool2d(x, 1)
        d = a + x[:, :1]  # broadcast
        e = x.half() + x.half()  # another dtype
        f = x.mean((2, 3), keepdim=True) * x.mean((0, 1, 3), keepdim=True) - 0.5  # outer broadcast, a scalar
        g = (x > 0).long() * 2.5 + x.transpose(2, 3) * x  # promotion and a transposed input: left to torch
        return d.flatten(1), b, b_ceil, c.flatten(1), e.flatten(1), f.flatten(1), g.flatten(1), torch.add(a, x).sum()


@pytest.mark.parametrize("channels_last", [False, True])
def test_ops_answered_by_shape_give_the_real_records(channels_last):
    real = trace_layers(ShapeRules(), (4, 9, 9), 2, channels_last=channels_last, rebuild=ShapeRules)
    layers, _ = run_and_extract(ShapeRules(), (4, 9, 9), 2, channels_last=channels_last)
    assert real.tensors == "meta"
    assert [layer.facts() for layer in real.layers] == [layer.facts() for layer in layers]
    assert any("channels_last" in layer.config_json() for layer in real.layers) == channels_last


@pytest.mark.parametrize("channels_last", [False, True])
def test_a_network_traced_again_from_remembered_layers_gives_the_real_records(channels_last):
    from hwprof.models import recall

    spec = resolve_model(CELL)
    real, _ = run_and_extract(as_measured(spec.module, channels_last), spec.input_shape, 2, channels_last=channels_last)
    recall.forget()
    first = trace_layers(spec.module, spec.input_shape, 2, channels_last=channels_last)
    remembered = len(recall._LEAVES)
    again = trace_layers(spec.module, spec.input_shape, 2, channels_last=channels_last)
    assert 0 < remembered == len(recall._LEAVES) < len(real)  # repeated convs are remembered once
    for trace in (first, again):
        assert [layer.facts() for layer in trace.layers] == [layer.facts() for layer in real]


def test_building_on_the_meta_device_initialises_nothing(monkeypatch):
    from hwprof.models.tracing import MetaDevice

    def fail(*args, **kwargs):
        raise AssertionError("a weight was initialised on meta")

    monkeypatch.setattr(torch.Tensor, "uniform_", fail)
    with MetaDevice():
        model = resolve_model("resnet18").module
    assert all(p.is_meta for p in model.parameters())
    assert trace_layers(model, (3, 224, 224), 1).tensors == "meta"
    assert torch.empty(1).device.type == "cpu"  # the context ends with its block


def test_tracing_leaves_the_callers_module_untouched():
    model = nn.Sequential(nn.Linear(6, 4), nn.ReLU())
    before = {k: v.clone() for k, v in model.state_dict().items()}
    trace_layers(model, (6,), 2)
    assert all(not p.is_meta for p in model.parameters())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_meta_copy_copies_no_weight():
    model = nn.Linear(1000, 1000)
    copy = meta_copy(model)
    assert copy.weight.is_meta and copy.bias.is_meta
    assert copy.weight.shape == model.weight.shape
    assert not model.weight.is_meta


class ReadsValues(nn.Module):
    """Control flow on a tensor's value cannot run on meta tensors."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 4)

    def forward(self, x):
        x = self.linear(x)
        return x * 2 if x.sum() > 0 else x - 1


def test_a_model_that_reads_values_falls_back_to_real_tensors_and_says_why():
    trace = trace_layers(ReadsValues(), (4,), 1)
    assert trace.tensors == "real"
    assert "meta" in trace.reason or "item" in trace.reason.lower()
    assert "real tensors" in trace.description
    assert [layer.op for layer in trace.layers][0] == "linear"


@pytest.mark.parametrize("batch_size", [10**12, 10**20])  # beyond any host; beyond int64 elements
def test_a_batch_whose_inputs_cannot_fit_is_refused_before_a_real_forward_pass(batch_size):
    with pytest.raises(HwprofError, match=r"GB for its inputs alone, more than the .* GB of memory available"):
        trace_layers(ReadsValues(), (4,), batch_size, label="reads_values")


def test_a_meta_built_model_that_cannot_run_on_meta_is_rebuilt_with_real_weights():
    with torch.device("meta"):
        model = ReadsValues()
    trace = trace_layers(model, (4,), 1, rebuild=ReadsValues)
    assert trace.tensors == "real"
    with pytest.raises(HwprofError, match="meta device"):
        trace_layers(model, (4,), 1, label="reads_values")


def test_prediction_says_how_the_network_was_traced(tmp_path):
    from hwprof.predictor.records import network_layers

    traced = network_layers(CELL, 4)
    assert traced.traced_on == "meta" and traced.note == ""
    fallback = network_layers(ReadsValues(), 1, (4,))
    assert fallback.traced_on == "real"
    assert "real tensors" in fallback.note


def test_a_prediction_is_named_by_an_input_shape_given_in_place_of_the_models_own():
    from hwprof.predictor.records import network_layers

    assert network_layers("resnet18", 1, (3, 64, 64)).name == "resnet18@input_shape=3x64x64"
    given = network_layers("resnet18", 1, inputs="float32[3,64,64]", dtype="float16")
    assert given.name == "resnet18@input_shape=3x64x64,dtype=float16"
    assert network_layers("mlp", 1, (784,)).name == "mlp"  # its own shape: no suffix, as float32 gets none
    linear = nn.Linear(4, 4)
    assert "@" not in network_layers(linear, 1, (2, 4)).name  # a module with no shape of its own
    linear.input_shape = (4,)
    assert network_layers(linear, 1, (2, 4)).name.endswith("@input_shape=2x4")


def test_a_factory_is_built_once_to_predict_it_at_a_shape_of_its_own(tmp_path):
    """Naming a prediction by its given shape needs the model's default shape, which the first build knows."""
    from hwprof.predictor.records import network_layers

    path = tmp_path / "counted.py"
    path.write_text(
        "import torch.nn as nn\n"
        "BUILDS = []\n"
        "def make():\n"
        "    BUILDS.append(1)\n"
        "    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU())\n"
        "    model.input_shape = (4,)\n"
        "    return model\n"
    )
    from hwprof.models.spec import import_user_file

    builds = import_user_file(path).BUILDS
    assert network_layers(f"{path}:make", 1, (3, 4)).name.endswith(":make@input_shape=3x4")
    assert len(builds) == 1
    assert "@" not in network_layers(f"{path}:make", 2, (4,)).name  # its own shape
    assert len(builds) == 2


class ChecksMask(nn.Module):
    """Reads its mask, as transformers does to skip building an attention mask when no token is padding."""

    def __init__(self, clear_first: bool = False):
        super().__init__()
        self.linear = nn.Linear(4, 4)
        self.clear_first = clear_first

    def forward(self, x, mask):
        if self.clear_first:
            mask[:, :1] = 0
        padded = not bool(mask.to(torch.bool)[:, :3].sum() == mask[:, :3].numel())
        return self.linear(x) * mask if padded else self.linear(x)


def test_a_mask_of_ones_is_read_on_meta_and_gives_the_real_runs_layers():
    from hwprof.models.inputs import InputSpec, ModelInputs

    inputs = ModelInputs((InputSpec(None, torch.float32, (4,)), InputSpec("mask", torch.int64, (4,))))
    trace = trace_layers(ChecksMask(), inputs, 2)
    assert trace.tensors == "meta", trace.reason
    real, _ = run_and_extract(ChecksMask(), inputs, 2)
    assert [layer.facts() for layer in trace.layers] == [layer.facts() for layer in real]
    assert "mul" not in [layer.op for layer in trace.layers]  # no padding: the mask is not applied


def test_a_mask_written_in_place_has_no_known_value_on_meta():
    from hwprof.models.inputs import InputSpec, ModelInputs

    inputs = ModelInputs((InputSpec(None, torch.float32, (4,)), InputSpec("mask", torch.int64, (4,))))
    trace = trace_layers(ChecksMask(clear_first=True), inputs, 2)
    assert trace.tensors == "real"
    assert "mul" in [layer.op for layer in trace.layers]


KNOWN_VALUE_READS = [
    lambda m: bool(m.bool().all()),
    lambda m: int(m.sum()),
    lambda m: bool(m[:, :2].sum() == m[:, :2].numel()),
    lambda m: bool((~m.bool())[:, 0].any()),
    lambda m: int(torch.logical_not(m).sum()),
    lambda m: m.to(torch.float32).amax().item(),
    lambda m: int(m.reshape(-1).unsqueeze(0).t().sum(dim=0)[0]),
    lambda m: bool(torch.full((3,), 7).eq(7).all()) and int(torch.zeros_like(m).max()) == 0,
]


@pytest.mark.parametrize("read", range(len(KNOWN_VALUE_READS)))
@pytest.mark.parametrize("fill", [0, 1])
def test_a_filled_meta_tensor_reads_as_the_real_one_does(read, fill):
    from hwprof.models.tracing import _ShapesOnly

    expression = KNOWN_VALUE_READS[read]
    real = expression(torch.full((2, 5), fill))
    with _ShapesOnly():
        meta = expression(torch.full((2, 5), fill, device="meta"))
    assert meta == real and type(meta) is type(real)


@pytest.mark.parametrize(
    "read",
    [
        lambda m: bool(torch.max(m, torch.randint(0, 3, m.shape, device=m.device)).all()),
        lambda m: int((m + 1).sum()),
        lambda m: bool(m.add_(1).all()),
        lambda m: bool(torch.randint(0, 2, m.shape, device=m.device).all()),
    ],
)
def test_values_meta_cannot_know_are_not_answered(read):
    from hwprof.models.tracing import _ShapesOnly

    with _ShapesOnly(), pytest.raises(RuntimeError, match="meta"):
        read(torch.ones((2, 5), dtype=torch.int64, device="meta"))


def test_the_cyclic_collector_runs_again_after_a_trace_whether_or_not_it_failed():
    import gc

    from hwprof.predictor.records import network_layers

    network_layers("mlp", 3)
    assert gc.isenabled()
    with pytest.raises(HwprofError):
        network_layers(object(), 1)
    assert gc.isenabled()
    gc.disable()
    try:  # a caller who paused it keeps it paused
        network_layers("mlp", 5)
        assert not gc.isenabled()
    finally:
        gc.enable()


class Norms(nn.Module):
    """Normalisations of permuted, transposed and NHWC inputs, each followed by a reshape that is a view only
    where the norm's result is contiguous, as the CPU lays it out (ConvNeXt's and Swin's norms)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(6, 6, 1)
        self.register_buffer("mean", torch.zeros(4))
        self.register_buffer("var", torch.ones(4))

    def forward(self, x):
        nhwc = x.permute(0, 2, 3, 1)
        results = [
            F.layer_norm(nhwc, nhwc.shape[-1:]).reshape(x.shape[0], -1),
            F.batch_norm(nhwc, self.mean, self.var).reshape(x.shape[0], -1),
            F.group_norm(x.flatten(2).transpose(1, 2), 1).reshape(x.shape[0], -1),
            F.instance_norm(x).reshape(x.shape[0], -1),
            self.conv(F.group_norm(x, 2)).flatten(1),
            self.conv(F.layer_norm(x, x.shape[-1:])).flatten(1),
        ]
        if hasattr(F, "rms_norm"):
            results.append(F.rms_norm(nhwc, nhwc.shape[-1:]).reshape(x.shape[0], -1))
        return torch.cat(results, 1)


class Layouts(nn.Module):
    """Convolutions whose CPU result is NHWC or NCHW by the backend torch picks for their input's strides and
    sizes (token sequences reshaped to images, channel slices of NHWC tensors), and attention on a
    (B * H, L, E) query sliced from one projection."""

    def __init__(self):
        super().__init__()
        self.depthwise = nn.Conv2d(8, 8, 3, padding=1, groups=8)
        self.reduce = nn.Conv2d(8, 8, 2, stride=2)
        self.pointwise = nn.Conv2d(4, 4, 1)
        self.qkv = nn.Linear(8, 24)

    def forward(self, x):
        tokens = x.flatten(2).transpose(1, 2)  # (B, HW, C), as a transformer holds an image
        image = tokens.transpose(1, 2).reshape(x.shape)  # back to (B, C, H, W): NHWC strides
        nhwc = x.contiguous(memory_format=torch.channels_last)
        half, _ = nhwc.split(4, dim=1)  # a channel slice of an NHWC tensor
        q, k, v = self.qkv(tokens).reshape(x.shape[0], -1, 3, 2, 4).permute(2, 0, 3, 1, 4).flatten(1, 2).unbind(0)
        attended = F.scaled_dot_product_attention(q, k, v).reshape(x.shape[0], 2, -1, 4).transpose(1, 2)
        return (
            self.depthwise(image).flatten(1),
            self.reduce(image).flatten(1),
            self.pointwise(half).flatten(1),
            attended.reshape(x.shape[0], -1),
        )


@pytest.mark.parametrize("model, shape", [(Norms, (6, 4, 5)), (Layouts, (8, 6, 6))])
@pytest.mark.parametrize("channels_last", [False, True])
def test_results_are_laid_out_on_meta_as_the_cpu_lays_them_out(model, shape, channels_last):
    traced = trace_layers(model(), shape, 2, channels_last=channels_last, rebuild=model)
    real, _ = run_and_extract(as_measured(model(), channels_last), shape, 2, channels_last=channels_last)
    assert traced.tensors == "meta"
    assert [layer.facts() for layer in traced.layers] == [layer.facts() for layer in real]


@pytest.mark.parametrize(
    "name",
    [
        "timm:pvt_v2_b0",  # convolutions of token sequences reshaped to images
        "timm:edgenext_small",  # convolutions of channel slices of NHWC tensors
        "torchvision:resnet18",
        "torchvision:convnext_tiny",  # norms of permuted inputs
        "torchvision:swin_t",
        "timm:vit_tiny_patch16_224",  # attention on a query sliced from one projection
        "timm:efficientnet_b0",
    ],
)
def test_zoo_models_traced_on_meta_give_their_real_records(name):
    pytest.importorskip(name.split(":")[0])
    from hwprof.models import recall
    from hwprof.models.tracing import MetaDevice

    spec = resolve_model(name)
    real, method = run_and_extract(spec.module, spec.model_inputs, 1)
    with MetaDevice():
        meta_module = resolve_model(name).module
    recall.forget()
    for _ in range(2):  # first its blocks are traced, then recalled
        trace = trace_layers(meta_module, spec.model_inputs, 1)
        assert (trace.tensors, trace.method) == ("meta", method)
        assert [layer.facts() for layer in trace.layers] == [layer.facts() for layer in real]
