"""T5's T5LayerNorm is an RMS norm (no mean subtracted, no bias) under a layer norm's name: recorded as rmsnorm,
the op whose sweep and rows teach its layer model, as LlamaRMSNorm is."""

import pytest
import torch

from hwprof.models.layers import extract_layers_from_example


@pytest.mark.parametrize("kind", ["t5.modeling_t5.T5LayerNorm", "mt5.modeling_mt5.MT5LayerNorm"])
def test_t5s_layer_norm_is_an_rms_norm(kind):
    pytest.importorskip("transformers")
    import importlib

    where, name = kind.rsplit(".", 1)
    norm = getattr(importlib.import_module(f"transformers.models.{where}"), name)(16)
    (layer,), _ = extract_layers_from_example(torch.nn.Sequential(norm), (torch.randn(2, 4, 16),), {})
    assert layer.op == "rmsnorm"
    assert layer.config["implementation"] == name
