"""A power trace names the runs that took its samples, and measure never replaces the trace of another
dataset's runs: a .parquet and a .csv dataset of one stem share one trace path."""

import pytest
from click.testing import CliRunner

import hwprof
from fakes.sysfs import FakeRaplTree, FakeZone
from hwprof.cli import main
from hwprof.dataset import read_provenance
from hwprof.errors import HwprofError
from hwprof.measuring import session
from hwprof.traces import read_trace, trace_path_for, write_trace

QUICK = dict(layers=False, max_item_s=0.05, sweep_share=0, max_other_share=1.0, threads=1, seed=0)
ROWS = [(1.0, "package-0", 40.0, "load", 0.5, 1.5)]


def test_trace_rows_carry_their_run_and_older_traces_read_without_one(tmp_path):
    frame = read_trace(write_trace(ROWS, tmp_path / "a.trace.parquet", run_id="run-1"))
    assert list(frame["run_id"]) == ["run-1"]
    frame = read_trace(write_trace([(*ROWS[0], "run-0")], tmp_path / "b.trace.csv", run_id="run-1"))
    assert list(frame["run_id"]) == ["run-0"]  # a row that names its run keeps it
    (tmp_path / "old.trace.csv").write_text("timestamp_s,sensor,power_w\n1.0,x,3.0\n")
    assert read_trace(tmp_path / "old.trace.csv")["run_id"].isna().all()


def _refused(monkeypatch):
    """Measuring must stop before any model is resolved, let alone run."""

    def no_model(*args, **kwargs):
        raise AssertionError("a model was resolved before the trace was checked")

    monkeypatch.setattr(session, "resolve_model", no_model)


def test_a_csv_dataset_does_not_replace_the_trace_of_the_parquet_of_its_stem(tmp_path, monkeypatch):
    trace = trace_path_for(tmp_path / "cpu.parquet")
    write_trace(ROWS, trace, run_id="parquet-run")
    _refused(monkeypatch)
    out = tmp_path / "cpu.csv"
    with pytest.raises(HwprofError, match=r"holds samples of run parquet-run, not of the dataset .*cpu\.csv.*out"):
        hwprof.measure("mlp", out=str(out), trace=trace, power="none", **QUICK)
    assert not out.exists()
    result = CliRunner().invoke(main, ["measure", "mlp", "--out", str(out), "--trace", "--no-layers"])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert "write to another --out name" in result.output and f"or remove {trace}" in result.output
    assert list(read_trace(trace)["run_id"]) == ["parquet-run"]


def test_a_trace_from_before_run_ids_is_no_new_datasets_own(tmp_path, monkeypatch):
    trace = tmp_path / "cpu.trace.csv"
    trace.write_text("timestamp_s,sensor,power_w\n1.0,x,3.0\n")
    _refused(monkeypatch)
    with pytest.raises(HwprofError, match="holds samples of an earlier run, not of this run.*give trace another path"):
        hwprof.measure("mlp", trace=str(trace), power="none", **QUICK)


@pytest.mark.flaky(reruns=2)  # reads the fake RAPL counter over real time (see tests/fakes/sysfs.py)
def test_a_resumed_run_keeps_its_own_trace_and_adds_its_samples(tmp_path, monkeypatch):
    monkeypatch.setenv("HWPROF_SYSFS_ROOT", str(tmp_path))
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc" / "cpuinfo").write_text("model name\t: Fake CPU 9000\nflags\t\t: fpu\n")
    zone = FakeZone("intel-rapl:0", "package-0", 42.0, max_range_uj=30_000_000, max_power_uw=60_000_000)
    out = tmp_path / "mlp.parquet"
    trace = trace_path_for(out)
    measure_group = session._Session.measure_group
    groups = []

    def stopped_at_the_second(self, *args, **kwargs):
        groups.append(args)
        if len(groups) == 2:
            raise KeyboardInterrupt
        return measure_group(self, *args, **kwargs)

    settings = dict(out=str(out), trace=trace, power="rapl", batch_sizes=(1, 2), **QUICK)
    with FakeRaplTree(tmp_path, [zone]):
        monkeypatch.setattr(session._Session, "measure_group", stopped_at_the_second)
        with pytest.raises(KeyboardInterrupt):
            hwprof.measure("mlp", **settings)
        monkeypatch.setattr(session._Session, "measure_group", measure_group)
        first = set(read_trace(trace)["run_id"])
        hwprof.measure("mlp", resume=True, **settings)
    runs = [run["run_id"] for run in read_provenance(out)]
    assert first == {runs[0]}
    assert set(read_trace(trace)["run_id"]) == set(runs) and len(runs) == 2
