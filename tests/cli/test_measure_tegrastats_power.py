"""`measure --tegrastats PATH --power none` (or rapl, nvml) was accepted and the path ignored: only --power jetson
(or auto, which picks it on a Jetson) reads tegrastats, so the option is refused in one sentence with the others."""

import pytest
from click.testing import CliRunner

from hwprof.cli import main


@pytest.mark.parametrize("power", ["none", "rapl", "nvml"])
def test_tegrastats_with_a_power_sensor_that_does_not_read_it_is_refused(tmp_path, power):
    program = tmp_path / "tegrastats"
    program.write_text("")
    out = tmp_path / "out.parquet"
    result = CliRunner().invoke(
        main, ["measure", "mlp", "--tegrastats", str(program), "--power", power, "-o", str(out)]
    )
    assert result.exit_code == 1
    assert result.output.startswith("Error: --tegrastats ") and result.output.count("\n") == 1, result.output
    assert f"--power {power} does not read it" in result.output
    assert not out.exists()
