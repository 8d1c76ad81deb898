"""Suite-wide settings: one intra-op thread, so tests do not oversubscribe a 2-core CI machine."""

import pytest
import torch


@pytest.fixture(autouse=True, scope="session")
def single_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
