"""A network's layers as cost-model records, traced once per (model, batch size, input shape).

Tracing propagates shapes on meta tensors (hwprof.models.tracing), so it costs
no arithmetic and no weight memory; a model that cannot run on meta costs a
real forward pass instead. Either way it costs far more than predicting, so
traced networks are cached for the life of the process.
"""

from __future__ import annotations

from collections import OrderedDict
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


def network_layers(model: Any, batch_size: int = 1, input_shape: tuple[int, ...] | None = None) -> TracedNetwork:
    """The layers of a model name, ModelSpec or nn.Module as cost-model records."""
    from hwprof.models.spec import ModelSpec

    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise HwprofError(f"batch size must be a positive integer, not {batch_size!r}")
    if isinstance(model, str):
        key = (model, batch_size, tuple(input_shape) if input_shape else None)
        if key not in _cache:
            _remember(key, _trace_name(model, tuple(input_shape) if input_shape else None, batch_size))
        _cache.move_to_end(key)
        return _cache[key]
    if isinstance(model, ModelSpec):
        _refuse_sweep(model)
        shape = tuple(input_shape or model.input_shape)
        key = (model.name, batch_size, shape)
        if key not in _cache:
            _remember(key, _trace(model.name, model.module, shape, batch_size))
        return _cache[key]
    import torch.nn as nn

    if isinstance(model, nn.Module):
        shape = input_shape or getattr(model, "input_shape", None)
        if shape is None:
            raise HwprofError("an nn.Module needs its input shape: pass input_shape=(C, H, W) without the batch size")
        return _trace(type(model).__name__, model, tuple(shape), batch_size)
    raise HwprofError(f"cannot predict for a {type(model).__name__}: give a model name, a ModelSpec or an nn.Module")


def _trace_name(model: str, input_shape: tuple[int, ...] | None, batch_size: int) -> TracedNetwork:
    """Built-in networks are built straight on the meta device: no weight is allocated or initialised."""
    import torch

    from hwprof.models.spec import builds_on_meta, resolve_model

    if builds_on_meta(model):
        with torch.device("meta"):
            spec = resolve_model(model, input_shape)
    else:
        spec = resolve_model(model, input_shape)
    _refuse_sweep(spec)
    return _trace(model, spec.module, spec.input_shape, batch_size, lambda: resolve_model(model, input_shape).module)


def _refuse_sweep(spec) -> None:
    if spec.sweep is not None:
        raise HwprofError(
            f"{spec.name} is a layer sweep, not a network: it is measured to train layer models "
            "and has no network latency; give a network"
        )


def _trace(name: str, module, input_shape: tuple[int, ...], batch_size: int, rebuild=None) -> TracedNetwork:
    from hwprof.models.tracing import trace_layers

    trace = trace_layers(module, input_shape, batch_size, label=name, rebuild=rebuild)
    if not trace.layers:
        raise HwprofError(f"{name} has no layers that do work, so there is nothing to predict")
    records = [LayerRecord.from_layer(layer) for layer in trace.layers]
    note = "" if trace.tensors == "meta" else trace.description
    return TracedNetwork(name, [layer.name for layer in trace.layers], records, trace.tensors, note)


def _remember(key: tuple, value: TracedNetwork) -> None:
    _cache[key] = value
    while len(_cache) > CACHE_SIZE:
        _cache.popitem(last=False)
