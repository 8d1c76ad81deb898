"""Jetson driver: tegrastats lines from several boards and JetPacks, a fake tegrastats, INA3221 sysfs."""

import shutil
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from fakes.sysfs import write_atomically, write_file, write_ina3221_hwmon, write_ina3221_iio
from fakes.tegrastats_lines import BOARDS
from hwprof.cli import main
from hwprof.drivers import open_sensor
from hwprof.drivers.base import SensorUnavailable
from hwprof.drivers.jetson import (
    Ina3221Sensor,
    TegrastatsSensor,
    board_rule,
    find_tegrastats,
    open_jetson_sensor,
    parse_tegrastats_line,
    total_power_mw,
)
from hwprof.errors import HwprofError
from hwprof.measuring.energy import measure_energy

FAKE_SCRIPT = Path(__file__).parents[1] / "fakes" / "fake_tegrastats.py"
TIMEOUT = shutil.which("timeout")  # found before the tests empty PATH


@pytest.fixture
def host(tmp_path, monkeypatch):
    """An empty host tree and no tegrastats anywhere."""
    monkeypatch.setenv("HWPROF_SYSFS_ROOT", str(tmp_path))
    monkeypatch.delenv("HWPROF_TEGRASTATS", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    return tmp_path


def fake_tegrastats(
    directory: Path, board: str, power_file: Path | None = None, fail: bool = False, lasts_s: float | None = None
) -> Path:
    """An executable `tegrastats` that runs the fake script for `board`; with `lasts_s`, killed after that long."""
    directory.mkdir(parents=True, exist_ok=True)
    wrapper = directory / "tegrastats"
    env = f"FAKE_TEGRASTATS_BOARD={board} "
    if power_file:
        env += f"FAKE_TEGRASTATS_POWER_FILE={power_file} "
    if fail:
        env += "FAKE_TEGRASTATS_FAIL=1 "
    limit = f"{TIMEOUT} {lasts_s} " if lasts_s else ""
    wrapper.write_text(f'#!/bin/sh\n{env}exec {limit}{sys.executable} {FAKE_SCRIPT} "$@"\n')
    wrapper.chmod(0o755)
    return wrapper


@pytest.mark.parametrize("key", sorted(BOARDS))
def test_every_board_line_gives_its_total_from_instantaneous_values(key):
    board = BOARDS[key]
    reading = parse_tegrastats_line(board["line"])
    rule = board_rule(reading.rails_mw)
    assert rule.board == board["board"]
    assert list(rule.counted_rails) == board["counted"]
    assert rule.gpu_rail == board["gpu_rail"]
    assert total_power_mw(rule, reading.rails_mw) == board["total_mw"]
    assert "NC" not in reading.rails_mw
    assert not {"RAM", "SWAP", "IRAM", "EMC_FREQ", "GR3D_FREQ", "APE"} & set(reading.rails_mw)


def test_the_running_average_is_never_read():
    line = BOARDS["orin_nano_jp6"]["line"]  # VDD_IN 9875mW/7410mW
    assert parse_tegrastats_line(line).rails_mw["VDD_IN"] == 9875
    assert parse_tegrastats_line(BOARDS["nano_jp4"]["line"]).rails_mw["POM_5V_IN"] == 4120  # 4120/3874
    assert parse_tegrastats_line(BOARDS["thor_jp7"]["line"]).rails_mw["VIN"] == 31550  # cur/avg/max


@pytest.mark.parametrize(
    "text, percent, freqs",
    [
        ("GR3D_FREQ 41%@921", 41, [921]),
        ("GR3D_FREQ 57%@[624]", 57, [624]),
        ("GR3D_FREQ 12%@[1300,1300]", 12, [1300, 1300]),
        ("GR3D_FREQ 0%", 0, []),  # no @freq without root
        ("GR3D_FREQ @[1575,1575,1575]", None, [1575, 1575, 1575]),
        ("GR3D_FREQ off", 0, []),
    ],
)
def test_gr3d_forms(text, percent, freqs):
    reading = parse_tegrastats_line(f"RAM 1/2MB {text} VDD_IN 1mW/1mW")
    assert reading.gr3d_percent == percent and reading.gr3d_freq_mhz == freqs


def test_details_of_each_generation():
    orin = parse_tegrastats_line(BOARDS["orin_nano_jp5"]["line"])
    assert orin.temperatures_c["GPU"] is None and orin.temperatures_c["CV0"] is None  # -256C: absent
    assert orin.temperatures_c["CPU"] == 47.25 and orin.timestamp == "04-17-2023 10:00:00"
    assert orin.cpu_percent == [1, 0, 0, 0, None, None]  # off cores
    agx = parse_tegrastats_line(BOARDS["agx_orin_jp6"]["line"])
    assert agx.nc_rails == 2 and "VDDQ_VDD2_1V8AO" in agx.rails_mw
    assert {"NVENC", "NVDEC", "NVJPG1", "OFA", "NVDLA0", "PVA0_FREQ"} <= set(agx.engines_off)
    noroot = parse_tegrastats_line(BOARDS["xavier_nx_jp4_noroot"]["line"])
    assert noroot.emc_percent == 0 and noroot.emc_freq_mhz is None and noroot.gr3d_freq_mhz == []
    thor = parse_tegrastats_line(BOARDS["thor_jp7"]["line"])
    assert thor.temperatures_c["gpu"] == 51.406  # JetPack 7: cur/avg temperatures, cur taken
    idle = parse_tegrastats_line(BOARDS["thor_jp7_idle"]["line"])
    assert idle.cpu_percent == [0, 5, None, 1] and idle.rails_mw["VDD_GPU"] == -392
    nano = parse_tegrastats_line(BOARDS["nano_jp4"]["line"])
    assert nano.timestamp is None and nano.emc_freq_mhz == 1600 and nano.temperatures_c["thermal"] == 38.75
    xavier = parse_tegrastats_line(BOARDS["agx_xavier_jp4"]["line"])
    assert xavier.rails_mw["GPU"] == 620 and xavier.temperatures_c["GPU"] == 35.5  # same name, two meanings


def test_agx_orin_does_not_count_the_rail_inside_vin_sys_5v0():
    rule = board_rule(parse_tegrastats_line(BOARDS["agx_orin_jp6"]["line"]).rails_mw)
    assert "VDDQ_VDD2_1V8AO" not in rule.counted_rails
    assert dict(rule.excluded)["VDDQ_VDD2_1V8AO"] == "already inside VIN_SYS_5V0"


def test_unknown_rail_set_is_not_guessed():
    with pytest.raises(SensorUnavailable, match="match no known Jetson board"):
        board_rule(["VDD_FOO", "VDD_BAR"])


def test_discovery_order(host, monkeypatch):
    on_path = fake_tegrastats(host / "bin", "nano_jp4")
    assert find_tegrastats() == str(on_path)
    monkeypatch.setenv("HWPROF_TEGRASTATS", "/opt/env/tegrastats")
    assert find_tegrastats() == "/opt/env/tegrastats"
    assert find_tegrastats("/opt/flag/tegrastats") == "/opt/flag/tegrastats"


@pytest.mark.parametrize("board", ["nano_jp4", "agx_xavier_jp5", "agx_orin_jp6", "orin_nx_jp6_noroot", "thor_jp7"])
def test_fake_tegrastats_power_is_read_within_two_percent(host, board):
    power_file = write_file(host / "power_mw", "12500")
    sensor = TegrastatsSensor(str(fake_tegrastats(host / "bin", board, power_file)), interval_ms=20)
    with sensor:
        assert sensor.source == f"tegrastats:{'+'.join(BOARDS[board]['counted'])}"
        sensor.start_window()
        time.sleep(0.5)
        window = sensor.stop_window()
    assert window.power_w == pytest.approx(12.5, rel=0.02)
    assert BOARDS[board]["gpu_rail"] in window.metadata["rail_power_w"]
    assert "gpu_power_w" in window.metadata
    assert sensor.metadata()["board"] == BOARDS[board]["board"]


def test_auto_uses_jetson_rails_for_cpu_and_cuda(host):
    write_file(host / "etc" / "nv_tegra_release", "# R36 (release), REVISION: 4.0\n")
    fake_tegrastats(host / "bin", "orin_nano_jp6")
    for device in ("cpu", "cuda:0"):
        sensor = open_sensor("auto", device)
        try:
            assert sensor.available and sensor.reason is None and sensor.source == "tegrastats:VDD_IN"
        finally:
            sensor.close()


def test_failing_tegrastats_is_explained(host):
    path = fake_tegrastats(host / "bin", "nano_jp4", fail=True)
    with pytest.raises(HwprofError, match="needs root"):
        open_sensor("jetson", "cuda", tegrastats=str(path))
    with pytest.raises(HwprofError, match="not an executable file"):
        open_sensor("jetson", "cuda", tegrastats=str(host / "missing"))


def test_a_tegrastats_that_cannot_start_keeps_what_it_said(host):
    path = fake_tegrastats(host / "bin", "nano_jp4", fail=True)
    with pytest.raises(SensorUnavailable, match=r"exited with status 1 .*\(Error: tegrastats needs root to read"):
        TegrastatsSensor(str(path)).open()


def test_a_tegrastats_sensor_dropped_unclosed_ends_tegrastats_and_its_reader(host):
    """Its reader thread held the sensor, so a sensor dropped without close() was never collected: tegrastats ran,
    and its lines queued up, for the rest of the process."""
    import gc
    import weakref

    sensor = TegrastatsSensor(str(fake_tegrastats(host / "bin", "orin_nano_jp6")), interval_ms=20).open()
    process, reader, gone = sensor._process, sensor._reader, weakref.ref(sensor)
    del sensor
    gc.collect()
    assert gone() is None
    assert process.wait(timeout=10) is not None
    reader.join(timeout=10)
    assert not reader.is_alive()


@pytest.mark.slow
def test_a_tegrastats_that_exits_mid_run_is_a_reason_not_a_crash(host):
    sensor = TegrastatsSensor(str(fake_tegrastats(host / "bin", "orin_nano_jp6", lasts_s=1)), interval_ms=20)
    with sensor:
        sensor.start_window()
        time.sleep(1.5)
        with pytest.raises(SensorUnavailable, match="tegrastats at .* exited with status 124 while hwprof was reading"):
            sensor.stop_window()


def test_no_jetson_sensor_at_all_is_explained_in_the_callers_words(host):
    from hwprof.errors import warnings_as_notes

    write_file(host / "etc" / "nv_tegra_release", "# R36 (release), REVISION: 4.0\n")
    with pytest.raises(SensorUnavailable, match="pass tegrastats=PATH, set HWPROF_TEGRASTATS"):
        open_jetson_sensor()  # from Python, as Python names the setting
    with warnings_as_notes(print), pytest.raises(SensorUnavailable, match="--tegrastats PATH"):
        open_jetson_sensor()


def test_power_jetson_off_a_jetson_says_first_that_it_is_not_one(host, tmp_path):
    """Installing tegrastats would not help there: the sentence starts with what `hwprof devices` says."""
    result = CliRunner().invoke(main, ["measure", "mlp", "--power", "jetson", "--out", str(tmp_path / "j.parquet")])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.startswith(
        "Error: --power jetson cannot be used: not a Jetson: no /etc/nv_tegra_release and no Tegra device tree"
    )
    assert "nvidia-l4t-tools" not in result.output and not (tmp_path / "j.parquet").exists()


def test_ina3221_hwmon_is_preferred_and_follows_the_board_rule(host):
    # AGX Orin: the total is the sum of three rails; VDDQ_VDD2_1V8AO and NC are left out.
    write_ina3221_hwmon(host, {"VDD_GPU_SOC": (5000, 1000), "VDD_CPU_CV": (5000, 400), "VIN_SYS_5V0": (5000, 600)})
    write_ina3221_hwmon(host, {"NC": (0, 0), "VDDQ_VDD2_1V8AO": (5000, 80), "NC#2": (0, 0)}, index=2)
    fake_tegrastats(host / "bin", "agx_orin_jp6")
    sensor = open_jetson_sensor()
    assert isinstance(sensor, Ina3221Sensor)
    with sensor:
        assert sensor.source == "ina3221:VDD_GPU_SOC+VDD_CPU_CV+VIN_SYS_5V0"
        sensor.start_window()
        time.sleep(0.2)
        window = sensor.stop_window()
    assert window.power_w == pytest.approx(10.0)
    assert window.metadata["rail_power_w"]["VDDQ_VDD2_1V8AO"] == pytest.approx(0.4)


def test_ina3221_iio_on_jetpack_4(host):
    chip = write_ina3221_iio(host, {"POM_5V_IN": 4000, "POM_5V_GPU": 900, "POM_5V_CPU": 700})
    with Ina3221Sensor() as sensor:
        assert sensor.source == "ina3221:POM_5V_IN"
        sensor.start_window()
        time.sleep(0.1)
        write_atomically(chip / "in_power0_input", "6000\n")  # sysfs reads never see a half-written value
        time.sleep(0.1)
        window = sensor.stop_window()
    assert 4.0 < window.power_w < 6.0
    assert window.metadata["gpu_power_w"] == pytest.approx(0.9)


def test_measure_energy_with_tegrastats_follows_the_load(host):
    power_file = write_file(host / "power_mw", "5000")
    sensor = TegrastatsSensor(str(fake_tegrastats(host / "bin", "orin_nano_jp6", power_file)), interval_ms=20)
    sensor.min_window_s = 0.4
    latency_s = 0.01

    def run(n):
        write_atomically(power_file, "15000")
        time.sleep(n * latency_s)
        write_atomically(power_file, "5000")

    trace = []
    with sensor:
        result = measure_energy(run, latency_s, sensor, trace)
    assert result["power_source"] == "tegrastats:VDD_IN"
    assert result["power_w"] == pytest.approx(15.0, rel=0.1)
    assert result["idle_power_w"] == pytest.approx(5.0, rel=0.1)
    assert {row[1] for row in trace} == {"VDD_IN", "VDD_CPU_GPU_CV", "VDD_SOC"}
    assert all(row[0] > 1e9 and row[4] > 1e9 for row in trace)  # wall-clock timestamps, windows too


def test_an_ina3221_rail_missing_its_current_file_is_named(host):
    """VDD_IN's current file gone: the other rails alone match no board, which is not the reason to give."""
    write_file(host / "etc" / "nv_tegra_release", "# R36 (release), REVISION: 4.0\n")
    chip = write_ina3221_hwmon(host, {"VDD_IN": (5000, 1000), "VDD_CPU_GPU_CV": (5000, 200), "VDD_SOC": (5000, 300)})
    (chip / "curr1_input").unlink()
    with pytest.raises(SensorUnavailable, match=r"INA3221 rail VDD_IN has no .*hwmon1/curr1_input"):
        Ina3221Sensor()
    with pytest.raises(SensorUnavailable, match=r"INA3221 rail VDD_IN has no .*curr1_input.*tegrastats is not found"):
        open_jetson_sensor()  # and no tegrastats to fall back on: both reasons


def test_an_ina3221_iio_rail_missing_its_power_file_is_named(host):
    device = write_ina3221_iio(host, {"POM_5V_IN": 4000, "POM_5V_GPU": 900, "POM_5V_CPU": 700})
    (device / "in_power0_input").unlink()
    with pytest.raises(SensorUnavailable, match=r"INA3221 rail POM_5V_IN has no .*in_power0_input"):
        Ina3221Sensor()


def test_an_unreadable_sub_rail_is_left_out_by_name_not_silently(host):
    chip = write_ina3221_hwmon(host, {"VDD_IN": (5000, 1000), "VDD_CPU_GPU_CV": (5000, 200), "VDD_SOC": (5000, 300)})
    (chip / "in3_input").unlink()
    with Ina3221Sensor() as sensor:
        assert sensor.source == "ina3221:VDD_IN"  # the total does not need VDD_SOC
        assert "in3_input" in sensor.metadata()["unreadable_rails"]["VDD_SOC"]


def test_auto_tries_an_explicit_tegrastats_off_a_jetson(host):
    """--tegrastats PATH says this is a Jetson: auto tries it (no /etc/nv_tegra_release here), and gives its reason."""
    working = fake_tegrastats(host / "bin", "orin_nano_jp6")
    sensor = open_sensor("auto", "cpu", tegrastats=str(working))
    try:
        assert sensor.available and sensor.source == "tegrastats:VDD_IN"
    finally:
        sensor.close()
    failing = fake_tegrastats(host / "failing", "orin_nano_jp6", fail=True)
    sensor = open_sensor("auto", "cuda:0", tegrastats=str(failing))
    assert not sensor.available
    assert f"tegrastats at {failing} exited with status 1" in sensor.reason and "needs root" in sensor.reason


def test_auto_without_an_explicit_tegrastats_is_not_a_jetson_for_one_on_path(host, monkeypatch):
    fake_tegrastats(host / "bin", "orin_nano_jp6")  # found on PATH, and named by the environment: not a Jetson
    monkeypatch.setenv("HWPROF_TEGRASTATS", str(host / "bin" / "tegrastats"))
    sensor = open_sensor("auto", "cpu")
    assert not sensor.available and "tegrastats" not in sensor.reason  # RAPL's reason, as on any other machine
