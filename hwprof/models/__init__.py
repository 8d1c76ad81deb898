"""What a MODEL argument means: a spec resolved to a module, and the layers it executes."""

import os
import threading

# torch.fx patches nn.Module for the whole process while it traces, so one trace runs at a time, whoever
# traces: a prediction, or a measurement in another thread (hwprof.predictor.records holds it longer).
# Other threads' forward passes need no lock: hwprof's tracer passes their module calls straight through.
FX_TRACING = threading.RLock()

# A child forked while another thread traces would inherit the lock held by a thread it does not have (its
# first prediction hangs) and that trace's half-done state: torch.fx's patches of nn.Module, the cyclic
# collector paused. So a fork waits for the trace to end, and the child releases the lock its forking thread
# took for it, as the parent does.
if hasattr(os, "register_at_fork"):
    os.register_at_fork(
        before=FX_TRACING.acquire, after_in_parent=FX_TRACING.release, after_in_child=FX_TRACING.release
    )
