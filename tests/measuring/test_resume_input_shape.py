"""`measure --resume` refuses another --input-shape, as it refuses another --dtype or --cache: the model names do
not carry the shape, so rows of two shapes would read as one network's batch sizes. A dataset written before
plans recorded the shape still resumes."""

import json

from click.testing import CliRunner

from hwprof.cli import main
from hwprof.dataset import read_dataset, read_provenance

FAST = ["--power", "none", "--max-time", "0.2", "--threads", "1", "--sweep-share", "0", "--no-layers", "--quiet"]


def measure(out, *extra):
    return CliRunner().invoke(main, ["measure", "mlp", "--out", str(out), *FAST, *extra])


def test_a_resume_with_another_input_shape_is_refused_naming_the_one_to_give(tmp_path):
    out = tmp_path / "shaped.csv"
    assert measure(out, "--input-shape", "1,28,28").exit_code == 0
    assert read_provenance(out)[-1]["plan"]["input_shape"] == [1, 28, 28]
    before = out.read_bytes()
    for extra, given in (([], "--input-shape 1,28,28"), (["--input-shape", "784"], "--input-shape 1,28,28")):
        result = measure(out, "--resume", "--batch-size", "1", *extra)
        assert result.exit_code == 1 and "Traceback" not in result.output, result.output
        assert "other input_shape (" in result.output and f"give the same ({given})" in result.output, result.output
        assert "\n" not in result.output.strip()
    assert out.read_bytes() == before
    assert measure(out, "--resume", "--input-shape", "1,28,28").exit_code == 0


def test_a_shape_added_on_resume_is_refused_too(tmp_path):
    out = tmp_path / "plain.csv"
    assert measure(out).exit_code == 0
    assert read_provenance(out)[-1]["plan"]["input_shape"] is None
    result = measure(out, "--resume", "--input-shape", "784")
    assert result.exit_code == 1 and "give the same (without --input-shape 784)" in result.output, result.output


def test_a_dataset_from_before_the_shape_was_recorded_still_resumes(tmp_path):
    out = tmp_path / "old.csv"  # its provenance in the sidecar only
    assert measure(out, "--input-shape", "784").exit_code == 0
    sidecar = out.with_name(out.name + ".json")
    record = json.loads(sidecar.read_text())
    for run in record["runs"]:
        del run["plan"]["input_shape"]
    sidecar.write_text(json.dumps(record))
    result = measure(out, "--resume", "--input-shape", "784", "--batch-size", "1")
    assert result.exit_code == 0, result.output
    assert len(read_dataset(out)) == 1
