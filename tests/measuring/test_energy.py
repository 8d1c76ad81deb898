"""Energy per inference (A-B-A), traces, plot-trace, and `hwprof measure --power rapl` end to end."""

import os
import time
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from fakes.scripted_sensor import ScriptedSensor
from fakes.sysfs import FakeRaplTree, FakeZone, write_file
from hwprof.cli import main
from hwprof.errors import HwprofError
from hwprof.measuring import energy
from hwprof.measuring.energy import ENERGY_KEYS, measure_energy, required_window_s
from hwprof.traces import read_trace, write_trace


@pytest.fixture
def sensor():
    with ScriptedSensor() as scripted:
        yield scripted


def loader(sensor, load_w, idle_w=10.0, calls=None, seconds=None):
    """run(n): n inferences of 2 ms at load_w; records n in `calls` and the true seconds per inference."""

    def run(n):
        if calls is not None:
            calls.append(n)
        start = time.monotonic()
        sensor.set_power(load_w)
        time.sleep(n * 0.002)
        sensor.set_power(idle_w)
        if seconds is not None:
            seconds.append((time.monotonic() - start) / n)  # sleep may overshoot on a busy machine

    return run


def test_returns_exactly_the_power_columns_with_idle_separated(sensor):
    calls, seconds = [], []
    result = measure_energy(loader(sensor, 40.0, calls=calls, seconds=seconds), 0.002, sensor)
    assert tuple(result) == ENERGY_KEYS
    assert calls[0] * 0.002 >= required_window_s(sensor)
    assert result["power_w"] == pytest.approx(40.0, rel=0.03)
    assert result["idle_power_w"] == pytest.approx(10.0, rel=0.03)
    assert result["energy_mj"] == pytest.approx(40.0 * seconds[-1] * 1000, rel=0.03)
    assert result["dynamic_energy_mj"] == pytest.approx(30.0 * seconds[-1] * 1000, rel=0.05)
    assert result["power_source"] == "fake:total" and result["power_flags"] == ""


def test_window_lasts_twenty_update_periods_when_that_is_longer(sensor):
    sensor.update_period_s = 0.01  # 20 x 10 ms = 0.2 s > min_window_s
    calls = []
    measure_energy(loader(sensor, 40.0, calls=calls), 0.002, sensor)
    assert calls[0] * 0.002 >= 0.2


def test_recent_idle_is_reused_across_consecutive_items(sensor):
    measure_energy(loader(sensor, 40.0), 0.002, sensor)
    assert sensor.windows == 3  # A B A
    measure_energy(loader(sensor, 40.0), 0.002, sensor)
    assert sensor.windows == 5  # B A: the previous A is fresh and at the same clocks


def test_stale_idle_or_other_clocks_are_measured_again(sensor, monkeypatch):
    measure_energy(loader(sensor, 40.0), 0.002, sensor)
    sensor.key = ("powersave",)
    measure_energy(loader(sensor, 40.0), 0.002, sensor)
    assert sensor.windows == 6
    monkeypatch.setattr(energy, "IDLE_REUSE_S", 0.0)
    measure_energy(loader(sensor, 40.0), 0.002, sensor)
    assert sensor.windows == 9


def test_clock_settings_changing_during_the_item_are_flagged(sensor):
    def run(n):
        sensor.key = ("powersave",)
        loader(sensor, 40.0)(n)

    result = measure_energy(run, 0.002, sensor)
    assert "clocks_changed" in result["power_flags"].split(",")


def test_too_few_iterations_for_the_window_are_lengthened(sensor):
    calls, seconds = [], []
    result = measure_energy(loader(sensor, 40.0, calls=calls, seconds=seconds), 0.02, sensor)  # truly 2 ms
    assert len(calls) >= 2 and calls[-1] > calls[0]
    assert calls[-1] * 0.002 >= required_window_s(sensor)
    assert "short_window" not in result["power_flags"]
    assert result["energy_mj"] == pytest.approx(40.0 * seconds[-1] * 1000, rel=0.05)
    # net of idle at the window's pace too, not the 10 times slower latency given (a loose bound: sleeps overshoot)
    assert result["dynamic_energy_mj"] == pytest.approx(30.0 * seconds[-1] * 1000, rel=0.1)


def test_a_counter_that_never_moves_gives_no_energy_not_zero():
    with ScriptedSensor(moving=False) as still:
        result = measure_energy(lambda n: time.sleep(n * 0.002), 0.002, still)
    assert result["energy_mj"] is None and result["power_w"] is None and result["dynamic_energy_mj"] is None
    assert "no_energy" in result["power_flags"] and result["power_source"] == "fake:total"


def test_load_below_idle_is_flagged(sensor):
    result = measure_energy(loader(sensor, 5.0), 0.002, sensor)
    assert "below_idle" in result["power_flags"] and result["dynamic_energy_mj"] < 0


def test_trace_gets_every_sample(sensor):
    trace = []
    measure_energy(loader(sensor, 40.0), 0.002, sensor, trace)
    assert len(trace) > 10 and all(len(row) == 6 and row[1] == "total" for row in trace)
    assert {round(row[2]) for row in trace} == {10, 40}


def test_bad_latency_is_refused(sensor):
    with pytest.raises(ValueError):
        measure_energy(lambda n: None, 0.0, sensor)


@pytest.mark.parametrize("name", ["trace.parquet", "trace.csv", "bs1:fp16.trace.parquet"])
def test_write_trace_round_trips_atomically(tmp_path, monkeypatch, name):
    rows = [(1700000000.0 + i / 10, "VDD_IN" if i % 2 else "VDD_SOC", 5.0 + i) for i in range(10)]
    monkeypatch.chdir(tmp_path)  # a relative name: `bs1:` must not be taken for a URI scheme
    path = write_trace(rows, Path("sub") / name)
    frame = read_trace(path)
    assert list(frame.columns) == [
        "timestamp_s",
        "sensor",
        "power_w",
        "window",
        "window_start_s",
        "window_stop_s",
        "run_id",
    ]
    assert frame["power_w"].tolist() == [r[2] for r in rows]
    assert frame["window"].isna().all()  # rows given without their window keep none
    assert sorted(p.name for p in path.parent.iterdir()) == [name]  # no temporary left behind


def test_a_trace_of_measure_energy_tags_every_sample_with_its_window(sensor, tmp_path):
    trace = []
    measure_energy(loader(sensor, 40.0), 0.002, sensor, trace)
    frame = read_trace(write_trace(trace, tmp_path / "run.trace.parquet"))
    windows = frame[["window", "window_start_s", "window_stop_s"]].drop_duplicates()
    assert windows["window"].tolist()[:3] == ["idle", "load", "idle"]  # A-B-A, in time order
    assert (windows["window_start_s"] < windows["window_stop_s"]).all()
    assert (frame["timestamp_s"] >= frame["window_start_s"]).all()
    assert (frame["timestamp_s"] <= frame["window_stop_s"]).all()
    load = frame[frame["window"] == "load"]
    assert load["power_w"].median() == pytest.approx(40.0) and frame[frame["window"] == "idle"][
        "power_w"
    ].median() == pytest.approx(10.0)


def test_a_version_1_trace_reads_back_without_windows(tmp_path):
    path = tmp_path / "old.trace.csv"
    pd.DataFrame({"timestamp_s": [1.0, 2.0], "sensor": ["package-0"] * 2, "power_w": [5.0, 6.0]}).to_csv(
        path, index=False
    )
    frame = read_trace(path)
    assert frame["window"].isna().all() and frame["power_w"].tolist() == [5.0, 6.0]


def test_trace_errors_are_sentences(tmp_path):
    with pytest.raises(HwprofError, match="must end in .parquet or .csv"):
        write_trace([], tmp_path / "trace.txt")
    pd.DataFrame({"a": [1]}).to_csv(tmp_path / "other.csv", index=False)
    with pytest.raises(HwprofError, match="is not a power trace"):
        read_trace(tmp_path / "other.csv")
    with pytest.raises(HwprofError, match="does not exist"):
        read_trace(tmp_path / "absent.parquet")


def test_plot_trace_draws_a_png(tmp_path):
    rows = [(1700000000.0 + i / 20, name, 5.0 + i % 7) for i in range(60) for name in ("VDD_IN", "VDD_SOC")]
    trace = write_trace(rows, tmp_path / "run.trace.parquet")
    result = CliRunner().invoke(main, ["plot-trace", str(trace), "--out", str(tmp_path / "trace.png")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "trace.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert oct((tmp_path / "trace.png").stat().st_mode & 0o777) == oct(0o666 & ~current_umask())


def current_umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def test_plot_trace_errors_exit_nonzero_with_one_sentence(tmp_path):
    result = CliRunner().invoke(main, ["plot-trace", str(tmp_path / "absent.parquet")])
    assert result.exit_code == 1 and "Error:" in result.output and "Traceback" not in result.output
    empty = write_trace([], tmp_path / "empty.csv")
    result = CliRunner().invoke(main, ["plot-trace", str(empty)])
    assert result.exit_code == 1 and "nothing to plot" in result.output
    unread = write_trace([(1700000000.0 + i, "VDD_IN", None) for i in range(5)], tmp_path / "unread.csv")
    result = CliRunner().invoke(main, ["plot-trace", str(unread)])
    assert result.exit_code == 1 and "holds 5 samples but no power reading in any" in result.output
    assert not (tmp_path / "unread.png").exists()


def test_plot_trace_names_a_column_that_holds_text(tmp_path):
    text = tmp_path / "text.trace.csv"
    pd.DataFrame({"timestamp_s": range(5), "sensor": ["x"] * 5, "power_w": ["abc"] * 5}).to_csv(text, index=False)
    result = CliRunner().invoke(main, ["plot-trace", str(text)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "column power_w holds text where hwprof writes numbers" in result.output
    assert "bug" not in result.output


@pytest.mark.flaky(reruns=2)  # reads the fake RAPL counter over real time (see tests/fakes/sysfs.py)
@pytest.mark.slow
def test_measure_with_rapl_reports_the_known_wattage(tmp_path, monkeypatch):
    """`hwprof measure --power rapl` on a fake tree whose counter rises at 42 W reports 42 W within 2%."""
    monkeypatch.setenv("HWPROF_SYSFS_ROOT", str(tmp_path))
    write_file(tmp_path / "proc" / "cpuinfo", "model name\t: Fake CPU 9000\nflags\t\t: fpu\n")
    zone = FakeZone("intel-rapl:0", "package-0", 42.0, max_range_uj=30_000_000, max_power_uw=60_000_000)
    out = tmp_path / "mlp.parquet"
    with FakeRaplTree(tmp_path, [zone]):
        result = CliRunner().invoke(
            main,
            [
                "measure",
                "mlp",
                "--no-layers",
                "--power",
                "rapl",
                "--threads",
                "1",
                "--max-time",
                "1",
                "--out",
                str(out),
                "--trace",
                "--quiet",
            ],
        )
    assert result.exit_code == 0, result.output
    row = pd.read_parquet(out).iloc[0]
    assert row["power_source"] == "rapl:package-0"
    assert row["power_w"] == pytest.approx(42.0, rel=0.02)
    assert row["idle_power_w"] == pytest.approx(42.0, rel=0.02)
    # constant power: the idle share is the whole energy, so the dynamic part is ~0
    assert row["energy_mj"] > 0 and abs(row["dynamic_energy_mj"]) < 0.04 * row["energy_mj"]
    assert row["power_spread"] < 0.03  # the halves of the load window, from the counter's reads as on NVML
    trace = read_trace(tmp_path / "mlp.trace.parquet")
    assert set(trace["sensor"]) == {"package-0"} and len(trace) > 10
    assert set(trace["window"]) == {"idle", "load"}
