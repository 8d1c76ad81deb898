"""The sweep's end-of-run note reads as a sentence when its record names no op (it printed 'configurations of  in')."""

from hwprof.measuring.fit_sweep import SweepRecord


def test_a_record_without_ops_says_no_configurations():
    note = SweepRecord(0.2, sweep_s=4.3, networks_s=11.0).note()
    assert note.startswith("layer sweep for the fit: no configurations in 4.3 s")
    assert "of  in" not in note
    assert "3 configurations of relu, add in" in SweepRecord(0.2, ["relu", "add"], 3, 1.0, 5.0).note()
