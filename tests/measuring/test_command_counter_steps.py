"""`hwprof run` over NVML's counter, which moves every 100 ms in steps of 7 J at 70 W: the idle baseline and the
command's power are read between the counter's steps, so a command on a flat load is not flagged below idle."""

import pytest

from fakes.fake_pynvml import FakeGpu, install
from hwprof.drivers import open_sensor
from hwprof.measuring import command
from hwprof.measuring.command import measure_command


@pytest.mark.parametrize(("idle_s", "command_s"), [(2.05, 3.0), (2.4, 2.15), (2.25, 3.05)])
def test_a_command_on_a_flat_70_w_is_70_w_at_its_idle_and_nothing_above_it(sysfs_root, monkeypatch, idle_s, command_s):
    """It read 68.66 W against an idle of 70.07 W, -4.31 J above idle and below_idle, and +8 or +12 J on reruns."""
    gpu = FakeGpu(idle_w=70.0)
    install(monkeypatch, [gpu])
    monkeypatch.setattr(command, "_run_to_end", lambda argv: gpu.clock.sleep(command_s) or 0)
    sensor = open_sensor("nvml", "cuda:0")
    try:
        cost = measure_command(["work"], "cuda:0", sensor, idle_s=idle_s)
    finally:
        sensor.close()
    assert cost.idle_power_w == pytest.approx(70.0, rel=0.005)
    assert cost.power_w == pytest.approx(70.0, rel=0.005)
    assert cost.energy_j == pytest.approx(70.0 * command_s, rel=0.01)
    assert abs(cost.dynamic_energy_j) < 0.5 and "below_idle" not in cost.flags


def test_a_command_under_its_idle_is_said_below_idle_not_a_negative_above(sysfs_root, monkeypatch):
    """The summary said '-0.3163 J above idle'."""
    from hwprof.cli.run import _summary_lines

    summary = {"command": ["work"], "exit_status": 0, "duration_s": 1.0, "device": "cpu", "energy_j": 10.0}
    summary |= {"power_w": 10.0, "power_source": "rapl:package-0", "idle_power_w": 10.3, "idle_s": 0.6}
    summary |= {"dynamic_energy_j": -0.3163, "power_flags": [], "out": None, "notes": []}
    assert "so 0.3163 J below idle" in _summary_lines(summary)[1]
