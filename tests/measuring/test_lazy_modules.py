"""A model with lazy layers (nn.LazyLinear), whose weights its first call makes, is measured: hwprof runs it once on
its inputs before reading its weights, on its own copy, and leaves the user's module lazy."""

import pandas as pd
import pytest
import torch
import torch.nn as nn
from click.testing import CliRunner
from torch.nn.parameter import is_lazy

import hwprof
from hwprof.cli import main
from hwprof.errors import HwprofError
from hwprof.models.inputs import from_examples, with_lazy_weights_made

FAST = {"power": "none", "precision": 0.3, "max_item_s": 0.1, "threads": 1, "seed": 0, "sweep_share": 0}


def test_a_factory_of_a_lazy_module_is_measured_with_its_weights_made(tmp_path, monkeypatch):
    (tmp_path / "lz.py").write_text(
        "import torch\nfrom torch import nn\ndef build():\n    return nn.LazyLinear(8), torch.randn(1, 4)\n"
    )
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "lz.parquet"
    flags = ["--threads", "1", "--power", "none", "--max-time", "0.1", "--sweep-share", "0", "--quiet"]
    result = CliRunner().invoke(main, ["measure", "lz.py:build", *flags, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "unexpectedly" not in result.output
    rows = pd.read_parquet(out)
    assert set(rows["kind"]) == {"layer", "network"}
    assert rows.loc[rows["kind"] == "network", "params"].item() == 4 * 8 + 8  # the weights its first call made


def test_a_lazy_module_given_from_python_is_measured_and_left_lazy():
    lazy = nn.Sequential(nn.LazyLinear(8), nn.ReLU())
    frame = hwprof.measure([(lazy, torch.randn(1, 4))], layers=False, **FAST)
    assert frame.loc[frame["kind"] == "network", "params"].item() == 40
    assert isinstance(lazy[0], nn.LazyLinear) and is_lazy(lazy[0].weight)  # the user's module as given
    assert lazy.training  # and in its own mode


class LazyThenWrong(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.LazyLinear(8)

    def forward(self, x):
        return self.linear(x) @ torch.ones(3, 3)  # 8 columns against 3 rows


def test_a_lazy_module_whose_first_call_fails_is_refused_in_one_sentence():
    with pytest.raises(HwprofError, match=r"has lazy layers, .* running it once on .* failed \(RuntimeError: .*\): "):
        hwprof.measure([(LazyThenWrong(), torch.randn(1, 4))], layers=False, **FAST)


def test_lazy_weights_are_made_on_a_copy_and_a_module_without_them_is_returned_as_it_is():
    lazy = nn.Sequential(nn.LazyLinear(8), nn.ReLU()).train()
    made = with_lazy_weights_made(lazy, from_examples(torch.randn(1, 4)), "lazy")
    assert made[0].weight.shape == (8, 4) and made.training  # in the mode it was given in
    assert is_lazy(lazy[0].weight)
    plain = nn.Linear(4, 4)
    assert with_lazy_weights_made(plain, from_examples(torch.randn(1, 4)), "plain") is plain


def test_a_lazy_module_is_predicted_on_meta_with_its_layers_and_left_lazy(tmp_path):
    """predict traced it on real tensors (its first call made its weights there), recorded the weights' making
    (empty, kaiming_uniform, uniform) as layers, and turned the caller's module into a plain one."""
    from fakes.synthetic import fitted_predictor_path

    path, _ = fitted_predictor_path(tmp_path, cv=False)
    lazy = nn.Sequential(nn.LazyLinear(8), nn.ReLU())
    predicted = hwprof.load_predictor(path).predict((lazy, torch.randn(1, 4)))
    assert predicted.traced_on == "meta"
    assert list(predicted.layers["op"]) == ["linear", "relu"]
    assert isinstance(lazy[0], nn.LazyLinear) and is_lazy(lazy[0].weight)
