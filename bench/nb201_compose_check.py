"""Every NAS-Bench-201 cell's composed layers against a trace of its built network.

    python bench/nb201_compose_check.py [--batch-size 1] [--dtype float32] [--channels-last] [--limit N]

Prediction puts an `nb201:` network's layers together from its cell's plan and two reference traces
(hwprof.predictor.nb201) instead of building and tracing it. This checks that claim on all 15,625 cells
(or the first N of `all_archs()`): names, ops, configurations, MACs and bytes must equal the trace's, and
the first difference of any cell that differs is reported. About 45 ms a cell on one core.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--channels-last", action="store_true")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--out", default=str(HERE / "results" / "nb201_compose_check.json"))
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    from hwprof.predictor import nb201, records
    from hwprof.sample_models.nb201 import all_archs, parse_arch

    how = {"seq_len": None, "dtype": args.dtype, "channels_last": args.channels_last}

    def trace(arch: str):
        return records._trace_built("nb201:" + arch, None, args.batch_size, None, None, how)

    started = time.perf_counter()
    checked, differ = 0, []
    for arch in all_archs():
        if args.limit is not None and checked >= args.limit:
            break
        parsed = parse_arch(arch)
        names, composed = nb201.compose(parsed, args.batch_size, args.dtype, args.channels_last, trace)
        reference = trace(arch)
        if names != reference.layer_names or composed != reference.records:
            pairs = zip(zip(names, composed), zip(reference.layer_names, reference.records))
            first = next((i for i, (a, b) in enumerate(pairs) if a != b), min(len(names), len(reference.records)))
            differ.append({"arch": arch, "first_difference": first, "layers": [len(names), len(reference.records)]})
        checked += 1
        records._cache.clear()
    result = {
        "command": " ".join(["python", *sys.argv]),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "torch": torch.__version__,
        "cells_checked": checked,
        "cells_that_differ": len(differ),
        "differ": differ[:20],
        "seconds": round(time.perf_counter() - started, 1),
    }
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "differ"}))
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
