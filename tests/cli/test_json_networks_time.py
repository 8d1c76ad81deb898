"""measure's `networks_s` (the seconds its networks took) was read from the default layer sweep's record only, so it
was null whenever no sweep ran (--sweep-share 0, --no-layers, --processes, no op to sweep) though networks were
timed; the run now records it apart from the sweep."""

import json
import textwrap

import pytest
from click.testing import CliRunner

from hwprof.cli import main
from hwprof.dataset import read_provenance
from hwprof.measuring.session import _add_workers

FAST = ["--power", "none", "--precision", "0.5", "--max-time", "0.1", "--threads", "1", "--seed", "0"]


@pytest.fixture
def tiny(tmp_path):
    path = tmp_path / "tiny.py"
    path.write_text(
        textwrap.dedent("""
        import torch.nn as nn

        def tiny():
            net = nn.Sequential(nn.Linear(8, 8), nn.ReLU())
            net.input_shape = (8,)
            return net
    """)
    )
    return f"{path}:tiny"


@pytest.mark.parametrize("without_sweep", [["--sweep-share", "0"], ["--no-layers"]])
def test_measure_json_gives_the_networks_seconds_when_no_sweep_ran(tmp_path, tiny, without_sweep):
    out = tmp_path / "m.parquet"
    result = CliRunner().invoke(main, ["measure", tiny, "--out", str(out), "--json", *without_sweep, *FAST])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["fit_sweep"] is None
    assert report["networks_s"] > 0
    assert read_provenance(out)[-1]["networks_s"] == report["networks_s"]


def test_the_summary_line_names_the_networks_seconds_when_no_sweep_ran(tmp_path, tiny):
    out = tmp_path / "m.parquet"
    result = CliRunner().invoke(main, ["measure", tiny, "--out", str(out), "--no-layers", *FAST])
    assert result.exit_code == 0, result.output
    assert ": networks " in result.stdout.splitlines()[-1]


def test_a_run_in_several_processes_records_their_networks_seconds_added_up():
    provenance = {}
    # {}: a worker's run interrupted before its networks were all timed; its resumed run records them all
    _add_workers(provenance, [{}, {"networks_s": 1.25}, {"networks_s": 2.5}], None)
    assert provenance["networks_s"] == 3.75
