"""The memory guards compared psutil's available memory alone, which a container's memory.max or `ulimit -v`
leave far above what the process may allocate: the batch then failed inside torch's allocator. They read what
the process may still allocate now (drivers.host.available_memory_bytes)."""

import pytest
import torch

import hwprof
from hwprof.drivers import host
from hwprof.errors import HwprofError
from hwprof.measuring import session


def test_the_cpu_guard_reads_the_process_limits(monkeypatch):
    monkeypatch.setattr(host, "available_memory_bytes", lambda: 12345)
    assert session.available_memory_bytes(torch.device("cpu")) == 12345


def test_a_batch_beyond_the_process_limit_is_refused_in_one_sentence(monkeypatch):
    # room to build mlp (2.1 MB of weights, 1.35 times that to build and run), not for a batch of 512
    monkeypatch.setattr(host, "available_memory_bytes", lambda: 4 * 2**20)  # the machine's memory is left as it is
    with pytest.raises(HwprofError, match=r"mlp at batch size 512 needs about .* GiB is free on cpu"):
        hwprof.measure(["mlp"], batch_sizes=[512], power="none", max_item_s=0.02, sweep_share=0, threads=1)
