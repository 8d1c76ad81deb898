"""A network in a dtype or layout the predictor has no data in gets no interval (no held-out error says how far
off it is: float16 emulated on a CPU ran 28x slower than float32), and a note saying what to measure."""

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from test_shift_layout import TinyConvNet

import hwprof
from fakes.synthetic import DEVICE, fitted_predictor_path, network_layers, synthetic_frame, write
from hwprof.cli import main
from hwprof.fitting.fit import fit
from hwprof.predictor.features import LayerRecord


@pytest.fixture(scope="module")
def float32_only(tmp_path_factory):
    """A cross-validated predictor of float32, NCHW layers: its float32 networks have intervals."""
    return hwprof.load_predictor(fitted_predictor_path(tmp_path_factory.mktemp("fit"))[0])


def in_dtype(records: list[LayerRecord], dtype: str) -> list[LayerRecord]:
    """The same layers computing in `dtype` (2 bytes an element), as a trace of the network in it records them."""
    return [
        LayerRecord(
            r.op,
            json.dumps({**json.loads(r.config), "dtype": dtype}, sort_keys=True, separators=(",", ":")),
            r.flops,
            r.input_bytes / 2,
            r.output_bytes / 2,
            r.weight_bytes / 2,
        )
        for r in records
    ]


def test_a_dtype_the_predictor_has_no_data_in_gets_no_interval_and_says_what_to_measure(float32_only):
    plain = float32_only.predict("mlp")
    half = float32_only.predict("mlp", dtype="float16")
    assert plain.has_interval("latency_ms") and plain.novelty["untrained_setting"] == ""
    assert not half.has_interval("latency_ms") and half.interval["latency_ms"] == (0.0, np.inf)
    assert half.to_dict()["interval"]["latency_ms"] is None
    assert half.novelty["untrained_setting"] == "float16"
    (note,) = [w for w in half.warnings if w.startswith("no interval")]
    assert f"no data in float16 on {DEVICE} (it was trained in float32)" in note
    assert "`hwprof measure MODELS --dtype float16`" in note
    assert not any("interval" in w for w in half.warnings if w.startswith("outside"))


def test_a_layout_the_predictor_has_no_data_in_gets_no_interval(float32_only):
    laid_out = float32_only.predict(TinyConvNet(), input_shape=(3, 32, 32), channels_last=True)
    assert not laid_out.has_interval("latency_ms") and laid_out.novelty["untrained_setting"] == "channels_last"
    (note,) = [w for w in laid_out.warnings if w.startswith("no interval")]
    assert "no data in channels-last layout" in note and "(it was trained in float32, contiguous layout)" in note
    assert "--channels-last" in note


class NativelyChannelsLast(TinyConvNet):
    """A network that lays its activations out channels-last itself, in any run, as ConvNeXt's permutes do."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.second(self.relu(self.first(x).contiguous(memory_format=torch.channels_last)))


def test_a_network_with_channels_last_layers_of_its_own_keeps_its_interval(float32_only):
    native = float32_only.predict(NativelyChannelsLast(), input_shape=(3, 32, 32))
    assert "memory_format_channels_last never in training" in native.novelty["uncovered_by"]
    assert native.novelty["untrained_setting"] == "" and native.has_interval("latency_ms")
    assert not any(w.startswith("no interval") for w in native.warnings)


def test_predict_many_and_predict_features_leave_such_networks_unbounded(float32_only):
    table = float32_only.predict_many(["mlp"], dtype="bfloat16")
    assert table["latency_ms_low"].iloc[0] == 0 and table["latency_ms_high"].iloc[0] == np.inf
    assert table["untrained_setting"].iloc[0] == "bfloat16"
    records = network_layers(np.random.default_rng(0), 1, 4)
    features = float32_only.features_from_layers(["net", "net_half"], [1, 1], [records, in_dtype(records, "float16")])
    arrays = float32_only.predict_features(features)
    assert np.isfinite(arrays["latency_ms_high"][0]) and arrays["latency_ms_high"][1] == np.inf
    assert arrays["latency_ms_low"][1] == 0
    one = float32_only.features_from_layers(["net_half"], [1], [in_dtype(records, "float16")])
    assert float32_only.predict_features(one)["latency_ms_high"][0] == np.inf  # one network: its own arithmetic
    assert list(float32_only.novelty(features)["untrained_setting"]) == ["", "float16"]


def test_predict_prints_no_interval_with_the_note_not_the_missing_residuals_line(float32_only):
    result = CliRunner().invoke(main, ["predict", float32_only.source, "mlp", "--dtype", "float16"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "(no interval)" in text and "no data in float16" in text
    assert "no held-out residuals" not in text
    result = CliRunner().invoke(main, ["predict", float32_only.source, "mlp", "--dtype", "float16", "--json"])
    assert json.loads(result.output)[0]["interval"]["latency_ms"] is None


def test_a_float32_network_is_untrained_for_a_predictor_of_float16_runs(tmp_path):
    frame = synthetic_frame(n_networks=10, seed=4).assign(run_id="half")
    frame["config"] = [
        config if config == "{}" else json.dumps({**json.loads(config), "dtype": "float16"}, sort_keys=True)
        for config in frame["config"]
    ]
    dataset = write(frame, tmp_path / "half.parquet")
    run = {"run_id": "half", "device_name": DEVICE, "threads": 1, "execution": {"dtype": "float16"}}
    (tmp_path / "half.parquet.json").write_text(json.dumps({"schema_version": 1, "runs": [run]}))
    predictor = fit([dataset], family="polynomial")
    records = network_layers(np.random.default_rng(1), 1, 4)
    features = predictor.features_from_layers(["single", "half"], [1, 1], [records, in_dtype(records, "float16")])
    assert list(predictor.novelty(features)["untrained_setting"]) == ["float32", ""]
    arrays = predictor.predict_features(features)
    assert arrays["latency_ms_high"][0] == np.inf and np.isfinite(arrays["latency_ms_high"][1])
    single = predictor.predict("mlp")
    assert not single.has_interval("latency_ms")
    assert any("no data in float32" in w and "--dtype float32 --threads 1" in w for w in single.warnings)
