"""Two `hwprof fit --out pred.json` at once: both found no pred.json when they started, and the one that finished
second replaced the first's predictor without --force. It is now written beside it, and the fit says where."""

import json
import os

import pytest
from click.testing import CliRunner

from fakes.synthetic import synthetic_frame, write
from hwprof.cli import main
from hwprof.fitting import fit as fit_module
from hwprof.predictor.predictor import load_predictor


@pytest.fixture
def another_fit_finishes_first(monkeypatch, tmp_path):
    """The other fit's predictor appears at the output while this one fits."""
    out = tmp_path / "pred.json"
    fitted = fit_module.fit_training_data

    def fit_while_another_writes(*args, **kwargs):
        predictor = fitted(*args, **kwargs)
        out.write_text(json.dumps({"the other": "fit"}))
        return predictor

    monkeypatch.setattr(fit_module, "fit_training_data", fit_while_another_writes)
    return out


def test_a_predictor_another_fit_wrote_meanwhile_is_kept_and_this_one_goes_beside_it(
    tmp_path, another_fit_finishes_first
):
    out = another_fit_finishes_first
    data = write(synthetic_frame(n_networks=8, seed=3), tmp_path / "data.parquet")
    result = CliRunner().invoke(main, ["fit", str(data), "--out", str(out), "--no-cv", "--family", "polynomial"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    aside = tmp_path / f"pred.{os.getpid()}.json"
    assert "written by another process while this one ran" in result.output and aside.name in result.output
    assert json.loads(out.read_text()) == {"the other": "fit"}
    assert load_predictor(aside).targets  # the fit is not lost


def test_with_force_the_fit_replaces_it(tmp_path, another_fit_finishes_first):
    out = another_fit_finishes_first
    data = write(synthetic_frame(n_networks=8, seed=3), tmp_path / "data.parquet")
    result = CliRunner().invoke(
        main, ["fit", str(data), "--out", str(out), "--no-cv", "--family", "polynomial", "--force"]
    )
    assert result.exit_code == 0, result.output
    assert load_predictor(out).targets
