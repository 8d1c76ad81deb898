"""measure when the counter freezes mid-run: power ends there with the reason recorded, the rows after say so."""

from fakes.sysfs import FakeRaplTree, FakeZone
from hwprof.cli.measure import summarize_frame
from hwprof.measuring import energy
from hwprof.measuring.session import measure
from hwprof.progress import Notes

FAST = {"precision": 0.3, "max_item_s": 0.2, "seed": 0, "threads": 1, "layers": False}


def test_a_counter_that_freezes_mid_run_ends_power_and_the_provenance_says_why(sysfs_root, monkeypatch):
    """It used to open, lengthen and flag no_energy windows for every item (20x slower), and the dataset did
    not say why most rows had no power."""
    calls = []
    with FakeRaplTree(sysfs_root, [FakeZone("intel-rapl:0", "package-0", 20.0)]) as tree:
        measure_energy = energy.measure_energy

        def freezing_after_the_first(*args, **kwargs):
            calls.append(1)
            if len(calls) == 2:
                tree.stop()  # the counter freezes
            return measure_energy(*args, **kwargs)

        monkeypatch.setattr(energy, "measure_energy", freezing_after_the_first)
        notes = []
        frame = measure(["mlp"], batch_sizes=[1, 2, 4], power="rapl", progress=Notes(notes.append), **FAST)
    assert len(calls) == 2  # no window is opened once the freeze is said
    (run,) = frame.attrs["provenance"]
    power = run["power"]
    assert "the counter of rapl:package-0 did not advance for" in power["stopped_reason"]
    assert power["stopped_reason"].startswith("power measurement stopped: ")
    assert power["stopped_after_rows"] == 1 and power["stopped_at"]
    assert frame["power_w"].notna().sum() == 1
    stopped = frame[frame["power_w"].isna()]
    assert len(stopped) == 2 and (stopped["power_flags"] == "sensor_stopped").all()
    assert (stopped["power_source"] == "rapl:package-0").all()
    assert len([n for n in notes if "did not advance for" in n]) == 1
    (note,) = summarize_frame(frame, runs=[run])["power_unavailable"]
    assert note.startswith(power["stopped_reason"]) and "sensor_stopped" in note
