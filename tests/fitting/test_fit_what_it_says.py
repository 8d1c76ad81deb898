"""What fit says of its data agrees with what it did: counts, alignment warnings, refits and advice."""

import pandas as pd

from fakes.synthetic import synthetic_frame
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
