"""With a power sensor, a group's latencies wait for their energy windows until every item of it is timed; a model
that failed (raised or called sys.exit) while the rest of the group was timed, or a Ctrl-C then, lost the latencies
already taken. They are written flagged energy_interrupted, as a stop in the energy windows writes them, and a
resume carries on after them."""

import signal

import pytest
import torch.nn as nn

from fakes.scripted_sensor import ScriptedSensor
from hwprof import measure
from hwprof.dataset import read_dataset
from hwprof.errors import HwprofError
from hwprof.measuring.runner import Runner
from hwprof.measuring.session import _Session

FAST = dict(power="rapl", precision=0.2, max_item_s=0.05, threads=1, seed=0, sweep_share=0, layers=True)


class Switch:
    """What the network does at batch size 2 (raise, exit or be interrupted), and whether it does it now: kept
    outside the module, whose settings name it, so a mended one resumes under the same name."""

    def __init__(self, failure: BaseException | None):
        self.failure, self.armed = failure, False


class Fails(nn.Module):
    """A small network that fails as its switch says."""

    def __init__(self, switch: Switch):
        super().__init__()
        self.first, self.second = nn.Linear(4, 8), nn.Linear(8, 4)
        self.input_shape = (4,)
        self.switch = switch

    def forward(self, x):
        if self.switch.armed and self.switch.failure is not None and x.shape[0] == 2:
            raise self.switch.failure
        return self.second(self.first(x).relu())


@pytest.fixture
def switch(monkeypatch):
    """Each group's layers are timed before its network (which the runner samples until they are done) and the
    switch is armed only in between: the failure comes once the layers' latencies are taken, never by chance."""
    real_measure, switch = Runner.measure, Switch(None)

    def measure_in_two(self, items, on_done=None):
        layers = [item for item in items if item.key != "network"]
        network = [item for item in items if item.key == "network"]
        results = real_measure(self, layers, on_done)
        switch.armed = True
        try:
            return results + real_measure(self, network, on_done)
        finally:
            switch.armed = False

    monkeypatch.setattr(Runner, "measure", measure_in_two)
    monkeypatch.setattr("hwprof.drivers.open_sensor", lambda *args: ScriptedSensor().open())
    return switch


@pytest.mark.parametrize(
    "failure, said",
    [(RuntimeError("bad batch"), "failed: RuntimeError: bad batch"), (SystemExit("stop"), "called sys.exit('stop')")],
)
def test_a_failure_while_timing_keeps_the_latencies_taken_before_it(switch, tmp_path, failure, said):
    switch.failure = failure
    module = Fails(switch)
    out = tmp_path / "failed.parquet"
    with pytest.raises(HwprofError) as raised:
        measure([module], batch_sizes="1,2", out=str(out), **FAST)
    sentence = raised.value.args[0]
    assert f"{said}" in sentence and "on input (2, 4)" in sentence and "\n" not in sentence
    assert f"the rows measured before it are kept in {out}: run the same command with --resume" in sentence
    frame = read_dataset(out)
    cut = frame[frame["batch_size"] == 2]
    assert len(cut) >= 2 and (cut["layer_index"] >= 0).all()  # batch 2's layers, timed before the failure
    assert (cut["power_flags"] == "energy_interrupted").all() and cut["energy_mj"].isna().all()
    assert cut["latency_ms"].notna().all()
    assert frame[frame["batch_size"] == 1]["energy_mj"].notna().all()

    switch.failure = None  # the model mended: the resume times batch 2's network alone
    resumed = measure([module], batch_sizes="1,2", out=str(out), resume=True, **FAST)
    keys = ["batch_size", "layer_index"]
    assert not resumed.duplicated(keys).any()
    assert len(resumed) == len(frame) + 1
    network = resumed[(resumed["batch_size"] == 2) & (resumed["layer_index"] < 0)]
    assert len(network) == 1 and network["energy_mj"].notna().all()
    kept = resumed[(resumed["batch_size"] == 2) & (resumed["layer_index"] >= 0)]
    assert kept.set_index(keys)["latency_ms"].equals(cut.set_index(keys)["latency_ms"])


def test_ctrl_c_while_timing_keeps_the_latencies_taken_before_it(switch, tmp_path):
    switch.failure = KeyboardInterrupt()
    module = Fails(switch)
    out = tmp_path / "stopped.parquet"
    with pytest.raises(KeyboardInterrupt):
        measure([module], batch_sizes="2", out=str(out), **FAST)
    frame = read_dataset(out)
    assert len(frame) >= 2 and (frame["power_flags"] == "energy_interrupted").all()
    assert frame["latency_ms"].notna().all()


def test_a_stop_after_an_energy_window_keeps_that_rows_energy_and_flags(switch, tmp_path, monkeypatch):
    """A stop that lands once a row's energy window has ended, before the row is written: the row keeps the energy
    and the flags its window gave, and is not flagged energy_interrupted (which said its energy was never taken)."""
    real_add_energy, given = _Session._add_energy, []

    def add_energy_then_stop(self, item, values):
        real_add_energy(self, item, values)
        given.append(values["power_flags"])
        raise KeyboardInterrupt

    monkeypatch.setattr(_Session, "_add_energy", add_energy_then_stop)
    out = tmp_path / "stopped.parquet"
    with pytest.raises(KeyboardInterrupt):
        measure([Fails(switch)], batch_sizes="2", out=str(out), **FAST)
    frame = read_dataset(out)
    measured = frame[frame["energy_mj"].notna()]
    assert len(measured) == 1 and len(given) == 1 and given[0] != "energy_interrupted"
    assert measured["power_flags"].fillna("").tolist() == [given[0]]
    rest = frame[frame["energy_mj"].isna()]
    assert len(rest) >= 1 and (rest["power_flags"] == "energy_interrupted").all()


def test_a_row_that_fails_to_be_written_after_a_stop_leaves_the_rest_written(switch, tmp_path, monkeypatch):
    """Ctrl-C before the energy windows, and the first layer's row then fails to be made: the other rows are still
    written, and the Ctrl-C, not that failure, is what the run raises."""
    real_layer_row, made = _Session._layer_row, []

    def stop(self, item, values):
        raise KeyboardInterrupt

    def first_fails(self, *args):
        made.append(args)
        if len(made) == 1:
            raise RuntimeError("row not made")
        return real_layer_row(self, *args)

    monkeypatch.setattr(_Session, "_add_energy", stop)
    monkeypatch.setattr(_Session, "_layer_row", first_fails)
    out = tmp_path / "stopped.parquet"
    with pytest.raises(KeyboardInterrupt):
        measure([Fails(switch)], batch_sizes="2", out=str(out), **FAST)
    frame = read_dataset(out)
    assert (frame["layer_index"] < 0).sum() == 1  # the network row, written after the failed one
    assert len(frame) == len(made)  # every layer row made after the first one, and the network's
    assert (frame["power_flags"] == "energy_interrupted").all() and frame["latency_ms"].notna().all()


def test_a_second_ctrl_c_while_the_kept_rows_are_written_loses_none_of_them(switch, tmp_path, monkeypatch):
    """Ctrl-C before the energy windows, then a second one while the timed rows are written (a user pressing it
    twice): it is held, every row is written, and the first stop is what the run raises."""
    real_layer_row, made = _Session._layer_row, []

    def stop(self, item, values):
        raise KeyboardInterrupt

    def second_ctrl_c(self, *args):
        made.append(args)
        if len(made) == 1:
            signal.raise_signal(signal.SIGINT)
        return real_layer_row(self, *args)

    monkeypatch.setattr(_Session, "_add_energy", stop)
    monkeypatch.setattr(_Session, "_layer_row", second_ctrl_c)
    out = tmp_path / "stopped.parquet"
    with pytest.raises(KeyboardInterrupt):
        measure([Fails(switch)], batch_sizes="2", out=str(out), **FAST)
    frame = read_dataset(out)
    assert len(frame) == len(made) + 1  # every layer row, and the network's
    assert (frame["power_flags"] == "energy_interrupted").all() and frame["latency_ms"].notna().all()
