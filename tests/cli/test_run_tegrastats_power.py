"""`run --tegrastats PATH --power none` (or rapl, nvml) ran the command with the path ignored: only --power jetson
(or auto) reads tegrastats, so run refuses it in one sentence before the command runs, as measure does."""

import sys

import pytest
from click.testing import CliRunner

from hwprof.cli import main


@pytest.mark.parametrize("power", ["none", "rapl", "nvml"])
def test_tegrastats_with_a_power_sensor_that_does_not_read_it_is_refused(tmp_path, power):
    program = tmp_path / "tegrastats"
    program.write_text("")
    ran = tmp_path / "ran"
    out = tmp_path / "out.parquet"
    command = [sys.executable, "-c", f"open({str(ran)!r}, 'w')"]
    result = CliRunner().invoke(
        main, ["run", "--tegrastats", str(program), "--power", power, "-o", str(out), "--", *command]
    )
    assert result.exit_code == 1, result.output
    assert result.output.startswith("Error: --tegrastats ") and result.output.count("\n") == 1, result.output
    assert f"--power {power} does not read it" in result.output
    assert not ran.exists() and not out.exists()
