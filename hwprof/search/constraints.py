"""Hardware budgets such as `latency_ms<=5`, parsed once and checked per candidate.

A budget on a predicted metric is checked against the point prediction or,
with a confidence level, against the pessimistic end of the predicted
interval: the upper bound for `<=`/`<`, the lower bound for `>=`/`>`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from hwprof.errors import HwprofError

# metric -> what it is, for error messages and reports
PREDICTED_METRICS = {
    "latency_ms": "predicted latency of one inference, ms",
    "power_w": "predicted average power during inference, W",
    "energy_mj": "predicted energy of one inference, mJ",
}
ANALYTIC_METRICS = {
    "params": "the number of parameters, frozen ones (requires_grad=False) included",
    "flops": "the count of multiply-accumulates (MACs) of one inference, not FLOPs at 2 per MAC",
    "memory_mb": (
        "a lower bound on inference memory in MB of 10^6 bytes: the weights plus the largest layer's inputs, "
        "output and attention scores; tensors kept alive across layers (skip connections) and the runtime are "
        "left out"
    ),
}


def counted_meaning(metric: str) -> str:
    """What a counted metric is, as a sentence a user reads beside its budget: 'memory_mb is a lower bound ...'."""
    return f"{metric} is {ANALYTIC_METRICS[metric]}"


METRICS = {**PREDICTED_METRICS, **ANALYTIC_METRICS}
OPERATORS = ("<=", ">=", "<", ">")

_EXPRESSION = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*([<>=!]+)\s*(\S.*?)\s*$")


@dataclass(frozen=True)
class Constraint:
    metric: str
    operator: str
    budget: float

    @property
    def text(self) -> str:
        return f"{self.metric}{self.operator}{budget_text(self.budget)}"

    @property
    def is_upper_limit(self) -> bool:
        return self.operator in ("<=", "<")

    @property
    def is_predicted(self) -> bool:
        return self.metric in PREDICTED_METRICS

    def checked_value(self, value: float, interval: tuple[float, float] | None) -> float:
        """The value the budget is held against: the interval's pessimistic end when there is one."""
        if interval is None:
            return value
        low, high = interval
        return high if self.is_upper_limit else low

    def holds(self, value: float) -> bool:
        if self.operator == "<=":
            return value <= self.budget
        if self.operator == "<":
            return value < self.budget
        if self.operator == ">=":
            return value >= self.budget
        return value > self.budget

    def violation(self, value: float) -> float:
        """How far past the budget, relative to it: <= 0 when the budget holds (Optuna's convention)."""
        excess = value - self.budget if self.is_upper_limit else self.budget - value
        relative = excess / (abs(self.budget) if self.budget != 0 else 1.0)
        if self.holds(value):
            return min(0.0, relative)
        return max(relative, 1e-9)  # a strict limit met with equality still fails


def budget_text(budget: float) -> str:
    """The budget as text that reads back as the same number: `:g` where that is exact (0.1, 5, 1e+06, the text
    stored studies and search.json already hold), else every digit it needs (2176009, not 2.17601e+06, which
    reads back as 2176010)."""
    budget = float(budget)  # an int budget (Constraint built in Python) has no is_integer() before Python 3.12
    short = f"{budget:g}"
    if float(short) == budget:
        return short
    if budget.is_integer() and abs(budget) < 2**53:  # a count: all its digits, without repr's '.0'
        return str(int(budget))
    return repr(budget)


def parse_constraint(text: str) -> Constraint:
    """'latency_ms<=5' -> Constraint; one clear sentence for anything else."""
    match = _EXPRESSION.match(text or "")
    if match is None:
        raise HwprofError(
            f"bad constraint {text!r}: write METRIC<=NUMBER, e.g. 'latency_ms<=5' (metrics: {', '.join(METRICS)})"
        )
    metric, operator, number_text = match.groups()
    if metric not in METRICS:
        raise HwprofError(f"unknown metric {metric!r} in constraint {text!r}: use one of {', '.join(METRICS)}")
    if operator not in OPERATORS:
        raise HwprofError(f"bad operator {operator!r} in constraint {text!r}: use one of {', '.join(OPERATORS)}")
    try:
        budget = float(number_text)
    except ValueError:
        raise HwprofError(f"budget {number_text!r} in constraint {text!r} is not a number") from None
    if not math.isfinite(budget):
        raise HwprofError(f"budget in constraint {text!r} must be a finite number")
    if budget < 0:
        holds = "always" if operator in (">=", ">") else "never"
        raise HwprofError(f"constraint {text!r} {holds} holds, since {metric} is never negative; give a budget >= 0")
    return Constraint(metric, operator, budget)


def parse_constraints(texts) -> list[Constraint]:
    constraints = [parse_constraint(text) for text in texts]
    seen = set()
    for constraint in constraints:
        key = (constraint.metric, constraint.is_upper_limit)
        if key in seen:
            raise HwprofError(
                f"two {'upper' if constraint.is_upper_limit else 'lower'} limits on {constraint.metric}: keep one"
            )
        seen.add(key)
    return constraints


def check_satisfiable(constraints: list[Constraint]) -> None:
    """Refuse an upper limit below a lower limit on the same metric: every trial would be skipped, and the search
    would end, after all of them, having trained nothing."""
    for upper in constraints:
        for lower in constraints:
            if upper.metric != lower.metric or not upper.is_upper_limit or lower.is_upper_limit:
                continue
            if not (upper.holds(lower.budget) and lower.holds(upper.budget)):
                raise HwprofError(
                    f"constraints {upper.text!r} and {lower.text!r} contradict each other: no {upper.metric} meets "
                    "both, so every trial would be skipped; give an upper limit above the lower one"
                )
