"""search says which board, thread count and dtype its predicted costs are for: a predictor of another board gave
budgets the demo called 'on this machine'."""

from click.testing import CliRunner

import hwprof.cli.search
import hwprof.search.demo as demo
from fakes.search_doubles import ToyPrediction
from hwprof.cli import main

BOARD_B = {
    "device_name": "Board B",
    "device": ["cpu"],
    "threads": [1],
    "dtypes": ["float32"],
    "layouts": ["contiguous"],
    "cache": ["cold"],
}  # as Predictor.conditions gives them


class BoardBPredictor:
    """A predictor fitted on another board: latency proportional to the parameter count."""

    conditions = BOARD_B

    def predict(self, spec, batch_size=1, input_shape=None, confidence=0.9):
        latency = sum(p.numel() for p in spec.module.parameters()) / 1e4
        return ToyPrediction({"latency_ms": latency}, {"latency_ms": (latency * 0.9, latency * 1.1)}, {})


def test_the_demo_names_the_board_and_conditions_its_budget_is_predicted_for(monkeypatch, tmp_path, one_thread):
    monkeypatch.setattr(hwprof.cli.search, "_predictor", lambda *args: BoardBPredictor())
    monkeypatch.setattr(demo, "DEMO_EPOCHS", 1)
    result = CliRunner().invoke(main, ["search", "demo", "--trials", "1", "--seed", "0", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == (
        "predicted costs are for Board B at 1 thread, float32, contiguous layout, layers timed cold (as its "
        "training data was measured)"
    )
    (budget,) = [line for line in lines if line.startswith("demo budget: ")]
    assert budget.endswith("(the median predicted latency of the family on Board B)")
    assert "this machine" not in result.output
