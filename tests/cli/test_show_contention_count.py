"""`hwprof show` counts a dataset's contended rows as `measure` did at its end: a layer configuration shared by
several layers or networks is one measurement, timed once."""

from click.testing import CliRunner

from fakes.runs import write_run
from hwprof.cli import main
from hwprof.dataset import read_dataset
from hwprof.measuring.session import contention_warning


def test_show_says_the_count_measure_said_of_contended_measurements(tmp_path):
    frame = read_dataset(write_run(tmp_path / "run.parquet", models=("a", "b")))
    layers = frame["kind"] == "layer"
    frame.loc[layers, "config_id"] = frame.loc[layers, "layer_index"].map(lambda index: f"shared-{index}")
    frame.loc[layers, "other_cpu_share"] = 0.5  # 16 layer rows of 8 configurations, each timed once
    frame.to_parquet(tmp_path / "shared.parquet")
    output = CliRunner().invoke(main, ["show", str(tmp_path / "shared.parquet")], env={"COLUMNS": "250"}).output
    said = " ".join(output.split())
    assert " ".join(contention_warning(8).split()) in said
