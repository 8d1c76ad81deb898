"""A row's contention is a share of the CPU: shown and weighted at most 100%, though the runner's coarse ticks
can estimate more (111% printed before)."""

import numpy as np
import pandas as pd

from hwprof.fitting.data import _relative_ci, distrusted_rows


def _rows(shares):
    return pd.DataFrame(
        {
            "model": "sweep:maxpool2d:2:0",
            "kind": "layer",
            "batch_size": 1,
            "layer_index": range(len(shares)),
            "latency_ms": 1.0,
            "latency_ms_ci_low": 0.99,
            "latency_ms_ci_high": 1.01,
            "other_cpu_share": shares,
        }
    )


def test_a_share_over_the_whole_cpu_is_shown_as_100_percent():
    line = distrusted_rows(_rows([1.114, 0.5]))
    assert "(100%)" in line and "111%" not in line and "(50%)" in line


def test_a_share_over_the_whole_cpu_weighs_as_the_whole_cpu():
    relative = _relative_ci(_rows([1.114, 1.0])).to_numpy()
    assert np.isclose(relative[0], relative[1])
