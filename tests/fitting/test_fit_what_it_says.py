"""What fit says of its data agrees with what it did: counts, alignment warnings, refits and advice."""

import pandas as pd
from click.testing import CliRunner

from fakes.synthetic import synthetic_frame
from hwprof.cli import main
from hwprof.fitting.alignment import align_runs


def _slower(frame, run_id, factor):
    return frame.assign(
        run_id=run_id, **{c: frame[c] * factor for c in ("latency_ms", "latency_ms_ci_low", "latency_ms_ci_high")}
    )


def test_a_slow_sweep_runs_warning_speaks_of_networks_only_where_it_has_them():
    first = synthetic_frame(n_networks=12, seed=70).assign(run_id="first")
    layers = first[first["kind"] == "layer"].assign(model="sweep:conv2d")
    _, alignment = align_runs(pd.concat([first, _slower(layers, "sweep", 1.5)], ignore_index=True))
    (warning,) = alignment.warnings()
    assert warning.startswith("run sweep (sweep:conv2d)") and "networks" not in warning
    assert "measure sweep:conv2d again" in warning
    _, alignment = align_runs(pd.concat([first, _slower(first, "again", 1.5)], ignore_index=True))
    (warning,) = alignment.warnings()
    assert "its networks are kept as measured" in warning


def test_the_summary_and_the_validation_count_networks_alike(tmp_path):
    table = tmp_path / "two_same.csv"
    table.write_text("model,batch_size,latency_ms\nresnet18,1,20.5\nresnet18,8,90.5\n")
    result = CliRunner().invoke(main, ["fit", str(table), "--out", str(tmp_path / "p.json")])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "predictor for unknown device from 1 network(s) (2 rows) and 0 unique layer configurations" in said
    assert "only 1 network(s) (2 rows): too few to cross-validate" in said
