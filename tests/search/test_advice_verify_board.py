"""search --verify on another board than the predictor's offers a fit command that fit runs: --base for a predictor
with layer models, and the predictor's datasets as --prior for one fitted from network rows alone, which fit
--base refuses."""

import pytest

from hwprof.errors import HwprofError
from hwprof.fitting.fit import fit
from hwprof.search.verify import check_verification


def _table(path, board, scale):
    path.write_text(
        "model,batch_size,latency_ms,device_name\n"
        + "".join(
            f"{model},1,{ms * scale},{board}\n" for model, ms in (("mlp", 1.0), ("mlp_large", 3.0), ("resnet18", 20.0))
        )
    )
    return path


def test_a_predictor_of_network_rows_is_carried_over_with_prior_not_base(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _table(tmp_path / "a.csv", "Board A", 1.0)
    predictor = fit(["a.csv"], cv=False)  # as given on fit's command line, which the advice repeats
    assert not predictor.uses_layers
    with pytest.raises(HwprofError) as refused:
        check_verification(predictor, "Board B", "cpu", None)
    said = " ".join(str(refused.value).split())
    assert "--base PREDICTOR" not in said and "--base a" not in said
    assert "`hwprof fit NETWORKS --prior a.csv`" in said and "at least 3 networks measured here" in said
    # followed as printed, with three networks of this board: fit runs
    adapted = fit([str(_table(tmp_path / "b.csv", "Board B", 2.0))], prior=["a.csv"], cv=False)
    assert adapted.doc["device_name"] == "Board B"


def test_a_predictor_with_layer_models_is_adapted_with_base():
    class Layered:
        uses_layers = True
        source = "p.json"
        doc = {"device_name": "Board A"}

    with pytest.raises(HwprofError, match=r"`hwprof fit NETWORKS --base p\.json` to adapt this one"):
        check_verification(Layered(), "Board B", "cpu", None)
