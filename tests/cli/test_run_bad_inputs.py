"""`hwprof run` says what is wrong with its input in words that fit the mistake."""

import pytest
import torch
from click.testing import CliRunner

from hwprof.cli import main
from hwprof.errors import HwprofError
from hwprof.measuring.provenance import device_name


def run(*args):
    return CliRunner().invoke(main, ["run", *map(str, args)])


def test_a_directory_as_the_command_is_said_to_be_one(sysfs_root, tmp_path):
    """It advised making the directory executable with chmod +x."""
    result = run("--power", "none", "--", tmp_path)
    assert result.exit_code == 126, result.output
    assert f"cannot run {tmp_path}: it is a directory" in result.output and "chmod" not in result.output


@pytest.mark.parametrize("sensor", ["rapl", "nvml", "jetson"])
def test_a_sensor_given_as_the_device_points_to_power(sysfs_root, sensor):
    """--device rapl said "unknown device 'rapl'"."""
    result = run("--device", sensor, "--", "true")
    assert result.exit_code == 1 and f"--device {sensor} names a power sensor, not a device: give --power {sensor}" in (
        result.output
    )


def test_a_gpu_beyond_the_visible_ones_is_said_not_to_be_visible(monkeypatch):
    """It said "this machine has 2 CUDA device(s)" where 2 of its 8 were visible."""
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,1")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    with pytest.raises(HwprofError) as refused:
        device_name("cuda:5")
    assert str(refused.value) == (
        "device=cuda:5 does not exist: only 2 CUDA device(s) are visible (CUDA_VISIBLE_DEVICES='3,1')"
    )
