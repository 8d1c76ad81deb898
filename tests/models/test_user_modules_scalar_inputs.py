"""A 0-dim tensor example (a temperature beside the batch) was refused as "a positional input is a Tensor", which
contradicts itself; other values read "is a int"."""

import pytest
import torch

from hwprof.errors import HwprofError
from hwprof.models.inputs import from_examples


def test_a_0_dim_tensor_is_said_to_have_no_batch_dimension_and_where_it_belongs():
    with pytest.raises(HwprofError, match=r"a positional input is a 0-dim tensor, with no batch dimension.*buffer"):
        from_examples((torch.randn(1, 4), torch.tensor(0.5)))
    with pytest.raises(HwprofError, match=r"input temperature is a 0-dim tensor"):
        from_examples({"x": torch.randn(1, 4), "temperature": torch.tensor(0.5)})


def test_other_values_are_named_with_their_article():
    with pytest.raises(HwprofError, match=r"a positional input is an int: example inputs are tensors"):
        from_examples((torch.randn(1, 4), 3))
    with pytest.raises(HwprofError, match=r"input flag is a bool:"):
        from_examples({"x": torch.randn(1, 4), "flag": True})
    with pytest.raises(HwprofError, match=r"the example inputs are an int:"):
        from_examples(3)
