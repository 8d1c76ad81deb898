"""What a predictor says: confidences of any real number type, a predictor file's version, the note on a
network outside the training data, and the public API's docstrings."""

import json

import numpy as np
import pytest

import hwprof
from fakes.synthetic import fitted_predictor_path, synthetic_frame, write
from hwprof.errors import HwprofError
from hwprof.predictor.predictor import check_confidence


@pytest.fixture(scope="module")
def path(tmp_path_factory):
    return fitted_predictor_path(tmp_path_factory.mktemp("fit"), cv=False)[0]


@pytest.mark.parametrize("confidence", [np.float32(0.9), np.float64(0.8), np.array(0.7)])
def test_a_numpy_confidence_is_taken_as_numpy_batch_sizes_are(path, confidence):
    check_confidence(confidence)
    predictor = hwprof.load_predictor(path)
    prediction = predictor.predict("mlp", batch_size=np.int64(2), confidence=confidence)
    assert prediction.confidence == pytest.approx(float(confidence)) and type(prediction.confidence) is float
    assert len(predictor.predict_many(["mlp"], confidence=confidence)) == 1


@pytest.mark.parametrize("confidence", [True, "0.9", np.float32(1.0), 0])
def test_a_confidence_that_is_not_a_share_is_still_refused(confidence):
    with pytest.raises(HwprofError, match="must be between 0 and 1"):
        check_confidence(confidence)


def _with_version(path, tmp_path, version):
    doc = json.loads(open(path).read())
    doc["format_version"] = version
    written = tmp_path / "versioned.json"
    written.write_text(json.dumps(doc))
    return written


@pytest.mark.parametrize("version", ["2", None, 2.5, True])
def test_a_version_that_is_no_whole_number_is_damage(path, tmp_path, version):
    with pytest.raises(
        HwprofError, match=r"is a damaged predictor file: its format_version, .*, is not a whole number; fit one"
    ) as error:
        hwprof.load_predictor(_with_version(path, tmp_path, version))
    assert "reads version" not in str(error.value)


def test_a_newer_file_says_to_upgrade_hwprof_and_an_older_one_to_refit(path, tmp_path):
    with pytest.raises(
        HwprofError, match="format version 3, newer than the 2 this hwprof reads: upgrade hwprof"
    ) as error:
        hwprof.load_predictor(_with_version(path, tmp_path, 3))
    assert "fit" not in str(error.value)
    with pytest.raises(HwprofError, match=r"format version 1, but this hwprof reads version 2; fit one"):
        hwprof.load_predictor(_with_version(path, tmp_path, 1))


def test_a_predictor_of_one_family_claims_no_held_out_family(tmp_path):
    dataset = write(synthetic_frame(n_networks=12, seed=3, families=("alpha",)), tmp_path / "one.parquet")
    hwprof.fit([dataset], tmp_path / "one.json", cv=True)
    predictor = hwprof.load_predictor(tmp_path / "one.json")
    note = next(w for w in predictor.predict("resnet18").warnings if w.startswith("outside the training data"))
    assert "famil" in note and "held-out famil" not in note and "a held-out family" not in note
    assert "held-out networks lay within" in note and "largest error a held-out network showed" in note


def test_the_public_predictor_and_its_methods_say_what_they_are():
    assert hwprof.Predictor.__doc__
    public = [name for name in vars(hwprof.Predictor) if not name.startswith("_")]
    undocumented = [name for name in public if not getattr(hwprof.Predictor, name).__doc__]
    assert undocumented == []
