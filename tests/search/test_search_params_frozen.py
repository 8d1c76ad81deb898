"""The params budget counts every parameter, frozen ones included, and says so where it is shown."""

import torch.nn as nn

from fakes.search_doubles import ToyPredictor, search_result
from hwprof.search.constraints import parse_constraints
from hwprof.search.report import summary_lines
from hwprof.search.space import SearchSpace
from hwprof.search.study import CostEstimator


class FrozenBackbone(nn.Module):
    """A frozen feature layer under a trainable head, as a fine-tuned network has."""

    def __init__(self, width: int = 10, head: str = "wide"):
        super().__init__()
        self.width, self.head = width, head
        self.backbone = nn.Linear(4, 32).requires_grad_(False)
        self.classifier = nn.Linear(32, 10)

    def forward(self, x):
        return self.classifier(self.backbone(x))


def test_params_counts_frozen_parameters_and_its_meaning_says_so():
    space = SearchSpace("frozen", FrozenBackbone, "frozen:build", (4,), [])
    constraints = parse_constraints(["params<=1000"])
    estimator = CostEstimator(ToyPredictor(), space, constraints, None, 1)
    metrics, _, _ = estimator.estimate(FrozenBackbone(), {})
    assert metrics["params"] == (4 * 32 + 32) + (32 * 10 + 10)  # 490: the frozen 160 with the trainable 330
    lines = summary_lines(search_result([], budgets=("params<=1000",)))
    meaning = next(line for line in lines if line.startswith("params is "))
    assert "trainable" not in meaning and "frozen ones" in meaning and "included" in meaning
