"""Bad arguments to the public API end in one HwprofError sentence at the call, never a raw error from inside."""

import pytest
import torch

import hwprof
from fakes.runs import write_run
from fakes.synthetic import fitted_predictor_path


@pytest.fixture
def no_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


def test_an_energy_window_on_a_missing_gpu_is_refused_before_the_block_runs(no_cuda):
    ran = []
    with pytest.raises(hwprof.HwprofError, match="cuda:0 was asked for, but this torch build sees no CUDA device"):
        with hwprof.energy_window(device="cuda:0"):
            ran.append(True)
    assert not ran


def test_an_energy_monitor_on_a_missing_gpu_is_refused_when_made(no_cuda):
    with pytest.raises(hwprof.HwprofError, match="sees no CUDA device"):
        hwprof.EnergyMonitor(device="cuda")


def test_an_energy_window_on_a_gpu_beyond_the_visible_ones_is_refused(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(hwprof.HwprofError, match=r"device=cuda:3: only 1 CUDA device\(s\) are visible"):
        hwprof.EnergyMonitor(device="cuda:3")


@pytest.mark.parametrize(
    "setting, message",
    [
        ({"max_item_s": "1"}, "max_item_s='1': give a number of seconds"),
        ({"threads": "1"}, "threads='1': give a whole number of threads, or None"),
        ({"precision": None}, "precision=None: give a fraction"),
        ({"seed": 1.5}, "seed=1.5: give a whole number, or None"),
        ({"layers": "no"}, "layers='no': give True or False"),
        ({"input_shape": "3,224,224"}, r"input_shape='3,224,224': give a tuple of whole numbers"),
        ({"hf_config": "layers=2"}, "hf_config='layers=2': give a dict"),
        ({"processes": "2"}, "processes='2': give a whole number of processes"),
        ({"batch_sizes": None}, "batch_sizes=None: give positive integers"),
        ({"dtype": torch.float16}, "dtype=torch.float16: give its name as text, e.g. 'float16'"),
        ({"resume": True}, "resume=True carries on the dataset file given as out=: give out="),
    ],
)
def test_a_measure_setting_of_the_wrong_type_is_one_sentence(setting, message):
    with pytest.raises(hwprof.HwprofError, match=message):
        hwprof.measure(["mlp"], **setting)


def test_a_measure_input_shape_below_one_is_one_sentence_not_a_negative_dimension_error():
    with pytest.raises(hwprof.HwprofError, match=r"input_shape=\(-3, 32, 32\): give positive whole numbers"):
        hwprof.measure(["mlp"], input_shape=(-3, 32, 32))


def test_measure_options_given_as_a_dict_point_to_settings_by_name():
    with pytest.raises(hwprof.HwprofError, match=r"options is a dict, not a hwprof.MeasureOptions.*threads=1"):
        hwprof.measure(["mlp"], {"threads": 1})


@pytest.mark.parametrize("models, message", [([], "no model was given"), (5, "give a model or a list of models")])
def test_measure_without_a_model_list_says_what_to_give(models, message):
    with pytest.raises(hwprof.HwprofError, match=message):
        hwprof.measure(models)


def test_measure_takes_one_model_alone_as_a_list_of_one():
    frame = hwprof.measure("mlp", layers=False, power="none", max_item_s=0.05, precision=0.5)
    assert list(frame["model"]) == ["mlp"]


@pytest.mark.parametrize("paths, message", [(3, "Give the datasets as a path"), ([3], "Give the dataset as a path")])
def test_read_dataset_of_something_not_a_path_says_to_give_one(paths, message):
    with pytest.raises(hwprof.HwprofError, match=rf"{message} \(str or os.PathLike\).*not 3"):
        hwprof.read_dataset(paths)


def test_merge_takes_one_shard_alone_as_a_list_of_one(tmp_path):
    shard = write_run(tmp_path / "a.parquet")
    summary = hwprof.merge(str(shard), out=tmp_path / "merged.parquet")
    assert [entry["path"] for entry in summary["shards"]] == [str(shard)]


def test_merge_into_something_not_a_path_says_to_give_one(tmp_path):
    shard = write_run(tmp_path / "a.parquet")
    with pytest.raises(hwprof.HwprofError, match=r"Give the output as a path \(str or os.PathLike\), not 5"):
        hwprof.merge([shard], out=5)


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """(predictor path, its dataset's path)"""
    return fitted_predictor_path(tmp_path_factory.mktemp("fitted"))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: hwprof.load_predictor(5), r"Give the predictor file as a path \(str or os.PathLike\), not 5"),
        (lambda: hwprof.fit([3]), r"Give the dataset as a path \(str or os.PathLike\), not 3"),
        (lambda: hwprof.fit(3), r"Give the datasets as a path \(str or os.PathLike\) or a list of paths, not 3"),
        (lambda: hwprof.evaluate(object(), ["d.parquet"]), "give the predictor as the path of its file or a hwprof"),
    ],
    ids=["load_predictor", "fit-list", "fit", "evaluate"],
)
def test_something_not_a_path_where_a_path_is_taken_says_to_give_one(call, message):
    with pytest.raises(hwprof.HwprofError, match=message):
        call()


def test_a_fit_switch_that_is_not_true_or_false_is_one_sentence(fitted):
    with pytest.raises(hwprof.HwprofError, match="cv='no': give True or False"):
        hwprof.fit(fitted[1], cv="no")


def test_fit_takes_one_dataset_alone_as_a_list_of_one(fitted, tmp_path):
    _, dataset = fitted
    predictor = hwprof.fit(dataset, out=tmp_path / "one.json", cv=False)
    assert predictor.targets == ["latency_ms"]


def test_fit_replaces_an_existing_output_only_with_force(fitted, tmp_path):
    _, dataset = fitted
    out = tmp_path / "p.json"
    out.write_text("kept")
    with pytest.raises(hwprof.HwprofError, match="p.json already exists; pass force=True to replace it"):
        hwprof.fit(dataset, out=out, cv=False)
    assert out.read_text() == "kept"
    hwprof.fit(dataset, out=out, cv=False, force=True)
    assert hwprof.load_predictor(out).targets == ["latency_ms"]


def test_fit_with_an_output_not_a_path_says_to_give_one(fitted):
    _, dataset = fitted
    with pytest.raises(hwprof.HwprofError, match=r"Give the output as a path \(str or os.PathLike\), not 5"):
        hwprof.fit([dataset], out=5)


def test_evaluate_takes_the_predictor_file_and_one_dataset_alone(fitted):
    predictor, dataset = fitted
    report, points = hwprof.evaluate(predictor, dataset)
    assert report["datasets"] == [dataset] and report["predictor"] == predictor and len(points)


def test_predict_many_of_no_models_is_a_table_with_no_rows_and_every_column(fitted):
    predictor = hwprof.load_predictor(fitted[0])
    empty, one = predictor.predict_many([]), predictor.predict_many(["mlp"])
    assert empty.empty and list(empty.columns) == list(one.columns)
    assert empty.dtypes.to_dict() == one.dtypes.to_dict()


def test_predict_many_takes_one_model_alone_as_a_list_of_one(fitted):
    table = hwprof.load_predictor(fitted[0]).predict_many("mlp")
    assert list(table["model"]) == ["mlp"]


def test_predict_many_of_something_not_a_model_list_says_what_to_give(fitted):
    with pytest.raises(hwprof.HwprofError, match="give a model or a list of models.*not 5"):
        hwprof.load_predictor(fitted[0]).predict_many(5)
