"""evaluate names each setting that moves latency in which the data's runs differ from the predictor's training
runs (allocator, cache mode, governor, turbo, CPU kernels, oneDNN, CPU, kernel and thread variables), as it names
another thread count or dtype; what either side did not record is no difference."""

import json

from fakes.synthetic import synthetic_frame, write
from hwprof.fitting.evaluate import evaluate
from hwprof.fitting.fit import fit

AMD = {"vendor": "AuthenticAMD", "family": "25", "model": "17", "stepping": "1", "microcode": "0x1000065"}
FITTED = {
    "threads": 1,
    "allocator": {"policy": "steady", "applied": True},
    "cache": {"mode": "cold"},
    "governor": "performance",
    "turbo": "on",
    "cpu_capability": "AVX512",
    "mkldnn_enabled": True,
    "cpu_id": AMD,
    "env": {},
}
OTHER = {
    "threads": 1,
    "allocator": {"policy": "system", "applied": True},
    "cache": {"mode": "warm"},
    "governor": "powersave",
    "turbo": "off",
    "cpu_capability": "DEFAULT",
    "mkldnn_enabled": False,
    "cpu_id": {**AMD, "model": "1"},
    "env": {"ATEN_CPU_CAPABILITY": "default"},
}


def with_run(frame, path, run_id, run):
    """`frame` written to `path` with a provenance sidecar holding this one run."""
    written = write(frame.assign(run_id=run_id), path)
    document = {"schema_version": 1, "runs": [{"run_id": run_id, **run}]}
    path.with_name(f"{path.name}.json").write_text(json.dumps(document))
    return written


def test_each_setting_the_data_ran_otherwise_is_noted_with_both_values(tmp_path):
    frame = synthetic_frame(n_networks=8, seed=5)
    trained = with_run(frame, tmp_path / "trained.parquet", "trained", FITTED)
    predictor = fit([trained], cv=False, family="polynomial")
    report, _ = evaluate(predictor, [with_run(frame, tmp_path / "other.parquet", "other", OTHER)])
    expected = [
        ("allocator policy steady", "allocator policy system", "allocator policies"),
        ("cache mode cold", "cache mode warm", "cache modes"),
        ("CPU governor performance", "CPU governor powersave", "CPU governors"),
        ("turbo on", "turbo off", "turbo settings"),
        ("torch CPU capability AVX512", "torch CPU capability DEFAULT", "CPU kernel sets"),
        ("oneDNN on", "oneDNN off", "oneDNN settings"),
        (
            "CPU AuthenticAMD family 25 model 17 stepping 1 microcode 0x1000065",
            "CPU AuthenticAMD family 25 model 1 stepping 1 microcode 0x1000065",
            "CPUs",
        ),
        ("ATEN_CPU_CAPABILITY unset", "ATEN_CPU_CAPABILITY=default", "environment settings"),
    ]
    assert report["note"] == "; ".join(
        f"the predictor was fitted on data measured with {ours} but this data with {theirs}: these figures measure "
        f"transfer between {words}"
        for ours, theirs, words in expected
    )
    assert "note" not in evaluate(predictor, [with_run(frame, tmp_path / "same.parquet", "same", FITTED)])[0]


def test_settings_either_side_did_not_record_or_read_are_no_difference(tmp_path):
    frame = synthetic_frame(n_networks=8, seed=5)
    predictor = fit([with_run(frame, tmp_path / "trained.parquet", "trained", FITTED)], cv=False, family="polynomial")
    blind = {
        "threads": 1,
        "cache": {"mode": "cold"},
        **dict.fromkeys(("governor", "turbo", "cpu_capability"), "unreadable"),
    }
    assert "note" not in evaluate(predictor, [with_run(frame, tmp_path / "blind.parquet", "blind", blind)])[0]
    # a predictor from runs that recorded none of these (its layers timed warm, as runs before --cache were)
    old = fit([with_run(frame, tmp_path / "old.parquet", "old", {"threads": 1})], cv=False, family="polynomial")
    assert "note" not in evaluate(old, [with_run(frame, tmp_path / "other.parquet", "other", OTHER)])[0]
