"""A prior predictor's base_sources are the chosen board's datasets and runs, not every fleet board's."""

import pandas as pd

from fakes.synthetic import synthetic_frame, write
from hwprof.fitting.fit import fit

LATENCY_COLUMNS = ["latency_ms", "latency_ms_ci_low", "latency_ms_ci_high", "latency_ms_std"]


def board(device: str, factor: float, run_id: str) -> pd.DataFrame:
    frame = synthetic_frame(n_networks=10, seed=3, device=device, layer_noise=0.02, network_noise=0.02)
    frame[LATENCY_COLUMNS] = frame[LATENCY_COLUMNS] * factor
    return frame.assign(run_id=run_id)


def test_base_sources_name_only_the_chosen_board_s_datasets_and_runs(tmp_path):
    fast, odd = board("fast", 1.0, "run-fast"), board("odd", 1.0, "run-odd")
    odd[LATENCY_COLUMNS] = 3.0 * odd[LATENCY_COLUMNS] ** 0.5  # another shape: never the closest
    new = board("new", 1.7, "run-new")
    new = write(new[new["model"].isin(sorted(set(new["model"]))[:5])], tmp_path / "new.parquet")
    merged = write(pd.concat([fast, odd]), tmp_path / "fleet.parquet")  # both boards in one file
    separate = [write(fast, tmp_path / "fast.parquet"), write(odd, tmp_path / "odd.parquet")]
    for fleet in ([merged], separate):
        predictor = fit([new], family="polynomial", cv=False, prior=fleet)
        assert predictor.doc["training"]["prior"]["chosen"] == "fast"
        sources = predictor.doc["training"]["base_sources"]
        assert [s["path"] for s in sources] == [fleet[0] if len(fleet) == 1 else separate[0]]
        assert sources[0]["rows"] == len(fast)
        assert predictor.doc["training"]["prior"]["sources"] == fleet  # the prior given, as it was
