"""`search --verify` measures latency, power and energy only: a budget on a counted metric (memory_mb, params,
flops) is reported as counted, never as holding when measured, and search.json says which budgets were which."""

import json

import pandas as pd
import yaml
from click.testing import CliRunner

import hwprof.cli.search
import hwprof.measuring.session
from fakes.search_doubles import LATENCY_MS_PER_WIDTH, TOY_SPACE, ToyPredictor
from hwprof.cli import main
from hwprof.search.constraints import parse_constraints
from hwprof.search.space import space_from_dict
from hwprof.search.study import SearchOptions, run_search
from hwprof.search.verify import final_candidates, verify_candidates


def measured(specs, batch_sizes=(1,), **kwargs):
    """Network rows at the toy latency, with no memory figure: as hwprof's measure gives them."""
    return pd.DataFrame(
        [{"model": s.name, "kind": "network", "latency_ms": LATENCY_MS_PER_WIDTH * s.module.width} for s in specs]
    )


def test_a_counted_budget_is_listed_as_counted_and_not_judged_as_measured():
    space = space_from_dict(TOY_SPACE)
    options = SearchOptions(trials=6, constraints=parse_constraints(["latency_ms<=1", "memory_mb<=1"]), seed=1)
    result = run_search(space, ToyPredictor(), space.objective, space.objective_ref, options)
    checks = verify_candidates(space, result, final_candidates(result, 1), measure=measured)
    (check,) = checks.values()
    assert check["measured_budgets"] == ["latency_ms<=1"]
    assert check["counted_budgets"] == ["memory_mb<=1"]
    assert check["holds"] is True  # the measured latency holds; memory was not part of the judgement


def test_verify_with_only_a_memory_budget_claims_no_measured_hold(tmp_path, monkeypatch):
    space = tmp_path / "toy.yaml"
    space.write_text(yaml.safe_dump(TOY_SPACE))
    out = tmp_path / "out"
    monkeypatch.setattr(hwprof.cli.search, "_predictor", lambda *args: ToyPredictor())
    monkeypatch.setattr(hwprof.measuring.session, "measure", measured)
    args = ["search", str(space), "--constraint", "memory_mb<=1", "--trials", "4", "--seed", "1", "--out", str(out)]
    result = CliRunner().invoke(main, [*args, "--verify", "--verify-count", "1"])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "hold when measured" not in said and "budgets hold" not in said
    assert "not verified: memory_mb<=1 is counted from the model, not measured" in said
    assert "lower bound" in said  # what the count is, where the user reads it
    (check,) = json.loads((out / "search.json").read_text())["verified"].values()
    assert check["holds"] is None and check["measured_budgets"] == [] and check["counted_budgets"] == ["memory_mb<=1"]
