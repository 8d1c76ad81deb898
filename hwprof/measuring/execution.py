"""How a network runs while it is measured: its float dtype, memory layout and torch.compile.

Deployments run float16 or bfloat16 weights, NHWC layouts and compiled graphs;
each changes the work, so each is recorded in the dataset's columns and
provenance, and a layer's dtype and layout enter its config (and config_id).
Layers are always timed eagerly: a layer alone has nothing for the compiler to
fuse, so only network rows are compiled, and they say so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import torch

from hwprof.drivers.host import read_text
from hwprof.errors import HwprofError, error_text, option
from hwprof.models.inputs import DTYPES, converted_for_run, parse_dtype
from hwprof.models.layers import to_eval
from hwprof.models.spec import compiled_by_user

# CPU flags of native half-precision arithmetic (x86: AVX512 / AMX; Arm: fp16 / bf16 extensions)
FAST_CPU_FLAGS = {
    "float16": ("avx512_fp16", "amx_fp16", "fphp", "asimdhp"),
    "bfloat16": ("avx512_bf16", "amx_bf16", "bf16"),
}


@dataclass(frozen=True)
class Execution:
    dtype: str = "float32"
    channels_last: bool = False
    compile: bool = False

    @classmethod
    def from_options(cls, options: Any) -> Execution:
        return cls(parse_dtype(options.dtype), bool(options.channels_last), bool(options.compile))

    @property
    def torch_dtype(self) -> torch.dtype:
        return DTYPES[self.dtype]

    def check_device(self, device: torch.device) -> None:
        """A dtype the device cannot compute in is refused before anything runs."""
        if self.dtype == "float32":
            return
        try:
            a = torch.ones((8, 8), dtype=self.torch_dtype, device=device)
            torch.nn.functional.linear(torch.relu(a), a)
        except Exception as error:
            first = error_text(error)
            raise HwprofError(
                f"{option('dtype', self.dtype)} cannot run on {device} ({first}); measure float32 there"
            ) from None

    def fast_precision(self, device: torch.device) -> tuple[bool | None, str]:
        """(whether the CPU computes this dtype natively, why not); None where it is not known: GPUs, and CPUs
        whose flags cannot be read (macOS, a container without /proc/cpuinfo), which may well have it."""
        if self.dtype == "float32":
            return True, ""
        if device.type != "cpu":
            return None, ""
        flags = set()
        for line in (read_text("/proc/cpuinfo") or "").splitlines():
            if re.match(r"^(flags|Features)\s*:", line):
                flags.update(line.split(":", 1)[1].split())
        if not flags:
            return None, ""
        native = [flag for flag in FAST_CPU_FLAGS[self.dtype] if flag in flags]
        if native:
            return True, ""
        return False, (
            f"this CPU has no native {self.dtype} arithmetic (none of the flags "
            f"{', '.join(FAST_CPU_FLAGS[self.dtype])}): PyTorch converts to float32 and back, so the timings show "
            "that emulation, not what a board with native support runs"
        )

    def warnings(self, device: torch.device) -> list[str]:
        fast, reason = self.fast_precision(device)
        return [reason] if fast is False else []

    def plan(self) -> dict:
        """What a resumed run must share; defaults are left out so datasets from before still resume."""
        plan: dict = {}
        if self.dtype != "float32":
            plan["dtype"] = self.dtype
        if self.channels_last:
            plan["channels_last"] = True
        if self.compile:
            plan["compile"] = True
        return plan

    def provenance(self, device: torch.device) -> dict:
        fast, reason = self.fast_precision(device)
        return {
            "dtype": self.dtype,
            "channels_last": self.channels_last,
            "compile": self.compile,
            "layers_compiled": False,
            "native_precision": fast,
            "native_precision_reason": reason or None,
        }

    def prepare(self, module: torch.nn.Module, device: torch.device) -> torch.nn.Module:
        """The module on the device, in the dtype and layout of this run (converted in place, as .to does). One mostly
        in the run's dtype beside other float dtypes keeps them, as a float32 run keeps any, and a Hugging Face model
        keeps the modules it lists as float32 (converted_for_run)."""
        module = converted_for_run(module, self.torch_dtype).to(device)
        if self.channels_last:
            from hwprof.models.tracing import to_channels_last

            module = to_channels_last(module)
        return to_eval(module)  # norms and dropouts left in training mode are named

    def network(self, module: torch.nn.Module, args: tuple, kwargs: dict, label: str):
        """What the network item calls: the module, or its compiled graph, compiled here by a first call so that
        a failure is one sentence and the compile time stays out of the timings. A module its user compiled
        already is compiled so too, as they asked, never twice."""
        if compiled_by_user(module):
            compiled, instead = module, "measure its module uncompiled (module._orig_mod)"
        elif self.compile:
            compiled, instead = torch.compile(module), f"measure it without {option('compile')}"
        else:
            return module
        try:
            compiled(*args, **kwargs)
        except Exception as error:
            first = error_text(error)
            raise HwprofError(
                f"torch.compile of {label} failed ({type(error).__name__}: {first[:300]}); {instead}"
            ) from None
        return compiled
