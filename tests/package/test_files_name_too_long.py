"""A file name past the folder's limit (255 bytes) is one sentence, as a name of 250-255 bytes already was,
never "failed unexpectedly (OSError: [Errno 36] File name too long)"."""

import pytest

from hwprof.dataset import read_dataset
from hwprof.errors import HwprofError
from hwprof.files import check_output, followed


@pytest.fixture
def long_name(tmp_path):
    return tmp_path / f"{'n' * 252}.parquet"  # 260 bytes


def test_an_output_name_past_the_limit_is_refused_in_words(long_name):
    with pytest.raises(HwprofError, match=r"The output name n{40}\.\.\. is 260 bytes long.*at most \d+ bytes"):
        check_output(long_name, companions=True)


def test_an_input_name_past_the_limit_is_refused_in_words(long_name):
    with pytest.raises(HwprofError, match=r"The name n{40}\.\.\. in .* is 260 bytes long, past this folder's limit"):
        read_dataset(long_name)


def test_a_name_past_the_limit_followed_through_links_is_refused_in_words(long_name):
    with pytest.raises(HwprofError, match=r"is 260 bytes long"):
        followed(long_name)


def test_a_dataset_named_near_the_limit_is_read_though_its_companions_names_cannot_exist(tmp_path):
    """The look for `<name>.processes` beside a 250-byte name raised "File name too long"."""
    from fakes.runs import write_run

    near = tmp_path / f"{'n' * 242}.parquet"
    write_run(tmp_path / "short.parquet").rename(near)
    assert len(read_dataset(near)) > 0
