"""A run without a seed draws one and records it (method.seed), so its order of groups and items can be replayed
with --seed; it recorded null, and the order was lost."""

import json

import hwprof

FAST = dict(power="none", precision=0.3, max_item_s=0.03, threads=1, sweep_share=0)


def _first_seen(frame) -> list[str]:
    return list(dict.fromkeys(frame.loc[frame["kind"] == "network", "model"]))


def test_an_unseeded_run_records_the_seed_it_drew_and_that_seed_replays_its_order(tmp_path):
    models = ["mlp", "mlp_large", "vit_tiny", "squeezenet1_1"]
    out = tmp_path / "a.parquet"
    first = hwprof.measure(models, out=str(out), layers=False, **FAST)
    (run,) = json.loads((tmp_path / "a.parquet.json").read_text())["runs"]
    seed = run["method"]["seed"]
    assert isinstance(seed, int)
    again = hwprof.measure(models, seed=seed, layers=False, **FAST)
    assert _first_seen(again) == _first_seen(first)
