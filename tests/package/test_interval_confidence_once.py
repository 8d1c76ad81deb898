"""The interval level predict, evaluate, report and search give by default is stated once
(hwprof.predictor.INTERVAL_CONFIDENCE): a command and the library function it calls never disagree."""

import inspect

import pytest

from hwprof.cli import main
from hwprof.fitting.evaluate import evaluate
from hwprof.predictor import INTERVAL_CONFIDENCE
from hwprof.predictor.predictor import Predictor
from hwprof.report.page import build_report
from hwprof.search.study import DEFAULT_CONFIDENCE


@pytest.mark.parametrize("command", ["predict", "evaluate", "report"])
def test_each_command_defaults_to_the_one_level(command):
    params = {param.name: param for param in main.get_command(None, command).params}
    assert params["confidence"].default == INTERVAL_CONFIDENCE


@pytest.mark.parametrize("function", [evaluate, build_report, Predictor.predict, Predictor.predict_many])
def test_each_library_function_defaults_to_the_one_level(function):
    assert inspect.signature(function).parameters["confidence"].default == INTERVAL_CONFIDENCE


def test_search_asks_the_predictor_for_the_same_level():
    assert DEFAULT_CONFIDENCE == INTERVAL_CONFIDENCE
