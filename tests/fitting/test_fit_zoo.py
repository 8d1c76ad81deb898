"""Fit and predict with transformer ops: a text model over two sequence lengths, new op sweeps, and predict at
another sequence length and dtype."""

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from fakes.zoo import TINY_HF
from hwprof.cli import main
from hwprof.fitting.data import with_variant_names
from hwprof.models.spec import family_of, split_variant, variant_name

FAST = ["--power", "none", "--precision", "0.3", "--max-time", "0.2", "--threads", "1", "--seed", "0", "--quiet"]
TINY_GPT2 = ",".join(f"{k}={v}" for k, v in TINY_HF["hf:gpt2"].items())


def test_variant_names_round_trip_and_keep_the_family():
    name = variant_name("hf:gpt2", 128, "bfloat16", channels_last=False, compiled=True)
    assert name == "hf:gpt2@seq_len=128,dtype=bfloat16,compiled=1"
    assert split_variant(name) == ("hf:gpt2", {"seq_len": 128, "dtype": "bfloat16", "compiled": True})
    assert variant_name("resnet18") == "resnet18" and split_variant("resnet18") == ("resnet18", {})
    assert family_of(name) == "gpt2"


def test_rows_of_two_sequence_lengths_or_dtypes_are_two_networks():
    frame = pd.DataFrame(
        {
            "model": ["hf:bert"] * 3 + ["resnet18"],
            "seq_len": [128, 512, 128, None],
            "dtype": ["float32", "float32", "bfloat16", "float32"],
        }
    )
    names = with_variant_names(frame)["model"].tolist()
    assert names == ["hf:bert@seq_len=128", "hf:bert@seq_len=512", "hf:bert@seq_len=128,dtype=bfloat16", "resnet18"]


def test_a_shape_that_only_its_sequence_length_changes_is_named_by_the_length_alone():
    """input_ids:int64[seq] at 32 and 64 tokens: two shapes, one per length, so two lengths, not two shapes;
    predict names it mine.py:net@seq_len=32, and fit must too."""
    config = [json.dumps({"input_shape": [1, n]}) for n in (32, 64)] + [
        json.dumps({"input_shape": [1, 3, s, s]}) for s in (8, 16)
    ]
    frame = pd.DataFrame(
        {
            "model": ["mine.py:net"] * 2 + ["images.py:net"] * 2,
            "seq_len": [32, 64, None, None],
            "kind": ["network"] * 4,
            "config": config,
            "run_id": ["a", "a", "b", "c"],  # one run per --input-shape
            "batch_size": [1] * 4,
        }
    )
    names = with_variant_names(frame)["model"].tolist()
    assert names == [
        "mine.py:net@seq_len=32",
        "mine.py:net@seq_len=64",
        "images.py:net@input_shape=3x8x8",
        "images.py:net@input_shape=3x16x16",
    ]


@pytest.mark.slow
def test_measure_fit_and_predict_a_text_model_at_another_length_and_dtype(tmp_path):
    data, predictor = tmp_path / "d.parquet", tmp_path / "p.json"
    models = ["hf:gpt2", "mlp", "sweep:softmax:4", "sweep:matmul:4", "sweep:scaleddotproductattention:6"]
    args = ["--hf-config", TINY_GPT2, "--seq-len", "8,16", "--out", str(data), *FAST]
    result = CliRunner().invoke(main, ["measure", *models, *args])
    assert result.exit_code == 0, result.output
    frame = pd.read_parquet(data)
    assert {"softmax", "matmul", "scaleddotproductattention", "embedding"} <= set(frame["op"])
    result = CliRunner().invoke(main, ["fit", str(data), "--out", str(predictor), "--no-cv"])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(
        main,
        ["predict", str(predictor), "hf:gpt2", "--hf-config", TINY_GPT2, "--seq-len", "12,24", "--dtype", "bfloat16"],
    )
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(
        main, ["predict", str(predictor), "hf:gpt2", "--hf-config", TINY_GPT2, "--seq-len", "12,24", "--json"]
    )
    predictions = json.loads(result.output)
    assert [p["model"].split("@")[1] for p in predictions] == ["seq_len=12", "seq_len=24"]
    assert predictions[0]["total"]["latency_ms"] > 0
    sdpa = [layer for layer in predictions[1]["layers"] if layer["op"] == "scaleddotproductattention"]
    assert sdpa and sdpa[0]["model"] != "fallback"  # costed by the sweep's own model

    import torch

    import hwprof

    loaded = hwprof.load_predictor(predictor)
    module = torch.nn.Sequential(torch.nn.Embedding(50, 8), torch.nn.Linear(8, 4))
    prediction = loaded.predict(module, inputs=torch.randint(0, 50, (1, 10)), seq_len=None)
    assert list(prediction.layers["op"]) == ["embedding", "linear"]
    assert prediction.total["latency_ms"] > 0


def test_one_model_measured_at_two_input_shapes_is_two_networks(tmp_path):
    # fit used to combine them as reruns of one network ("disagree by 100.8% ... measurement noise")
    from hwprof.fitting.fit import fit

    factory = tmp_path / "mine.py"
    factory.write_text(
        "import torch.nn as nn\n"
        "def net():\n"
        "    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),"
        " nn.Linear(8, 4))\n"
    )
    paths = []
    for size in (16, 32):
        out = tmp_path / f"net{size}.parquet"
        args = ["measure", f"{factory}:net", "--input-shape", f"3,{size},{size}", "--no-layers", "--out", str(out)]
        result = CliRunner().invoke(main, [*args, *FAST])
        assert result.exit_code == 0, result.output
        paths.append(out)
    predictor = fit(paths, cv=False, run_model_files=True)  # the user's own model file, measured here
    assert predictor.doc["training"]["rows"]["networks"] == 2
    frame = with_variant_names(pd.concat([pd.read_parquet(p).assign(run_id=str(i)) for i, p in enumerate(paths)]))
    named = sorted(set(frame["model"]))
    assert [split_variant(n)[1]["input_shape"] for n in named] == [(3, 16, 16), (3, 32, 32)]
    # each name is traced at its own shape (these rows have no layer rows to learn the layers from)
    from hwprof.predictor.records import network_layers

    small, large = (sum(r.flops for r in network_layers(name, 1).records if r.op == "conv2d") for name in named)
    assert large == 4 * small  # a conv's work grows with the image's area
