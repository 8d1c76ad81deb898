"""merge's warning of runs under other allocator policies names each shard by the shortest ending of its path that
no other shard shares: two boards' folders each holding m.parquet read alike by their file names alone."""

from click.testing import CliRunner

from fakes.runs import write_run
from hwprof.cli import main

STEADY = {"allocator": {"policy": "steady", "applied": True}}
SYSTEM = {"allocator": {"policy": "system", "applied": True}}


def test_shards_of_one_file_name_are_named_by_their_folders(tmp_path):
    for folder in ("orin/nightly", "xavier/nightly"):
        (tmp_path / folder).mkdir(parents=True)
    write_run(tmp_path / "orin" / "nightly" / "m.parquet", seed=1, provenance_fields=STEADY)
    write_run(tmp_path / "xavier" / "nightly" / "m.parquet", seed=2, provenance_fields=SYSTEM)
    write_run(tmp_path / "xavier" / "n.parquet", seed=3, provenance_fields=SYSTEM)
    shards = [
        str(tmp_path / path) for path in ("orin/nightly/m.parquet", "xavier/nightly/m.parquet", "xavier/n.parquet")
    ]
    done = CliRunner().invoke(main, ["merge", *shards, "--out", str(tmp_path / "all.parquet")])
    assert done.exit_code == 0, done.output
    said = " ".join(done.stderr.split())
    assert "under different allocator policies (steady: orin/nightly/m.parquet; system: " in said, said
    system = said.split("system: ")[1].split(")")[0]
    assert sorted(system.split(", ")) == ["n.parquet", "xavier/nightly/m.parquet"]  # in the order of their runs
