"""A space file's wrong types are one sentence when it loads, not a silent truncation or a warning per trial."""

import pytest

from fakes.search_doubles import TOY_SPACE
from hwprof.errors import HwprofError
from hwprof.search.space import space_from_dict


@pytest.mark.parametrize(
    ("change", "sentence"),
    [
        ({"input_shape": [3, 2.9, 32]}, "input_shape [3, 2.9, 32] must be positive integers"),
        ({"input_shape": [True, 4]}, "must be positive integers"),
        ({"params": {"width": {"low": 2, "high": 20, "log": "false"}}}, "log must be true or false, not 'false'"),
        (
            {"params": {"width": {"low": 8, "high": 16, "step": 3}}},
            "high - low (16 - 8) is not a multiple of step 3, so the range would end at 14: give high 14",
        ),
        ({"params": {"drop": {"low": 0.0, "high": 0.5, "step": 0.2}}}, "so the range would end at 0.4"),
    ],
)
def test_wrong_types_are_refused_when_the_space_loads(change, sentence):
    with pytest.raises(HwprofError) as refused:
        space_from_dict({**TOY_SPACE, **change})
    assert sentence in str(refused.value)


def test_ranges_that_steps_divide_and_whole_shapes_load():
    params = {"width": {"low": 2, "high": 20, "step": 2, "log": False}, "drop": {"low": 0.0, "high": 0.3, "step": 0.1}}
    space = space_from_dict({**TOY_SPACE, "input_shape": [3, 32, 32], "params": params})
    assert space.input_shape == (3, 32, 32) and [p.log for p in space.params] == [False, False]
