"""A host application that set torch's default dtype to float64 still predicts the networks hwprof builds
from a name, at float32 as measure runs them."""

import pytest
import torch

import hwprof
from fakes.synthetic import fitted_predictor_path
from hwprof.predictor import records

CELL = "nb201:|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"


@pytest.fixture(scope="module")
def predictor(tmp_path_factory):
    path, _ = fitted_predictor_path(tmp_path_factory.mktemp("fit"), cv=False)
    return hwprof.load_predictor(path)


@pytest.mark.parametrize("model", ["mlp", CELL])
def test_a_float64_default_dtype_predicts_a_named_network_as_float32_does(predictor, model):
    records.clear_cache()
    expected = predictor.predict(model, batch_size=2).total
    records.clear_cache()  # traced again, under the host's default
    torch.set_default_dtype(torch.float64)
    try:
        total = predictor.predict(model, batch_size=2).total
        assert torch.get_default_dtype() == torch.float64  # the host's default is left as it was
    finally:
        torch.set_default_dtype(torch.float32)
    assert total == expected


def test_a_host_at_float32_is_not_touched_while_a_network_is_built():
    """torch's default dtype is one for the process: setting it, even to the float32 it already was, raced other
    threads, and putting back the value seen at the start undid a change the host made meanwhile."""
    from hwprof.models.spec import float32_default

    try:
        with float32_default():
            torch.set_default_dtype(torch.float64)  # another thread of the host, while hwprof builds
        assert torch.get_default_dtype() == torch.float64
        with float32_default():
            assert torch.get_default_dtype() == torch.float32
            torch.set_default_dtype(torch.bfloat16)  # the host's own change, made while hwprof held float32
        assert torch.get_default_dtype() == torch.bfloat16
    finally:
        torch.set_default_dtype(torch.float32)
