"""Layer sweeps: reproducible sampled configurations, measured as layer rows with no network,
and kept by every cross-validation fold of a fit."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hwprof.errors import HwprofError
from hwprof.models.spec import family_of, resolve_model
from hwprof.sample_models.sweep import MAX_MACS, SAMPLERS, max_bytes, parse_sweep, sample_layers


@pytest.mark.parametrize(
    "op", [pytest.param(op, marks=pytest.mark.slow) if op == "embedding" else op for op in sorted(SAMPLERS)]
)
def test_every_sweep_gives_distinct_reproducible_layers_of_its_op(op):
    import torch

    from hwprof.measuring.session import _sweep_layers

    spec = resolve_model(f"sweep:{op}:12:3")
    assert spec.family == "sweep" and len(spec.sweep) == 12
    layers, extraction = _sweep_layers(spec, 2, torch.device("cpu"))
    assert extraction == "fx"
    assert [layer.index for layer in layers] == list(range(len(layers)))
    assert {layer.op for layer in layers} == {op}
    configs = [layer.config_json() for layer in layers]
    assert len(set(configs)) == 12
    assert all(json.loads(c)["input_shapes"][0][0] == 2 for c in configs)  # the batch size is applied
    assert all(layer.flops <= 2 * MAX_MACS for layer in layers)  # batch 2: twice the per-sample cap

    def drawn(name):
        return [(repr(entry.module), entry.input_shape) for entry in resolve_model(name).sweep]

    assert drawn(f"sweep:{op}:12:3") == drawn(f"sweep:{op}:12:3") != drawn(f"sweep:{op}:12:4")


def test_maxpool_sweep_varies_kernel_stride_padding_and_rounding():
    import torch

    layers = sample_layers("maxpool2d", 40, 0)
    pools = [layer.module for layer in layers]
    assert {(p.kernel_size, p.stride) for p in pools} == {(2, 2), (3, 2), (3, 1)}
    assert {p.padding for p in pools} == {0, 1} and {p.ceil_mode for p in pools} == {False, True}
    for layer in layers:  # every drawn configuration runs
        layer.module(torch.zeros(1, *layer.input_shape))


def test_conv_sweep_includes_first_layers_of_three_channels_at_image_resolution():
    stems = [layer for layer in sample_layers("conv2d", 40, 0) if layer.module.in_channels == 3]
    assert len(stems) >= 3
    assert max(layer.input_shape[1] for layer in stems) >= 64
    assert {layer.module.stride[0] for layer in stems} >= {2, 4}


def test_conv_sweep_draws_depthwise_convolutions_with_the_windows_networks_use():
    convs = [layer.module for layer in sample_layers("conv2d", 200, 0)]
    depthwise = [c for c in convs if c.groups == c.in_channels == c.out_channels > 1]
    assert len(depthwise) >= 10
    assert {c.kernel_size[0] for c in depthwise} <= {3, 5, 7} and 3 in {c.kernel_size[0] for c in depthwise}
    assert 1 in {c.kernel_size[0] for c in convs if c.groups == 1}  # dense pointwise ones stay


def test_linear_sweep_covers_matrix_vector_and_token_wise_products():
    layers = sample_layers("linear", 40, 0)
    rows = [layer.input_shape[0] if len(layer.input_shape) == 2 else 1 for layer in layers]
    assert min(rows) == 1 and max(rows) >= 256
    weights = [layer.module.in_features * layer.module.out_features for layer in layers]
    assert all(4 * w <= max_bytes("linear") for w in weights)
    matrix_vector = [w for w, r in zip(weights, rows) if r == 1]
    assert max(matrix_vector) * 4 > 100e6  # as large as a CNN classifier's, beyond any cache


@pytest.mark.parametrize(
    "name, fragment",
    [
        ("sweep:softmax2d", "no sweep for op"),
        ("sweep:linear:many", "whole numbers"),
        ("sweep:linear:0", "COUNT must be"),
        ("sweep:linear:1:2:3", "whole numbers"),
    ],
)
def test_bad_sweep_names_are_one_sentence(name, fragment):
    with pytest.raises(HwprofError, match=fragment):
        resolve_model(name)


def test_sweep_count_and_seed_default_to_40_and_0():
    assert parse_sweep("sweep:relu") == ("relu", 40, 0)


def test_measured_sweep_is_layer_rows_only_and_resumes(tmp_path):
    import hwprof

    out = tmp_path / "sweep.parquet"
    frame = hwprof.measure(
        ["sweep:relu:3"], batch_sizes=[1, 2], power="none", precision=0.2, max_item_s=0.2, threads=1, out=str(out)
    )
    assert len(frame) == 6 and set(frame["kind"]) == {"layer"} and set(frame["op"]) == {"relu"}
    assert sorted(frame["layer_index"].unique()) == [0, 1, 2]
    assert family_of("sweep:relu:3") == "sweep"
    again = hwprof.measure(
        ["sweep:relu:3"],
        batch_sizes=[1, 2],
        power="none",
        precision=0.2,
        max_item_s=0.2,
        threads=1,
        out=str(out),
        resume=True,
    )
    assert len(again) == 6
    assert (
        again.sort_values(["batch_size", "layer_index"])["latency_ms"].to_numpy()
        == frame.sort_values(["batch_size", "layer_index"])["latency_ms"].to_numpy()
    ).all()


def test_cross_validation_folds_keep_sweep_rows_and_drop_only_held_out_layers(tmp_path):
    import pandas as pd

    from fakes.synthetic import DEVICE, synthetic_frame
    from hwprof.fitting.data import training_data
    from hwprof.fitting.pipeline import _layers_of

    frame = synthetic_frame(n_networks=6, batch_sizes=(1,), seed=5)
    layers = frame[frame["kind"] == "layer"]
    sweep = layers[layers["model"] == layers["model"].iloc[0]].assign(model="sweep:conv2d:9")
    sweep = sweep.assign(config=[c.replace('"bias":false', '"bias":true') for c in sweep["config"]])
    data = training_data(pd.concat([frame, sweep], ignore_index=True), DEVICE)
    held_out = np.flatnonzero(data.families == data.families[0])
    train = np.setdiff1d(np.arange(len(data.networks)), held_out)
    mask = _layers_of(data, train)
    from_sweep = (data.layers["family"] == "sweep").to_numpy()
    assert from_sweep.any() and mask[from_sweep].all()
    only_held_out = {
        (r.op, r.config)
        for n in held_out
        for r in (data.networks.layers[u] for u in data.networks.membership[n].indices)
    }
    only_held_out -= {
        (r.op, r.config) for n in train for r in (data.networks.layers[u] for u in data.networks.membership[n].indices)
    }
    keys = list(zip(data.layers["op"], data.layers["config"]))
    assert only_held_out and all(not mask[i] for i, key in enumerate(keys) if key in only_held_out)
    assert all(mask[i] for i, key in enumerate(keys) if key not in only_held_out)


def test_a_sweep_is_not_a_network_to_predict():
    from hwprof.predictor.records import network_layers

    with pytest.raises(HwprofError, match="layer sweep, not a network"):
        network_layers("sweep:linear:3")
