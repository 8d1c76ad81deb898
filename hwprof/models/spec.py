"""Turn a MODEL argument into a module and its input shape.

These spellings are accepted: a sample model name (`resnet18`), a
NAS-Bench-201 cell (`nb201:|nor_conv_3x3~0|+|...|`), a factory in a file
(`path/to/file.py:factory`), a model of an installed zoo (`torchvision:NAME`,
`timm:NAME`, `hf:NAME_OR_DIR`, see sources.py), or a layer sweep
(`sweep:linear`, see sample_models/sweep.py), which is measured layer by layer
and has no network. From Python, an nn.Module with its example inputs.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import hashlib
import importlib.util
import numbers
import os
import re
import site
import sys
import sysconfig
import time
import types
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn

from hwprof.errors import HwprofError, option, shown, whole_number
from hwprof.models.inputs import (
    DEFAULT_SEQ_LEN,
    ModelInputs,
    from_examples,
    parse_input,
    positive_integers,
    token_id_limit,
)
from hwprof.schema import SWEEP_PREFIX

NB201_PREFIX = "nb201:"


@dataclass
class ModelSpec:
    name: str
    module: nn.Module
    input_shape: tuple[int, ...]  # one sample, without the batch dimension
    family: str  # for leave-one-family-out validation
    sweep: tuple | None = None  # for a layer sweep: its SweepLayers, each run alone; there is no network
    inputs: ModelInputs | None = None  # None: one float tensor of input_shape
    vocab_size: int | None = None  # text models: token ids are drawn below it
    # what the model is fed by default where given inputs or a given shape replaced it (None: nothing was
    # replaced, or the model names no inputs of its own), so a shape is told from the default without a rebuild
    replaced_inputs: ModelInputs | None = None

    @property
    def model_inputs(self) -> ModelInputs:
        return self.inputs if self.inputs is not None else ModelInputs.from_shape(self.input_shape)

    def with_inputs(self, inputs: Any) -> ModelSpec:
        """This model fed other inputs: `NAME:DTYPE[SHAPE]` strings (the CLI's --input) or example tensors. A layer
        sweep keeps its own: each of its layers runs on that layer's inputs (check_settings_apply refuses
        inputs given to sweeps alone)."""
        if inputs is None or self.sweep is not None:
            return self
        if isinstance(inputs, str) or (
            isinstance(inputs, (tuple, list)) and inputs and all(isinstance(i, str) for i in inputs)
        ):
            texts = [inputs] if isinstance(inputs, str) else list(inputs)
            seq_len = (self.inputs.default_seq_len if self.inputs else None) or DEFAULT_SEQ_LEN
            vocab_size = self.vocab_size or token_id_limit(self.module, self.inputs)  # a factory names none
            described = ModelInputs(tuple(parse_input(t, vocab_size) for t in texts), seq_len)
        elif isinstance(inputs, ModelInputs):
            described = inputs
        else:
            described = from_examples(inputs)
        return ModelSpec(
            self.name,
            self.module,
            described.first_shape,
            self.family,
            None,
            described,
            self.vocab_size,
            self.default_inputs,
        )

    @property
    def default_inputs(self) -> ModelInputs | None:
        """What the model is fed when nothing is given; None for a model that names no inputs of its own (shape ()
        and no inputs: a factory or module whose only inputs are the ones given)."""
        if self.replaced_inputs is not None:
            return self.replaced_inputs
        return self.model_inputs if self.inputs is not None or self.input_shape != () else None


def parse_shape(text: str) -> tuple[int, ...]:
    """'3,224,224' or '3x224x224' -> (3, 224, 224)."""
    parts = text.replace(" ", "").strip(",").replace("x", ",").split(",")  # "3,x" is no shape, not (3,)
    try:
        shape = tuple(int(p) for p in parts)
    except ValueError:
        shape = ()
    if not shape or any(d <= 0 for d in shape):
        raise HwprofError(f"bad input shape {text!r}: give positive integers without the batch size, e.g. 3,224,224")
    return shape


def check_input_shape(value: Any) -> tuple[int, ...] | None:
    """A given `input_shape` as a tuple of ints (numpy integers too), or None. Text, a dimension that is not a
    whole number, or one below 1 is one sentence here, not a ValueError or a negative-dimension RuntimeError
    from the first tensor made of it."""
    if value is None:
        return None
    if not isinstance(value, (tuple, list)) or not all(whole_number(d) for d in value):
        raise HwprofError(f"{option('input_shape', shown(value))}: give a tuple of whole numbers such as (3, 224, 224)")
    if any(d < 1 for d in value):
        raise HwprofError(
            f"{option('input_shape', shown(value))}: give positive whole numbers without the batch, e.g. (3, 224, 224)"
        )
    return tuple(int(d) for d in value)


def parse_batch_sizes(values: Iterable[int | str] | int | str) -> list[int]:
    """Batch sizes from ints or comma-separated text ('1,8' or [1, 8]), each once, in the order given."""
    sizes = positive_integers(values, "batch size", "batch_sizes", "1,8,32")
    if not sizes:
        raise HwprofError(f"no batch size given: give one or more in {option('batch_sizes')}, e.g. 1,8,32")
    return sizes


SWEEP_FAMILY = "sweep"  # the family of every layer sweep: no network belongs to it
MODULE_MARK = "#"  # Sequential#3fa2b1: an nn.Module from Python, named by its class and structure
VARIANT_MARK = "@"  # model@seq_len=128,dtype=bfloat16: one model run another way is another network to fit


def variant_name(
    model: str,
    seq_len: int | None = None,
    dtype: str | None = None,
    channels_last: bool = False,
    compiled=False,
    input_shape: tuple[int, ...] | None = None,
) -> str:
    """The name a network is fitted and predicted under: its model, plus how it ran where that is not the
    default (a sequence length, a dtype other than float32, channels-last, compiled), and its input shape
    where the caller says it tells the network apart."""
    parts = [f"input_shape={'x'.join(map(str, input_shape))}"] if input_shape else []
    if seq_len is not None:
        parts.append(f"seq_len={int(seq_len)}")
    if dtype not in (None, "float32"):
        parts.append(f"dtype={dtype}")
    if channels_last:
        parts.append("channels_last=1")
    if compiled:
        parts.append("compiled=1")
    return f"{model}{VARIANT_MARK}{','.join(parts)}" if parts else model


def split_variant(name: str) -> tuple[str, dict]:
    """'hf:bert@seq_len=128,dtype=bfloat16' -> ('hf:bert', {'seq_len': 128, 'dtype': 'bfloat16'})."""
    model, mark, text = name.rpartition(VARIANT_MARK)
    if not mark or "=" not in text:
        return name, {}
    settings: dict = {}
    for part in text.split(","):
        key, _, value = part.partition("=")
        if key == "seq_len" and value.isdigit():
            settings["seq_len"] = int(value)
        elif key == "dtype":
            settings["dtype"] = value
        elif key in ("channels_last", "compiled"):
            settings[key] = value == "1"
        elif key == "input_shape" and value:
            settings[key] = parse_shape(value)
        else:
            return name, {}  # not a variant: an @ of the name itself
    return model, settings


# Names a factory or its file gets whatever it builds: they say nothing of the architecture.
GENERIC_FACTORY_NAMES = frozenset(
    {
        "build",
        "build_model",
        "builder",
        "create",
        "create_model",
        "factory",
        "get",
        "get_model",
        "get_net",
        "load",
        "load_model",
        "main",
        "make",
        "make_model",
        "model",
        "models",
        "net",
        "network",
    }
)


CANDIDATE_MARK = "[trial "  # space[trial 3]: a search's candidate, measured by search --verify


def candidate_name(space_name: str, trial_number: int) -> str:
    return f"{space_name}{CANDIDATE_MARK}{trial_number}]"


def family_of(model_name: str) -> str:
    """The architecture family a model name belongs to (resnet18 -> resnet), from the name alone, as datasets
    store it; leave-one-family-out validation holds out one family at a time. A zoo model's is its
    architecture's (sources.py), a factory's see factory_family."""
    from hwprof.sample_models import MODELS

    model_name = split_variant(model_name)[0]
    if model_name.startswith(NB201_PREFIX):
        return "nb201"
    if model_name.startswith(SWEEP_PREFIX):
        return SWEEP_FAMILY
    if model_name in MODELS:
        return MODELS[model_name].family
    from hwprof.models.sources import family_of_source_model, source_of

    if source_of(model_name) is not None:
        return family_of_source_model(model_name)
    if ".py:" in model_name:
        return factory_family(model_name)
    if MODULE_MARK in model_name:  # an nn.Module given from Python: its class
        return model_name.split(MODULE_MARK, 1)[0]
    if model_name.endswith("]") and CANDIDATE_MARK in model_name:  # one family per search space, not per trial
        return model_name.rpartition(CANDIDATE_MARK)[0]
    return model_name.rstrip("0123456789_")


def factory_family(model_name: str) -> str:
    """`path/to/file.py:factory` -> the factory's name, or where that is a generic word (build, make, model,
    get_model, ...) the file's name, or where that is one too (model.py) its folder's: convnet.py:build and
    mlpnet.py:build are two families, not one called build. Names are kept as written."""
    path, factory = model_name.rsplit(":", 1)
    if factory.lower() not in GENERIC_FACTORY_NAMES:
        return factory
    *folders, file = re.split(r"[\\/]", path)
    stem = file.removesuffix(".py")
    folder = next((part for part in reversed(folders) if part not in ("", ".", "..")), None)
    return folder if stem.lower() in GENERIC_FACTORY_NAMES and folder else stem


ZOO_PREFIXES = ("torchvision:", "timm:")  # zoos whose models are built by a constructor of the zoo's, in one call


def builds_on_meta(text: str) -> bool:
    """Whether building `text` inside `torch.device("meta")` is safe: the project's own models and cells
    create no tensors at import time, and the zoos import their code outside it (sources.py), whereas a user's
    file imported there would keep meta constants. A zoo model whose constructor reads its tensors' values
    builds with real weights instead (_built_from_source)."""
    from hwprof.sample_models import MODELS

    return text in MODELS or text.startswith((NB201_PREFIX, "hf:", *ZOO_PREFIXES))


def resolve_model(
    text: str | nn.Module | ModelSpec,
    input_shape: tuple[int, ...] | None = None,
    *,
    inputs: Any = None,
    hf_config: dict | None = None,
) -> ModelSpec:
    """A MODEL argument (or an nn.Module, a (module, example_inputs) pair, or a ModelSpec) -> its ModelSpec;
    `inputs` replaces its default inputs (a pair keeps its own: they are what it was given for)."""
    if is_module_pair(text):
        return spec_from_module(text[0], inputs=text[1])
    input_shape = check_input_shape(input_shape)
    if input_shape is not None and inputs is not None:
        raise HwprofError(
            f"give the inputs once: {option('input_shape')} describes one float input, {option('inputs')} every "
            "input; drop one of them"
        )
    if isinstance(text, ModelSpec):
        return _with_input_shape(text, input_shape).with_inputs(inputs)
    if isinstance(text, nn.Module):
        return spec_from_module(text, input_shape, inputs)
    if not isinstance(text, str):
        raise HwprofError(
            f"a model is a name, a spec string, a torch.nn.Module or a (module, example_inputs) pair, not a "
            f"{type(text).__name__}"
        )
    return _resolve_text(text, input_shape, hf_config, inputs is not None).with_inputs(inputs)


def is_module_pair(value: Any) -> bool:
    """(module, example_inputs), as a factory may return it: one model with inputs of its own, in a list of others."""
    return isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], nn.Module)


def check_hf_config_applies(names: list[str], hf_config: dict | None) -> None:
    if hf_config and not any(name.startswith("hf:") for name in names):
        raise HwprofError(
            f"{option('hf_config')} configures hf: models, and none of {', '.join(names)} is one; drop it"
        )


def check_settings_apply(
    specs: list[ModelSpec],
    seq_lens=(),
    hf_config: dict | None = None,
    input_shape: tuple[int, ...] | None = None,
    inputs: Any = None,
) -> None:
    """A setting none of the models takes is refused, not dropped without a word."""
    names = ", ".join(spec.name for spec in specs)
    check_hf_config_applies([spec.name for spec in specs], hf_config)
    given = [name for name, value in (("input_shape", input_shape), ("inputs", inputs)) if value is not None]
    if given and all(spec.sweep is not None for spec in specs):
        raise HwprofError(
            f"{names} run{'s' if len(specs) == 1 else ''} each layer on that layer's own inputs, so "
            f"{option(given[0])} applies to none of them: drop it"
        )
    if seq_lens and not any(spec.model_inputs.has_seq for spec in specs if spec.sweep is None):
        raise HwprofError(
            f"{option('seq_lens', ','.join(map(str, seq_lens)))} sweeps models with a sequence dimension (hf: text "
            f"models, or an input such as input_ids:int64[seq]), and none of {names} has one; drop it"
        )


def _with_input_shape(spec: ModelSpec, input_shape: tuple[int, ...] | None) -> ModelSpec:
    """The model fed its one float input at `input_shape` in place of its own inputs (a zoo model's defaults, a
    factory's example tensors), as `inputs` would replace them. Inputs a shape cannot describe (token ids,
    several tensors) refuse it in one sentence: it would be ignored, or fail to run. A layer sweep keeps its
    own, as with_inputs does (check_settings_apply refuses a shape given to sweeps alone)."""
    if input_shape is None or spec.sweep is not None:
        return spec
    own = spec.model_inputs
    if len(own.specs) != 1 or not own.specs[0].dtype.is_floating_point:
        length = f"set the sequence length with {option('seq_lens')}, or " if own.has_seq else "or "
        raise HwprofError(
            f"{spec.name} takes {own.describe()}, which {option('input_shape')} (the shape of one float input) "
            f"cannot describe: drop it, {length}describe each input with {option('inputs')}"
        )
    if spec.inputs is None:  # one plain float tensor: a new shape, as a model of that shape would be described
        return dataclasses.replace(spec, input_shape=tuple(input_shape), replaced_inputs=spec.default_inputs)
    return spec.with_inputs(ModelInputs((dataclasses.replace(own.specs[0], shape=tuple(input_shape)),)))


def module_name(module: nn.Module) -> str:
    """An nn.Module's name: its class and a digest of its structure (submodules and their sizes, not weights) and
    of its own classes' settings, so two different nn.Sequential, or a supernet at two depths, are two networks,
    and one is the same network in every run."""
    settings = _module_settings(module)
    structure = repr(module) + (f"\n{settings}" if settings else "")  # a module without settings keeps its name
    digest = hashlib.sha256(structure.encode()).hexdigest()[:6]
    return f"{type(module).__name__}{MODULE_MARK}{digest}"


# torch.nn classes whose repr() leaves out settings that change the network: attention heads, the activation
# and where the norms sit, whether a nested-tensor fast path is taken
TORCH_SETTINGS_UNSHOWN = (
    nn.MultiheadAttention,
    nn.TransformerEncoderLayer,
    nn.TransformerDecoderLayer,
    nn.TransformerEncoder,
)


def _module_settings(module: nn.Module) -> str:
    """The plain attributes (numbers, text, True/False, functions, and tuples, lists and dicts of them) of each
    submodule of a class outside torch, which repr() leaves out, such as the depth whose blocks a supernet's
    forward runs, and the shapes of its own parameters and buffers; torch's own modules show theirs in repr(),
    but for TORCH_SETTINGS_UNSHOWN. Attributes starting with `_` are state, not settings: a forward that counts
    its calls in a public attribute renames its module (the README says so)."""
    settings = []
    for path, part in module.named_modules():
        if type(part).__module__.partition(".")[0] == "torch" and not isinstance(part, TORCH_SETTINGS_UNSHOWN):
            continue
        plain = {}
        for name, value in sorted(vars(part).items()):
            text = None if name.startswith("_") or name == "training" else _setting_text(value)
            if text is not None:
                plain[name] = text
        own = {} if type(part).__module__.partition(".")[0] == "torch" else {**part._parameters, **part._buffers}
        for name, tensor in sorted(own.items()):
            if tensor is not None:  # weights of its own, which repr() leaves out: their sizes are the network's
                plain[name] = f"tensor{list(tensor.shape)}"
        if plain:
            settings.append(f"{path or '.'}: {plain!r}")
    return "\n".join(settings)


def _setting_text(value: object) -> str | None:
    """A setting as text that is the same in every process, or None for what is not a setting (tensors,
    modules, objects): numpy numbers as Python's, a function by its qualified name."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return repr(value)
    if isinstance(value, numbers.Number) and callable(getattr(value, "item", None)):
        return repr(value.item())  # a depth kept as numpy.int64
    if isinstance(value, (tuple, list)):
        items = [_setting_text(item) for item in value]
        return None if None in items else f"[{', '.join(items)}]"
    if isinstance(value, dict):
        if all(isinstance(item, torch.Tensor) for item in value.values()):
            # a cache its forward fills (timm's LeViT and EfficientFormerV2 keep attention biases in one, in eval):
            # written as the empty dict it starts as, so the first call does not name the module anew
            return "{}"
        items = {str(key): _setting_text(item) for key, item in value.items()}
        if None in items.values():
            return None
        return "{" + ", ".join(f"{key!r}: {text}" for key, text in sorted(items.items())) + "}"
    if isinstance(value, (types.FunctionType, types.BuiltinFunctionType)):
        return f"{value.__module__}.{value.__qualname__}"  # an activation: torch.relu against torch.sigmoid
    return None


def spec_from_module(module: nn.Module, input_shape: tuple[int, ...] | None = None, inputs: Any = None) -> ModelSpec:
    """An nn.Module from Python: its inputs are example tensors, an input shape, or an `input_shape` attribute."""
    named = eager(module)
    name, family = module_name(named), type(named).__name__
    own = getattr(named, "input_shape", None)
    if own is None and input_shape is None and inputs is None:
        raise HwprofError(
            f"the {family} module needs its inputs: pass {option('inputs')} (example tensors, batch first) or "
            f"{option('input_shape')} (one sample, e.g. (3, 224, 224))"
        )
    spec = ModelSpec(name, module, _declared_shape(own, f"the {family} module") if own is not None else (), family)
    return _with_input_shape(spec, input_shape).with_inputs(inputs)


def compiled_by_user(module: nn.Module) -> bool:
    """Whether `module` is torch.compile'd already: dynamo's OptimizedModule, whose `_orig_mod` is the module.
    Its first call compiles it, so timed as it is, that call would be a sample. A process that never imported
    dynamo compiled nothing, so nothing is imported to ask."""
    eval_frame = sys.modules.get("torch._dynamo.eval_frame")
    return eval_frame is not None and isinstance(module, eval_frame.OptimizedModule)


def eager(module: nn.Module) -> nn.Module:
    """The module a user compiled (compiled_by_user), as its layers are found and timed, eagerly, and as it is
    named: a compiled and an eager run of one model are one network, their rows told apart by the compiled
    column."""
    return module._orig_mod if compiled_by_user(module) else module


def _resolve_text(
    text: str, input_shape: tuple[int, ...] | None, hf_config: dict | None, inputs_given: bool = False
) -> ModelSpec:
    from hwprof.models.sources import source_of
    from hwprof.sample_models import MODELS

    if text.startswith(NB201_PREFIX):
        from hwprof.sample_models.nb201 import INPUT_SHAPE, build_nb201

        try:
            module = build_nb201(text[len(NB201_PREFIX) :])
        except ValueError as error:
            raise HwprofError(f"bad NAS-Bench-201 architecture: {error}") from None
        return _with_input_shape(ModelSpec(text, module, INPUT_SHAPE, "nb201"), input_shape)
    if text.startswith(SWEEP_PREFIX):
        from hwprof.sample_models.sweep import parse_sweep, sample_layers

        try:
            op, count, seed = parse_sweep(text)
        except ValueError as error:
            raise HwprofError(f"bad layer sweep: {error}") from None
        layers = tuple(sample_layers(op, count, seed))
        return ModelSpec(text, nn.ModuleList([layer.module for layer in layers]), (), SWEEP_FAMILY, layers)
    if text in MODELS:
        entry = MODELS[text]
        return _with_input_shape(ModelSpec(text, entry.factory(), tuple(entry.input_shape), entry.family), input_shape)
    if model_file(text) is not None:
        return _from_file(text, input_shape, inputs_given)
    if source_of(text) is not None:
        built = _built_from_source(text, hf_config if text.startswith("hf:") else None)  # others of a list ignore it
        if built.inputs is None and input_shape is None and not inputs_given:
            raise HwprofError(built.no_inputs)  # no default inputs, and none given to replace them
        shape = built.inputs.first_shape if built.inputs else ()
        spec = ModelSpec(built.name, built.module, shape, built.family, None, built.inputs, built.vocab_size)
        return _with_input_shape(spec, input_shape)
    by_lower = {name.lower(): name for name in MODELS}
    close = difflib.get_close_matches(text.lower(), list(by_lower), n=3, cutoff=0.6)
    closest = f"closest built-in: {', '.join(by_lower[c] for c in close)}; " if close else ""
    raise HwprofError(
        f"unknown model {text!r}: {closest}run `hwprof models` for the names, or write nb201:<arch>, sweep:<op>, "
        "path/to/file.py:factory, torchvision:NAME, timm:NAME or hf:NAME"
    )


def _built_from_source(text: str, overrides: dict | None):
    """A zoo model, built on torch's default device: on meta (prediction, builds_on_meta) without weights. A
    torchvision or timm constructor that reads its tensors' values (torchvision's RegNets: their widths are
    computed in tensors) cannot build there, and builds with real weights, drawn from generators of hwprof's
    own as a model that never builds on meta is; the trace then runs on a meta copy of it. Weights too large
    for the host are one sentence that names them, not the batch size."""
    from hwprof.models.sources import build

    if not (text.startswith(ZOO_PREFIXES) and torch.empty(0).is_meta):  # measure's real build; hf: words its failures
        return build(text, overrides)
    try:
        return build(text, overrides)
    except HwprofError:
        raise
    except Exception as error:
        reason = error
    from hwprof.models.tracing import own_random_numbers, weights_in_memory

    with (
        torch.device("cpu"),
        own_random_numbers(),
        weights_in_memory(f"{text} cannot be built on meta tensors", reason),
    ):
        return build(text, overrides)


def model_file(name: str) -> Path | None:
    """The file of a path/to/file.py:factory name; None for any other name."""
    if ":" in name and name.rsplit(":", 1)[0].endswith(".py"):
        return Path(name.rsplit(":", 1)[0])
    return None


def model_file_digest(name: str) -> str | None:
    """The digest of what a path/to/file.py:factory name is built from, the file and the user's own modules it
    imported (own_modules), for a trace of it to be kept only while none of them changed; None for other names and
    for a file that cannot be read (resolving the name says why). A file that imports none of its own has its
    text's digest."""
    path = model_file(name)
    if path is None:
        return None
    digest = file_digest(path)
    if digest is None:
        return None
    own = _own.get(_module_name_of(os.path.realpath(path)), {})
    if not own:
        return digest
    return _digest("\n".join([digest, *sorted(f"{file} {file_digest(file)}" for file, _ in own.values())]).encode())


def source_digest(path: Path) -> str:
    """A digest of a user's file: what tells an edited file from an unchanged one. Its modification time and
    size would not, for an edit within the same second at the same size (a loop writing a model file)."""
    return _digest(Path(path).read_bytes())


def _digest(source: bytes) -> str:
    return hashlib.sha256(source).hexdigest()


_imported: dict[str, str] = {}  # module name -> digest of the source it was last imported from
# module name -> {name: (resolved file, digest)} of the user's own modules it imported, when imported and built
_own: dict[str, dict[str, tuple[str, str | None]]] = {}
# (device, inode) of a file -> ((mtime_ns, ctime_ns, size) when it was read, the digest of its text then)
_digests: dict[tuple[int, int], tuple[tuple[int, int, int], str]] = {}
# a file changed this recently is read again at each call: a filesystem's timestamps can be as coarse as 2 s, and a
# rewrite at the same size within that step keeps its stamp
RECENT_NS = 3_000_000_000


def import_user_file(path: Path):
    """Import a Python file of the user's, as Python runs a script: its folder is first on sys.path while it is
    imported, so it imports the files beside it, and is taken off after (_user_file_on_path), so a host's own
    `import utils` later never gets the file's neighbour; in a package (a folder with __init__.py), it is
    imported as the package's module, so its relative imports work too. It is imported again once its content
    changes, or that of a module of the user's it imported (a process that predicts a file while it, or the
    blocks.py beside it, is being edited, or rewritten by a design loop), compiled from its source each time,
    since Python's bytecode cache could keep an edit of the same size made within the same second (and an edited
    module of the user's is re-imported without its cached bytecode, _forget_own_modules). Its errors become one
    sentence."""
    path = Path(path).resolve()
    root, module_name, package = _import_names(path)
    try:
        source = path.read_bytes()
    except OSError as error:
        raise HwprofError(f"cannot read {path}: {error.strerror or error}") from None
    digest = _digest(source)
    imported = sys.modules.get(module_name)
    if imported is not None and _imported.setdefault(module_name, digest) == digest and not _own_changed(module_name):
        if module_name not in _own:  # imported by the user: the modules its globals name are known from now on
            remember_own_modules(path, imported)
        return imported  # unchanged (or imported by the user, as it was then)
    _forget_own_modules(module_name)
    before = set(sys.modules)
    try:
        with _on_sys_path(root):
            if package:
                importlib.import_module(module_name.rpartition(".")[0])  # its packages, for its relative imports
            spec = importlib.util.spec_from_file_location(module_name, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[module_name] = module
            exec(compile(source, str(path), "exec"), module.__dict__)
    except (Exception, SystemExit) as error:  # the user's file is not our code: report, do not crash (nor exit)
        sys.modules.pop(module_name, None)
        _imported.pop(module_name, None)
        if isinstance(error, SystemExit):
            raise HwprofError(exit_called(f"importing {path}", error)) from None
        raise HwprofError(f"importing {path} failed: {type(error).__name__}: {error}") from None
    _imported[module_name] = digest
    remember_own_modules(path, module, set(sys.modules) - before)
    return module


def own_modules(path: Path) -> dict[str, str | None]:
    """{file, relative to the folder a model file's imports start from: digest of its text now} of the user's own
    modules recorded for the model file at `path` (remember_own_modules); None for one that cannot be read. Empty
    for a file not imported in this process."""
    root, module_name, _ = _import_names(Path(path).resolve())
    return {_relative(file, root): file_digest(file) for file, _ in _own.get(module_name, {}).values()}


def own_module_file(path: Path | str, file: str) -> Path:
    """The file own_modules names `file` for the model file at `path`."""
    return _import_names(Path(path).resolve())[0] / file


def remember_own_modules(path: Path, module: types.ModuleType, came: Iterable[str] = ()) -> None:
    """Add to the record of the model file at `path` (imported as `module`) the user's own modules it imported: those
    named in `came`, the modules that came into sys.modules while it was imported or its factory was called, and
    those its globals refer to (`import blocks`, `from blocks import block`), which also finds a module imported
    before the file was (by the user's own script). Only a module whose file lies under the folder its imports start
    from counts, not the script Python runs (a design loop beside it, or a venv's bin/hwprof: never imported by the
    file, and changed by a reinstall), nor an installed package or Python's own library (nor hwprof's, nor a model
    file hwprof imported itself); each is recorded with the digest of its text."""
    root, module_name, _ = _import_names(Path(path).resolve())
    found = dict(_own.get(module_name, {}))
    candidates = [(name, sys.modules.get(name)) for name in came] + _referenced_modules(module)
    for name, candidate in candidates:
        if name in found or name == module_name:
            continue
        file = _own_module_file(name, candidate, root)
        if file is not None:
            found[name] = (file, file_digest(file))
    _own[module_name] = found


def _referenced_modules(module: types.ModuleType) -> list[tuple[str, Any]]:
    """(name, module) of each module the globals of `module` refer to: a module it imported, or the module a
    function, class or object it took from one was defined in."""
    found = []
    for value in list(vars(module).values()):
        try:
            name = value.__name__ if isinstance(value, types.ModuleType) else getattr(value, "__module__", None)
        except Exception:  # an object of the user's whose attribute lookup fails: it names no module
            continue
        if isinstance(name, str) and name in sys.modules:
            found.append((name, sys.modules[name]))
    return found


def _own_module_file(name: str, module: Any, root: Path) -> str | None:
    """The resolved file of a module of the user's own beneath `root`, or None for one that is not: no file, the
    script Python runs (sys.modules["__main__"], which multiprocessing also registers as __mp_main__), hwprof's or a
    model file's it imported, or one installed (_installed)."""
    file = getattr(module, "__file__", None)
    if not isinstance(file, str) or name.startswith("hwprof_user_") or name.partition(".")[0] == "hwprof":
        return None
    main = sys.modules.get("__main__")
    if module is main or name in ("__main__", "__mp_main__"):
        return None
    resolved = Path(file).resolve()
    main_file = getattr(main, "__file__", None)
    if isinstance(main_file, str) and Path(main_file).resolve() == resolved:
        return None
    if not resolved.is_relative_to(root) or _installed(resolved, root):
        return None
    return str(resolved)


def _installed(file: Path, root: Path) -> bool:
    """Whether a resolved file beneath `root` is part of an installed package or of Python's own library, never a
    user's own: in a folder named site-packages or dist-packages below `root`, or in Python's folders (the
    environment's prefixes, its library and site-packages, the user's site-packages). A folder that holds `root`
    itself (a venv made in the project's own folder, or a project kept under /usr) does not count: it would hide
    every module of the user's."""
    below = file.relative_to(root).parts
    if "site-packages" in below or "dist-packages" in below:
        return True
    return any(file.is_relative_to(folder) and not root.is_relative_to(folder) for folder in _python_folders())


@functools.cache
def _python_folders() -> tuple[Path, ...]:
    """The resolved folders of this Python's installation and its installed packages."""
    library = sysconfig.get_paths()
    folders = [sys.prefix, sys.base_prefix, sys.exec_prefix, library["stdlib"], library["platstdlib"]]
    folders += getattr(site, "getsitepackages", list)()  # missing in an old virtualenv's site.py
    if site.ENABLE_USER_SITE is not False:
        folders.append(site.getusersitepackages())
    return tuple(dict.fromkeys(Path(folder).resolve() for folder in folders if folder))


def _own_changed(module_name: str) -> bool:
    """Whether a module of the user's that the model file imported was edited (or removed) since."""
    return any(file_digest(file) != digest for file, digest in _own.get(module_name, {}).values())


def _forget_own_modules(module_name: str) -> None:
    """Take the user's own modules the model file imported out of sys.modules, so that importing it again imports
    them from their new source, not the edited one's cached module; a module of that name now from another file
    stays. An edited one's cached bytecode is deleted: Python tells it from its source by the second and the size
    it was written at, so an edit of the same size within that second would be read back as it was."""
    for name, (file, digest) in _own.pop(module_name, {}).items():
        module = sys.modules.get(name)
        loaded = getattr(module, "__file__", None)
        if file_digest(file) != digest:
            _delete_bytecode(file, getattr(module, "__cached__", None) if loaded else None)
        if isinstance(loaded, str) and str(Path(loaded).resolve()) == file:
            del sys.modules[name]
    importlib.invalidate_caches()  # a module the edit added is found though its folder was listed within the second


def _delete_bytecode(file: str, cached: Any) -> None:
    """Delete the cached bytecode of a user's module (where it was loaded from, and where it would be written)."""
    try:
        places = {importlib.util.cache_from_source(file)}
    except (NotImplementedError, ValueError):  # a Python that caches no bytecode
        places = set()
    if isinstance(cached, str):
        places.add(cached)
    for place in places:
        try:
            os.remove(place)
        except OSError:  # none written, or not ours to delete: Python then compares it with the source as ever
            pass


def file_digest(file: Path | str) -> str | None:
    """source_digest, or None for a file that cannot be read (gone, or unreadable). It is kept while the file's
    modification and change times and size stay as they were when it was read (a process predicting a model file
    reads it and its modules at every call otherwise); a file changed within RECENT_NS is read each time, as a
    rewrite within its filesystem's timestamp step at the same size keeps all three."""
    try:
        stat = os.stat(file)
        stamp = (stat.st_mtime_ns, stat.st_ctime_ns, stat.st_size)
        kept = _digests.get((stat.st_dev, stat.st_ino))
        if kept is not None and kept[0] == stamp:
            return kept[1]
        digest = source_digest(Path(file))
    except OSError:
        return None
    if time.time_ns() - max(stat.st_mtime_ns, stat.st_ctime_ns) > RECENT_NS:
        _digests[(stat.st_dev, stat.st_ino)] = (stamp, digest)
    return digest


def _relative(file: str, root: Path) -> str:
    return Path(file).relative_to(root).as_posix()


def exit_called(doing: str, stop: SystemExit) -> str:
    """One sentence for a user's file that called sys.exit while hwprof imported it or built its model: hwprof
    stopped with the file's status and no word (argparse's usage line read as hwprof refusing its own command).
    argparse exits 2 on arguments it does not know (hwprof's own) and 0 after its help; any other exit is the
    file's own."""
    if stop.code not in (0, 2):
        return f"{doing} called sys.exit({stop.code!r}), which would stop hwprof: raise an exception there instead"
    return (
        f"{doing} called sys.exit({stop.code!r}), which would stop hwprof (argparse does so when a file reads the "
        'command line, which is hwprof\'s own): read arguments only under `if __name__ == "__main__":`, and give '
        "the factory its settings"
    )


def _import_names(path: Path) -> tuple[Path, str, list[str]]:
    """(the folder that goes on sys.path, the module name, its packages) of a resolved user file."""
    package = _package_parts(path) if path.stem.isidentifier() else []
    if package:
        return path.parents[len(package)], ".".join([*package, path.stem]), package
    return path.parent, f"hwprof_user_{abs(hash(str(path)))}", package


def _module_name_of(resolved: str) -> str:
    """_import_names' module name of a resolved user file, found with one look for an __init__.py beside a loose
    file: model_file_digest asks at every prediction, and pathlib's walk up the folders cost more than the rest."""
    if not os.path.isfile(os.path.join(os.path.dirname(resolved), "__init__.py")):
        return f"hwprof_user_{abs(hash(resolved))}"
    return _import_names(Path(resolved))[1]


def _user_file_on_path(path: Path):
    """A block within which the user file's folder is on sys.path, as while it is imported: a factory that
    imports the files beside it inside its function, when called, finds them."""
    return _on_sys_path(_import_names(Path(path).resolve())[0])


@contextmanager
def _on_sys_path(folder: Path) -> Iterator[None]:
    """`folder` first on sys.path within the block, where it was not on it already, and off it after, whether
    the block failed or not."""
    entry = str(folder)
    if entry in sys.path:
        yield
        return
    sys.path.insert(0, entry)
    try:
        yield
    finally:
        if entry in sys.path:  # unless the user's code took it off itself
            sys.path.remove(entry)


def _package_parts(path: Path) -> list[str]:
    """The packages a file sits in, outermost first (folders with __init__.py above it); none for a loose file."""
    parts: list[str] = []
    for folder in path.parents:
        if not (folder / "__init__.py").is_file() or not folder.name.isidentifier():
            break
        parts.insert(0, folder.name)
    return parts


def _from_file(text: str, input_shape: tuple[int, ...] | None, inputs_given: bool = False) -> ModelSpec:
    path_text, factory_name = text.rsplit(":", 1)
    path = Path(path_text)
    if not path.is_file():
        raise HwprofError(f"model file {path_text!r} does not exist")
    with _user_file_on_path(path):
        imported = import_user_file(path)
        factory = getattr(imported, factory_name, None)
        if not callable(factory):
            raise HwprofError(f"{path_text} has no function named {factory_name!r}")
        before = set(sys.modules)
        try:
            module = factory()
        except SystemExit as stop:
            raise HwprofError(exit_called(f"building {text}", stop)) from None
        except Exception as error:
            raise HwprofError(f"{text} raised {type(error).__name__}: {error}") from None
        finally:  # a factory that imports its neighbours when called
            remember_own_modules(path, imported, set(sys.modules) - before)
    if isinstance(module, tuple) and len(module) == 2 and isinstance(module[0], nn.Module):
        module, examples = module  # (module, example_inputs): tensors, never --input text
        try:
            described = from_examples(examples)
        except HwprofError as error:
            raise HwprofError(f"{text} returned a module and example inputs, but {error}") from None
        spec = ModelSpec(text, module, (), family_of(text)).with_inputs(described)
        return _with_input_shape(spec, input_shape)
    if not isinstance(module, nn.Module):
        raise HwprofError(f"{text} returned {type(module).__name__}, not a torch.nn.Module or (module, example_inputs)")
    shape = getattr(module, "input_shape", None) or getattr(factory, "input_shape", None)
    if shape is None and input_shape is not None:
        return ModelSpec(text, module, tuple(input_shape), family_of(text))  # the shape given is its only one
    if shape is None and inputs_given:
        shape = ()  # the inputs given replace it
    if shape is None:
        raise HwprofError(
            f"{text} does not say its input shape: pass {option('input_shape')} (e.g. 3,224,224) or "
            f"{option('inputs')} (e.g. input_ids:int64[128]), set `input_shape` on the module or factory, or "
            "return (module, example_inputs)"
        )
    family = family_of(text)  # as fit reads it from the name: build() of convnet.py is convnet
    return _with_input_shape(ModelSpec(text, module, _declared_shape(shape, text), family), input_shape)


def _declared_shape(shape: Any, who: str) -> tuple[int, ...]:
    """A model's own `input_shape` attribute as dimensions; not a shape is one sentence, not a TypeError."""
    try:
        dims = tuple(int(d) for d in shape)
    except (TypeError, ValueError):
        dims = (0,)
    if any(d < 1 for d in dims):
        raise HwprofError(
            f"{who} gives input_shape {shape!r}, which is not a shape: set it to positive whole numbers "
            "without the batch, e.g. (3, 224, 224)"
        )
    return dims


@contextmanager
def float32_default():
    """A network hwprof builds from its name is built and traced at float32, as measure runs it, whatever
    default dtype the host application set: under torch.set_default_dtype(torch.float64) its weights were
    float64 and the float32 run refused them (naming an NB-201 cell's reference network, not the cell).
    torch's default dtype is one for the whole process, so a host already at float32 is never touched (its other
    threads build on as before), and a default the host set while the block ran is left as the host set it."""
    import torch

    was = torch.get_default_dtype()
    if was is torch.float32:
        yield
        return
    torch.set_default_dtype(torch.float32)
    try:
        yield
    finally:
        if torch.get_default_dtype() is torch.float32:
            torch.set_default_dtype(was)
