"""`hwprof search --help` said --threads defaults to torch's, though --verify measures at the thread count of the
predictor's training runs when --threads is not given (README says so): the help now says what the code does."""

from types import SimpleNamespace

from click.testing import CliRunner

from hwprof.cli import main
from hwprof.search.verify import verify_threads


def test_the_threads_help_names_the_count_verify_measures_at():
    shown = CliRunner().invoke(main, ["search", "--help"], terminal_width=200)
    assert shown.exit_code == 0, shown.output
    (help_text,) = [" ".join(line.split()) for line in shown.output.splitlines() if "--threads" in line]
    assert "--verify measures at the thread count of the predictor's training runs" in help_text
    trained_at_3 = SimpleNamespace(doc={"training": {"sources": [{"path": "d.parquet", "runs": [{"threads": 3}]}]}})
    assert verify_threads(trained_at_3, None) == 3  # what the help says: the training runs' count, not torch's
