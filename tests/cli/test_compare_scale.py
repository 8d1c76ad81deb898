"""`hwprof compare` of runs of many models: each table keeps the largest changes and says what --json adds."""

import json
import math
import re

from click.testing import CliRunner

from fakes.runs import write_run
from hwprof.cli import main

SHOWN = 20  # network rows, models and ops each table keeps


def test_network_rows_and_models_beyond_twenty_are_left_out_largest_changes_kept(tmp_path):
    models = tuple(f"m{i:02d}" for i in range(30))
    base = write_run(tmp_path / "base.parquet", models=models, seed=1, with_samples=False)
    new = write_run(tmp_path / "new.parquet", models=models, factor=1.1, sigma=0.05, seed=2, with_samples=False)
    result = CliRunner().invoke(main, ["compare", str(base), str(new)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    rows_table, model_table = result.output.split("per model:")[0], result.output.split("per model:")[1]
    shown = re.findall(r"│ (m\d\d) batch 1 network +│", rows_table)
    assert len(shown) == SHOWN
    assert "10 more network rows not shown (0 of them changed significantly)" in result.output
    assert len(re.findall(r"│ (m\d\d) +│", model_table.split("per op:")[0])) == SHOWN
    assert "10 more models not shown" in result.output and "--json lists every model" in result.output
    assert "latency rows: 270 untested" in result.output  # the verdict lines are still printed
    report = json.loads(CliRunner().invoke(main, ["compare", str(base), str(new), "--json"]).output)
    networks = [row for row in report["rows"] if row["kind"] == "network"]
    assert len(networks) == 30
    largest = sorted(networks, key=lambda row: -abs(math.log(row["latency_ms"]["ratio"])))[:SHOWN]
    assert set(shown) == {row["model"] for row in largest}
