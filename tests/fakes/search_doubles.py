"""Test doubles for the search tests: a toy model family whose cost and score are known formulas.

Latency grows linearly with width (0.1 ms per unit) and the score grows with
width, so under `latency_ms<=1` the best configuration is width 10 with the
"wide" head. The predictor double has the same interface as hwprof's
predictor: `.predict(spec, batch_size, input_shape, confidence)` returning an
object with `.total` and `.interval`.
"""

import time
from dataclasses import dataclass

import torch.nn as nn
import yaml
from click.testing import CliRunner

import hwprof.cli.search
import hwprof.measuring.session
from hwprof.cli import main

LATENCY_MS_PER_WIDTH = 0.1
ENERGY_MJ_PER_WIDTH = 0.5
INTERVAL_HALF_WIDTH = 0.1  # the interval is +-10% of the point prediction

TOY_SPACE = {
    "name": "toy",
    "factory": "fakes.search_doubles:build_toy",
    "input_shape": [4],
    "objective": "fakes.search_doubles:score_toy",
    "params": {"width": {"low": 2, "high": 20, "step": 2}, "head": ["narrow", "wide"]},
}


class ToyNet(nn.Module):
    def __init__(self, width: int, head: str):
        super().__init__()
        self.width, self.head = width, head
        self.linear = nn.Linear(4, width)

    def forward(self, x):
        return self.linear(x)


def build_toy(width: int, head: str) -> ToyNet:
    return ToyNet(width, head)


def score_toy(model: ToyNet, params: dict) -> float:
    """Known optimum: the widest allowed width, wide head."""
    return model.width + (0.5 if model.head == "wide" else 0.0)


def slow_score_toy(model: ToyNet, params: dict) -> float:
    time.sleep(0.02)  # long enough for several workers to interleave
    return score_toy(model, params)


@dataclass
class ToyPrediction:
    total: dict
    interval: dict
    novelty: dict


OUTSIDE_WIDTH = 12  # wider toy models lie outside the toy predictor's training data


class ToyPredictor:
    source = "<memory>"  # as a Predictor made in memory says: search.json records where its predictor came from
    doc = {"created": "2026-01-01T00:00:00+00:00", "format_version": 0}

    def __init__(self):
        self.calls = 0

    def predict(self, model_or_spec, batch_size=1, input_shape=None, confidence=0.9):
        self.calls += 1
        width = model_or_spec.module.width
        total = {
            "latency_ms": LATENCY_MS_PER_WIDTH * width * batch_size,
            "energy_mj": ENERGY_MJ_PER_WIDTH * width * batch_size,
        }
        interval = {k: (v * (1 - INTERVAL_HALF_WIDTH), v * (1 + INTERVAL_HALF_WIDTH)) for k, v in total.items()}
        return ToyPrediction(total, interval, {"outside": width > OUTSIDE_WIDTH})


def search_result(records, budgets=("latency_ms<=5",), confidence=None, trials_wanted=None):
    """A finished study of `records` under `budgets`, as the search's report and plot take it."""
    from hwprof.search.constraints import parse_constraint
    from hwprof.search.study import SearchResult

    return SearchResult(
        "s",
        "space",
        "obj",
        [parse_constraint(text) for text in budgets],
        confidence,
        1,
        "tpe",
        "maximize",
        True,
        ["latency_ms"],
        records,
        trials_wanted=trials_wanted,
    )


def two_trained_trials():
    """Two trained trials under latency_ms<=5, at 1 and 2 ms: the least a Pareto plot draws."""
    from hwprof.search.study import TrialRecord

    return [
        TrialRecord(n, "trained", {"w": n}, {"latency_ms": float(n)}, {"latency_ms<=5": float(n)}, True, 0.5, 0, 0, 0)
        for n in (1, 2)
    ]


def verify_search_runner(tmp_path, monkeypatch):
    """`invoke(*extra, predictor=None, measure=None)`: the toy search run with --verify and `extra` options, the
    given predictor (the toy one by default) and `measure` in place of hwprof's; returns (result, its --out)."""
    space = tmp_path / "toy.yaml"
    space.write_text(yaml.safe_dump(TOY_SPACE))
    out = tmp_path / "out"

    def invoke(*extra, predictor=None, measure=None):
        monkeypatch.setattr(hwprof.cli.search, "_predictor", lambda *args: predictor or ToyPredictor())
        if measure is not None:
            monkeypatch.setattr(hwprof.measuring.session, "measure", measure)
        args = ["search", str(space), "--constraint", "latency_ms<=1", "--trials", "6", "--seed", "1"]
        args += ["--out", str(out), "--verify", "--verify-count", "1", *extra]
        return CliRunner().invoke(main, args), out

    return invoke
