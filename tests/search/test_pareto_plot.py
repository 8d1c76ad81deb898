"""The Pareto plot: the front as a staircase, and the skipped trials drawn where their budgets were held."""

from fakes.search_doubles import search_result as result
from hwprof.search.report import plot_pareto, staircase
from hwprof.search.study import TrialRecord


def record(number, state, latency_ms, score=None, feasible=True, checked=None, **counts):
    """A trial whose budgets were held against its point latency, unless `checked` says otherwise."""
    checked = {"latency_ms<=5": latency_ms} if checked is None else checked
    metrics = {"latency_ms": latency_ms, **counts}
    return TrialRecord(number, state, {"w": number}, metrics, checked, feasible, score, 0.0, 0.0, 0.0)


def test_the_staircase_keeps_only_points_that_beat_every_cheaper_one():
    points = [(1.0, 0.5), (2.0, 0.4), (3.0, 0.7), (3.0, 0.6), (4.0, 0.9), (5.0, 0.8)]
    assert staircase(points, maximize=True) == [(1.0, 0.5), (3.0, 0.7), (4.0, 0.9)]
    assert staircase(points, maximize=False) == [(1.0, 0.5), (2.0, 0.4)]


def test_the_front_is_drawn_as_steps_and_skipped_trials_are_on_the_plot(tmp_path, monkeypatch):
    from hwprof.search import report

    drawn = {}
    monkeypatch.setattr(report, "save_figure", lambda figure, path: drawn.setdefault("figure", figure) and path)
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
    assert skipped_marks(axis) == {"skipped: point prediction breaks latency_ms<=5, not trained (2)": [7.0, 9.0]}
    assert axis.get_xlabel() == "predicted latency (ms)"


def drawn_axis(monkeypatch, tmp_path, search_result):
    from hwprof.search import report

    drawn = {}
    monkeypatch.setattr(report, "save_figure", lambda figure, path: drawn.setdefault("figure", figure) and path)
    plot_pareto(search_result, tmp_path / "pareto.png")
    return drawn["figure"].axes[0]


def skipped_marks(axis):
    return {
        c.get_label(): sorted(c.get_offsets()[:, 0]) for c in axis.collections if c.get_label().startswith("skipped")
    }


def test_a_trial_skipped_with_a_confidence_level_is_drawn_at_the_interval_end_its_budget_was_held_against(
    tmp_path, monkeypatch
):
    """The terminal said trial 2 broke latency_ms>=0.5 at 0.4618 (its 90% interval's lower end), while its point
    prediction, 0.79 ms, lies between the budget lines: the tick goes where the terminal said, left of 0.5."""
    budgets = ("latency_ms>=0.5", "latency_ms<2")
    records = [
        record(0, "trained", 1.07, 0.6, checked={"latency_ms>=0.5": 0.63, "latency_ms<2": 1.84}),
        record(2, "skipped", 0.79, checked={"latency_ms>=0.5": 0.4618, "latency_ms<2": 1.355}),
        record(5, "skipped", 1.2, checked={"latency_ms>=0.5": 0.7, "latency_ms<2": 2.05}),
    ]
    axis = drawn_axis(monkeypatch, tmp_path, result(records, budgets, confidence=0.9))
    assert skipped_marks(axis) == {
        "skipped: lower end of 90% interval breaks latency_ms>=0.5, not trained (1)": [0.4618],
        "skipped: upper end of 90% interval breaks latency_ms<2, not trained (1)": [2.05],
    }
    assert axis.get_xlim()[0] < 0.4618 and axis.get_xlim()[1] > 2.05


def test_a_trial_skipped_for_a_budget_on_another_metric_is_marked_apart_at_its_predicted_cost(tmp_path, monkeypatch):
    """Skipped for its MACs, not its latency: no tick claiming it is over the latency budget."""
    budgets = ("latency_ms<=1.5", "flops<=2e+06")
    checked = {"latency_ms<=1.5": 0.7, "flops<=2e+06": 4.6e6}
    records = [
        record(0, "trained", 1.0, 0.5, checked={"latency_ms<=1.5": 1.0, "flops<=2e+06": 1e6}, flops=1e6),
        record(1, "skipped", 0.7, checked=checked, flops=4.6e6),
        record(2, "skipped", 1.7, checked={"latency_ms<=1.5": 1.7, "flops<=2e+06": 9e6}, flops=9e6),
    ]
    axis = drawn_axis(monkeypatch, tmp_path, result(records, budgets))
    assert skipped_marks(axis) == {
        "skipped: point prediction breaks latency_ms<=1.5, not trained (1)": [1.7],
        "skipped: breaks flops<=2e+06, not trained, at its predicted cost (1)": [0.7],
    }


def test_the_pareto_png_is_written(tmp_path):
    path = plot_pareto(result([record(0, "trained", 1.0, 0.5), record(1, "skipped", 6.0)]), tmp_path / "p.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_pareto_png_is_written_when_nothing_was_trained(tmp_path):
    path = plot_pareto(result([record(0, "skipped", 6.0), record(1, "skipped", 7.0)]), tmp_path / "p.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def drawn_figure(monkeypatch, tmp_path, search_result):
    from hwprof.search import report

    drawn = {}
    monkeypatch.setattr(report, "save_figure", lambda figure, path: drawn.setdefault("figure", figure) and path)
    plot_pareto(search_result, tmp_path / "pareto.png")
    figure = drawn["figure"]
    figure.canvas.draw()  # to measure its text
    return figure


def test_a_long_title_wraps_inside_the_figure_above_the_plot(tmp_path, monkeypatch):
    """'digits-cnn: 19 trained, 21 trainings skipped as predicted to break a budget' ran off both sides."""
    search_result = result([record(n, "trained", 1.0 + n, 0.5) for n in range(19)] + [record(30, "skipped", 9.0)])
    search_result.space_name = "examples/search_demo.py:digits-cnn-with-a-long-space-name"
    figure = drawn_figure(monkeypatch, tmp_path, search_result)
    renderer = figure.canvas.get_renderer()
    title = figure.get_suptitle()
    assert title.replace("\n", " ").startswith(search_result.space_name) and "\n" in title
    box, page = figure._suptitle.get_window_extent(renderer), figure.bbox
    assert page.x0 <= box.x0 and box.x1 <= page.x1 and box.y1 <= page.y1
    assert box.y0 >= figure.axes[0].get_tightbbox(renderer).y1  # above the axes, not on them


def test_an_interrupted_search_says_so_in_the_title_and_nothing_trained_shows_no_score_values(tmp_path, monkeypatch):
    records = [record(0, "skipped", 6.0), record(1, "interrupted", 1.0)]
    figure = drawn_figure(monkeypatch, tmp_path, result(records))
    assert "1 interrupted" in figure.get_suptitle()
    axis = figure.axes[0]
    assert list(axis.get_yticks()) == [] and "nothing trained" in axis.get_ylabel()
