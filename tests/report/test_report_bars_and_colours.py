"""The time-by-op view and the colours of every view: ops next to each other by name had two shades of one
hue past ten ops; the bars' axis could leave no room right of the longest bar; and past MAX_BARS the first
bars by name were shown, with a legend naming ops in none of them."""

import matplotlib
import numpy as np

from fakes.synthetic import synthetic_frame
from hwprof.plotting import distinct_styles
from hwprof.report.figures import MAX_BARS, time_by_op

TAB20 = [tuple(colour) for colour in matplotlib.colormaps["tab20"].colors]


def test_keys_next_to_each_other_never_share_a_hue():
    for count in range(2, 41):
        styles = list(distinct_styles([f"op{i:02d}" for i in range(count)]).values())
        looks = {(style["color"], style["marker"]) for style in styles}
        assert len(looks) == count  # no two keys alike
        for first, second in zip(styles, styles[1:]):
            # tab20 pairs a dark and a light shade of one hue at 2k and 2k+1
            assert TAB20.index(tuple(first["color"])) // 2 != TAB20.index(tuple(second["color"])) // 2


def test_up_to_ten_keys_keep_the_tab10_colours():
    tab10 = [tuple(colour) for colour in matplotlib.colormaps["tab10"].colors]
    assert [tuple(s["color"]) for s in distinct_styles(range(10)).values()] == tab10


def row_ends(axis):
    ends = {}
    for patch in axis.patches:
        row = round(patch.get_y() + patch.get_height() / 2)
        ends[row] = max(ends.get(row, 0.0), patch.get_x() + patch.get_width())
    return ends


def test_the_bars_start_at_no_time_and_leave_room_right_of_the_longest():
    """The longest bar ended in an op its network lacks, drawn at no width: matplotlib's autoscaling held the
    axis to that edge (no room right of the bar), and a bar of several such edges moved the axis off 0."""
    frame = synthetic_frame(n_networks=2, batch_sizes=(1,)).assign(source="a")
    layers = frame["kind"] == "layer"
    longest = frame.loc[layers].groupby("model")["latency_ms"].sum().idxmax()
    other = layers & (frame["model"] != longest)
    frame.loc[other, "op"] = frame.loc[other, "layer_index"].map(lambda index: f"op{index}")  # none in the longest
    frame.loc[other, "latency_ms"] /= 100
    for rows in (frame[layers], frame):  # without and with the measured networks
        figure, _ = time_by_op(rows)
        axis = figure.axes[0]
        reached = max(row_ends(axis).values())
        for line in axis.collections:  # the intervals of the measured networks
            for segment in getattr(line, "get_segments", lambda: [])():
                reached = max(reached, float(np.max(segment[:, 0])))
        low, high = axis.get_xlim()
        assert low == 0 and high >= 1.04 * reached


def test_past_max_bars_the_slowest_are_shown_and_the_legend_names_only_their_ops():
    frame = synthetic_frame(n_networks=MAX_BARS // 2 + 1, batch_sizes=(1, 4)).assign(source="a")  # 2 bars too many
    layers = frame["kind"] == "layer"
    sums = frame[layers].groupby("model")["latency_ms"].sum()
    quickest = frame["model"] == sums.idxmin()
    frame.loc[quickest & layers, "latency_ms"] /= 1000  # both its bars are the quickest two
    frame.loc[quickest & layers, "op"] = "onlyhere"  # an op of no bar shown
    frame.loc[quickest, "model"] = "aaa"  # first by name
    figure, note = time_by_op(frame)
    labels = [tick.get_text() for tick in figure.axes[0].get_yticklabels()]
    assert len(labels) == MAX_BARS and not any(label.startswith("aaa") for label in labels)
    assert f"the {MAX_BARS} slowest (by their layers' summed time) of {MAX_BARS + 2} bars" in note
    [legend] = figure.legends
    named = {text.get_text() for text in legend.get_texts()}
    shown_ops = set(frame.loc[layers & ~quickest, "op"])
    assert "onlyhere" not in named and shown_ops <= named
