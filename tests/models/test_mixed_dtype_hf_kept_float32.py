"""A Hugging Face model lists modules that stay float32 in half precision (_keep_in_fp32_modules at float16,
_keep_in_fp32_modules_strict at float16 and bfloat16, as transformers' from_pretrained(dtype=...) reads them):
T5's `wo` overflows float16 otherwise. A run converting such a model to its dtype converted them too; they now
stay float32, with a note naming them, and a model listing none is converted whole as before."""

import pytest
import torch
import torch.nn as nn

from hwprof.errors import HwprofWarning
from hwprof.models.inputs import converted_for_run, kept_in_float32


class Toy(nn.Module):
    """Names as a transformers model lists them: `proj` kept at float16, `router` at bfloat16 too."""

    _keep_in_fp32_modules = ["proj"]
    _keep_in_fp32_modules_strict = ["router"]

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(64, 64), nn.Linear(64, 64))
        self.proj, self.router = nn.Linear(64, 8), nn.Linear(64, 4)
        self.register_buffer("router_bias", torch.zeros(4))


def dtypes(module: nn.Module) -> dict[str, torch.dtype]:
    return {name: t.dtype for name, t in [*module.named_parameters(), *module.named_buffers()]}


def test_float16_keeps_both_lists_and_bfloat16_the_strict_one():
    with pytest.warns(HwprofWarning, match=r"Toy keeps proj, router, router_bias in float32 at float16"):
        half = dtypes(converted_for_run(Toy(), torch.float16))
    assert {name for name, dtype in half.items() if dtype == torch.float32} == {
        "proj.weight",
        "proj.bias",
        "router.weight",
        "router.bias",
        "router_bias",
    }
    assert half["body.0.weight"] == torch.float16
    with pytest.warns(HwprofWarning, match=r"Toy keeps router, router_bias in float32 at bfloat16"):
        bfloat = dtypes(converted_for_run(Toy(), torch.bfloat16))
    assert bfloat["proj.weight"] == torch.bfloat16 and bfloat["router.weight"] == torch.float32


def test_a_model_listing_none_is_converted_whole(recwarn):
    net = converted_for_run(nn.Sequential(nn.Linear(4, 4)), torch.bfloat16)
    assert set(dtypes(net).values()) == {torch.bfloat16}
    assert kept_in_float32(Toy(), torch.float32) == {}
    assert not [w for w in recwarn if "keeps" in str(w.message)]


@pytest.mark.slow  # imports transformers
def test_t5s_wo_stays_float32_at_float16_and_its_forward_runs():
    transformers = pytest.importorskip("transformers")
    config = transformers.T5Config(d_model=16, d_ff=32, d_kv=4, num_heads=2, num_layers=1, vocab_size=64)
    with pytest.warns(HwprofWarning, match=r"T5Model keeps decoder\.block\.0\.layer\.2\.DenseReluDense\.wo, "):
        model = converted_for_run(transformers.T5Model(config).eval(), torch.float16)
    kept = {name for name, dtype in dtypes(model).items() if dtype == torch.float32}
    assert kept == {
        "encoder.block.0.layer.1.DenseReluDense.wo.weight",
        "decoder.block.0.layer.2.DenseReluDense.wo.weight",
    }
    ids = torch.randint(0, 64, (1, 8))
    with torch.no_grad():
        assert model(input_ids=ids, decoder_input_ids=ids).last_hidden_state.dtype == torch.float16


class Routed(Toy):
    """Toy with a forward that feeds its float32 router in float32, as a transformers model does."""

    def forward(self, x):
        return self.router(self.body(x).float())


def test_measure_and_predict_convert_through_it(recwarn):
    """Both places that put a module in a run's dtype keep the listed modules float32: measure's Execution and the
    tracing that predict uses."""
    from hwprof.measuring.execution import Execution
    from hwprof.models.tracing import _as_run

    measured = Execution(dtype="bfloat16").prepare(Routed(), torch.device("cpu"))
    traced = _as_run(Routed(), torch.bfloat16, channels_last=False)
    for module in (measured, traced):
        assert module.router.weight.dtype == torch.float32 and module.body[0].weight.dtype == torch.bfloat16
        assert module(torch.ones(2, 64, dtype=torch.bfloat16)).dtype == torch.float32
