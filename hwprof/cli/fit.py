"""`hwprof fit`, `hwprof predict` and `hwprof evaluate`."""

from __future__ import annotations

import math

import click

from hwprof.cli.common import echo_json, make_console, number, percent, refuse_model_empties, run_model_files_option
from hwprof.errors import HwprofError, given_percent
from hwprof.predictor import INTERVAL_CONFIDENCE
from hwprof.progress import Notes, Progress
from hwprof.schema import COMPUTE_DTYPES, METRIC_LABELS


@click.command()
@click.argument("datasets", nargs=-1, required=True)
@click.option("--out", "-o", default="predictor.json", show_default=True, help="Where to write the predictor (JSON).")
@click.option("--force", is_flag=True, help="Replace --out if it exists.")
@click.option(
    "--target",
    "targets",
    default=None,
    help="Comma-separated: latency, power, energy. Default: every one the datasets measured.",
)
@click.option(
    "--family",
    type=click.Choice(["polynomial", "trees", "auto"]),
    default="auto",
    show_default=True,
    help="Layer model family; auto picks per op type by cross-validated error among the "
    "polynomial, the trees and their blend.",
)
@click.option(
    "--device-name",
    default=None,
    help="Fit only the rows of this device when the datasets hold several (a predictor is per board).",
)
@click.option(
    "--base",
    default=None,
    metavar="PREDICTOR",
    help="Keep this predictor's layer models and learn only the network models from DATASETS' "
    "network rows (a few networks measured on a new board or search space).",
)
@click.option(
    "--prior",
    multiple=True,
    metavar="DATASET",
    help="Datasets of other boards (repeatable): DATASETS' few networks pick the board they resemble, "
    "whose predictor is adapted to them (as few as 5 networks).",
)
@click.option("--no-cv", is_flag=True, help="Skip leave-one-family-out validation (no calibrated intervals).")
@click.option(
    "--no-align-runs",
    is_flag=True,
    help="Combine repeated runs as measured, without first scaling each to one machine speed.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the cross-validated metrics as JSON (errors as fractions: 0.05 is 5%).",
)
@run_model_files_option
@click.option("--quiet", is_flag=True, help="No progress output.")
def fit(
    datasets,
    out,
    force,
    targets,
    family,
    device_name,
    base,
    prior,
    no_cv,
    no_align_runs,
    run_model_files,
    as_json,
    quiet,
):
    """Fit a cost model to DATASETS and write it to --out.

    DATASET is an hwprof dataset (layer and network rows) or any CSV/Parquet
    table of whole-network measurements with columns model, batch_size and
    latency_ms (optionally power_w, energy_mj, input_shape, and device_name to name
    the board, one per fit: --device-name picks it): features are then computed
    from each model spec, e.g. nb201:<arch>.
    """
    from hwprof.fitting.fit import fit as run_fit

    if targets is not None and not targets.replace(",", "").strip():  # not "every target", which leaving it out is
        raise HwprofError(
            "--target is empty: give latency, power or energy (comma-separated), or leave it out to fit every "
            "target the datasets measured"
        )
    say = Progress() if quiet or as_json else Notes(lambda message: click.echo(message, err=True))
    predictor = run_fit(
        list(datasets),
        out,
        targets,
        family,
        device_name,
        cv=not no_cv,
        progress=say,
        base=base,
        align_runs=not no_align_runs,
        force=force,
        prior=list(prior),
        run_model_files=run_model_files,
    )
    if quiet or as_json:  # progress (and the warnings in it) was silent: warnings still reach stderr
        for warning in predictor.doc["training"].get("warnings", []):
            click.echo(f"warning: {warning}", err=True)
    summary = fit_summary(predictor.doc, out)
    if as_json:
        echo_json(summary)
        return
    _print_fit_summary(summary)


def _model_summary(model: dict) -> dict:
    """The family as chosen (`polynomial without sweeps` where auto left the sweep out), rows and CV error."""
    family = model["cv"].get("family", model["kind"])
    return {"family": family, **{k: model["cv"].get(k) for k in ("rows", "rmspe", "mape")}}


def fit_summary(doc: dict, out: str) -> dict:
    layer_models = {}
    for target, entry in doc["layer_models"].items():
        layer_models[target] = {op: _model_summary(m) for op, m in entry["ops"].items()}
        for group, model in entry.get("groups", {}).items():
            layer_models[target][f"{group} group"] = _model_summary(model)
        if entry.get("fallback"):
            layer_models[target]["fallback"] = _model_summary(entry["fallback"])
    return {
        "out": out,
        "device_name": doc["device_name"],
        "mode": doc["mode"],
        "targets": doc["targets"],
        "training": doc["training"],
        "cv": doc.get("cv", {}),
        "layer_models": layer_models,
    }


def _print_fit_summary(summary: dict) -> None:
    from rich.table import Table

    from hwprof.fitting.data import networks_counted

    console = make_console()
    console.print(f"{origin_line(summary)} -> {summary['out']}")
    for target, models in summary["layer_models"].items():
        table = Table("op", "family", "configs", "CV RMSPE", "CV MAPE", title=f"layer models: {target}")
        for op, entry in models.items():
            table.add_row(op, entry["family"], str(entry["rows"]), percent(entry["rmspe"]), percent(entry["mape"]))
        console.print(table)
    cv = summary["cv"]
    if cv.get("metrics"):
        table = Table(
            "target",
            "networks",
            "MAPE",
            "RMSPE",
            "within 10%",
            "Spearman",
            "90% coverage",
            # "8 folds of whole families" says its count; "leave-one-family-out" does not
            title=f"networks, {cv['scheme']}"
            + ("" if cv["scheme"].startswith(str(cv["folds"])) else f" ({cv['folds']} folds)"),
        )
        for target, m in cv["metrics"].items():  # n 0: no fold trained on enough networks with the target
            table.add_row(
                target,
                networks_counted(m.get("networks", m["n"]), m["n"]),  # n counts rows: (model, batch size)
                percent(m.get("mape")),
                percent(m.get("rmspe")),
                percent(m.get("within_10pct")),
                correlation(m.get("spearman")),
                percent(m.get("coverage_90")),
            )
        console.print(table)
    elif cv.get("scheme") not in (None, "none"):  # adapted from a prior: its own check, no metrics table
        held = networks_counted(cv["networks"], cv.get("rows", cv["networks"])) if "networks" in cv else "? network(s)"
        console.print(f"cross-validation: {cv['scheme']} over {held}; intervals from it")
    else:
        reason = cv.get("reason", "skipped with --no-cv")
        kept = cv.get("intervals_from_base")
        intervals = (
            f"the intervals of {', '.join(kept)} are the base predictor's, calibrated on its own networks"
            if kept
            else "intervals are unavailable"
        )
        console.print(f"no cross-validation of the networks: {reason}; {intervals}")
    if summary["training"].get("rerun_agreement"):
        console.print(rerun_line(summary["training"]["rerun_agreement"]))


ROUND_OFF = 1e-9  # a correlation this close to ±1 is float round-off of a perfect ranking, not an imperfect one


def correlation(value) -> str:
    """A rank correlation to 3 decimals, with more where rounding would print 1 for a ranking that is not
    perfect: Spearman 0.9995 beside Kendall 0.987 is not a perfect ranking."""
    if value is None or not math.isfinite(value):
        return "-"
    if abs(abs(value) - 1) < ROUND_OFF:  # a perfect ranking whose float arithmetic landed a hair short of 1
        value = math.copysign(1.0, value)
    digits = 3
    while digits < 6 and abs(value) < 1 and abs(round(value, digits)) == 1:
        digits += 1
    if abs(value) < 1 and abs(round(value, digits)) == 1:  # within 5e-7 of 1: cut, not rounded up
        value = math.copysign(math.floor(abs(value) * 10**digits) / 10**digits, value)
    return f"{value:.{digits}f}"


def origin_line(summary: dict) -> str:
    """What the predictor was fitted from: the datasets' networks, and what it kept from a base or a prior."""
    from hwprof.fitting.data import networks_counted

    training, device = summary["training"], summary["device_name"]
    rows = training["rows"]
    # a predictor written before "models" was recorded counts its rows
    own = (
        f"{networks_counted(rows.get('models', rows['networks']), rows['networks'])} and "
        f"{rows['unique_layer_configs']} unique layer configurations"
    )
    prior = training.get("prior")
    if prior:
        best = prior["boards"][0] if prior.get("boards") else {}
        # a predictor written before "rows" was recorded counted its rows as networks
        networks = networks_counted(best["networks"], best.get("rows", best["networks"])) if best else "?"
        boards = len(prior.get("boards", []))
        if prior["how"] == "own rows":
            return (
                f"fitted {summary['mode']} predictor for {device} from {own} of its own "
                f"(none of the prior's {boards} board(s) resembled it)"
            )
        kept = "scaled" if prior["how"] == "scaled" else "with its network model refitted"
        return (
            f"fitted latency predictor for {device} from {networks} of its own and a prior of {boards} "
            f"board(s): {prior['chosen']}'s predictor ({own}), {kept}"
        )
    refit = training.get("network_refit", {})
    if refit.get("base"):
        new = networks_counted(refit.get("models", refit["networks"]), refit["networks"])
        if refit.get("base_network_models_kept"):
            learnt = f"nothing learnt from the {new} ({refit['nothing_learnt']}): the base's network models are kept"
        elif refit.get("nothing_learnt"):
            learnt = f"nothing learnt from the {new}: the network model is the layer sum as it is ({refit['nothing_learnt']})"
        else:
            learnt = f"network models learnt from {new}"
        kept = "layer models kept"
        if refit.get("layer_models_dropped"):
            dropped = ", ".join(refit["layer_models_dropped"])
            kept = f"layer latency models kept, its {dropped} layer models dropped (they hold the base's power)"
        return f"adapted {refit['base']} ({refit.get('base_device_name')}: {own}) to {device}: {kept}, {learnt}"
    return f"fitted {summary['mode']} predictor for {device} from {own}"


def rerun_line(reruns: dict) -> str:
    """How far reruns of the data's networks disagree (hwprof.fitting.data.rerun_agreement), in one line."""
    runs = "two" if reruns["most_runs"] == 2 else f"2 to {reruns['most_runs']}"
    from hwprof.fitting.data import MEDIAN_RUNS, WILD_RERUN_FACTOR

    power = reruns.get("power_w")
    power_text = (
        f"; their mean power disagrees by {percent(power['mape'])} ({power['networks']} network(s))"
        if power and power["mape"] is not None
        else ""
    )
    wild_text = ""
    if reruns.get("wild"):
        named = [
            f"{network['model']} batch {network['batch_size']} ("
            + ", ".join(f"{value:.4g} ms in run {run[:8]}" for run, value in network["runs"].items())
            + ")"
            for network in reruns["wild_named"]
        ]
        more = reruns["wild"] - len(named)
        wild_text = (
            f"; {reruns['wild']} network(s) left out of that differ by over {WILD_RERUN_FACTOR:g}x between runs, "
            f"more than any machine speed explains: {', '.join(named)}{f' and {more} more' if more else ''}: "
            f"measure them again while nothing else runs and fit with that run as well (from {MEDIAN_RUNS} runs of a "
            "network on, fit takes their median, which one wrong run cannot move)"
        )
    if reruns["mape"] is None:
        return f"reruns: no network measured in {runs} runs agrees within {WILD_RERUN_FACTOR:g}x{wild_text}"
    return (
        f"reruns: {reruns['networks']} network(s) measured in {runs} runs disagree by {percent(reruns['mape'])} "
        f"(one run taken as the prediction of another: MAPE, {percent(reruns['within_10pct'])} within 10%)"
        f"{power_text}; a network error near that is measurement noise{wild_text}"
    )


@click.command()
@click.argument("predictor_path", metavar="PREDICTOR")
@click.argument("models", nargs=-1, required=True)
@click.option("--batch-size", "batch_sizes", default="1", show_default=True, help="Comma-separated batch sizes.")
@click.option("--input-shape", default=None, help="Input shape without the batch, e.g. 3,224,224.")
@click.option("--input", "inputs", multiple=True, help="An input as NAME:DTYPE[SHAPE] without the batch (repeatable).")
@click.option("--seq-len", "seq_lens", default=None, help="Comma-separated sequence lengths, e.g. 128,512.")
@click.option(
    "--dtype",
    type=click.Choice(COMPUTE_DTYPES),
    default="float32",
    show_default=True,
    help="Float dtype the network runs in.",
)
@click.option("--channels-last", is_flag=True, help="The network runs channels-last (NHWC).")
@click.option("--hf-config", default=None, help="Overrides of hf: models' configs, e.g. num_hidden_layers=4.")
@click.option("--confidence", type=float, default=INTERVAL_CONFIDENCE, show_default=True, help="Interval confidence.")
@click.option(
    "--threads",
    type=int,
    default=None,
    help="The thread count to predict for; a predictor fitted at another count is refused. Default: the "
    "predictor's own.",
)
@click.option("--layers", "show_layers", is_flag=True, help="Also print the per-layer predictions.")
@click.option(
    "--strict",
    is_flag=True,
    help="Refuse op types with no layer model of their own instead of using their op group's model "
    "or the shared fallback.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (totals, intervals and layers).")
def predict(
    predictor_path,
    models,
    batch_sizes,
    input_shape,
    inputs,
    seq_lens,
    dtype,
    channels_last,
    hf_config,
    confidence,
    threads,
    show_layers,
    strict,
    as_json,
):
    """Predict latency (and power/energy where fitted) of MODELS with PREDICTOR.

    MODEL is anything `hwprof measure` takes (except a layer sweep), zoo models included."""
    from hwprof.models.inputs import parse_seq_lens
    from hwprof.models.sources import parse_overrides
    from hwprof.models.spec import check_hf_config_applies, parse_batch_sizes, parse_shape
    from hwprof.predictor.predictor import load_predictor

    refuse_model_empties(input_shape, hf_config, seq_lens)
    check_hf_config_applies(list(models), parse_overrides(hf_config))
    predictor = load_predictor(predictor_path)
    predictor.check_threads(threads)  # before any model is traced
    shape = parse_shape(input_shape) if input_shape else None
    overrides = parse_overrides(hf_config) or None
    how = {model: {"dtype": dtype, "channels_last": channels_last, "inputs": list(inputs) or None} for model in models}
    for model in models:  # as measure takes them: --hf-config for the hf: models of a list
        how[model]["hf_config"] = overrides if model.startswith("hf:") else None
    sizes, lengths = parse_batch_sizes(batch_sizes), parse_seq_lens(seq_lens) or [None]
    takes = _takes_seq_len(models, sizes[0], shape, lengths[0], how)
    predictions = [
        predictor.predict(
            model,
            size,
            shape,
            confidence,
            strict,
            threads=threads,
            seq_len=seq_len if takes[model] else None,
            **how[model],
        )
        for model in models
        for size in sizes
        for seq_len in (lengths if takes[model] else [None])
    ]
    if as_json:
        echo_json([p.to_dict() for p in predictions])
        return
    _print_predictions(predictions, show_layers, predictor.doc)


def _takes_seq_len(models, batch_size: int, shape, seq_len, how: dict) -> dict[str, bool]:
    """Which models of a list a --seq-len applies to, as measure applies it: the ones with a sequence dimension.
    Where none has one (or one model is given), every model is given it, for predict to refuse it."""
    from hwprof.predictor.records import network_layers

    if seq_len is None or len(models) == 1:
        return dict.fromkeys(models, True)
    takes = {model: network_layers(model, batch_size, shape, seq_len=seq_len, **how[model]).has_seq for model in models}
    return takes if any(takes.values()) else dict.fromkeys(models, True)


def prediction_notes(predictions) -> list[str]:
    """Each model's warnings once, naming the batch sizes a warning holds for where not all of them."""
    batches: dict[tuple[str, str], list[int]] = {}  # (model, warning) -> the batch sizes it holds for
    for p in predictions:
        for warning in p.warnings:
            batches.setdefault((p.model, warning), []).append(p.batch_size)
    notes = []
    for (model, warning), sizes in batches.items():
        asked = {p.batch_size for p in predictions if p.model == model}
        where = "" if set(sizes) == asked else f" (batch {', '.join(map(str, sizes))})"
        notes.append(f"note: {model}{where}: {warning}")
    return notes


def _prediction_row(prediction) -> tuple[str, int | None, str]:
    """(model, sequence length, dtype) of a prediction named model@seq_len=...,dtype=...: the two settings get
    columns, any other (channels-last, an input shape) stays in the model's name."""
    from hwprof.models.spec import split_variant, variant_name

    model, settings = split_variant(prediction.model)
    seq, dtype = settings.pop("seq_len", None), settings.pop("dtype", "float32")
    return variant_name(model, **settings), seq, dtype


def conditions_line(conditions: dict) -> str:
    """What predicted figures are for, from the predictor's training runs (Predictor.conditions): "for AMD EPYC
    at 1 thread, float32, contiguous layout, layers timed cold"; a setting no run recorded is named as such."""
    board = conditions.get("device_name") or "an unnamed board"
    devices = [device for device in conditions.get("device", []) if device != "cpu"]
    parts = []
    threads = conditions.get("threads", [])
    if threads:
        parts.append(f"{'/'.join(map(str, threads))} thread{'' if threads == [1] else 's'}")
    if conditions.get("dtypes"):
        parts.append("/".join(conditions["dtypes"]))
    if conditions.get("layouts"):
        parts.append(f"{'/'.join(layout.replace('_', '-') for layout in conditions['layouts'])} layout")
    if conditions.get("cache"):
        parts.append(f"layers timed {'/'.join(conditions['cache'])}")
    unrecorded = [
        name
        for name, key in (
            ("thread count", "threads"),
            ("dtype", "dtypes"),
            ("layout", "layouts"),
            ("cache mode", "cache"),
        )
        if not conditions.get(key)
    ]
    where = f"{board} ({', '.join(devices)})" if devices else board
    missing = " or ".join([", ".join(unrecorded[:-1]), *unrecorded[-1:]] if len(unrecorded) > 1 else unrecorded)
    if not parts:
        return f"for {where} (its training data recorded no {missing})"
    said = "as its training data was measured" + (f"; no {missing} recorded" if unrecorded else "")
    return f"for {where} at {', '.join(parts)} ({said})"


def _print_predictions(predictions, show_layers: bool, doc: dict) -> None:
    from rich.table import Table

    from hwprof.predictor.intervals import missing_interval

    console = make_console()
    first = predictions[0]
    console.print(conditions_line(first.conditions))
    targets = [t for t in METRIC_LABELS if t in first.total]
    bounded = any(p.has_interval(t) for p in predictions for t in targets)
    table = Table(title=f"predicted, with {given_percent(first.confidence)} intervals" if bounded else "predicted")
    rows = [_prediction_row(p) for p in predictions]
    with_seq = any(seq for _, seq, _ in rows)
    # a long model name wraps, never cut (common.uncut): what tells two rows apart (batch, seq, dtype) has columns
    # of its own
    for header in ("model", "batch", *(["seq"] if with_seq else []), "dtype"):
        table.add_column(header)
    for t in targets:
        table.add_column(METRIC_LABELS[t])
    unbounded = False
    for p, (model, seq, dtype) in zip(predictions, rows):
        cells = []
        for t in targets:
            if p.has_interval(t):
                low, high = p.interval[t]
                cells.append(f"{number(p.total[t])} [{number(low)}, {number(high)}]")
            else:  # a dtype or layout the predictor has no data in has a note of its own
                unbounded = unbounded or not p.novelty.get("untrained_setting")
                cells.append(f"{number(p.total[t])} (no interval)")
        table.add_row(model, str(p.batch_size), *([str(seq or "-")] if with_seq else []), dtype, *cells)
    console.print(table)
    if unbounded:
        why, fix = missing_interval(doc.get("cv"))
        console.print(
            f"no interval: the predictor has no held-out residuals to calibrate one, since {why}; {fix} to "
            "calibrate them"
        )
    for note in prediction_notes(predictions):
        console.print(note)
    for p in predictions:
        if show_layers:
            columns = [
                c
                for c in (
                    "index",
                    "name",
                    "op",
                    "model",
                    "latency_ms",
                    "latency_ms_low",
                    "latency_ms_high",
                    "power_w",
                    "energy_mj",
                )
                if c in p.layers.columns
            ]
            layer_table = Table(*columns, title=f"{p.model} batch {p.batch_size}: layers")
            for row in p.layers[columns].itertuples(index=False):
                layer_table.add_row(*[number(v) if isinstance(v, float) else str(v) for v in row])
            console.print(layer_table)


@click.command()
@click.argument("predictor_path", metavar="PREDICTOR")
@click.argument("datasets", nargs=-1, required=True)
@click.option(
    "--confidence", type=float, default=INTERVAL_CONFIDENCE, show_default=True, help="Interval confidence for coverage."
)
@click.option("--device-name", default=None, help="Score only the rows of this device.")
@click.option(
    "--plot", "plot_path", default=None, help="Write a plot of predicted against measured (.png, .pdf or .svg)."
)
@run_model_files_option
@click.option(
    "--json", "as_json", is_flag=True, help="Print the metrics as JSON (errors and shares as fractions: 0.05 is 5%)."
)
def evaluate(predictor_path, datasets, confidence, device_name, plot_path, run_model_files, as_json):
    """Score PREDICTOR on measured DATASETS, per op type and per network."""
    from hwprof.fitting.data import readable_text
    from hwprof.fitting.evaluate import check_plot_path, plot
    from hwprof.fitting.evaluate import evaluate as run_evaluate
    from hwprof.predictor.predictor import load_predictor

    if plot_path == "":  # not "no plot", which leaving it out is
        raise HwprofError("--plot is empty: give a file name such as plot.png, or leave it out")
    if plot_path:
        check_plot_path(plot_path, inputs=[predictor_path, *datasets])
    predictor = load_predictor(predictor_path)
    report, points = run_evaluate(predictor, list(datasets), confidence, device_name, run_model_files)
    if plot_path:
        plot(points, plot_path, title=readable_text(f"{predictor_path} on {', '.join(datasets)}"))
        report["plot"] = plot_path
    if as_json:
        echo_json(report)
        return
    _print_report(report)


def _print_report(report: dict) -> None:
    from rich.table import Table

    console = make_console()
    headers = ("n", "RMSPE", "MAPE", "within 5%", "within 10%", "Spearman", "Kendall", "coverage")

    def cells(m):
        return (
            str(m["n"]),
            percent(m.get("rmspe")),
            percent(m.get("mape")),
            percent(m.get("within_5pct")),
            percent(m.get("within_10pct")),
            correlation(m.get("spearman")),
            correlation(m.get("kendall")),
            percent(m.get("coverage")),
        )

    for title, key, label in (("networks", "network", "target"), ("layers (unique configurations)", "layers", "op")):
        if not report[key]:
            continue
        table = Table(label, *headers, title=f"{title}, {given_percent(report['confidence'])} intervals")
        for name, m in report[key].items():
            table.add_row(name, *cells(m))
        console.print(table)
    if report.get("rerun_agreement"):
        console.print(rerun_line(report["rerun_agreement"]))
    if report.get("note"):
        console.print(f"note: {report['note']}")
    if report.get("plot"):
        console.print(f"plot written to {report['plot']}")
