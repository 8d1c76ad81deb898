"""fit tells a run whose malloc a preloaded jemalloc served from one on glibc, by the allocator's library in the
label its allocator warning compares; a library recorded as other than text (damaged provenance) is refused in one
sentence naming the file, where fit failed as if it were a bug."""

from click.testing import CliRunner

from fakes.runs import write_run
from hwprof.cli import main
from hwprof.fitting.data import allocator_warning, read_inputs

JEMALLOC = {
    "policy": "steady",
    "applied": False,
    "library": "libjemalloc.so.2",
    "unavailable_reason": "malloc is served by libjemalloc.so.2, not glibc",
}
GLIBC = {"policy": "steady", "applied": True}


def test_a_jemalloc_run_and_a_glibc_run_are_told_apart(tmp_path):
    paths = [
        write_run(tmp_path / f"{name}.parquet", seed=seed, threads=1, provenance_fields={"allocator": allocator})
        for seed, (name, allocator) in enumerate((("jemalloc", JEMALLOC), ("glibc", GLIBC)))
    ]
    _, sources = read_inputs(paths)
    assert allocator_warning(sources).startswith(
        "the datasets were measured under different allocator policies (steady: glibc.parquet; "
        "steady (not applied, libjemalloc.so.2): jemalloc.parquet)"
    )


def test_a_library_that_is_not_text_is_refused_in_one_sentence(tmp_path):
    damaged = {"allocator": {**JEMALLOC, "library": ["libjemalloc.so.2"]}}
    path = write_run(tmp_path / "damaged.parquet", threads=1, provenance_fields=damaged)
    result = CliRunner().invoke(main, ["fit", str(path), "--out", str(tmp_path / "p.json")])
    assert result.exit_code == 1
    assert (
        f"The hwprof metadata inside {path} is damaged: its run 1 has \"allocator.library\": ['libjemalloc.so.2'], not text."
        in (result.output.replace("\n", " "))
    )
    assert "bug" not in result.output
