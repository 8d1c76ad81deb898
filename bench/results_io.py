"""Shared by the bench scripts: print a result and keep it (JSON, and Markdown where there is a table)
for BENCHMARKS.md."""

import json
from pathlib import Path


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
