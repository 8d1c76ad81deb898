"""search --confidence with a float32 predictor refuses candidates whose factory makes some of their layers float16
(a float32 body with a float16 head) before any trial. Its note advised `--dtype float16`, which converts the whole
model and gives no data in that mix; it now names the float16 layers and asks for the model measured as it is."""

import pytest
import yaml
from click.testing import CliRunner

from fakes.search_doubles import TOY_SPACE
from fakes.synthetic import DEVICE, fitted_predictor_path
from hwprof.cli import main

FACTORY = """
import torch.nn as nn

class Mixed(nn.Module):
    def __init__(self, width, head):
        super().__init__()
        self.width, self.head = width, head
        self.body = nn.Linear(4, width)
        self.tail = nn.Linear(width, 2).half()

    def forward(self, x):
        return self.tail(self.body(x).half()).float()

def build(width, head):
    return Mixed(width, head)
"""


@pytest.fixture(scope="module")
def float32_predictor(tmp_path_factory):
    return fitted_predictor_path(tmp_path_factory.mktemp("fit"))[0]


def test_a_partly_float16_candidate_is_advised_data_measured_as_it_is(float32_predictor, tmp_path):
    factory = tmp_path / "mixed.py"
    factory.write_text(FACTORY)
    space = tmp_path / "mixed.yaml"
    space.write_text(yaml.safe_dump({**TOY_SPACE, "name": "mixed", "factory": f"{factory}:build"}))
    args = [space, "--predictor", float32_predictor, "--constraint", "latency_ms<=5", "--trials", 2, "--seed", 1]
    result = CliRunner().invoke(main, ["search", *map(str, args), "--confidence", "0.9", "--out", str(tmp_path / "o")])
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    text = " ".join(result.output.split())
    assert f"it has 2 layers (float, linear) in float16, which the predictor has no data in on {DEVICE}" in text
    assert "no --dtype, which would convert the whole model" in text
    assert "--dtype float16" not in text
    assert not (tmp_path / "o").exists()
