"""The evaluate plot: every op its own look, a ±10% band that shows, units on the axes."""

import numpy as np
import pandas as pd

from hwprof.fitting.evaluate import BAND, figure, plot


def points(n_ops=25, per_op=4, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_ops):
        for _ in range(per_op):
            measured = float(rng.uniform(0.01, 10))
            rows.append(
                {
                    "level": "layer",
                    "target": "latency_ms",
                    "op": f"op{i}",
                    "family": "f",
                    "measured": measured,
                    "predicted": measured * float(rng.uniform(0.8, 1.2)),
                }
            )
    for family in ("resnet", "vgg"):
        for target in ("latency_ms", "energy_mj"):
            rows.append(
                {
                    "level": "network",
                    "target": target,
                    "op": "network",
                    "family": family,
                    "measured": 5.0,
                    "predicted": 5.5,
                }
            )
    return pd.DataFrame(rows)


def test_each_op_has_a_look_of_its_own_and_the_axes_carry_units():
    drawn = figure(points())
    axes = drawn.axes
    layer_top = next(a for a in axes if a.get_title().startswith("layers"))
    looks = set()
    for collection in layer_top.collections[1:]:  # the first is the band
        colour = tuple(np.round(collection.get_facecolor()[0], 3))
        path = collection.get_paths()[0]
        looks.add((colour, path.vertices.shape, round(float(np.abs(path.vertices).sum()), 3)))
    assert len(looks) == 25
    labels = {a.get_xlabel() for a in axes} | {a.get_ylabel() for a in axes}
    assert {"measured latency (ms)", "predicted latency (ms)", "measured energy (mJ)"} <= labels
    assert "within ±10%" in layer_top.get_title()


def test_the_band_is_opaque_enough_to_see_and_spans_ten_percent():
    drawn = figure(points())
    layer_top = next(a for a in drawn.axes if a.get_title().startswith("layers"))
    band = layer_top.collections[0]
    assert band.get_alpha() >= 0.5
    vertices = band.get_paths()[0].vertices
    x, y = vertices[:, 0], vertices[:, 1]
    ratios = y[x > 0] / x[x > 0]
    assert np.isclose(ratios.min(), 1 - BAND) and np.isclose(ratios.max(), 1 + BAND)
    ratio_axis = drawn.axes[drawn.axes.index(layer_top) + len(drawn.axes) // 2]
    assert ratio_axis.get_ylabel() == "predicted / measured"


def test_plot_writes_a_png(tmp_path):
    plot(points(n_ops=3), tmp_path / "eval.png")
    assert (tmp_path / "eval.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
