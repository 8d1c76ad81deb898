"""Every command with bad input, and measurements killed at random points: one sentence, nothing lost.

    python bench/bad_inputs.py [--kills 6] [--out bench/results/bad_inputs.json]

Each case runs `python -m hwprof ...` in a fresh folder, as a user would, and records the exit status,
how many lines the command printed, whether a Python traceback appeared, and the first line. The kill
runs start a measurement, send SIGTERM, SIGINT or SIGKILL after a random number of rows, resume it with
`--resume`, and count the rows written before the kill that the finished dataset lacks or changed.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
FAST = ["--power", "none", "--precision", "0.2", "--max-time", "0.3", "--threads", "1", "--seed", "0", "--quiet"]
SEARCH = ["--predictor", "p.json", "--trials", "2", "--seed", "0", "--out", "searched", "--force"]
TINY_BERT = ["--hf-config", "num_hidden_layers=1,hidden_size=32,num_attention_heads=2,intermediate_size=64"]
QUANTIZED_MODEL = """import torch
import torch.nn as nn
from torch.ao.quantization import DeQuantStub, QuantStub, convert, get_default_qconfig, prepare


class Quantized(nn.Module):
    def __init__(self):
        super().__init__()
        self.quant, self.conv, self.dequant = QuantStub(), nn.Conv2d(3, 8, 3), DeQuantStub()

    def forward(self, x):
        return self.dequant(self.conv(self.quant(x)))


def build():
    model = Quantized().eval()
    model.qconfig = get_default_qconfig("fbgemm")
    prepare(model, inplace=True)
    model(torch.rand(4, 3, 32, 32))
    convert(model, inplace=True)
    model.input_shape = (3, 32, 32)
    return model
"""
# a LLaMA cut to one small layer: head_dim and the key-value heads follow from hidden_size and the head count
LLAMA = "num_hidden_layers=1,hidden_size=64,intermediate_size=128,num_attention_heads=4,vocab_size=1000"
MOE = "num_hidden_layers=1,hidden_size=32,intermediate_size=64,num_attention_heads=2,num_key_value_heads=2"


FILE_SIZE_LIMIT = "FILE_SIZE_LIMIT_KB"  # in a case's environment: the file-size limit (`ulimit -f`) it runs under


def hwprof(args: list[str], folder: Path, env: dict | None = None, timeout: float = 600) -> dict:
    environment = {**os.environ, **(env or {})}
    limit_kb = environment.pop(FILE_SIZE_LIMIT, None)

    def limited() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_FSIZE, (int(limit_kb) * 1024, resource.RLIM_INFINITY))

    done = subprocess.run(
        [sys.executable, "-m", "hwprof", *args],
        cwd=folder,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=limited if limit_kb else None,
    )
    output = (done.stdout + done.stderr).strip()
    lines = output.splitlines()
    return {
        "exit": done.returncode,
        "lines": len(lines),
        "traceback": "Traceback (most recent call last)" in output,
        "bug_message": "failed unexpectedly" in output,  # hwprof's own words for an error it did not foresee
        "first_line": lines[0][:160] if lines else "",
    }


def prepare(folder: Path) -> None:
    """A small dataset, predictors good and damaged, and tables with broken numbers."""
    sys.path.insert(0, str(ROOT / "tests"))
    from fakes.factories import LATE_MODEL, ODD_FACTORIES
    from fakes.synthetic import fitted_predictor_path, synthetic_frame, write

    predictor, dataset = fitted_predictor_path(folder, n_networks=8, cv=False)
    os.replace(predictor, folder / "p.json")
    os.replace(dataset, folder / "d.parquet")
    frame = synthetic_frame(n_networks=4, seed=3)
    write(frame[frame["kind"] == "layer"], folder / "layers.parquet")
    doc = json.loads((folder / "p.json").read_text())
    broken = dict(doc, network_models={**doc["network_models"]})
    broken["network_models"]["latency_ms"] = dict(doc["network_models"]["latency_ms"], coef=[float("nan")] * 3)
    (folder / "nan.json").write_text(json.dumps(broken))
    broken["network_models"]["latency_ms"] = dict(doc["network_models"]["latency_ms"], coef=[1e308] * 3)
    (folder / "huge.json").write_text(json.dumps(broken))
    (folder / "no_layers.json").write_text(json.dumps(dict(doc, layer_models=None)))
    latency = doc["network_models"]["latency_ms"]
    damaged = {  # hand-edited predictor files that loaded and failed at the first prediction (stop 37)
        "no_latency": dict(doc, network_models={k: v for k, v in doc["network_models"].items() if k != "latency_ms"}),
        "short_coef": dict(
            doc, network_models={**doc["network_models"], "latency_ms": dict(latency, coef=latency["coef"][:-1])}
        ),
        "offsets": dict(
            doc,
            layer_models={**doc["layer_models"], "latency_ms": dict(doc["layer_models"]["latency_ms"], offsets=[0.1])},
        ),
        "version_text": dict(doc, format_version=str(doc["format_version"])),
    }
    for name, edited in damaged.items():
        (folder / f"{name}.json").write_text(json.dumps(edited))
    for name, value in (("empty", ""), ("nan", "nan"), ("inf", "inf"), ("text", "fast"), ("negative", "-2")):
        (folder / f"{name}.csv").write_text(f"model,batch_size,latency_ms\nmlp,1,1.5\nmlp,2,{value}\n")
    (folder / "existing.json").write_text("keep me")
    (folder / "notds.parquet").write_text("not a table\n")
    (folder / "corrupt.journal").write_bytes(os.urandom(200))
    shutil.copy(folder / "d.parquet", folder / "s.parquet")
    (folder / "s.parquet.samples.parquet").write_bytes(b"not parquet")  # a damaged raw-samples sidecar
    if doc.get("domain"):  # a domain cut short by hand (stop 48)
        (folder / "short_domain.json").write_text(
            json.dumps(dict(doc, domain=dict(doc["domain"], centre=doc["domain"]["centre"][:5])))
        )
    model = "import torch.nn as nn\n\n\ndef build():\n    model = nn.Linear(8, 2)\n    model.input_shape = (8,)\n    return model\n"
    (folder / "argp.py").write_text("import argparse\n\nargparse.ArgumentParser().parse_args()\n" + model)
    (folder / "exits.py").write_text("import sys\n\n\ndef build():\n    sys.exit(3)\n")
    (folder / "stale.parquet.samples.parquet").write_bytes(b"an earlier run's samples")  # its dataset is gone
    (folder / "late.py").write_text(LATE_MODEL)
    (folder / "odd.py").write_text(ODD_FACTORIES)
    shutil.copy(folder / "d.parquet", folder / "copy.parquet")  # the same run under another name
    (folder / "text.trace.csv").write_text("timestamp_s,sensor,power_w\n" + "".join(f"{i},x,abc\n" for i in range(5)))
    noisy = synthetic_frame(n_networks=8, seed=5, network_noise=0.03, layer_noise=0.03)
    write(noisy, folder / "e.parquet")  # another run of d.parquet's networks
    (folder / "masked.py").write_text(
        "import torch.nn as nn\n\nclass Masked(nn.Module):\n"
        "    def __init__(self):\n        super().__init__()\n        self.linear = nn.Linear(784, 4)\n"
        "    def forward(self, x, attention_mask):\n        return self.linear(x) * attention_mask\n\n"
        "def build():\n    model = Masked()\n    model.input_shape = (784,)\n    return model\n"
    )
    (folder / "project").mkdir()  # model code in two files: the factory imports the one beside it
    (folder / "project" / "blocks.py").write_text("import torch.nn as nn\n\ndef block():\n    return nn.Linear(8, 8)\n")
    (folder / "project" / "net.py").write_text(
        "import torch.nn as nn\nfrom blocks import block\n\ndef build():\n"
        "    model = nn.Sequential(block(), nn.ReLU(), block())\n    model.input_shape = (8,)\n    return model\n"
    )
    (folder / "own.py").write_text(  # a user's own models: TorchScript, float64 (stop 39)
        "import torch\nimport torch.nn as nn\n\ndef small():\n"
        "    model = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2))\n    model.input_shape = (8,)\n"
        "    return model\n\ndef scripted():\n    return torch.jit.script(small())\n\n"
        "def f64():\n    model = small().double()\n    model.input_shape = (8,)\n    return model\n"
    )
    (folder / "semi.csv").write_text("model;batch_size;latency_ms\nmlp;1;1,5\nmlp;2;2,5\n")  # a spreadsheet's
    (folder / "bad.trace.parquet").write_text("garbage")  # a trace `run --trace --out bad.parquet` appends to
    layers = doc["layer_models"]["latency_ms"]
    op = sorted(layers["ops"])[0]
    unknown_kind = {**layers, "ops": {**layers["ops"], op: {**layers["ops"][op], "kind": "no-such-kind"}}}
    (folder / "unknown_kind.json").write_text(
        json.dumps(dict(doc, layer_models={**doc["layer_models"], "latency_ms": unknown_kind}))
    )
    # stop 40: a lock path planted as a link, a dataset naming a Python file, damaged provenance, a module on
    # the meta device, and a trace of another dataset of the same stem
    (folder / "victim.txt").write_text("keep me\n")
    os.symlink("victim.txt", folder / "lk.parquet.lock")
    (folder / "payload.py").write_text("open('PAYLOAD_RAN', 'w').close()\n")
    (folder / "named.csv").write_text("model,batch_size,latency_ms\npayload.py:x,1,5\nmlp,1,4\n")
    import pyarrow.parquet as pq

    table = pq.read_table(folder / "d.parquet")
    metadata = {**(table.schema.metadata or {}), b"hwprof": json.dumps({"runs": "abc"}).encode()}
    pq.write_table(table.replace_schema_metadata(metadata), folder / "damaged_runs.parquet")
    (folder / "on_meta.py").write_text(
        "import torch\nimport torch.nn as nn\n\ndef build():\n    with torch.device('meta'):\n"
        "        model = nn.Sequential(nn.Linear(8, 8), nn.ReLU())\n    model.input_shape = (8,)\n    return model\n"
    )
    try:
        from hwprof.traces import write_trace
    except ImportError:  # code from before stop 42 kept the trace format in hwprof.measuring.trace
        from hwprof.measuring.trace import write_trace

    samples = [(1.0, "package-0", 20.0), (1.1, "package-0", 21.0)]
    try:
        write_trace(samples, folder / "tr.trace.parquet", "another-run")
    except TypeError:  # code from before traces named their runs (--before runs): the trace is another's anyway
        write_trace(samples, folder / "tr.trace.parquet")
    # stop 41: search spaces with wrong types and budgets that contradict each other, a container's /sys
    (folder / "cand.py").write_text(
        "import torch.nn as nn\n\ndef build(width=8, lr=0.01):\n    return nn.Sequential(nn.Linear(16, width), nn.ReLU())\n\n"
        "def evaluate(model, params):\n    return float(params['width'])\n"
    )
    space = "factory: cand.py:build\nobjective: cand.py:evaluate\ninput_shape: [16]\nparams:\n  width: [8, 16]\n"
    (folder / "space.yaml").write_text(space)
    (folder / "float_shape.yaml").write_text(space.replace("[16]", "[16.5]"))
    (folder / "log_text.yaml").write_text(space + '  lr: {low: 0.001, high: 0.1, log: "false"}\n')
    (folder / "uneven.yaml").write_text(space.replace("[8, 16]", "{low: 8, high: 16, step: 3}"))
    # stop 42: a 3-D convolution, an int8 model, a list of images, a dollar sign in a name, a shard's trace
    (folder / "c3d.py").write_text(
        "import torch.nn as nn\n\ndef build():\n    model = nn.Sequential(nn.Conv3d(3, 4, 3), nn.ReLU())\n"
        "    model.input_shape = (3, 4, 8, 8)\n    return model\n"
    )
    (folder / "qstatic.py").write_text(QUANTIZED_MODEL)
    (folder / "lazy.py").write_text(
        "import torch\nfrom torch import nn\ndef build():\n    return nn.LazyLinear(8), torch.randn(1, 4)\n"
    )
    (folder / "writes.py").write_text(
        "import torch\nfrom torch import nn\nclass Halves(nn.Module):\n    def forward(self, x):\n"
        "        x.div_(2.0)\n        return torch.sort(x).values\ndef build():\n"
        "    return Halves(), torch.randn(1, 5000)\n"
    )
    (folder / "listin.py").write_text(
        "import torch\nimport torch.nn as nn\n\nclass ListIn(nn.Module):\n    def __init__(self):\n"
        "        super().__init__()\n        self.conv = nn.Conv2d(3, 4, 3)\n\n    def forward(self, images):\n"
        "        return [self.conv(image.unsqueeze(0)) for image in images]\n\n"
        "def build():\n    return ListIn(), [torch.rand(3, 32, 32), torch.rand(3, 32, 32)]\n"
    )
    (folder / "net$^$.py").write_text(
        "import torch.nn as nn\n\ndef build():\n    model = nn.Sequential(nn.Linear(8, 8), nn.ReLU())\n"
        "    model.input_shape = (8,)\n    return model\n"
    )
    write_trace(samples, folder / "d.trace.parquet")  # beside d.parquet, as a glob of shards would match it
    # stop 44: a pruned module in another dtype, one wrapped in DataParallel, one its user compiled
    (folder / "formats.py").write_text(
        "import torch\nimport torch.nn as nn\nfrom torch.nn.utils import prune\n\n"
        "def small():\n    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 14 * 14, 4))\n"
        "    model.input_shape = (3, 16, 16)\n    return model\n\n"
        "def pruned():\n    model = small()\n    prune.l1_unstructured(model[0], 'weight', amount=0.5)\n    return model\n\n"
        "def wrapped():\n    model = nn.DataParallel(small())\n    model.input_shape = (3, 16, 16)\n    return model\n\n"
        "def compiled():\n    return torch.compile(small(), backend='eager'), torch.randn(1, 3, 16, 16)\n"
    )
    gpu = ROOT / "bench" / "data" / "gpu_h200"  # one model's layers beside whole-network runs
    shutil.copy(gpu / "zoo_layers__torchvision_resnet50_float16.parquet", folder / "gpu_layers.parquet")
    shutil.copy(gpu / "zoo_gpu.parquet", folder / "gpu_networks.parquet")


CASES = [
    # (command, arguments, extra environment, expected exit status)
    ("measure", ["mlp", "--input-shape", "3,224,224", *FAST], None, 1),
    ("measure", ["mlp", "mlp", *FAST], None, 1),
    ("measure", ["vgg16", "--batch-size", "100000", *FAST], None, 1),
    ("measure", ["vgg16", "--batch-size", "1000", *FAST], None, 1),
    ("measure", ["sweep:relu:2", "--no-layers", *FAST], None, 1),
    ("measure", ["mlp", *FAST, "--threads", "1000"], None, 1),
    ("measure", ["mlp", *FAST, "--max-time", "nan"], None, 1),
    ("measure", ["mlp", "--device", "cuda", *FAST], None, 1),
    ("measure", ["mlp", "--device", "tpu", *FAST], None, 1),
    ("measure", ["mlp", "--out", "missing/x.parquet", *FAST], None, 1),
    ("measure", ["mlp", "--out", "sub/", *FAST], None, 1),
    ("measure", ["mlp", "--out", "d.parquet", *FAST], None, 1),
    ("measure", ["mlp", *FAST], {"HWPROF_SYSFS_ROOT": "/nonexistent"}, 1),
    ("fit", ["d.parquet", "--out", "d.parquet", "--no-cv"], None, 1),
    ("fit", ["d.parquet", "--out", "existing.json", "--no-cv"], None, 1),
    ("fit", ["d.parquet", "--out", "/nonexistent/p.json", "--no-cv"], None, 1),
    ("fit", ["d.parquet", "--out", "sub/", "--no-cv"], None, 1),
    ("fit", ["empty.csv", "--out", "f1.json"], None, 1),
    ("fit", ["nan.csv", "--out", "f2.json"], None, 1),
    ("fit", ["inf.csv", "--out", "f3.json"], None, 1),
    ("fit", ["text.csv", "--out", "f4.json"], None, 1),
    ("fit", ["negative.csv", "--out", "f5.json"], None, 1),
    ("predict", ["nan.json", "mlp"], None, 1),
    ("predict", ["huge.json", "mlp", "--json"], None, 1),
    ("predict", ["no_layers.json", "mlp"], None, 1),
    ("predict", ["d.parquet", "mlp"], None, 1),
    ("predict", ["p.json", "mlp", "--batch-size", "1,1"], None, 0),
    ("evaluate", ["p.json", "layers.parquet"], None, 0),
    ("evaluate", ["d.parquet", "p.json"], None, 1),
    ("evaluate", ["p.json", "d.parquet", "--plot", "x.parquet"], None, 1),
    ("evaluate", ["p.json", "d.parquet", "--plot", "plotfile"], None, 1),
    ("evaluate", ["p.json", "d.parquet", "--plot", "d.parquet"], None, 1),
    ("devices", ["--json"], {"HWPROF_TEGRASTATS": "/bin/false"}, 0),
    ("devices", [], {"HWPROF_SYSFS_ROOT": "/nonexistent"}, 1),
    ("search", ["demo", "--predictor", "p.json", "--storage", "corrupt.journal", "--trials", "1"], None, 1),
    # added 2026-12-05 (stop 34), from a new user's audit: each of these was a traceback, a "bug" message,
    # a wrong exit status, lost data or an option dropped without a word
    ("measure", ["mlp", "late.py:build", "--no-layers", *FAST], None, 1),
    ("measure", ["odd.py:shape_in_words", *FAST], None, 1),
    ("measure", ["odd.py:text_for_inputs", *FAST], None, 1),
    ("measure", ["RESNET18", *FAST], None, 1),
    ("measure", ["mlp", "--hf-config", "num_hidden_layers=2", *FAST], None, 1),
    ("measure", ["mlp", "--seq-len", "128", *FAST], None, 1),
    ("measure", ["mlp", "--input", "float32[784]", "--input-shape", "784", *FAST], None, 1),
    ("measure", ["mlp", "--out", "stale.parquet", *FAST], None, 1),
    ("measure", ["mlp", "--out", "/proc/x.parquet", *FAST], None, 1),
    ("merge", ["d.parquet", "--out", "d.parquet.json", "--force"], None, 1),
    ("fit", ["d.parquet", "--out", "d.parquet.samples.parquet", "--force", "--no-cv"], None, 1),
    ("fit", ["d.parquet", "--out", "f6.json", "--target", "latncy"], None, 1),
    ("predict", ["p.json", "resnet18", "--batch-size", "9999999999999"], None, 1),
    ("predict", ["p.json", "mlp", "--batch-size", "99999999999999999999"], None, 1),
    ("predict", ["p.json", "mlp", "--hf-config", "num_hidden_layers=2"], None, 1),
    ("show", ["s.parquet.samples.parquet"], None, 1),
    ("compare", ["d.parquet", "s.parquet"], None, 2),
    ("search", ["demo", "--predictor", "p.json", "--seed", "-5", "--trials", "1"], None, 1),
    ("search", ["demo", "--predictor", "p.json", "--trials", "1", "--out", "/proc/s"], None, 1),
    ("search", ["demo", "--predictor", "p.json", "--confidence", "0.9", "--trials", "1", "--out", "c"], None, 1),
    # added 2026-12-05 (stop 35): an option that chose nothing, a sensor path that does not exist
    ("fit", ["d.parquet", "--base", "p.json", "--family", "trees", "--out", "f7.json"], None, 1),
    ("devices", ["--tegrastats", "missing/tegrastats"], None, 1),
    ("measure", ["mlp", "--tegrastats", "missing/tegrastats", *FAST], None, 1),
    # added 2026-12-05 (stop 35, second session), from two new users' audits
    ("measure", ["mlp", "--no-layers", "--out", "bs1:fp32.parquet", *FAST], None, 0),
    (
        "measure",
        ["mlp", "--input", "x:float32[784]", "--input", "x:float32[784]", "--out", "twice.parquet", *FAST],
        None,
        1,
    ),
    ("compare", ["d.parquet", "copy.parquet"], None, 2),
    ("plot-trace", ["text.trace.csv"], None, 1),
    ("fit", ["gpu_layers.parquet", "gpu_networks.parquet", "--out", "gpu.json"], None, 0),
    # added 2026-12-06 (stop 36), from three new users' audits
    ("measure", ["mlp", "mlp_large", "masked.py:build", "--no-layers", "--out", "list.parquet", *FAST], None, 1),
    ("measure", ["project/net.py:build", "--no-layers", "--out", "project.parquet", *FAST], None, 0),
    (
        "measure",
        ["hf:llama", "--hf-config", LLAMA, "--seq-len", "8", "--no-layers", "--out", "llama.parquet", *FAST],
        None,
        0,
    ),
    ("predict", ["p.json", "mlp", "mlp_large", "--seq-len", "8"], None, 1),
    ("compare", ["d.parquet", "e.parquet", "--fail-above", "0.05"], None, 2),
    ("compare", ["d.parquet", "e.parquet", "--metric", "energy_mj"], None, 2),
    ("run", ["--", "no_such_command_xyz"], None, 127),
    # added 2026-12-06 (stop 37), from a design-loop user's audit: damaged predictor files
    ("predict", ["no_latency.json", "mlp"], None, 1),
    ("predict", ["short_coef.json", "mlp", "mlp_large"], None, 1),
    ("predict", ["offsets.json", "mlp"], None, 1),
    ("predict", ["version_text.json", "mlp"], None, 1),
    # added 2026-12-06 (stop 38), from new users' audits: a name too long for the files beside it, a file that
    # is not a dataset, a predictor over a dataset, and a resume with nothing to resume
    ("measure", ["mlp", "--no-layers", "--out", "L" * 232 + ".parquet", *FAST], None, 1),
    ("measure", ["mlp", "--no-layers", "--out", "notds.parquet", "--resume", *FAST], None, 1),
    ("fit", ["d.parquet", "--out", "e.parquet", "--force", "--no-cv"], None, 1),
    ("measure", ["mlp", "--no-layers", "--out", "typo.parquet", "--resume", *FAST], None, 0),
    # added 2026-12-06 (stop 39), from new users' audits: their own models, a spreadsheet's CSV, energy of a
    # command, a damaged layer model
    ("measure", ["own.py:scripted", *FAST], None, 1),
    ("measure", ["own.py:f64", *FAST], None, 1),
    ("measure", ["own.py:small", "own.py:f64", "--no-layers", *FAST], None, 1),
    ("fit", ["semi.csv", "--out", "f8.json"], None, 1),
    ("report", ["d.parquet", "--out", "r.html", "--confidence", "2"], None, 1),
    ("run", ["--idle-s", "inf", "--", "true"], None, 1),
    ("run", ["--trace", "--out", "bad.parquet", "--", "sh", "-c", "exit 5"], None, 1),
    ("predict", ["unknown_kind.json", "mlp"], None, 1),
    # added 2026-12-06 (stop 40), from new users' audits: security, a host program, data analysis
    ("measure", ["mlp", "--no-layers", "--out", "lk.parquet", *FAST], None, 1),
    ("fit", ["named.csv", "--out", "f9.json", "--no-cv"], None, 1),
    ("show", ["damaged_runs.parquet"], None, 1),
    ("fit", ["damaged_runs.parquet", "--out", "f10.json", "--no-cv"], None, 1),
    ("measure", ["on_meta.py:build", *FAST], None, 1),
    ("measure", ["mlp", "--no-layers", "--trace", "--out", "tr.csv", *FAST], None, 1),
    # added 2026-12-06 (stop 41), from new users' audits: a NAS researcher's spaces and budgets, a Hugging Face
    # user's inputs and attention
    ("search", ["space.yaml", *SEARCH, "--constraint", "latency_ms<=1", "--constraint", "latency_ms>=5"], None, 1),
    ("search", ["float_shape.yaml", *SEARCH, "--constraint", "latency_ms<=1"], None, 1),
    ("search", ["log_text.yaml", *SEARCH, "--constraint", "latency_ms<=1"], None, 1),
    ("search", ["uneven.yaml", *SEARCH, "--constraint", "latency_ms<=1"], None, 1),
    (
        "measure",
        [
            "hf:bert",
            *TINY_BERT,
            "--input",
            "input_ids:int64[seq]",
            "--input",
            "token_type_ids:int64[seq]",
            "--seq-len",
            "16",
            "--no-layers",
            *FAST,
        ],
        None,
        0,
    ),
    (
        "measure",
        [
            "hf:gpt2",
            "--hf-config",
            "n_layer=1,n_embd=32,n_head=2,_attn_implementation=eager",
            "--seq-len",
            "8",
            "--no-layers",
            *FAST,
        ],
        None,
        1,
    ),
    # added 2026-12-06 (stop 42), from new users' audits: vision models, reports, full disks and size limits,
    # energy of commands
    ("measure", ["c3d.py:build", "--channels-last", "--out", "c3d.parquet", *FAST], None, 0),
    ("measure", ["qstatic.py:build", "--out", "q.parquet", *FAST], None, 0),
    ("measure", ["listin.py:build", "--out", "list_in.parquet", *FAST], None, 1),
    ("measure", ["net$^$.py:build", "--no-layers", "--out", "dollar.parquet", *FAST], None, 0),
    ("report", ["dollar.parquet", "--out", "dollar.html"], None, 0),
    ("merge", ["d.parquet", "d.trace.parquet", "--out", "with_trace.parquet"], None, 0),
    ("measure", ["mlp", "--out", "limited.csv", *FAST], {FILE_SIZE_LIMIT: "10"}, 1),
    ("measure", ["mlp", "--out", "limited.csv", "--resume", *FAST], None, 0),
    (
        "search",
        ["space.yaml", *SEARCH, "--trials", "40", "--storage", "s.journal", "--constraint", "latency_ms<=9"],
        {FILE_SIZE_LIMIT: "12"},
        1,
    ),  # fmt: skip
    ("run", ["--", "/tmp"], None, 126),
    ("run", ["--device", "rapl", "--", "true"], None, 1),
    # added 2026-12-06 (stop 43), from new users' audits: lazy modules, inputs written in place, MoE settings
    ("measure", ["lazy.py:build", "--out", "lazy.parquet", *FAST], None, 0),
    ("predict", ["p.json", "lazy.py:build"], None, 0),
    ("measure", ["writes.py:build", "--no-layers", "--out", "writes.parquet", *FAST], None, 0),
    ("measure", ["hf:mixtral", "--hf-config", f"{MOE},_experts_implementation=eager", "--no-layers", *FAST], None, 1),
    # added 2026-12-06 (stop 44), from new users' audits: models in other formats, search --verify's checks
    ("predict", ["p.json", "formats.py:pruned", "--dtype", "bfloat16"], None, 0),
    ("measure", ["formats.py:pruned", "--dtype", "bfloat16", "--out", "pruned.parquet", *FAST], None, 0),
    ("measure", ["formats.py:wrapped", "--out", "wrapped.parquet", *FAST], None, 0),
    ("measure", ["formats.py:compiled", "--no-layers", "--out", "compiled.parquet", *FAST], None, 0),
    ("search", ["space.yaml", *SEARCH, "--constraint", "latency_ms<=9", "--verify", "--device", "cuda:0"], None, 1),
    # added 2026-12-07, from new users' audits: a thread count asked of a predictor whose data recorded none (a
    # note), a count that is none, a search under a counted memory budget
    ("predict", ["p.json", "mlp", "--threads", "999"], None, 0),
    ("predict", ["p.json", "mlp", "--threads", "0"], None, 1),
    ("search", ["space.yaml", *SEARCH, "--constraint", "memory_mb<=1000"], None, 0),
    # added 2026-12-07 (stop 46), from new users' audits: empty values, options that nothing reads, names past the
    # folder's limit
    ("measure", ["mlp", "--seq-len", "", *FAST], None, 1),
    ("measure", ["sweep:relu:2", "--compile", *FAST], None, 1),
    ("measure", ["mlp", "--tegrastats", "/bin/true", "--no-layers", *FAST], None, 1),
    ("predict", ["p.json", "mlp", "--input-shape", ""], None, 1),
    ("search", ["demo", "--predictor", "p.json", "--trials", "1", "--device", "nonsense"], None, 1),
    ("report", ["d.parquet", "--out", "r2.html", "--confidence", "0.5"], None, 1),
    ("fit", ["d.parquet", "--out", "F" * 300 + ".json", "--no-cv"], None, 1),
    ("show", ["L" * 300 + ".parquet"], None, 1),
    ("run", ["--out", "", "--", "true"], None, 1),
    # added 2026-12-07 (stop 47), from new users' audits: names of blanks only, a search that scored nothing
    ("merge", ["d.parquet", "--out", " "], None, 1),
    ("fit", ["d.parquet", "--out", "  ", "--no-cv"], None, 1),
    ("search", ["space.yaml", *SEARCH, "--constraint", "latency_ms<=0.000001"], None, 1),
    # added 2026-12-07 (stop 48), from new users' audits: a user's file that exits (argparse at import, a factory's
    # sys.exit), a predictor written under a dataset's name, a predictor's domain cut short, a GPU by its NVML name
    ("measure", ["argp.py:build", *FAST], None, 1),
    ("measure", ["exits.py:build", *FAST], None, 1),
    ("fit", ["d.parquet", "--out", "x.parquet", "--no-cv"], None, 1),
    ("predict", ["short_domain.json", "mlp"], None, 1),
    ("measure", ["mlp", "--device", "nvml:0", *FAST], None, 1),
]


def rows_in(path: Path):
    import pandas as pd

    return pd.read_parquet(io.BytesIO(path.read_bytes())) if path.exists() else None


def rows_in_journal(journal: Path) -> int:
    """Row lines of a measurement's journal (beside its provenance line and the rows' raw samples)."""
    return sum(line.startswith('{"row"') for line in journal.read_text().splitlines()) if journal.exists() else 0


def kill_and_resume(folder: Path, signum: int, seed: int) -> dict:
    """Kill a measurement after a random number of rows, resume it, and count what was lost."""
    out = folder / f"kill{seed}.parquet"
    journal = folder / f"kill{seed}.parquet.partial.jsonl"
    command = [sys.executable, "-m", "hwprof", "measure", "mlp", "sweep:relu:6", "sweep:add:6", "--batch-size", "1,2"]
    command += ["--out", str(out), *FAST]
    process = subprocess.Popen(command, cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    target = random.Random(seed).randint(1, 20)
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline:
        written = rows_in_journal(journal)
        if written >= target:
            break
        time.sleep(0.01)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=120)
    killed_with = process.returncode
    before = rows_in(out)
    journal_rows = rows_in_journal(journal)
    resumed = subprocess.run([*command, "--resume"], cwd=folder, capture_output=True, text=True, timeout=600)
    final = rows_in(out)
    keys = ["model", "batch_size", "kind", "layer_index"]
    kept = 0 if before is None else len(before)
    lost = 0
    if before is not None:
        merged = before.merge(final, on=keys, how="left", suffixes=("", "_final"), indicator=True)
        lost = int((merged["_merge"] != "both").sum() + (merged["latency_ms"] != merged["latency_ms_final"]).sum())
    return {
        "signal": signal.Signals(signum).name,
        "rows_before_kill": max(kept, journal_rows),
        "exit_after_kill": killed_with,
        "traceback": "Traceback" in stderr,
        "resume_exit": resumed.returncode,
        "rows_final": 0 if final is None else len(final),
        "duplicated": 0 if final is None else int(final.duplicated(keys).sum()),
        "lost": lost,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=6, help="kill-and-resume runs (signals in turn)")
    parser.add_argument("--out", default=str(HERE / "results" / "bad_inputs.json"))
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="hwprof-bad-inputs-"))
    (folder / "sub").mkdir()
    prepare(folder)
    results = []
    for command, arguments, env, expected in CASES:
        for left in folder.glob("hwprof.parquet*"):  # an earlier case's default output: each case meets its own fault
            left.unlink()
        outcome = hwprof([command, *arguments], folder, env)
        shown = " ".join(arguments).replace(" ".join(FAST), "[fast]")
        outcome.update(command=command, args=shown, env=env, expected_exit=expected)
        results.append(outcome)
        print(
            f"{command} {outcome['args']}: exit {outcome['exit']}, {outcome['lines']} line(s), traceback {outcome['traceback']}",
            file=sys.stderr,
        )
    signals = [signal.SIGTERM, signal.SIGINT, signal.SIGKILL]
    kills = [kill_and_resume(folder, signals[k % 3], k) for k in range(args.kills)]
    report = {
        "command": " ".join(["python", *sys.argv]),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "cases": results,
        "kills": kills,
        "summary": {
            "cases": len(results),
            "tracebacks": sum(r["traceback"] for r in results),
            "bug_messages": sum(r["bug_message"] for r in results),
            "unexpected_exit": sum(r["exit"] != r["expected_exit"] for r in results),
            "kills": len(kills),
            "rows_lost": sum(k["lost"] for k in kills),
            "rows_duplicated": sum(k["duplicated"] for k in kills),
        },
    }
    Path(args.out).write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report["summary"]))


if __name__ == "__main__":
    main()
