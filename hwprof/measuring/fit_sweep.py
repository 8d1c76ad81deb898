"""The layer sweep `measure` adds by default, so that a fit on one plain run predicts unseen networks.

A network's own layers show a layer model only the few sizes that network uses; the fit then extrapolates
to every other network from them (held-out transformers land 10x off). A few randomly drawn
configurations of each op the measured networks use, timed in the same run, give the layer models sizes
to interpolate between, and give reruns of the same models configurations in common to align their speeds.

The sweep is measured after the networks, in rounds of ROUND_CONFIGS configurations per op (costliest op
first), each round a sweep `sweep:OP:ROUND_CONFIGS:SEED` of its own, until its time reaches the share of
the run it is allowed. The seeds follow from the models measured: a rerun of the same models draws the
same rounds (the fit aligns reruns by them), a run of other models draws others, so a fleet of one-model
runs covers many sizes, not the same few again and again. (When every run drew the same rounds, fifteen
default runs held 4-8 distinct configurations of an op, and their runs still shared too few to be aligned.)
"""

from __future__ import annotations

import os
import zlib
from dataclasses import dataclass, field

import pandas as pd

from hwprof.progress import duration_text

DEFAULT_SWEEP_SHARE = 0.2  # at most this share of a run's time goes to the sweep (plus one group over)
ROUND_CONFIGS = 2  # configurations of one op drawn per round: the most the sweep can overrun its share by
MAX_ROUNDS = 50
MIN_BUDGET_S = 1.0  # a run too short to leave this much for the sweep gets none: one round could overrun it


@dataclass
class SweepRecord:
    """What the sweep cost and covered, for the provenance and the end-of-run note."""

    share_allowed: float
    ops: list[str] = field(default_factory=list)
    configurations: int = 0
    sweep_s: float = 0.0
    networks_s: float = 0.0
    skipped_reason: str = ""
    rounds: int = 0  # rounds measured to the end, in order: a resumed run carries on after them

    @classmethod
    def recorded(cls, provenance: dict) -> SweepRecord:
        """The record a run wrote (provenance()), for a resumed run to carry on from it."""
        return cls(
            provenance.get("share_allowed", DEFAULT_SWEEP_SHARE),
            ops=list(provenance.get("ops") or []),
            configurations=int(provenance.get("configurations") or 0),
            sweep_s=float(provenance.get("sweep_s") or 0.0),
            networks_s=float(provenance.get("networks_s") or 0.0),
            skipped_reason=provenance.get("skipped_reason") or "",
            rounds=int(provenance.get("rounds") or 0),
        )

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
            "rounds": self.rounds,
            **({"skipped_reason": self.skipped_reason} if self.skipped_reason else {}),
        }

    def note(self) -> str:
        off = "--sweep-share 0 leaves it out"
        if self.skipped_reason:
            return f"no layer sweep for the fit: {self.skipped_reason}"
        swept = f"{self.configurations} configurations of {', '.join(self.ops)}" if self.ops else "no configurations"
        return (
            f"layer sweep for the fit: {swept} in "
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


RUN_SEEDS = 1_000_000  # distinct seed ranges for runs of different models, MAX_ROUNDS seeds each


def first_seed(model_names: list[str]) -> int:
    """The seed of a run's first sweep round: the same for the same models in any order, another for others."""
    digest = zlib.crc32("\n".join(sorted(model_names)).encode())
    return digest % RUN_SEEDS * MAX_ROUNDS


def round_name(op: str, round_index: int, seed: int) -> str:
    """The sweep model of one round of `op`, for a run whose first round has seed `seed` (first_seed)."""
    return f"sweep:{op}:{ROUND_CONFIGS}:{seed + round_index}"


def recorded_sweep(runs: list[dict]) -> tuple[SweepRecord | None, bool]:
    """The default sweep as the latest earlier run recorded it, and whether that run finished it (completed):
    a run that reached the sweep had measured every network, and its record holds the wall time they and
    the sweep took."""
    for run in reversed(runs):
        if isinstance(run.get("fit_sweep"), dict):
            return SweepRecord.recorded(run["fit_sweep"]), run.get("status") == "complete"
    return None, False


def unfinished_sweep(runs: list[dict]) -> dict | None:
    """The default layer sweep of a run that did not complete, where it stopped short of its budget: the rounds
    and seconds its record (fit_sweep) holds against that budget, which a resume carries on to. Read as a resume
    reads it: the latest record, from the latest run or an earlier one. None where the latest run completed, or
    the sweep met its budget, was skipped or was never reached (its groups are then in not_measured)."""
    if not runs or runs[-1].get("status") == "complete":
        return None
    try:
        record, finished = recorded_sweep(runs)
        if record is None or finished:  # a resume repeats a finished sweep as it was
            return None
        budget = budget_s(float(record.share_allowed), record.networks_s)
    except (TypeError, ValueError, ArithmeticError):  # a damaged record: show says what it can without it
        return None
    if (
        record.skipped_reason
        or record.sweep_s >= budget
        or (record.ops and record.rounds >= MAX_ROUNDS * len(record.ops))
    ):
        return None
    return {"rounds": record.rounds, "sweep_s": round(record.sweep_s, 3), "budget_s": round(budget, 3)}


def cut_short_line(sweep_left: dict, run: dict | None = None, path: str | os.PathLike | None = None) -> str:
    """unfinished_sweep's record in one sentence, with the command that finishes the sweep: the latest `run`'s
    resumed into its dataset as `path` names it, where both are given (hwprof.dataset.resume_command)."""
    from hwprof.dataset import resume_command

    rounds, spent, budget = (sweep_left[key] for key in ("rounds", "sweep_s", "budget_s"))
    command = resume_command(run or {}, path)
    resume = f"`{command}`" if command else "the same measure command with --resume"
    return (
        f"layer sweep cut short: {rounds} round{'s' * (rounds != 1)} finished in {duration_text(spent)} of its "
        f"{duration_text(budget)} budget; run {resume} to finish it"
    )
