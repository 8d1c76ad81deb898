"""show's (and measure's) end-of-run tables: every median with its spread, every flag readable, the run's mode said."""

import json

from click.testing import CliRunner

from fakes.synthetic import synthetic_frame, write
from hwprof.cli import main


def show(path, *args):
    result = CliRunner().invoke(main, ["show", str(path), *args], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


def test_the_slowest_layers_carry_their_interval_or_say_they_have_none(tmp_path):
    frame = synthetic_frame(n_networks=1, batch_sizes=(1,))
    layers = frame.index[frame["kind"] == "layer"]
    slowest = frame.loc[layers, "latency_ms"].idxmax()
    frame.loc[layers, "samples"] = 40
    frame.loc[slowest, "samples"] = 3
    frame.loc[slowest, ["latency_ms_ci_low", "latency_ms_ci_high"]] = None  # as hwprof writes a median of 3
    path = write(frame, tmp_path / "few.parquet")
    (entry,) = json.loads(show(path, "--json"))["networks"]
    first, *rest = entry["top_layers"]
    assert first["latency_ms_ci_low"] is None and first["samples"] == 3
    assert all(layer["latency_ms_ci_low"] <= layer["latency_ms"] <= layer["latency_ms_ci_high"] for layer in rest)
    table = show(path)
    assert "95% CI ms" in table.split("networks")[0] and "unbounded (3 samples)" in table.split("networks")[0]


def test_every_power_flag_is_shown_whole_one_a_line(tmp_path):
    frame = synthetic_frame(n_networks=2, batch_sizes=(1,), with_power=True)
    networks = frame.index[frame["kind"] == "network"]
    frame.loc[networks, "power_flags"] = ["load_unstable,latency_shifted", "short_window"]
    frame.loc[networks, "model"] = ["torchvision:squeezenet1_1_with_a_long_name", "mlp"]
    table = show(write(frame, tmp_path / "flags.parquet")).split("networks")[-1]
    assert "…" not in table
    for flag in ("load_unstable", "latency_shifted", "short_window"):
        assert f"│ {flag} " in table


def test_a_dataset_of_one_bfloat16_compiled_run_says_so_in_its_title_and_run_line(tmp_path):
    frame = synthetic_frame(n_networks=2, batch_sizes=(1,)).assign(
        run_id="aaaaaaaa1", dtype="bfloat16", compiled=True, channels_last=False
    )
    path = write(frame, tmp_path / "bf.parquet")
    execution = {"dtype": "bfloat16", "compile": True, "channels_last": False}
    (tmp_path / "bf.parquet.json").write_text(
        json.dumps({"schema_version": 1, "runs": [{"run_id": "aaaaaaaa1", "threads": 1, "execution": execution}]})
    )
    table = show(path)
    assert "networks, bfloat16, compiled" in table
    assert "rows on unrecorded, bfloat16, compiled, 1 thread" in table  # a run line without a device recorded
    assert "None" not in table
    plain = synthetic_frame(n_networks=2, batch_sizes=(1,)).assign(dtype="float32", compiled=False)
    assert "networks," not in show(write(plain, tmp_path / "plain.parquet"))
