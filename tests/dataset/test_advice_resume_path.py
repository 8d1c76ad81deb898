"""The command that resumes a run cut short names its dataset as the reader named it: the run's own --out is
relative to the folder it ran in, and pasted in another, --resume finds no such file and measures afresh there."""

import shlex

from hwprof.dataset import not_measured_line
from hwprof.measuring.fit_sweep import cut_short_line

MISSING = [{"model": "resnet18", "batch_size": 1}]
ARGV = ["/opt/venv/bin/hwprof", "measure", "resnet18", "mlp", "--threads", "1", "-o", "j.parquet"]
READ_AS = "../run dir/j.parquet"


def _command(line: str) -> list[str]:
    return shlex.split(line[line.index("`") + 1 : line.rindex("`")])


def test_show_names_the_dataset_as_read_in_the_resume_command():
    line = not_measured_line(MISSING, {"argv": ARGV, "plan": {"cache": "cold"}}, path=READ_AS)
    assert line.endswith("` to measure them")
    assert _command(line) == ["hwprof", "measure", "resnet18", "mlp", "--threads", "1", "--out", READ_AS, "--resume"]


def test_a_run_planned_warm_by_default_resumes_with_cache_warm_in_the_command_too():
    line = not_measured_line(MISSING, {"argv": [*ARGV, "--resume"], "plan": {}}, path=READ_AS)
    assert _command(line)[-5:] == ["--out", READ_AS, "--resume", "--cache", "warm"]


def test_a_run_without_its_command_is_told_in_words():
    line = not_measured_line(MISSING, {"plan": {"cache": "cold"}}, path=READ_AS)
    assert line.endswith("run the same measure command with --resume to measure them")


def test_a_sweep_cut_short_names_the_dataset_as_read_too():
    sweep_left = {"rounds": 1, "sweep_s": 1.2, "budget_s": 2.5}
    line = cut_short_line(sweep_left, {"argv": ARGV, "plan": {"cache": "cold"}}, READ_AS)
    assert line.endswith("` to finish it")
    assert _command(line)[-3:] == ["--out", READ_AS, "--resume"]
    assert cut_short_line(sweep_left).endswith("run the same measure command with --resume to finish it")


def test_show_run_from_another_folder_prints_the_dataset_as_given(tmp_path, monkeypatch):
    """show passed no path, so its line said "the same measure command", which from here measures afresh."""
    from click.testing import CliRunner

    import hwprof.dataset
    from fakes.runs import write_run
    from hwprof.cli import main

    folder = tmp_path / "run dir"
    folder.mkdir()
    write_run(folder / "j.parquet", provenance_fields={"argv": ARGV, "plan": {"cache": "cold"}})
    monkeypatch.setattr(hwprof.dataset, "not_measured", lambda frame, run: MISSING)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["show", "run dir/j.parquet"])
    line = next(line for line in result.output.splitlines() if "not measured yet" in line)
    assert _command(line)[-3:] == ["--out", "run dir/j.parquet", "--resume"]
