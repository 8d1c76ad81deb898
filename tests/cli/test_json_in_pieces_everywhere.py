"""Every command that prints a --json document prints it through echo_json, in pieces, so a reader that leaves
early ends the command as SIGPIPE would, whatever the document's size (a single write of a document larger than
the pipe's buffer was cut silently, exit 0)."""

from pathlib import Path

import hwprof.cli

CLI = Path(hwprof.cli.__file__).parent


def test_no_command_writes_a_json_document_to_stdout_in_one_piece():
    whole = []
    for path in sorted(CLI.glob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if "click.echo(json.dumps(" in line and "err=True" not in line:
                whole.append(f"{path.name}:{number}")
    assert whole == [], f"print these through echo_json: {whole}"
