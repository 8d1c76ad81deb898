"""measure says the sensor's notes, as run does: what its energy covers beyond the run (a RAPL zone left out of the
total, sockets the process does not run on); they were kept in the provenance only."""

from click.testing import CliRunner

from fakes.sysfs import FakeRaplTree, FakeZone
from hwprof.cli import main


def test_a_top_zone_left_out_of_the_total_is_warned_of(sysfs_root, tmp_path):
    zones = [FakeZone("intel-rapl:0", "package-0", 42.0), FakeZone("intel-rapl:1", "socket-1", 40.0)]
    args = ["measure", "mlp", "--no-layers", "--power", "rapl", "--max-time", "0.05", "--precision", "0.5"]
    with FakeRaplTree(sysfs_root, zones):
        result = CliRunner().invoke(main, [*args, "--threads", "1", "--out", str(tmp_path / "m.parquet")])
    assert result.exit_code == 0, result.output
    assert "power: the RAPL zone intel-rapl:1 (socket-1) is a top zone of a kind hwprof does not know" in result.stderr
