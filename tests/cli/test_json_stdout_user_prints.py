"""A print in a user's model file (at import, in its factory, in forward) goes to stderr under --json: stdout holds
the JSON alone, so `hwprof measure ... --json | python -c 'json.load(sys.stdin)'` parses it."""

import json

import pytest
from click.testing import CliRunner

from fakes.synthetic import predictor_of_network_rows
from hwprof.cli import main

FAST = ["--power", "none", "--sweep-share", "0", "--max-time", "0.05", "--threads", "1", "--seed", "0", "--quiet"]
CHATTY = """
import torch.nn as nn

print("imported chatty")


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(8, 4)

    def forward(self, x):
        print("forward called", x.shape)
        return self.linear(x)


def build():
    print("building")
    model = Net()
    model.input_shape = (8,)
    return model
"""


@pytest.fixture
def chatty(tmp_path):
    (tmp_path / "chatty.py").write_text(CHATTY)
    return f"{tmp_path / 'chatty.py'}:build"


def test_measure_json_is_alone_on_stdout(tmp_path, chatty):
    """stdout began with `imported chatty`, `building` and `forward called ...` lines before the JSON."""
    out = tmp_path / "c.parquet"
    result = CliRunner().invoke(main, ["measure", chatty, *FAST, "--json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["status"] == "complete"
    assert "imported chatty" in result.stderr and "forward called" in result.stderr


def test_predict_json_is_alone_on_stdout(tmp_path, chatty):
    predictor = predictor_of_network_rows(tmp_path)
    result = CliRunner().invoke(main, ["predict", str(predictor), chatty, "--json"])
    assert result.exit_code == 0, result.output
    (prediction,) = json.loads(result.stdout)
    assert prediction["model"].endswith("chatty.py:build")
    assert "building" in result.stderr


def test_without_json_a_print_stays_on_stdout(tmp_path, chatty):
    """Only --json moves it: a table's reader sees the model's prints where they always went."""
    result = CliRunner().invoke(main, ["measure", chatty, *FAST, "--no-layers", "--out", str(tmp_path / "c.parquet")])
    assert result.exit_code == 0, result.output
    assert "building" in result.stdout
