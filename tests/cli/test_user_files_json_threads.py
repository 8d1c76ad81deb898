"""Under --json, stdout holds the JSON alone, whichever thread prints: a print from a thread the user's model
starts (a data loader's worker, a logging thread) went to stdout, since whether --json was given was read from
click's context, which a thread of its own does not have, and the JSON no longer parsed."""

import json

from click.testing import CliRunner

from hwprof.cli import main

FAST = ["--power", "none", "--sweep-share", "0", "--max-time", "0.05", "--threads", "1", "--seed", "0", "--quiet"]
THREADED = """
import threading

import torch.nn as nn


def _worker():
    print("from the model's worker thread")


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 4)
        self.started = False

    def forward(self, x):
        if not self.started:  # once, as a loader starts its workers
            self.started = True
            worker = threading.Thread(target=_worker)
            worker.start()
            worker.join()
        return self.linear(x)


def build():
    model = Net()
    model.input_shape = (4,)
    return model
"""


def _measure(tmp_path, *extra):
    (tmp_path / "uf_threaded.py").write_text(THREADED)
    out = tmp_path / "threaded.parquet"
    args = [f"{tmp_path / 'uf_threaded.py'}:build", "--out", str(out), "--no-layers", *FAST, *extra]
    return CliRunner().invoke(main, ["measure", *args])


def test_a_print_from_a_models_own_thread_goes_to_stderr_under_json(tmp_path):
    result = _measure(tmp_path, "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert isinstance(document, dict)
    assert "from the model's worker thread" in result.stderr


def test_without_json_the_threads_print_stays_on_stdout(tmp_path):
    result = _measure(tmp_path)
    assert result.exit_code == 0, result.output
    assert "from the model's worker thread" in result.stdout
