"""A network's layers as cost-model records, traced once per (model, batch size, input shape).

Tracing costs a forward pass (milliseconds to a second), far more than
predicting, so traced layer lists are cached for the life of the process.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from hwprof.errors import HwprofError
from hwprof.predictor.features import LayerRecord

CACHE_SIZE = 4096
_cache: OrderedDict[tuple, tuple[list[str], list[LayerRecord]]] = OrderedDict()


def network_layers(
    model: Any, batch_size: int = 1, input_shape: tuple[int, ...] | None = None
) -> tuple[str, list[str], list[LayerRecord]]:
    """(display name, layer names, layer records) of a model name, ModelSpec or nn.Module."""
    from hwprof.models.spec import ModelSpec, resolve_model

    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise HwprofError(f"batch size must be a positive integer, not {batch_size!r}")
    if isinstance(model, str):
        key = (model, batch_size, tuple(input_shape) if input_shape else None)
        if key not in _cache:
            spec = resolve_model(model, tuple(input_shape) if input_shape else None)
            _refuse_sweep(spec)
            _remember(key, _trace(spec.module, spec.input_shape, batch_size, model))
        _cache.move_to_end(key)
        names, records = _cache[key]
        return model, names, records
    if isinstance(model, ModelSpec):
        _refuse_sweep(model)
        key = (model.name, batch_size, tuple(input_shape or model.input_shape))
        if key not in _cache:
            _remember(key, _trace(model.module, tuple(input_shape or model.input_shape), batch_size, model.name))
        names, records = _cache[key]
        return model.name, names, records
    import torch.nn as nn

    if isinstance(model, nn.Module):
        shape = input_shape or getattr(model, "input_shape", None)
        if shape is None:
            raise HwprofError("an nn.Module needs its input shape: pass input_shape=(C, H, W) without the batch size")
        name = type(model).__name__
        names, records = _trace(model, tuple(shape), batch_size, name)
        return name, names, records
    raise HwprofError(f"cannot predict for a {type(model).__name__}: give a model name, a ModelSpec or an nn.Module")


def _refuse_sweep(spec) -> None:
    if spec.sweep is not None:
        raise HwprofError(
            f"{spec.name} is a layer sweep, not a network: it is measured to train layer models "
            "and has no network latency; give a network"
        )


def _trace(module, input_shape: tuple[int, ...], batch_size: int, label: str) -> tuple[list[str], list[LayerRecord]]:
    from hwprof.models.layers import run_and_extract

    layers, _method = run_and_extract(module, input_shape, batch_size, label=label)
    if not layers:
        raise HwprofError(f"{label} has no layers that do work, so there is nothing to predict")
    return [layer.name for layer in layers], [LayerRecord.from_layer(layer) for layer in layers]


def _remember(key: tuple, value: tuple[list[str], list[LayerRecord]]) -> None:
    _cache[key] = value
    while len(_cache) > CACHE_SIZE:
        _cache.popitem(last=False)
