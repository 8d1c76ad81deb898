"""What a network is fed: one or more tensors, positional or by keyword, float or integer.

A model's inputs are described per sample (without the batch dimension) so the
same description serves every batch size; a dimension written `seq` is the
sequence length, a second sweep dimension beside the batch (`--seq-len`).
Integer inputs are drawn within a stated range, so token ids stay inside the
vocabulary and attention masks are ones; a mask from a user's example keeps
the example's share of True (or 1), which what nonzero or a sparse layer does
depends on, and its rows' True in one run where the example's were (padding).
"""

from __future__ import annotations

import copy
import itertools
import numbers
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import torch

from hwprof.errors import HwprofError, option, shown, warn, worded
from hwprof.schema import COMPUTE_DTYPES

SEQ = "seq"  # a dimension that is the sequence length
# How a positional input is named where inputs are described (messages, a dataset's network rows, whose config
# must read as it always has), and so what parse_input reads as one while the inputs before it are positional, as
# describe writes them first: the text describe wrote, given back, replays. After a keyword, it is a keyword.
POSITIONAL_NAME = "input"
DEFAULT_SEQ_LEN = 128
DTYPES = {
    "float32": torch.float32,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "float64": torch.float64,
    "int64": torch.int64,
    "int32": torch.int32,
    "bool": torch.bool,
}


def check_module_weights(module: torch.nn.Module, dtype: str, label: str, verb: str) -> None:
    """Measure's and predict's one rule for a module handed over in another precision. At a float32 run,
    their default, a module with no float32 weight (.half(), .double()) is refused: it would be converted up
    unasked and costed as what it is not; one mostly in a half dtype beside float32 layers is run as it is, and
    said so. A dtype asked for is what the module is converted to, as asked.
    Measure refuses a module built on the meta device, which has shapes and no values to run; predict
    traces on meta anyway."""
    if verb == "measure" and any(t.is_meta for t in (*module.parameters(), *module.buffers())):
        raise HwprofError(
            f"{label} holds meta tensors (no data), which {verb} cannot run: build it on the CPU (or load its "
            "weights into it), or use predict"
        )
    held = sorted({str(p.dtype).removeprefix("torch.") for p in module.parameters() if p.is_floating_point()})
    if dtype != "float32" or not held:
        return
    if "float32" in held:
        mostly = [
            name for name in held if name in COMPUTE_DTYPES and name != "float32" and mixes_in(module, DTYPES[name])
        ]
        if mostly:
            warn(worded(_mostly_half_note(module, mostly[0], label, verb)))
        return
    own = [name for name in held if name in COMPUTE_DTYPES]
    keep = f"pass {option('dtype', own[0])} to {verb} it as it is, or " if own else ""
    raise HwprofError(
        f"{label} holds {', '.join(held)} weights and the run is float32: {keep}convert it with module.float()"
    )


def _mostly_half_note(module: torch.nn.Module, half: str, label: str, verb: str) -> str:
    """What a float32 run says of a module mostly in a half dtype beside float32 layers (mixes_in): it is kept as
    it is, as float32 runs keep every module, so most of its work runs in `half` under rows that say float32."""
    return (
        f"{label} is run as it is at float32, not converted, though most of its float parameter elements are "
        f"{half} ({_shares_text(weight_shares(module))}): its {half} layers run in {half} under a run that says "
        f"float32; pass {option('dtype', half)} to {verb} it as it is, at {half}, or convert it with "
        "module.float() to run it all in float32"
    )


def weight_shares(module: torch.nn.Module) -> dict[torch.dtype, float]:
    """The share of a module's float parameter elements in each dtype, largest first; a lazy layer's weights, not
    made yet (nn.LazyLinear), have no size to count."""
    from torch.nn.parameter import is_lazy

    counts: dict[torch.dtype, int] = {}
    for p in module.parameters():
        if p.is_floating_point() and not is_lazy(p):
            counts[p.dtype] = counts.get(p.dtype, 0) + p.numel()
    total = sum(counts.values()) or 1
    return {dtype: count / total for dtype, count in sorted(counts.items(), key=lambda item: -item[1])}


def mixes_in(module: torch.nn.Module, dtype: torch.dtype) -> bool:
    """Whether a module is already in `dtype` beside other float dtypes: `dtype` holds most of its float parameter
    elements, the others a few layers kept apart (a float32 LayerNorm in a bfloat16 model, Hugging Face's
    _keep_in_fp32_modules). Converting it whole would undo the mix and break the forward that relies on it, so a
    run in `dtype` takes it as it is, each layer in its own dtype. A model mostly in another dtype with a stray
    `dtype` parameter is converted, as the run asks."""
    shares = weight_shares(module)
    return len(shares) > 1 and shares.get(dtype, 0.0) > 0.5


def converted_for_run(module: torch.nn.Module, dtype: torch.dtype) -> torch.nn.Module:
    """`module` in a run's dtype (in place, as .to does; callers pass their own copy), as measure and predict both
    convert it. One mostly in `dtype` beside other float dtypes is kept as it is (mixes_in), and so is any at
    float32. The parameters and buffers a Hugging Face model keeps in float32 (kept_in_float32) stay float32, as
    transformers' from_pretrained(dtype=...) leaves them and the model's forward expects (T5's `wo` at
    float16 overflows otherwise)."""
    if dtype == torch.float32 or mixes_in(module, dtype):
        return module
    kept = kept_in_float32(module, dtype)
    originals = {name: tensor.data for name, tensor in kept.items()}
    module = module.to(dtype=dtype)
    for name, original in originals.items():
        owner, _, leaf = name.rpartition(".")
        part = module.get_submodule(owner)
        if leaf in part._parameters:
            part._parameters[leaf].data = original.float()
        else:
            part._buffers[leaf] = original.float()
    if kept:
        warn(_kept_in_float32_note(module, dtype, kept))
    return module


def kept_in_float32(module: torch.nn.Module, dtype: torch.dtype) -> dict[str, torch.Tensor]:
    """The float parameters and buffers, by name, that a Hugging Face model keeps in float32 at `dtype`: those its
    `_keep_in_fp32_modules` patterns find at float16, and its `_keep_in_fp32_modules_strict` ones at float16 and
    bfloat16, matched as transformers matches them (a search of each name, `*` any text)."""
    patterns = [*(getattr(module, "_keep_in_fp32_modules_strict", None) or ())]
    if dtype == torch.float16:
        patterns += getattr(module, "_keep_in_fp32_modules", None) or ()
    if dtype not in (torch.float16, torch.bfloat16) or not patterns:
        return {}
    found = re.compile("|".join(f"(?:{pattern.replace('*', '.*')})" for pattern in sorted(patterns)))
    named = itertools.chain(module.named_parameters(), module.named_buffers())
    return {name: tensor for name, tensor in named if tensor.is_floating_point() and found.search(name)}


def _kept_in_float32_note(module: torch.nn.Module, dtype: torch.dtype, kept: dict[str, torch.Tensor]) -> str:
    """What a run says of the float32 weights it keeps in a Hugging Face model: which, and what share of it."""
    parts = sorted({name.rpartition(".")[0] or name for name in kept})
    shown = ", ".join(parts[:3]) + (f" and {len(parts) - 3} more" if len(parts) > 3 else "")
    share = weight_shares(module).get(torch.float32, 0.0)
    run = str(dtype).removeprefix("torch.")
    return (
        f"{type(module).__name__} keeps {shown} in float32 at {run}, as transformers' from_pretrained does with the "
        f"modules the model lists in _keep_in_fp32_modules: {_percent(share)} of its float parameter elements, whose "
        "layers run in float32"
    )


def kept_mixed_note(module: torch.nn.Module, dtype: torch.dtype, label: str) -> str:
    """What a run in `dtype` says of a module it takes as it is (mixes_in): its layers in other dtypes run in
    theirs, which their configs' dtype says, as fit reads it. The dtype column stays the run's on every row: fit
    names a network's rows by it, and a layer row of another dtype would leave its network."""
    shares = _shares_text(weight_shares(module))
    run = str(dtype).removeprefix("torch.")
    return (
        f"{label} is run as it is at {run}, not converted, since most of its float parameter elements are {run} "
        f"({shares}): its layers in other dtypes run in theirs, as its forward may rely on, and their rows' config "
        f"says which (the dtype column is the run's); convert it with module.to(torch.{run}) to run it all in {run}"
    )


def _shares_text(shares: dict[torch.dtype, float]) -> str:
    """weight_shares in words: "92.7% bfloat16, 7.3% float32"."""
    return ", ".join(f"{_percent(share)} {str(dtype).removeprefix('torch.')}" for dtype, share in shares.items())


def _percent(share: float) -> str:
    """A share as a percentage that never reads as all or nothing where it is not."""
    if 0 < share < 0.001:
        return "under 0.1%"
    if 0.999 < share < 1:
        return "over 99.9%"
    return f"{share:.1%}"


def mixed_weights_advice(module: torch.nn.Module, dtype: str) -> str:
    """For a module that failed at a float32 run whose weights mix float32 with a half dtype: the run made its
    float inputs float32, where its half layers may want their own dtype. Where that dtype holds most of its
    weights, that dtype's run takes it as it is (mixes_in) and feeds them; where it does not, that run converts
    it whole, so the advice is to convert its few half layers, or the whole model."""
    held = sorted({str(p.dtype).removeprefix("torch.") for p in module.parameters() if p.is_floating_point()})
    own = [name for name in held if name in COMPUTE_DTYPES and name != "float32"]
    if dtype != "float32" or "float32" not in held or not own:
        return ""
    kept = [name for name in own if mixes_in(module, DTYPES[name])]
    if kept:
        return (
            f"; its weights mix {' and '.join(held)}, and this float32 run made its float inputs float32: "
            f"{option('dtype', kept[0])} measures it as it is, its float32 weights kept, on {kept[0]} inputs"
        )
    found = weight_shares(module)
    most = "mostly float32" if found.get(torch.float32, 0.0) > 0.5 else "split"
    return (
        f"; its weights are {most} ({_shares_text(found)}), with layers in {' and '.join(own)}"
        f"{_half_layers(module)}: convert those layers with module.float() to run it in float32, or pass "
        f"{option('dtype', own[0])}, which converts the whole model to {own[0]}"
    )


def _half_layers(module: torch.nn.Module, most: int = 3) -> str:
    """The names of the layers holding a module's own half-precision parameters, the first few of them, as
    " (fc2, head)"; empty where only the module itself holds them."""
    names = [
        name
        for name, part in module.named_modules()
        if name and any(p.dtype in (torch.float16, torch.bfloat16) for p in part.parameters(recurse=False))
    ]
    if not names:
        return ""
    more = f" and {len(names) - most} more" if len(names) > most else ""
    return f" ({', '.join(names[:most])}{more})"


def computed_tensors(module: torch.nn.Module) -> list[torch.Tensor]:
    """Tensors a module holds as plain attributes that autograd computed, not leaves: the `weight` that
    torch.nn.utils' prune and old-style weight_norm compute from their own parameters before each call. deepcopy
    refuses such a tensor, and that hook computes it again at the copy's first call."""
    return [
        value
        for part in module.modules()
        for value in vars(part).values()
        if isinstance(value, torch.Tensor) and not value.is_leaf
    ]


def copy_module(module: torch.nn.Module) -> torch.nn.Module:
    """A deep copy of `module`, its computed tensors (computed_tensors) copied detached, which deepcopy takes."""
    return copy.deepcopy(module, {id(tensor): tensor.detach().clone() for tensor in computed_tensors(module)})


def hookless_copy(module: torch.nn.Module, parameters_shared: bool) -> torch.nn.Module:
    """A copy of `module` without the host's hooks (as meta_copy leaves them) whose buffers and other state are
    its own, so that a forward pass on it is seen neither by a host's activation log nor in a counter or cache
    the module updates in forward. `parameters_shared`: its parameters are the module's, which a pass only reads
    (a copy that is converted in place needs its own)."""
    memo: dict[int, object] = {id(p): p for p in module.parameters()} if parameters_shared else {}
    memo |= {id(tensor): tensor.detach().clone() for tensor in computed_tensors(module)}
    return copy.deepcopy(module, memo | hooks_left_behind(module))


def hooks_left_behind(module: torch.nn.Module) -> dict[int, object]:
    """A deepcopy memo giving a copy of `module` only torch's own forward hooks (_torchs), none of the host's."""
    memo: dict[int, object] = {}
    for part in module.modules():
        for name, hooks in vars(part).items():
            if name.endswith("_hooks") and isinstance(hooks, dict):
                kept = name in TORCH_HOOKS_KEPT
                memo[id(hooks)] = type(hooks)((key, hook) for key, hook in hooks.items() if kept and _torchs(hook))
    return memo


# Hooks that can compute a module's weights (torch.nn.utils' weight_norm, spectral_norm and prune register
# forward pre-hooks); backward and state-dict hooks play no part in a forward pass on meta.
TORCH_HOOKS_KEPT = ("_forward_pre_hooks", "_forward_hooks")


def _torchs(hook) -> bool:
    """Whether `hook` is torch's own (an object of torch.nn.utils), not the host's."""
    return (getattr(hook, "__module__", None) or "").startswith("torch.")


def with_lazy_weights_made(
    module: torch.nn.Module, inputs: ModelInputs, label: str, seq_len: int | None = None
) -> torch.nn.Module:
    """A module with lazy layers (nn.LazyLinear), whose weights are made by their first call, as a copy that has
    run once on its inputs at batch 1, as lazy modules are meant to be used: hwprof reads weights (their size and
    dtype) before it runs a model. The module given is left as it is; one without lazy weights is returned."""
    from torch.nn.parameter import is_lazy

    tensors = list(itertools.chain(module.parameters(), module.buffers()))
    if not any(is_lazy(t) for t in tensors):
        return module
    floating = [t.dtype for t in tensors if t.is_floating_point()]
    try:
        made = hookless_copy(module, parameters_shared=False)  # run without the host's hooks: no log sees it
        args, kwargs = inputs.make(1, seq_len, tensors[0].device, floating[0] if floating else None)
        modes = [(part, part.training) for part in made.modules()]
        with torch.no_grad():
            made.eval()(*args, **kwargs)
        for part, training in modes:
            part.training = training
    except HwprofError:
        raise
    except (Exception, SystemExit) as error:  # a forward's sys.exit too: hwprof says which model stopped, on what
        first_line = (str(error).strip().splitlines() or [""])[0]
        ended = (
            f"called sys.exit({error.code!r})"
            if isinstance(error, SystemExit)
            else f"failed ({type(error).__name__}: {first_line})"
        )
        raise HwprofError(
            f"{label} has lazy layers, whose weights are made by their first call, and running it once on "
            f"{inputs.describe(1, seq_len)} to make them {ended}: call it once yourself on an example input "
            "before giving it"
        ) from None
    return made


@dataclass(frozen=True)
class InputSpec:
    """One input tensor of one sample: its keyword (None: positional), dtype, shape and value range."""

    name: str | None
    dtype: torch.dtype
    shape: tuple[int | str, ...]  # without the batch; SEQ where the sequence length goes
    low: int = 0  # integer inputs are drawn from [low, high)
    high: int | None = None  # None: ones (an attention mask)
    positions: bool = False  # position ids: 0, 1, ... along the last dimension, as a model counts its tokens
    true_share: float | None = None  # a mask from an example: the share of it that is True (or 1); None: ones
    row_runs: bool = False  # a mask from an example whose rows each held their True in one run (padding)
    channels_last: bool = False  # a float example laid out NHWC: drawn so, as the model is fed it
    # read from text named `input` (POSITIONAL_NAME), taken as positional: a keyword again after a keyword input
    named_input: bool = field(default=False, compare=False)

    def shape_at(self, batch_size: int, seq_len: int | None) -> tuple[int, ...]:
        return (batch_size, *(_dimension(d, seq_len) for d in self.shape))

    def make(
        self,
        batch_size: int,
        seq_len: int | None,
        device: torch.device | str = "cpu",
        float_dtype: torch.dtype | None = None,
        channels_last: bool = False,
    ) -> torch.Tensor:
        shape = self.shape_at(batch_size, seq_len)
        if self.dtype.is_floating_point:
            tensor = torch.randn(shape, dtype=float_dtype or self.dtype, device=device)
            if (channels_last or self.channels_last) and tensor.dim() == 4:
                tensor = tensor.contiguous(memory_format=torch.channels_last)
            return tensor
        if self.positions:
            return torch.arange(shape[-1], dtype=self.dtype, device=device).expand(shape).contiguous()
        if self.true_share is not None:
            return mask_with_share(shape, self.true_share, self.dtype, device, self.row_runs)
        if self.dtype == torch.bool or self.high is None:
            return torch.ones(shape, dtype=self.dtype, device=device)
        return torch.randint(self.low, self.high, shape, dtype=self.dtype, device=device)

    def describe(
        self, batch_size: int | None = None, seq_len: int | None = None, float_dtype: torch.dtype | None = None
    ) -> str:
        dims = self.shape if batch_size is None else self.shape_at(batch_size, seq_len)
        dtype = float_dtype if float_dtype is not None and self.dtype.is_floating_point else self.dtype
        return f"{self.name or POSITIONAL_NAME}:{str(dtype).removeprefix('torch.')}[{','.join(map(str, dims))}]"


@dataclass(frozen=True)
class ModelInputs:
    """Every input of a model, in call order: positional ones first, then keywords."""

    specs: tuple[InputSpec, ...]
    default_seq_len: int | None = None  # used where a SEQ dimension is not given a length
    max_seq_len: int | None = None  # the longest sequence the model takes (its position embeddings), if known

    def __post_init__(self) -> None:
        """An input written `input:` after a keyword input is the keyword `input` (a forward(mask, input) given mask
        first): describe writes positional inputs, as `input:`, before any keyword. A keyword can be passed once: a
        second input of that name would silently replace the first."""
        specs, keyword_before = [], False
        for spec in self.specs:
            if spec.named_input and keyword_before:
                spec = replace(spec, name=POSITIONAL_NAME, named_input=False)
            keyword_before = keyword_before or spec.name is not None
            specs.append(spec)
        object.__setattr__(self, "specs", tuple(specs))
        names = [spec.name for spec in self.specs if spec.name is not None]
        twice = list(dict.fromkeys(name for name in names if names.count(name) > 1))
        if twice:
            raise HwprofError(f"{option('inputs')} names {', '.join(twice)} more than once; describe each input once")

    @classmethod
    def from_shape(cls, shape: Sequence[int]) -> ModelInputs:
        """The classic single float tensor, e.g. (3, 224, 224)."""
        return cls((InputSpec(None, torch.float32, tuple(int(d) for d in shape)),))

    @property
    def has_seq(self) -> bool:
        return any(SEQ in spec.shape for spec in self.specs)

    @property
    def first_shape(self) -> tuple[int, ...]:
        """The first input's per-sample shape at the default sequence length (what `input_shape` used to be)."""
        return self.specs[0].shape_at(1, self.default_seq_len or DEFAULT_SEQ_LEN)[1:]

    def seq_lens(self, requested: Sequence[int] | None, setting: str = "seq_lens") -> list[int | None]:
        """The sequence lengths to sweep: those requested where the model has a SEQ dimension, else [None]. A
        length past the model's longest is refused naming the `setting` it came from (predict's is seq_len)."""
        if not self.has_seq:
            return [None]
        too_long = [n for n in requested or () if self.max_seq_len and n > self.max_seq_len]
        if too_long:
            raise HwprofError(
                f"{option(setting, ','.join(map(str, requested)))}: the model takes at most {self.max_seq_len} "
                f"tokens (its max_position_embeddings), not {too_long[0]}"
            )
        return list(requested) if requested else [self.default_seq_len or DEFAULT_SEQ_LEN]

    def make(
        self,
        batch_size: int,
        seq_len: int | None = None,
        device: torch.device | str = "cpu",
        float_dtype: torch.dtype | None = None,
        channels_last: bool = False,
    ) -> tuple[tuple, dict]:
        """Fresh (args, kwargs) for one call at this batch size and sequence length."""
        seq_len = seq_len or self.default_seq_len or DEFAULT_SEQ_LEN
        args, kwargs = [], {}
        for spec in self.specs:
            tensor = spec.make(batch_size, seq_len, device, float_dtype, channels_last)
            if spec.name is None:
                args.append(tensor)
            else:
                kwargs[spec.name] = tensor
        return tuple(args), kwargs

    def describe(
        self, batch_size: int | None = None, seq_len: int | None = None, float_dtype: torch.dtype | None = None
    ) -> str:
        seq_len = seq_len or self.default_seq_len or DEFAULT_SEQ_LEN
        only = self.specs[0]
        if len(self.specs) == 1 and only.name is None and only.dtype == torch.float32 and batch_size is not None:
            return str(only.shape_at(batch_size, seq_len))  # the classic single tensor: its shape says it all
        return ", ".join(spec.describe(batch_size, seq_len, float_dtype) for spec in self.specs)

    def shapes(self, batch_size: int, seq_len: int | None = None) -> list[list[int]]:
        seq_len = seq_len or self.default_seq_len or DEFAULT_SEQ_LEN
        return [list(spec.shape_at(batch_size, seq_len)) for spec in self.specs]


def mask_with_share(
    shape: tuple[int, ...], share: float, dtype: torch.dtype, device, row_runs: bool = False
) -> torch.Tensor:
    """A mask with `share` of its elements True, at the same places at every call (a fixed seed): the work of
    nonzero, masked_select or a mask-skipping kernel follows the share, so an all-True mask would time other work
    than the user's. With `row_runs` each row (along the last dimension) holds its True in one run, placed at its
    start, where a causal or padding mask holds one run somewhere in the row (one_run_per_row): torch.where or
    masked_fill over scattered True, every element a coin flip, runs 1.8-6x slower. On meta only the shape is known, as for any drawn input."""
    if torch.device(device).type == "meta":
        return torch.empty(shape, dtype=dtype, device=device)
    count = torch.Size(shape).numel()
    mask = torch.zeros(count, dtype=dtype)
    mask[torch.randperm(count, generator=torch.Generator().manual_seed(0))[: round(share * count)]] = 1
    if row_runs and shape:  # each row's True, as many as drawn, moved to its start: the share stays exact
        trues = (mask != 0).reshape(-1, shape[-1]).sum(-1, keepdim=True)
        mask = (torch.arange(shape[-1]) < trues).to(dtype)
    return mask.reshape(shape).to(device)


def one_run_per_row(mask: torch.Tensor) -> bool:
    """Whether each row of a mask (along its last dimension) holds its True, or nonzeros, in one run, as a causal
    mask (a triangle) or a padding mask does; mask_with_share draws such a mask so. False for a 0-d or empty
    mask, and on meta, which has no values."""
    if mask.dim() == 0 or not mask.numel() or mask.is_meta:
        return False
    on = mask != 0
    starts = on[..., 0].int() + (on[..., 1:] & ~on[..., :-1]).sum(-1)
    return bool((starts <= 1).all())


def _dimension(value: int | str, seq_len: int | None) -> int:
    if value == SEQ:
        return int(seq_len or DEFAULT_SEQ_LEN)
    return int(value)


INPUT_PATTERN = re.compile(r"^(?:(?P<name>[A-Za-z_][A-Za-z0-9_]*):)?(?P<dtype>[a-z0-9]+)\[(?P<shape>[^\]]*)\]$")


def parse_input(text: str, vocab_size: int | None = None) -> InputSpec:
    """'input_ids:int64[128]', 'attention_mask:int64[seq]' or 'float32[3,224,224]' (positional) -> InputSpec; an
    input named `input` is positional, as describe writes one, unless a keyword input comes before it (ModelInputs).

    Integer inputs named like a mask are ones, position_ids count the tokens (0, 1, ...), token_type_ids are 0
    (one segment, which every model's table of token types has: RoBERTa's holds one row, BERT's two); other
    integer inputs are token ids, drawn below the model's vocabulary size where it has one, else 0 or 1.
    Drawn over the vocabulary, the last two indexed past their tables."""
    match = INPUT_PATTERN.match(text.strip().replace(" ", ""))
    if match is None:
        raise HwprofError(
            f"bad input {text!r}: write NAME:DTYPE[SHAPE] without the batch, e.g. input_ids:int64[128] "
            "or pixel_values:float32[3,224,224] (seq stands for the sequence length)"
        )
    dtype_text = match.group("dtype")
    if dtype_text not in DTYPES:
        raise HwprofError(
            f"bad input {text!r}: {dtype_text!r} is not a dtype ({', '.join(DTYPES)}); write NAME:DTYPE[SHAPE], "
            "e.g. input_ids:int64[128]"
        )
    dims: list[int | str] = []
    for part in filter(None, match.group("shape").replace("x", ",").split(",")):
        if part == SEQ:
            dims.append(SEQ)
        elif part.isdigit() and int(part) > 0:
            dims.append(int(part))
        else:
            raise HwprofError(f"bad input {text!r}: each dimension is a positive integer or seq, not {part!r}")
    name = match.group("name")
    named_input = name == POSITIONAL_NAME
    if named_input:
        name = None
    dtype = DTYPES[dtype_text]
    high = None
    integer = not dtype.is_floating_point and dtype != torch.bool
    if integer and name == "token_type_ids":
        high = 1
    elif integer and "mask" not in (name or "") and name != "position_ids":
        high = vocab_size or 2
    return InputSpec(
        name, dtype, tuple(dims), 0, high, positions=integer and name == "position_ids", named_input=named_input
    )


def token_id_limit(module: torch.nn.Module, examples: ModelInputs | None = None) -> int | None:
    """What token ids described by --input are drawn below for a model that names no vocabulary (a user's
    factory), where parse_input would draw only 0 and 1: the top of the ids in its own examples, else the rows of
    its smallest nn.Embedding (an id below it indexes every embedding of the model); None where it has neither."""
    drawn = [spec.high for spec in (examples.specs if examples else ()) if spec.high is not None]
    if drawn:
        return max(drawn)
    rows = [m.num_embeddings for m in module.modules() if isinstance(m, (torch.nn.Embedding, torch.nn.EmbeddingBag))]
    return min(rows) if rows else None


def from_examples(examples: Any) -> ModelInputs:
    """Example inputs (a tensor, a tuple of tensors, a dict of keyword tensors, or (tuple, dict)) whose first
    dimension is the batch -> their description. Integer values are later drawn within the examples' range, a
    mask (bool, or integers 0 and 1) with the example's share of True, and a float example laid out NHWC so; the
    batch is the run's, not the example's; a mask whose rows each hold their True in one run (padding) is drawn so.

    A list of tensors is refused: a model taking one (torchvision's detection models take a list of images) would
    be given each as an input of its own, its first dimension taken for the batch."""
    if isinstance(examples, list) and any(isinstance(item, torch.Tensor) for item in examples):
        raise HwprofError(
            f"the example inputs are a list of {len(examples)} tensors, and hwprof cannot feed a model a list (a "
            "detection model's list of images): give a tuple of batched tensors for several positional inputs, or "
            "wrap the model in a module that takes one batched tensor"
        )
    if isinstance(examples, torch.Tensor):
        positional, keywords = (examples,), {}
    elif isinstance(examples, dict):
        positional, keywords = (), examples
    elif (
        isinstance(examples, (tuple, list))
        and len(examples) == 2
        and isinstance(examples[0], (tuple, list))
        and isinstance(examples[1], dict)
    ):
        positional, keywords = tuple(examples[0]), examples[1]
    elif isinstance(examples, (tuple, list)):
        positional, keywords = tuple(examples), {}
    else:
        raise HwprofError(
            f"the example inputs are {_kind(examples)}: give a tensor, a tuple of tensors, a dict of keyword "
            "tensors, or (tuple, dict)"
        )
    specs = []
    for name, tensor in [*((None, t) for t in positional), *keywords.items()]:
        where = f"input {name}" if name else "a positional input"
        if not isinstance(tensor, torch.Tensor):
            raise HwprofError(
                f"{where} is {_kind(tensor)}: example inputs are tensors whose first dimension is the batch"
            )
        if tensor.dim() == 0:
            raise HwprofError(
                f"{where} is a 0-dim tensor, with no batch dimension: example inputs are tensors whose first dimension "
                "is the batch, and a scalar such as a temperature belongs in a module attribute or buffer "
                "(self.register_buffer('temperature', torch.tensor(0.5)))"
            )
        low, high, share, runs = 0, None, None, False
        if not tensor.dtype.is_floating_point and tensor.dtype != torch.bool and tensor.numel():
            low, high = int(tensor.min()), int(tensor.max()) + 1
            if low == 1 and high == 2:
                low, high = 0, None  # all ones: a mask
        mask = tensor.dtype == torch.bool or (low, high) == (0, 2)  # bool, or integers 0 and 1
        if mask and tensor.numel() and not tensor.is_meta and not tensor.all():  # all True: ones, as without one
            share, runs = float(tensor.count_nonzero()) / tensor.numel(), one_run_per_row(tensor)
        nhwc = tensor.is_floating_point() and tensor.dim() == 4 and not tensor.is_contiguous()
        nhwc = nhwc and tensor.is_contiguous(memory_format=torch.channels_last)
        specs.append(
            InputSpec(
                name,
                tensor.dtype,
                tuple(tensor.shape[1:]),
                low,
                high,
                true_share=share,
                row_runs=runs,
                channels_last=nhwc,
            )
        )
    if not specs:
        raise HwprofError("no example input was given: a model needs at least one input tensor")
    return ModelInputs(tuple(specs))


def _kind(value: Any) -> str:
    """What a value is, with its article: "an int", "a float", "None"."""
    if value is None:
        return "None"
    kind = type(value).__name__
    return f"{'an' if kind[0].lower() in 'aeiou' else 'a'} {kind}"


def parse_dtype(text: str) -> str:
    if isinstance(text, torch.dtype):  # torch.float16: the name is what settings and dataset columns hold
        raise HwprofError(
            f"{option('dtype', text)}: give its name as text, e.g. {str(text).removeprefix('torch.')!r}; choose "
            f"from {', '.join(COMPUTE_DTYPES)}"
        )
    if text not in COMPUTE_DTYPES:
        raise HwprofError(f"{option('dtype', text)}: choose from {', '.join(COMPUTE_DTYPES)}")
    return text


def positive_integers(values: Sequence[int | str] | int | str, what: str, setting: str, example: str) -> list[int]:
    """Positive integers from ints or comma-separated text ('1,8' or [1, 8]), each once, in the order given;
    a bad one names `what` it was and the `setting` it came from."""
    found: list[int] = []
    if not isinstance(values, (numbers.Integral, str, Iterable)):  # None, 1.5: neither a number nor a list
        raise HwprofError(f"{option(setting, shown(values))}: give positive integers, e.g. {example}")
    for value in [values] if isinstance(values, (numbers.Integral, str)) else values:
        for part in str(value).split(","):
            part = part.strip()
            if not part:
                continue
            if not part.isdigit() or int(part) < 1:
                raise HwprofError(f"bad {what} {part!r} in {option(setting)}: give positive integers, e.g. {example}")
            found.append(int(part))
    return list(dict.fromkeys(found))


def parse_seq_lens(values: Sequence[int | str] | int | str | None) -> tuple[int, ...]:
    """Sequence lengths from ints or comma-separated text ('128,512'); empty when none is given."""
    if values is None:
        return ()
    if isinstance(values, str) and not values.strip():  # a variable lost in a script, not the lengths left out
        raise HwprofError(f"{option('seq_lens')} is empty: give sequence lengths, e.g. 128,512, or leave it out")
    return tuple(positive_integers(values, "sequence length", "seq_lens", "128,512"))
