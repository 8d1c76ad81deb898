"""`hwprof run --json-out FILE`: the summary as JSON in a file of its own, since CMD's stderr is also hwprof's and
a script could not tell the document from what CMD printed there."""

import json
import sys

from click.testing import CliRunner

from hwprof.cli import main


def run(*args):
    return CliRunner().invoke(main, ["run", "--power", "none", "--idle-s", "0", *map(str, args)])


def test_the_summary_is_written_to_its_own_file_whatever_cmd_printed(tmp_path):
    summary = tmp_path / "summary.json"
    noisy = [sys.executable, "-c", "import sys; print('{not json', file=sys.stderr); sys.exit(3)"]
    result = run("--json", "--json-out", summary, "--", *noisy)
    assert result.exit_code == 3  # CMD's own status, as ever
    written = json.loads(summary.read_text())
    assert written["exit_status"] == 3 and written["command"] == noisy
    assert json.loads(result.stderr.split("{not json\n")[-1]) == written  # --json's document is the same one


def test_a_json_out_that_cannot_be_written_is_refused_before_cmd_runs(tmp_path):
    ran = tmp_path / "ran"
    marker = [sys.executable, "-c", f"open({str(ran)!r}, 'w').close()"]
    result = run("--json-out", tmp_path / "missing" / "s.json", "--", *marker)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "does not exist; create it or choose another path" in result.output and not ran.exists()
