"""The layer sweep `measure` adds by default, so that a fit on one plain run predicts unseen networks.

A network's own layers show a layer model only the few sizes that network uses; the fit then extrapolates
to every other network from them (held-out transformers land 10x off). A few randomly drawn
configurations of each op the measured networks use, timed in the same run, give the layer models sizes
to interpolate between, and give the fit configurations shared between runs to align their speeds.

The sweep is measured after the networks, in rounds of ROUND_CONFIGS configurations per op (costliest op
first), each round a sweep `sweep:OP:ROUND_CONFIGS:ROUND` of its own, until its time reaches the share of
the run it is allowed. Every run draws the same rounds, so runs of different models share them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

DEFAULT_SWEEP_SHARE = 0.2  # at most this share of a run's time goes to the sweep (plus one group over)
ROUND_CONFIGS = 2  # configurations of one op drawn per round: the most the sweep can overrun its share by
MAX_ROUNDS = 50
MIN_BUDGET_S = 2.0  # a run too short to leave this much for the sweep gets none: it could not be bounded


@dataclass
class SweepRecord:
    """What the sweep cost and covered, for the provenance and the end-of-run note."""

    share_allowed: float
    ops: list[str] = field(default_factory=list)
    configurations: int = 0
    sweep_s: float = 0.0
    networks_s: float = 0.0
    skipped_reason: str = ""

    @property
    def share(self) -> float:
        total = self.sweep_s + self.networks_s
        return self.sweep_s / total if total > 0 else 0.0

    def provenance(self) -> dict:
        return {
            "share_allowed": self.share_allowed,
            "share": round(self.share, 4),
            "ops": self.ops,
            "configurations": self.configurations,
            "sweep_s": round(self.sweep_s, 3),
            "networks_s": round(self.networks_s, 3),
            **({"skipped_reason": self.skipped_reason} if self.skipped_reason else {}),
        }

    def note(self) -> str:
        off = "--sweep-share 0 leaves it out"
        if self.skipped_reason:
            return f"no layer sweep for the fit: {self.skipped_reason}"
        return (
            f"layer sweep for the fit: {self.configurations} configurations of {', '.join(self.ops)} in "
            f"{self.sweep_s:.1f} s, {self.share:.0%} of the run (allowed {self.share_allowed:.0%}; {off})"
        )


def budget_s(share: float, networks_s: float) -> float:
    """Sweep seconds that make `share` of the whole run, given the time the networks took."""
    return share / (1 - share) * networks_s  # share < 1: measure() refuses any other


def ops_to_sweep(rows: pd.DataFrame, swept_already: set[str]) -> list[str]:
    """Ops of the measured networks' layers that have a sampler, costliest first (by their layers' total
    latency), leaving out ops the caller sweeps explicitly."""
    from hwprof.sample_models.sweep import PREFIX, SAMPLERS

    if not len(rows) or "kind" not in rows:
        return []
    layers = rows[(rows["kind"] == "layer") & ~rows["model"].astype(str).str.startswith(PREFIX)]
    layers = layers[layers["op"].isin(set(SAMPLERS) - swept_already)]
    if not len(layers):
        return []
    total_ms = layers.groupby("op")["latency_ms"].sum().sort_values(ascending=False, kind="stable")
    return list(total_ms.index)


def round_name(op: str, round_index: int) -> str:
    return f"sweep:{op}:{ROUND_CONFIGS}:{round_index}"
