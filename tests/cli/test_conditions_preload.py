"""`hwprof compare` names a preloaded allocator once: the allocator's line names its library, so LD_PRELOAD's
line in env would say the same thing again. A preload the allocator does not explain keeps its own line."""

from click.testing import CliRunner

from fakes.runs import write_run
from hwprof.cli import main
from hwprof.compare import compare

GLIBC = {"allocator": {"policy": "steady", "applied": True}, "env": {"OMP_NUM_THREADS": "1"}}
JEMALLOC = {
    "allocator": {"policy": "steady", "applied": False, "library": "libjemalloc.so.2"},
    "env": {"OMP_NUM_THREADS": "1", "LD_PRELOAD": "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"},
}
ALLOCATOR_LINE = (
    "BASE ran with allocator policy steady and NEW with allocator policy steady (not applied, libjemalloc.so.2): "
    "each ratio includes that change"
)


def test_a_preloaded_jemalloc_is_named_once(tmp_path):
    base = write_run(tmp_path / "base.parquet", seed=1, provenance_fields=GLIBC)
    new = write_run(tmp_path / "new.parquet", seed=2, provenance_fields=JEMALLOC)
    assert compare(base, new)["run_differences"] == [ALLOCATOR_LINE]
    shown = CliRunner().invoke(main, ["compare", str(base), str(new)])
    notes = [line for line in shown.output.splitlines() if line.startswith("note:")]
    assert sum(line.count("jemalloc") for line in notes) == 1, notes


def test_a_preload_beside_the_allocator_keeps_its_line(tmp_path):
    base = write_run(tmp_path / "base.parquet", seed=1, provenance_fields=GLIBC)
    both = {**JEMALLOC, "env": {"LD_PRELOAD": "/opt/libtrace.so:/usr/lib/libjemalloc.so.2", "OMP_NUM_THREADS": "1"}}
    new = write_run(tmp_path / "new.parquet", seed=2, provenance_fields=both)
    assert compare(base, new)["run_differences"] == [
        ALLOCATOR_LINE,
        "BASE ran with LD_PRELOAD unset and NEW with LD_PRELOAD=/opt/libtrace.so:/usr/lib/libjemalloc.so.2: "
        "each ratio includes that change",
    ]


def test_a_preload_is_named_where_the_allocator_was_not_recorded(tmp_path):
    """A run from before the allocator was recorded has only LD_PRELOAD to tell of jemalloc."""
    base = write_run(tmp_path / "base.parquet", seed=1, provenance_fields={"env": GLIBC["env"]})
    new = write_run(tmp_path / "new.parquet", seed=2, provenance_fields={"env": JEMALLOC["env"]})
    assert compare(base, new)["run_differences"] == [
        "BASE ran with LD_PRELOAD unset and NEW with LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2: "
        "each ratio includes that change"
    ]
