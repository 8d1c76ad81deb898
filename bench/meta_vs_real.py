"""Prediction's meta trace against a real forward pass, model by model, across the installed zoos.

    python bench/meta_vs_real.py [--sources torchvision timm hf] [--out bench/results/meta_vs_real.json]

For every torchvision classification model, one timm model per family (the
smallest-sounding name: atto, femto, pico, nano, tiny, ...; families of a
billion parameters and more left out) and, with `--sources hf`, a list of
Hugging Face architectures built from their default configs cut to one layer
per stack (vision configs at their default depth), at batch 1: the layer records of a
real forward pass (what `measure` records) and those of two meta traces in a
row (what `predict` traces; the second, of a module built afresh, recalls the
blocks the first met), each
record compared field by field: name, op, config (shapes, layout, dtype),
MACs, parameters and bytes. A model whose meta records differ anywhere is
listed with its first differing layer. No timing is involved.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
PREFERRED = ("atto", "femto", "pico", "nano", "tiny", "xxs", "xs", "small", "b0", "18", "_s", "lite0", "050", "100")
TOO_LARGE = re.compile(r"1b|giant|huge|large|deepseek|gemma|aimv2|_7b")
HF_ARCHITECTURES = (
    "albert bart beit bert big_bird biogpt bloom clip codegen cohere convnext deberta deberta-v2 deit dinov2 "
    "distilbert electra ernie falcon funnel gemma gemma2 gpt2 gpt_neo gpt_neox gptj granite llama longformer mamba "
    "mistral mixtral mobilevit modernbert mpnet mpt nystromformer olmo olmo2 opt persimmon phi phi3 qwen2 qwen2_moe "
    "qwen3 roberta segformer stablelm starcoder2 swin t5 vit whisper xglm xlm-roberta xlnet"
).split()
LAYER_KEYS = ("num_hidden_layers", "n_layer", "num_layers", "n_layers", "encoder_layers", "decoder_layers")


def torchvision_names() -> list[str]:
    import torchvision.models as models

    return [f"torchvision:{name}" for name in models.list_models(module=models)]


def timm_names() -> list[str]:
    """One model per family: the family is the name up to its first digit or underscore."""
    import timm

    chosen: dict[str, tuple[int, str]] = {}
    for name in timm.list_models():
        if TOO_LARGE.search(name):
            continue
        family = re.split(r"[_\d]", name)[0]
        rank = min([i for i, hint in enumerate(PREFERRED) if hint in name] or [len(PREFERRED)])
        if family not in chosen or (rank, len(name)) < (chosen[family][0], len(chosen[family][1])):
            chosen[family] = (rank, name)
    return [f"timm:{name}" for _, name in sorted(chosen.values(), key=lambda item: item[1])]


def hf_names() -> list[tuple[str, dict]]:
    """Each architecture with the overrides that cut it to one layer per stack."""
    from transformers import AutoConfig

    cut = []
    for name in HF_ARCHITECTURES:
        config = AutoConfig.for_model(name)
        text = hasattr(config, "vocab_size")  # vision configs (ConvNeXt's) derive their depth from stage lists
        keys = [key for key in LAYER_KEYS if text and isinstance(getattr(config, key, None), int)]
        cut.append((f"hf:{name}", {key: 1 for key in keys}))
    return cut


def compare(name: str, hf_config: dict | None = None) -> dict:
    """Meta records against real ones; modules built afresh for each side (some cache state on first run)."""
    from hwprof.models import recall
    from hwprof.models.layers import run_and_extract
    from hwprof.models.spec import resolve_model
    from hwprof.models.tracing import MetaDevice, trace_layers

    def meta_trace():
        try:
            with MetaDevice():
                meta_spec = resolve_model(name, hf_config=hf_config)
        except Exception:  # a model that cannot be built on meta is traced through a meta copy of a real one
            meta_spec = resolve_model(name, hf_config=hf_config)
        # as prediction does: a model that cannot run on meta is traced on real tensors, and says so
        return trace_layers(
            meta_spec.module,
            meta_spec.model_inputs,
            1,
            rebuild=lambda: resolve_model(name, hf_config=hf_config).module,
        )

    recall.forget()
    traces = [meta_trace(), meta_trace()]
    spec = resolve_model(name, hf_config=hf_config)
    real, method = run_and_extract(spec.module, spec.model_inputs, 1)
    expected = [layer.facts() for layer in real]
    entry = {"layers": len(real), "method": method, "traced_on": traces[0].tensors}
    if traces[0].tensors == "real":
        entry["why_real"] = traces[0].reason
    for which, trace in zip(("first", "again"), traces):
        found = [layer.facts() for layer in trace.layers]
        if found != expected:
            differing = next((pair for pair in zip(found, expected) if pair[0] != pair[1]), None)
            entry["differs"] = {
                "trace": which,
                "meta": differing[0] if differing else f"{len(found)} layers",
                "real": differing[1] if differing else f"{len(expected)} layers",
            }
            break
    return entry


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", nargs="+", default=["torchvision", "timm"], choices=["torchvision", "timm", "hf"])
    parser.add_argument("--out", default=str(HERE / "results" / "meta_vs_real.json"))
    args = parser.parse_args()

    import torch

    torch.set_num_threads(1)
    listed = {
        "torchvision": lambda: [(name, None) for name in torchvision_names()],
        "timm": lambda: [(name, None) for name in timm_names()],
        "hf": hf_names,
    }
    names = [entry for source in args.sources for entry in listed[source]()]
    results = {
        "command": " ".join(["python", *sys.argv]),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "torch": torch.__version__,
        "models": {},
    }
    for name, hf_config in names:
        try:
            entry = compare(name, hf_config)
            if hf_config:
                entry["hf_config"] = hf_config
        except Exception as error:  # a model that does not run at all is listed, not counted as agreeing
            entry = {"failed": f"{type(error).__name__}: {(str(error).splitlines() or [''])[0][:200]}"}
        results["models"][name] = entry
        verdict = "failed" if "failed" in entry else "differs" if "differs" in entry else "same records"
        verdict += " (traced on real tensors)" if entry.get("traced_on") == "real" else ""
        print(name, verdict, json.dumps(entry.get("differs") or entry.get("failed") or ""), flush=True)
    entries = results["models"].values()
    results["summary"] = {
        "models": len(names),
        "same_records_on_meta": sum(
            1 for e in entries if "failed" not in e and "differs" not in e and e.get("traced_on") == "meta"
        ),
        "differ": sorted(n for n, e in results["models"].items() if "differs" in e),
        "failed": sorted(n for n, e in results["models"].items() if "failed" in e),
        "traced_on_real": sorted(n for n, e in results["models"].items() if e.get("traced_on") == "real"),
    }
    print(json.dumps(results["summary"], indent=2))
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
