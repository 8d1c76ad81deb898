"""A model file with a module of its own beside it is traced once while neither changes: the first call's cache key
held the file's digest alone (its modules were not known before its import) and every later call's the combined one,
so the second call traced it again. The digests are kept while a file's stamps stay as they were, not read and
hashed at every prediction."""

import sys

import pytest

from hwprof.models import spec
from hwprof.predictor import records
from hwprof.predictor.records import network_layers

NET = """
import torch.nn as nn
{top}

def build():
    {inside}
    model = nn.Sequential(nn.Linear(4, {blocks}.WIDTH), nn.ReLU())
    model.input_shape = (4,)
    return model
"""


@pytest.mark.parametrize("when", ["at_import", "when_built"])
def test_an_unchanged_file_with_a_neighbour_is_traced_once(tmp_path, monkeypatch, when):
    blocks = f"uf_traces_blocks_{when}"
    (tmp_path / f"{blocks}.py").write_text("WIDTH = 8\n")
    imports = f"import {blocks}"
    top, inside = (imports, "pass") if when == "at_import" else ("", imports)
    (tmp_path / "net.py").write_text(NET.format(top=top, inside=inside, blocks=blocks))
    traces = []
    trace = records._trace_any
    monkeypatch.setattr(records, "_trace_any", lambda *args: traces.append(args) or trace(*args))
    try:
        results = [network_layers(f"{tmp_path / 'net.py'}:build") for _ in range(3)]
    finally:
        sys.modules.pop(blocks, None)
    assert len(traces) == 1
    assert results[1] is results[0] and results[2] is results[0]


def test_a_digest_is_read_again_only_when_the_file_changes(tmp_path, monkeypatch):
    path = tmp_path / "uf_traces_kept.py"
    path.write_text("WIDTH = 8\n")
    reads = []
    digest = spec.source_digest
    monkeypatch.setattr(spec, "source_digest", lambda file: reads.append(file) or digest(file))
    first = spec.file_digest(path)
    assert spec.file_digest(path) == first and len(reads) == 2  # just written: its stamps may not tell an edit yet
    later = spec.time.time_ns() + 2 * spec.RECENT_NS
    monkeypatch.setattr(spec.time, "time_ns", lambda: later)
    spec.file_digest(path)
    assert spec.file_digest(path) == first and len(reads) == 3  # old enough: kept
    path.write_text("WIDTH = 16\n")
    assert spec.file_digest(path) == digest(path) != first and len(reads) == 4
