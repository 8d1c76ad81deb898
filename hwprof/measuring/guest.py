"""hwprof as a guest in a host program: a measurement runs under its own torch settings, and the host's are
put back afterwards, so that measuring inside a training script neither changes what the script does next nor
measures something other than what the dataset records.

Three of torch's global settings would otherwise leak in or out:
- autocast: a host's `torch.autocast` would run the layers in bfloat16 while every row says float32;
- the default dtype and device: `torch.set_default_dtype(torch.bfloat16)` or `set_default_device("meta")`
  would build hwprof's own networks in them (refused, or failing inside torch);
- the random number generators: the inputs hwprof draws would move a host's seeded run onto other numbers.

The switches that only pick other kernels for the same computation (oneDNN's torch.backends.mkldnn.enabled, TF32,
cudnn.benchmark) are left as the host set them, and the provenance records each: a host that turned one off did so
on purpose, and measuring under it is what it asked for.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from hwprof.models.spec import float32_default


@contextmanager
def own_torch_settings() -> Iterator[None]:
    """float32 and the CPU as defaults, autocast off, and the random generators forked for the span of the
    block; the host's values of each restored when it ends, however it ends."""
    import torch

    from hwprof.models.tracing import forked_generators

    device = torch.get_default_device() if hasattr(torch, "get_default_device") else None
    with ExitStack() as stack:
        stack.enter_context(forked_generators())
        stack.enter_context(torch.autocast("cpu", enabled=False))
        if torch.cuda.is_available():
            stack.enter_context(torch.autocast("cuda", enabled=False))
        stack.enter_context(float32_default())
        if device is not None and device.type != "cpu":
            # None, not "cpu": a default device is a torch function mode, under which attention leaves its fused path
            torch.set_default_device(None)
        try:
            yield
        finally:
            if device is not None and device.type != "cpu":
                torch.set_default_device(device)
