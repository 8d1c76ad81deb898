"""NAS-Bench-201 networks' layers composed from their cells equal a trace of the built network."""

import random

import pytest

from hwprof.errors import HwprofError
from hwprof.predictor import nb201, records
from hwprof.sample_models.nb201 import parse_arch, random_arch

SPECIAL = [
    "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|",  # zeros_like only
    "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|",  # x + x
    "|none~0|+|nor_conv_3x3~0|none~1|+|none~0|none~1|nor_conv_1x1~2|",  # dead nodes
    "|avg_pool_3x3~0|+|none~0|skip_connect~1|+|none~0|skip_connect~1|skip_connect~2|",  # a pool added to itself
]


def traced(arch: str, batch_size: int, dtype: str, channels_last: bool):
    how = {"seq_len": None, "dtype": dtype, "channels_last": channels_last}
    return records._trace_built("nb201:" + arch, None, batch_size, None, None, how)


@pytest.mark.slow
@pytest.mark.parametrize(("batch_size", "dtype", "channels_last"), [(1, "float32", False), (2, "bfloat16", True)])
def test_composed_layers_equal_a_trace_names_and_records(batch_size, dtype, channels_last):
    rng = random.Random(batch_size)
    trace = lambda arch: traced(arch, batch_size, dtype, channels_last)  # noqa: E731
    for arch in SPECIAL + [random_arch(rng) for _ in range(40)]:
        names, composed = nb201.compose(parse_arch(arch), batch_size, dtype, channels_last, trace)
        reference = trace(arch)
        assert names == reference.layer_names, arch
        assert composed == reference.records, arch


def test_predicting_a_new_cell_builds_no_network(monkeypatch):
    builds = []
    original = records._trace_built

    def counted(model, *args):
        builds.append(model)
        return original(model, *args)

    monkeypatch.setattr(records, "_trace_built", counted)
    monkeypatch.setattr(nb201, "_pieces", {})
    monkeypatch.setattr(records, "_cache", records.OrderedDict())
    rng = random.Random(7)
    archs = [random_arch(rng) for _ in range(5)]
    for arch in archs:
        network = records.network_layers("nb201:" + arch, 3, (3, 32, 32))
        assert network.traced_on == "meta" and network.name == "nb201:" + arch
    assert builds == ["nb201:" + nb201.EVERY_OP, "nb201:" + nb201.ZEROS]  # the two references, once


def test_other_input_sizes_and_bad_cells_take_the_built_path(monkeypatch):
    monkeypatch.setattr(records, "_cache", records.OrderedDict())
    arch = SPECIAL[2]
    larger = records.network_layers("nb201:" + arch, 1, (3, 64, 64))
    assert '"input_shapes":[[1,3,64,64]]' in larger.records[0].config
    with pytest.raises(HwprofError, match="bad NAS-Bench-201 architecture"):
        records.network_layers("nb201:|nor_conv_3x3~0|")
