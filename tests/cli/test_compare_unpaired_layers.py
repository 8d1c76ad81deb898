"""`hwprof compare` names the layers of a network both sides measured that pair with nothing because their
configs were recorded differently (another hwprof version added config keys: a ViT's attention layers, 38% of
its layer time, left the comparison without a word), with their share of the network's layer time, in a note
and in `--json`'s `unpaired_layers`. Rows still pair as before."""

import json

import pytest
from click.testing import CliRunner

from fakes.runs import LAYERS, write_run
from hwprof.cli import main
from hwprof.compare import compare
from hwprof.dataset import read_dataset, read_provenance, write_table

RECORDED_LATER = [LAYERS - 2, LAYERS - 1]  # the two slowest layers: 1.9 of the network's 5.2 ms of layer time
SHARE = (0.9 + 1.0) / sum(0.1 * (index + 3) for index in range(LAYERS))


def run(*args):
    return CliRunner().invoke(main, ["compare", *map(str, args)])


@pytest.fixture
def sides(tmp_path):
    base, new = write_run(tmp_path / "base.parquet", seed=1), write_run(tmp_path / "new.parquet", seed=2)
    frame = read_dataset(new)
    later = frame["layer_index"].isin(RECORDED_LATER)
    frame.loc[later, "config"] = frame.loc[later, "config"].str.replace("}", ', "input_layouts": {}}')
    write_table(new, frame, read_provenance(new))
    return base, new


def test_layers_recorded_differently_are_named_with_their_share_of_the_network(sides):
    base, new = sides
    report = compare(base, new)
    assert report["matched_rows"] == LAYERS + 1 - len(RECORDED_LATER)  # the pairing is unchanged
    (entry,) = report["unpaired_layers"]
    assert (entry["model"], entry["batch_size"]) == ("net", 1)
    for role in ("base", "new"):
        side = entry[f"only_in_{role}"]
        assert side["layers"] == 2 and side["ops"] == {"linear": 2}
        assert side["layer_time_share"] == pytest.approx(SHARE, abs=0.02)
    assert "recorded their configs differently" in entry["why"]
    assert "measure BASE again with this hwprof version" in entry["why"]

    result = run(base, new)
    assert result.exit_code == 0, result.output
    note = next(line for line in result.output.splitlines() if line.startswith("note: net batch 1"))
    assert "2 in BASE (linear x2; 37% of its layer time) and 2 in NEW (linear x2; 37%" in note, note
    assert json.loads(run(base, new, "--json").output)["unpaired_layers"] == report["unpaired_layers"]


def test_layers_the_other_side_never_measured_are_not_called_recorded_differently(sides, tmp_path):
    """A NEW run interrupted before its last layers has no layer at their positions: nothing was recorded
    differently there."""
    base = sides[0]
    cut = tmp_path / "cut.parquet"
    write_run(cut, seed=2)
    frame = read_dataset(cut)
    write_table(cut, frame[~frame["layer_index"].isin(RECORDED_LATER)], read_provenance(cut))
    report = compare(base, cut)
    assert report["only_in_base"] == len(RECORDED_LATER) and report["unpaired_layers"] == []
    assert compare(base, write_run(tmp_path / "same.parquet", seed=3))["unpaired_layers"] == []
