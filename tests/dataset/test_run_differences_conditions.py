"""`hwprof compare` names each setting its two sides' runs recorded differently that moves every latency: the
allocator, the governor, turbo, the CPU kernels torch picked, oneDNN, the CPU itself and the kernel and thread
variables. What one side did not record (a dataset from before, an unreadable sysfs file) is no difference."""

import pytest

from fakes.runs import write_run
from hwprof.compare import compare
from hwprof.dataset import read_dataset
from hwprof.errors import HwprofError

AMD = {"vendor": "AuthenticAMD", "family": "25", "model": "17", "stepping": "1", "microcode": "0x1000065"}
RUN = {
    "allocator": {"policy": "steady", "applied": True},
    "governor": "performance",
    "turbo": "on",
    "cpu_capability": "AVX512",
    "mkldnn_enabled": True,
    "cpu_id": AMD,
    "env": {"OMP_NUM_THREADS": "1"},
}
OTHER = {
    "allocator": {"policy": "system", "applied": True},
    "governor": "powersave",
    "turbo": "off",
    "cpu_capability": "DEFAULT",
    "mkldnn_enabled": False,
    "cpu_id": {**AMD, "model": "1", "microcode": "unreadable"},
    "env": {"OMP_NUM_THREADS": "1", "ATEN_CPU_CAPABILITY": "default"},
}


def test_every_setting_recorded_differently_is_one_line_naming_both_values(tmp_path):
    base = write_run(tmp_path / "base.parquet", seed=1, provenance_fields=RUN)
    new = write_run(tmp_path / "new.parquet", seed=2, provenance_fields=OTHER)
    assert compare(base, new)["run_differences"] == [
        f"BASE ran with {ours} and NEW with {theirs}: each ratio includes that change"
        for ours, theirs in (
            ("allocator policy steady", "allocator policy system"),
            ("CPU governor performance", "CPU governor powersave"),
            ("turbo on", "turbo off"),
            ("torch CPU capability AVX512", "torch CPU capability DEFAULT"),
            ("oneDNN on", "oneDNN off"),
            (
                "CPU AuthenticAMD family 25 model 17 stepping 1 microcode 0x1000065",
                "CPU AuthenticAMD family 25 model 1 stepping 1",
            ),
            ("ATEN_CPU_CAPABILITY unset", "ATEN_CPU_CAPABILITY=default"),
        )
    ]
    again = write_run(tmp_path / "again.parquet", seed=3, provenance_fields=RUN)
    assert compare(base, again)["run_differences"] == []


def test_an_allocator_not_applied_is_a_difference(tmp_path):
    base = write_run(tmp_path / "base.parquet", seed=1, provenance_fields={"allocator": RUN["allocator"]})
    preloaded = {"policy": "steady", "applied": False, "library": "libjemalloc.so.2"}
    new = write_run(tmp_path / "new.parquet", seed=2, provenance_fields={"allocator": preloaded})
    assert compare(base, new)["run_differences"] == [
        "BASE ran with allocator policy steady and NEW with allocator policy steady (not applied, libjemalloc.so.2): "
        "each ratio includes that change"
    ]


def test_a_setting_one_side_did_not_record_or_read_is_no_difference(tmp_path):
    base = write_run(tmp_path / "base.parquet", seed=1, provenance_fields=RUN)
    old = write_run(tmp_path / "old.parquet", seed=2)  # measured before any of these were recorded
    assert compare(base, old)["run_differences"] == []
    unreadable = {"governor": "unreadable", "turbo": "unreadable", "cpu_capability": "unreadable"}
    blind = write_run(tmp_path / "blind.parquet", seed=3, provenance_fields=unreadable)
    assert compare(base, blind)["run_differences"] == []


def test_an_environment_or_cpu_id_that_is_not_an_object_is_refused_as_damage(tmp_path):
    for key in ("env", "cpu_id"):
        path = write_run(tmp_path / f"{key}.parquet", provenance_fields={key: "OMP_NUM_THREADS=1"})
        with pytest.raises(HwprofError, match=f'"{key}": .* not an object'):
            read_dataset(path)


def test_a_measure_run_from_before_the_allocator_was_recorded_ran_with_the_system_allocator(tmp_path):
    """Runs from before measure pinned glibc's allocator recorded no policy and were read as unknown, so a zoo of
    2026-11-28 against the same models under steady (0.42-0.59x on mlp_large and mobilenet_v2) showed no
    difference."""
    method = {"precision": 0.02, "burst": 3}  # what marks a measure run's provenance, old or new
    base = write_run(tmp_path / "base.parquet", seed=1, provenance_fields={"allocator": RUN["allocator"]})
    old = write_run(tmp_path / "old.parquet", seed=2, provenance_fields={"method": method})
    assert compare(base, old)["run_differences"] == [
        "BASE ran with allocator policy steady and NEW with allocator policy system: each ratio includes that change"
    ]
    system = write_run(tmp_path / "system.parquet", seed=3, provenance_fields={"allocator": OTHER["allocator"]})
    assert compare(system, old)["run_differences"] == []
