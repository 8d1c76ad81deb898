"""A Hugging Face model's family from its name, wherever its folder is: a drive letter is no :key=value."""

import pytest

from hwprof.models.sources import family_of_source_model


@pytest.mark.parametrize(
    "name",
    [
        r"hf:C:\models\tiny-bert:num_hidden_layers=2",
        r"hf:C:\models\tiny-bert",
        "hf:C:/models/tiny-bert:num_hidden_layers=2,hidden_size=64",
        "hf:/models/tiny-bert:num_hidden_layers=2",
        "hf:org/tiny-bert",
    ],
)
def test_a_model_folder_after_a_drive_letter_gets_its_own_family_not_the_drives(name):
    """hf:C:\\models\\tiny-bert:num_hidden_layers=2 was of the family 'c'."""
    assert family_of_source_model(name) == "tiny"


def test_overrides_after_an_architecture_name_are_not_its_family():
    assert family_of_source_model("hf:llama:hidden_size=256,num_hidden_layers=4") == "llama"
