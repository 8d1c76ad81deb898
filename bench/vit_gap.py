"""Where a ViT is slower than the sum of its layers: its parts against one encoder block, the block against the network.

    flock /tmp/hwprof-bench.lock python bench/vit_gap.py [--model vit_tiny] [--threads 1] [--rounds 7]

On the default runs a ViT takes 1.2-1.3x the sum of its layers even with the layers timed cold
(BENCHMARKS.md, "on the data a user collects by default"). This splits that ratio in two, in one process
with the allocator pinned as `measure` pins it, every case timed in each round in turn:
- parts: each layer of the first encoder block (norms, attention on one tensor as the block passes it,
  the MLP's linears, GELU and dropouts, and the two residual adds), timed alone;
- block: the first encoder block as a whole;
- network: the whole network.
Each is timed warm (the same weights and inputs on every call) and cold (every call takes the next of
COPIES copies, so its weights and inputs come from memory, as `measure --cache cold` does it).
Reported: the medians over rounds, and the ratios block / sum of parts and network / (depth x block); the
latter includes the patch embedding, the final norm and the head (a few percent of the network).
"""

from __future__ import annotations

import argparse
import copy
import json
import platform
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
COPIES = 150  # of a block or a layer: 150 x 1.8 MB of weights for vit_tiny's block, past a 105 MB last-level cache
NETWORK_COPIES = 40  # of the network: 40 x 7 MB of weights for vit_tiny


def per_call_ms(call, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        call()
    return (time.perf_counter() - start) / calls * 1e3


def rotating(make, copies: int):
    """A call that runs the next of `copies` independent instances made by `make` on each call."""
    instances = [make() for _ in range(copies)]
    position = [0]

    def call():
        position[0] = (position[0] + 1) % copies
        instances[position[0]]()

    return call


def cases(model: str) -> tuple[dict, dict, int]:
    """(parts, wholes) as {name: (make, calls per sample)} and the network's depth."""
    import torch

    from hwprof.sample_models import vit

    torch.manual_seed(0)
    network = getattr(vit, model)().eval()
    image = torch.randn(1, 3, 32, 32)
    tokens = network.patch_embed(image).flatten(2).transpose(1, 2)
    tokens = (torch.cat([network.cls_token.expand(1, -1, -1), tokens], 1) + network.pos_embed).contiguous()
    block = network.blocks[0]
    normed = block.norm1(tokens)
    hidden = block.mlp[0](tokens)
    activated = block.mlp[1](hidden)

    def layer(module, *inputs, **options):
        def make():
            own, args = copy.deepcopy(module), [tensor.clone() for tensor in inputs]
            return lambda: own(*args, **options)

        return make

    def attention():
        own, query = copy.deepcopy(block.attn), normed.clone()
        return lambda: own(query, query, query, need_weights=False)

    def residual():
        first, second = tokens.clone(), tokens.clone()
        return lambda: first + second

    parts = {  # name: (make, how many times the block runs it)
        "norm1": (layer(block.norm1, tokens), 1),
        "attention": (attention, 1),
        "residual add": (residual, 2),
        "norm2": (layer(block.norm2, tokens), 1),
        "fc1": (layer(block.mlp[0], tokens), 1),
        "gelu": (layer(block.mlp[1], hidden), 1),
        "dropout": (layer(block.mlp[2], hidden), 2),
        "fc2": (layer(block.mlp[3], activated), 1),
    }
    wholes = {"block": (layer(block, tokens), COPIES), "network": (layer(network, image), NETWORK_COPIES)}
    return parts, wholes, len(network.blocks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="vit_tiny", choices=("vit_tiny", "vit_small_patch"))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--out", default=str(HERE / "results" / "vit_gap.json"))
    args = parser.parse_args()

    import torch

    from hwprof.drivers.host import cpu_model
    from hwprof.measuring.allocator import pin_allocator

    torch.set_num_threads(args.threads)
    pin_allocator("steady")
    with torch.inference_mode():
        parts, wholes, depth = cases(args.model)
        calls = {}
        for name, (make, _) in parts.items():
            calls[f"{name}, warm"] = (make(), 300)
            calls[f"{name}, cold"] = (rotating(make, COPIES), 300)
        for name, (make, copies) in wholes.items():
            repeat = 200 if name == "block" else 60
            calls[f"{name}, warm"] = (make(), repeat)
            calls[f"{name}, cold"] = (rotating(make, copies), repeat)
        for call, repeat in calls.values():  # warm-up
            per_call_ms(call, max(1, repeat // 10))
        samples: dict[str, list[float]] = {name: [] for name in calls}
        for _ in range(args.rounds):
            for name, (call, repeat) in calls.items():
                samples[name].append(per_call_ms(call, repeat))
    median = {name: statistics.median(values) for name, values in samples.items()}
    result = {
        "command": " ".join(["python", *sys.argv]),
        "machine": f"{cpu_model()}, {platform.machine()}",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "torch": torch.__version__,
        "model": args.model,
        "threads": args.threads,
        "rounds": args.rounds,
        "median_ms": {name: round(value, 4) for name, value in median.items()},
    }
    for mode in ("warm", "cold"):
        parts_ms = sum(median[f"{name}, {mode}"] * times for name, (_, times) in parts.items())
        result[mode] = {
            "sum_of_parts_ms": round(parts_ms, 4),
            "block_ms": round(median[f"block, {mode}"], 4),
            "network_ms": round(median[f"network, {mode}"], 4),
            "block_over_parts": round(median[f"block, {mode}"] / parts_ms, 3),
            "network_over_blocks": round(median[f"network, {mode}"] / (depth * median[f"block, {mode}"]), 3),
        }
        print(mode, json.dumps(result[mode]), flush=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
