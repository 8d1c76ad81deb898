"""`hwprof report`: one self-contained HTML file, every view drawn from the data it was given."""

import base64
import os
import re

import numpy as np
import pytest
from click.testing import CliRunner

from fakes.synthetic import fitted_predictor_path, synthetic_frame, write
from fakes.traces import windowed_trace_rows
from hwprof.cli import main
from hwprof.report.figures import roofline, time_by_op
from hwprof.report.page import build_report
from hwprof.traces import write_trace


@pytest.fixture
def datasets(tmp_path):
    powered = write(synthetic_frame(n_networks=5, batch_sizes=(1, 4, 16), with_power=True), tmp_path / "cpu.parquet")
    write_trace(windowed_trace_rows(), tmp_path / "cpu.trace.parquet")
    plain = write(synthetic_frame(n_networks=3, seed=3), tmp_path / "other.csv")
    return powered, plain


def images(text):
    return re.findall(r'<img alt="([^"]*)" src="data:image/png;base64,([^"]+)">', text)


def test_the_report_is_one_file_with_every_view_and_nothing_outside_it(datasets, tmp_path):
    out = tmp_path / "report.html"
    summary = build_report(datasets, out)
    text = out.read_text()
    for anchor in ("overview", "breakdown", "roofline", "batch", "power"):
        assert f'<section id="{anchor}">' in text
    found = images(text)
    assert len(found) == summary["images"] == 5  # breakdown, roofline, latency, energy, one trace
    for _, data in found:
        assert base64.b64decode(data)[:8] == b"\x89PNG\r\n\x1a\n"
    assert not re.search(r'(src|href)="(?!data:|#)', text) and "<script" not in text and "http" not in text
    assert "other.csv: no power trace" in text
    assert summary["traces"] == [str(tmp_path / "cpu.trace.parquet")]
    assert oct(out.stat().st_mode & 0o777) == oct(0o666 & ~current_umask())


def current_umask():
    umask = os.umask(0)
    os.umask(umask)
    return umask


def test_the_roof_is_the_fastest_rates_the_layers_reached(datasets):
    import pandas as pd

    frame = pd.read_parquet(datasets[0]).assign(source="cpu.parquet")
    layers = frame[(frame["kind"] == "layer") & (frame["flops"] > 0)]
    seconds = layers["latency_ms"] / 1e3
    moved = layers["input_bytes"] + layers["output_bytes"] + layers["weight_bytes"]
    _, _, peaks = roofline(frame)
    assert peaks["Synthetic CPU"]["gmac_s"] == pytest.approx((layers["flops"] / seconds).max() / 1e9)
    assert peaks["Synthetic CPU"]["gb_s"] == pytest.approx((moved / seconds).max() / 1e9)


def test_each_networks_bar_adds_up_to_the_sum_of_its_layers(datasets):
    import pandas as pd

    frame = pd.read_parquet(datasets[0]).assign(source="cpu.parquet")
    figure, _ = time_by_op(frame)
    bars = [patch for patch in figure.axes[0].patches]
    widths = {}
    for patch in bars:
        y = round(patch.get_y() + patch.get_height() / 2)
        widths[y] = widths.get(y, 0.0) + patch.get_width()
    layer_sums = frame[frame["kind"] == "layer"].groupby(["model", "batch_size"])["latency_ms"].sum().to_numpy()
    assert np.allclose([widths[k] for k in sorted(widths)], layer_sums)


def test_the_op_legend_stands_beside_the_bars_and_long_names_wrap(datasets):
    import pandas as pd

    frame = pd.read_parquet(datasets[0]).assign(source="cpu.parquet")
    cell = "nb201:|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
    first = frame["model"] == frame["model"].iloc[0]
    frame.loc[first, "model"] = cell  # a name longer than a label line
    figure, _ = time_by_op(frame)
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    [legend] = figure.legends
    bars = figure.axes[0].get_window_extent(renderer)
    assert legend.get_window_extent(renderer).x0 >= bars.x1  # wholly right of the bars: it hides none
    labels = [tick.get_text() for tick in figure.axes[0].get_yticklabels()]
    wrapped = [label for label in labels if label.replace("\n", "").startswith(cell)]
    assert wrapped and all(len(line) <= 48 for label in wrapped for line in label.splitlines())
    assert all(label.count("\n") >= 2 for label in wrapped)


def test_the_overview_counts_unstable_and_contended_rows(tmp_path):
    frame = synthetic_frame(n_networks=2)
    frame["other_cpu_share"] = 0.0
    frame.loc[:2, "stable"] = False
    frame.loc[:4, "other_cpu_share"] = 0.4
    build_report([write(frame, tmp_path / "busy.parquet")], tmp_path / "r.html")
    row = re.search(r"<td>busy.parquet</td>(.*?)</tr>", (tmp_path / "r.html").read_text()).group(1)
    cells = re.findall(r"<td>([^<]*)</td>", row)
    assert cells[4:6] == ["3", "5"]  # after rows, layer rows, network rows, commands


def test_without_energy_the_report_says_so_and_draws_none(tmp_path):
    plain = write(synthetic_frame(n_networks=2), tmp_path / "plain.parquet")
    build_report([plain], tmp_path / "r.html")
    text = (tmp_path / "r.html").read_text()
    assert "no energy measured" in text and "no power trace" in text
    assert len(images(text)) == 3


@pytest.mark.slow
def test_with_a_predictor_the_report_scores_it(tmp_path):
    predictor, dataset = fitted_predictor_path(tmp_path, n_networks=10, layer_noise=0.03, network_noise=0.03)
    result = CliRunner().invoke(
        main, ["report", dataset, "--predictor", predictor, "--out", str(tmp_path / "r.html"), "--json"]
    )
    assert result.exit_code == 0, result.output
    text = (tmp_path / "r.html").read_text()
    assert '<section id="predictor">' in text and "network latency_ms" in text and "MAPE" in text
    row = re.search(r"<td>network latency_ms</td>(.*?)</tr>", text).group(1)
    n, mape, rmspe, within, _, coverage = re.findall(r"<td>([^<]*)</td>", row)
    assert all(re.fullmatch(r"\d+\.\d%", cell) for cell in (mape, rmspe, within, coverage)), row  # as evaluate


def test_the_predictor_table_gives_errors_in_percent_as_evaluate_does():
    from hwprof.report.page import _metric_cells

    metrics = {"n": 12, "mape": 0.655, "rmspe": 0.8, "within_10pct": 0.25, "spearman": 0.9, "coverage": None}
    assert _metric_cells(metrics) == [12, "65.5%", "80.0%", "25.0%", 0.9, None]


def two_boards():
    """One dataset of the same networks measured on two boards, board b twice as slow."""
    import pandas as pd

    fast = synthetic_frame(n_networks=2, device="board-a")
    slow = synthetic_frame(n_networks=2, device="board-b")
    slow["latency_ms"] *= 2
    return pd.concat([fast, slow], ignore_index=True).assign(source="fleet.parquet")


def test_a_fleet_gets_one_bar_per_network_and_board_not_their_median():
    frame = two_boards()
    figure, _ = time_by_op(frame)
    axis = figure.axes[0]
    labels = [tick.get_text() for tick in axis.get_yticklabels()]
    networks = frame[frame["kind"] == "network"].groupby(["model", "batch_size"]).ngroups
    assert len(labels) == 2 * networks
    assert sum(label.endswith("on board-a") for label in labels) == networks == sum("on board-b" in x for x in labels)
    widths = {}
    for patch in axis.patches:
        y = round(patch.get_y() + patch.get_height() / 2)
        widths[labels[y]] = widths.get(labels[y], 0.0) + patch.get_width()
    layers = frame[frame["kind"] == "layer"].groupby(["model", "batch_size", "device_name"])["latency_ms"].sum()
    for (model, batch, device), total in layers.items():
        assert widths[f"{model} b={batch} on {device}"] == pytest.approx(total)


def test_a_fleet_gets_one_line_per_network_and_board_against_batch_size():
    from hwprof.report.figures import against_batch_size

    frame = two_boards()
    figure, _ = against_batch_size(frame, "latency_ms", "latency per inference (ms)")
    lines = {line.get_label(): line.get_ydata() for line in figure.axes[0].get_lines()}
    models = sorted(frame["model"].unique())
    assert sorted(lines) == sorted(f"{model} on {board}" for model in models for board in ("board-a", "board-b"))
    for model in models:
        assert np.allclose(lines[f"{model} on board-b"], 2 * lines[f"{model} on board-a"])
    one_board, _ = against_batch_size(frame[frame["device_name"] == "board-a"], "latency_ms", "latency (ms)")
    assert sorted(line.get_label() for line in one_board.axes[0].get_lines()) == models  # no device where one


@pytest.mark.parametrize(
    "args, message",
    [
        (["{d}", "--out", "{t}/r.txt"], "must end in .html"),
        (["{t}/absent.parquet", "--out", "{t}/r.html"], "does not exist"),
        (["{d}", "--out", "{t}/missing/r.html"], "does not exist"),
    ],
)
def test_bad_input_is_one_sentence(datasets, tmp_path, args, message):
    result = CliRunner().invoke(main, ["report", *[a.format(d=datasets[0], t=tmp_path) for a in args]])
    assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output


def test_a_confidence_outside_0_to_1_names_the_option(tmp_path):
    predictor, dataset = fitted_predictor_path(tmp_path, n_networks=10)
    result = CliRunner().invoke(
        main, ["report", dataset, "--predictor", predictor, "--confidence", "2", "--out", str(tmp_path / "r.html")]
    )
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "--confidence must be between 0 and 1 (e.g. 0.9), not 2.0" in result.output


def test_a_dataset_given_twice_or_copied_is_refused_in_one_sentence_as_merge_refuses_it(tmp_path):
    """Its rows would count twice in every table, in the header and in the roofline."""
    frame = synthetic_frame(n_networks=2)
    frame["run_id"] = "run1"
    original = write(frame, tmp_path / "a.parquet")
    copy = write(frame, tmp_path / "copy.parquet")
    twice = CliRunner().invoke(main, ["report", original, original, "--out", str(tmp_path / "r.html")])
    assert twice.exit_code == 1 and "a.parquet is given twice; pass each dataset once." in twice.output
    copied = CliRunner().invoke(main, ["report", original, copy, "--out", str(tmp_path / "r.html")])
    assert copied.exit_code == 1 and "Run run1 is in both" in copied.output
    assert "Traceback" not in twice.output + copied.output and not (tmp_path / "r.html").exists()


def test_a_predictor_given_only_command_rows_is_refused_saying_there_is_nothing_to_score(tmp_path):
    predictor, _ = fitted_predictor_path(tmp_path, n_networks=10)
    runs = tmp_path / "runs.parquet"
    assert CliRunner().invoke(main, ["run", "--power", "none", "--out", str(runs), "--", "true"]).exit_code == 0
    result = CliRunner().invoke(
        main, ["report", str(runs), "--predictor", predictor, "--out", str(tmp_path / "r.html")]
    )
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "no measured network or layer rows to score the predictor on" in result.output
    assert "only commands measured by hwprof run" in result.output and not (tmp_path / "r.html").exists()


def test_the_roofline_note_names_the_layer_rows_it_leaves_out(tmp_path):
    frame = synthetic_frame(n_networks=2).assign(source="s.parquet")
    left_out = frame.index[frame["kind"] == "layer"][:3]
    frame.loc[left_out, "flops"] = 0
    frame.loc[left_out, "op"] = ["dropout", "dropout", "flatten"]
    _, note, _ = roofline(frame)
    assert note == "3 layer rows without multiply-accumulates have no place on it: dropout (2), flatten (1)."


def test_the_commands_table_says_once_why_their_energy_is_unavailable(tmp_path):
    runs = tmp_path / "runs.parquet"
    for _ in range(2):
        assert CliRunner().invoke(main, ["run", "--power", "none", "--out", str(runs), "--", "true"]).exit_code == 0
    build_report([runs], tmp_path / "r.html")
    text = (tmp_path / "r.html").read_text()
    assert text.count("energy unavailable for 2 command(s): power measurement was turned off") == 1


def test_datasets_of_the_same_name_in_two_folders_are_counted_apart(tmp_path):
    frame = synthetic_frame(n_networks=2)
    (tmp_path / "run1").mkdir()
    (tmp_path / "run2").mkdir()
    paths = [write(frame, tmp_path / folder / "cpu.parquet") for folder in ("run1", "run2")]
    build_report(paths, tmp_path / "r.html")
    text = (tmp_path / "r.html").read_text()
    for path in paths:
        assert f"<td>{path}</td><td>{len(frame)}</td>" in text


def test_an_op_has_one_colour_in_every_view_of_the_report():
    """time by op gave colours in order of time taken and the roofline in order of name: relu was one colour in
    one chart and another in the other."""
    from matplotlib.colors import to_hex

    frame = synthetic_frame(n_networks=4).assign(source="cpu.parquet")
    layers = frame["kind"] == "layer"
    frame.loc[layers & (frame["op"] == "relu"), "latency_ms"] *= 1000  # relu takes most time, first of the bars
    ops = sorted(frame.loc[layers, "op"].unique())
    bars, _ = time_by_op(frame)
    in_bars = {c.get_label(): to_hex(c[0].get_facecolor()) for c in bars.axes[0].containers if c.get_label() in ops}
    roof, _, _ = roofline(frame)
    in_roof = {c.get_label(): to_hex(c.get_facecolor()[0]) for c in roof.axes[0].collections if c.get_label()}
    assert set(in_bars) >= set(ops) and set(in_roof) >= set(ops)
    assert {op: in_bars[op] for op in ops} == {op: in_roof[op] for op in ops}
    from hwprof.fitting.evaluate import figure as evaluate_figure
    from hwprof.report.figures import op_styles

    points = frame[layers].assign(
        level="layer", target="latency_ms", measured=frame["latency_ms"], predicted=frame["latency_ms"]
    )
    scored = evaluate_figure(points, op_styles=op_styles(frame))
    in_scored = {c.get_label(): to_hex(c.get_facecolor()[0]) for c in scored.axes[0].collections if c.get_label()}
    assert {op: in_scored[op] for op in ops} == {op: in_roof[op] for op in ops}


def test_past_the_legend_the_table_gives_each_networks_energy_and_device(tmp_path):
    """With more than 15 networks the energy lines went unnamed and the table under them had latency only."""
    from hwprof.report.figures import MAX_LEGEND

    a = synthetic_frame(n_networks=MAX_LEGEND + 1, batch_sizes=(1,), with_power=True, seed=1)
    b = synthetic_frame(n_networks=2, batch_sizes=(1,), with_power=True, seed=2, device="Board B")
    build_report([write(a, tmp_path / "a.parquet"), write(b, tmp_path / "b.parquet")], tmp_path / "r.html")
    text = (tmp_path / "r.html").read_text()
    table = text[text.index('<section id="batch">') : text.index('<section id="power">')]
    assert "<th>energy mJ (median)</th>" in table
    rows = [re.findall(r"<td>([^<]*)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", table)]
    by_label = {cells[0]: cells for cells in rows if cells}
    for frame, source in ((a, "a.parquet"), (b, "b.parquet")):
        for row in frame[frame["kind"] == "network"].itertuples():
            cells = by_label[f"{row.model} b=1 on {row.device_name} [{source}]"]
            assert float(cells[-1]) == pytest.approx(row.energy_mj, rel=1e-3)


def test_a_dataset_of_commands_alone_says_it_has_no_network_rows_not_that_no_energy_was_measured(tmp_path):
    """Commands measured 28.32 J, yet the batch section said 'no energy measured ... (no usable power sensor)'."""
    runs = tmp_path / "runs.parquet"
    assert CliRunner().invoke(main, ["run", "--power", "none", "--out", str(runs), "--", "true"]).exit_code == 0
    build_report([runs], tmp_path / "r.html")
    text = (tmp_path / "r.html").read_text()
    batch = text[text.index('<section id="batch">') : text.index('<section id="power">')]
    assert "no network rows, so nothing to plot against batch size" in batch and "under Commands" in batch
    assert "no energy measured" not in batch and "<img" not in batch


def test_past_sixty_bars_the_note_counts_bars_not_networks():
    """42 networks at two batch sizes were noted as 'the first 60 of 84 networks'."""
    frame = synthetic_frame(n_networks=42, batch_sizes=(1, 2)).assign(source="s.parquet")
    _, note = time_by_op(frame)
    assert note.startswith(
        "the 60 slowest (by their layers' summed time) of 84 bars (one per network, batch size) are shown"
    )


def test_an_infinite_interval_end_is_told_in_words_and_draws_no_endless_bar(tmp_path):
    """'59.64 .. inf' in the table, and matplotlib's overflow warnings on the terminal."""
    import warnings

    frame = synthetic_frame(n_networks=2, batch_sizes=(1,))
    networks = frame.index[frame["kind"] == "network"]
    frame.loc[networks, "samples"] = 200
    frame.loc[networks, "latency_ms_ci_low"] = frame.loc[networks, "latency_ms"] * 0.99
    frame.loc[networks, "latency_ms_ci_high"] = frame.loc[networks, "latency_ms"] * 1.01
    frame.loc[networks[0], "latency_ms_ci_high"] = np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        build_report([write(frame, tmp_path / "inf.parquet")], tmp_path / "r.html")
    text = (tmp_path / "r.html").read_text()
    low = frame.loc[networks[0], "latency_ms_ci_low"]
    assert f"<td>{low:.4g} .. unbounded</td>" in text and "inf</td>" not in text
