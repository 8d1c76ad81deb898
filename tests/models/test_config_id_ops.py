"""A layer's config_id is the key every instance of the same work shares (measured once, referenced by each):
it hashes the op with the configuration and device, since different ops can share a configuration exactly (an
elementwise sigmoid and tanh on one tensor), and without the op one would be recorded with the other's timing."""

import hashlib

import torch.nn as nn

from hwprof.models.layers import run_and_extract


def test_two_ops_with_the_same_configuration_get_different_ids():
    layers, _ = run_and_extract(nn.Sequential(nn.Sigmoid(), nn.Tanh()), (8, 16, 16), 1)
    sigmoid, tanh = layers
    assert (sigmoid.op, tanh.op) == ("sigmoid", "tanh")
    assert sigmoid.config_json() == tanh.config_json()  # what makes the op in the key necessary
    assert sigmoid.config_id("cpu") != tanh.config_id("cpu")


def test_the_id_is_the_op_configuration_and_device_hashed_as_datasets_have_it():
    """Existing datasets and fitted predictors key on these ids: the recipe is pinned, not only told apart."""
    layers, _ = run_and_extract(nn.Sequential(nn.Sigmoid(), nn.Tanh()), (8, 16, 16), 1)
    config = '{"input_shapes":[[1,8,16,16]],"output_shape":[1,8,16,16]}'
    for layer in layers:
        expected = hashlib.sha1(f"{layer.op}|{config}|cpu".encode()).hexdigest()[:16]
        assert layer.config_id("cpu") == expected
