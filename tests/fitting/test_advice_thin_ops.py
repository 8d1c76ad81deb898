"""An op is thin for fit's advice by its configurations outside its largest network family, which validation
holding that family out still has: conv2d with 12 configurations of one resnet and 2 of a default sweep got no
sweep advised, and fell to the fallback model with the resnet held out."""

from fakes.synthetic import synthetic_frame
from hwprof.fitting.advice import data_advice
from hwprof.fitting.data import training_data


def _convolutions_in_one_family(frame):
    """The frame without the convolutions of all but its first family."""
    conv = frame["op"].eq("conv2d") & frame["kind"].eq("layer")
    families = sorted({model.split("_")[0] for model in frame["model"]})
    return frame[~conv | frame["model"].str.startswith(families[0])]


def test_an_op_whose_configurations_come_from_one_family_is_advised_a_sweep():
    frame = synthetic_frame(n_networks=40, seed=9)
    data = training_data(frame, frame["device_name"].iloc[0], [])
    assert data_advice(data) == []  # plenty of convolutions in every family
    narrowed = _convolutions_in_one_family(frame)
    data = training_data(narrowed, narrowed["device_name"].iloc[0], [])
    conv = data.layers[data.layers["op"] == "conv2d"]
    assert len(conv) >= 10 and conv["family"].nunique() == 1
    (thin,) = data_advice(data)
    assert thin.startswith("conv2d has fewer than 10 distinct measured layer configurations beyond those of its")
    assert "`hwprof measure sweep:conv2d --out sweeps.parquet`" in thin
