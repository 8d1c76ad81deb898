"""search --confidence with a predictor that has no data in the dtype its candidates run in (float32 candidates, a
predictor of float16 runs) is refused before any trial, naming the setting and the measure command that gives
the data: every candidate's interval is (0, inf), so every budget held against its upper end would fail."""

import json

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from fakes.search_doubles import TOY_SPACE
from fakes.synthetic import DEVICE, synthetic_frame, write
from hwprof.cli import main
from hwprof.fitting.fit import fit


@pytest.fixture(scope="module")
def float16_predictor(tmp_path_factory):
    """A cross-validated predictor fitted on float16 runs alone, on one thread."""
    folder = tmp_path_factory.mktemp("half")
    frame = synthetic_frame(n_networks=10, seed=4).assign(run_id="half")
    frame["config"] = [
        config if config == "{}" else json.dumps({**json.loads(config), "dtype": "float16"}, sort_keys=True)
        for config in frame["config"]
    ]
    dataset = write(frame, folder / "half.parquet")
    run = {"run_id": "half", "device_name": DEVICE, "threads": 1, "execution": {"dtype": "float16"}}
    (folder / "half.parquet.json").write_text(json.dumps({"schema_version": 1, "runs": [run]}))
    out = folder / "predictor.json"
    fit([dataset], out, family="polynomial")
    return out


def search(tmp_path, predictor, *options):
    space = tmp_path / "toy.yaml"
    space.write_text(yaml.safe_dump(TOY_SPACE))
    args = ["search", space, "--predictor", predictor, "--constraint", "latency_ms<=5", "--trials", 2, "--seed", 1]
    return CliRunner().invoke(main, [*map(str, args), "--out", str(tmp_path / "out"), *options])


def test_confidence_is_refused_before_any_trial_naming_the_setting_and_the_measure_command(float16_predictor, tmp_path):
    result = search(tmp_path, float16_predictor, "--confidence", "0.9")
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    text = " ".join(result.output.split())
    assert f"no data in float32 on {DEVICE} (it was trained in float16)" in text
    assert "`hwprof measure MODELS --dtype float32 --threads 1`" in text
    assert "drop --confidence" in text
    assert "held out in its cross-validation" not in text  # not the reason
    assert "trial 0" not in text and not (tmp_path / "out").exists()


def test_without_confidence_the_point_predictions_are_searched(float16_predictor, tmp_path):
    result = search(tmp_path, float16_predictor)
    assert result.exit_code == 0, result.output
    trials = json.loads((tmp_path / "out" / "search.json").read_text())["trials"]
    assert [trial["state"] for trial in trials] == ["trained", "trained"]
    assert all(np.isfinite(trial["metrics"]["latency_ms"]) for trial in trials)
