"""Bad arguments to a predictor's Python API end in one HwprofError sentence, never a raw error from inside."""

import numpy as np
import pytest
import torch

import hwprof
from fakes.synthetic import fitted_predictor_path
from hwprof.errors import HwprofError


@pytest.fixture(scope="module")
def predictor(tmp_path_factory):
    path, _ = fitted_predictor_path(tmp_path_factory.mktemp("fit"), cv=False)
    return hwprof.load_predictor(path)


class Tokens(torch.nn.Module):
    """A text model: token ids in, one vector per token out."""

    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(100, 16)
        self.out = torch.nn.Linear(16, 4)

    def forward(self, input_ids):
        return self.out(self.embed(input_ids))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda p: p.predict("mlp", seq_lens=[128]), "predict has no keyword seq_lens: write seq_len= as predict"),
        (lambda p: p.predict("mlp", batchsize=8), "predict has no keyword batchsize: write batch_size="),
        (
            lambda p: p.predict_many(["mlp"], batch_sizes=[1]),
            "predict_many has no keyword batch_sizes: write batch_size=",
        ),
        (lambda p: p.features(["mlp"], threads=1), r"features has no keyword threads; its keywords are batch_size, "),
    ],
    ids=["seq_lens", "batchsize", "batch_sizes", "threads"],
)
def test_a_keyword_not_taken_names_the_ones_that_are(predictor, call, message):
    with pytest.raises(HwprofError, match=message) as error:
        call(predictor)
    assert "seq_len, dtype, channels_last, inputs, hf_config" in str(error.value)


def test_predict_many_strict_refuses_op_types_without_a_model_as_predict_does(predictor):
    with pytest.raises(HwprofError, match="mlp_large has op type.*dropout.*no layer model of their own"):
        predictor.predict_many(["mlp_large", "mlp"], [1, 2], strict=True)
    assert len(predictor.predict_many(["mlp"])) == 1  # not strict: covered by the fallback


@pytest.mark.parametrize("seq_len", [-5, "64", [64, 128], 64.5, 0, True])
def test_a_sequence_length_that_is_not_one_positive_whole_number_is_refused(predictor, seq_len):
    with pytest.raises(HwprofError, match=r"seq_len=.*: give one sequence length, a positive whole number"):
        predictor.predict(Tokens(), inputs="input_ids:int64[seq]", seq_len=seq_len)


def test_a_sequence_length_sets_a_models_sequence_dimension(predictor):
    at_16 = predictor.predict(Tokens(), inputs="input_ids:int64[seq]", seq_len=np.int64(16))
    assert at_16.model.endswith("@seq_len=16")


@pytest.mark.parametrize(
    "model, how",
    [("mlp", {}), (Tokens(), {"inputs": torch.randint(0, 100, (1, 10))})],
    ids=["built-in", "module-with-example-tokens"],
)
def test_a_sequence_length_for_a_model_without_one_is_refused_as_measure_refuses_it(predictor, model, how):
    with pytest.raises(HwprofError, match=r"seq_len=64 sets the length of a sequence dimension.* has none; drop it"):
        predictor.predict(model, seq_len=64, **how)


def test_a_list_takes_a_sequence_length_and_hf_config_where_one_of_its_models_does(predictor):
    pytest.importorskip("transformers")
    from fakes.zoo import TINY_HF

    table = predictor.predict_many(["mlp", "hf:bert"], seq_len=16, hf_config=TINY_HF["hf:bert"])
    assert table["model"][0] == "mlp" and table["model"][1].startswith("hf:bert:")
    assert table["model"][1].endswith("@seq_len=16")
    with pytest.raises(HwprofError, match="none of mlp, mlp_large has one; drop it"):
        predictor.predict_many(["mlp", "mlp_large"], seq_len=16)


@pytest.mark.parametrize(
    "name, how, message",
    [
        ("mlp@seq_len=64", {"seq_len": 128}, "mlp@seq_len=64 names its seq_len, and seq_len=128 gives another"),
        ("mlp@dtype=bfloat16", {"dtype": "float16"}, "names its dtype, and dtype='float16' gives another"),
        ("mlp@input_shape=784", {"input_shape": (392,)}, r"names its input_shape, and input_shape=\(392,\) gives"),
    ],
)
def test_a_setting_given_in_the_name_and_beside_it_with_two_values_is_refused(predictor, name, how, message):
    with pytest.raises(HwprofError, match=message):
        predictor.predict(name, **how)


def test_a_setting_given_in_the_name_and_beside_it_alike_or_as_the_default_is_the_names():
    from hwprof.predictor.records import network_layers

    assert network_layers("mlp@dtype=bfloat16", 1, dtype="float32").name == "mlp@dtype=bfloat16"
    assert network_layers("mlp@input_shape=784", 1, (784,)).name == "mlp"  # its own shape: no suffix


def test_numpy_integers_are_batch_sizes(predictor):
    one = predictor.predict("mlp", batch_size=np.int64(8))
    assert one.batch_size == 8 and type(one.batch_size) is int
    assert list(predictor.predict_many(["mlp"], batch_size=np.int64(4))["batch_size"]) == [4]
    table = predictor.predict_many(["mlp", "mlp_large"], batch_size=np.array([1, 4]))
    assert list(table["batch_size"]) == [1, 4]
    with pytest.raises(HwprofError, match="batch_size='1,8': give a positive whole number for every model"):
        predictor.predict_many(["mlp"], batch_size="1,8")


@pytest.mark.parametrize(
    "how, message",
    [
        ({"input_shape": "3,64,64"}, r"input_shape='3,64,64': give a tuple of whole numbers"),
        ({"input_shape": (-3, 32, 32)}, r"input_shape=\(-3, 32, 32\): give positive whole numbers"),
        ({"hf_config": "num_hidden_layers=2"}, r"hf_config='num_hidden_layers=2': give a dict"),
        ({"hf_config": {"num_hidden_layers": 2}}, "hf_config configures hf: models, and none of Linear is one"),
        ({"channels_last": "yes"}, "channels_last='yes': give True or False"),
    ],
    ids=["shape-text", "shape-negative", "hf_config-text", "hf_config-module", "channels_last-text"],
)
def test_a_setting_of_the_wrong_kind_is_one_sentence_as_measure_gives(predictor, how, message):
    with pytest.raises(HwprofError, match=message):
        predictor.predict(torch.nn.Linear(4, 2), **({"input_shape": (4,)} | how))


def test_features_take_one_model_or_any_iterable_of_them(predictor):
    assert len(predictor.features("mlp")) == 1
    assert len(predictor.features(torch.nn.Linear(4, 2), input_shape=(4,))) == 1
    assert predictor.features(name for name in ("mlp", "mlp_large")).batch.names == ["mlp", "mlp_large"]


@pytest.mark.parametrize("confidence", [2, 0, float("nan")])
def test_predict_features_checks_its_confidence(predictor, confidence):
    features = predictor.features(["mlp"])
    with pytest.raises(HwprofError, match="confidence must be between 0 and 1"):
        predictor.predict_features(features, confidence=confidence)


def test_predict_features_of_models_says_to_pass_the_features(predictor):
    with pytest.raises(HwprofError, match=r"predict_features takes what features\(models\) returns, not a list"):
        predictor.predict_features(["mlp"])


def test_a_half_precision_module_is_refused_at_float32_and_predicted_at_a_dtype_asked(predictor):
    """measure's rule: refused at the default float32, converted to a dtype asked for (float16 -> bfloat16)."""
    half, example = torch.nn.Linear(8, 4).half(), torch.randn(1, 8, dtype=torch.half)
    with pytest.raises(HwprofError, match=r"holds float16 weights and the run is float32: pass dtype=float16 to pre"):
        predictor.predict(half, inputs=example)
    assert predictor.predict(half, inputs=example, dtype="float16").model.endswith("@dtype=float16")
    assert predictor.predict(half, inputs=example, dtype="bfloat16").model.endswith("@dtype=bfloat16")
    with pytest.raises(HwprofError, match=r"holds float64 weights and the run is float32: convert it with module"):
        predictor.predict(torch.nn.Linear(8, 4).double(), input_shape=(8,))
    converted = predictor.predict(torch.nn.Linear(8, 4), input_shape=(8,), dtype="bfloat16")  # as measure runs it
    assert converted.model.endswith("dtype=bfloat16")


def test_a_module_paired_with_its_inputs_is_predicted_alone_and_in_a_list(predictor):
    import torch.nn as nn

    tokens = nn.Sequential(nn.Embedding(50, 8), nn.Linear(8, 4))
    ids = torch.randint(0, 50, (1, 6))
    one = predictor.predict((tokens, ids))
    table = predictor.predict_many([(tokens, ids), "mlp"])
    assert list(table["model"]) == [one.model, "mlp"]
    assert table["latency_ms"].iloc[0] == pytest.approx(one.total["latency_ms"])


@pytest.mark.parametrize("method", ["predict", "predict_many"])
@pytest.mark.parametrize("text", ["false", "no", "False"])
def test_strict_given_as_text_is_refused_not_taken_as_true(predictor, method, text):
    """strict='false' switched strict mode on, as any non-empty text is true to Python."""
    with pytest.raises(HwprofError, match=rf"strict={text!r}: give True or False"):
        getattr(predictor, method)("mlp", strict=text)
