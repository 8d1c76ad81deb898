"""`show`'s not_measured left out a group whose network row was written before all its layer rows (the network's
--max-time spent first, then the run interrupted), though `measure --resume` still had that group to measure."""

from collections import Counter
from types import SimpleNamespace

import pandas as pd
import pytest

from fakes.runs import synthetic_row
from hwprof.dataset import DatasetWriter, not_measured, read_dataset
from hwprof.measuring.session import _Session
from hwprof.schema import SCHEMA_VERSION

SAMPLES_S = (1e-3, 1.1e-3, 0.9e-3)


def network(model, layer_count):
    return synthetic_row(model, -1, SAMPLES_S) | {"layer_count": layer_count}


def layers(model, *indices):
    return [synthetic_row(model, index, SAMPLES_S) for index in indices]


def interrupted(rows, layers_planned=True):
    return pd.DataFrame(rows), {
        "status": "interrupted",
        "plan": {"models": ["net"], "batch_sizes": [1], "layers": layers_planned},
    }


CASES = {
    "network row, 1 of its 3 layers": ([network("net", 3), *layers("net", 0)], True, True),
    "network row, every layer": ([network("net", 3), *layers("net", 0, 1, 2)], True, False),
    "a layer written twice counts once": ([network("net", 3), *layers("net", 0, 0, 1)], True, True),
    "network row, no layers planned": ([network("net", 3)], False, False),
    "layers, no network row": (layers("net", 0, 1, 2), True, True),
}


@pytest.mark.parametrize("rows, with_layers, left", CASES.values(), ids=CASES.keys())
def test_a_group_is_left_until_its_layers_are_written_as_resume_judges_it(rows, with_layers, left):
    frame, run = interrupted(rows, with_layers)
    assert not_measured(frame, run) == ([{"model": "net", "batch_size": 1}] if left else [])
    assert resume_finishes(rows, with_layers) is not left  # what `measure --resume` then skips


def test_an_older_network_row_without_layer_count_still_finishes_its_group():
    """Such a row cannot say how many layers its group has: it is taken, as before, as the group's last row."""
    frame, run = interrupted([network("net", None), *layers("net", 0)])
    assert not_measured(frame, run) == []


def resume_finishes(rows, with_layers):
    """measure --resume's own verdict on the group (session.finished_before), read from the same rows."""
    existing = pd.DataFrame(rows).assign(seq_len=pd.NA)
    session = _Session.__new__(_Session)  # only what load_existing and finished_before read
    session.writer = SimpleNamespace(existing_rows=lambda: existing)
    session.progress = SimpleNamespace(note=lambda text: None)
    session.device_text, session.rows, session.measured = "cpu", [], {}
    session.layer_rows_done, session.networks_done, session.layer_counts = set(), set(), {}
    session.earlier_layer_rows = Counter()
    session.load_existing()
    return session.finished_before(("net", 1, None), with_layers)


def test_show_names_the_partly_measured_group(tmp_path):
    path = tmp_path / "cut.parquet"
    plan = {"models": ["net", "other"], "batch_sizes": [1]}
    writer = DatasetWriter(path, {"run_id": "r1", "schema_version": SCHEMA_VERSION, "plan": plan})
    writer.write([network("net", 3), *layers("net", 0, 1, 2)])  # net: finished
    writer.write([network("other", 2), *layers("other", 0)])  # other: its network row, 1 of its 2 layers
    writer.close("interrupted")
    frame = read_dataset([path])
    assert not_measured(frame, frame.attrs["provenance"][-1]) == [{"model": "other", "batch_size": 1}]
