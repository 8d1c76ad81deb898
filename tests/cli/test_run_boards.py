"""A runs file appended from several boards: show and report name each command's board."""

import json

from click.testing import CliRunner

from hwprof.cli import main


def test_show_and_report_name_the_board_of_each_command(sysfs_root, tmp_path, monkeypatch):
    """Three 'command `true`: status 0 ...' lines and --json entries said nothing of where each ran."""
    from hwprof.measuring import provenance

    out = tmp_path / "runs.parquet"
    for board in ("Board A", "Board B"):
        monkeypatch.setattr(provenance, "device_name", lambda device, board=board: board)
        ran = CliRunner().invoke(main, ["run", "--power", "none", "--out", str(out), "--json", "--", "true"])
        assert ran.exit_code == 0, ran.output
        assert json.loads(ran.stderr)["device_name"] == board
    shown = json.loads(CliRunner().invoke(main, ["show", str(out), "--json"]).output)["commands"]
    assert [(c["device_name"], c["device"]) for c in shown] == [("Board A", "cpu"), ("Board B", "cpu")]
    text = CliRunner().invoke(main, ["show", str(out)]).output
    assert "command `true` on Board A (cpu): status 0" in text and "command `true` on Board B (cpu)" in text
    page = tmp_path / "r.html"
    assert CliRunner().invoke(main, ["report", str(out), "--out", str(page)]).exit_code == 0
    html = page.read_text()
    commands = html[html.index('<section id="commands">') :]
    assert "Board A (cpu)" in commands and "Board B (cpu)" in commands
