"""Layers met before on meta tensors, recalled instead of traced again.

A network repeats its parts (a ResNet stage's bottlenecks, a transformer's
layers, a search space's cells and their edges), and a search meets the same
convolutions, the same stem and the same edges network after network. On
prediction's meta path nothing is computed, so what a torch.nn leaf, or the
run of graph nodes one submodule call made (a block), records and hands on
depends only on:
- for a block, its nodes (ops, targets relative to the submodule, constants,
  and which node feeds which): its fingerprint, and which of its nodes the
  rest of the network reads;
- the torch.nn modules called and the attributes read: their types,
  hyper-parameters and weight shapes (a module's signature);
- the shapes, strides and dtypes of what flows in.
That is the key. Met again under the same key, a leaf or block gets its layers
back (named after its own nodes) and empty results of the remembered shapes,
and nothing in it runs. Where anything is not a plain value, it is traced as
usual. Only prediction's traces use this (no recipes: a recipe holds its module).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import torch
import torch.fx as fx
import torch.nn as nn

LEAVES_KEPT = 8192
BLOCKS_KEPT = 4096
INTERNED_KEPT = 16384
_PLAIN = (bool, int, float, str, type(None))
# Constants a node may hold that compare by value and cannot change a block's meaning between two networks.
_TORCH_CONSTANTS = (torch.dtype, torch.device, torch.memory_format, torch.layout)


@dataclass(frozen=True)
class Block:
    """The nodes one submodule call produced: `start`..`end` (inclusive) in the graph's order."""

    start: int
    end: int
    fingerprint: int
    inputs: tuple[fx.Node, ...]  # nodes before the block whose values it reads
    modules: tuple[str, ...]  # call_module targets in it
    attributes: tuple[str, ...]  # get_attr targets in it
    outputs: tuple[int, ...]  # offsets of its nodes read after it


@dataclass(frozen=True)
class Remembered:
    layers: tuple[tuple[Any, int, bool], ...]  # (layer, node offset, whether a module call named it)
    outputs: tuple[tuple[int, Any], ...]  # (node offset, value spec)


_LEAVES: OrderedDict[tuple, tuple] = OrderedDict()  # key: (layer, its result's value spec)
_BLOCKS: OrderedDict[tuple, Remembered] = OrderedDict()
_INTERNED: dict[tuple, int] = {}  # fingerprints and signatures, each as a number: keys hash fast
_NUMBERS = itertools.count()


def forget() -> None:
    """Drop every remembered leaf and block (a benchmark timing a network's first trace, a test)."""
    _LEAVES.clear()
    _BLOCKS.clear()


def plan(nodes: list[fx.Node]) -> dict[int, list[Block]]:
    """Blocks of a traced graph by the node they start at, outermost first.

    fx notes on every node the module calls it was made in (`nn_module_stack`); one call's nodes are
    consecutive. Leaf modules (one call_module node) are not blocks: the leaf memo covers them."""
    first: dict[str, int] = {}
    last: dict[str, int] = {}
    count: dict[str, int] = {}
    paths: dict[str, str] = {}
    for index, node in enumerate(nodes):
        for key, entry in (node.meta.get("nn_module_stack") or {}).items():
            path = entry[0] if isinstance(entry, tuple) else key  # torch < 2.2 notes {path: type}
            if key not in first:
                first[key], count[key], paths[key] = index, 0, path
            last[key] = index
            count[key] += 1
    blocks: dict[int, list[Block]] = {}
    for key, start in first.items():
        end = last[key]
        if end == start and nodes[start].op == "call_module":
            continue
        if count[key] != end - start + 1:
            continue  # not one stretch of nodes: fx never makes one, but there is nothing safe to recall then
        block = _block(nodes, start, end, paths[key])
        if block is not None:
            blocks.setdefault(start, []).append(block)
    for found in blocks.values():
        found.sort(key=lambda block: -block.end)
    return blocks


def _block(nodes: list[fx.Node], start: int, end: int, path: str) -> Block | None:
    inside = {node: offset for offset, node in enumerate(nodes[start : end + 1])}
    inputs: dict[fx.Node, int] = {}
    prefix = path + "."

    def normal(value: Any) -> Any:
        """A node argument in a form that compares equal only for the same meaning (1, 1.0 and True differ)."""
        if isinstance(value, fx.Node):
            if value in inside:
                return ("node", inside[value])
            return ("input", inputs.setdefault(value, len(inputs)))
        if isinstance(value, _PLAIN) or value is Ellipsis:
            return (type(value).__name__, value)
        if isinstance(value, _TORCH_CONSTANTS):
            return (type(value).__name__, str(value))
        if isinstance(value, (list, tuple)):
            return (type(value) is tuple, tuple(normal(item) for item in value))
        if isinstance(value, dict):
            return ("dict", tuple((name, normal(item)) for name, item in value.items()))
        if isinstance(value, slice):
            return ("slice", normal(value.start), normal(value.stop), normal(value.step))
        raise _NotPlain

    structure, modules, attributes, outputs = [], [], [], []
    try:
        for offset, node in enumerate(nodes[start : end + 1]):
            target = node.target
            if node.op in ("call_module", "get_attr"):
                (modules if node.op == "call_module" else attributes).append(target)
                target = ("in", target[len(prefix) :]) if target.startswith(prefix) else ("at", target)
            elif node.op not in ("call_function", "call_method"):
                return None
            structure.append((node.op, target, normal(node.args), normal(node.kwargs)))
            if any(user not in inside for user in node.users):
                outputs.append(offset)
    except _NotPlain:
        return None
    fingerprint = _intern(tuple(structure))
    return Block(start, end, fingerprint, tuple(inputs), tuple(modules), tuple(attributes), tuple(outputs))


class _NotPlain(Exception):
    """A value a key cannot hold: what depends on it is traced as usual."""


def _intern(value: tuple) -> int:
    """The number of a fingerprint or signature; a number is never given to two of them, even after the
    table is cleared (remembered keys that hold it then just stop matching)."""
    number = _INTERNED.get(value)
    if number is None:
        if len(_INTERNED) >= INTERNED_KEPT:
            _INTERNED.clear()
        number = _INTERNED[value] = next(_NUMBERS)
    return number


# --- keys -----------------------------------------------------------------------------------


def block_key(block: Block, env: dict, signature_of, attribute_at) -> tuple | None:
    """What the block's layers and results depend on here; None where that is not certain.

    `signature_of(target)` is a called module's signature; `attribute_at(target)` looks a target up."""
    modules = tuple(signature_of(target) for target in block.modules)
    if None in modules:
        return None
    try:
        attributes = tuple(value_spec(attribute_at(target)) for target in block.attributes)
        values = [env[node] for node in block.inputs]
        inputs = tuple(value_spec(value) for value in values)
    except _NotPlain:
        return None
    return block.fingerprint, block.outputs, modules, attributes, inputs, repeats(values)


def leaf_key(signature: int | None, args: tuple, kwargs: dict) -> tuple | None:
    """What a torch.nn leaf without children records and returns at these arguments."""
    if signature is None:
        return None
    try:
        return (
            signature,
            tuple(value_spec(value) for value in args),
            tuple((k, value_spec(v)) for k, v in kwargs.items()),
            repeats((args, kwargs)),
        )
    except _NotPlain:
        return None


def signature(module: nn.Module) -> int | None:
    """What a torch.nn module's forward depends on, as a number: its type, public attributes, weights'
    shapes and its children's signatures. None for another library's module, one with hooks, or a public
    attribute that is not a plain value (torch.nn's private attributes are derived from public ones)."""
    if not type(module).__module__.startswith("torch.nn."):
        return None
    if module._forward_hooks or module._forward_pre_hooks:
        return None
    attributes = tuple(
        (name, type(value).__name__, value) for name, value in vars(module).items() if not name.startswith("_")
    )
    if not all(_is_plain(value) for _, _, value in attributes):
        return None
    try:
        tensors = tuple(
            (name, None if tensor is None else tensor_spec(tensor))
            for name, tensor in (*module._parameters.items(), *module._buffers.items())
        )
    except _NotPlain:
        return None
    children = tuple((name, signature(child)) for name, child in module._modules.items())
    if any(number is None for _, number in children):
        return None
    return _intern((type(module), attributes, tensors, children))


def _is_plain(value: Any) -> bool:
    return isinstance(value, _PLAIN) or (isinstance(value, tuple) and all(isinstance(v, _PLAIN) for v in value))


def tensor_spec(tensor: torch.Tensor) -> tuple:
    """(shape, stride, dtype, whether a weight) of a meta tensor."""
    if not tensor.is_meta:
        raise _NotPlain
    return tuple(tensor.shape), tensor.stride(), tensor.dtype, isinstance(tensor, nn.Parameter)


def value_spec(value: Any) -> tuple:
    """A value flowing into or out of a block, by what a meta run can see of it (typed: 1 is not 1.0)."""
    if isinstance(value, torch.Tensor):
        return ("tensor", *tensor_spec(value))
    if isinstance(value, _PLAIN):
        return ("plain", type(value).__name__, value)
    if isinstance(value, torch.Size):
        return ("size", tuple(value))
    if type(value) in (tuple, list):
        return (type(value).__name__, tuple(value_spec(item) for item in value))
    raise _NotPlain


def make_value(spec: tuple) -> Any:
    """A value like the one `spec` describes; a tensor is empty, on meta."""
    if spec[0] == "tensor":
        shape, stride, dtype, _weight = spec[1:]
        return torch.empty_strided(shape, stride, dtype=dtype, device="meta")
    if spec[0] == "plain":
        return spec[2]
    if spec[0] == "size":
        return torch.Size(spec[1])
    items = [make_value(item) for item in spec[1]]
    return tuple(items) if spec[0] == "tuple" else items


# --- remembering ----------------------------------------------------------------------------


def recall_leaf(key: tuple) -> tuple | None:
    """(layer, its result's value spec) of a leaf met before under `key`."""
    return _LEAVES.get(key)


def remember_leaf(key: tuple, layer: Any, result: Any, inputs: list) -> None:
    """Keep a leaf's layer where its result is a meta tensor, or a tuple of them and plain values (an LSTM's
    (output, (h, c))), whose every tensor is its own (not an input, a view of one, or of another of its
    results): made afresh on a recall, they are then the same."""
    storages = {storage_id(tensor) for tensor in tensors_in(inputs)}
    for tensor in tensors_in(result):
        if storage_id(tensor) in storages:
            return
        storages.add(storage_id(tensor))
    try:
        spec = value_spec(result)
    except _NotPlain:  # a tensor not on meta, or a value a spec cannot hold (a PackedSequence)
        return
    _LEAVES[key] = (layer, spec)
    while len(_LEAVES) > LEAVES_KEPT:
        _LEAVES.popitem(last=False)


def recall_block(block_key: tuple) -> Remembered | None:
    found = _BLOCKS.get(block_key)
    if found is not None:
        _BLOCKS.move_to_end(block_key)
    return found


def remember_block(block_key: tuple, layers: tuple, inputs: list, outputs: list[tuple[int, Any]]) -> None:
    """Keep a block's layers and its results' specs, where every result read after it is a plain value or
    a tensor of its own (not an input, a view of one, or of another result): made afresh on a recall,
    they are then the same. `outputs` are (node offset, value)."""
    storages = {storage_id(tensor) for tensor in tensors_in(inputs)}
    specs = []
    try:
        for offset, value in outputs:
            for tensor in tensors_in(value):
                if storage_id(tensor) in storages:
                    return
                storages.add(storage_id(tensor))
            specs.append((offset, value_spec(value)))
    except _NotPlain:
        return
    _BLOCKS[block_key] = Remembered(layers, tuple(specs))
    while len(_BLOCKS) > BLOCKS_KEPT:
        _BLOCKS.popitem(last=False)


def tensors_in(value: Any, kind: type = torch.Tensor) -> list:
    """The tensors in a value and in its tuples, lists, dicts (a Hugging Face ModelOutput is one), dataclasses
    (what a user's network may return) and key-value caches, in order (or the leaves of another `kind`: the
    TensorSpecs of a layer's recipe, which stand for its tensors)."""
    if isinstance(value, kind):
        return [value]
    if isinstance(value, (tuple, list)):
        return [tensor for item in value for tensor in tensors_in(item, kind)]
    if isinstance(value, dict):
        return [tensor for item in value.values() for tensor in tensors_in(item, kind)]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [
            tensor for field in dataclasses.fields(value) for tensor in tensors_in(getattr(value, field.name), kind)
        ]
    if _is_cache(value):
        return [tensor for item in vars(value).values() for tensor in tensors_in(item, kind)]
    return []


def _is_cache(value: Any) -> bool:
    """Whether a value is a key-value cache, or one layer of it: what a transformers decoder run with use_cache
    returns beside its hidden states (a DynamicCache's layers' keys and values, a linear-attention layer's
    states, an EncoderDecoderCache's two caches, the key_cache and value_cache lists of transformers before
    4.56). Every one of them has get_seq_length; told so, transformers is never imported here."""
    return (
        not isinstance(value, (*_PLAIN, nn.Module, type))
        and callable(getattr(value, "get_seq_length", None))
        and hasattr(value, "__dict__")
    )


def repeats(value: Any) -> tuple[int, ...]:
    """For each tensor in a value, the position of its first appearance: one tensor passed twice records
    and runs otherwise than two alike."""
    first: dict[int, int] = {}
    return tuple(first.setdefault(id(tensor), position) for position, tensor in enumerate(tensors_in(value)))


def storage_id(tensor: torch.Tensor) -> int:
    """Which storage a tensor views. Storages are compared by identity, not address: meta tensors and empty
    tensors all have address 0."""
    return tensor.untyped_storage()._cdata
