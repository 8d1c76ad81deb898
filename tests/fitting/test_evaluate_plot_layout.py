"""The evaluate plot reads at a report's width: its panels lie in rows of at most three."""

import pandas as pd

from hwprof.fitting.evaluate import figure

TARGETS = ("latency_ms", "energy_mj", "power_w", "memory_mb", "latency_ms_p90", "idle_power_w")


def points():
    rows = [
        {"level": "network", "target": t, "op": "network", "family": f, "measured": 5.0, "predicted": 5.5}
        for t in TARGETS
        for f in ("resnet", "vgg")
    ]
    rows += [
        {"level": "layer", "target": "latency_ms", "op": op, "family": "f", "measured": m, "predicted": 1.1 * m}
        for op in ("conv2d", "relu")
        for m in (0.1, 1.0)
    ]
    return pd.DataFrame(rows)


def test_seven_panels_lie_in_rows_of_three_each_with_its_ratio_strip_under_it():
    """Seven panels were one row 3640 px wide, shrunk to a third by the report page."""
    drawn = figure(points())
    width_in, height_in = drawn.get_size_inches()
    assert width_in <= 5.2 * 3 and height_in > width_in / 2
    tops = [axis for axis in drawn.axes if "within" in axis.get_title()]
    bottoms = [axis for axis in drawn.axes if axis.get_ylabel() == "predicted / measured"]
    assert len(tops) == len(bottoms) == 7
    rows = {}
    for top in tops:
        spec = top.get_subplotspec()
        rows.setdefault(spec.rowspan.start, []).append(spec.colspan.start)
    assert sorted(len(columns) for columns in rows.values()) == [1, 3, 3]
    for top, bottom in zip(tops, bottoms):  # each strip right under its own panel
        assert bottom.get_subplotspec().rowspan.start == top.get_subplotspec().rowspan.start + 1
        assert bottom.get_subplotspec().colspan.start == top.get_subplotspec().colspan.start


def test_the_title_stands_above_every_panel():
    """The predictor's name was drawn over the middle panel's title."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    drawn = figure(points(), "pred.json")
    FigureCanvasAgg(drawn).draw()
    renderer = drawn.canvas.get_renderer()
    title = drawn._suptitle.get_window_extent(renderer)
    assert all(title.y0 >= axis.get_tightbbox(renderer).y1 for axis in drawn.axes)


def test_the_layer_sum_panel_is_labelled_by_the_network_it_is_scored_on():
    """Its x axis read "measured latency (ms), layer sum" under the measured network latencies."""
    import pandas as pd

    from hwprof.fitting.evaluate import figure

    points = pd.DataFrame(
        [
            {"level": "network", "target": target, "op": None, "family": "f", "measured": m, "predicted": p}
            for target in ("latency_ms", "latency_ms_layer_sum")
            for m, p in ((1.0, 1.1), (3.0, 2.8))
        ]
    )
    drawn = figure(points)
    titles = [axis.get_title() for axis in drawn.axes if axis.get_title()]
    xlabels = [axis.get_xlabel() for axis in drawn.axes if axis.get_xlabel()]
    assert titles[1].startswith("network latency (ms), predicted as the sum of layer predictions:")
    assert xlabels == ["measured latency (ms)", "measured latency (ms)"]
