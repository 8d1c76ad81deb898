"""Search spaces: ranges and choices of hyper-parameters mapped to a model factory.

A space is written in YAML or Python with the same keys:

    name: digits-cnn                       # optional; defaults to the file's stem
    factory: hwprof.search.demo:build_digits_cnn   # module:function or path/to/file.py:function
    input_shape: [1, 8, 8]                 # one sample, without the batch dimension
    objective: hwprof.search.demo:train_on_digits  # optional; --objective overrides it
    params:
      channels: [8, 16, 32]                # a list: one of these choices
      depth: {low: 1, high: 3}             # integer bounds: an integer range, both ends included
      lr: {low: 0.001, high: 0.1, log: true}     # a float range, sampled on a log scale
      dropout: {low: 0.0, high: 0.5, step: 0.1}
      activation: {choices: [relu, gelu]}
    fixed:                                 # passed to the factory unchanged
      num_classes: 10

The factory is called as `factory(**fixed, **params)` and returns a torch.nn.Module.
A Python space file defines `SPACE` (a dict like the above, where factory and
objective may also be the functions themselves); `file.py:NAME` picks another name.
File paths inside a space are relative to the space file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import inspect
import json
import math
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hwprof.errors import HwprofError, error_line, is_switch, whole_number
from hwprof.models.spec import import_user_file

CHOICE_TYPES = (str, int, float, bool, type(None))
SPACE_KEYS = {"name", "factory", "input_shape", "objective", "params", "fixed"}


@dataclass(frozen=True)
class Param:
    name: str
    kind: str  # "choice", "int" or "float"
    choices: tuple = ()
    low: float = 0
    high: float = 0
    step: float | None = None
    log: bool = False

    def suggest(self, trial) -> Any:
        if self.kind == "choice":
            return trial.suggest_categorical(self.name, list(self.choices))
        if self.kind == "int":
            return trial.suggest_int(self.name, int(self.low), int(self.high), step=int(self.step or 1), log=self.log)
        return trial.suggest_float(self.name, self.low, self.high, step=self.step, log=self.log)

    def draw(self, rng: random.Random) -> Any:
        """A value drawn at random from the choices or the range (on its step, or its log scale)."""
        if self.kind == "choice":
            return rng.choice(self.choices)
        if self.log:
            value = math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
            return min(max(round(value), int(self.low)), int(self.high)) if self.kind == "int" else value
        if self.step:
            value = self.low + self.step * rng.randint(0, round((self.high - self.low) / self.step))
            return int(value) if self.kind == "int" else float(value)
        return rng.randint(int(self.low), int(self.high)) if self.kind == "int" else rng.uniform(self.low, self.high)

    def first(self) -> Any:
        """A representative value, used to probe the space before searching it."""
        if self.kind == "choice":
            return self.choices[0]
        return int(self.low) if self.kind == "int" else float(self.low)


@dataclass
class SearchSpace:
    name: str
    factory: Callable[..., Any]
    factory_ref: str
    input_shape: tuple[int, ...]
    params: list[Param]
    fixed: dict = field(default_factory=dict)
    objective: Callable | None = None
    objective_ref: str | None = None

    def suggest(self, trial) -> dict:
        return {param.name: param.suggest(trial) for param in self.params}

    def first_params(self) -> dict:
        return {param.name: param.first() for param in self.params}

    def draw_params(self, rng: random.Random) -> dict:
        return {param.name: param.draw(rng) for param in self.params}

    def definition(self) -> dict:
        """What a stored study depends on, as plain JSON: the params, fixed values, input shape and factory, which
        search.json records so the study can be run again. Written order does not count; a value JSON cannot
        hold is kept as its repr, without memory addresses."""
        content = {
            "factory": _stable_reference(self.factory, self.factory_ref),
            "input_shape": list(self.input_shape),
            "params": sorted((dataclasses.asdict(param) for param in self.params), key=lambda p: p["name"]),
            "fixed": self.fixed,
        }
        return json.loads(json.dumps(content, sort_keys=True, default=_stable_repr))

    def fingerprint(self) -> str:
        """A digest of the definition: a stored study refuses a space that has changed."""
        text = json.dumps(self.definition(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def build(self, params: dict):
        """The model for one configuration; a factory that fails is reported, not propagated."""
        import torch.nn as nn

        try:
            module = self.factory(**self.fixed, **params)
        except Exception as error:  # the factory is the user's code
            reason = error_line(error)
            raise FactoryFailed(f"factory {self.factory_ref} failed for {params}: {reason}", reason) from None
        if not isinstance(module, nn.Module):
            reason = f"returned {type(module).__name__}, not a torch.nn.Module"
            raise FactoryFailed(f"factory {self.factory_ref} {reason}", reason)
        return module


class FactoryFailed(HwprofError):
    """The factory gave no model for one configuration: a search records that trial as failed, with `reason`."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def _stable_repr(value: Any) -> str:
    return re.sub(r" at 0x[0-9a-fA-F]+", "", repr(value))


def _stable_reference(function: Callable, ref: str) -> str:
    """`ref`, or for a function from a user's file (imported under a module name hashed from its path, which
    changes from run to run) that file's name and the function's."""
    if not (getattr(function, "__module__", None) or "").startswith("hwprof_user_"):
        return ref
    try:
        return f"{Path(inspect.getfile(function)).name}:{function.__qualname__}"
    except (TypeError, AttributeError):
        return ref


def load_space(text: str) -> SearchSpace:
    """SPACE argument -> SearchSpace: a YAML file, or a Python file (file.py or file.py:NAME)."""
    path_text, _, attribute = text.rpartition(":") if ".py:" in text else (text, "", "")  # C:/m/space.py:NAME
    path = Path(path_text)
    if not path.is_file():
        raise HwprofError(f"search space {path_text!r} does not exist: give a .yaml or .py file, or 'demo'")
    if path.suffix in (".yaml", ".yml"):
        import yaml

        try:  # UTF-8 whatever the locale's encoding (cp1252 on Windows), with or without a BOM
            raw = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
        except UnicodeDecodeError:
            raise HwprofError(f"search space {path} is not UTF-8 text: save it as UTF-8") from None
        except yaml.YAMLError as error:
            problem = getattr(error, "problem", None) or "syntax error"
            mark = getattr(error, "problem_mark", None)  # where the parser gave up (0-based)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
            raise HwprofError(f"search space {path} is not valid YAML{where}: {problem}") from None
    elif path.suffix == ".py":
        module = import_user_file(path)
        name = attribute or "SPACE"
        if not hasattr(module, name):
            raise HwprofError(f"{path} defines no {name}: define {name} = {{'factory': ..., 'params': ...}}")
        raw = getattr(module, name)
    else:
        raise HwprofError(f"search space {path} must end in .yaml, .yml or .py")
    return space_from_dict(raw, default_name=path.stem, base_dir=path.parent)


def space_from_dict(raw: Any, default_name: str = "space", base_dir: Path | None = None) -> SearchSpace:
    if not isinstance(raw, dict):
        raise HwprofError("a search space must be a mapping with keys factory, input_shape and params")
    unknown = set(raw) - SPACE_KEYS
    if unknown:
        raise HwprofError(
            f"unknown key(s) {', '.join(sorted(map(str, unknown)))} in search space: use {', '.join(sorted(SPACE_KEYS))}"
        )
    for key in ("factory", "input_shape", "params"):
        if key not in raw:
            raise HwprofError(f"search space has no {key!r}: see `hwprof search --help` for the format")
    factory, factory_ref = _callable(raw["factory"], "factory", base_dir)
    objective, objective_ref = (None, None)
    if raw.get("objective") is not None:
        objective, objective_ref = _callable(raw["objective"], "objective", base_dir)
    params_raw = raw["params"]
    if not isinstance(params_raw, dict) or not params_raw:
        raise HwprofError("search space 'params' must map each hyper-parameter name to its choices or range")
    fixed = raw.get("fixed") or {}
    if not isinstance(fixed, dict):
        raise HwprofError("search space 'fixed' must map names to values")
    clash = set(fixed) & set(params_raw)
    if clash:
        raise HwprofError(f"{', '.join(sorted(clash))} is both searched and fixed: keep it in one place")
    return SearchSpace(
        name=str(raw.get("name") or default_name),
        factory=factory,
        factory_ref=factory_ref,
        input_shape=_shape(raw["input_shape"]),
        params=[_param(str(name), spec) for name, spec in params_raw.items()],
        fixed=dict(fixed),
        objective=objective,
        objective_ref=objective_ref,
    )


def load_callable(ref: str, what: str, base_dir: Path | None = None) -> Callable:
    """'package.module:function' or 'path/to/file.py:function' -> the function."""
    if not isinstance(ref, str) or ":" not in ref:
        raise HwprofError(f"{what} {ref!r} must be written module:function or path/to/file.py:function")
    module_text, function_name = ref.rsplit(":", 1)
    if module_text.endswith(".py"):
        path = Path(module_text)
        if not path.is_absolute() and base_dir is not None and (base_dir / path).is_file():
            path = base_dir / path
        if not path.is_file():
            raise HwprofError(f"{what} file {module_text!r} does not exist")
        module = import_user_file(path)
    else:
        try:
            module = importlib.import_module(module_text)
        except ImportError as error:
            raise HwprofError(f"cannot import {what} module {module_text!r}: {error}") from None
    function = getattr(module, function_name, None)
    if not callable(function):
        raise HwprofError(f"{what} {ref!r}: {module_text} has no function named {function_name!r}")
    return function


def _callable(value: Any, what: str, base_dir: Path | None) -> tuple[Callable, str]:
    if callable(value):
        return value, f"{getattr(value, '__module__', '?')}:{getattr(value, '__qualname__', repr(value))}"
    return load_callable(value, what, base_dir), str(value)


def _shape(value: Any) -> tuple[int, ...]:
    if isinstance(value, str):
        from hwprof.models.spec import parse_shape

        return parse_shape(value)
    try:
        shape = tuple(value)
    except TypeError:
        shape = ()
    if not shape or not all(whole_number(d) and d > 0 for d in shape):  # 2.9 is no size: int() made it 2
        raise HwprofError(
            f"search space input_shape {value!r} must be positive integers without the batch, e.g. [1, 8, 8]"
        )
    return tuple(int(d) for d in shape)


def _param(name: str, spec: Any) -> Param:
    if isinstance(spec, dict) and set(spec) == {"choices"}:
        spec = spec["choices"]
    if isinstance(spec, (list, tuple)):
        if not spec:
            raise HwprofError(f"hyper-parameter {name!r} has an empty list of choices")
        bad = [choice for choice in spec if not isinstance(choice, CHOICE_TYPES)]
        if bad:
            raise HwprofError(
                f"hyper-parameter {name!r}: choices must be numbers, strings, booleans or null, not {bad[0]!r}"
            )
        return Param(name, "choice", choices=tuple(spec))
    if not isinstance(spec, dict) or not {"low", "high"} <= set(spec):
        raise HwprofError(
            f"hyper-parameter {name!r} must be a list of choices or a range {{low: ..., high: ...}}, not {spec!r}"
        )
    unknown = set(spec) - {"low", "high", "step", "log"}
    if unknown:
        raise HwprofError(
            f"hyper-parameter {name!r} has unknown key(s) {', '.join(sorted(map(str, unknown)))}: use low, high, step, log"
        )
    low, high, step, log = spec["low"], spec["high"], spec.get("step"), spec.get("log", False)
    if not is_switch(log):  # bool("false") is True
        raise HwprofError(f"hyper-parameter {name!r}: log must be true or false, not {log!r}")
    numbers = [v for v in (low, high, step) if v is not None]
    if any(isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) for v in numbers):
        raise HwprofError(f"hyper-parameter {name!r}: low, high and step must be numbers")
    if low > high:
        raise HwprofError(f"hyper-parameter {name!r}: low {low} is above high {high}")
    if log and (low <= 0 or step is not None):
        raise HwprofError(f"hyper-parameter {name!r}: a log range needs low > 0 and no step")
    if step is not None and step <= 0:
        raise HwprofError(f"hyper-parameter {name!r}: step must be positive")
    if step is not None:
        steps = (high - low) / step
        if abs(steps - round(steps)) > 1e-9 * max(1.0, steps):  # Optuna would warn before every trial and cut it
            top = low + math.floor(steps + 1e-9) * step
            raise HwprofError(
                f"hyper-parameter {name!r}: high - low ({high} - {low}) is not a multiple of step {step}, so the "
                f"range would end at {top:g}: give high {top:g}, or a step that divides it"
            )
    kind = "int" if all(isinstance(v, int) for v in numbers) else "float"
    return Param(name, kind, low=low, high=high, step=step, log=bool(log))
