"""What a MODEL argument means: a spec resolved to a module, and the layers it executes."""

import threading

# torch.fx patches nn.Module for the whole process while it traces, so one trace runs at a time, whoever
# traces: a prediction, or a measurement in another thread (hwprof.predictor.records holds it longer)
FX_TRACING = threading.RLock()
