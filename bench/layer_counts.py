"""The MACs and parameters hwprof's layers record, against torch's own FlopCounterMode and the module's parameters.

    python bench/layer_counts.py [--out bench/results/layer_counts.json]

For each model, at batch 1: the layers `predict` traces (on meta where the
model allows it), their MACs summed, against FlopCounterMode's count of the
matrix products and convolutions of a real forward pass (its FLOPs / 2); and
their parameters summed, against the module's. hwprof's layers also count
element-wise work (activations, norms, adds), which FlopCounterMode does not,
so a ratio a little over 1 is right and one under 1 is work no layer records.
Hugging Face models run with eager attention, whose matrix products
FlopCounterMode counts on a CPU (it misses the fused attention kernels). Run it
with another checkout on PYTHONPATH to compare code versions; no timing is
involved.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODELS = (
    ("torchvision:resnet18", None),
    ("torchvision:mobilenet_v3_small", None),
    ("torchvision:efficientnet_b0", None),
    ("torchvision:convnext_tiny", None),
    ("torchvision:swin_t", None),
    ("timm:mixer_s16_224", None),
    ("timm:resnetv2_50x1_bit", None),
    ("timm:nf_resnet50", None),
    ("hf:bert", {"num_hidden_layers": 2, "attn_implementation": "eager"}),
    ("hf:gpt2", {"n_layer": 2, "attn_implementation": "eager"}),
    (
        "hf:gpt_oss",
        {
            "num_hidden_layers": 2,
            "hidden_size": 256,
            "intermediate_size": 512,
            "num_local_experts": 4,
            "num_experts_per_tok": 2,
            "num_attention_heads": 4,
            "num_key_value_heads": 2,
            "head_dim": 64,
            "vocab_size": 1000,
            "attn_implementation": "eager",
        },
    ),
)


def count(name: str, hf_config: dict | None) -> dict:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from hwprof.models.spec import resolve_model
    from hwprof.models.tracing import trace_layers

    spec = resolve_model(name, hf_config=hf_config)
    module = spec.module.eval()
    args, kwargs = spec.model_inputs.make(1, None, "cpu", torch.float32, False)
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        module(*args, **kwargs)
    trace = trace_layers(module, spec.model_inputs, 1)
    layer_macs = sum(layer.flops for layer in trace.layers)
    layer_params = sum(layer.params for layer in trace.layers)
    torch_macs = counter.get_total_flops() // 2
    module_params = sum(p.numel() for p in module.parameters())
    return {
        "model": name,
        "layers": len(trace.layers),
        "traced_on": trace.tensors,
        "layer_macs": layer_macs,
        "flop_counter_macs": torch_macs,
        "macs_ratio": round(layer_macs / torch_macs, 4),
        "layer_params": layer_params,
        "module_params": module_params,
        "params_ratio": round(layer_params / module_params, 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "results" / "layer_counts.json")
    options = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    import hwprof

    rows = []
    for name, hf_config in MODELS:
        try:
            row = count(name, hf_config)
        except Exception as error:  # a model this checkout cannot trace is a row of the table, not the end of it
            row = {"model": name, "error": f"{type(error).__name__}: {str(error).splitlines()[0][:160]}"}
        rows.append(row)
        shown = {k: v for k, v in row.items() if k in ("model", "macs_ratio", "params_ratio", "error")}
        print(json.dumps(shown), flush=True)
    options.out.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "command": " ".join(["python", *sys.argv]),
        "hwprof_path": str(Path(hwprof.__file__).parent),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "torch": torch.__version__,
        "rows": rows,
    }
    options.out.write_text(json.dumps(document, indent=2) + "\n")


if __name__ == "__main__":
    main()
