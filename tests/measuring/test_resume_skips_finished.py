"""A resume skips the (model, batch size) groups an earlier run finished without tracing their model again:
on a zoo of large models every resume ran each finished model once more just to find nothing left to time."""

import pandas as pd

import hwprof
from hwprof.measuring import session

FAST = dict(power="none", precision=0.2, max_item_s=0.05, threads=1, seed=0, sweep_share=0)


def _count_extractions(monkeypatch) -> list[str]:
    extract = session.run_and_extract
    traced: list[str] = []

    def counted(module, inputs, batch_size, *args, **kwargs):
        traced.append(args[1] if len(args) > 1 else kwargs.get("name", "?"))
        return extract(module, inputs, batch_size, *args, **kwargs)

    monkeypatch.setattr(session, "run_and_extract", counted)
    return traced


def test_a_resume_does_not_trace_the_groups_an_earlier_run_finished(tmp_path, monkeypatch):
    out = tmp_path / "two.parquet"
    first = hwprof.measure(["mlp", "vit_tiny"], out=str(out), **FAST)
    traced = _count_extractions(monkeypatch)
    resumed = hwprof.measure(["mlp", "vit_tiny"], out=str(out), resume=True, **FAST)
    assert traced == []
    assert len(resumed) == len(first)


def test_a_group_missing_a_layer_row_is_traced_and_its_layer_measured(tmp_path, monkeypatch):
    out = tmp_path / "two.parquet"
    first = hwprof.measure(["mlp", "vit_tiny"], out=str(out), **FAST)
    rows = pd.read_parquet(out)
    vit_layers = rows[(rows["model"] == "vit_tiny") & (rows["kind"] == "layer")]
    dropped = vit_layers.index[-1]
    # the dataset as a run cut short after vit_tiny's network row would leave it (the network can finish before
    # its last layer when its budget runs out)
    rows.drop(index=dropped).to_parquet(out)
    traced = _count_extractions(monkeypatch)
    resumed = hwprof.measure(["mlp", "vit_tiny"], out=str(out), resume=True, **FAST)
    assert traced and set(traced) == {"vit_tiny"}
    assert len(resumed) == len(first)
    index = rows.loc[dropped, "layer_index"]
    assert ((resumed["model"] == "vit_tiny") & (resumed["layer_index"] == index)).sum() == 1
