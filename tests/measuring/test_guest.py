"""measure inside a host program: the host's autocast, default dtype and device, and random generators
neither reach the run nor are changed by it."""

import json

import pytest
import torch

import hwprof
from hwprof.measuring.guest import own_torch_settings

QUICK = dict(max_item_s=0.05, sweep_share=0, power="none", max_other_share=1.0, seed=0)


def small_net():
    torch.manual_seed(1)
    return torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 64))


def test_a_hosts_autocast_does_not_run_the_layers_in_another_dtype_than_the_rows_record():
    example = torch.randn(1, 64)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        frame = hwprof.measure([(small_net(), example)], **QUICK)
        assert torch.is_autocast_enabled("cpu")  # the host's autocast is back once measure returns
    layers = frame[frame["kind"] == "layer"]
    assert set(frame["dtype"]) == {"float32"}
    assert set(layers["output_bytes"]) == {64 * 4}  # float32 outputs; bfloat16 ones were 128 bytes
    assert not any("bfloat16" in config for config in layers["config"])


def test_a_hosts_seeded_generator_draws_the_same_numbers_as_if_nothing_had_been_measured():
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    hwprof.measure("mlp", **QUICK)
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float64])
def test_a_hosts_default_dtype_neither_reaches_hwprofs_own_networks_nor_is_lost(dtype):
    torch.set_default_dtype(dtype)
    try:
        frame = hwprof.measure("mlp", **QUICK)
        assert torch.get_default_dtype() == dtype
    finally:
        torch.set_default_dtype(torch.float32)
    assert set(frame["dtype"]) == {"float32"} and (frame["kind"] == "network").sum() == 1


def test_a_hosts_meta_default_device_neither_reaches_hwprofs_own_networks_nor_is_lost():
    torch.set_default_device("meta")
    try:
        frame = hwprof.measure("mlp", **QUICK)
        assert torch.get_default_device().type == "meta"
    finally:
        torch.set_default_device(None)  # "cpu" would leave a function mode on the stack for the tests after it
    network = frame[frame["kind"] == "network"].iloc[0]
    assert network["latency_ms"] > 0 and json.loads(network["config"])["family"] == "mlp"


def test_a_hosts_default_device_leaves_no_function_mode_over_hwprofs_measurement():
    """A default device is a torch function mode, under which nn.MultiheadAttention leaves its fused kernel:
    setting "cpu" for the span of a measurement timed the unfused path where the host's network would run fused."""
    torch.set_default_device("meta")
    try:
        with own_torch_settings():
            assert torch._C._len_torch_function_stack() == 0 and torch.get_default_device().type == "cpu"
        assert torch.get_default_device().type == "meta"
    finally:
        torch.set_default_device(None)
