"""search.json holds what runs its study again (the seed and the space as loaded), and the study's own start."""

import datetime
import re

from fakes.search_doubles import TOY_SPACE, ToyPredictor
from hwprof.search import results
from hwprof.search.constraints import parse_constraints
from hwprof.search.space import space_from_dict
from hwprof.search.study import SearchOptions, run_search


def searched(tmp_path, trials, storage=None):
    space = space_from_dict(TOY_SPACE)
    options = SearchOptions(
        trials=trials, constraints=parse_constraints(["latency_ms<=1"]), seed=3, storage=storage, study_name="s"
    )
    return run_search(space, ToyPredictor(), space.objective, space.objective_ref, options)


def test_search_json_records_the_seed_and_the_space_as_loaded(tmp_path):
    doc = results.load(results.dump(searched(tmp_path, 3), tmp_path / "search.json"))
    assert doc["seed"] == 3
    space = doc["space_definition"]
    assert space["input_shape"] == [4] and space["factory"] == "fakes.search_doubles:build_toy"
    width = next(p for p in space["params"] if p["name"] == "width")
    assert (width["kind"], width["low"], width["high"], width["step"]) == ("int", 2, 20, 2)


def test_started_is_the_studys_first_start_after_a_resume(tmp_path):
    journal = str(tmp_path / "study.journal")
    before = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    searched(tmp_path, 2, journal)
    resumed_at = "2099-01-01T00:00:00+00:00"  # the resuming command's start
    doc = results.load(results.dump(searched(tmp_path, 4, journal), tmp_path / "search.json", started=resumed_at))
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", doc["started"])
    assert before <= datetime.datetime.fromisoformat(doc["started"]) < datetime.datetime.fromisoformat(resumed_at)
    assert doc["command_started"] == resumed_at
