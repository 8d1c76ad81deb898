"""channels_last records what the run did to each model: torch lays out 4-D tensors only, so a model with none
(an MLP, a text model) ran as it was, and its rows say so."""

import pandas as pd
import torch
import torch.nn as nn
from click.testing import CliRunner

import hwprof
from fakes.progress import Notes
from hwprof.cli import main

FAST = {"power": "none", "precision": 0.3, "max_item_s": 0.1, "threads": 1, "seed": 0, "sweep_share": 0}


def test_a_model_without_4d_tensors_is_recorded_as_not_channels_last_beside_one_with_them():
    conv = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())
    notes = Notes()
    frame = hwprof.measure([(conv, (torch.randn(1, 3, 8, 8),)), "mlp"], channels_last=True, progress=notes, **FAST)
    by_model = frame.groupby(frame["model"].str.startswith("Sequential#"))["channels_last"]
    assert by_model.all()[True] and not by_model.any()[False]  # the conv net's rows true, the MLP's false
    said = [n for n in notes.notes if "--channels-last" in n or "channels_last" in n]
    assert len(said) == 1 and "mlp" in said[0] and "recorded as not channels-last" in said[0]


def test_the_cli_records_an_mlp_measured_with_channels_last_as_not_channels_last(tmp_path):
    out = tmp_path / "c.parquet"
    args = ["--no-layers", "--channels-last", "--out", str(out), "--power", "none", "--precision", "0.3"]
    result = CliRunner().invoke(main, ["measure", "mlp", *args, "--max-time", "0.1", "--threads", "1"])
    assert result.exit_code == 0, result.output
    assert not pd.read_parquet(out)["channels_last"].any()
    assert result.output.count("recorded as not channels-last") == 1


def test_a_layer_sweep_records_channels_last_only_where_its_layers_have_4d_tensors():
    linear = hwprof.measure("sweep:linear:2", channels_last=True, **FAST)
    conv = hwprof.measure("sweep:conv2d:2", channels_last=True, **FAST)
    assert not linear["channels_last"].any() and conv["channels_last"].all()
