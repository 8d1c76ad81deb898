"""Shared by the bench scripts: print a result and keep it (JSON, and Markdown where there is a table)
for BENCHMARKS.md."""

import json
import os
import sys
from datetime import datetime, timezone
from pathlib import Path


def provenance() -> dict:
    """The command, machine and date a result carries, so BENCHMARKS.md can cite them."""
    from hwprof.drivers.host import cpu_model

    return {
        "command": " ".join(["python", *sys.argv]),
        "machine": f"{cpu_model()}, {os.cpu_count()} cores",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def heading(title: str, results: dict) -> list[str]:
    """A result table's Markdown title (with its date) and command line."""
    return [f"### {title} ({results['date']})", "", f"Command: `{results['command']}`  "]


def emit(result: dict, out: str | None) -> None:
    text = json.dumps(result, indent=2)
    print(text)
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(text + "\n")


def emit_markdown(result: dict, table: str, out: str | Path) -> None:
    """Keep `result` as JSON at `out` and its Markdown `table` beside it (.md), and print the table."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    out.with_suffix(".md").write_text(table)
    print(table)
