"""A --no-layers network row of a model file is traced on the inputs its config records: fit and evaluate have
no --input-shape or --input, and the model file names no inputs of its own."""

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from hwprof.cli import main

FAST = ["--power", "none", "--sweep-share", "0", "--max-time", "0.05", "--threads", "1", "--seed", "0", "--quiet"]
FACTORY = """
import torch.nn as nn


class Tokens(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(50, 8)
        self.out = nn.Linear(8, 4)

    def forward(self, input_ids):
        return self.out(self.emb(input_ids))


def tokens():
    return Tokens()


def cnn():
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 2))
"""


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    """(folder, datasets): the factories measured without their layers, as the README's example shows."""
    folder = tmp_path_factory.mktemp("nolayers")
    (folder / "fac.py").write_text(FACTORY)
    tokens, images = folder / "tokens.parquet", folder / "images.parquet"
    told = [
        (f"{folder / 'fac.py'}:tokens", "--input", "input_ids:int64[seq]", "--seq-len", "8,16", "--out", tokens),
        (f"{folder / 'fac.py'}:cnn", "--input-shape", "3,8,8", "--batch-size", "1,2", "--out", images),
    ]
    for args in told:
        result = run("measure", *args, "--no-layers", *FAST)
        assert result.exit_code == 0, result.output
    return folder, [tokens, images]


def test_fit_and_evaluate_rebuild_token_and_shape_inputs_a_row_records(measured):
    """It said the factory does not say its input shape: pass --input-shape, which fit does not take."""
    folder, datasets = measured
    predictor = folder / "p.json"
    fitted = run("fit", *datasets, "--run-model-files", "--no-cv", "--out", predictor)
    assert fitted.exit_code == 0, fitted.output
    assert json.loads(predictor.read_text())["training"]["rows"]["networks"] == 4
    scored = run("evaluate", predictor, *datasets, "--run-model-files")
    assert scored.exit_code == 0, scored.output


def test_a_rebuilt_row_has_the_work_measure_counted(measured):
    """The trace on the recorded inputs does the work of the measured row, at each length and batch size."""
    from hwprof.fitting.data import _traced

    _, datasets = measured
    rows = pd.concat([pd.read_parquet(d) for d in datasets]).query("kind == 'network'")
    assert len(rows) == 4
    for row in rows.itertuples():
        name = row.model + (f"@seq_len={int(row.seq_len)}" if pd.notna(row.seq_len) else "")
        records = _traced(name, int(row.batch_size), None, row.config, None, True)
        assert sum(r.flops for r in records) == row.flops


def test_recorded_inputs_drop_the_batch_and_name_positional_inputs_by_position():
    from hwprof.fitting.data import _recorded_inputs

    shape, inputs = _recorded_inputs('{"input_shape": [2, 8], "inputs": "input:int64[2,8], mask:bool[2,1,8]"}')
    assert (shape, inputs) == (None, ["int64[8]", "mask:bool[1,8]"])
    assert _recorded_inputs('{"input_shape": [4, 3, 8, 8], "inputs": "(4, 3, 8, 8)"}') == ((3, 8, 8), None)
    assert _recorded_inputs('{"input_shape": [4, 3, 8, 8]}') == ((3, 8, 8), None)
    assert _recorded_inputs(None) == (None, None) == _recorded_inputs("not json")
