"""--compile compiles a network; layer sweeps have none, so it is refused with them alone, as --input-shape is,
where it used to be accepted and ignored (every row compiled false)."""

import pytest
from click.testing import CliRunner

from hwprof import measure
from hwprof.cli import main
from hwprof.errors import HwprofError

FAST = ["--power", "none", "--max-time", "0.1", "--threads", "1", "--sweep-share", "0", "--quiet"]


def test_compile_with_sweeps_alone_is_refused_in_one_sentence(tmp_path):
    out = tmp_path / "s.parquet"
    result = CliRunner().invoke(main, ["measure", "sweep:relu:2", "--compile", "--out", str(out), *FAST])
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert "sweep:relu:2 times layers alone, with no network to compile, so --compile applies" in result.output
    assert "\n" not in result.output.strip() and not out.exists()


def test_from_python_too():
    with pytest.raises(HwprofError, match=r"compile=True applies to none of them: drop it"):
        measure(["sweep:relu:2", "sweep:linear:2"], compile=True, power="none", max_item_s=0.1)
