"""--max-other-share is a share of the CPUs the process may use (its affinity mask), as README and the runner count
it, not of the machine's CPU: under taskset or a cpuset the two differ."""

from click.testing import CliRunner

from hwprof.cli import main
from hwprof.cli.measure import measure


def test_the_help_says_the_share_is_of_the_cpus_the_process_may_use():
    shown = " ".join(CliRunner().invoke(measure, ["--help"], terminal_width=400).output.split())
    described = shown[shown.index("--max-other-share") :].split("--cache")[0]
    assert "share of the CPUs this process may use (its affinity mask" in described
    assert "machine's CPU," not in described


def test_its_range_error_names_the_same_cpus(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["measure", "mlp", "--max-other-share", "2"], terminal_width=400)
    assert result.exit_code != 0
    assert "share of the CPUs this process may use (its affinity mask)" in " ".join(result.output.split())
