"""A factory returning (module, [tensor, tensor]), a detection model's list of images, is refused in one sentence:
hwprof would pass each image as an input of its own and take its first dimension for the batch."""

import pytest
import torch
import torch.nn as nn

from hwprof.errors import HwprofError
from hwprof.models.spec import resolve_model

FACTORY = """
import torch, torch.nn as nn

class ListIn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)

    def forward(self, images):
        return [self.conv(image.unsqueeze(0)) for image in images]

def build():
    return ListIn(), [torch.rand(3, 32, 32), torch.rand(3, 32, 32)]
"""


def test_a_list_of_images_from_a_factory_is_refused_in_one_sentence(tmp_path):
    path = tmp_path / "listin.py"
    path.write_text(FACTORY)
    with pytest.raises(HwprofError, match=r"a list of 2 tensors, and hwprof cannot feed a model a list") as raised:
        resolve_model(f"{path}:build")
    assert "\n" not in str(raised.value)


def test_a_list_of_tensors_given_from_python_is_refused_and_a_tuple_is_not():
    module = nn.Conv2d(3, 8, 3)
    with pytest.raises(HwprofError, match="give a tuple of batched tensors"):
        resolve_model((module, [torch.rand(1, 3, 8, 8)]))
    assert resolve_model((module, (torch.rand(1, 3, 8, 8),))).input_shape == (3, 8, 8)
