"""fit's notes about its datasets name settings as the caller spells them: by flag on the command line."""

import pytest

from hwprof.errors import HwprofError, warnings_as_notes
from hwprof.fitting.data import allocator_warning, cache_warning, target_words

MIXED = [
    {"path": "a.parquet", "runs": [{"allocator": "steady", "cache": "cold"}]},
    {"path": "b.parquet", "runs": [{"allocator": "system", "cache": "warm"}]},
]


def test_mixed_allocator_and_cache_notes_name_the_setting_for_python_and_the_flag_for_the_command_line():
    assert "with one allocator policy" in allocator_warning(MIXED) and "--" not in allocator_warning(MIXED)
    assert "with one cache mode" in cache_warning(MIXED) and "--" not in cache_warning(MIXED)
    with warnings_as_notes(print):
        assert "with one --allocator policy" in allocator_warning(MIXED)
        assert "with one --cache mode" in cache_warning(MIXED)


def test_a_target_is_taken_and_offered_in_both_spellings():
    assert target_words("latency_ms, energy") == ["latency", "energy"]
    with pytest.raises(HwprofError, match="choose from latency or latency_ms, power or power_w, energy or energy_mj"):
        target_words("speed")
