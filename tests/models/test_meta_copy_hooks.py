"""predict traces a copy of the host's module on meta tensors: the host's hooks stay behind, where they ran
on meta tensors (an activation log got a meta tensor, a value-reading hook ran three times)."""

import warnings

import torch
import torch.nn.utils.prune

from hwprof.models.tracing import meta_copy, trace_layers


def host_net():
    return torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.ReLU(), torch.nn.Linear(32, 4))


def test_the_hosts_hooks_do_not_run_while_predict_traces():
    net = host_net()
    acts, reads = [], []
    net[1].register_forward_hook(lambda m, i, o: acts.append(o.detach()))
    net[0].register_forward_pre_hook(lambda m, i: reads.append(float(i[0].sum())))
    net.register_forward_hook(lambda m, i, o: acts.append(o.detach()), with_kwargs=False)
    net[2].register_full_backward_hook(lambda m, gi, go: None)
    net.register_state_dict_post_hook(lambda m, state, prefix, local: None)

    trace = trace_layers(net, (16,))

    assert trace.tensors == "meta" and acts == [] and reads == []
    copied = meta_copy(net)
    assert all(not part._forward_hooks and not part._forward_pre_hooks for part in copied.modules())
    assert all(not part._backward_hooks and not part._state_dict_hooks for part in copied.modules())
    assert len(net[1]._forward_hooks) == 1 and len(net[0]._forward_pre_hooks) == 1  # the host's own stay


def test_torchs_own_weight_computing_hooks_are_kept():
    net = host_net()
    with warnings.catch_warnings(), torch.no_grad():  # no_grad: weights computed so are leaves, and copy
        warnings.simplefilter("ignore", FutureWarning)  # the old weight_norm API: a forward pre-hook
        torch.nn.utils.weight_norm(net[0])
        torch.nn.utils.prune.l1_unstructured(net[2], "weight", amount=0.5)
    copied = meta_copy(net)
    assert len(copied[0]._forward_pre_hooks) == 1 and len(copied[2]._forward_pre_hooks) == 1
    trace = trace_layers(net, (16,))
    assert trace.tensors == "meta" and [layer.op for layer in trace.layers][:1] == ["linear"]
