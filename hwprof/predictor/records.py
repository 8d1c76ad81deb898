"""A network's layers as cost-model records, traced once per (model, batch size, inputs, how it runs).

Tracing propagates shapes on meta tensors (hwprof.models.tracing), so it costs
no arithmetic and no weight memory; a model that cannot run on meta costs a
real forward pass instead. Either way it costs far more than predicting, so
traced networks are cached for the life of the process.
"""

from __future__ import annotations

import gc
from collections import OrderedDict
from contextlib import contextmanager
from typing import Any, NamedTuple

from hwprof.errors import HwprofError
from hwprof.predictor.features import LayerRecord

CACHE_SIZE = 4096


class TracedNetwork(NamedTuple):
    name: str
    layer_names: list[str]
    records: list[LayerRecord]
    traced_on: str  # "meta", or "real" when the model could not run on meta
    note: str  # one line on how it was traced when real tensors were needed, else ""


_cache: OrderedDict[tuple, TracedNetwork] = OrderedDict()


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
    dtype and layout. A name may carry them (hf:bert@seq_len=128,dtype=bfloat16, as fit names a network
    measured that way); the returned name does whenever they are not the defaults."""
    from hwprof.models.inputs import parse_dtype
    from hwprof.models.spec import ModelSpec, split_variant

    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise HwprofError(f"batch size must be a positive integer, not {batch_size!r}")
    if isinstance(model, str):
        model, settings = split_variant(model)
        seq_len = settings.get("seq_len", seq_len)
        dtype = settings.get("dtype", dtype)
        channels_last = settings.get("channels_last", channels_last)
        input_shape = settings.get("input_shape", input_shape)
    parse_dtype(dtype)
    shape = tuple(input_shape) if input_shape else None
    how = {"seq_len": seq_len, "dtype": dtype, "channels_last": channels_last}
    listed = (inputs,) if isinstance(inputs, str) else inputs
    key = None
    if isinstance(model, (str, ModelSpec)) and (inputs is None or all(isinstance(i, str) for i in listed)):
        name = model if isinstance(model, str) else model.name
        overrides = tuple(sorted((hf_config or {}).items()))
        key = (name, batch_size, shape, seq_len, dtype, channels_last, tuple(listed or ()), overrides)
    if key is not None and key in _cache:
        _cache.move_to_end(key)
        traced = _cache[key]
    else:
        with collector_paused():
            traced = _trace_any(model, shape, batch_size, inputs, hf_config, how)
        if key is not None:
            _remember(key, traced)
    return traced


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
    from hwprof.models.spec import ModelSpec, resolve_model

    if isinstance(model, str):
        return _trace_name(model, shape, batch_size, inputs, hf_config, how)
    if isinstance(model, ModelSpec) or _is_module(model):
        spec = resolve_model(model, shape, inputs=inputs)
        return _trace(spec, batch_size, input_shape=_given_input_shape(spec), **how)
    raise HwprofError(f"cannot predict for a {type(model).__name__}: give a model name, a ModelSpec or an nn.Module")


def _is_module(model: Any) -> bool:
    import torch.nn as nn

    return isinstance(model, nn.Module)


def _trace_name(model: str, shape, batch_size: int, inputs, hf_config, how: dict) -> TracedNetwork:
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
    return TracedNetwork(variant_name(model, None, dtype, channels_last), names, records, "meta", "")


def _trace_built(model: str, shape, batch_size: int, inputs, hf_config, how: dict) -> TracedNetwork:
    """Built-in networks are built straight on the meta device: no weight is allocated or initialised."""
    from hwprof.models.spec import builds_on_meta, resolve_model
    from hwprof.models.tracing import MetaDevice

    def build():
        return resolve_model(model, shape, inputs=inputs, hf_config=hf_config)

    if builds_on_meta(model):
        with MetaDevice():
            spec = build()
    else:
        spec = build()
    return _trace(spec, batch_size, rebuild=lambda: build().module, input_shape=_given_input_shape(spec), **how)


def _given_input_shape(spec) -> tuple[int, ...] | None:
    """The shape of `spec`'s one float input where it replaced what the model is fed by default, so the
    network is named by it as `fit` names a model measured at several shapes (resnet18@input_shape=3x64x64);
    None where it is the default, or the model has no inputs of its own (the ones given are its only ones)."""
    from hwprof.models.inputs import SEQ

    inputs = spec.model_inputs.specs
    default = spec.replaced_inputs  # set only where something given replaced the model's own
    if default is None or len(inputs) != 1 or not inputs[0].dtype.is_floating_point or SEQ in inputs[0].shape:
        return None
    return None if [s.shape for s in default.specs] == [inputs[0].shape] else inputs[0].shape


def _refuse_sweep(spec) -> None:
    if spec.sweep is not None:
        raise HwprofError(
            f"{spec.name} is a layer sweep, not a network: it is measured to train layer models "
            "and has no network latency; give a network"
        )


def _trace(
    spec, batch_size: int, rebuild=None, *, seq_len=None, dtype="float32", channels_last=False, input_shape=None
):
    from hwprof.models.spec import variant_name
    from hwprof.models.tracing import trace_layers

    _refuse_sweep(spec)
    # as measure does: no length where the model has no sequence, and none past its position embeddings
    seq_len = spec.model_inputs.seq_lens([seq_len])[0] if seq_len else None
    trace = trace_layers(
        spec.module,
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
    note = "" if trace.tensors == "meta" else trace.description
    name = variant_name(spec.name, seq_len, dtype, channels_last, input_shape=input_shape)
    return TracedNetwork(name, [layer.name for layer in trace.layers], records, trace.tensors, note)


def _remember(key: tuple, value: TracedNetwork) -> None:
    _cache[key] = value
    while len(_cache) > CACHE_SIZE:
        _cache.popitem(last=False)
