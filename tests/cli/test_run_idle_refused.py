"""`hwprof run --idle-s` shorter than the sensor measures is refused before CMD runs, not noted after it."""

import sys

import pytest
from click.testing import CliRunner

from fakes.scripted_sensor import ScriptedSensor
from hwprof.cli import main
from hwprof.errors import HwprofError
from hwprof.measuring import command
from hwprof.measuring.command import measure_command


@pytest.fixture
def fake_sensor(monkeypatch):
    """Every run reads a fake counter whose shortest window is 0.05 s."""
    from hwprof import drivers

    monkeypatch.setattr(drivers, "open_sensor", lambda *args: ScriptedSensor().open())


def test_a_too_short_idle_s_is_refused_before_the_command_runs(sysfs_root, fake_sensor, tmp_path):
    """The command ran to its end, then a note said there was no baseline."""
    ran = tmp_path / "ran"
    marker = [sys.executable, "-c", f"open({str(ran)!r}, 'w').close()"]
    result = CliRunner().invoke(
        main, ["run", "--idle-s", "0.01", "--out", str(tmp_path / "runs.parquet"), "--", *marker]
    )
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.strip() == (
        "Error: --idle-s 0.01 is shorter than the shortest window fake:total measures (0.05 s), so the command "
        "would get no idle baseline: give at least 0.05, or 0 to skip the baseline"
    )
    assert not ran.exists() and not (tmp_path / "runs.parquet").exists()


def test_the_shortest_idle_s_named_is_taken_and_0_still_skips_the_baseline(sysfs_root, fake_sensor):
    for idle_s in ("0.05", "0"):
        result = CliRunner().invoke(main, ["run", "--idle-s", idle_s, "--", "true"])
        assert result.exit_code == 0, result.output


def test_python_callers_are_refused_in_their_own_words(monkeypatch):
    monkeypatch.setattr(command, "_run_to_end", lambda argv: pytest.fail("the command ran"))
    with ScriptedSensor() as sensor, pytest.raises(HwprofError, match=r"^idle_s=0.02 is shorter .* give at least 0.05"):
        measure_command(["work"], "cpu", sensor, idle_s=0.02)
