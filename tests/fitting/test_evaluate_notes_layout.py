"""evaluate notes data measured in another memory layout (--channels-last) than the predictor's, as it notes
another dtype: a convolution runs channels-last at other speeds, and no feature of the predictor tells the two
apart."""

import json

from fakes.synthetic import synthetic_frame, write
from hwprof.fitting.evaluate import evaluate
from hwprof.fitting.fit import fit


def with_layout(frame, path, run_id, channels_last):
    """`frame` written to `path` with one run that recorded its layout (None: a run that recorded none)."""
    written = write(frame.assign(run_id=run_id), path)
    execution = {} if channels_last is None else {"execution": {"dtype": "float32", "channels_last": channels_last}}
    run = {"run_id": run_id, "threads": 1, **execution}
    path.with_name(f"{path.name}.json").write_text(json.dumps({"schema_version": 1, "runs": [run]}))
    return written


def test_a_predictor_scored_on_channels_last_data_says_so_and_not_on_its_own_layout(tmp_path):
    frame = synthetic_frame(n_networks=8, seed=5)
    contiguous = with_layout(frame, tmp_path / "nchw.parquet", "nchw", False)
    predictor = fit([contiguous], cv=False, family="polynomial")
    report, _ = evaluate(predictor, [with_layout(frame, tmp_path / "nhwc.parquet", "nhwc", True)])
    assert report["note"] == (
        "the predictor was fitted on contiguous (NCHW) data but this data was measured in channels-last (NHWC): "
        "these figures measure transfer between memory layouts"
    )
    # its own training data: in-sample, said so, and no other note
    assert evaluate(predictor, [contiguous])[0]["note"].startswith(
        "every network scored was in the predictor's training data"
    )
    unrecorded = with_layout(frame, tmp_path / "old.parquet", "old", None)  # unknown, not another layout
    assert "note" not in evaluate(predictor, [unrecorded])[0]
