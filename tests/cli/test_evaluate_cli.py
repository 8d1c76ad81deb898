"""`hwprof fit`, `hwprof predict` and `hwprof evaluate` through the click group."""

import json

import pytest
from click.testing import CliRunner

from fakes.synthetic import fitted_predictor_path, synthetic_frame, write
from hwprof.cli import main


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    directory = tmp_path_factory.mktemp("cli")
    predictor, dataset = fitted_predictor_path(directory, n_networks=10, layer_noise=0.03, network_noise=0.03)
    return predictor, dataset, directory


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.mark.slow
def test_fit_writes_a_predictor_and_reports_cv(tmp_path):
    dataset = write(synthetic_frame(n_networks=10, seed=2, network_noise=0.02), tmp_path / "d.parquet")
    out = tmp_path / "p.json"
    result = run("fit", dataset, "--out", out, "--family", "polynomial", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["cv"]["scheme"] == "leave-one-family-out"
    assert set(summary["layer_models"]["latency_ms"]) >= {"conv2d", "relu", "fallback"}
    assert json.loads(out.read_text())["format"] == "hwprof-predictor"
    table = run("fit", dataset, "--out", tmp_path / "q.json", "--family", "polynomial", "--no-cv", "--quiet")
    assert table.exit_code == 0 and "layer models" in table.output and "intervals are unavailable" in table.output
    predicted = run("predict", tmp_path / "q.json", "mlp")
    assert predicted.exit_code == 0 and "(no interval)" in predicted.output
    assert "intervals" not in predicted.output.splitlines()[0]  # the table's title promises none
    assert "refit without --no-cv" in " ".join(predicted.output.split())


@pytest.mark.slow
def test_predict_table_and_json(files):
    predictor, _, _ = files
    table = run("predict", predictor, "mlp", "mlp_large", "--batch-size", "1,2", "--layers")
    assert table.exit_code == 0, table.output
    assert "mlp_large" in table.output and "latency ms" in table.output and "fallback" in table.output
    result = run("predict", predictor, "mlp", "--json", "--confidence", "0.8")
    entries = json.loads(result.output)
    assert entries[0]["confidence"] == 0.8
    low, high = entries[0]["interval"]["latency_ms"]
    assert low < entries[0]["total"]["latency_ms"] < high
    assert len(entries[0]["layers"]) == 8


def test_predict_gives_a_list_its_seq_len_and_hf_config_where_they_apply(files):
    """As measure does: resnet18 beside a text model runs without the length, and without the hf: settings."""
    pytest.importorskip("transformers")
    from fakes.zoo import TINY_HF

    predictor, _, _ = files
    settings = ",".join(f"{key}={value}" for key, value in TINY_HF["hf:bert"].items())
    result = run("predict", predictor, "mlp", "hf:bert", "--seq-len", "8,16", "--hf-config", settings, "--json")
    assert result.exit_code == 0, result.output
    names = [entry["model"] for entry in json.loads(result.output)]
    assert names[0] == "mlp" and len(names) == 3  # mlp once; the text model at each length
    assert names[1].endswith("@seq_len=8") and names[2].endswith("@seq_len=16")
    alone = run("predict", predictor, "mlp", "mlp_large", "--seq-len", "8")
    assert alone.exit_code == 1 and "has none; drop it" in alone.output


def test_predict_traces_a_model_without_a_sequence_once_beside_a_text_model(files, monkeypatch):
    """Learning that mlp takes no --seq-len traces it; predicting it then uses that trace, not a second one."""
    pytest.importorskip("transformers")
    import hwprof.predictor.records as records
    from fakes.zoo import TINY_HF

    traced, trace_any = [], records._trace_any
    monkeypatch.setattr(records, "_cache", type(records._cache)())
    monkeypatch.setattr(
        records, "_trace_any", lambda model, *a: traced.append(getattr(model, "name", model)) or trace_any(model, *a)
    )
    predictor, _, _ = files
    settings = ",".join(f"{key}={value}" for key, value in TINY_HF["hf:bert"].items())
    result = run("predict", predictor, "mlp", "hf:bert", "--seq-len", "8", "--hf-config", settings)
    assert result.exit_code == 0, result.output
    assert traced.count("mlp") == 1, traced


@pytest.mark.slow
def test_evaluate_table_json_and_plot(files):
    predictor, dataset, directory = files
    png = directory / "eval.png"
    result = run("evaluate", predictor, dataset, "--json", "--plot", png)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    network = report["network"]["latency_ms"]
    assert {"rmspe", "mape", "within_5pct", "within_10pct", "spearman", "kendall", "coverage"} <= set(network)
    assert set(report["layers"]) >= {"conv2d", "relu", "total (all layers)"}
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = run("evaluate", predictor, dataset)
    assert table.exit_code == 0 and "RMSPE" in table.output and "conv2d" in table.output


@pytest.mark.parametrize(
    "args, message",
    [
        (("predict", "missing.json", "mlp"), "does not exist"),
        (("predict", "{predictor}", "nonsense"), "unknown model 'nonsense'"),
        (("predict", "{predictor}", "mlp", "--batch-size", "0"), "bad batch size"),
        (("predict", "{predictor}", "mlp", "--strict"), "no layer model of their own"),
        (("evaluate", "{predictor}", "missing.parquet"), "does not exist"),
        (("fit", "missing.parquet"), "does not exist"),
        (("fit", "{dataset}", "--target", "power"), "needs power_w"),
        (("evaluate", "{dataset}", "{predictor}"), "is a Parquet file (a dataset?), not a predictor file"),  # swapped
        (("evaluate", "{predictor}", "{dataset}", "--plot", "x.parquet"), "must end in .png"),
        (("evaluate", "{predictor}", "{dataset}", "--plot", "plotfile"), "must end in .png"),
        (("evaluate", "{predictor}", "{dataset}", "--plot", "{predictor}.png/"), "is a directory"),
    ],
)
def test_bad_input_is_one_sentence_and_exit_1(files, args, message):
    predictor, dataset, _ = files
    result = run(*[a.format(predictor=predictor, dataset=dataset) for a in args])
    assert result.exit_code == 1
    assert result.output.startswith("Error: ")
    assert message in result.output
    assert "Traceback" not in result.output


EXAMPLE_FACTORIES = """
import torch
import torch.nn as nn


def pooled():  # fully convolutional: it runs at any image size, on one channel
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1)), torch.randn(1, 1, 28, 28)


def tokens():
    return nn.Embedding(100, 8), torch.randint(0, 100, (1, 12))
"""


def test_predict_feeds_a_factorys_model_the_input_shape_given_in_place_of_its_examples(files, tmp_path):
    """--input-shape replaces a factory's example tensor, where it used to be ignored; a shape the model cannot
    run, and token ids a shape cannot describe, are one sentence, on the command line and from Python."""
    from hwprof.errors import HwprofError
    from hwprof.predictor.predictor import load_predictor

    predictor, _, _ = files
    path = tmp_path / "examples.py"
    path.write_text(EXAMPLE_FACTORIES)
    result = run("predict", predictor, f"{path}:pooled", "--input-shape", "1,56,56", "--json")
    assert result.exit_code == 0, result.output
    conv = json.loads(result.stdout)[0]["layers"][0]
    assert conv["op"] == "conv2d" and conv["flops"] == 4 * 54 * 54 * 9
    for factory, shape, sentence in [
        ("pooled", "3,28,28", "pooled on input (1, 3, 28, 28) failed"),
        ("tokens", "12", "tokens takes input:int64[12], which --input-shape (the shape of one float input) cannot"),
    ]:
        refused = run("predict", predictor, f"{path}:{factory}", "--input-shape", shape)
        assert refused.exit_code == 1 and sentence in refused.output, refused.output
        assert "Traceback" not in refused.output and refused.output.count("\n") == 1
    loaded = load_predictor(predictor)
    assert loaded.predict(f"{path}:pooled", input_shape=(1, 56, 56)).layers["flops"].iloc[0] == 4 * 54 * 54 * 9
    with pytest.raises(HwprofError, match=r"takes input:int64\[12\], which input_shape \(the shape of one float"):
        loaded.predict(f"{path}:tokens", input_shape=(12,))


def test_evaluate_scores_a_dataset_of_layer_rows_alone(files, tmp_path):
    from fakes.synthetic import synthetic_frame, write

    predictor, _, _ = files
    frame = synthetic_frame(n_networks=4, seed=3)
    layers_only = write(frame[frame["kind"] == "layer"], tmp_path / "layers.parquet")
    result = run("evaluate", predictor, layers_only, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["network"] == {} and report["layers"]["total (all layers)"]["n"] > 0


def test_a_prediction_note_names_the_batch_sizes_it_holds_for_where_not_all():
    from types import SimpleNamespace

    from hwprof.cli.fit import prediction_notes

    def prediction(batch_size, warnings):
        return SimpleNamespace(model="mlp", batch_size=batch_size, warnings=warnings)

    notes = prediction_notes([prediction(1, ["shared"]), prediction(8, ["shared", "outside the training data"])])
    assert notes == ["note: mlp: shared", "note: mlp (batch 8): outside the training data"]


def test_predict_json_of_a_predictor_without_intervals_is_standard_json(tmp_path):
    dataset = write(synthetic_frame(n_networks=1), tmp_path / "one.parquet")
    assert run("fit", dataset, "--out", tmp_path / "p.json", "--no-cv", "--quiet").exit_code == 0
    result = run("predict", tmp_path / "p.json", "mlp", "--json")
    assert result.exit_code == 0, result.output
    (entry,) = json.loads(result.output, parse_constant=lambda name: pytest.fail(f"{name} is not JSON"))
    assert entry["interval"]["latency_ms"] is None  # as the table says "(no interval)", not [0, null]


def test_evaluate_gives_no_coverage_for_a_predictor_without_intervals(tmp_path):
    dataset = write(synthetic_frame(n_networks=1), tmp_path / "one.parquet")
    assert run("fit", dataset, "--out", tmp_path / "p.json", "--no-cv", "--quiet").exit_code == 0
    result = run("evaluate", tmp_path / "p.json", dataset, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["network"]["latency_ms"]["coverage"] is None  # not 1.0: (0, inf) holds all
    table = run("evaluate", tmp_path / "p.json", dataset)
    row = next(line for line in table.output.splitlines() if "latency_ms " in line)
    assert row.rstrip(" │").endswith("-")


def test_no_interval_advice_fits_how_the_predictor_was_made(tmp_path):
    one_network = tmp_path / "one_net.csv"
    one_network.write_text("model,batch_size,latency_ms\nmlp,1,2.5\n")
    assert run("fit", one_network, "--out", tmp_path / "p.json", "--quiet").exit_code == 0
    result = run("predict", tmp_path / "p.json", "mlp")
    assert result.exit_code == 0, result.output
    advice = " ".join(result.output.split())
    assert "since its networks could not be cross-validated (only 1 network(s): too few to cross-validate)" in advice
    assert "measure more networks, of at least 3 families, and fit with them" in advice
    assert "--no-cv" not in advice  # never given, so not to be dropped


def test_the_predict_table_keeps_seq_and_dtype_of_a_long_name_in_columns_of_their_own(files):
    """Two lengths of one long hf: name were two rows cut to the same 'hf:llama:hidden_size=64,...,num_hidden_laye…'."""
    pytest.importorskip("transformers")
    from fakes.zoo import TINY_HF

    predictor, _, _ = files
    settings = {**TINY_HF["hf:llama"], "intermediate_size": 96, "max_position_embeddings": 64, "rms_norm_eps": 1e-6}
    text = ",".join(f"{key}={value}" for key, value in settings.items())
    result = run("predict", predictor, "hf:llama", "--hf-config", text, "--seq-len", "8,16", "--dtype", "bfloat16")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    header = next(line for line in lines if "model" in line and "batch" in line)
    assert [cell.strip() for cell in header.split("┃")][2:5] == ["batch", "seq", "dtype"]
    cells = [[cell.strip() for cell in line.split("│")] for line in lines if line.startswith("│")]
    assert [row[2:5] for row in cells if row[2]] == [["1", "8", "bfloat16"], ["1", "16", "bfloat16"]]
    assert "…" not in result.output  # the name wraps, whole
    assert "rms_norm_eps=1e-06" in "".join(row[1] for row in cells)
