"""fit's warning for a rerun of network-only data (NB-201 cells) that ran at another speed says what was done:
its networks were scaled, as it has no layers; it said "ran its network layers ... its networks are kept as
measured", and asked to measure a hundred cells again by name."""

import pandas as pd

from fakes.synthetic import synthetic_frame
from hwprof.fitting.alignment import align_runs

CELLS = 30


def _cells():
    networks = synthetic_frame(n_networks=CELLS, batch_sizes=(1,), seed=80).query("kind == 'network'")
    names = [f"nb201:|nor_conv_3x3~0|+|skip_connect~0|avg_pool_3x3~1|+|none~0|none~1|cell_{i}|" for i in range(CELLS)]
    return networks.assign(model=names, run_id="first")


def test_a_slow_network_only_rerun_is_said_to_have_its_networks_scaled_and_names_a_few_cells():
    first = _cells()
    slow = first.assign(run_id="again", latency_ms=first["latency_ms"] * 1.5)
    _, alignment = align_runs(pd.concat([first, slow], ignore_index=True))
    assert list(alignment.runs[1].factors) == ["network"]  # no layers: the networks are what is scaled
    (warning,) = alignment.warnings()
    assert "ran its networks 1.50x as long as run first did on 30 networks both measured" in warning
    assert "its networks are scaled to that run's speed" in warning and "layers" not in warning
    measure = warning.split(": measure ", 1)[1]
    named = measure.split(" and ", 1)[0].split(", ")
    assert 1 <= len(named) <= 3 and f"and {CELLS - len(named)} more of its models again" in measure, measure
