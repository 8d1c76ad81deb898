"""What a search leaves behind: a table on the terminal, search.json and pareto.png."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

from hwprof.errors import given_percent
from hwprof.plotting import axis_label, literal_text, new_figure, save_figure
from hwprof.schema import METRIC_LABELS
from hwprof.search.constraints import PREDICTED_METRICS, Constraint, counted_meaning
from hwprof.search.study import SearchResult, TrialRecord


def summary_lines(result: SearchResult, stopped: bool = False, verify: bool = False) -> list[str]:
    """The study in a few lines. `stopped`: an error ended it early (shown after these lines), so a missing best
    configuration is that error's doing, not the budgets'. `verify`: --verify measured the final candidates, so
    the advice to measure them is not given again."""
    trained = sum(r.trained for r in result.records)
    finished, wanted = len(result.finished), result.trials_wanted
    short = wanted is not None and finished < wanted
    count = f"{finished} of {counted(wanted, 'trial')}" if short else counted(finished, "trial")
    lines = [
        f"study {result.study_name}: {count} finished, {trained} trained, "
        f"{counted(result.skipped_trainings, 'training')} skipped as predicted infeasible"
        + (
            f", {result.repeated} repeated an earlier trial's configuration (its score taken, not trained again)"
            if result.repeated
            else ""
        )
        + (
            f", {counted(result.wasted_trainings, 'trained configuration')} "
            f"{plural(result.wasted_trainings, 'breaks', 'break')} a budget"
            if result.wasted_trainings
            else ""
        )
        + (
            f", {result.interrupted} interrupted (stopped by Ctrl-C or SIGTERM; an interrupted trial is never "
            "resumed, another runs in its place)"
            if result.interrupted
            else ""
        )
        + (
            f", {result.unfinished} unfinished (still running elsewhere, or left so by a worker that was killed)"
            if result.unfinished
            else ""
        )
        + (
            f", {result.failed} failed (the factory or objective failed; search.json has each error)"
            if result.failed
            else ""
        ),
    ]
    budgets = ", ".join(c.text for c in result.constraints) or "none"
    lines.append(f"budgets: {budgets} (held against {_held_sentence(result)})")
    counted_metrics = dict.fromkeys(c.metric for c in result.constraints if not c.is_predicted)
    lines += [counted_meaning(metric) for metric in counted_metrics]  # what a counted budget was held on
    outside = sum(_outside(r) for r in result.finished)  # an interrupted, failed or unfinished trial is no candidate
    if outside:
        # whether an interval was widened is not reported by the predictor: what holds for every one is said
        widened = (
            "; the budgets were held against their intervals, each at least as wide as the largest error the "
            "predictor's held-out networks showed (widened to it only where narrower)"
            if result.confidence
            else ""
        )
        if not result.feasible_trained():  # --verify measures trained candidates predicted to hold: none here
            advice = ""
        elif verify:
            advice = "; the measurements of the best of them are below"
        else:
            from hwprof.fitting.network import MIN_ROWS_FOR_RATIO_CV

            advice = (
                "; measure the best of them (--verify keeps the measurements in the --out folder's verified.parquet)"
                f" and refit with them once {MIN_ROWS_FOR_RATIO_CV} or more are measured (fit --base learns nothing "
                "from fewer)"
            )
        lines.append(
            f"{outside} of {len(result.finished)} candidates lay outside the predictor's training data, where its "
            f"predictions were never validated{widened}{advice}"
        )
    best = result.best
    if best is None and stopped:
        lines.append(f"the search stopped after {counted(len(result.finished), 'finished trial')}, for the error below")
    elif best is None:
        lines.append(_no_feasible_sentence(result))
    else:
        lines.append(
            f"best feasible: trial {best.number}, score {best.score:.4g}, {_params_text(best.params)}; "
            + ", ".join(f"{_label(m)} {best.metrics[m]:.4g}" for m in _shown_metrics(result))
            + (" (outside the predictor's training data: its costs were never validated)" if _outside(best) else "")
        )
    return lines


def _held_sentence(result: SearchResult) -> str:
    """What the budgets were held against, as the study held them: a lower limit against the interval's lower
    end, a counted metric against its count."""
    predicted = [c for c in result.constraints if c.is_predicted]
    if not predicted:
        return "the counted values"
    held = "the point prediction"
    if result.confidence:
        ends = {c.is_upper_limit for c in predicted}
        interval = f"the {given_percent(result.confidence)} interval"
        if len(ends) == 2:
            held = f"{interval}'s upper end for an upper limit and its lower end for a lower one"
        else:
            held = f"the {'upper' if ends == {True} else 'lower'} end of {interval}"
    return held if len(predicted) == len(result.constraints) else f"{held}, counted metrics against their count"


def plural(count: int, singular: str, many: str | None = None) -> str:
    """`singular` for one, `many` (the singular with an s, unless given) for any other count."""
    return singular if count == 1 else many or f"{singular}s"


def counted(count: int, singular: str, many: str | None = None) -> str:
    """'1 trial', '3 trials', '0 trainings'."""
    return f"{count} {plural(count, singular, many)}"


def stopped_short(result: SearchResult) -> str | None:
    """Why the search stopped before its trials finished, where its failed trials stopped it; None otherwise."""
    if result.stopped_after_failures is None:
        return None
    last = max((r for r in result.records if r.state == "failed"), key=lambda r: r.number)
    return (
        f"the search stopped after {result.stopped_after_failures} trials in a row failed, with "
        f"{len(result.finished)} of the {counted(result.trials_wanted, 'trial')} asked for finished; the last (trial "
        f"{last.number}, {_params_text(last.params)}) failed because {last.failure}: fix the {last.failed_in} and "
        "run again"
    )


def every_training_failed(result: SearchResult) -> bool:
    """No trial produced a score: every one not skipped failed, in its factory or its objective."""
    return bool(result.failed) and not any(r.trained for r in result.records)


def every_trial_skipped(result: SearchResult) -> bool:
    """No trial produced a score: every one was predicted to break a budget, so none was trained."""
    return bool(result.skipped_trainings) and not result.failed and not any(r.trained for r in result.records)


def held_text(constraint: Constraint, value: float) -> str:
    """The value a budget was held against, to 4 significant digits, or to as many more as tell which side of the
    budget it lies on: params<=2176009 got 2176010, not 2.176e+06."""
    digits = 4
    while digits < 17 and constraint.holds(float(f"{value:.{digits}g}")) != constraint.holds(value):
        digits += 1
    if digits > 4 and float(value).is_integer():  # a count: all its digits, not an exponent
        return str(int(value))
    return f"{value:.{digits}g}"


def held_texts(constraints: list[Constraint], checked: dict, joint: str) -> str:
    """'latency_ms<=5 -> 4.2, params<=2176009 -> 2176010' for the budgets given, with `joint` between each
    budget and its value."""
    return ", ".join(f"{c.text}{joint}{held_text(c, checked[c.text])}" for c in constraints if c.text in checked)


def _no_feasible_sentence(result: SearchResult) -> str:
    if every_training_failed(result):
        first = next(r for r in result.records if r.state == "failed")
        return (
            f"every trial not skipped failed, the first (trial {first.number}, {_params_text(first.params)}) because "
            f"{first.failure}: fix the {first.failed_in} and run again"
        )
    if result.skipped_trainings and not any(r.trained for r in result.records):
        closest = min(
            (r for r in result.records if r.state == "skipped"),
            key=lambda r: max(c.violation(r.checked[c.text]) for c in result.constraints),
        )
        nearest = held_texts(result.constraints, closest.checked, " got ")
        ends = {c.is_upper_limit for c in broken_budgets(result.constraints, closest)}  # True: an upper limit
        models = "smaller" if ends == {True} else "larger" if ends == {False} else "other"
        return (
            f"no configuration in {counted(len(result.finished), 'trial')} was predicted to meet the budgets, so nothing "
            f"was trained; the closest was trial {closest.number} ({nearest}): loosen a budget or search "
            f"{models} models"
        )
    return "no trained configuration meets the budgets: loosen a budget or run more trials"


def render_table(result: SearchResult, verified: dict[int, dict] | None = None):
    """The Pareto front as a rich Table (best feasible first marked with *)."""
    from rich.table import Table

    metrics = _shown_metrics(result)
    table = Table(title=_front_title(result, metrics))
    measured_metrics = [m for m in metrics if m in PREDICTED_METRICS] if verified else []
    for heading in [
        "trial",
        "score",
        *[f"pred. {_label(m)}" if m in PREDICTED_METRICS else _label(m) for m in metrics],  # or counted
        *[f"meas. {_label(m)}" for m in measured_metrics],
    ]:
        table.add_column(heading, justify="right")
    judged = bool(verified) and any(c.is_predicted for c in result.constraints)  # counted budgets are not measured
    if judged:
        table.add_column("budgets hold", justify="center")
    front = result.pareto_front()
    marked = any(_outside(record) for record in front)  # where its predictions were never validated
    if marked:
        table.add_column("outside training data", justify="center")
    table.add_column("configuration")
    best = result.best
    for record in front:
        marker = "*" if best is not None and record.number == best.number else ""
        row = [f"{record.number}{marker}", f"{record.score:.4g}", *[_value(record, m) for m in metrics]]
        if verified:
            check = verified.get(record.number)
            row += [_measured_value(check, metric) for metric in measured_metrics]
        if judged:
            row.append(_holds_text(check))
        if marked:
            row.append("yes" if _outside(record) else "")
        row.append(_params_text(record.params))
        table.add_row(*row)
    return table


def _front_title(result: SearchResult, metrics: list[str]) -> str:
    """The table's title, naming the cost axes the front is drawn over: a budgeted counted metric is a column,
    not an axis, so a trial that is only cheaper on it is not on the front."""
    axes = " and ".join(_label(m) for m in result.pareto_metrics)
    title = f"Pareto front: score against predicted {axes}" if axes else "Pareto front: score alone"
    columns = [_label(m) for m in metrics if m not in result.pareto_metrics]
    aside = f"; {' and '.join(columns)} shown, not front axes" if columns else ""
    return f"{title} (feasible, trained{aside})"


def _outside(record: TrialRecord) -> bool:
    """Whether the candidate lay outside the predictor's training data."""
    return bool(record.metrics.get("outside_training_data"))


def staircase(points: list[tuple[float, float]], maximize: bool) -> list[tuple[float, float]]:
    """The 2-D Pareto front of (cost, score) points, cheapest first: each point scores better than every
    cheaper one. Drawn as steps, it is the best score reachable within each cost."""
    front: list[tuple[float, float]] = []
    for cost, score in sorted(points, key=lambda p: (p[0], -p[1] if maximize else p[1])):
        if not front or (score > front[-1][1] if maximize else score < front[-1][1]):
            front.append((cost, score))
    return front


TITLE_POINTS = 10
TITLE_CHARACTERS_PER_INCH = 11  # of a 10-point title, with room to spare: wider lines would be cut at the edges


@literal_text()
def plot_pareto(result: SearchResult, path: Path) -> Path:
    """Score against each predicted cost axis: trained trials as points, the front as a staircase,
    budgets as lines, and the skipped trials (predicted to break a budget, never trained) along the bottom.
    A trial skipped for a budget on the axis's metric is a tick at the value that budget was held against
    (with a confidence level, the interval's end, not the point prediction), so it lies past the budget's
    line as the terminal said; one skipped for a budget on another metric is marked apart, at its predicted
    cost. Drawn even when nothing was trained, so the plot beside a search.json is always that search's."""
    axes_metrics = result.pareto_metrics or ["params"]
    width_in = 5.8 * len(axes_metrics)
    # constrained layout leaves room for the title's lines, which tight_layout does not
    figure = new_figure(figsize=(width_in, 4.4), layout="constrained")
    axes = figure.subplots(1, len(axes_metrics), squeeze=False)
    trained = [r for r in result.records if r.trained]
    skipped = [r for r in result.records if r.state == "skipped"]
    maximize = result.direction == "maximize"
    for axis, metric in zip(axes[0], axes_metrics):
        feasible = [r for r in trained if r.feasible and r.metrics.get(metric) is not None]
        infeasible = [r for r in trained if not r.feasible and r.metrics.get(metric) is not None]
        axis.scatter(
            [r.metrics[metric] for r in feasible],
            [r.score for r in feasible],
            s=18,
            color="tab:blue",
            alpha=0.6,
            label=f"trained, feasible ({len(feasible)})",
            zorder=3,
        )
        if infeasible:
            axis.scatter(
                [r.metrics[metric] for r in infeasible],
                [r.score for r in infeasible],
                s=22,
                color="tab:red",
                marker="x",
                label=f"trained, breaks a budget ({len(infeasible)})",
                zorder=3,
            )
        ticks, elsewhere = _skipped_on_axis(result, skipped, metric)
        costs = [value for values in ticks.values() for value in values if math.isfinite(value)]
        costs += [r.metrics[metric] for r in elsewhere]
        shown = [r.metrics[metric] for r in feasible + infeasible] + costs
        shown += [c.budget for c in result.constraints if c.metric == metric]
        if shown:  # autoscaling leaves out the skipped ticks, drawn in axis coordinates
            margin = 0.05 * (max(shown) - min(shown) or 1.0)
            axis.set_xlim(min(shown) - margin, max(shown) + margin)
        front = staircase([(r.metrics[metric], r.score) for r in feasible], maximize)
        if front:  # the best score within each cost, held to the right edge
            axis.step(
                [c for c, _ in front] + [axis.get_xlim()[1]],
                [s for _, s in front] + [front[-1][1]],
                where="post",
                color="black",
                linewidth=1.3,
                label="Pareto front",
                zorder=4,
            )
            axis.scatter(
                [c for c, _ in front], [s for _, s in front], s=40, facecolors="none", edgecolors="black", zorder=5
            )
        # no score to place them by: along the bottom of the plot, in axis coordinates
        for constraint, values in ticks.items():
            drawn = [value for value in values if math.isfinite(value)]
            unbounded = f"; {len(values) - len(drawn)} unbounded, not drawn" if len(drawn) < len(values) else ""
            axis.scatter(
                drawn,
                [0.02] * len(drawn),
                transform=axis.get_xaxis_transform(),
                marker="|",
                s=160,
                color="tab:gray",
                label=f"skipped: {_held_words(result, constraint)} breaks {constraint.text}, not trained "
                f"({len(values)}{unbounded})",
                zorder=2,
            )
        if elsewhere:
            broken = dict.fromkeys(c.text for r in elsewhere for c in broken_budgets(result.constraints, r))
            axis.scatter(
                [r.metrics[metric] for r in elsewhere],
                [0.06] * len(elsewhere),
                transform=axis.get_xaxis_transform(),
                marker="v",
                s=24,
                facecolors="none",
                edgecolors="tab:gray",
                label=f"skipped: breaks {' or '.join(broken)}, not trained, at its predicted cost ({len(elsewhere)})",
                zorder=2,
            )
        for constraint in result.constraints:
            if constraint.metric == metric:
                axis.axvline(constraint.budget, color="tab:red", linestyle="--", label=f"budget {constraint.text}")
        axis.set_xlabel(axis_label(metric, "predicted"))
        if trained:
            axis.set_ylabel(f"score ({'higher' if maximize else 'lower'} is better)")
        else:  # no score was measured: an axis of made-up score values would read as one
            axis.text(0.5, 0.5, "nothing trained: no score to plot", transform=axis.transAxes, ha="center")
            axis.set_yticks([])
            axis.set_ylabel("score (none: nothing trained)")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=7, loc="best")
    title = (
        f"{result.space_name}: {len(trained)} trained, {counted(result.skipped_trainings, 'training')} skipped as "
        "predicted to break a budget"
    )
    if result.interrupted:
        title += f", {result.interrupted} interrupted (stopped by Ctrl-C or SIGTERM)"
    # a search space's name can be long: the title wraps to the figure's width rather than run off both sides
    figure.suptitle(textwrap.fill(title, int(width_in * TITLE_CHARACTERS_PER_INCH)), fontsize=TITLE_POINTS)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_figure(figure, path)
    return path


def broken_budgets(constraints: list[Constraint], record: TrialRecord) -> list[Constraint]:
    """The budgets a trial was predicted to break, judged on the values they were held against."""
    return [c for c in constraints if not c.holds(record.checked[c.text])]


def _skipped_on_axis(
    result: SearchResult, skipped: list[TrialRecord], metric: str
) -> tuple[dict[Constraint, list[float]], list[TrialRecord]]:
    """Where the skipped trials go on `metric`'s axis: per budget on that metric, the values of the trials that
    broke it as it was held; and the trials that broke only budgets on other metrics, to be marked apart."""
    ticks: dict[Constraint, list[float]] = {}
    elsewhere = []
    for record in skipped:
        here = [c for c in broken_budgets(result.constraints, record) if c.metric == metric]
        for constraint in here:
            ticks.setdefault(constraint, []).append(record.checked[constraint.text])
        if not here and record.metrics.get(metric) is not None:
            elsewhere.append(record)
    return ticks, elsewhere


def _held_words(result: SearchResult, constraint: Constraint) -> str:
    """What a budget was held against: 'upper end of 90% interval', 'point prediction' or 'count'."""
    if not constraint.is_predicted:
        return "count"
    if result.confidence:
        return f"{'upper' if constraint.is_upper_limit else 'lower'} end of {given_percent(result.confidence)} interval"
    return "point prediction"


def verification_lines(result: SearchResult, verified: dict[int, dict], unmeasured_because: str) -> list[str]:
    """One line per verified candidate whose measured budgets do not all hold: each broken budget with its
    measured and predicted value, each budget that could not be measured with `unmeasured_because`. Counted
    budgets are left to counted_budgets_line: nothing about them was measured."""
    lines = []
    for number, check in verified.items():
        if check["holds"] is True:
            continue
        broken, unmeasured = [], []
        for constraint in (c for c in result.constraints if c.is_predicted):
            predicted = check["predicted"].get(constraint.metric)
            measured = check["measured"][constraint.metric]
            if measured is None:
                unmeasured.append(constraint.text)
            elif not constraint.holds(measured):
                broken.append(
                    f"{constraint.text} (measured {_quantity(constraint.metric, measured)}, "
                    f"predicted {_quantity(constraint.metric, predicted)})"
                )
        parts = [f"{', '.join(broken)} does NOT hold when measured"] if broken else []
        if unmeasured:
            parts.append(f"{', '.join(unmeasured)} could not be measured ({unmeasured_because})")
        if parts:
            lines.append(f"trial {number}: {'; '.join(parts)}")
    return lines


def measured_budgets_line(result: SearchResult, verified: dict[int, dict]) -> str | None:
    """How many verified candidates met every measured budget; None where no budget is on a measured metric."""
    if not verified or not any(c.is_predicted for c in result.constraints):
        return None
    holding = sum(check["holds"] is True for check in verified.values())
    return f"verified: budgets hold when measured for {holding} of {counted(len(verified), 'candidate')}"


def counted_budgets_line(result: SearchResult, verified: dict[int, dict]) -> str | None:
    """What --verify did not measure: the budgets on counted metrics, which the candidates met as counted only.
    None where there are none, or nothing was verified."""
    texts = [c.text for c in result.constraints if not c.is_predicted]
    if not verified or not texts:
        return None
    return (
        f"not verified: {', '.join(texts)} {plural(len(texts), 'is', 'are')} counted from the model, not measured "
        "(--verify measures latency, power and energy); the verified candidates met "
        f"{plural(len(texts), 'it', 'them')} as counted"
    )


def _quantity(metric: str, value: float | None) -> str:
    """0.105 ms, not {'latency_ms': 0.105}: the value with the unit its label ends in."""
    if value is None:
        return "unavailable"
    unit = _label(metric).rpartition(" ")[2]  # "latency ms" -> ms; "params" -> params
    return f"{value:.4g} {unit}"


def _shown_metrics(result: SearchResult) -> list[str]:
    shown = list(result.pareto_metrics)
    for constraint in result.constraints:
        if constraint.metric not in shown:
            shown.append(constraint.metric)
    return shown


def _value(record: TrialRecord, metric: str) -> str:
    value = record.metrics.get(metric)
    return "-" if value is None else f"{value:.4g}"


def _measured_value(check: dict | None, metric: str) -> str:
    if check is None:
        return ""
    value = check["measured"].get(metric)
    return "unavailable" if value is None else f"{value:.4g}"


def _holds_text(check: dict | None) -> str:
    if check is None:
        return ""
    return {True: "yes", False: "NO", None: "unknown"}[check["holds"]]


def _label(metric: str) -> str:
    return METRIC_LABELS.get(metric, metric)


def _params_text(params: dict) -> str:
    return " ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items())
