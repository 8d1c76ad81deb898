"""`search --verify` measures the board the predictor was fitted on, or refuses before any trial: budgets
predicted for one board are not checked by measuring another."""

import json

import pandas as pd
import pytest

from fakes.search_doubles import LATENCY_MS_PER_WIDTH, ToyPredictor, verify_search_runner
from hwprof.measuring.provenance import device_name


def predictor_of(board: str | None) -> ToyPredictor:
    """The toy predictor, fitted on `board` (None: on a board its data did not name)."""
    predictor = ToyPredictor()
    predictor.doc = {**predictor.doc, "device_name": board}
    return predictor


@pytest.fixture
def search(tmp_path, monkeypatch):
    """Run the toy search with --verify and a predictor of `board`; (result, its --out, the models measured)."""
    run = verify_search_runner(tmp_path, monkeypatch)
    measured = []

    def measure(specs, batch_sizes=(1,), **kwargs):
        measured.extend(s.name for s in specs)
        rows = [
            {"model": s.name, "kind": "network", "latency_ms": LATENCY_MS_PER_WIDTH * s.module.width} for s in specs
        ]
        return pd.DataFrame(rows)

    def invoke(board):
        return (*run(predictor=predictor_of(board), measure=measure), measured)

    return invoke


def test_a_predictor_of_another_board_is_refused_before_any_trial_naming_both(search):
    result, out, measured = search("Some Other Board")
    assert result.exit_code == 1 and "Traceback" not in result.output
    said = " ".join(result.output.split())
    assert f"the predictor was fitted on Some Other Board, but --device cpu here is {device_name('cpu')}" in said
    assert "--base PREDICTOR" in said  # how to adapt it to this board
    assert "trial 0" not in said and measured == [] and not out.exists()


def test_a_predictor_of_this_board_is_verified(search):
    result, out, measured = search(device_name("cpu"))
    assert result.exit_code == 0, result.output
    assert len(measured) == 1 and "names no board" not in result.output
    assert len(json.loads((out / "search.json").read_text())["verified"]) == 1


def test_a_predictor_that_names_no_board_is_verified_with_a_note_that_it_cannot_be_checked(search):
    result, _, measured = search(None)
    assert result.exit_code == 0, result.output
    assert len(measured) == 1
    assert "the predictor names no board, so --verify cannot check" in " ".join(result.output.split())
