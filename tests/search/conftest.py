"""Fixtures the search tests share."""

import pytest
import torch


@pytest.fixture
def one_thread():
    """Torch at one thread for the test, as the demo's training runs, and back as it was after."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
