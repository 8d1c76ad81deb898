"""`hwprof run` starts CMD as a shell would, and refuses an idle baseline it cannot keep in one sentence."""

import pytest
from click.testing import CliRunner

from hwprof.cli import main


def test_an_executable_script_without_a_shebang_runs_with_bin_sh(sysfs_root, tmp_path):
    """It was 'cannot run ./nosheb.sh: Exec format error' and 126, where a shell or env runs it."""
    script, ran = tmp_path / "nosheb.sh", tmp_path / "ran"
    script.write_text(f'echo "$1" > "{ran}"\nexit 4\n')
    script.chmod(0o755)
    result = CliRunner().invoke(main, ["run", "--power", "none", "--", str(script), "argument"])
    assert result.exit_code == 4, result.output
    assert ran.read_text() == "argument\n"


@pytest.mark.parametrize("idle_s", ["inf", "1e300", "nan", "-1"])
def test_an_idle_baseline_of_no_sane_length_is_one_sentence(sysfs_root, idle_s):
    """inf and 1e300 ended in 'hwprof failed unexpectedly (OverflowError: timestamp out of range)'."""
    result = CliRunner().invoke(main, ["run", "--idle-s", idle_s, "--", "true"])
    assert result.exit_code == 1 and "failed unexpectedly" not in result.output
    assert "Error: --idle-s " in result.output and "must be a number of seconds from 0 to 86400" in result.output
