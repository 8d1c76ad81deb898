"""`(ulimit -v 4500000; hwprof measure squeezenet1_1 --batch-size 32)` said "hwprof failed unexpectedly
(RuntimeError: [enforce fail at alloc_cpu.cpp:127] ... DefaultCPUAllocator: can't allocate memory ...); this is a
bug". An allocation that fails is the input's size against the memory there is: one sentence, exit status 1."""

import pytest
import torch
from click.testing import CliRunner

from hwprof.cli import main
from hwprof.measuring import session

CPU = (
    "[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate memory: you tried to "
    "allocate 4831838208 bytes. Error code 12 (Cannot allocate memory)"
)
CUDA = "CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 79.19 GiB"


@pytest.mark.parametrize(
    ("error", "asked"),
    [
        (RuntimeError(CPU), " (4.5 GiB asked for at once); "),
        (torch.OutOfMemoryError(CUDA), " (2.00 GiB asked for at once); "),
        (MemoryError(), "; "),
    ],
)
def test_an_allocation_that_fails_is_one_sentence_not_a_bug(monkeypatch, error, asked):
    def allocating(*args, **kwargs):
        raise error

    monkeypatch.setattr(session, "measure", allocating)
    result = CliRunner().invoke(main, ["measure", "mlp", "--power", "none"])
    assert result.exit_code == 1
    assert "bug" not in result.output and "Traceback" not in result.output
    assert f"Error: out of memory while running `hwprof measure`{asked}try a smaller --batch-size" in result.output


def test_other_runtime_errors_are_still_bugs(monkeypatch):
    def failing(*args, **kwargs):
        raise RuntimeError("shape mismatch")

    monkeypatch.setattr(session, "measure", failing)
    result = CliRunner().invoke(main, ["measure", "mlp", "--power", "none"])
    assert result.exit_code == 1 and "this is a bug" in result.output
