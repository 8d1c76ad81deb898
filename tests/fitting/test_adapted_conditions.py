"""A predictor adapted with `fit --base` or `fit --prior` is for the conditions of the data it was adapted to:
its figures, `predict --threads` and `search --verify` take that data's thread count, board and cache mode, and
the base's datasets stay recorded as `training.base_sources`."""

import json

import pytest
from click.testing import CliRunner

from fakes.synthetic import DEVICE, ONE_RUN, ONE_THREAD_COLD, synthetic_frame, write
from hwprof.cli import main
from hwprof.errors import HwprofError
from hwprof.fitting import prior
from hwprof.fitting.data import thread_counts, training_data
from hwprof.fitting.fit import fit
from hwprof.fitting.pipeline import _another_setting
from hwprof.predictor.predictor import Predictor, load_predictor
from hwprof.search.verify import training_threads

NEW_CONDITIONS = ONE_THREAD_COLD


def dataset(directory, name, frame, threads, cache):
    """`frame` written as one run of `name` at `threads`, layers timed `cache`, with its provenance sidecar."""
    device = frame["device_name"].iloc[0] if "device_name" in frame.columns else DEVICE
    run = dict(ONE_RUN, run_id=name, device_name=device, threads=threads, cache={"mode": cache})
    path = write(frame.assign(run_id=name), directory / f"{name}.parquet")
    (directory / f"{name}.parquet.json").write_text(json.dumps({"schema_version": 1, "runs": [run]}))
    return path


def slower(frame, factor=1.6):
    frame = frame.copy()
    frame.loc[frame["kind"] == "network", "latency_ms"] *= factor  # fewer threads: the networks run slower
    return frame


@pytest.fixture(scope="module")
def adapted(tmp_path_factory):
    """A base fitted at 2 threads (layers timed warm), adapted with --base to networks measured at 1 (cold)."""
    directory = tmp_path_factory.mktemp("adapted")
    base = dataset(directory, "base", synthetic_frame(n_networks=10, seed=50), threads=2, cache="warm")
    fit([base], out=directory / "base.json", family="polynomial", cv=False)
    new = dataset(directory, "new", slower(synthetic_frame(n_networks=12, seed=51)), threads=1, cache="cold")
    fit([new], base=directory / "base.json", out=directory / "adapted.json", cv=False)
    return directory


def test_a_predictor_adapted_with_base_is_for_the_new_datas_threads_and_cache(adapted):
    base, predictor = load_predictor(adapted / "base.json"), load_predictor(adapted / "adapted.json")
    assert base.conditions["threads"] == [2] and base.conditions["cache"] == ["warm"]
    assert predictor.conditions == NEW_CONDITIONS
    assert predictor.predict("mlp", threads=1).total["latency_ms"] > 0
    with pytest.raises(HwprofError, match=r"fitted on runs at 1 thread, .* not for threads=2"):
        predictor.predict("mlp", threads=2)
    assert training_threads(predictor) == 1  # search --verify measures at the count its figures are for
    training = predictor.doc["training"]
    assert [source["path"] for source in training["base_sources"]] == [str(adapted / "base.parquet")]
    assert thread_counts(training["base_sources"]) == [2]


def test_predict_says_an_adapted_predictor_is_for_the_new_data(adapted):
    path = str(adapted / "adapted.json")
    result = CliRunner().invoke(main, ["predict", path, "mlp", "--threads", "1"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == (
        f"for {DEVICE} at 1 thread, float32, contiguous layout, layers timed cold (as its training data was measured)"
    )


def test_adapting_an_adapted_predictor_keeps_its_layer_models_datasets(adapted, tmp_path):
    # its layer models are the first base's, at 2 threads: networks at 1 are another setting, scaled to
    predictor = load_predictor(adapted / "adapted.json")
    again = training_data(synthetic_frame(n_networks=12, seed=52), DEVICE, predictor.doc["training"]["sources"])
    assert _another_setting(predictor, again)
    fit(
        [dataset(tmp_path, "again", synthetic_frame(n_networks=12, seed=52), threads=1, cache="cold")],
        base=adapted / "adapted.json",
        out=tmp_path / "again.json",
        cv=False,
    )
    training = load_predictor(tmp_path / "again.json").doc["training"]
    assert thread_counts(training["base_sources"]) == [2] and thread_counts(training["sources"]) == [1]


def test_a_file_adapted_before_base_sources_were_kept_reads_as_it_did(adapted):
    # the layout written before: the base's sources as training.sources, no base_sources
    doc = json.loads((adapted / "adapted.json").read_text())
    doc["training"]["sources"] = doc["training"].pop("base_sources")
    doc["training"]["device_name"] = DEVICE
    old, new = Predictor(doc), load_predictor(adapted / "adapted.json")
    assert old.conditions["threads"] == [2] and old.conditions["cache"] == ["warm"]
    assert training_threads(old) == 2
    assert old.predict("mlp", threads=2).total == new.predict("mlp", threads=1).total
    data = training_data(synthetic_frame(n_networks=12, seed=52), DEVICE, new.doc["training"]["sources"])
    assert _another_setting(old, data) == _another_setting(new, data)  # its layer models' threads either way


@pytest.mark.parametrize("how", ["scaled", "adapted"])
def test_a_predictor_from_a_prior_is_for_the_new_boards_threads_and_cache(tmp_path, monkeypatch, how):
    monkeypatch.setattr(prior, "choose", lambda errors: how)
    fleet = dataset(tmp_path, "fleet", synthetic_frame(n_networks=10, seed=60, device="fleet"), threads=2, cache="warm")
    new = dataset(
        tmp_path, "new", slower(synthetic_frame(n_networks=8, seed=61, device="new")), threads=1, cache="cold"
    )
    predictor = fit([new], prior=[fleet], family="polynomial", cv=False)
    assert predictor.doc["training"]["prior"]["how"] == how
    assert predictor.conditions == dict(NEW_CONDITIONS, device_name="new")
    assert training_threads(predictor) == 1
    assert predictor.predict("mlp", threads=1).total["latency_ms"] > 0
    assert thread_counts(predictor.doc["training"]["base_sources"]) == [2]
