"""A long measure run says where it is: each group's place among the run's groups and, once one group has
been timed, about how long the run has left (its layer sweep's share included); a resume passes over
the groups an earlier run finished."""

import pandas as pd
from click.testing import CliRunner

import hwprof
from hwprof.cli import main
from hwprof.progress import Progress

FAST = dict(power="none", precision=0.2, max_item_s=0.05, threads=1, seed=0)


class Positions(Progress):
    def __init__(self):
        self.seen: list[tuple] = []

    def position(self, group, groups, left_s):
        self.seen.append((group, groups, left_s))


def test_each_group_is_placed_among_the_runs_and_the_time_left_follows_the_first(tmp_path):
    progress = Positions()
    hwprof.measure(["mlp", "vit_tiny"], batch_sizes=(1, 2), progress=progress, **FAST)
    assert [seen[:2] for seen in progress.seen] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert progress.seen[0][2] is None
    assert all(left_s > 0 for _, _, left_s in progress.seen[1:])


def test_the_time_left_is_the_items_left_at_the_mean_so_far_plus_the_sweeps_share():
    from hwprof.measuring.session import MeasureOptions, RunClock

    def clock(options, resumed=None):
        clock = RunClock(options, resumed or {"networks": 0.0, "sweep": 0.0})
        clock.add(6.0, 20)  # two groups of 10 and 30 items took 10 s: 0.25 s an item, 20 items a group
        clock.add(4.0, 20)
        clock.place = (3, 5, 2)  # the third group of five, two after it
        return clock

    # 10 items now and two groups of 20 after it: 50 items at 0.25 s; the sweep may take 20% of the whole
    # run, a quarter of the networks' 10 + 12.5 s
    assert clock(MeasureOptions(sweep_share=0.2)).left_s(10) == 12.5 + 0.25 * 22.5
    assert clock(MeasureOptions(sweep_share=0)).left_s(10) == 12.5
    assert clock(MeasureOptions(layers=False)).left_s(10) == 12.5
    # a resumed run's earlier networks count toward the sweep's share, its earlier sweep against it
    resumed = {"networks": 17.5, "sweep": 2.0}
    assert clock(MeasureOptions(sweep_share=0.2), resumed).left_s(10) == 12.5 + 0.25 * 40.0 - 2.0
    assert RunClock(MeasureOptions(), {"networks": 0.0, "sweep": 0.0}).left_s(10) is None


def test_a_resume_passes_over_the_groups_an_earlier_run_finished(tmp_path):
    out = tmp_path / "two.parquet"
    hwprof.measure(["mlp", "vit_tiny"], out=str(out), **{**FAST, "sweep_share": 0})
    rows = pd.read_parquet(out)
    rows[rows["model"] != "vit_tiny"].to_parquet(out)  # as a run cut short before vit_tiny would leave it
    progress = Positions()
    hwprof.measure(["mlp", "vit_tiny"], out=str(out), resume=True, progress=progress, **{**FAST, "sweep_share": 0})
    assert [(groups, left_s) for _, groups, left_s in progress.seen] == [(2, None)]


def test_the_plain_lines_say_the_place_and_the_time_left(tmp_path):
    result = CliRunner().invoke(
        main,
        [
            "measure",
            "mlp",
            "mlp_large",
            "--max-time",
            "0.05",
            "--power",
            "none",
            "--threads",
            "1",
            "-o",
            str(tmp_path / "a.parquet"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "measuring mlp" in result.output
    lines = [line for line in result.output.splitlines() if line.startswith("measuring ")]
    assert lines[0].endswith("items (1 of 2)")
    assert "items (2 of 2, about " in lines[1] and lines[1].endswith(" left)")
    # the layer sweep's groups that follow are not numbered among the networks'
    assert all(" of 2" not in line for line in lines[2:])


def test_with_json_the_progress_lines_go_to_stderr_and_stdout_stays_the_document(tmp_path):
    import json

    args = ["measure", "mlp", "--max-time", "0.05", "--power", "none", "--threads", "1", "--sweep-share", "0"]
    result = CliRunner().invoke(main, [*args, "-o", str(tmp_path / "a.parquet"), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["status"] == "complete"
    assert "measuring mlp batch 1: " in result.stderr
