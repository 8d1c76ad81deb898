"""F.batch_norm(..., training=True) in an eval network normalises by batch statistics, 7-29x the work of running
statistics; it shared a config_id (and so its timing) with training=False."""

import torch
import torch.nn as nn
import torch.nn.functional as F

from hwprof.models.layers import extract_layers_from_example, run_and_extract
from hwprof.models.tracing import trace_layers


class FunctionalNorm(nn.Module):
    def __init__(self, training: bool, running: bool = True):
        super().__init__()
        self.training_flag = training
        self.running_mean = torch.zeros(8) if running else None
        self.running_var = torch.ones(8) if running else None
        self.weight, self.bias = nn.Parameter(torch.ones(8)), nn.Parameter(torch.zeros(8))

    def forward(self, x):
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, self.training_flag)


def only_layer(module: nn.Module):
    layers, _ = extract_layers_from_example(module, (torch.randn(2, 8, 4, 4),), {})
    assert [layer.op for layer in layers] == ["batchnorm2d"]
    return layers[0]


def test_batch_statistics_are_their_own_config_and_are_timed_so():
    batch, running = only_layer(FunctionalNorm(True)), only_layer(FunctionalNorm(False))
    assert batch.config["training"] is True
    assert "training" not in running.config  # the ids of running statistics stay as they were
    assert batch.config_id("cpu") != running.config_id("cpu")
    assert batch.call.target.training and not running.call.target.training


def test_without_running_statistics_the_call_is_a_batch_norm_without_them():
    """Batch statistics are then the only ones: the work of nn.BatchNorm2d(track_running_stats=False) in eval."""
    functional = only_layer(FunctionalNorm(True, running=False))
    module = only_layer(nn.Sequential(nn.BatchNorm2d(8, track_running_stats=False)))
    assert functional.config_id("cpu") == module.config_id("cpu")


def test_prediction_traces_the_training_flag_as_measure_does():
    module = FunctionalNorm(True)
    real, _ = run_and_extract(module, (8, 4, 4), 2)
    predicted = trace_layers(module, (8, 4, 4), 2)
    assert predicted.tensors == "meta"
    assert [layer.facts() for layer in predicted.layers] == [layer.facts() for layer in real]
