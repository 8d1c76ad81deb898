"""On a GPU the memory free for the next batch or cold copies counts what PyTorch's caching allocator holds
unused: cudaMemGetInfo reports it as used, though this process's next tensors are made from it first."""

import torch

from hwprof.measuring import session

GIB = 2**30


def test_memory_the_allocator_caches_unused_counts_as_free_on_a_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (50 * GIB, 80 * GIB))
    monkeypatch.setattr(torch.cuda, "memory_reserved", lambda device=None: 31 * GIB)
    monkeypatch.setattr(torch.cuda, "memory_allocated", lambda device=None: 1 * GIB)
    assert session.available_memory_bytes(torch.device("cuda", 0)) == 80 * GIB


def test_a_gpu_with_nothing_cached_has_the_drivers_free_memory(monkeypatch):
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (50 * GIB, 80 * GIB))
    monkeypatch.setattr(torch.cuda, "memory_reserved", lambda device=None: 0)
    monkeypatch.setattr(torch.cuda, "memory_allocated", lambda device=None: 0)
    assert session.available_memory_bytes(torch.device("cuda", 0)) == 50 * GIB
