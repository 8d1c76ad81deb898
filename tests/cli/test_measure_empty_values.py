"""`measure --input-shape ''` and `--hf-config ''` (a variable unset in a script) silently meant the option was not
given; they are refused in one sentence, as `--batch-size ''` is."""

import pytest
from click.testing import CliRunner

from hwprof.cli import main


@pytest.mark.parametrize("option", ["--input-shape", "--hf-config"])
@pytest.mark.parametrize("value", ["", " "])
def test_an_empty_value_is_refused_not_taken_for_the_option_left_out(tmp_path, option, value):
    out = tmp_path / "out.parquet"
    quick = ["--max-time", "0.05", "--no-layers", "--sweep-share", "0", "--threads", "1"]  # were it measured
    result = CliRunner().invoke(main, ["measure", "mlp", option, value, *quick, "-o", str(out)])
    assert result.exit_code == 1
    assert result.output == f"Error: {option} is empty: " + result.output.split(": ", 2)[2]
    assert result.output.count("\n") == 1 and "drop it" in result.output
    assert not out.exists()
