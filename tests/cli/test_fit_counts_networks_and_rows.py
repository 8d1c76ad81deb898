"""fit counts networks as distinct models and rows (model, batch size) apart in every line and in the file's cv."""

import json

from click.testing import CliRunner

from fakes.synthetic import synthetic_frame, write
from hwprof.cli import main


def test_one_family_at_two_batch_sizes_counts_networks_not_rows(tmp_path):
    frame = synthetic_frame(n_networks=4)
    frame["model"] = frame["model"].str.replace(r"^[a-z]+", "alpha", regex=True)  # one family: k-fold over networks
    data = write(frame, tmp_path / "one.parquet")
    out = tmp_path / "p.json"
    result = CliRunner().invoke(main, ["fit", str(data), "--out", str(out)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    folds = [line for line in result.output.splitlines() if "cross-validation fold" in line]
    assert folds and all(line.endswith("of the 4 network(s) (8 rows)") for line in folds), folds
    assert all("holding out 1 network(s) (2 rows)" in line for line in folds), folds
    (latency,) = [line for line in result.output.splitlines() if line.startswith("│ latency_ms ")]
    assert latency.split("│")[2].strip() == "4 network(s) (8 rows)"
    cv = json.loads(out.read_text())["cv"]
    assert (cv["networks"], cv["rows"]) == (4, 8)
    assert (cv["metrics"]["latency_ms"]["networks"], cv["metrics"]["latency_ms"]["n"]) == (4, 8)
