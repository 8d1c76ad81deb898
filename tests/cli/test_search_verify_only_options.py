"""--device, --power and --verify-count only shape what `search --verify` measures: without --verify they were
accepted, unchecked and ignored."""

import pytest
import yaml
from click.testing import CliRunner

import hwprof.cli.search
from fakes.search_doubles import TOY_SPACE, ToyPredictor
from hwprof.cli import main


def _search(tmp_path, monkeypatch, *extra):
    space = tmp_path / "toy.yaml"
    space.write_text(yaml.safe_dump(TOY_SPACE))
    monkeypatch.setattr(hwprof.cli.search, "_predictor", lambda *args: ToyPredictor())
    args = ["search", str(space), "--constraint", "latency_ms<=1", "--trials", "2", "--seed", "1"]
    return CliRunner().invoke(main, [*args, "--out", str(tmp_path / "out"), *extra])


@pytest.mark.parametrize(
    "extra, sentence",
    [
        (["--device", "nonsense"], "--device nonsense only shapes what --verify measures: add --verify, or drop it"),
        (["--verify-count", "999"], "--verify-count 999 only shapes what --verify measures: add --verify, or drop it"),
        (
            ["--device", "cuda", "--power", "jetson", "--verify-count", "3"],
            "--device cuda, --power jetson and --verify-count 3 only shape what --verify measures: add --verify, "
            "or drop them",
        ),
    ],
)
def test_verify_options_without_verify_are_refused_in_one_sentence(tmp_path, monkeypatch, extra, sentence):
    result = _search(tmp_path, monkeypatch, *extra)
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [f"Error: {sentence}"]
    assert not (tmp_path / "out").exists()


def test_their_defaults_given_without_verify_still_search(tmp_path, monkeypatch):
    result = _search(tmp_path, monkeypatch, "--device", "cpu", "--power", "auto", "--verify-count", "5")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "search.json").exists()
