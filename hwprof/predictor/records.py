"""A network's layers as cost-model records, traced once per (model, batch size, inputs, how it runs).

Tracing propagates shapes on meta tensors (hwprof.models.tracing), so it costs
no arithmetic and no weight memory; a model that cannot run on meta costs a
real forward pass instead. Either way it costs far more than predicting, so
traced networks are cached for the life of the process, up to CACHE_LAYERS layer records in all.

Tracing is serialised: torch.fx patches nn.Module's methods for the whole
process while it traces, so two traces at once would record each other's
modules and could leave the patches in place for every later trace. A forward
pass that is not a trace (a measurement's timing, the caller's own model) runs
in another thread meanwhile untouched: hwprof's tracer passes it through.
"""

from __future__ import annotations

import gc
from collections import OrderedDict
from contextlib import contextmanager
from typing import Any, NamedTuple

from hwprof.errors import HwprofError, option, shown, true_or_false, whole_number
from hwprof.models import FX_TRACING
from hwprof.predictor.features import LayerRecord

# Traced networks are kept, least recently used dropped first, up to this many layer records in all (about
# 1 KB each, so ~100 MB): a count of networks let a service predicting resnet50 at many batch sizes grow by
# hundreds of MB, since a large network's entry holds hundreds of records.
CACHE_LAYERS = 100_000


class TracedNetwork(NamedTuple):
    name: str
    layer_names: list[str]
    records: list[LayerRecord]
    traced_on: str  # "meta", or "real" when the model could not run on meta
    note: str  # one line on how it was traced when real tensors were needed, else ""
    has_seq: bool = False  # whether the model has a sequence dimension a seq_len sets
    input_shape: tuple[int, ...] | None = None  # its one float input's shape; None for inputs a shape cannot describe


HOW_KEYWORDS = ("seq_len", "dtype", "channels_last", "inputs", "hf_config")  # network_layers' keywords
NOT_GIVEN = {"dtype": "float32", "channels_last": False}  # defaults: what a name's own setting replaces
_cache: OrderedDict[tuple, TracedNetwork] = OrderedDict()
_cached_layers = 0  # the records _cache holds
# Held while tracing, while reading or filling the cache, and while the modules tracing needs are first
# imported (a thread peeking at a module another thread is still importing finds it half made): the lock
# measure's tracing takes too, so a measurement in another thread never traces meanwhile.
TRACING = FX_TRACING


def network_layers(
    model: Any,
    batch_size: int = 1,
    input_shape: tuple[int, ...] | None = None,
    *,
    seq_len: int | None = None,
    dtype: str = "float32",
    channels_last: bool = False,
    inputs: Any = None,
    hf_config: dict | None = None,
) -> TracedNetwork:
    """The layers of a model name, ModelSpec or nn.Module as cost-model records, run at this sequence length,
    dtype and layout. A name may carry them (hf:bert@seq_len=128,dtype=bfloat16, as fit
    names a network measured that way); the returned name does whenever they are not the defaults. A length
    is dropped for a model without a sequence (has_seq says so, for the caller to refuse it where none of
    its models takes one), as hf_config is for a model not of hf:."""
    with TRACING:
        return _network_layers(model, batch_size, input_shape, seq_len, dtype, channels_last, inputs, hf_config)


def _network_layers(model, batch_size, input_shape, seq_len, dtype, channels_last, inputs, hf_config) -> TracedNetwork:
    from hwprof.models.inputs import parse_dtype
    from hwprof.models.spec import ModelSpec, check_input_shape, model_file_digest

    batch_size = positive_batch_size(batch_size)
    given = {
        "seq_len": sequence_length(seq_len),
        "dtype": dtype,
        "channels_last": true_or_false("channels_last", channels_last),
        "input_shape": check_input_shape(input_shape),
    }
    if hf_config is not None and not isinstance(hf_config, dict):
        raise HwprofError(f"{option('hf_config', shown(hf_config))}: give a dict such as {{'num_hidden_layers': 4}}")
    if isinstance(model, str):
        model, given = _with_name_settings(model, given)
    seq_len, shape = given["seq_len"], given["input_shape"]
    dtype, channels_last = parse_dtype(given["dtype"]), given["channels_last"]
    shape = shape or None
    how = {"seq_len": seq_len, "dtype": dtype, "channels_last": channels_last}
    listed = (inputs,) if isinstance(inputs, str) else inputs
    key = None
    if isinstance(model, (str, ModelSpec)) and (inputs is None or all(isinstance(i, str) for i in listed)):
        name = model if isinstance(model, str) else model.name
        overrides = tuple(sorted((hf_config or {}).items()))
        source = model_file_digest(model) if isinstance(model, str) else None  # an edited file is traced again
        key = (name, batch_size, shape, seq_len, dtype, channels_last, tuple(listed or ()), overrides, source)
    if key is not None and key in _cache:
        _cache.move_to_end(key)
        traced = _cache[key]
    else:
        with collector_paused():
            traced = _trace_any(model, shape, batch_size, inputs, hf_config, how)
        if key is not None:
            # kept under the digest the next call reads: a model file's own modules are known once it was imported
            # and built, and before that its digest is its text's alone
            key = key[:-1] + (model_file_digest(model) if isinstance(model, str) else None,)
            _remember(key, traced)
            if seq_len is not None and not traced.has_seq:  # the length was dropped: the same trace without one
                _remember(key[:3] + (None,) + key[4:], traced)
    return traced


def names_told_apart(traced: list[TracedNetwork]) -> list[str]:
    """The networks' names, a model traced at several input shapes at one sequence length named by its shape at
    each (Sequential#3fa2b1@input_shape=3x8x8), as fit names a model measured at several (with_variant_names):
    rows of one module at two shapes are two networks, where one shape alone keeps the name measure gives it."""
    from hwprof.models.spec import split_variant, variant_name

    split = [split_variant(t.name) for t in traced]
    shapes: dict[tuple, set] = {}
    for (model, settings), t in zip(split, traced):
        if t.input_shape is not None:
            shapes.setdefault((model, settings.get("seq_len")), set()).add(t.input_shape)
    return [
        variant_name(model, **(settings | {"input_shape": t.input_shape}))
        if len(shapes.get((model, settings.get("seq_len")), ())) > 1
        else t.name
        for (model, settings), t in zip(split, traced)
    ]


def positive_batch_size(value: Any) -> int:
    """A batch size as an int: any whole number, numpy's included (as measure takes them), 1 or more."""
    if not whole_number(value) or value < 1:
        raise HwprofError(f"batch size must be a positive integer, not {shown(value)}")
    return int(value)


def sequence_length(value: Any) -> int | None:
    """A given sequence length as an int, or None: 0, a fraction or text is refused, not taken for the
    default, truncated or compared with a number deep inside."""
    if value is None:
        return None
    if not whole_number(value) or value < 1:
        raise HwprofError(
            f"{option('seq_len', shown(value))}: give one sequence length, a positive whole number such as 128"
        )
    return int(value)


def _with_name_settings(name: str, given: dict) -> tuple[str, dict]:
    """(model, settings): those a name carries (resnet18@input_shape=3x64x64) joined with those given beside it.
    One given both ways with two values is refused, where the name's would silently win; a default given
    beside (float32, not channels-last, as the command line passes them) leaves the name's."""
    from hwprof.models.spec import split_variant

    model, settings = split_variant(name)
    named = {key: value for key, value in settings.items() if key in given}  # compiled: its layers are eager ones
    for key, value in named.items():
        if given[key] not in (None, NOT_GIVEN.get(key)) and given[key] != value:
            raise HwprofError(
                f"{name} names its {key}, and {option(key, shown(given[key]))} gives another: give it once, "
                "in the name or beside it"
            )
    return model, given | named


@contextmanager
def collector_paused():
    """Building and tracing a network allocate tens of thousands of short-lived objects, and every full
    collection they trigger scans every object the process holds (hundreds of thousands once a predictor
    and its libraries are loaded): pausing the cyclic collector shortens a trace. Cycles
    made meanwhile are collected afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _trace_any(model, shape, batch_size: int, inputs, hf_config, how: dict) -> TracedNetwork:
    from hwprof.models.spec import ModelSpec, is_module_pair, resolve_model

    if isinstance(model, str):
        return _trace_name(model, shape, batch_size, inputs, hf_config, how)
    if isinstance(model, ModelSpec) or _is_module(model) or is_module_pair(model):
        spec = resolve_model(model, shape, inputs=inputs)
        return _trace(spec, batch_size, input_shape=_given_input_shape(spec), **how)
    raise HwprofError(
        f"cannot predict for a {type(model).__name__}: give a model name, a ModelSpec, an nn.Module or a "
        "(module, example_inputs) pair"
    )


def _is_module(model: Any) -> bool:
    import torch.nn as nn

    return isinstance(model, nn.Module)


def _trace_name(model: str, shape, batch_size: int, inputs, hf_config, how: dict) -> TracedNetwork:
    from hwprof.models.spec import float32_default

    with float32_default():
        composed = _composed_nb201(model, shape, batch_size, inputs, hf_config, how)
        return composed if composed is not None else _trace_built(model, shape, batch_size, inputs, hf_config, how)


def _composed_nb201(model: str, shape, batch_size: int, inputs, hf_config, how: dict) -> TracedNetwork | None:
    """A NAS-Bench-201 network at its own input size, its layers composed from its cell's plan
    (hwprof.predictor.nb201); None for any other network, and for a malformed cell, whose build says
    what is wrong with it."""
    from hwprof.models.spec import NB201_PREFIX, variant_name

    if not model.startswith(NB201_PREFIX) or inputs is not None or hf_config:
        return None
    from hwprof.predictor.nb201 import compose
    from hwprof.sample_models.nb201 import INPUT_SHAPE, parse_arch

    if shape not in (None, INPUT_SHAPE):
        return None
    try:
        parsed = parse_arch(model[len(NB201_PREFIX) :])
    except ValueError:
        return None
    dtype, channels_last = how["dtype"], how["channels_last"]

    def reference(cell: str) -> TracedNetwork:
        return _trace_built(NB201_PREFIX + cell, None, batch_size, None, None, how)

    composed = compose(parsed, batch_size, dtype, channels_last, reference)
    if composed is None:  # the reference networks did not run on meta
        return None
    names, records = composed
    name = variant_name(model, None, dtype, channels_last)
    return TracedNetwork(name, names, records, "meta", "", input_shape=INPUT_SHAPE)


def _trace_built(model: str, shape, batch_size: int, inputs, hf_config, how: dict) -> TracedNetwork:
    """Built-in networks are built straight on the meta device: no weight is allocated or initialised. One that
    cannot be is built with real weights, drawn from generators of hwprof's own (own_random_numbers), so a host's
    seeded generators do not move; a zoo model whose constructor cannot run on meta falls back to real weights
    inside its build (models.spec._built_from_source), and its note says so, as a real trace's does."""
    from hwprof.models.spec import builds_on_meta, resolve_model
    from hwprof.models.tracing import MetaDevice, own_random_numbers

    def build():
        return resolve_model(model, shape, inputs=inputs, hf_config=hf_config)

    built = ""
    if builds_on_meta(model):
        with MetaDevice():
            spec = build()
        if _has_real_weights(spec.module):
            built = f"built with real weights, since {spec.name} cannot be built on meta tensors"
    else:
        with own_random_numbers():
            spec = build()
    given = _given_input_shape(spec)
    return _trace(spec, batch_size, rebuild=lambda: build().module, input_shape=given, built=built, **how)


def _has_real_weights(module) -> bool:
    """Whether a module built on the meta device holds real weights: its constructor could not run there."""
    parameters = list(module.parameters())
    return bool(parameters) and not any(p.is_meta for p in parameters)


def _given_input_shape(spec) -> tuple[int, ...] | None:
    """The shape of `spec`'s one float input where it replaced what the model is fed by default, so the
    network is named by it as `fit` names a model measured at several shapes (resnet18@input_shape=3x64x64);
    None where it is the default, or the model has no inputs of its own (the ones given are its only ones)."""
    shape = _shape_of(spec.model_inputs)
    default = spec.replaced_inputs  # set only where something given replaced the model's own
    if default is None or shape is None:
        return None
    return None if [tuple(s.shape) for s in default.specs] == [shape] else shape


def _refuse_sweep(spec) -> None:
    if spec.sweep is not None:
        raise HwprofError(
            f"{spec.name} is a layer sweep, not a network: it is measured to train layer models "
            "and has no network latency; give a network"
        )


def _trace(
    spec,
    batch_size: int,
    rebuild=None,
    *,
    seq_len=None,
    dtype="float32",
    channels_last=False,
    input_shape=None,
    built="",
):
    """`spec`'s layers as a TracedNetwork; `built` says how it was built where that was not on meta tensors."""
    from hwprof.models.inputs import check_module_weights
    from hwprof.models.spec import eager, variant_name
    from hwprof.models.tracing import trace_layers

    _refuse_sweep(spec)
    # as measure does: no length where the model has no sequence, and none past its position embeddings
    seq_len = spec.model_inputs.seq_lens([seq_len], "seq_len")[0] if seq_len else None
    # as measure does, a compiled module's eager one: traced through dynamo's wrapper, hwprof's own tracing
    # code would be compiled, tens of times slower, to the same layers
    module = _lazy_weights_made(eager(spec.module), spec.model_inputs, spec.name, seq_len)
    check_module_weights(module, dtype, spec.name, "predict")
    trace = trace_layers(
        module,
        spec.model_inputs,
        batch_size,
        label=spec.name,
        rebuild=rebuild,
        seq_len=seq_len,
        dtype=dtype,
        channels_last=channels_last,
    )
    if not trace.layers:
        raise HwprofError(f"{spec.name} has no layers that do work, so there is nothing to predict")
    records = [LayerRecord.from_layer(layer) for layer in trace.layers]
    # a real build or trace, or an assumption
    note = trace.description if built or trace.tensors != "meta" or trace.assumed else ""
    note = f"{built}; {note}" if built else note
    name = variant_name(spec.name, seq_len, dtype, channels_last, input_shape=input_shape)
    layer_names = [layer.name for layer in trace.layers]
    shape = _shape_of(spec.model_inputs)
    return TracedNetwork(name, layer_names, records, trace.tensors, note, spec.model_inputs.has_seq, shape)


def _shape_of(inputs) -> tuple[int, ...] | None:
    """The shape of a model's one float input (what --input-shape sets), None for inputs a shape cannot describe."""
    from hwprof.models.inputs import SEQ

    specs = inputs.specs
    if len(specs) != 1 or not specs[0].dtype.is_floating_point or SEQ in specs[0].shape:
        return None
    return tuple(specs[0].shape)


def _lazy_weights_made(module, inputs, label: str, seq_len: int | None):
    """A module with lazy layers as a copy that has run once, without the host's hooks, to make their weights
    (with_lazy_weights_made); the module itself where it has none. The run draws its inputs and weights from
    generators of its own (own_random_numbers), so the weights, and the trace, are the same every time and a
    host's seeded generators do not move."""
    from torch.nn.parameter import is_lazy

    from hwprof.models.inputs import with_lazy_weights_made
    from hwprof.models.tracing import own_random_numbers

    if not any(is_lazy(tensor) for tensor in (*module.parameters(), *module.buffers())):
        return module
    with own_random_numbers():
        return with_lazy_weights_made(module, inputs, label, seq_len)


def _remember(key: tuple, value: TracedNetwork) -> None:
    """Cache a traced network, dropping the least recently used until the records held fit CACHE_LAYERS (the
    newest is kept even alone over it)."""
    global _cached_layers
    if not _cache:  # emptied (clear_cache, or tests and benchmarks clearing it directly)
        _cached_layers = 0
    if key in _cache:
        _cached_layers -= len(_cache[key].records)
    _cache[key] = value
    _cached_layers += len(value.records)
    while _cached_layers > CACHE_LAYERS and len(_cache) > 1:
        _cached_layers -= len(_cache.popitem(last=False)[1].records)


def clear_cache() -> None:
    """Forget every traced network, the pieces NAS-Bench-201 cells are composed from, and the layers tracing
    recalls (hwprof.models.recall)."""
    from hwprof.models import recall
    from hwprof.predictor import nb201

    with TRACING:
        _cache.clear()
        nb201.clear_pieces()
        recall.forget()
