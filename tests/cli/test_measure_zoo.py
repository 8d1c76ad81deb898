"""Measuring the models users deploy: zoo sources, token inputs, sequence lengths, dtypes, compile, and the
one sentence each bad input gets."""

import json
import textwrap

import pandas as pd
import pytest
import torch
import torch.nn as nn
from click.testing import CliRunner

import hwprof
from fakes.synthetic import fitted_predictor_path
from fakes.zoo import TINY_HF, TINY_WHISPER
from hwprof.cli import main
from hwprof.dataset import read_provenance

FAST = ["--power", "none", "--precision", "0.3", "--max-time", "0.2", "--threads", "1", "--seed", "0"]
API_FAST = {"power": "none", "precision": 0.3, "max_item_s": 0.2, "threads": 1, "seed": 0}
TINY_BERT = ",".join(f"{k}={v}" for k, v in TINY_HF["hf:bert"].items())
TINY_WHISPER_CLI = ",".join(f"{k}={v}" for k, v in TINY_WHISPER.items())


def run(*args):
    return CliRunner().invoke(main, list(args))


def one_sentence(result, *fragments):
    assert result.exit_code != 0, result.output
    assert "Traceback" not in result.output
    assert result.output.startswith("Error:") and result.output.count("\n") == 1, result.output
    for fragment in fragments:
        assert fragment in result.output, result.output


@pytest.fixture
def model_file(tmp_path):
    path = tmp_path / "text.py"
    path.write_text(
        textwrap.dedent("""
        import torch
        import torch.nn as nn

        class Tagger(nn.Module):
            def __init__(self):
                super().__init__()
                self.embed = nn.Embedding(100, 16)
                self.out = nn.Linear(16, 5)

            def forward(self, input_ids, attention_mask=None):
                x = self.embed(input_ids)
                if attention_mask is not None:
                    x = x * attention_mask.unsqueeze(-1)
                return {"logits": self.out(x), "hidden": (x,)}

        def tagger():
            return Tagger(), {"input_ids": torch.randint(0, 100, (1, 12)), "attention_mask": torch.ones(1, 12, dtype=torch.int64)}

        def bare_tagger():
            return Tagger()

        def pooled():  # fully convolutional: it runs at any image size, on one channel
            return nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1)), torch.randn(1, 1, 28, 28)

        def crashes():
            class Crash(nn.Module):
                def forward(self, x):
                    raise ValueError("this model is broken")
            net = Crash()
            net.input_shape = (4,)
            return net
    """)
    )
    return path


def test_text_model_with_token_ids_and_mask_from_a_factory_returning_examples(tmp_path, model_file):
    out = tmp_path / "text.parquet"
    result = run("measure", f"{model_file}:tagger", "--batch-size", "2", "--out", str(out), "--json", *FAST)
    assert result.exit_code == 0, result.output
    frame = pd.read_parquet(out)
    network = frame[frame["kind"] == "network"].iloc[0]
    config = json.loads(network["config"])
    assert config["inputs"] == "input_ids:int64[2,12], attention_mask:int64[2,12]"
    assert network["output_bytes"] == 2 * 12 * 5 * 4 + 2 * 12 * 16 * 4  # logits and the hidden tuple
    assert "embedding" in set(frame["op"])


def test_input_option_describes_a_models_inputs(tmp_path, model_file):
    out = tmp_path / "text.parquet"
    result = run(
        "measure",
        f"{model_file}:bare_tagger",
        "--input",
        "input_ids:int64[seq]",
        "--input",
        "attention_mask:int64[seq]",
        "--seq-len",
        "4,9",
        "--out",
        str(out),
        *FAST,
    )
    assert result.exit_code == 0, result.output
    frame = pd.read_parquet(out)
    networks = frame[frame["kind"] == "network"].sort_values("seq_len")
    assert networks["seq_len"].tolist() == [4, 9]
    assert [json.loads(c)["input_shape"] for c in networks["config"]] == [[1, 4], [1, 9]]
    layers = frame[(frame["kind"] == "layer") & ~frame["model"].str.startswith("sweep:")]  # a slow run sweeps too
    assert set(layers["seq_len"]) == {4, 9}


def test_inputs_given_with_a_network_and_a_sweep_feed_the_network_and_leave_the_sweep_its_own(tmp_path):
    # the sweep used to be turned into a "network" fed those inputs, and failed: ModuleList has no forward
    out = tmp_path / "both.parquet"
    result = run("measure", "mlp", "sweep:relu:2", "--input", "float32[784]", "--out", str(out), *FAST)
    assert result.exit_code == 0, result.output
    frame = pd.read_parquet(out)
    assert set(frame[frame["kind"] == "network"]["model"]) == {"mlp"}
    assert (frame[frame["model"] == "sweep:relu:2"]["kind"] == "layer").all()


def test_input_shape_replaces_the_example_tensor_a_factory_returns(tmp_path, model_file):
    """A factory's example tensor is its default input, as a zoo model's is: --input-shape replaces it, where
    it used to be ignored, from the command line and from Python alike."""
    out = tmp_path / "pooled.parquet"
    result = run("measure", f"{model_file}:pooled", "--input-shape", "1,12,12", "--out", str(out), *FAST)
    assert result.exit_code == 0, result.output
    frame = pd.read_parquet(out)
    assert json.loads(frame[frame["kind"] == "network"].iloc[0]["config"])["input_shape"] == [1, 1, 12, 12]
    assert json.loads(frame[frame["op"] == "conv2d"].iloc[0]["config"])["input_shapes"] == [[1, 1, 12, 12]]
    api = hwprof.measure([f"{model_file}:pooled"], input_shape=(1, 12, 12), layers=False, **API_FAST)
    assert json.loads(api.iloc[0]["config"])["input_shape"] == [1, 1, 12, 12]


@pytest.mark.slow
def test_hf_model_over_two_sequence_lengths_in_bfloat16(tmp_path):
    out = tmp_path / "bert.parquet"
    args = ["measure", "hf:bert", "--hf-config", TINY_BERT, "--seq-len", "8,16", "--dtype", "bfloat16"]
    result = run(*args, "--no-layers", "--out", str(out), *FAST)
    assert result.exit_code == 0, result.output
    frame = pd.read_parquet(out)
    assert sorted(frame["seq_len"]) == [8, 16]
    assert (frame["dtype"] == "bfloat16").all() and not frame["compiled"].any()
    assert frame["model"].iloc[0].startswith("hf:bert:hidden_size=32")
    tail = frame[["latency_ms_p90", "latency_ms_p99"]]
    assert (tail["latency_ms_p90"] <= tail["latency_ms_p99"]).all()
    assert (frame["samples"] >= 1).all()


def test_hf_config_configures_the_hf_models_of_a_list_that_holds_others(tmp_path):
    out = tmp_path / "mixed.parquet"
    result = run("measure", "mlp", "hf:bert", "--hf-config", TINY_BERT, "--no-layers", "--out", str(out), *FAST)
    assert result.exit_code == 0, result.output
    models = set(pd.read_parquet(out)["model"])
    assert "mlp" in models and any(m.startswith("hf:bert:hidden_size=32") for m in models)


def test_dtypes_never_share_a_config_id():
    net = nn.Sequential(nn.Linear(8, 8), nn.ReLU())
    frames = {
        dtype: hwprof.measure([net], inputs=torch.randn(1, 8), dtype=dtype, **API_FAST)
        for dtype in ("float32", "float16", "bfloat16")
    }
    ids = {dtype: set(frame.loc[frame["kind"] == "layer", "config_id"]) for dtype, frame in frames.items()}
    assert not ids["float32"] & ids["float16"] and not ids["float16"] & ids["bfloat16"]
    assert not ids["float32"] & ids["bfloat16"]
    for dtype, frame in frames.items():
        assert (frame["dtype"] == dtype).all()
        layers = frame[frame["kind"] == "layer"]
        assert all(('"dtype"' in c) == (dtype != "float32") for c in layers["config"])


def test_channels_last_enters_the_layer_config():
    net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU())
    plain = hwprof.measure([net], input_shape=(3, 16, 16), **API_FAST)
    nhwc = hwprof.measure([net], input_shape=(3, 16, 16), channels_last=True, **API_FAST)
    conv = nhwc[nhwc["op"] == "conv2d"].iloc[0]
    assert json.loads(conv["config"])["memory_format"] == "channels_last"
    assert conv["config_id"] != plain[plain["op"] == "conv2d"].iloc[0]["config_id"]
    assert nhwc["channels_last"].all() and not plain["channels_last"].any()


def test_two_different_modules_of_one_class_are_two_networks_and_one_module_keeps_its_name(tmp_path):
    from hwprof.fitting.data import training_data
    from hwprof.models.spec import family_of

    small, wide = (nn.Sequential(nn.Linear(16, width), nn.ReLU(), nn.Linear(width, 4)) for width in (8, 64))
    frame = hwprof.measure([small, wide], input_shape=(16,), **API_FAST)  # was "given more than once"
    names = sorted(set(frame.loc[frame["kind"] == "network", "model"]))  # a busy machine's run adds a sweep
    assert len(names) == 2 and all(name.startswith("Sequential#") for name in names)
    again = hwprof.measure([nn.Sequential(nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 4))], input_shape=(16,), **API_FAST)
    assert set(again["model"]) < set(names)  # the same structure is the same network in another run
    assert {family_of(name) for name in names} == {"Sequential"}
    networks = training_data(frame, frame["device_name"].iloc[0]).networks
    assert sorted(networks.names) == names  # fit keeps them apart, not as reruns of one


def test_a_module_without_inputs_is_one_sentence():
    with pytest.raises(hwprof.HwprofError, match="pass inputs "):
        hwprof.measure([nn.Linear(10, 10)])


def test_a_module_is_measured_and_left_as_it_was_given():
    """Converted for the run (dtype, layout) it is measured as a copy; its mode and torch's threads come back."""
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU()).train()
    weight = net[0].weight.detach().clone()
    threads = torch.get_num_threads()
    frame = hwprof.measure(net, input_shape=(3, 8, 8), dtype="bfloat16", channels_last=True, **API_FAST)
    assert (frame["dtype"] == "bfloat16").all()
    assert net.training and net[1].training
    assert net[0].weight.dtype == torch.float32 and torch.equal(net[0].weight, weight)
    assert net[0].weight.is_contiguous()
    assert torch.get_num_threads() == threads  # API_FAST ran it at one thread


def test_the_frame_measure_returns_has_the_dtypes_of_the_file_it_writes(tmp_path):
    from hwprof.dataset import read_dataset

    net = nn.Sequential(nn.Linear(8, 8), nn.ReLU())
    kept = hwprof.measure(net, input_shape=(8,), out=tmp_path / "run.parquet", **API_FAST)
    alone = hwprof.measure(net, input_shape=(8,), **API_FAST)
    written = read_dataset(tmp_path / "run.parquet")
    assert dict(kept.dtypes) == dict(written.dtypes) == dict(alone.dtypes)
    assert alone["energy_mj"].dtype == "float64" and alone["stable"].dtype == "boolean"
    with pytest.raises(hwprof.HwprofError, match="progress is a hwprof.progress.Progress"):
        hwprof.measure(net, input_shape=(8,), progress=print, **API_FAST)


def test_a_module_paired_with_its_inputs_keeps_them_in_a_list_of_others():
    tokens = nn.Sequential(nn.Embedding(50, 8), nn.Linear(8, 4))
    ids = torch.randint(0, 50, (1, 6))
    frame = hwprof.measure([(tokens, ids), "mlp"], layers=False, **API_FAST)
    config = json.loads(frame.loc[frame["model"] != "mlp", "config"].iloc[0])
    assert config["input_shape"] == [1, 6] and "int64" in config["inputs"]
    alone = hwprof.measure((tokens, ids), layers=False, **API_FAST)  # one pair alone is a list of one
    assert len(alone) == 1


def test_a_half_precision_module_measured_at_float32_is_one_sentence():
    half = nn.Linear(8, 4).half()
    with pytest.raises(hwprof.HwprofError, match="holds float16 weights and the run is float32: pass dtype=float16"):
        hwprof.measure(half, inputs=torch.randn(1, 8, dtype=torch.half), **API_FAST)
    frame = hwprof.measure(half, inputs=torch.randn(1, 8, dtype=torch.half), dtype="float16", **API_FAST)
    assert (frame["dtype"] == "float16").all()
    # predict's rule too: a dtype asked for is what the module is converted to; float64 at float32 is refused
    frame = hwprof.measure(half, inputs=torch.randn(1, 8, dtype=torch.half), dtype="bfloat16", **API_FAST)
    assert (frame["dtype"] == "bfloat16").all() and half.weight.dtype == torch.float16
    with pytest.raises(hwprof.HwprofError, match="holds float64 weights and the run is float32: convert it with"):
        hwprof.measure(nn.Linear(8, 4).double(), input_shape=(8,), **API_FAST)


@pytest.mark.slow
def test_compile_runs_the_network_compiled_and_layers_eager(tmp_path):
    out = tmp_path / "mlp.parquet"
    result = run("measure", "mlp", "--compile", "--out", str(out), *FAST)
    assert result.exit_code == 0, result.output
    frame = pd.read_parquet(out)
    assert frame.loc[frame["kind"] == "network", "compiled"].tolist() == [True]
    assert not frame.loc[frame["kind"] == "layer", "compiled"].any()


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["mlp", "--input", "x:float32[5]"], ["running mlp on input x:float32[1,5] failed", "RuntimeError"]),
        (["{file}:crashes"], ["this model is broken"]),
        (["torchvision:resnet19"], ["closest", "resnet18"]),
        (["hf:bert-base-uncased"], ["downloads nothing", "hf:bert"]),
        (["hf:bert", "--hf-config", "num_wheels=4"], ["--hf-config num_wheels=4", "no setting"]),
        (["hf:bert", "--hf-config", "layers"], ["key=value"]),
        (["mlp", "--input", "ids:int8[4]"], ["'int8' is not a dtype"]),
        (["mlp", "--input", "ids[4]"], ["NAME:DTYPE[SHAPE]"]),
        (["mlp", "--seq-len", "0"], ["--seq-len"]),
        (["{file}:pooled", "--input-shape", "3,28,28"], ["pooled on input (1, 3, 28, 28) failed", "1 channels"]),
        (
            ["{file}:tagger", "--input-shape", "12"],
            ["takes input_ids:int64[12], attention_mask:int64[12], which --input-shape", "drop it, or describe"],
        ),
        (
            ["hf:bert", "--hf-config", TINY_BERT, "--input-shape", "16"],
            ["takes input_ids:int64[seq]", "drop it, set the sequence length with --seq-len, or describe"],
        ),
        (
            ["hf:whisper", "--hf-config", TINY_WHISPER_CLI],  # the inputs named are those that run it: 2 x 16 frames
            ["describe its inputs with --input, e.g. input_features:float32[8,32] and decoder_input_ids:int64[seq]"],
        ),
        (["sweep:relu:2", "--input-shape", "3,8,8"], ["sweep:relu:2 runs each layer on that layer's own inputs"]),
        (["sweep:relu:2", "--input", "float32[8]"], ["so --input applies to none of them"]),
        (["--source"], []),
    ],
)
def test_bad_inputs_are_one_sentence(args, fragments, tmp_path, model_file):
    if args == ["--source"]:
        one_sentence(run("models", "--source", "zoo"), "unknown model source 'zoo'")
        return
    args = [a.replace("{file}", str(model_file)) for a in args]
    one_sentence(run("measure", *args, "--out", str(tmp_path / "x.parquet"), *FAST), *fragments)
    assert not (tmp_path / "x.parquet").exists()


@pytest.mark.parametrize("command", ["measure", "predict"])
def test_an_input_named_twice_is_one_sentence(command, tmp_path):
    """The second would replace the first, as a model named twice would be measured twice: both are refused."""
    twice = ["--input", "x:float32[3,32,32]", "--input", "x:float32[3,32,32]"]
    if command == "measure":
        result = run("measure", "vit_tiny", *twice, "--out", str(tmp_path / "x.parquet"), *FAST)
    else:
        predictor, _ = fitted_predictor_path(tmp_path, n_networks=10)
        result = run("predict", predictor, "vit_tiny", *twice)
    one_sentence(result, "--input names x more than once; describe each input once")
    assert not (tmp_path / "x.parquet").exists()


def test_a_dtype_the_device_cannot_run_is_one_sentence(tmp_path, monkeypatch):
    real = torch.nn.functional.linear

    def no_half(x, weight, bias=None):
        if x.dtype == torch.float16:
            raise RuntimeError("addmm_impl_cpu_ not implemented for 'Half'")
        return real(x, weight, bias)

    monkeypatch.setattr(torch.nn.functional, "linear", no_half)
    result = run("measure", "mlp", "--dtype", "float16", "--out", str(tmp_path / "x.parquet"), *FAST)
    one_sentence(result, "--dtype float16 cannot run on cpu", "not implemented for 'Half'")


def test_models_lists_each_installed_source():
    pytest.importorskip("torchvision")
    result = run("models", "--source", "torchvision", "--json")
    assert result.exit_code == 0, result.output
    listed = json.loads(result.output)  # objects, as the built-in listing gives
    unknown = {"input_shape": None, "family": None, "description": None}
    assert {"name": "torchvision:resnet50", "source": "torchvision", **unknown} in listed
    assert set(json.loads(run("models", "--json").output)[0]) == set(listed[0])  # the same keys as built-ins
    overview = run("models")
    assert "torchvision:NAME" in overview.output and "hf:NAME" in overview.output
    assert "sweep:OP[:COUNT[:SEED]]" in " ".join(overview.output.split())


def test_models_says_which_pip_install_adds_a_missing_zoo(monkeypatch):
    from hwprof.models.sources import Source

    monkeypatch.setattr(Source, "installed", property(lambda self: False))
    overview = " ".join(run("models").output.split())  # as one line, however the terminal wrapped it
    assert overview.count("not installed: pip install") == 3 and "'torchvision==0." in overview


def test_a_sequence_longer_than_the_model_takes_is_one_sentence(tmp_path):
    pytest.importorskip("transformers")
    args = ["measure", "hf:bert", "--hf-config", TINY_BERT + ",max_position_embeddings=64", "--seq-len", "32,100"]
    one_sentence(run(*args, "--out", str(tmp_path / "x.parquet"), *FAST), "at most 64 tokens", "not 100")


def test_half_precision_without_native_support_is_said_and_recorded(tmp_path, monkeypatch):
    cpuinfo = tmp_path / "root" / "proc" / "cpuinfo"
    cpuinfo.parent.mkdir(parents=True)
    cpuinfo.write_text("processor\t: 0\nmodel name\t: Test CPU\nflags\t\t: fpu sse2 avx2\n")
    monkeypatch.setenv("HWPROF_SYSFS_ROOT", str(tmp_path / "root"))
    out = tmp_path / "mlp.parquet"
    result = run("measure", "mlp", "--dtype", "float16", "--no-layers", "--out", str(out), *FAST)
    assert result.exit_code == 0, result.output
    assert "no native float16 arithmetic" in result.output
    execution = read_provenance(out)[-1]["execution"]
    assert execution["dtype"] == "float16" and execution["native_precision"] is False
    cpuinfo.write_text("processor\t: 0\nmodel name\t: Test CPU\nflags\t\t: avx2 avx512_fp16\n")
    result = run("measure", "mlp", "--dtype", "float16", "--no-layers", "--out", str(tmp_path / "b.parquet"), *FAST)
    assert result.exit_code == 0 and "native" not in result.output
