"""An empty value (an unset variable in a script) silently meant "not given" in the options next to the ones fixed:
`measure --seq-len ''` measured every length, `predict --input-shape ''`, `--hf-config ''` and `--seq-len ''`
predicted at the defaults, `search --objective ''` took the space's objective and `search --out ''` wrote into the
current folder. Each is refused in one sentence, as `measure --input-shape ''` is."""

import pytest
import yaml
from click.testing import CliRunner

from fakes.search_doubles import TOY_SPACE
from fakes.synthetic import predictor_of_one_run
from hwprof.cli import main

MODEL_OPTIONS = ["--input-shape", "--hf-config", "--seq-len"]


def refused(result, option: str) -> None:
    assert result.exit_code == 1, result.output
    assert result.output.startswith(f"Error: {option} is empty: ") and result.output.count("\n") == 1, result.output
    assert result.output.rstrip().endswith("or drop it")


@pytest.fixture(scope="module")
def predictor(tmp_path_factory):
    return predictor_of_one_run(tmp_path_factory.mktemp("predictor"))


@pytest.mark.parametrize("option", MODEL_OPTIONS)
@pytest.mark.parametrize("value", ["", " "])
def test_predict_refuses_an_empty_model_option(predictor, option, value):
    refused(CliRunner().invoke(main, ["predict", str(predictor), "mlp", option, value]), option)


@pytest.mark.parametrize("value", ["", " "])
def test_measure_refuses_an_empty_seq_len(tmp_path, value):
    out = tmp_path / "out.parquet"
    quick = ["--max-time", "0.05", "--no-layers", "--sweep-share", "0", "--threads", "1"]  # were it measured
    refused(CliRunner().invoke(main, ["measure", "mlp", "--seq-len", value, *quick, "-o", str(out)]), "--seq-len")
    assert not out.exists()


@pytest.mark.parametrize("option", ["--objective", "--out"])
def test_search_refuses_an_empty_objective_or_out_folder(tmp_path, monkeypatch, option):
    space = tmp_path / "toy.yaml"
    space.write_text(yaml.safe_dump(TOY_SPACE))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["search", str(space), "--predictor", "unused.json", option, ""])
    refused(result, option)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["toy.yaml"]  # nothing written into the current folder
