"""`hwprof compare` on synthetic runs with a planted shift: what it flags, what it does not, and its exit codes."""

import json
import shutil

import pytest
from click.testing import CliRunner

from fakes.runs import LAYERS, write_run
from hwprof.cli import main
from hwprof.compare import HIGHER, SAME, UNTESTED, compare
from hwprof.dataset import read_dataset, read_provenance, write_table
from hwprof.samples import samples_path


def run(*args):
    return CliRunner().invoke(main, ["compare", *map(str, args)])


RUNS = {  # name -> how write_run makes it
    "base": dict(seed=1),
    "slower": dict(factor=1.10, seed=2),
    "same": dict(seed=2),
    "noisy_base": dict(sigma=0.25, samples=20, seed=3),
    "noisy": dict(factor=1.03, sigma=0.25, samples=20, seed=4),
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("runs")
    return {name: write_run(folder / f"{name}.parquet", **settings) for name, settings in RUNS.items()}


@pytest.fixture
def base(runs):
    return runs["base"]


def latency_verdicts(report):
    return [row["latency_ms"]["verdict"] for row in report["rows"]]


def test_a_ten_percent_slowdown_is_flagged_in_every_row_and_summary(runs):
    report = compare(runs["base"], runs["slower"])
    assert report["matched_rows"] == LAYERS + 1 and report["only_in_base"] == report["only_in_new"] == 0
    assert latency_verdicts(report) == [HIGHER] * (LAYERS + 1)
    for row in report["rows"]:
        latency = row["latency_ms"]
        assert latency["ci_low"] <= latency["ratio"] <= latency["ci_high"]
        assert latency["ci_low"] < 1.10 < latency["ci_high"] and latency["p_value"] < 0.05
    (model,) = report["models"]
    assert model["latency_ms"]["verdict"] == HIGHER and model["latency_ms"]["ratio"] == pytest.approx(1.10, abs=0.02)


def test_no_change_is_not_flagged(runs):
    report = compare(runs["base"], runs["same"], fail_above=0.05)
    # at 5% a row may come out significant by chance; none here, and none is a regression above 5%
    assert latency_verdicts(report) == [SAME] * (LAYERS + 1)
    assert report["models"][0]["latency_ms"]["verdict"] == SAME
    assert report["gate"]["regressions"] == [] and report["gate"]["tested"] > 0


def test_a_noisy_three_percent_is_not_significant(tmp_path, runs):
    base = runs["noisy_base"]
    report = compare(base, runs["noisy"])
    assert latency_verdicts(report) == [SAME] * (LAYERS + 1)
    assert report["models"][0]["latency_ms"]["verdict"] == SAME
    # while the same noise with a real 60% shift is seen
    slower = write_run(tmp_path / "slower.parquet", factor=1.6, sigma=0.25, samples=20, seed=4)
    assert latency_verdicts(compare(base, slower)).count(HIGHER) >= LAYERS


def test_fail_above_exits_1_only_on_a_significant_rise_above_the_threshold(runs):
    base, slower, same = runs["base"], runs["slower"], runs["same"]

    failed = run(base, slower, "--fail-above", "5%")
    assert failed.exit_code == 1, failed.output
    assert "regression: net batch 1 network latency +" in failed.output
    assert run(base, slower, "--fail-above", "15%").exit_code == 0  # significant, but under the threshold
    assert run(slower, base, "--fail-above", "5%").exit_code == 0  # faster is no regression
    passed = run(base, same, "--fail-above", "5%")
    assert passed.exit_code == 0 and "gate: no significant latency rise above 5%" in passed.output
    assert run(runs["noisy_base"], runs["noisy"], "--fail-above", "1").exit_code == 0  # 3% > 1%, not significant

    report = json.loads(run(base, slower, "--fail-above", "5", "--json").output)
    assert report["gate"]["fail_above"] == 0.05
    # every row is reported slower, but only the network row and the summaries gate: a layer alone moves
    # more than 5% between processes on a plain rerun
    assert sum(row["latency_ms"]["verdict"] == "higher" for row in report["rows"]) >= LAYERS + 1
    regressions = report["gate"]["regressions"]
    assert {entry["where"] for entry in regressions} == {"row", "model", "op"}
    assert all(entry["label"].endswith("network") for entry in regressions if entry["where"] == "row")


def test_energy_is_compared_where_both_have_it_and_gated_by_its_summaries(tmp_path):
    base = write_run(tmp_path / "base.parquet", power_w=10.0, seed=1)
    hotter = write_run(tmp_path / "hotter.parquet", power_w=11.5, seed=2)
    report = compare(base, hotter)
    assert report["metrics"] == ["latency_ms", "energy_mj", "power_w"]
    energy = report["rows"][0]["energy_mj"]
    assert energy["verdict"] == UNTESTED and energy["why"] == "one load window per row"
    assert report["rows"][0]["power_w"]["ratio"] == pytest.approx(1.15)
    assert report["models"][0]["energy_mj"]["verdict"] == HIGHER
    assert run(base, hotter, "--metric", "energy_mj", "--fail-above", "5%").exit_code == 1
    assert run(base, hotter, "--metric", "energy_mj", "--fail-above", "25%").exit_code == 0
    assert run(base, hotter, "--fail-above", "5%").exit_code == 0  # latency did not change


def test_a_network_above_the_gate_without_raw_samples_cannot_pass_it(tmp_path, base):
    """Only the network row rose (7%), past a 5% gate, and no raw samples test it: the model's summary over
    all its rows (under 5%) must not pass the gate (exit 2: it cannot decide), as a baseline committed
    without its samples file would have it."""
    new = write_run(tmp_path / "new.parquet", seed=2, with_samples=False)
    frame = read_dataset(new)
    frame.loc[frame["kind"] == "network", "latency_ms"] *= 1.07
    write_table(new, frame, read_provenance(new))
    result = run(base, new, "--fail-above", "5%")
    assert result.exit_code == 2, result.output
    assert "net batch 1 network latency_ms rose +7" in result.output and "cannot decide" in result.output
    assert run(base, new, "--fail-above", "10%").exit_code == 0  # under the gate: nothing to decide


def test_without_raw_samples_ratios_remain_and_the_reason_is_given(tmp_path, base):
    slower = write_run(tmp_path / "slower.parquet", factor=1.10, seed=2, with_samples=False)
    assert not samples_path(slower).exists()
    result = run(base, slower)
    assert result.exit_code == 0, result.output
    assert "significance unavailable: slower.parquet has no raw samples" in result.output
    report = compare(base, slower)
    assert report["rows"][0]["latency_ms"]["ratio"] == pytest.approx(1.10, abs=0.02)
    assert set(latency_verdicts(report)) == {UNTESTED}
    assert report["raw_samples"] == {
        "base": True,
        "new": False,
        "unavailable_reason": report["raw_samples"]["unavailable_reason"],
    }
    # the per-model summary still tests the consistent shift across rows
    assert report["models"][0]["latency_ms"]["verdict"] == HIGHER

    assert run(base, slower, "--fail-above", "5%").exit_code == 1  # the model summary is tested across its rows
    undecided = run(base, slower, "--fail-above", "5%", "--metric", "energy_mj")  # no energy at all
    assert undecided.exit_code == 2 and "do not both have energy_mj" in undecided.output
    lone = write_run(tmp_path / "lone.parquet", factor=1.10, seed=2, models=("lone",), with_samples=False)
    single = write_run(tmp_path / "single.parquet", seed=3, models=("lone",), with_samples=False)
    for path in (lone, single):  # a network row alone: no samples, and too few rows for a summary
        frame = read_dataset(path).query("kind == 'network'")
        write_table(path, frame, read_provenance(path))
    undecided = run(single, lone, "--fail-above", "5%")
    assert undecided.exit_code == 2 and "cannot decide" in undecided.output and "has no raw samples" in undecided.output


FRACTIONS = {"a fraction as threshold": "0.05", "a half as threshold": "0.5", "just below 1 as threshold": "0.99"}


@pytest.mark.parametrize(
    "case, fragment",
    [
        ("missing", "NEW: Dataset"),
        ("other models", "share no measured row"),
        ("other device", "was measured with device Synthetic CPU but"),
        ("bad threshold", "is not a percentage; write it as 5%"),
        ("a fraction as threshold", "--fail-above 0.05 is a percentage, not a fraction: write 5% for 5 percent"),
        ("a half as threshold", "--fail-above 0.5 is a percentage, not a fraction: write 50% for 50 percent"),
        ("just below 1 as threshold", "--fail-above 0.99 is a percentage, not a fraction: write 99% for 99 percent"),
        ("--metric without a gate", "--metric energy_mj only chooses what --fail-above gates on"),
        ("damaged samples", "NEW: Could not read the raw samples"),
        ("compiled", "base.parquet was measured without --compile but"),
        ("a copy of BASE", "hold the same run"),
        ("a copy without run ids", "hold the same bytes"),
    ],
)
def test_bad_input_is_one_sentence_and_exit_2(tmp_path, base, case, fragment):
    new = tmp_path / "new.parquet"
    extra = []
    if case == "other models":
        write_run(new, models=("other",))
    elif case == "other device":
        write_run(new, device_name="Another board")
    elif case == "bad threshold":
        write_run(new)
        extra = ["--fail-above", "five"]
    elif case in FRACTIONS:  # any bare number below 1: 0.05 meant as 5% would gate at 0.05%, 100 times tighter
        write_run(new)
        extra = ["--fail-above", FRACTIONS[case]]
    elif case == "--metric without a gate":  # it would change nothing, silently
        write_run(new)
        extra = ["--metric", "energy_mj"]
    elif case == "damaged samples":
        write_run(new)
        samples_path(new).write_bytes(b"not parquet")
    elif case == "compiled":  # every row: a networks-only run through torch.compile
        write_run(new)
        write_table(new, read_dataset(new).assign(compiled=True), read_provenance(new))
    elif case == "a copy of BASE":  # a CI job whose baseline and new paths name one run
        shutil.copy(base, new)
        shutil.copy(samples_path(base), samples_path(new))
    elif case == "a copy without run ids":  # a table from elsewhere, copied
        base = tmp_path / "foreign.parquet"
        write_table(base, read_dataset(write_run(tmp_path / "r.parquet")).assign(run_id=None), [])
        shutil.copy(base, new)
    result = run(base, new, *extra)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and result.output.count("\n") == 1 and fragment in result.output


def test_a_compiled_network_is_not_compared_with_its_eager_run_but_their_eager_layers_are(tmp_path, base):
    new = write_run(tmp_path / "compiled.parquet", factor=0.5, seed=2)
    frame = read_dataset(new)
    write_table(new, frame.assign(compiled=frame["kind"].eq("network")), read_provenance(new))
    report = compare(base, new)
    assert {row["kind"] for row in report["rows"]} == {"layer"}
    assert report["only_in_base"] == 1 and report["only_in_new"] == 1


@pytest.mark.parametrize("n", [2, 4, 6, 7, 40])
def test_bootstrap_medians_follow_the_distribution_resampling_gives(n):
    import numpy as np

    from hwprof.compare import bootstrap_medians

    rng = np.random.default_rng(n)
    samples = rng.lognormal(0.0, 0.2, n)
    resampled = np.median(samples[rng.integers(0, n, size=(40000, n))], axis=1)  # the median the rows report
    drawn = bootstrap_medians(samples, rng, 40000)
    ordered = np.sort(samples)
    middles = (ordered[:-1] + ordered[1:]) / 2  # where an even resample's median may fall between two samples
    for value in np.sort(np.concatenate([ordered, middles])):  # the same share at or below each, within error
        assert np.mean(drawn <= value) == pytest.approx(np.mean(resampled <= value), abs=0.01)


@pytest.mark.parametrize("sizes", [(3, 5), (8, 9), (9, 12), (20, 20), (1, 40), (60, 200)])
@pytest.mark.parametrize("tied", [False, True])
def test_the_rank_test_gives_scipys_p_value(sizes, tied):
    import numpy as np
    from scipy.stats import mannwhitneyu

    from hwprof.compare import mann_whitney_p

    rng = np.random.default_rng(sizes[0] * 1000 + sizes[1])
    for shift in (0.0, 0.3, 1.0):
        new, base = rng.lognormal(shift, 0.5, sizes[0]), rng.lognormal(0.0, 0.5, sizes[1])
        if tied:  # timer ticks: many equal values
            new, base = np.round(new, 1), np.round(base, 1)
        expected = mannwhitneyu(new, base, alternative="two-sided").pvalue
        assert mann_whitney_p(new, base) == pytest.approx(expected, rel=1e-9, abs=1e-15)
    assert mann_whitney_p(np.ones(sizes[0]), np.ones(sizes[1])) == 1.0


@pytest.mark.parametrize("n", [1, 2, 7, 40, 1000])
def test_the_binomial_probabilities_are_scipys(n):
    import numpy as np
    from scipy.stats import binom

    from hwprof.compare import _binomial_pmf

    p = np.arange(1, n + 1) / n
    for k in {0, (n + 1) // 2, n}:
        assert _binomial_pmf(k, n, p) == pytest.approx(binom.pmf(k, n, p), rel=1e-10, abs=1e-300)


def test_a_baseline_of_several_runs_carries_their_spread_into_the_interval(tmp_path):
    from hwprof.dataset import merge_datasets

    # two baseline runs 8% apart (a slow run, a busy neighbour), each with tight samples
    first = write_run(tmp_path / "first.parquet", sigma=0.01, seed=1)
    slow = write_run(tmp_path / "slow.parquet", factor=1.08, sigma=0.01, seed=2)
    baseline = tmp_path / "baseline.parquet"
    merge_datasets([first, slow], baseline)
    new = write_run(tmp_path / "new.parquet", factor=1.04, sigma=0.01, seed=3)

    against_one = compare(first, new)  # one run's samples cannot show that runs differ by 8%
    assert latency_verdicts(against_one) == [HIGHER] * (LAYERS + 1)
    against_both = compare(baseline, new)
    # two runs against one leave one degree of freedom for how far runs move: no interval, and no false alarm
    assert latency_verdicts(against_both) == [UNTESTED] * (LAYERS + 1)
    for row in against_both["rows"]:
        assert row["runs"] == {"base": 2, "new": 1}
        latency = row["latency_ms"]
        assert latency["ratio"] == pytest.approx(1.0, abs=0.01)  # the median of the two runs' medians
        assert latency["why"].startswith("two runs against one")
    third = write_run(tmp_path / "third.parquet", factor=1.04, sigma=0.01, seed=4)  # the median run NEW is at
    merge_datasets([first, slow, third], tmp_path / "three.parquet")
    against_three = compare(tmp_path / "three.parquet", new)
    assert latency_verdicts(against_three) == [SAME] * (LAYERS + 1)
    for row in against_three["rows"]:
        latency = row["latency_ms"]
        assert latency["ci_low"] < 1 / 1.03 and latency["ci_high"] > 1.03  # the runs' spread, not the samples'
    assert run(tmp_path / "three.parquet", new, "--fail-above", "1%").exit_code == 0


def test_commands_hwprof_run_timed_are_compared_by_ratio_and_say_why_they_are_untested(tmp_path):
    for name in ("a", "b"):
        timed = CliRunner().invoke(main, ["run", "--out", str(tmp_path / f"{name}.parquet"), "--", "sleep", "0.05"])
        assert timed.exit_code == 0, timed.output
    report = compare(tmp_path / "a.parquet", tmp_path / "b.parquet")
    (row,) = report["rows"]
    assert row["kind"] == "command" and row["batch_size"] is None
    assert row["latency_ms"]["verdict"] == UNTESTED and 0.5 < row["latency_ms"]["ratio"] < 2
    assert "hwprof run times once per run" in report["raw_samples"]["unavailable_reason"]
    result = run(tmp_path / "a.parquet", tmp_path / "b.parquet")
    assert result.exit_code == 0 and "command sleep 0.05" in result.output


def test_a_bare_number_of_1_or_more_and_any_number_with_a_percent_sign_are_percentages(runs):
    from hwprof.compare import parse_threshold

    assert parse_threshold("5") == parse_threshold("5%") == pytest.approx(0.05)
    assert parse_threshold("0.05%") == pytest.approx(0.0005) and parse_threshold("0") == 0
    strict = run(runs["base"], runs["slower"], "--fail-above", "0.5%")
    assert strict.exit_code == 1 and "above 0.5%" in strict.output


def fleet_of_two(folder, **tonight):
    """A baseline merged from boards a and b (models net and other), and tonight's dataset, `tonight` passed to
    write_run for board a."""
    from hwprof.dataset import merge_datasets

    boards = [
        write_run(folder / f"{board}.parquet", seed=seed, device_name=f"board-{board}", models=("net", "other"))
        for seed, board in ((1, "a"), (2, "b"))
    ]
    baseline = folder / "baseline.parquet"
    merge_datasets(boards, baseline)
    return baseline, boards[0], write_run(folder / "tonight.parquet", device_name="board-a", **tonight)


def test_a_device_of_base_that_new_lacks_is_named_and_the_gate_cannot_pass_it(tmp_path):
    """Tonight only board a ran: the rows of board b pair with nothing, and a gate over board a alone must not
    pass as though the fleet had been checked."""
    baseline, own_baseline, tonight = fleet_of_two(tmp_path, seed=3, models=("net",))
    report = compare(baseline, tonight, fail_above=0.05)
    assert report["devices_only_in_base"] == ["board-b"] and report["gate"]["unchecked_devices"] == ["board-b"]
    assert report["models_only_in_base"] == [{"device_name": "board-a", "model": "other"}]
    assert report["gate"]["regressions"] == []

    shown = run(baseline, tonight)  # no gate: the same comparison, the missing device and model named
    assert shown.exit_code == 0
    assert "note: NEW has no row of board-b" in shown.output
    assert "note: models only in BASE on board-a: other" in shown.output  # a fleet's note names the board
    gated = run(baseline, tonight, "--fail-above", "5%")
    assert gated.exit_code == 2, gated.output
    assert "gate: could not check board-b" in gated.stdout  # the comparison of board a is still printed
    assert "has no row of board-b, which" in gated.stderr and "compare against a baseline of only those" in (
        gated.stderr
    )
    as_json = run(baseline, tonight, "--fail-above", "5%", "--json")
    assert as_json.exit_code == 2 and json.loads(as_json.stdout)["devices_only_in_base"] == ["board-b"]

    # a subset on purpose: against board a's own baseline, only the model it did not measure is named
    alone = run(own_baseline, tonight, "--fail-above", "5%")
    assert alone.exit_code == 0, alone.output
    assert "note: models only in BASE: other" in alone.output and "NEW has no row" not in alone.output


def test_a_rise_on_the_devices_new_has_exits_1_though_another_device_is_missing(tmp_path):
    baseline, _, slower = fleet_of_two(tmp_path, factor=1.3, seed=3)
    result = run(baseline, slower, "--fail-above", "5%")
    assert result.exit_code == 1 and "regression: model net" in result.output
    assert "gate: could not check board-b" in result.output


def test_the_thread_note_speaks_only_of_the_runs_behind_the_paired_rows(tmp_path):
    """NEW also holds an unrelated model measured at 2 threads: no paired row ran at 2, so no ratio moved by it."""
    from hwprof.dataset import merge_datasets

    base = write_run(tmp_path / "base.parquet", seed=1, threads=1)
    parts = [
        write_run(tmp_path / "same.parquet", seed=2, threads=1),
        write_run(tmp_path / "unrelated.parquet", seed=3, threads=2, models=("unrelated",)),
    ]
    new = tmp_path / "new.parquet"
    merge_datasets(parts, new)
    assert compare(base, new)["run_differences"] == []
    assert "note: BASE ran at" not in run(base, new).output
    paired = write_run(tmp_path / "paired.parquet", seed=4, threads=2)  # the paired rows' own runs still count
    merge_datasets([parts[0], paired], tmp_path / "both.parquet")
    assert compare(base, tmp_path / "both.parquet")["run_differences"] == [
        "BASE ran at 1 thread(s) and NEW at 1/2: each ratio includes that change"
    ]


def test_runs_at_different_thread_counts_are_compared_and_said_to_differ(tmp_path):
    one = write_run(tmp_path / "one.parquet", seed=1, threads=1)
    two = write_run(tmp_path / "two.parquet", factor=0.6, seed=2, threads=2)
    report = compare(one, two)
    assert report["run_differences"] == ["BASE ran at 1 thread(s) and NEW at 2: each ratio includes that change"]
    assert "note: BASE ran at 1 thread(s) and NEW at 2" in run(one, two).output
    assert compare(one, write_run(tmp_path / "again.parquet", seed=3, threads=1))["run_differences"] == []


def test_rows_combined_from_several_processes_are_tested_by_their_own_intervals(tmp_path, base):
    """A --processes row is the median of its processes' medians, which its pooled samples do not give
    (one slow process moves it, not the pooled median): its ratio and interval must describe one statistic."""
    new = write_run(tmp_path / "combined.parquet", seed=2)
    frame = read_dataset(new)
    slow = frame["layer_index"] == 0
    frame["processes"] = 2
    frame.loc[slow, "latency_ms"] *= 3  # one of two processes ran 5x slower: their median is 3x the pooled one
    frame.loc[slow, "latency_ms_ci_low"] = frame.loc[slow, "latency_ms"] * 0.6
    frame.loc[slow, "latency_ms_ci_high"] = frame.loc[slow, "latency_ms"] * 1.4
    write_table(new, frame, read_provenance(new))
    report = compare(base, new)
    for row in report["rows"]:
        latency = row["latency_ms"]
        assert latency["ci_low"] <= latency["ratio"] <= latency["ci_high"] and latency["why"] is None
    (moved,) = [row["latency_ms"] for row in report["rows"] if row["layer_index"] == 0]
    assert moved["verdict"] == HIGHER and moved["ratio"] == pytest.approx(3, rel=0.1)
    frame.loc[slow, "latency_ms_ci_low"] = 0.0  # processes so far apart that the interval reaches 0
    write_table(new, frame, read_provenance(new))
    (unbounded,) = [row["latency_ms"] for row in compare(base, new)["rows"] if row["layer_index"] == 0]
    assert unbounded["verdict"] == UNTESTED and "interval down to 0" in unbounded["why"]
