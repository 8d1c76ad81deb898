"""measure when the sensor gives nothing or stops mid-run: a note that says why, rows without power, no crash."""

import pytest

from fakes.sysfs import FakeRaplTree, FakeZone, stopping_tegrastats
from hwprof.measuring.session import measure
from hwprof.progress import Notes

FAST = {"precision": 0.3, "max_item_s": 0.2, "seed": 0, "threads": 1, "layers": False}


@pytest.mark.flaky(reruns=2)  # reads the fake RAPL counter over real time (see tests/fakes/sysfs.py)
@pytest.mark.slow
def test_a_frozen_counter_is_noted_once_with_its_reason(sysfs_root):
    FakeRaplTree(sysfs_root, [FakeZone("intel-rapl:0", "package-0", 42.0)])  # the files, never updated
    notes = []
    frame = measure(["mlp"], batch_sizes=[1, 2], power="auto", progress=Notes(notes.append), **FAST)
    assert frame["power_w"].isna().all()
    said = [n for n in notes if "did not advance" in n]
    assert len(said) == 1 and "the counter of rapl:package-0" in said[0] and "virtual machines" in said[0]


@pytest.mark.slow
def test_a_tegrastats_that_exits_mid_run_is_noted_and_latency_is_kept(sysfs_root):
    tegrastats = stopping_tegrastats(sysfs_root / "bin", 2)
    notes = []
    frame = measure(
        ["mlp"], batch_sizes=[1, 2, 4], power="jetson", tegrastats=str(tegrastats), progress=Notes(notes.append), **FAST
    )
    assert frame["latency_ms"].notna().all() and frame["power_w"].isna().any()
    said = [n for n in notes if n.startswith("power measurement stopped: tegrastats at")]
    assert len(said) == 1 and "exited with status 124" in said[0]
