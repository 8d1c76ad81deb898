"""torch.fx patches nn.Module.__call__ and __getattr__ for the whole process while it traces: a forward pass
in another thread meanwhile must run as if nothing traced."""

import threading

import torch
import torch.nn as nn

from hwprof.models.layers import extract_layers_from_example


def test_a_forward_in_another_thread_runs_while_hwprof_traces():
    traced = nn.Sequential(*[nn.Sequential(nn.Linear(8, 8), nn.ReLU()) for _ in range(20)])
    other = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU()).eval()
    x = torch.randn(1, 3, 8, 8)
    with torch.no_grad():
        expected = other(x)
    done = threading.Event()
    failures: list[str] = []

    def forward_loop():
        with torch.no_grad():
            while not done.is_set():
                try:
                    assert torch.equal(other(x), expected)
                except Exception as error:  # noqa: BLE001 - any failure of the other thread's forward
                    failures.append(f"{type(error).__name__}: {error}")
                    return

    thread = threading.Thread(target=forward_loop)
    thread.start()
    try:
        for _ in range(30):
            layers, how = extract_layers_from_example(traced, (torch.randn(2, 8),), {}, recipes=False)
            assert how == "fx" and len(layers) == 40
    finally:
        done.set()
        thread.join()
    assert failures == []
