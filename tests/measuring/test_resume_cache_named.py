"""A resume refused for another plan names what reproduces the earlier one: a dataset from before cold caches
were the default (its plan says warm, or nothing) resumes with `--cache warm`, which "give the same" left the
user to work out."""

import json

import pytest
from click.testing import CliRunner

from hwprof.cli import main
from hwprof.errors import HwprofError
from hwprof.measuring import session

FAST = ["--power", "none", "--max-time", "0.3", "--threads", "1", "--sweep-share", "0", "--no-layers", "--quiet"]


def run(*args):
    return CliRunner().invoke(main, list(args))


@pytest.mark.parametrize("recorded", ["warm", None])
def test_a_warm_dataset_resumed_with_todays_defaults_is_told_to_give_cache_warm(tmp_path, recorded):
    out = tmp_path / "old.csv"  # its provenance in the sidecar only
    assert run("measure", "mlp", "--out", str(out), "--cache", "warm", *FAST).exit_code == 0
    sidecar = out.with_name(out.name + ".json")
    record = json.loads(sidecar.read_text())
    for earlier in record["runs"]:
        if recorded is None:  # a plan from before the cache mode was recorded
            del earlier["plan"]["cache"]
    sidecar.write_text(json.dumps(record))

    result = run("measure", "mlp", "--out", str(out), "--resume", *FAST)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "so give the same (--cache warm), or write the new one to another path" in result.output, result.output
    assert result.output.count(";") == 1 and "\n" not in result.output.strip()
    assert run("measure", "mlp", "--out", str(out), "--resume", "--cache", "warm", *FAST).exit_code == 0


class _Writer:
    def __init__(self, plan):
        self.path = "run.parquet"
        self.provenance = {"device_name": "cpu", "host": "h"}
        self.previous_runs = [{"plan": plan, "device_name": "cpu", "host": "h"}]

    def close(self, status=None):
        pass


def test_every_setting_that_differs_is_named_as_typed_from_the_command_line_and_from_python():
    earlier = {"models": ["mlp"], "batch_sizes": [1, 8], "threads": 2, "layers": True, "processes": 1}
    writer = _Writer({**earlier, "cache": "warm", "seq_lens": [128]})
    now = {**earlier, "batch_sizes": [1], "layers": False, "cache": "cold", "channels_last": True, "seq_lens": [64]}
    with pytest.raises(HwprofError) as error:
        session._check_same_plan(writer, now)
    assert (
        "give the same (--batch-size 1,8, without --no-layers, --cache warm, without --channels-last, --seq-len 128)"
        in error.value.cli_message()
    ), error.value.cli_message()
    assert "give the same (batch_sizes=1,8, without layers=False, cache=warm, " in str(error.value)
