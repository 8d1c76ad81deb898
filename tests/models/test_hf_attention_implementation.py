"""--hf-config attn_implementation=eager builds the model with eager attention (matmuls and a softmax), so that
path can be measured and predicted; _attn_implementation was accepted, named, and ignored (the model ran sdpa)."""

import pytest

from fakes.zoo import TINY_HF
from hwprof.errors import HwprofError
from hwprof.models.layers import run_and_extract
from hwprof.models.spec import resolve_model
from hwprof.models.tracing import trace_layers

pytest.importorskip("transformers")


def _ops(spec) -> list[str]:
    layers, _ = run_and_extract(spec.module, spec.model_inputs, 1, seq_len=8)
    return [layer.op for layer in layers]


def test_eager_attention_is_built_named_and_rebuilt_by_its_name():
    spec = resolve_model("hf:bert", hf_config={**TINY_HF["hf:bert"], "attn_implementation": "eager"})
    assert spec.module.config._attn_implementation == "eager"
    assert "attn_implementation=eager" in spec.name
    ops = _ops(spec)
    assert "softmax" in ops and "matmul" in ops and "scaleddotproductattention" not in ops
    again = resolve_model(spec.name)
    assert again.module.config._attn_implementation == "eager"
    predicted = trace_layers(again.module, again.model_inputs, 1, seq_len=8).layers
    assert [layer.op for layer in predicted] == ops


def test_sdpa_is_the_fused_attention():
    spec = resolve_model("hf:bert", hf_config={**TINY_HF["hf:bert"], "attn_implementation": "sdpa"})
    assert "scaleddotproductattention" in _ops(spec)


@pytest.mark.parametrize(
    "settings, said",
    [
        ({"_attn_implementation": "eager"}, "hf_config=_attn_implementation=eager: write attn_implementation=eager"),
        ({"attn_implementation": "fused_by_magic"}, "hf_config=attn_implementation=fused_by_magic: hf:bert cannot"),
        ({"attn_implementation": 3}, "give an implementation's name"),
    ],
)
def test_a_wrong_attention_setting_is_one_sentence(settings, said):
    with pytest.raises(HwprofError) as refused:
        resolve_model("hf:bert", hf_config={**TINY_HF["hf:bert"], **settings})
    assert said in str(refused.value) and "\n" not in str(refused.value)
