"""A layer's text and flag settings (GELU's approximate, attention's is_causal, a module call's need_weights) are
variables the layer models see, and a setting the training layers held only at other values counts as uncovered
and gets a note: GELU(approximate='tanh') ran 7x the exact form's time and was predicted the same, with no note."""

import json

import pandas as pd
import pytest
from torch import nn

from fakes.synthetic import fitted_before, relus_as, synthetic_frame, write
from hwprof.fitting.fit import fit
from hwprof.predictor import file as predictor_file
from hwprof.predictor.features import LayerRecord, config_variables, raw_variables

TANH_SLOWDOWN = 5.0  # the planted law: a tanh GELU takes 5x the exact one's time


def variables(config: dict) -> dict[str, float]:
    return raw_variables(LayerRecord("op", json.dumps(config), 1.0, 1.0, 1.0, 0.0), config)


def config_part(config: dict) -> dict[str, float]:
    return {name: value for name, value in variables(config).items() if name.startswith("config.")}


def test_a_text_setting_is_an_indicator_of_its_value():
    shapes = {"input_shapes": [[8, 64, 512]], "output_shape": [8, 64, 512]}
    exact = config_part({"approximate": "none", **shapes})
    tanh = config_part({"approximate": "tanh", **shapes})
    assert exact == {"config.approximate=none": 1.0}
    assert tanh == {"config.approximate=tanh": 1.0}


def test_arguments_of_a_call_are_settings_and_numbers_by_their_place():
    config = {
        "args": ["tensor", 2, "reflect", ["tensor", "tensor"]],
        "kwargs": {"is_causal": True, "attn_mask": None, "dropout_p": 0.0, "_stacklevel": 3, "dim": -1, "size": [4, 5]},
        "input_shapes": [[1, 8, 16, 64]],
        "output_shape": [1, 8, 16, 64],
    }
    assert config_part(config) == {
        "config.args.1": 2.0,
        "config.args.2=reflect": 1.0,
        "config.kwargs.is_causal=true": 1.0,
        "config.kwargs.dropout_p": 0.0,
        "config.kwargs.dim": -1.0,
        "config.kwargs.size": 20.0,
    }
    # a module call's arguments given otherwise than its defaults: a False there is a setting, not a missing one
    assert config_part({"kwargs": {"need_weights": False}}) == {"config.kwargs.need_weights=false": 1.0}


def test_layouts_index_dtypes_and_flags_of_a_config_are_indicators():
    assert config_part({"input_layouts": [None, "channels_last"]}) == {"config.input_layouts=channels_last": 1.0}
    assert config_part({"input_layouts": [None, "contiguous"]}) == {"config.input_layouts=contiguous": 1.0}
    assert config_part({"index_dtypes": ["int32", "int64"]}) == {
        "config.index_dtypes=int32": 1.0,
        "config.index_dtypes=int64": 1.0,
    }
    # a top-level flag stays the 0/1 variable it was, and a True is an indicator too (a setting a training set
    # never held at true counts as new); a dtype and layout keep the indicators they had
    assert config_part({"training": True, "bias": False}) == {
        "config.training": 1.0,
        "config.training=true": 1.0,
        "config.bias": 0.0,
    }
    assert config_part({"dtype": "float16", "memory_format": "channels_last"}) == {
        "config.dtype_float16": 1.0,
        "config.memory_format_channels_last": 1.0,
    }


def test_a_copys_strides_are_the_elements_it_reads_in_order():
    def run(shape, strides):
        return config_part({"input_shapes": [shape], "output_shape": shape, "input_strides": strides})

    assert run([2, 3, 4], [12, 1, 3]) == {"config.input_run_elements": 1.0}  # its last two dims transposed
    assert run([2, 3, 4], [4, 8, 1]) == {"config.input_run_elements": 4.0}  # rows of 4 in order
    assert run([3, 1, 4], [4, 99, 1]) == {"config.input_run_elements": 12.0}  # a dim of one breaks no run
    assert "config.input_strides" not in config_variables([{"input_strides": [12, 1, 3], "input_shapes": [[2, 3, 4]]}])


class ConvGelu(nn.Module):
    def __init__(self, approximate: str):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, padding=1, bias=False)
        self.gelu = nn.GELU(approximate=approximate)

    def forward(self, x):
        return self.gelu(self.conv(x))


def gelu_frame(frame: pd.DataFrame, approximate: str) -> pd.DataFrame:
    """`frame` with its ReLUs made GELUs of this approximation (a tanh one TANH_SLOWDOWN times as slow, its
    network slower by the time its GELUs added), each model named apart."""
    slowdown = TANH_SLOWDOWN if approximate == "tanh" else 1.0
    return relus_as(frame, "gelu", lambda relu: {**relu, "approximate": approximate}, slowdown, f"_{approximate}")


@pytest.fixture(scope="module")
def exact_only(tmp_path_factory):
    path = tmp_path_factory.mktemp("exact") / "exact.parquet"
    return fit([write(gelu_frame(synthetic_frame(n_networks=10, seed=5), "none"), path)], family="polynomial", cv=False)


class ConvFunctionalGelu(ConvGelu):
    def forward(self, x):
        return nn.functional.gelu(self.conv(x))


def test_a_setting_the_training_layers_held_only_at_another_value_is_uncovered_and_noted(exact_only):
    exact = exact_only.predict(ConvGelu("none"), input_shape=(3, 32, 32))
    tanh = exact_only.predict(ConvGelu("tanh"), input_shape=(3, 32, 32))
    assert "config.approximate=none" in exact_only.variables
    # its convolution's padding_mode='zeros' is a setting the synthetic training layers never set at all: theirs,
    # unrecorded, as in a dataset measured before hwprof recorded it
    assert exact.novelty["uncovered_share"] == 0 and not any("settings" in w for w in exact.warnings)
    # F.gelu(x) sets no approximate: at its default, as the training layers' nn.GELU()
    assert exact_only.predict(ConvFunctionalGelu("none"), input_shape=(3, 32, 32)).novelty["uncovered_share"] == 0
    assert "approximate=tanh never in training" in tanh.novelty["uncovered_by"]
    assert tanh.novelty["uncovered_share"] > 0
    assert any(
        "its layers hold settings no training layer of the same op had (approximate=tanh in gelu)" in w
        for w in tanh.warnings
    )


def test_a_file_written_before_settings_were_indicators_counts_no_setting_as_new(exact_only):
    tanh = fitted_before(exact_only, predictor_file.SETTINGS_DEFINITION).predict(
        ConvGelu("tanh"), input_shape=(3, 32, 32)
    )
    assert "approximate=tanh" not in tanh.novelty["uncovered_by"]
    assert not any("settings no training layer" in w for w in tanh.warnings)


def test_a_predictor_fitted_on_both_settings_predicts_them_apart(tmp_path):
    frame = synthetic_frame(n_networks=10, seed=5)
    both = pd.concat([gelu_frame(frame, "none"), gelu_frame(frame, "tanh")], ignore_index=True)
    predictor = fit([write(both, tmp_path / "both.parquet")], family="polynomial", cv=False)
    exact = predictor.predict(ConvGelu("none"), input_shape=(3, 32, 32))
    tanh = predictor.predict(ConvGelu("tanh"), input_shape=(3, 32, 32))
    exact_ms, tanh_ms = (p.layers.loc[p.layers["op"] == "gelu", "latency_ms"].iloc[0] for p in (exact, tanh))
    assert tanh_ms / exact_ms == pytest.approx(TANH_SLOWDOWN, rel=0.2)
    assert "approximate" not in tanh.novelty["uncovered_by"]
