"""An output written without --force never replaces a file another process wrote at that path meanwhile, and is
not lost either: it goes beside it, under a name the refusal gives."""

import os

import pytest

from hwprof.errors import HwprofError
from hwprof.files import WrittenAside, write_atomically, write_text_atomically


def test_an_unforced_write_is_refused_when_another_process_wrote_the_file_meanwhile(tmp_path):
    """Two `fit --out pred.json` at once: both passed the start's check, and the second replaced the first."""
    out = tmp_path / "pred.json"

    def other_process_finishes_first(temporary):
        out.write_text("the other fit\n")
        temporary.write_text("this fit\n")

    with pytest.raises(
        WrittenAside, match=r"written by another process while this one ran, so this one's was"
    ) as refused:
        write_atomically(out, other_process_finishes_first, force=False)
    assert out.read_text() == "the other fit\n"
    aside = tmp_path / f"pred.{os.getpid()}.json"
    assert str(aside) in str(refused.value) and aside.read_text() == "this fit\n"  # refused, yet not lost
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["pred.json", aside.name])  # no temporary left
    assert isinstance(refused.value, HwprofError)  # one sentence and exit 1 from the command line


def test_a_second_write_aside_takes_the_next_free_name(tmp_path):
    out = tmp_path / "pred.json"
    out.write_text("the other fit\n")
    taken = tmp_path / f"pred.{os.getpid()}.json"
    taken.write_text("an earlier one\n")
    with pytest.raises(WrittenAside):
        write_text_atomically(out, "this fit\n", force=False)
    assert (tmp_path / f"pred.{os.getpid()}.1.json").read_text() == "this fit\n"
    assert taken.read_text() == "an earlier one\n"


def test_an_unforced_write_of_a_new_file_and_a_forced_one_over_it_are_written(tmp_path):
    out = tmp_path / "pred.json"
    write_text_atomically(out, "first\n", force=False)
    assert out.read_text() == "first\n"
    write_text_atomically(out, "second\n")
    assert out.read_text() == "second\n" and [p.name for p in tmp_path.iterdir()] == ["pred.json"]
