"""Run provenance: what it records, read from a fake /sys and /proc tree."""

import platform
import socket
from datetime import datetime, timezone

import pytest
import torch

import hwprof
from fakes.sysfs import write_file
from hwprof.errors import HwprofError
from hwprof.measuring import provenance
from hwprof.measuring.provenance import collect_provenance, cpu_model, cpufreq, device_name
from hwprof.schema import SCHEMA_VERSION


def fake_cpu(root, name, **files):
    directory = root / "sys/devices/system/cpu" / name
    directory.mkdir(parents=True)
    if files:
        (directory / "cpufreq").mkdir()
        for file_name, text in files.items():
            (directory / "cpufreq" / file_name).write_text(text + "\n")


@pytest.fixture
def fake_root(tmp_path, monkeypatch):
    monkeypatch.setenv("HWPROF_SYSFS_ROOT", str(tmp_path))
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc/cpuinfo").write_text(
        "processor\t: 0\nvendor_id\t: Test\nmodel name\t: Test CPU 9000 @ 3.00GHz\n\n"
        "processor\t: 1\nmodel name\t: Test CPU 9000 @ 3.00GHz\n"
    )
    return tmp_path


def test_cpufreq_per_cpu_in_numeric_order_with_unreadable_files(fake_root):
    fake_cpu(
        fake_root,
        "cpu0",
        scaling_governor="performance",
        scaling_min_freq="800000",
        scaling_max_freq="3000000",
        scaling_cur_freq="2999000",
    )
    fake_cpu(fake_root, "cpu10", scaling_governor="powersave", scaling_min_freq="800000", scaling_max_freq="2000000")
    fake_cpu(fake_root, "cpu2")  # no cpufreq directory at all
    (fake_root / "sys/devices/system/cpu/cpufreq").mkdir()  # not a CPU: must be skipped

    per_cpu = cpufreq()
    assert list(per_cpu) == ["cpu0", "cpu2", "cpu10"]
    assert per_cpu["cpu0"] == {"governor": "performance", "min_khz": 800000, "max_khz": 3000000, "cur_khz": 2999000}
    assert per_cpu["cpu10"]["cur_khz"] == "unreadable"
    assert set(per_cpu["cpu2"].values()) == {"unreadable"}

    record = collect_provenance("cpu", 2, ["hwprof", "measure", "mlp"])
    assert record["governor"] == "mixed: performance,powersave"
    assert record["cpufreq"] == per_cpu
    assert record["cpu_model"] == "Test CPU 9000 @ 3.00GHz"
    assert record["device_name"] == "Test CPU 9000 @ 3.00GHz"


def test_uniform_governor_and_no_cpufreq_at_all(fake_root):
    for index in range(2):
        fake_cpu(fake_root, f"cpu{index}", scaling_governor="schedutil")
    assert collect_provenance("cpu", 1, ["x"])["governor"] == "schedutil"

    for index in range(2):
        for path in (fake_root / f"sys/devices/system/cpu/cpu{index}/cpufreq").iterdir():
            path.unlink()
    record = collect_provenance("cpu", 1, ["x"])
    assert record["governor"] == "unreadable"
    assert record["cpufreq"] == "unreadable"


def test_cpu_model_on_arm_boards_without_model_name(fake_root):
    (fake_root / "proc/cpuinfo").write_text("processor\t: 0\nCPU part\t: 0xd42\n")
    board = fake_root / "sys/firmware/devicetree/base"
    board.mkdir(parents=True)
    (board / "model").write_bytes(b"NVIDIA Jetson AGX Orin Developer Kit\x00")
    assert cpu_model() == "NVIDIA Jetson AGX Orin Developer Kit"
    (fake_root / "proc/cpuinfo").write_text("processor\t: 0\nHardware\t: Qualcomm Technologies SM8550\n")
    assert cpu_model() == "Qualcomm Technologies SM8550"


def test_cpu_model_falls_back_to_platform_where_cpuinfo_names_none(tmp_path, monkeypatch):
    write_file(tmp_path / "proc" / "cpuinfo", "processor\t: 0\n")  # a root without proc/ reads the real one
    monkeypatch.setenv("HWPROF_SYSFS_ROOT", str(tmp_path))
    monkeypatch.setattr(provenance.platform, "processor", lambda: "fallback-cpu")
    assert cpu_model() == "fallback-cpu"


def test_provenance_records_software_host_time_and_command_line(fake_root):
    argv = ["hwprof", "measure", "nb201:|nor_conv_3x3~0|+|skip_connect~0|avg_pool_3x3~1|", "--out", "a b.parquet"]
    before = datetime.now(timezone.utc).replace(microsecond=0)
    record = collect_provenance("cpu", 3, argv, extra={"method": {"precision": 0.02}})
    after = datetime.now(timezone.utc)

    assert len(record["run_id"]) == 32 and int(record["run_id"], 16) >= 0
    assert record["run_id"] != collect_provenance("cpu", 3, argv)["run_id"]
    assert record["schema_version"] == SCHEMA_VERSION
    assert record["hwprof"] == hwprof.__version__
    assert record["torch"] == torch.__version__
    assert record["torch_cuda"] == torch.version.cuda
    assert record["python"] == platform.python_version()
    assert record["device"] == "cpu"
    assert record["threads"] == 3
    assert record["host"] == socket.gethostname()
    assert before <= datetime.fromisoformat(record["start_time"]) <= after
    assert record["argv"] == argv
    assert record["command_line"].endswith("--out 'a b.parquet'")
    assert record["platform"] == platform.platform()
    assert record["method"] == {"precision": 0.02}

    with pytest.raises(ValueError, match="overwrite"):
        collect_provenance("cpu", 1, argv, extra={"host": "elsewhere"})


def test_device_name_refuses_unknown_or_absent_devices(fake_root):
    assert device_name("cpu") == "Test CPU 9000 @ 3.00GHz"
    with pytest.raises(HwprofError, match="unknown device 'tpu'; use cpu, cuda or cuda:N"):
        device_name("tpu")
    with pytest.raises(HwprofError, match="unknown device"):
        device_name("cuda:x")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on machines without CUDA")
def test_device_name_without_cuda_says_so():
    with pytest.raises(HwprofError, match="sees no CUDA device"):
        device_name("cuda:0")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_device_name_of_a_cuda_device():
    assert device_name("cuda") == torch.cuda.get_device_name(0)
    assert collect_provenance("cuda:0", 1, ["x"])["device_name"] == torch.cuda.get_device_name(0)


def test_provenance_records_the_settings_that_pick_kernels(fake_root, monkeypatch):
    monkeypatch.setattr(torch.backends.cudnn, "benchmark", True)
    record = collect_provenance("cpu", 1, ["x"])
    assert record["cudnn_benchmark"] is True
    assert record["allow_tf32"] == {
        "matmul": torch.backends.cuda.matmul.allow_tf32,
        "cudnn": torch.backends.cudnn.allow_tf32,
    }
    assert record["float32_matmul_precision"] == torch.get_float32_matmul_precision()


def test_an_nvml_name_points_to_the_cuda_name_devices_shows(fake_root):
    """`hwprof devices` lists GPUs as nvml:N; --device takes cuda:N, and the refusal says where to find it."""
    with pytest.raises(HwprofError, match=r"unknown device 'nvml:3'; use cpu, cuda or cuda:N; `hwprof devices` shows"):
        device_name("nvml:3")
