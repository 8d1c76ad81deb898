"""Why a model was traced on real tensors is the first sentence of torch's message, what failed; torch's advice to
its own developers after it ("please set torch.fx.experimental._config...") is left out."""

import torch.nn as nn

from hwprof.models.tracing import trace_layers


class FailsOnMeta(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 4)

    def forward(self, x):
        if x.is_meta:  # as torch's meta kernels fail, advice and all
            raise NotImplementedError(
                "The register_meta function for torch.nonzero() raises unimplemented by default. To enable this "
                "registration, please set 'torch.fx.experimental._config.meta_nonzero_assume_all_nonzero' to True."
            )
        return self.linear(x)


def test_the_reason_is_what_failed_without_torchs_advice():
    trace = trace_layers(FailsOnMeta(), (4,), 1)
    assert trace.tensors == "real"
    assert trace.reason == (
        "NotImplementedError: The register_meta function for torch.nonzero() raises unimplemented by default"
    )
    assert "please" not in trace.description
