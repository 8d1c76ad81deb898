"""The built-in demo's pieces: the CNN family, its training objective, the files its predictor is fitted from."""

import pytest
import torch
from click.testing import CliRunner

import hwprof.cli.search
import hwprof.search.demo as demo
from fakes.search_doubles import ToyPrediction
from hwprof.cli import main
from hwprof.models.spec import resolve_model


def test_every_corner_of_the_family_builds_and_gives_ten_logits():
    space = demo.demo_space()
    for config in demo.demo_measurement_configs(space, 6, seed=3):
        model = space.build({**config, "lr": 0.01})
        assert model(torch.zeros(2, *demo.DEMO_INPUT_SHAPE)).shape == (2, 10)


def test_measurement_configs_span_the_family_without_repeats():
    configs = demo.demo_measurement_configs(demo.demo_space(), 8)
    assert configs[0]["channels"] == 4 and configs[1]["channels"] == 64
    assert len({tuple(sorted(c.items())) for c in configs}) == 8
    assert all("lr" not in c for c in configs)  # training settings do not change the network


def test_family_file_names_resolve_like_any_model_file(tmp_path):
    configs = demo.demo_measurement_configs(demo.demo_space(), 3)
    path = tmp_path / "demo_family.py"
    path.write_text(demo.demo_family_source(configs))
    spec = resolve_model(f"{path}:{demo._factory_name(configs[1])}")
    assert spec.input_shape == demo.DEMO_INPUT_SHAPE
    assert spec.module.features[0].out_channels == 64


def test_training_learns_the_digits(monkeypatch, one_thread):
    monkeypatch.setattr(demo, "DEMO_EPOCHS", 1)
    params = {"channels": 8, "depth": 1, "kernel_size": 3, "hidden": 64, "pool": True, "lr": 0.01}
    accuracy = demo.train_on_digits(demo.build_digits_cnn(**params), params)
    assert 0.5 < accuracy <= 1.0  # chance is 0.1
    assert demo.train_on_digits(demo.build_digits_cnn(**params), params) == accuracy  # seeded by the config


class ParamsPredictor:
    """Latency proportional to the parameter count: the median budget is then a known number."""

    def predict(self, spec, batch_size=1, input_shape=None, confidence=0.9):
        latency = sum(p.numel() for p in spec.module.parameters()) / 1e4
        return ToyPrediction({"latency_ms": latency}, {"latency_ms": (latency * 0.9, latency * 1.1)}, {})


def test_default_budget_is_the_median_predicted_latency():
    budget = demo.demo_default_budget(ParamsPredictor(), samples=9)
    assert budget.startswith("latency_ms<=")
    assert float(budget.split("<=")[1]) > 0


def test_demo_without_constraint_picks_its_budget_and_runs(monkeypatch, tmp_path, one_thread):
    monkeypatch.setattr(hwprof.cli.search, "_predictor", lambda *args: ParamsPredictor())
    monkeypatch.setattr(demo, "DEMO_EPOCHS", 1)
    result = CliRunner().invoke(
        main, ["search", "demo", "--trials", "3", "--seed", "0", "--threads", "1", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert "demo budget: latency_ms<=" in result.output
    assert (tmp_path / "search.json").exists()


@pytest.mark.parametrize("measured", [True, False])
def test_an_interrupted_demo_measurement_says_how_to_carry_on(monkeypatch, tmp_path, measured):
    def interrupted(out_dir, **kwargs):
        if measured:
            (out_dir / demo.DEMO_DATASET).write_bytes(b"rows")
        raise KeyboardInterrupt

    monkeypatch.setattr(demo, "demo_predictor", interrupted)
    result = CliRunner().invoke(main, ["search", "demo", "--trials", "3", "--out", str(tmp_path / "out")])
    assert result.exit_code == 130 and "Traceback" not in result.output
    if measured:
        assert f"measured so far are kept in {tmp_path / 'out' / demo.DEMO_DATASET}" in result.stderr
        assert "run the same command to carry on (the measurement resumes where it stopped)" in result.stderr
    else:
        assert "nothing was measured yet; run the same command to start again" in result.stderr


def test_a_first_demo_measurement_starts_its_dataset_and_a_later_one_resumes_it(monkeypatch, tmp_path):
    """A first demo said 'nothing to resume: ... does not exist, so this run starts it' before measuring."""
    import hwprof.fitting.fit
    import hwprof.measuring.session

    resumes = []

    def measure(names, out, resume, **kwargs):
        resumes.append(resume)
        (tmp_path / demo.DEMO_DATASET).write_bytes(b"rows")
        raise KeyboardInterrupt  # the predictor is not needed: only how the measurement was asked for

    monkeypatch.setattr(hwprof.measuring.session, "measure", measure)
    for _ in range(2):
        with pytest.raises(KeyboardInterrupt):
            demo.demo_predictor(tmp_path, count=2)
    assert resumes == [False, True]


def test_a_demo_measured_while_others_held_the_cpu_says_so_before_it_fits(monkeypatch, tmp_path):
    """Every demo row had other_cpu_share 0.69-0.96 and the demo fitted its predictor and budget from them
    without a word, where `hwprof measure` warns: measure's warnings reach the demo's progress, its notes not."""
    import hwprof.fitting.fit
    import hwprof.measuring.session
    from hwprof.measuring.session import contention_warning
    from hwprof.progress import Notes

    def measure(names, out, resume, progress, **kwargs):
        progress.note("measuring 3 networks")
        progress.warn(contention_warning(2))

    def fit(*args, **kwargs):
        raise KeyboardInterrupt  # only what was said before the fit matters

    monkeypatch.setattr(hwprof.measuring.session, "measure", measure)
    monkeypatch.setattr(hwprof.fitting.fit, "fit", fit)
    said = []
    with pytest.raises(KeyboardInterrupt):
        demo.demo_predictor(tmp_path, count=3, progress=Notes(said.append))
    assert [text for text in said if text.startswith("warning:")] == [contention_warning(2)]
    assert "measuring 3 networks" not in said
