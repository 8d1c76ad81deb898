"""compare names a model one side measured in settings the other did not with those settings: "models only
in BASE: net" was said of a model NEW measured in float32 and float16 where only its bfloat16 run was missing,
and the float16 run only NEW holds went unmentioned. A model NEW lacks altogether is named as before."""

import json

import pandas as pd
from click.testing import CliRunner

from fakes.runs import DEVICE_NAME, write_run
from hwprof.cli import main
from hwprof.compare import compare
from hwprof.dataset import read_dataset, read_provenance, write_table


def run(*args):
    return CliRunner().invoke(main, ["compare", *map(str, args)])


def in_dtypes(folder, name, seed, dtypes, models=("net",)):
    """A file holding a run of `models` in each of `dtypes`, as `hwprof merge` of one run per dtype writes it."""
    run_path = write_run(folder / f"{name}-run.parquet", seed=seed, models=models, with_samples=False)
    frame = read_dataset(run_path)
    path = folder / f"{name}.parquet"
    write_table(path, pd.concat([frame.assign(dtype=dtype) for dtype in dtypes]), read_provenance(run_path))
    return path


def test_a_model_measured_in_other_dtypes_is_named_with_the_dtype_each_side_lacks(tmp_path):
    base = in_dtypes(tmp_path, "base", 1, ("float32", "bfloat16"))
    new = in_dtypes(tmp_path, "new", 2, ("float32", "float16"))
    report = compare(base, new)
    assert report["models_only_in_base"] == [{"device_name": DEVICE_NAME, "model": "net", "dtype": "bfloat16"}]
    assert report["settings_only_in_new"] == [{"device_name": DEVICE_NAME, "model": "net", "dtype": "float16"}]
    shown = run(base, new)
    assert shown.exit_code == 0, shown.output
    assert "note: models only in BASE: net bfloat16\n" in shown.output
    assert "note: models only in NEW in these settings (BASE measured them in others): net float16\n" in shown.output
    assert json.loads(run(base, new, "--json").output)["models_only_in_base"] == report["models_only_in_base"]


def test_a_model_new_lacks_in_every_dtype_is_named_alone_once(tmp_path):
    base = in_dtypes(tmp_path, "base", 1, ("float32", "bfloat16"), models=("net", "other"))
    new = in_dtypes(tmp_path, "new", 2, ("float32", "bfloat16"))
    report = compare(base, new)
    assert report["models_only_in_base"] == [{"device_name": DEVICE_NAME, "model": "other"}]
    assert report["settings_only_in_new"] == []
    assert "note: models only in BASE: other\n" in run(base, new).output


def test_a_compiled_network_only_new_measured_is_named_compiled(tmp_path):
    base = write_run(tmp_path / "base.parquet", seed=1, with_samples=False)
    new = write_run(tmp_path / "new.parquet", seed=2, with_samples=False)
    frame = read_dataset(new)
    write_table(new, frame.assign(compiled=frame["kind"].eq("network")), read_provenance(new))
    report = compare(base, new)
    assert report["models_only_in_base"] == []  # its eager layers pair
    assert report["settings_only_in_new"] == [{"device_name": DEVICE_NAME, "model": "net", "compiled": True}]
    assert "(BASE measured them in others): net compiled\n" in run(base, new).output
