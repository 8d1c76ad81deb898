"""The advice a predictor file keeps names the settings its data was measured with, whatever the fitting
process's own settings: the file is read on other machines."""

import json

import torch

from fakes.synthetic import synthetic_frame, write
from hwprof.fitting.advice import measure_flags
from hwprof.fitting.fit import fit


def test_the_recorded_thread_count_is_given_even_where_it_is_this_processs_own(tmp_path, monkeypatch):
    threads = torch.get_num_threads()  # measure's default here, not on the machine that reads the advice
    frame = synthetic_frame(n_networks=4, seed=8, families=("alpha", "beta"))
    path = tmp_path / "t.csv"
    write(frame, path)
    path.with_name("t.csv.json").write_text(
        json.dumps({"schema_version": 1, "runs": [{"run_id": "a", "threads": threads}]})
    )
    warnings = fit([str(path)], cv=False).doc["training"]["warnings"]
    (thin,) = [w for w in warnings if "distinct measured layer configurations" in w]
    assert f" --threads {threads} --out " in thin
    monkeypatch.setattr(torch, "get_num_threads", lambda: threads + 1)  # another OMP_NUM_THREADS, say
    sources = [{"path": str(path), "runs": [{"run_id": "a", "threads": threads}]}]
    assert measure_flags(sources) == f" --threads {threads}"
    torch_default = [{"path": str(path), "runs": [{"run_id": "a", "threads": threads + 1}]}]
    assert measure_flags(torch_default) == f" --threads {threads + 1}"


def test_the_stored_advice_names_the_same_outputs_in_any_folder(tmp_path, monkeypatch):
    """The printed note names an output this folder does not hold yet, so that it runs as printed; the
    predictor file's names no folder's: fitted again elsewhere, the same data gives the same file."""
    from hwprof.progress import Notes

    dataset = write(synthetic_frame(n_networks=4, seed=8, families=("alpha", "beta")), tmp_path / "small.parquet")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sweeps.parquet").write_bytes(b"")
    said = []
    warnings = fit([dataset], cv=False, progress=Notes(said.append)).doc["training"]["warnings"]
    (thin,) = [w for w in warnings if "distinct measured layer configurations" in w]
    assert "--out sweeps.parquet`" in thin
    (printed,) = [line for line in said if "distinct measured layer configurations" in line]
    assert "--out sweeps_2.parquet`" in printed
