"""`measure sweep:add sweep:conv2d sweep:gelu --max-time 0.03` warned for nearly every item ("add layer add of
sweep:add at batch size 1 took 0.0362 s where --max-time 0.03 allows it 0.03 s: one sample (1414 calls ...") ,
about 200 lines. A line per item is for a call that outlasts the budget (README); items that a sample of quick
calls ran over are one line at the end, with a budget that would hold them."""

import warnings

import hwprof
from hwprof.errors import HwprofWarning
from hwprof.measuring.session import _rounded_up


def test_quick_calls_over_a_short_budget_are_one_line(tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        hwprof.measure(["sweep:add:8"], threads=1, max_item_s=0.01, power="none", max_other_share=1.0, seed=0)
    said = [str(w.message) for w in caught if issubclass(w.category, HwprofWarning)]
    assert not [text for text in said if "allows it" in text]  # no call of an add outlasts 0.01 s
    (line,) = [text for text in said if "ran past" in text]
    assert line.split(" item")[0].isdigit() and " ran past max_item_s=0.01 by up to " in line
    assert "or more would keep each within 10% of it" in line


def test_a_suggested_budget_is_rounded_up_to_two_digits():
    assert _rounded_up(0.0481) == 0.049
    assert _rounded_up(0.049) == 0.049
    assert _rounded_up(2.01) == 2.1
