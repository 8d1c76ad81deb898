"""A study from before hwprof recorded its space fingerprint and predictor resumes only where its trials show
they fit: a changed space or another predictor is refused in one sentence, and the study is left as it was."""

import optuna
import pytest

from fakes.search_doubles import TOY_SPACE, ToyPredictor, score_toy
from hwprof.errors import HwprofError
from hwprof.search.constraints import parse_constraints
from hwprof.search.space import space_from_dict
from hwprof.search.study import LATER_SETTINGS, SearchOptions, open_storage, run_search


def options(journal, trials):
    constraints = parse_constraints(["latency_ms<=1"])
    return SearchOptions(trials=trials, constraints=constraints, storage=str(journal), study_name="toy-study")


def stored(journal):
    return optuna.load_study(study_name="toy-study", storage=open_storage(str(journal)))


class _SlowerToyPredictor(ToyPredictor):
    """Another board's predictor: every cost twice the toy predictor's."""

    def predict(self, model_or_spec, batch_size=1, input_shape=None, confidence=0.9):
        prediction = super().predict(model_or_spec, batch_size, input_shape, confidence)
        prediction.total = {metric: 2 * value for metric, value in prediction.total.items()}
        return prediction


@pytest.fixture
def old_study(tmp_path):
    journal = tmp_path / "study.journal"
    run_search(space_from_dict(TOY_SPACE), ToyPredictor(), score_toy, "toy", options(journal, 3))
    study = stored(journal)
    settings = {k: v for k, v in study.user_attrs["settings"].items() if k not in LATER_SETTINGS}
    study.set_user_attr("settings", settings)  # as a study written before these were kept
    return journal, settings


def test_an_old_study_resumed_with_a_changed_space_is_refused_and_left_as_it_was(old_study):
    journal, settings = old_study
    changed = space_from_dict({**TOY_SPACE, "params": {**TOY_SPACE["params"], "head": ["narrow", "deep"]}})
    with pytest.raises(HwprofError, match="space 'toy' has changed since study 'toy-study'"):
        run_search(changed, ToyPredictor(), score_toy, "toy", options(journal, 6))
    study = stored(journal)
    assert study.user_attrs["settings"] == settings and len(study.trials) == 3
    resumed = run_search(space_from_dict(TOY_SPACE), ToyPredictor(), score_toy, "toy", options(journal, 5))
    assert len(resumed.finished) == 5  # the space as it was still resumes


def test_an_old_study_resumed_with_another_predictor_is_refused_and_left_as_it_was(old_study):
    journal, settings = old_study
    space = space_from_dict(TOY_SPACE)
    with pytest.raises(HwprofError, match=r"run before hwprof recorded its predictor.*predicts other costs"):
        run_search(space, _SlowerToyPredictor(), score_toy, "toy", options(journal, 6))
    study = stored(journal)
    assert study.user_attrs["settings"] == settings and len(study.trials) == 3
    assert len(run_search(space, ToyPredictor(), score_toy, "toy", options(journal, 5)).finished) == 5
