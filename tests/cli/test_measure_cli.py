"""`hwprof measure` end to end on tiny models, its errors, resume and interruption."""

import json
import textwrap

import pandas as pd
import pytest
import torch
from click.testing import CliRunner

from fakes.factories import LATE_MODEL, ODD_FACTORIES
from hwprof.cli import main
from hwprof.schema import REQUIRED_COLUMNS

FAST = ["--power", "none", "--precision", "0.2", "--max-time", "0.3", "--threads", "1", "--seed", "0"]


def run(*args):
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def factory_file(tmp_path):
    path = tmp_path / "tiny.py"
    path.write_text(
        textwrap.dedent("""
        import torch.nn as nn

        def tiny():
            net = nn.Sequential(nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 16),
                                nn.ReLU(), nn.Linear(16, 4))
            net.input_shape = (12,)
            return net

        def shapeless():
            return nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())

        def broken():
            raise RuntimeError("weights file missing")

    """)
        + ODD_FACTORIES
    )
    return path


def test_measure_writes_layer_and_network_rows(tmp_path, factory_file):
    out = tmp_path / "tiny.parquet"
    # no sweep: on a loaded machine the networks can take long enough to earn one, and its rows
    args = ["--batch-size", "1,3", "--sweep-share", "0", "--out", str(out), "--json", *FAST]
    result = run("measure", f"{factory_file}:tiny", *args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)  # notes go to stderr: stdout is the JSON document alone
    frame = pd.read_parquet(out)
    assert set(REQUIRED_COLUMNS) <= set(frame.columns)
    assert summary["rows"] == len(frame) == 2 * (7 + 1)
    networks = frame[frame["kind"] == "network"]
    layers = frame[frame["kind"] == "layer"]
    assert sorted(networks["batch_size"]) == [1, 3]
    assert (layers["extraction"] == "fx").all()
    for batch_size, group in layers.groupby("batch_size"):
        network = networks[networks["batch_size"] == batch_size].iloc[0]
        assert (
            network["flops"] == group["flops"].sum() == batch_size * (12 * 16 + 2 * 16 * 16 + 16 * 4 + 3 * 16)
        )  # linears, then relus
        assert network["layer_count"] == 7
        assert list(group.sort_values("layer_index")["op"]) == ["linear", "relu"] * 3 + ["linear"]
    # identical configurations are measured once and shared
    relus = layers[(layers["op"] == "relu") & (layers["batch_size"] == 1)]
    assert relus["config_id"].nunique() == 1 and relus["latency_ms"].nunique() == 1
    assert (frame["latency_ms"] > 0).all()
    # a row of too few samples (a loaded machine, a short budget) has no bounds (NaN); every other holds its median
    bounded = frame[frame["latency_ms_ci_low"].notna()]
    assert frame["latency_ms_ci_low"].isna().equals(frame["latency_ms_ci_high"].isna())
    assert (bounded["latency_ms_ci_low"] <= bounded["latency_ms"]).all()
    assert (bounded["latency_ms"] <= bounded["latency_ms_ci_high"]).all()
    assert frame["power_w"].isna().all()
    assert (frame["other_cpu_share"] >= 0).all()  # observed for every row
    assert all("contended_rows" in entry for entry in summary["networks"])
    assert (frame["discarded_bursts"] >= 0).all() and (frame["processes"] == 1).all()
    measured = layers.drop_duplicates("config_id")["discarded_bursts"].sum() + networks["discarded_bursts"].sum()
    assert sum(entry["discarded_bursts"] for entry in summary["networks"]) == measured
    provenance = json.loads((tmp_path / "tiny.parquet.json").read_text())
    assert provenance["runs"][0]["threads"] == 1
    assert provenance["runs"][0]["allocator"]["policy"] == "steady"  # the default, recorded
    assert provenance["runs"][0]["contention"]["discarded_bursts"] == measured
    assert provenance["runs"][0]["contention"]["waited_s"] >= 0


def test_nas_bench_201_network_only_to_csv(tmp_path):
    arch = "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|none~1|nor_conv_3x3~2|"
    out = tmp_path / "nb.csv"
    result = run("measure", f"nb201:{arch}", "--no-layers", "--out", str(out), "--quiet", *FAST)
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out)
    assert list(frame["kind"]) == ["network"]
    assert frame["model"][0] == f"nb201:{arch}"
    assert frame["flops"][0] > 0


def test_no_layers_says_it_leaves_out_the_layer_sweep(tmp_path):
    """The default sweep is left out of a run of network rows alone, and the run says so (as --processes does)."""
    result = run("measure", "mlp", "--no-layers", "--out", str(tmp_path / "m.parquet"), *FAST)
    assert result.exit_code == 0, result.output
    assert "no layer sweep for the fit with --no-layers" in " ".join(result.output.split())
    asked = run("measure", "mlp", "--no-layers", "--sweep-share", "0", "--out", str(tmp_path / "z.parquet"), *FAST)
    assert asked.exit_code == 0 and "no layer sweep" not in asked.output  # none was asked for


def test_input_shape_option_feeds_a_factory_without_one(tmp_path, factory_file):
    out = tmp_path / "s.parquet"
    result = run("measure", f"{factory_file}:shapeless", "--input-shape", "3,8,8", "--out", str(out), "--quiet", *FAST)
    assert result.exit_code == 0, result.output
    network = pd.read_parquet(out).query("kind == 'network'").iloc[0]
    assert json.loads(network["config"])["input_shape"] == [1, 3, 8, 8]


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["no_such_net"], "unknown model"),
        (["mlp", "--input-shape", "3,-1"], "bad input shape"),
        (["mlp", "--input-shape", "3,x"], "bad input shape"),  # was (3,), failing later inside torch
        (["mlp", "--batch-size", "0"], "bad batch size"),
        (["mlp", "--out", "/nonexistent-dir/x.parquet"], "nonexistent-dir"),
        (["mlp", "--device", "tpu"], "unknown device"),
        (["nb201:|bogus~0|+|none~0|none~1|+|none~0|none~1|none~2|"], "NAS-Bench-201"),
    ],
)
def test_bad_input_gets_one_sentence_and_a_non_zero_exit(args, fragment, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("measure", *args, *FAST)
    assert result.exit_code != 0
    assert fragment in result.output
    assert "Traceback" not in result.output
    assert result.output.startswith("Error:") and result.output.count("\n") == 1


def test_factory_errors_are_reported_not_raised(tmp_path, factory_file):
    for target, fragment in [
        ("broken", "weights file missing"),
        ("shapeless", "--input-shape"),
        ("missing", "no function named"),
        ("shape_in_words", "gives input_shape 'four', which is not a shape"),
        ("text_for_inputs", "returned a module and example inputs, but the example inputs are a str"),
    ]:
        result = run("measure", f"{factory_file}:{target}", "--out", str(tmp_path / "x.parquet"), *FAST)
        assert result.exit_code != 0 and fragment in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("layout", ["beside", "package"])
def test_a_model_file_imports_the_files_beside_it(layout, tmp_path):
    """Model code is seldom one file: `from blocks import Block` beside it, or `from .blocks import Block` in a
    package, as Python runs them."""
    project = tmp_path / f"project_{layout}"
    project.mkdir()
    (project / f"blocks_{layout}.py").write_text(
        "import torch.nn as nn\n\nclass Block(nn.Sequential):\n"
        "    def __init__(self):\n        super().__init__(nn.Linear(8, 8), nn.ReLU())\n"
    )
    if layout == "package":
        (project / "__init__.py").write_text("")
    imported = f"from .blocks_{layout} import Block" if layout == "package" else f"from blocks_{layout} import Block"
    (project / "net.py").write_text(
        f"import torch.nn as nn\n{imported}\n\ndef build():\n"
        "    model = nn.Sequential(Block(), Block())\n    model.input_shape = (8,)\n    return model\n"
    )
    out = tmp_path / "net.parquet"
    result = run("measure", f"{project / 'net.py'}:build", "--no-layers", "--out", str(out), *FAST)
    assert result.exit_code == 0, result.output
    assert len(pd.read_parquet(out)) == 1


def test_a_model_of_a_list_that_cannot_run_its_inputs_fails_before_any_is_timed(tmp_path):
    """The third model wants an attention mask the inputs given do not have: found before the first is timed."""
    path = tmp_path / "masked.py"
    path.write_text(
        "import torch.nn as nn\n\nclass Masked(nn.Module):\n"
        "    def __init__(self):\n        super().__init__()\n        self.linear = nn.Linear(784, 4)\n"
        "    def forward(self, x, attention_mask):\n        return self.linear(x) * attention_mask\n\n"
        "def build():\n    model = Masked()\n    model.input_shape = (784,)\n    return model\n"
    )
    out = tmp_path / "list.parquet"
    result = run("measure", "mlp", "mlp_large", f"{path}:build", "--no-layers", "--out", str(out), *FAST)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"running {path}:build on input" in result.output and "missing 1 required positional" in result.output
    assert "no model was timed" in " ".join(result.output.split()) and not out.exists()


def test_a_model_that_fails_while_timed_is_its_own_sentence_and_keeps_the_rows_before_it(tmp_path):
    path = tmp_path / "late.py"
    path.write_text(LATE_MODEL)
    out = tmp_path / "late.parquet"
    result = run("measure", "mlp", f"{path}:build", "--no-layers", "--out", str(out), *FAST)
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert "this is a bug" not in result.output
    assert f"running {path}:build while timing it on input" in result.output
    assert "fails after 40 calls" in result.output and "--resume" in result.output
    assert set(pd.read_parquet(out)["model"]) == {"mlp"}  # measured before it, kept


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message shown when CUDA is absent")
def test_cuda_asked_for_but_absent(tmp_path):
    result = run("measure", "mlp", "--device", "cuda", "--out", str(tmp_path / "x.parquet"), *FAST)
    assert result.exit_code != 0 and "CUDA" in result.output and "Traceback" not in result.output


def test_interrupted_run_keeps_its_rows_and_resume_finishes_without_remeasuring(tmp_path, factory_file, monkeypatch):
    import hwprof.measuring.runner

    out = tmp_path / "r.parquet"
    real_measure = hwprof.measuring.runner.Runner.measure

    def interrupted_after_three(self, items, on_done=None):
        finished = []

        def count(result):
            on_done(result)
            finished.append(result)
            if len(finished) == 3:
                raise KeyboardInterrupt

        return real_measure(self, items, count)

    monkeypatch.setattr(hwprof.measuring.runner.Runner, "measure", interrupted_after_three)
    result = run("measure", f"{factory_file}:tiny", "--out", str(out), "--quiet", *FAST)
    assert result.exit_code == 130
    kept = pd.read_parquet(out)
    assert 0 < len(kept) < 8
    monkeypatch.setattr(hwprof.measuring.runner.Runner, "measure", real_measure)

    result = run("measure", f"{factory_file}:tiny", "--out", str(out), "--quiet", *FAST)
    assert result.exit_code != 0 and "--resume" in result.output

    result = run("measure", f"{factory_file}:tiny", "--out", str(out), "--resume", "--quiet", *FAST)
    assert result.exit_code == 0, result.output
    final = pd.read_parquet(out)
    assert len(final) == 8 and final["layer_index"].tolist().count(-1) == 1
    before = kept.set_index(["kind", "layer_index"])["latency_ms"]
    after = final.set_index(["kind", "layer_index"])["latency_ms"]
    assert (after.loc[before.index] == before).all()  # nothing measured twice
    assert final["run_id"].nunique() == 2


def test_python_api_returns_a_dataframe(factory_file):
    import hwprof

    frame = hwprof.measure(
        [f"{factory_file}:tiny"], batch_sizes=[2], power="none", precision=0.2, max_item_s=0.3, threads=1
    )
    assert len(frame) == 8 and set(frame["kind"]) == {"layer", "network"}


def test_models_lists_names_and_shapes():
    result = run("models", "--json")
    entries = {entry["name"]: entry for entry in json.loads(result.output)}
    for name in [
        "alexnet",
        "vgg11",
        "vgg16",
        "resnet18",
        "resnet50",
        "mobilenet_v2",
        "squeezenet1_0",
        "mlp",
        "vit_tiny",
    ]:
        assert name in entries
    assert entries["resnet18"]["input_shape"] == [3, 224, 224]


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["mlp", "--input-shape", "3,224,224"], "running mlp on input (1, 3, 224, 224) failed: RuntimeError"),
        (["mlp", "mlp"], "mlp is given more than once"),
        (["sweep:relu:2", "--no-layers"], "is a layer sweep"),
        (["mlp", "--threads", "1000"], "--threads 1000: give a thread count from 1 to"),
        (["mlp", "--max-time", "nan"], "--max-time nan must be a positive number"),
        (["mlp", "--processes", "0"], "--processes 0: give a whole number of processes"),
        (["mlp", "--processes", "2", "--trace"], "--trace records the power samples of one process"),
        (["mlp", "--max-other-share", "0"], "--max-other-share 0.0 is out of range"),
        (["mlp", "--hf-config", "num_hidden_layers=2"], "--hf-config configures hf: models, and none of mlp is one"),
        (["mlp", "--seq-len", "128"], "--seq-len 128 sweeps models with a sequence dimension"),
        (["mlp", "--input", "float32[784]", "--input-shape", "784"], "give the inputs once: --input-shape"),
    ],
)
def test_more_bad_input_is_one_sentence_and_writes_nothing(args, fragment, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("measure", *FAST, *args)
    assert result.exit_code == 1 and fragment in result.output
    assert "Traceback" not in result.output and result.output.count("\n") == 1
    assert not list(tmp_path.iterdir())  # no dataset, journal or lock left behind


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message shown when CUDA is absent")
def test_no_cuda_says_whether_the_build_or_the_machine_lacks_it(tmp_path):
    result = run("measure", "mlp", "--device", "cuda:0", "--out", str(tmp_path / "x.parquet"), *FAST)
    expected = "CPU-only build" if torch.version.cuda is None else "the NVIDIA driver or the GPU is missing"
    assert result.exit_code == 1 and expected in result.output


def test_resume_refuses_another_measurement_into_the_same_file(tmp_path):
    out = tmp_path / "r.parquet"
    assert run("measure", "mlp", "--out", str(out), *FAST).exit_code == 0
    before = out.read_bytes()
    changes = (["mlp"], ["--batch-size", "2"]), (["mlp", "sweep:relu:2"], []), (["mlp"], ["--no-layers"])
    for models, change in (*changes, (["mlp"], ["--cache", "warm"])):
        result = run("measure", *models, "--out", str(out), "--resume", *FAST, *change)
        assert result.exit_code == 1 and "resuming continues that measurement" in result.output, result.output
    assert out.read_bytes() == before and not (tmp_path / "r.parquet.lock").exists()
    assert run("measure", "mlp", "--out", str(out), "--resume", *FAST).exit_code == 0  # the same plan carries on


def test_a_dataset_from_before_cold_was_the_default_resumes_warm_only(tmp_path):
    """Its plan records no cache mode: it was measured warm, and cold rows must not join it."""
    out = tmp_path / "old.csv"  # its provenance in the sidecar only
    assert run("measure", "mlp", "--out", str(out), "--cache", "warm", *FAST).exit_code == 0
    provenance = out.with_name(out.name + ".json")
    record = json.loads(provenance.read_text())
    for earlier in record["runs"]:
        del earlier["plan"]["cache"]
    provenance.write_text(json.dumps(record))
    result = run("measure", "mlp", "--out", str(out), "--resume", *FAST)
    assert result.exit_code == 1 and "other cache (" in result.output and "cache=warm" in result.output
    assert run("measure", "mlp", "--out", str(out), "--resume", "--cache", "warm", *FAST).exit_code == 0


def test_a_batch_that_cannot_fit_in_memory_is_refused_before_it_runs(tmp_path, monkeypatch):
    import hwprof.measuring.session

    monkeypatch.setattr(hwprof.measuring.session, "available_memory_bytes", lambda device: 64 * 2**20)
    out = tmp_path / "big.parquet"
    result = run("measure", "mlp", "--batch-size", "100000", "--out", str(out), *FAST)
    assert result.exit_code == 1 and "mlp at batch size 100000 needs about" in result.output
    assert "0.1 GiB is free on cpu; measure a smaller batch size" in result.output
    assert run("measure", "mlp", "--batch-size", "4", "--out", str(out), *FAST).exit_code == 0  # small fits


def test_trace_without_a_sensor_says_why_no_trace_was_written(tmp_path):
    result = run("measure", "mlp", "--no-layers", "--trace", "--out", str(tmp_path / "t.parquet"), *FAST)
    assert result.exit_code == 0, result.output
    assert (
        f"no power trace written to {tmp_path / 't.trace.parquet'}: power measurement was turned off" in result.output
    )
    result = run("measure", "mlp", "--no-layers", "--trace", "--out", str(tmp_path / "j.parquet"), "--json", *FAST)
    assert json.loads(result.stdout)["trace"] is None and not list(tmp_path.glob("*.trace.parquet"))
    assert "no power trace written to" in result.stderr  # --json keeps the notes, on stderr


@pytest.mark.parametrize("processes", ["1", "2"])
def test_an_interrupt_before_any_row_says_nothing_was_kept(tmp_path, monkeypatch, processes):
    import hwprof.measuring.session

    out = tmp_path / "early.parquet"

    def interrupted_at_once(*args, **kwargs):
        if processes == "2":
            (tmp_path / "early.parquet.processes").mkdir()  # the workers' folder, before any worker wrote
        raise KeyboardInterrupt

    monkeypatch.setattr(hwprof.measuring.session, "measure", interrupted_at_once)
    result = run("measure", "mlp", "--out", str(out), "--processes", processes, *FAST)
    assert result.exit_code == 130
    assert "interrupted before any row was measured: nothing was kept" in result.output
    assert "--resume" not in result.output and not list(tmp_path.iterdir())


def test_json_says_why_power_is_unavailable(tmp_path):
    result = run("measure", "mlp", "--no-layers", "--out", str(tmp_path / "m.parquet"), "--json", *FAST)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["networks"][0]["power_w"] is None
    assert summary["power_unavailable"] == ["power measurement was turned off"]


def test_channels_last_on_a_model_without_images_says_it_changes_nothing(tmp_path):
    result = run("measure", "mlp", "--no-layers", "--channels-last", "--out", str(tmp_path / "c.parquet"), *FAST)
    assert result.exit_code == 0, result.output
    assert "--channels-last lays out 4-D tensors (images) only, and these models take none: mlp" in result.output


def test_quiet_hides_the_progress_but_not_the_warnings(tmp_path):
    """--quiet used to drop every warning with the progress (power unavailable, a sensor stopped, a flag that
    changes nothing), where fit --quiet still gives its warnings."""
    out = tmp_path / "c.parquet"
    result = run("measure", "mlp", "--no-layers", "--channels-last", "--out", str(out), "--quiet", *FAST)
    assert result.exit_code == 0, result.output
    assert "lays out 4-D tensors (images) only, and these models take none: mlp" in result.stderr
    assert "measuring mlp" not in result.output and "network ms" not in result.output  # no progress, no table
