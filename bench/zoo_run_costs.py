"""What a list of models costs `measure` outside the timing: peak memory and a resume that has nothing left.

Two measurements, each in fresh processes:
1. peak RSS of one `measure` of K large factories (a 10,000 x 10,000 Linear each, 400 MB of weights), with
   the models kept built between their check and their turn (the default, while a quarter of the free
   memory holds them) and with none kept (KEPT_MEMORY_SHARE 0, as on a machine short of memory);
2. the wall time of `measure --resume` of a finished dataset of several zoo models, and how many times it
   traced a model (session.run_and_extract), against the first run's.

`--code PATH` puts another checkout's hwprof first on sys.path (a worktree of an earlier commit), so the same
script measures the code before a change side by side.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent

BIG = textwrap.dedent(
    """
    import torch.nn as nn

    def _big():
        model = nn.Sequential(nn.Linear(10000, 10000))  # 400 MB of weights
        model.input_shape = (10000,)
        return model
    """
)

PEAK = textwrap.dedent(
    """
    import json, resource, sys, time
    import hwprof
    from hwprof.measuring import session
    if sys.argv[2] != "default":
        session.KEPT_MEMORY_SHARE = float(sys.argv[2])
    started = time.perf_counter()
    hwprof.measure([f"big.py:b{i}" for i in range(int(sys.argv[1]))], layers=False, max_item_s=0.2,
                   sweep_share=0, power="none", threads=1)
    print(json.dumps({"peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6,
                      "wall_s": time.perf_counter() - started}))
    """
)

RESUME = textwrap.dedent(
    """
    import json, sys, time
    import hwprof
    from hwprof.measuring import session
    traced = []
    extract = session.run_and_extract
    def counted(*args, **kwargs):
        traced.append(1)
        return extract(*args, **kwargs)
    session.run_and_extract = counted
    started = time.perf_counter()
    hwprof.measure(sys.argv[2].split(","), out=sys.argv[1], resume=sys.argv[3] == "resume", max_item_s=0.2,
                   precision=0.2, sweep_share=0, power="none", threads=1, seed=0)
    print(json.dumps({"wall_s": time.perf_counter() - started, "traces": len(traced)}))
    """
)


def child(script: str, args: list[str], folder: Path, code: str | None) -> dict:
    env_path = [code] if code else []
    command = [sys.executable, "-c", f"import sys; sys.path[:0] = {env_path!r}\n{script}", *args]
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=4, help="large factories in the one measure")
    parser.add_argument("--zoo", default="resnet18,mobilenet_v2,squeezenet1_0,vit_tiny,mlp")
    parser.add_argument("--code", help="a checkout whose hwprof to measure instead (its root folder)")
    parser.add_argument("--out", default=str(HERE / "results" / "zoo_run_costs.json"))
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="hwprof-zoo-costs-"))
    (folder / "big.py").write_text(BIG + "".join(f"\ndef b{i}():\n    return _big()\n" for i in range(args.models)))
    report = {
        "command": " ".join(["python", *sys.argv]),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "one_model": child(PEAK, ["1", "default"], folder, args.code),
        "models_kept": child(PEAK, [str(args.models), "default"], folder, args.code),
        "models_released": child(PEAK, [str(args.models), "0"], folder, args.code),
    }
    out = str(folder / "zoo.parquet")
    report["first_run"] = child(RESUME, [out, args.zoo, "first"], folder, args.code)
    report["resume_of_finished"] = child(RESUME, [out, args.zoo, "resume"], folder, args.code)
    Path(args.out).write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
