"""`hwprof devices`: every device and sensor, what it measures, and why any cannot be used."""

import json
import sys
import time

import pytest
from click.testing import CliRunner

from fakes.fake_pynvml import NVML_ERROR_LIBRARY_NOT_FOUND, FakeGpu, make_fake_pynvml
from fakes.sysfs import FakeRaplTree, FakeZone, write_file, write_ina3221_hwmon
from hwprof.cli import main
from hwprof.drivers import rapl


@pytest.fixture
def host(tmp_path, monkeypatch):
    monkeypatch.setenv("HWPROF_SYSFS_ROOT", str(tmp_path))
    monkeypatch.delenv("HWPROF_TEGRASTATS", raising=False)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    write_file(tmp_path / "proc" / "cpuinfo", "model name\t: Fake CPU 9000\nflags\t\t: fpu sse\n")
    return tmp_path


def devices_json(*args):
    result = CliRunner().invoke(main, ["devices", "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def by_sensor(report):
    return {entry["sensor"]: entry for entry in report["sensors"]}


@pytest.mark.flaky(reruns=2)  # reads the fake RAPL counter over real time (see tests/fakes/sysfs.py)
def test_gpu_server_lists_cpu_rapl_and_each_gpu(host, monkeypatch):
    gpus = [FakeGpu(name="Fake H100", uuid="GPU-1"), FakeGpu(name="Fake T4", uuid="GPU-2", has_counter=False)]
    monkeypatch.setitem(sys.modules, "pynvml", make_fake_pynvml(gpus))
    zones = [FakeZone("intel-rapl:0", "package-0", 20.0), FakeZone("intel-rapl:0:0", "core", 9.0)]
    with FakeRaplTree(host, zones):  # counters that move: a frozen one is unusable
        report = devices_json()
    assert [d["device"] for d in report["devices"]] == ["cpu", "nvml:0", "nvml:1"]
    assert report["devices"][0]["name"] == "Fake CPU 9000"
    sensors = report["sensors"]
    rapl_entry = next(s for s in sensors if s["sensor"] == "rapl")
    assert rapl_entry["usable"] and rapl_entry["source"] == "rapl:package-0"
    assert {z["name"]: z["counted"] for z in rapl_entry["zones"]} == {"package-0": True, "core": False}
    gpu_entries = [s for s in sensors if s["sensor"] == "nvml"]
    assert [g["source"] for g in gpu_entries] == ["nvml:0:total_energy", "nvml:1:power_instant"]
    jetson = next(s for s in sensors if s["sensor"] == "jetson")
    assert not jetson["usable"] and "not a Jetson" in jetson["reason"]


@pytest.mark.flaky(reruns=2)  # reads the fake RAPL counter over real time (see tests/fakes/sysfs.py)
def test_unusable_sensors_say_why_and_how_to_fix(host, monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", make_fake_pynvml(init_error=NVML_ERROR_LIBRARY_NOT_FOUND))
    FakeRaplTree(host, [FakeZone("intel-rapl:0", "package-0", 20.0)])

    def denied(path):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(rapl, "read_counter_uj", denied)
    sensors = by_sensor(devices_json())
    assert not sensors["rapl"]["usable"] and "chmod" in sensors["rapl"]["reason"]
    assert not sensors["nvml"]["usable"] and "install the NVIDIA driver" in sensors["nvml"]["reason"]
    for entry in sensors.values():
        assert entry["usable"] or entry["reason"]
    text = CliRunner().invoke(main, ["devices"]).output
    assert "why not:" in text and "Fake CPU 9000" in text


def test_jetson_lists_ina3221_and_tegrastats(host, monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", make_fake_pynvml(init_error=NVML_ERROR_LIBRARY_NOT_FOUND))
    write_file(host / "etc" / "nv_tegra_release", "# R35 (release), REVISION: 3.1\n")
    write_file(host / "proc" / "device-tree" / "model", "NVIDIA Jetson Orin Nano Developer Kit\x00")
    write_ina3221_hwmon(host, {"VDD_IN": (5000, 1000), "VDD_CPU_GPU_CV": (5000, 200), "VDD_SOC": (5000, 300)})
    report = devices_json()
    assert {"device": "jetson", "kind": "soc", "name": "NVIDIA Jetson Orin Nano Developer Kit"} in report["devices"]
    sensors = by_sensor(report)
    assert sensors["ina3221"]["usable"] and sensors["ina3221"]["source"] == "ina3221:VDD_IN"
    assert sensors["ina3221"]["board"] == "Jetson Xavier NX / Orin Nano / Orin NX"
    assert not sensors["tegrastats"]["usable"] and "--tegrastats PATH" in sensors["tegrastats"]["reason"]


@pytest.mark.parametrize(("uid", "advised"), [(1000, True), (0, False)])
def test_a_jetson_without_ina3221_advises_root_only_to_a_user_who_is_not(host, monkeypatch, uid, advised):
    monkeypatch.setitem(sys.modules, "pynvml", make_fake_pynvml(init_error=NVML_ERROR_LIBRARY_NOT_FOUND))
    monkeypatch.setattr("os.geteuid", lambda: uid)
    write_file(host / "etc" / "nv_tegra_release", "# R35 (release), REVISION: 3.1\n")
    reason = by_sensor(devices_json())["ina3221"]["reason"]
    assert "no readable INA3221 monitor" in reason and ("run as root" in reason) == advised


def test_a_cpu_only_virtual_machine_reports_latency_only(host, monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", make_fake_pynvml(init_error=NVML_ERROR_LIBRARY_NOT_FOUND))
    write_file(host / "proc" / "cpuinfo", "model name\t: Fake vCPU\nflags\t\t: fpu hypervisor\n")
    report = devices_json()
    assert report["devices"][0]["virtual_machine"] is True
    assert not any(s["usable"] for s in report["sensors"])
    assert "latency only" in by_sensor(report)["rapl"]["reason"]


def test_a_program_named_tegrastats_does_not_make_a_jetson(tmp_path, monkeypatch):
    monkeypatch.setenv("HWPROF_SYSFS_ROOT", str(tmp_path))
    monkeypatch.setenv("HWPROF_TEGRASTATS", "/bin/false")
    result = CliRunner().invoke(main, ["devices", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert not any(device.get("kind") == "soc" for device in report["devices"])
    jetson = [sensor for sensor in report["sensors"] if sensor["sensor"] == "jetson"]
    assert jetson and not jetson[0]["usable"] and "not a Jetson" in jetson[0]["reason"]


def test_a_sysfs_root_that_is_not_a_folder_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("HWPROF_SYSFS_ROOT", str(tmp_path / "nonexistent"))
    for args in (["devices"], ["measure", "mlp", "--out", str(tmp_path / "x.parquet")]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 1 and "HWPROF_SYSFS_ROOT" in result.output and "Traceback" not in result.output


@pytest.mark.flaky(reruns=2)  # reads the fake RAPL counter over real time (see tests/fakes/sysfs.py)
def test_an_inaccessible_or_lost_gpu_is_listed_with_its_reason(host, monkeypatch):
    """One GPU hidden by a cgroup and one lost do not crash `hwprof devices`; the third is usable."""
    from fakes.fake_pynvml import NVML_ERROR_GPU_IS_LOST, NVML_ERROR_NO_PERMISSION

    gpus = [
        FakeGpu(uuid="GPU-1", handle_error=NVML_ERROR_NO_PERMISSION),
        FakeGpu(uuid="GPU-2", query_error=NVML_ERROR_GPU_IS_LOST),
        FakeGpu(name="Fake H100", uuid="GPU-3", mig_mode=1),
        FakeGpu(name="Fake H200", uuid="GPU-4"),
    ]
    monkeypatch.setitem(sys.modules, "pynvml", make_fake_pynvml(gpus))
    FakeRaplTree(host, [FakeZone("intel-rapl:0", "package-0", 20.0)])
    gpu_entries = [s for s in devices_json()["sensors"] if s["sensor"] == "nvml"]
    assert [g["usable"] for g in gpu_entries] == [False, False, False, True]
    assert "GPU 0 is unavailable, because NVML answered 'Insufficient Permissions'" in gpu_entries[0]["reason"]
    assert "GPU is lost" in gpu_entries[1]["reason"] and "MIG mode" in gpu_entries[2]["reason"]
    text = CliRunner().invoke(main, ["devices"]).output
    assert "Traceback" not in text and "Fake H200" in text


def test_an_ina3221_rail_missing_a_file_is_named_by_devices(host, monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", make_fake_pynvml(init_error=NVML_ERROR_LIBRARY_NOT_FOUND))
    write_file(host / "etc" / "nv_tegra_release", "# R35 (release), REVISION: 3.1\n")
    chip = write_ina3221_hwmon(host, {"VDD_IN": (5000, 1000), "VDD_CPU_GPU_CV": (5000, 200), "VDD_SOC": (5000, 300)})
    (chip / "in1_input").unlink()
    ina = by_sensor(devices_json())["ina3221"]
    assert not ina["usable"] and "INA3221 rail VDD_IN has no" in ina["reason"] and "in1_input" in ina["reason"]


def _tegrastats(directory, body):
    """A program named tegrastats that runs `body` (Python) instead."""
    from fakes.sysfs import FAKE_TEGRASTATS

    directory.mkdir(parents=True, exist_ok=True)
    program = directory / "tegrastats"
    if body is None:  # the fake, failing as one without root does
        program.write_text(f'#!/bin/sh\nFAKE_TEGRASTATS_FAIL=1 exec {sys.executable} {FAKE_TEGRASTATS} "$@"\n')
    elif body == "working":
        program.write_text(f'#!/bin/sh\nexec {sys.executable} {FAKE_TEGRASTATS} "$@"\n')
    else:
        program.write_text(f'#!/bin/sh\nexec {sys.executable} -c "{body}"\n')
    program.chmod(0o755)
    return program


def jetson_host(host, monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", make_fake_pynvml(init_error=NVML_ERROR_LIBRARY_NOT_FOUND))
    write_file(host / "etc" / "nv_tegra_release", "# R36 (release), REVISION: 4.0\n")


def test_devices_starts_tegrastats_and_reports_one_that_fails_at_start(host, monkeypatch):
    """Found is not usable: a tegrastats that exits at once is unusable, with what it said, as measure finds it."""
    jetson_host(host, monkeypatch)
    _tegrastats(host / "bin", None)
    stats = by_sensor(devices_json())["tegrastats"]
    assert not stats["usable"] and stats["source"] is None
    assert "exited with status 1 before printing power rails" in stats["reason"] and "needs root" in stats["reason"]


def test_devices_names_the_total_rail_of_a_tegrastats_that_runs(host, monkeypatch):
    jetson_host(host, monkeypatch)
    _tegrastats(host / "bin", "working")
    stats = by_sensor(devices_json())["tegrastats"]
    assert stats["usable"] and stats["source"] == "tegrastats:VDD_IN" and "reason" not in stats


def test_devices_waits_a_bounded_time_for_a_silent_tegrastats(host, monkeypatch):
    jetson_host(host, monkeypatch)
    _tegrastats(host / "bin", "import time; time.sleep(60)")
    started = time.monotonic()
    stats = by_sensor(devices_json())["tegrastats"]
    assert time.monotonic() - started < 3  # the probe waits 1.5 s, not measure's 5 s
    assert not stats["usable"] and "printed no power rails within" in stats["reason"]


def test_devices_tries_an_explicit_tegrastats_off_a_jetson(host, monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", make_fake_pynvml(init_error=NVML_ERROR_LIBRARY_NOT_FOUND))
    program = _tegrastats(host / "opt", None)
    stats = by_sensor(devices_json("--tegrastats", str(program)))["tegrastats"]
    assert not stats["usable"] and f"tegrastats at {program} exited with status 1" in stats["reason"]


@pytest.mark.flaky(reruns=2)  # reads the fake RAPL counter over real time (see tests/fakes/sysfs.py)
def test_a_counter_that_never_moves_is_unusable_with_its_reason(host, monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", make_fake_pynvml(init_error=NVML_ERROR_LIBRARY_NOT_FOUND))
    FakeRaplTree(host, [FakeZone("intel-rapl:0", "package-0", 20.0)])  # the files, never updated
    entry = by_sensor(devices_json())["rapl"]
    assert entry["usable"] is False
    assert "the counter of rapl:package-0 did not advance" in entry["reason"] and "frozen" in entry["reason"]
