"""A zoo measured in one run does not hold every model's weights at once: each model is built and checked, kept
built only while the models kept take at most a share of the free memory (else let go of and built again when
its turn comes), and let go of after its groups (four 400 MB models peaked at 2.2 GB where one peaked at
1.2 GB); a resume builds a finished model only for the checks."""

import sys
import types

import hwprof
from hwprof.measuring import session

FAST = dict(power="none", precision=0.2, max_item_s=0.05, threads=1, seed=0, sweep_share=0)

FACTORIES = """
import torch.nn as nn
import weakref
import built_models


def _build(name):
    module = nn.Sequential(nn.Linear(16, 16), nn.ReLU())
    module.input_shape = (16,)
    built_models.live += 1
    built_models.most = max(built_models.most, built_models.live)
    built_models.builds.append(name)
    weakref.finalize(module, built_models.gone)
    return module


def a():
    return _build("a")


def b():
    return _build("b")


def c():
    return _build("c")
"""


def _counter(monkeypatch) -> types.ModuleType:
    counter = types.ModuleType("built_models")
    counter.live, counter.most, counter.builds = 0, 0, []

    def gone():
        counter.live -= 1

    counter.gone = gone
    monkeypatch.setitem(sys.modules, "built_models", counter)
    return counter


def test_no_two_models_of_a_list_are_held_at_once_when_they_would_not_fit_together(tmp_path, monkeypatch):
    monkeypatch.setattr(session, "KEPT_MEMORY_SHARE", 0.0)  # as if each took the free memory's share alone
    counter = _counter(monkeypatch)
    (tmp_path / "zoo.py").write_text(FACTORIES)
    names = [f"{tmp_path / 'zoo.py'}:{name}" for name in "abc"]
    frame = hwprof.measure(names, batch_sizes=(1, 2), **FAST)
    assert set(frame["model"]) == set(names)
    assert counter.most == 1
    # each is built for its checks and once more for its two groups, not once per group
    assert sorted(counter.builds) == ["a", "a", "b", "b", "c", "c"]


def test_small_models_are_built_once_and_each_let_go_of_after_its_groups(tmp_path, monkeypatch):
    counter = _counter(monkeypatch)
    (tmp_path / "zoo.py").write_text(FACTORIES)
    names = [f"{tmp_path / 'zoo.py'}:{name}" for name in "abc"]
    live_at_groups = []
    measure_group = session._Session.measure_group

    def counted(self, *args, **kwargs):
        live_at_groups.append(counter.live)
        return measure_group(self, *args, **kwargs)

    monkeypatch.setattr(session._Session, "measure_group", counted)
    hwprof.measure(names, batch_sizes=(1, 2), **FAST)
    assert sorted(counter.builds) == ["a", "b", "c"]
    assert live_at_groups == [3, 3, 2, 2, 1, 1]  # each model's two groups, then it is let go of


def test_a_resume_does_not_build_a_finished_model_again_for_its_groups(tmp_path, monkeypatch):
    counter = _counter(monkeypatch)
    (tmp_path / "zoo.py").write_text(FACTORIES)
    names = [f"{tmp_path / 'zoo.py'}:{name}" for name in "ab"]
    out = tmp_path / "zoo.parquet"
    monkeypatch.setattr(session, "KEPT_MEMORY_SHARE", 0.0)
    hwprof.measure(names, out=str(out), **FAST)
    counter.builds.clear()
    hwprof.measure(names, out=str(out), resume=True, **FAST)
    assert sorted(counter.builds) == ["a", "b"]  # the checks' builds only
