"""`measure --resume` refuses a model file whose own module beside it (net.py imports blocks.py) changed since the
run it continues: the file's text alone decided, so a wider layer in blocks.py resumed, and the earlier batch sizes'
rows and the rest read as one network. A plan from before these modules were recorded resumes as it did."""

import hashlib
import json
import sys
import types

import pandas as pd
import pytest
from click.testing import CliRunner

from hwprof.cli import main
from hwprof.dataset import read_provenance

FAST = ["--power", "none", "--max-time", "0.05", "--threads", "1", "--sweep-share", "0", "--no-layers", "--quiet"]
NET = """
import torch.nn as nn

import uf_resume_blocks


def build():
    width = uf_resume_blocks.WIDTH
    model = nn.Sequential(nn.Linear(16, width), nn.ReLU(), nn.Linear(width, 2))
    model.input_shape = (16,)
    return model
"""


def measure(out, *extra):
    return CliRunner().invoke(
        main, ["measure", "net.py:build", "--batch-size", "1,2", "--out", str(out), *FAST, *extra]
    )


@pytest.fixture
def cut_short(tmp_path, monkeypatch):
    """A dataset of net.py:build (blocks.py's WIDTH 8) whose batch 2 is still to measure."""
    folder = tmp_path / "a"
    folder.mkdir()
    (folder / "net.py").write_text(NET)
    (folder / "uf_resume_blocks.py").write_text("WIDTH = 8\n")
    monkeypatch.chdir(folder)
    out = tmp_path / "net.parquet"
    assert measure(out).exit_code == 0
    rows = pd.read_parquet(out)
    rows[rows["batch_size"] == 1].to_parquet(out)
    return out


def test_a_resume_after_an_imported_module_was_edited_is_refused_naming_it(cut_short, tmp_path):
    blocks = tmp_path / "a" / "uf_resume_blocks.py"
    recorded = read_provenance(cut_short)[-1]["plan"]["model_files"]["net.py:build"]["imports"]
    assert recorded == {"uf_resume_blocks.py": hashlib.sha256(b"WIDTH = 8\n").hexdigest()}
    blocks.write_text("WIDTH = 64\n")
    before = cut_short.read_bytes()
    result = measure(cut_short, "--resume")
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert f"{blocks} changed since {cut_short} was measured from net.py:build, which imports it" in result.output
    assert "measure the changed one to another --out, or put the file back" in result.output
    assert "\n" not in result.output.strip()
    assert cut_short.read_bytes() == before
    blocks.write_text("WIDTH = 8\n")  # put back as it was: the run carries on
    result = measure(cut_short, "--resume")
    assert result.exit_code == 0, result.output
    assert set(pd.read_parquet(cut_short)["batch_size"]) == {1, 2}


def test_a_plan_from_before_imports_were_recorded_resumes_as_before(cut_short, tmp_path):
    sidecar = cut_short.with_name(cut_short.name + ".json")
    record = json.loads(sidecar.read_text())
    for run in record["runs"]:
        del run["plan"]["model_files"]["net.py:build"]["imports"]
    sidecar.write_text(json.dumps(record))
    (tmp_path / "a" / "uf_resume_blocks.py").write_text("WIDTH = 64\n")  # unknowable to such a plan
    result = measure(cut_short, "--resume")
    assert result.exit_code == 0, result.output
    assert set(pd.read_parquet(cut_short)["batch_size"]) == {1, 2}


def test_the_entry_script_of_a_venv_in_the_project_is_not_recorded(tmp_path, monkeypatch, request):
    """proj/.venv/bin/hwprof runs as __main__ (and, once torch's multiprocessing is imported, as __mp_main__): it
    lies under net.py's folder, and a reinstall that rewrote it refused the resume."""
    folder = tmp_path / "a"
    (folder / ".venv" / "bin").mkdir(parents=True)
    script = folder / ".venv" / "bin" / "hwprof"
    script.write_text("from hwprof.cli import main\nmain()\n")
    entry = types.ModuleType("__main__")
    entry.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", entry)
    monkeypatch.setitem(sys.modules, "__mp_main__", entry)
    (folder / "net.py").write_text(NET.replace("uf_resume_blocks", "uf_resume_venv_blocks"))
    (folder / "uf_resume_venv_blocks.py").write_text("WIDTH = 8\n")
    monkeypatch.chdir(folder)
    request.addfinalizer(lambda: sys.modules.pop("uf_resume_venv_blocks", None))
    out = tmp_path / "net.parquet"
    assert measure(out).exit_code == 0
    recorded = read_provenance(out)[-1]["plan"]["model_files"]["net.py:build"]["imports"]
    assert list(recorded) == ["uf_resume_venv_blocks.py"]
    rows = pd.read_parquet(out)
    rows[rows["batch_size"] == 1].to_parquet(out)
    script.write_text("from hwprof.cli import main\n\nmain()\n")  # as a reinstall rewrites it
    result = measure(out, "--resume")
    assert result.exit_code == 0, result.output
    assert set(pd.read_parquet(out)["batch_size"]) == {1, 2}
