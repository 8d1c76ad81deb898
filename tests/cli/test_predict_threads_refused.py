"""predict --threads N asks for figures at N threads. A predictor's figures are for the thread count its training runs
were measured at, so another count is refused in one sentence (predict had no --threads, and nothing compared a
count asked for with the predictor's); where its data recorded none, the figures come with a note that N is not
checked. The Python API's threads= does the same."""

import numpy as np
import pytest
from click.testing import CliRunner

import hwprof
from fakes.synthetic import predictor_of_network_rows, predictor_of_one_run
from hwprof.cli import main


@pytest.fixture(scope="module")
def one_thread(tmp_path_factory):
    """A predictor fitted on one run at 1 thread."""
    return predictor_of_one_run(tmp_path_factory.mktemp("one_thread"))


@pytest.fixture(scope="module")
def no_count(tmp_path_factory):
    """A predictor of network rows alone, whose data recorded no thread count."""
    return predictor_of_network_rows(tmp_path_factory.mktemp("rows"))


def predict(*args: str):
    return CliRunner().invoke(main, ["predict", *map(str, args)], env={"COLUMNS": "200"})


def test_another_thread_count_than_the_predictor_s_is_refused_in_one_sentence(one_thread):
    result = predict(one_thread, "mlp", "--threads", "4")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "fitted on runs at 1 thread, so its figures are for that count, not for --threads 4" in result.output
    assert "measure networks at 4 threads with `hwprof measure MODELS --threads 4`" in result.output
    assert predict(one_thread, "mlp", "--threads", "4", "--json").exit_code == 1


def test_the_predictor_s_own_count_predicts_as_without_threads(one_thread):
    given, default = predict(one_thread, "mlp", "--threads", "1"), predict(one_thread, "mlp")
    assert given.exit_code == default.exit_code == 0, given.output
    assert given.output == default.output


@pytest.mark.parametrize("count", ["0", "-2"])
def test_a_thread_count_below_one_is_one_sentence(one_thread, count):
    result = predict(one_thread, "mlp", "--threads", count)
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert f"--threads {count}: give a positive whole number of threads" in result.output


def test_a_predictor_that_recorded_no_count_predicts_with_a_note(no_count):
    result = predict(no_count, "mlp", "--threads", "2")
    assert result.exit_code == 0, result.output
    assert (
        "note: mlp: its training data recorded no thread count, so whether its figures are for 2 threads is not "
        "checked" in result.output
    )
    assert "recorded no thread count" not in predict(no_count, "mlp").output.split("\n", 1)[1]


def test_the_python_api_refuses_another_count_alike(one_thread):
    predictor = hwprof.load_predictor(one_thread)
    with pytest.raises(hwprof.HwprofError, match=r"not for threads=4; .* or leave threads out$"):
        predictor.predict("mlp", threads=4)
    with pytest.raises(hwprof.HwprofError, match="not for threads=2"):
        predictor.predict_many(["mlp"], threads=np.int64(2))
    with pytest.raises(hwprof.HwprofError, match=r"threads=True: give a positive whole number"):
        predictor.predict("mlp", threads=True)
    assert predictor.predict("mlp", threads=1).total == predictor.predict("mlp").total
    assert list(predictor.predict_many(["mlp"], threads=1)["latency_ms"]) == [
        predictor.predict("mlp").total["latency_ms"]
    ]
