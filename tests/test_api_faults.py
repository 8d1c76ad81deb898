"""The Python API as a new user meets it: switches, names, warnings, provenance, outputs and targets."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from click.testing import CliRunner
from torch import nn

import hwprof
from fakes.synthetic import fitted_predictor_path, synthetic_frame, write
from hwprof.cli import main
from hwprof.errors import HwprofError, HwprofWarning
from hwprof.progress import Notes

QUICK = {"layers": False, "max_item_s": 0.05, "sweep_share": 0, "power": "none"}


@pytest.fixture(scope="module")
def predictor(tmp_path_factory):
    return hwprof.load_predictor(fitted_predictor_path(tmp_path_factory.mktemp("predictor"), cv=False)[0])


def test_text_given_for_a_switch_is_refused_not_taken_for_true(tmp_path, predictor):
    (tmp_path / "m.parquet").write_text("kept")
    with pytest.raises(HwprofError, match="force='no': give True or False"):
        hwprof.merge(str(tmp_path / "a.parquet"), str(tmp_path / "m.parquet"), force="no")
    with pytest.raises(HwprofError, match="skip_unfinished='no': give True or False"):
        hwprof.merge(str(tmp_path / "a.parquet"), str(tmp_path / "new.parquet"), skip_unfinished="no")
    (tmp_path / "p.json").write_text("kept")
    with pytest.raises(HwprofError, match="force='no': give True or False"):
        predictor.save(tmp_path / "p.json", force="no")
    with pytest.raises(HwprofError, match="resume='no': give True or False"):
        hwprof.measure("mlp", out=str(tmp_path / "r.parquet"), resume="no", **QUICK)
    assert (tmp_path / "m.parquet").read_text() == "kept" and (tmp_path / "p.json").read_text() == "kept"


class Super(nn.Module):
    """A supernet: one class, its depth a plain attribute that repr() does not show."""

    def __init__(self, depth):
        super().__init__()
        self.depth = depth
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.blocks = nn.ModuleList(nn.Conv2d(8, 8, 3, padding=1) for _ in range(8))

    def forward(self, x):
        x = self.stem(x)
        for block in self.blocks[: self.depth]:
            x = block(x)
        return x


def test_two_configurations_of_one_class_are_two_networks_and_one_keeps_its_name(predictor):
    from hwprof.models.spec import module_name

    assert module_name(Super(1)) != module_name(Super(8))
    assert module_name(Super(8)) == module_name(Super(8))  # no memory address in it
    table = predictor.predict_many([Super(1), Super(8)], input_shape=(3, 16, 16))
    assert table["model"].nunique() == 2
    plain = nn.Sequential(nn.Linear(4, 4))
    assert module_name(plain) == "Sequential#" + __import__("hashlib").sha256(repr(plain).encode()).hexdigest()[:6]


class Configured(nn.Module):
    """A supernet kept in a dict of settings, with its activation a function: what repr() never shows."""

    def __init__(self, depth, activation=torch.relu):
        super().__init__()
        self.blocks = nn.ModuleList(nn.Linear(8, 8) for _ in range(6))
        self.config, self.activation = {"depth": depth}, activation

    def forward(self, x):
        for block in self.blocks[: self.config["depth"]]:
            x = self.activation(block(x))
        return x


def test_settings_repr_leaves_out_tell_configurations_apart():
    """A depth in a dict or as a numpy number, an activation function, and the heads, activation and norm
    placement of torch's attention blocks (their repr() shows none of them) were one name each."""
    from hwprof.models.spec import module_name

    def layer(**settings):
        return nn.TransformerEncoderLayer(**{"d_model": 16, "nhead": 4, "dim_feedforward": 32, **settings})

    pairs = [
        (lambda: Configured(1), lambda: Configured(6)),
        (lambda: Configured(2), lambda: Configured(2, torch.sigmoid)),
        (lambda: layer(activation="relu"), lambda: layer(activation="gelu")),
        (layer, lambda: layer(norm_first=True)),
        (layer, lambda: layer(nhead=8)),
        (lambda: nn.MultiheadAttention(16, 4), lambda: nn.MultiheadAttention(16, 8)),
    ]
    for one, other in pairs:
        assert module_name(one()) != module_name(other())
        assert module_name(one()) == module_name(one())  # built again, the same network
    assert module_name(Configured(np.int64(2))) == module_name(Configured(2))  # a number is a number


def _mixed_cache_datasets(tmp_path):
    frame = synthetic_frame(n_networks=40, seed=9)
    half = frame["model"].isin(sorted(set(frame["model"]))[:20])
    paths = []
    for name, part, runs in (
        ("cold.csv", frame[half], [{"run_id": "a", "cache": {"mode": "cold"}}]),
        ("old.csv", frame[~half], [{"run_id": "b"}]),
    ):
        path = tmp_path / name
        write(part, path)
        path.with_name(name + ".json").write_text(json.dumps({"schema_version": 1, "runs": runs}))
        paths.append(str(path))
    return paths


def test_fit_warnings_reach_a_python_caller_as_hwprof_warnings_at_its_line(tmp_path):
    paths = _mixed_cache_datasets(tmp_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        hwprof.fit(paths, family="polynomial", cv=False)
    (mixed,) = [w for w in caught if issubclass(w.category, HwprofWarning)]
    assert str(mixed.message).startswith("the datasets timed their layers in different cache modes")
    assert mixed.filename == __file__
    said = []
    with warnings.catch_warnings(record=True) as caught:  # a caller's progress shows them instead
        warnings.simplefilter("always")
        hwprof.fit(paths, family="polynomial", cv=False, progress=Notes(said.append))
    assert not [w for w in caught if issubclass(w.category, HwprofWarning)]
    assert sum(note.startswith("warning: the datasets timed") for note in said) == 1


@pytest.mark.parametrize("quiet", [[], ["--quiet"]])
def test_the_command_line_says_a_fit_warning_once(tmp_path, quiet):
    paths = _mixed_cache_datasets(tmp_path)
    args = ["fit", *paths, "--out", str(tmp_path / "p.json"), "--family", "polynomial", "--no-cv", *quiet]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert result.output.count("different cache modes") == 1


def test_measure_warnings_reach_a_python_caller_worded_for_python():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        hwprof.measure("mlp", channels_last=True, **QUICK)
    hwprof_warnings = [w for w in caught if issubclass(w.category, HwprofWarning)]
    busy = ("contention", "other_cpu_share", "ran past")  # a busy machine's notes: others' CPU, a budget overrun
    (flat,) = [w for w in hwprof_warnings if not any(word in str(w.message) for word in busy)]
    assert str(flat.message).startswith("channels_last=True lays out 4-D tensors (images) only")
    assert flat.filename == __file__


def test_the_command_line_says_a_measure_warning_once_by_its_flag(tmp_path):
    args = ["measure", "mlp", "--channels-last", "--no-layers", "--max-time", "0.05", "--sweep-share", "0"]
    result = CliRunner().invoke(main, [*args, "--power", "none", "--out", str(tmp_path / "m.parquet")])
    assert result.exit_code == 0, result.output
    assert result.output.count("--channels-last lays out 4-D tensors") == 1


@pytest.mark.parametrize("suffix", ["parquet", "csv"])
def test_read_dataset_keeps_the_provenance_measure_returns(tmp_path, suffix):
    path = str(tmp_path / f"b.{suffix}")
    measured = hwprof.measure("mlp", out=path, **QUICK)
    read = hwprof.read_dataset(path)
    assert [run["run_id"] for run in read.attrs["provenance"]] == [
        run["run_id"] for run in measured.attrs["provenance"]
    ]


def test_a_dataframe_for_out_is_refused_in_one_sentence():
    with pytest.raises(HwprofError, match="Give the output as a path, not a DataFrame"):
        hwprof.measure("mlp", out=pd.DataFrame(), **QUICK)


def test_fit_refuses_a_function_for_progress(tmp_path):
    path = write(synthetic_frame(n_networks=6, seed=1), tmp_path / "d.parquet")
    with pytest.raises(HwprofError, match="progress is a hwprof.progress.Progress.*hwprof.progress.Notes"):
        hwprof.fit(path, cv=False, progress=print)


def test_numpy_bools_are_switches(tmp_path, predictor):
    frame = hwprof.measure("mlp", **{**QUICK, "layers": np.bool_(False)}, channels_last=np.bool_(False))
    (run,) = frame.attrs["provenance"]
    assert run["plan"]["layers"] is False and set(frame["kind"]) == {"network"}
    path = write(synthetic_frame(n_networks=40, seed=9), tmp_path / "d.parquet")
    assert isinstance(hwprof.fit(path, family="polynomial", cv=np.bool_(False)), hwprof.Predictor)
    convolution = nn.Sequential(nn.Conv2d(3, 4, 3))
    laid_out = predictor.predict(convolution, input_shape=(3, 8, 8), channels_last=np.bool_(True))
    assert laid_out.model.endswith("@channels_last=1")


@pytest.mark.parametrize("targets", ["latency_ms", ["latency_ms"], ("latency",), "LATENCY_MS, latency"])
def test_targets_by_column_name_or_list(tmp_path, targets):
    path = write(synthetic_frame(n_networks=40, seed=9), tmp_path / "d.parquet")
    assert hwprof.fit(path, family="polynomial", cv=False, targets=targets).doc["targets"] == ["latency_ms"]


def test_an_unknown_target_names_both_spellings(tmp_path):
    with pytest.raises(HwprofError, match="unknown target 'speed'; choose from latency, power, energy or their"):
        hwprof.fit(str(tmp_path / "d.parquet"), targets=["speed"])
    with pytest.raises(HwprofError, match="targets=3: give them as text"):
        hwprof.fit(str(tmp_path / "d.parquet"), targets=3)


def test_a_predictor_is_never_written_over_a_dataset(tmp_path, predictor):
    dataset = write(synthetic_frame(n_networks=6, seed=1), tmp_path / "d.parquet")
    with pytest.raises(HwprofError, match="is a dataset"):
        predictor.save(dataset, force=True)
    assert len(pd.read_parquet(dataset))


def test_hwprof_warning_is_public():
    assert "HwprofWarning" in hwprof.__all__ and hwprof.HwprofWarning is HwprofWarning
