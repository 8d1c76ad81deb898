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


def test_a_prior_whose_every_board_is_left_out_says_so_once(tmp_path):
    from test_thread_and_dtype_mixes import merged_thread_mix

    from fakes.synthetic import synthetic_frame, write
    from hwprof.fitting.fit import fit
    from hwprof.progress import Notes

    notes = []
    pi = merged_thread_mix(tmp_path / "pimix.parquet", device="Raspberry Pi 5", seed=2)
    new = synthetic_frame(n_networks=20, seed=1, device="new")
    train = write(new[new["model"].isin(sorted(set(new["model"]))[:5])], tmp_path / "new5.parquet")
    with pytest.raises(HwprofError, match="no board of the prior datasets is left.*Raspberry Pi 5"):
        fit([train], family="polynomial", prior=[pi], cv=False, progress=Notes(notes.append))
    assert not [note for note in notes if "left out" in note]
