"""measure when the counter freezes mid-run: power ends there with the reason recorded, the rows after say so."""

import pandas as pd
import pytest

from fakes.sysfs import FakeRaplTree, FakeZone
from hwprof.cli.measure import _stopped_note, summarize_frame
from hwprof.measuring import energy
from hwprof.measuring.session import MeasureOptions, _add_workers, _report_workers, measure
from hwprof.progress import Notes

FAST = {"precision": 0.3, "max_item_s": 0.2, "seed": 0, "threads": 1, "layers": False}


@pytest.mark.flaky(reruns=2)  # reads the fake RAPL counter over real time (see tests/fakes/sysfs.py)
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


def test_a_sensor_that_stopped_in_one_measuring_process_is_said_by_the_run_that_combined_them():
    """With --processes the combined run kept only the last worker's power section, so a sensor that stopped in
    an earlier worker was said nowhere: not at the end of the run, not by show."""
    fine = {"power": {"requested": "rapl", "source": "rapl:package-0"}, "allocator": {"policy": "default"}}
    stopped_power = {
        **fine["power"],
        "stopped_reason": "power measurement stopped: the counter did not advance",
        "stopped_after_rows": 3,
        "stopped_at": "2026-12-06T08:00:00",
    }
    runs = [fine, {**fine, "power": stopped_power}, fine]
    provenance = {"power": {"requested": "rapl"}}
    _add_workers(provenance, runs, None)
    assert provenance["power"]["stopped_in_process"] == 2 and provenance["power"]["stopped_after_rows"] == 3
    assert "stopped_reason" not in fine["power"]  # the workers' own sections are left as they were
    notes = []
    _report_workers(pd.DataFrame(), runs, MeasureOptions(power="rapl"), Notes(notes.append))
    assert [n for n in notes if "measuring process 2 of 3" in n and "sensor_stopped" in n]
    note = _stopped_note(provenance["power"])
    assert "did not advance (in measuring process 2, after 3 of its rows;" in note
