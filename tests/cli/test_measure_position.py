"""A long measure run says where it is: each group's place among the run's groups and, once one group has
been timed, about how long the run has left (its layer sweep's share included); a resume counts the groups
an earlier run finished as done."""

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


def test_the_time_left_is_the_groups_left_at_the_mean_so_far_plus_the_sweeps_share():
    from hwprof.measuring.session import MeasureOptions, _time_left_s

    nothing_resumed = {"networks": 0.0, "sweep": 0.0}
    # two groups took 10 s: three left take 15 s; the sweep may take 20% of the whole run, 0.25 x 25 s
    assert _time_left_s(MeasureOptions(sweep_share=0.2), nothing_resumed, 10.0, 2, 3) == 15.0 + 6.25
    assert _time_left_s(MeasureOptions(sweep_share=0), nothing_resumed, 10.0, 2, 3) == 15.0
    assert _time_left_s(MeasureOptions(layers=False), nothing_resumed, 10.0, 2, 3) == 15.0
    # a resumed run's earlier networks count toward the sweep's share, its earlier sweep against it
    assert _time_left_s(MeasureOptions(sweep_share=0.2), {"networks": 15.0, "sweep": 2.0}, 10.0, 2, 3) == 15.0 + 8.0
    assert _time_left_s(MeasureOptions(), nothing_resumed, 0.0, 0, 3) is None


def test_a_resume_counts_the_groups_an_earlier_run_finished(tmp_path):
    out = tmp_path / "two.parquet"
    hwprof.measure(["mlp"], out=str(out), **{**FAST, "sweep_share": 0})
    progress = Positions()
    hwprof.measure(["mlp"], out=str(out), resume=True, progress=progress, **{**FAST, "sweep_share": 0})
    assert progress.seen == [(1, 1, None)]


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
