"""Every user mistake in fit and predict ends in one clear HwprofError sentence."""

import pandas as pd
import pytest

from fakes.synthetic import fitted_predictor_path, synthetic_frame, write
from hwprof.errors import HwprofError
from hwprof.fitting.fit import fit
from hwprof.predictor.predictor import load_predictor


def test_missing_columns_are_named(tmp_path):
    table = tmp_path / "net.csv"
    pd.DataFrame({"model": ["mlp"], "latency_ms": [1.0]}).to_csv(table, index=False)
    with pytest.raises(
        HwprofError, match="lacks the column.*batch_size.*needs at least model, batch_size and latency_ms"
    ):
        fit([table])


def test_hwprof_dataset_missing_a_required_column(tmp_path):
    frame = synthetic_frame(n_networks=3).drop(columns=["flops"])
    with pytest.raises(HwprofError, match="flops"):
        fit([write(frame, tmp_path / "d.parquet")])


def test_empty_dataset(tmp_path):
    frame = synthetic_frame(n_networks=3).iloc[:0]
    with pytest.raises(HwprofError, match="has no rows"):
        fit([write(frame, tmp_path / "empty.parquet")])


def test_no_dataset_and_missing_file(tmp_path):
    with pytest.raises(HwprofError, match="no dataset was given"):
        fit([])
    with pytest.raises(HwprofError, match="does not exist"):
        fit([tmp_path / "nope.parquet"])


def test_mixed_devices_are_refused_and_can_be_split(tmp_path):
    a = write(synthetic_frame(n_networks=6, device="Board A"), tmp_path / "a.parquet")
    b = write(synthetic_frame(n_networks=6, device="Board B", seed=4), tmp_path / "b.parquet")
    with pytest.raises(HwprofError, match="mix 2 devices .*'Board A', 'Board B'.*refused.*device_name='Board A'"):
        fit([a, b])
    predictor = fit([a, b], device_name="Board B", family="polynomial", cv=False)
    assert predictor.doc["device_name"] == "Board B"
    assert predictor.doc["training"]["rows"]["networks"] == 12
    with pytest.raises(HwprofError, match="no rows measured on device 'Board C'"):
        fit([a, b], device_name="Board C")


def test_layer_rows_without_network_rows(tmp_path):
    frame = synthetic_frame(n_networks=4)
    frame = frame[frame["kind"] == "layer"]
    with pytest.raises(HwprofError, match="have layer rows but no network rows"):
        fit([write(frame, tmp_path / "layers.parquet")])


def test_commands_alone_are_not_called_layer_rows(tmp_path):
    from click.testing import CliRunner

    from hwprof.cli import main

    out = tmp_path / "commands.parquet"
    assert CliRunner().invoke(main, ["run", "--out", str(out), "--", "true"]).exit_code == 0
    with pytest.raises(HwprofError, match="have no network or layer rows \\(only commands hwprof run timed"):
        fit([out])


def test_power_target_without_power_measurements(tmp_path):
    dataset = write(synthetic_frame(n_networks=4), tmp_path / "d.parquet")
    with pytest.raises(HwprofError, match="target power needs power_w on at least 3 networks"):
        fit([dataset], targets="latency,power")
    with pytest.raises(HwprofError, match="unknown target 'speed'"):
        fit([dataset], targets="speed")
    with pytest.raises(HwprofError, match="unknown target 'latncy'"):  # before any dataset is read
        fit([tmp_path / "not_yet_measured.parquet"], targets="latncy")


def test_unknown_family_and_bad_batch_size(tmp_path):
    dataset = write(synthetic_frame(n_networks=4), tmp_path / "d.parquet")
    with pytest.raises(HwprofError, match="unknown model family 'forest'"):
        fit([dataset], family="forest")
    table = tmp_path / "net.csv"
    pd.DataFrame({"model": ["mlp"], "batch_size": ["two"], "latency_ms": [1.0]}).to_csv(table, index=False)
    with pytest.raises(HwprofError, match="batch_size must be a positive whole number.*row 1"):
        fit([table])


def test_unknown_model_in_a_network_only_table(tmp_path):
    table = tmp_path / "net.csv"
    pd.DataFrame({"model": ["no_such_net"], "batch_size": [1], "latency_ms": [1.0]}).to_csv(table, index=False)
    with pytest.raises(HwprofError, match="network row 'no_such_net'.*unknown model"):
        fit([table])


def test_op_type_no_model_covers_is_explicit(tmp_path):
    path, _ = fitted_predictor_path(tmp_path, cv=False)
    predictor = load_predictor(path)
    # default: the shared fallback model stands in, and the prediction says so
    prediction = predictor.predict("mlp")
    assert any("dropout: no layer model of its own" in w for w in prediction.warnings)
    # strict: refused with a sentence naming the op types
    with pytest.raises(HwprofError, match="op type\\(s\\) dropout, flatten with no layer model of their own"):
        predictor.predict("mlp", strict=True)
    # without a fallback model there is nothing to stand in: a clear error, not a crash
    predictor.doc["layer_models"]["latency_ms"]["fallback"] = None
    bare = type(predictor)(predictor.doc, source="bare.json")
    with pytest.raises(HwprofError, match="op type 'flatten' has no layer model in bare.json.*no shared fallback"):
        bare.predict("mlp")


def test_predict_arguments_are_checked(tmp_path):
    path, _ = fitted_predictor_path(tmp_path, cv=False)
    predictor = load_predictor(path)
    with pytest.raises(HwprofError, match="confidence must be between 0 and 1"):
        predictor.predict("mlp", confidence=90)
    with pytest.raises(HwprofError, match="batch size must be a positive integer"):
        predictor.predict("mlp", batch_size=0)
    with pytest.raises(HwprofError, match="unknown model 'nonsense'"):
        predictor.predict("nonsense")


@pytest.mark.parametrize("latency", ["", "nan", "-1.5", "0", "inf", "fast"])
def test_a_network_row_without_a_positive_latency_is_named_not_dropped(tmp_path, latency):
    table = tmp_path / "net.csv"
    table.write_text(f"model,batch_size,latency_ms\nmlp,1,1.5\nmlp,2,{latency}\nmlp,4,3.5\n")
    with pytest.raises(HwprofError, match=r"latency_ms must be a positive number, but row 2 \(mlp\) has"):
        fit([table])


def test_a_hwprof_dataset_with_a_broken_latency_is_refused(tmp_path):
    frame = synthetic_frame(n_networks=4)
    frame.loc[frame.index[-1], "latency_ms"] = float("inf")
    with pytest.raises(HwprofError, match=rf"row {len(frame)} .* has inf"):
        fit([write(frame, tmp_path / "d.parquet")])


def test_numbers_in_messages_read_as_typed(tmp_path):
    table = tmp_path / "net.csv"
    table.write_text("model,batch_size,latency_ms\nmlp,0,1.5\n")
    with pytest.raises(HwprofError, match=r"row 1 has 0$") as raised:
        fit([table])
    assert "np." not in str(raised.value)


def test_a_split_over_rows_says_it_holds_out_networks_not_a_family(tmp_path):
    from hwprof.progress import Notes

    said = []
    frame = synthetic_frame(n_networks=8)
    frame["model"] = frame["model"].str.replace(r"^[a-z]+", "alpha", regex=True)  # one family only
    fit([write(frame, tmp_path / "one.parquet")], family="polynomial", progress=Notes(said.append))
    folds = [line for line in said if line.startswith("cross-validation fold")]
    assert folds and all(line.endswith("of the 8 network(s) (16 rows)") for line in folds), folds  # 2 batches each


@pytest.mark.parametrize("networks", [3, 4])
def test_a_few_networks_with_power_fit_and_leave_folds_too_small_for_it_unscored(tmp_path, networks):
    """Three networks with power pass fit's check; a fold trains on two of them, too few for a power model:
    that fold scores no power (it used to fail the whole fit), latency is scored as before."""
    table = pd.DataFrame(
        {
            "model": ["resnet18", "alexnet", "vgg11", "resnet50"][:networks],
            "batch_size": 1,
            "latency_ms": [43.0, 20.1, 150.2, 95.0][:networks],
            "power_w": [20.0, 18.0, 22.0, 21.0][:networks],
        }
    )
    table["energy_mj"] = table["latency_ms"] * table["power_w"]
    path = tmp_path / "power.csv"
    table.to_csv(path, index=False)
    metrics = fit([path]).doc["cv"]["metrics"]
    assert metrics["latency_ms"]["n"] == networks
    assert metrics["power_w"]["n"] < networks  # the folds that trained on two networks scored none
