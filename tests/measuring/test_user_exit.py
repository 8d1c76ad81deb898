"""A model whose forward calls sys.exit while measure runs it (the batch-1 check of a list, the timed calls, the
energy windows, the call that makes lazy weights) stopped hwprof with the model's status and no word from hwprof;
it is now one sentence naming the model, its input and the exit, with the rows measured before it kept."""

import sys

import pytest
import torch
import torch.nn as nn

from fakes.scripted_sensor import ScriptedSensor
from hwprof import measure
from hwprof.dataset import read_dataset
from hwprof.errors import HwprofError

FAST = dict(power="none", precision=0.2, max_item_s=0.05, threads=1, seed=0, sweep_share=0, layers=False)


class Exits(nn.Module):
    """Exits on its `calls`-th call at batch size 2 (its calls before then are the trace and the sizing call)."""

    def __init__(self, calls: int | None = None):
        super().__init__()
        self.linear = nn.Linear(4, 4)
        self.calls, self.seen = calls, 0
        self.input_shape = (4,)

    def forward(self, x):
        if x.shape[0] == 2:
            self.seen += 1
            if self.calls is not None and self.seen >= self.calls:
                sys.exit("batch 2 stops")
        return self.linear(x)


def test_an_exit_while_timing_keeps_the_rows_before_it_and_names_the_model(tmp_path):
    out = tmp_path / "cut.parquet"
    module = Exits(calls=3)
    with pytest.raises(HwprofError) as raised:
        measure([module], batch_sizes="1,2", out=str(out), **FAST)
    sentence = raised.value.args[0]
    assert "while timing it on input (2, 4) called sys.exit('batch 2 stops'), which stops the run" in sentence
    assert f"the rows measured before it are kept in {out}: run the same command with --resume" in sentence
    assert "\n" not in sentence
    assert read_dataset(out)["batch_size"].tolist() == [1]


def test_an_exit_on_the_first_call_of_a_later_batch_size_keeps_the_rows_before_it_too(tmp_path):
    out = tmp_path / "traced.parquet"
    with pytest.raises(HwprofError) as raised:
        measure([Exits(calls=1)], batch_sizes="1,2", out=str(out), **FAST)
    sentence = raised.value.args[0]
    assert "on input (2, 4) called sys.exit('batch 2 stops'), which stops the run; the rows measured" in sentence
    assert sentence.endswith(f"kept in {out}: run the same command with --resume to carry on")
    assert read_dataset(out)["batch_size"].tolist() == [1]


def test_an_exit_in_the_check_of_a_list_says_no_model_was_timed():
    class ExitsAtOnce(nn.Module):
        def forward(self, x):
            sys.exit(3)

    with pytest.raises(HwprofError, match=r"on input \(1, 4\) called sys.exit\(3\), which stops the run; no"):
        measure([Exits(), (ExitsAtOnce(), torch.randn(1, 4))], **FAST)


def test_an_exit_in_the_energy_windows_keeps_every_latency(monkeypatch, tmp_path):
    from hwprof.measuring import energy

    module = Exits()
    real_measure_energy = energy.measure_energy

    def measure_energy(*args):
        module.calls = module.seen + 1  # its next call, the first of the energy windows, exits
        return real_measure_energy(*args)

    monkeypatch.setattr(energy, "measure_energy", measure_energy)
    monkeypatch.setattr("hwprof.drivers.open_sensor", lambda *args: ScriptedSensor().open())
    out = tmp_path / "energy.parquet"
    with pytest.raises(HwprofError, match=r"\(2, 4\) called sys.exit\('batch 2 stops'\)"):
        measure([module], batch_sizes="2", out=str(out), **{**FAST, "power": "rapl"})
    assert read_dataset(out)["power_flags"].tolist() == ["energy_interrupted"]


def test_an_exit_while_making_lazy_weights_is_one_sentence():
    class LazyExits(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.LazyLinear(4)

        def forward(self, x):
            sys.exit(2)

    with pytest.raises(HwprofError, match=r"running it once on .* to make them called sys.exit\(2\): call it once"):
        measure([(LazyExits(), torch.randn(1, 4))], **FAST)
