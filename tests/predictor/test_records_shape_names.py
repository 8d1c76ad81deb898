"""A model traced at several input shapes is named by its shape at each, as fit names a model measured at several
(resnet18@input_shape=3x160x160): a module with no shape of its own at two shapes was one name with two latencies,
and a design loop keying predict_many's rows by name lost one. At one shape it keeps the name measure gives it, so
its prediction and its measurement are one network."""

import json

import pandas as pd
import torch.nn as nn

from hwprof.fitting.data import with_variant_names
from hwprof.predictor import records


def net() -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2)).eval()


def fit_names(model: str, shapes: list[tuple[int, ...]]) -> list[str]:
    """The names fit gives `model` measured at each of `shapes`, one run each, from measure's network rows."""
    frame = pd.DataFrame(
        {
            "model": [model] * len(shapes),
            "kind": ["network"] * len(shapes),
            "batch_size": [1] * len(shapes),
            "run_id": [f"run{n}" for n in range(len(shapes))],
            "config": [json.dumps({"input_shape": [1, *shape]}) for shape in shapes],
        }
    )
    return list(with_variant_names(frame)["model"])


def test_a_module_at_two_shapes_is_two_networks_named_as_fit_names_them():
    module = net()
    traced = [records.network_layers(module, 1, shape) for shape in ((3, 16, 16), (3, 8, 8))]
    named = records.names_told_apart(traced)
    assert named[0].endswith("@input_shape=3x16x16") and named[1].endswith("@input_shape=3x8x8")
    assert named == fit_names(traced[0].name, [(3, 16, 16), (3, 8, 8)])


def test_a_module_at_one_shape_keeps_the_name_measure_gives_it():
    module = net()
    traced = [records.network_layers(module, 1, (3, 8, 8)), records.network_layers(module, 4, (3, 8, 8))]
    assert records.names_told_apart(traced) == [traced[0].name] * 2 == fit_names(traced[0].name, [(3, 8, 8)]) * 2
    assert "@" not in traced[0].name


def test_a_zoo_model_at_its_own_shape_and_another_is_named_by_both():
    traced = [records.network_layers("squeezenet1_1", 1), records.network_layers("squeezenet1_1", 1, (3, 64, 64))]
    assert [t.name for t in traced] == ["squeezenet1_1", "squeezenet1_1@input_shape=3x64x64"]
    named = records.names_told_apart(traced)
    assert named == ["squeezenet1_1@input_shape=3x224x224", "squeezenet1_1@input_shape=3x64x64"]
    assert named == fit_names("squeezenet1_1", [(3, 224, 224), (3, 64, 64)])


def test_other_settings_stay_in_the_name_and_other_models_are_untouched():
    module = net()
    half = records.network_layers(module, 1, (3, 16, 16), dtype="bfloat16")
    traced = [half, records.network_layers(module, 1, (3, 8, 8)), records.network_layers("mlp", 1)]
    named = records.names_told_apart(traced)
    assert named[0] == half.name.replace("@dtype=", "@input_shape=3x16x16,dtype=")
    assert named[2] == "mlp"


def test_predict_many_names_a_module_given_at_two_shapes_by_each(tmp_path):
    """The names reach predict_many's rows: a design loop keying them by name keeps both shapes."""
    import torch

    import hwprof
    from fakes.synthetic import fitted_predictor_path

    path, _ = fitted_predictor_path(tmp_path, cv=False)
    module = net()
    rows = hwprof.load_predictor(path).predict_many(
        [(module, torch.randn(1, 3, 8, 8)), (module, torch.randn(1, 3, 16, 16)), "mlp"], 1
    )
    names = list(rows["model"])
    assert names[0].endswith("@input_shape=3x8x8") and names[1].endswith("@input_shape=3x16x16")
    assert names[2] == "mlp"
