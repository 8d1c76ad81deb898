"""An output written without --force never replaces a file another process wrote at that path meanwhile."""

import pytest

from hwprof.errors import HwprofError
from hwprof.files import write_atomically, write_text_atomically


def test_an_unforced_write_is_refused_when_another_process_wrote_the_file_meanwhile(tmp_path):
    """Two `fit --out pred.json` at once: both passed the start's check, and the second replaced the first."""
    out = tmp_path / "pred.json"

    def other_process_finishes_first(temporary):
        out.write_text("the other fit\n")
        temporary.write_text("this fit\n")

    with pytest.raises(HwprofError, match=r"written by another process while this one ran; pass force=True"):
        write_atomically(out, other_process_finishes_first, force=False)
    assert out.read_text() == "the other fit\n"
    assert [p.name for p in tmp_path.iterdir()] == ["pred.json"]  # no temporary left


def test_an_unforced_write_of_a_new_file_and_a_forced_one_over_it_are_written(tmp_path):
    out = tmp_path / "pred.json"
    write_text_atomically(out, "first\n", force=False)
    assert out.read_text() == "first\n"
    write_text_atomically(out, "second\n")
    assert out.read_text() == "second\n" and [p.name for p in tmp_path.iterdir()] == ["pred.json"]
