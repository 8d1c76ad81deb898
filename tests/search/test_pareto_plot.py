"""The Pareto plot: the front as a staircase, and the skipped trials shown where they were predicted."""

from hwprof.search.constraints import parse_constraint
from hwprof.search.report import plot_pareto, staircase
from hwprof.search.study import SearchResult, TrialRecord


def record(number, state, latency_ms, score=None, feasible=True):
    return TrialRecord(number, state, {"w": number}, {"latency_ms": latency_ms}, {}, feasible, score, 0.0, 0.0, 0.0)


def result(records):
    return SearchResult(
        "s",
        "space",
        "obj",
        [parse_constraint("latency_ms<=5")],
        None,
        1,
        "tpe",
        "maximize",
        True,
        ["latency_ms"],
        records,
    )


def test_the_staircase_keeps_only_points_that_beat_every_cheaper_one():
    points = [(1.0, 0.5), (2.0, 0.4), (3.0, 0.7), (3.0, 0.6), (4.0, 0.9), (5.0, 0.8)]
    assert staircase(points, maximize=True) == [(1.0, 0.5), (3.0, 0.7), (4.0, 0.9)]
    assert staircase(points, maximize=False) == [(1.0, 0.5), (2.0, 0.4)]


def test_the_front_is_drawn_as_steps_and_skipped_trials_are_on_the_plot(tmp_path, monkeypatch):
    from hwprof import plotting

    drawn = {}
    monkeypatch.setattr(plotting, "save_figure", lambda figure, path: drawn.setdefault("figure", figure) and path)
    records = [
        record(0, "trained", 1.0, 0.5),
        record(1, "trained", 2.0, 0.4),
        record(2, "trained", 3.0, 0.7),
        record(3, "trained", 4.0, 0.9),
        record(4, "skipped", 7.0),
        record(5, "skipped", 9.0),
    ]
    plot_pareto(result(records), tmp_path / "pareto.png")
    axis = drawn["figure"].axes[0]
    (front,) = [line for line in axis.get_lines() if line.get_label() == "Pareto front"]
    assert front.get_drawstyle() == "steps-post"
    assert list(front.get_xdata())[:3] == [1.0, 3.0, 4.0] and list(front.get_ydata()) == [0.5, 0.7, 0.9, 0.9]
    assert front.get_xdata()[-1] >= 9.0  # held to the right edge, past the most expensive trial shown
    assert axis.get_xlim()[0] < 1.0 and axis.get_xlim()[1] > 9.0  # the skipped trials are inside the plot
    skipped = [c for c in axis.collections if c.get_label().startswith("skipped")]
    assert len(skipped) == 1 and sorted(skipped[0].get_offsets()[:, 0]) == [7.0, 9.0]
    assert "(2)" in skipped[0].get_label()
    assert axis.get_xlabel() == "predicted latency (ms)"


def test_the_pareto_png_is_written(tmp_path):
    path = plot_pareto(result([record(0, "trained", 1.0, 0.5), record(1, "skipped", 6.0)]), tmp_path / "p.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_pareto_png_is_written_when_nothing_was_trained(tmp_path):
    path = plot_pareto(result([record(0, "skipped", 6.0), record(1, "skipped", 7.0)]), tmp_path / "p.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
