"""Runs of one board measured at different times, brought to one machine speed before they are combined.

A virtual machine or a shared box runs the same work at another speed an hour
later: on the 2-vCPU reference VM two reruns of the zoo's networks came out
1.15x and 1.19x slower than the run that measured their layers
(bench/fit_sensitivity.py).
The fitter learns a network's correction as its latency over the sum of its
layers, so networks from a slow run and layers from a fast one teach it the
machine's mood, not the networks' structure. Each run is therefore scaled to a
reference run by the median ratio over the configurations both measured (per
op group for layers, whose classes drift apart: memory-bound ops more than
compute-bound ones), and only then are repeats combined. A class of rows a run
shares too few configurations of, and a run with another thread count, are
left as measured and said so: one class's drift says little about another's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from hwprof.predictor.features import op_group

MIN_SHARED = 10  # configurations a run must share with the reference for a factor to be estimated
# A run whose layers of a class ran this much slower or faster than its reference's: the machine changed
# under it, and its network rows (left as measured where no other run measured them) carry the change.
WARN_FACTOR = 1.25
UNRELATED = "too little in common with the runs above"
NETWORK_CLASS = "network"
SCALED_COLUMNS = (
    "latency_ms",
    "latency_ms_ci_low",
    "latency_ms_ci_high",
    "latency_ms_std",
    "energy_mj",
    "dynamic_energy_mj",
)


@dataclass
class RunFactor:
    """How much slower (factor > 1) one run ran than its reference, per class of rows."""

    run_id: str
    reference: str | None = None  # None: the run is a reference itself
    factors: dict[str, float] = field(default_factory=dict)  # class -> measured / reference
    shared: dict[str, int] = field(default_factory=dict)  # class -> configurations compared
    left: list[str] = field(default_factory=list)  # classes of the run with too few to compare
    why_reference: str | None = None  # a reference other than the first: why it was not aligned
    models: list[str] = field(default_factory=list)  # the networks it measured (its sweeps if none)
    networks: bool = True  # whether it measured networks (a layer sweep's run measures none)

    def label(self) -> str:
        """The run as a user knows it: its id and what it measured."""
        shown = ", ".join(_short(model) for model in self.models[:2])
        more = f" and {len(self.models) - 2} more" if len(self.models) > 2 else ""
        return f"{self.run_id[:8]} ({shown}{more})" if shown else self.run_id[:8]

    def to_json(self) -> dict:
        doc = {
            "run_id": self.run_id,
            "reference_run": self.reference,
            "factors": {k: round(v, 4) for k, v in self.factors.items()},
            "shared": self.shared,
            "left_as_measured": self.left,
        }
        if self.why_reference:
            doc["not_aligned"] = self.why_reference
        return doc


def _short(model: str, width: int = 40) -> str:
    return model if len(model) <= width else model[: width - 3] + "..."


@dataclass
class Alignment:
    runs: list[RunFactor]

    def to_json(self) -> list[dict]:
        return [run.to_json() for run in self.runs]

    def summary(self) -> str | None:
        """A few lines for the fit log, one per run aligned or left alone; None when there was one run."""
        if len(self.runs) < 2:
            return None
        first = self.runs[0]
        lines = [f"runs aligned to one machine speed (time in the run / time in run {first.label()} unless said):"]
        # one-model runs of a zoo share nothing: one line for them all, not one each
        unrelated = [run for run in self.runs[1:] if run.reference is None and run.why_reference == UNRELATED]
        if len(unrelated) > 1:
            names = ", ".join(run.label() for run in unrelated)
            lines.append(f"  {len(unrelated)} runs left as measured, {UNRELATED}: {names}")
        else:
            unrelated = []
        for run in self.runs[1:]:
            name = f"  run {run.label()}"
            if run.reference is None:
                if run not in unrelated:
                    lines.append(f"{name}: left as measured ({run.why_reference})")
                continue
            factors = sorted(run.factors.items(), key=lambda item: (item[0] != NETWORK_CLASS, item[0]))
            said = (
                ", ".join(f"{cls} {factor:.2f}x" for cls, factor in factors)
                or f"no class with {MIN_SHARED} configurations in common"
            )
            left = f"; left as measured: {', '.join(run.left)}" if run.left else ""
            against = "" if run.reference == first.run_id else f" against run {run.reference[:8]}"
            lines.append(f"{name}{against}: {said}{left}")
        return "\n".join(lines)

    def warnings(self) -> list[str]:
        """One sentence per run whose rows of a class ran WARN_FACTOR or more away from its reference's speed.
        Layers: its networks, measured in the same slow or fast spell, are scaled by their own factor where
        it shares enough of them with its reference, else kept as measured, so the fit sees them out of step
        with their layers; a run without networks (a layer sweep) has only layers, scaled by
        one median factor a machine that changed under them need not have slowed them all by. Networks (reruns
        of network-only datasets, such as NB-201 cells) are scaled by one such factor too. The fix is a rerun
        when the machine is steady, named by a few of its models: a hundred cells by name hid the advice."""
        said = []
        for run in self.runs:
            off = {c: f for c, f in run.factors.items() if not 1 / WARN_FACTOR < f < WARN_FACTOR}
            if not off:  # a run left as measured has no factors
                continue
            cls, factor = max(off.items(), key=lambda item: abs(np.log(item[1])))
            one_factor = "by one factor that the machine need not have slowed each of them by"
            if cls == NETWORK_CLASS:  # its networks were scaled (all a network-only rerun has)
                what, shared = "networks", f"{run.shared[cls]} networks"
                done = f"its networks are scaled to that run's speed, {one_factor}"
            else:
                what, shared = f"{cls} layers", f"{run.shared[cls]} configurations"
                if NETWORK_CLASS in run.factors:  # networks shared with the reference: scaled by their own factor
                    networks = f"its networks by their own, {run.factors[NETWORK_CLASS]:.2f}x"
                elif run.networks:
                    networks = "its networks are kept as measured, so the fit sees them out of step"
                else:
                    networks = one_factor
                done = f"its layers are scaled to that run's speed, {networks}"
            said.append(
                f"run {run.label()} ran its {what} {factor:.2f}x as long as run {run.reference[:8]} did on "
                f"{shared} both measured; {done}: measure {_some(run.models)} again while nothing else runs, and "
                "fit with that run in place of this one"
            )
        return said


NAMED_CHARS = 120  # a warning names a run's models up to this much text, then counts the rest


def _some(models: list[str]) -> str:
    """A run's models as a warning names them: the first ones within NAMED_CHARS (one at least), and how
    many more."""
    named = models[:1]
    for model in models[1:]:
        if len(", ".join([*named, model])) > NAMED_CHARS:
            break
        named.append(model)
    more = len(models) - len(named)
    return ", ".join(named) + (f" and {more} more of its models" if more else "")


def _keys(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """(configuration key, alignment class) of every row: networks are one class, layers their op group."""
    kinds = frame["kind"].astype("string").str.lower()
    network = kinds.eq("network").to_numpy()
    model = frame["model"].astype(str)
    batch = frame["batch_size"].astype(str)
    op = frame["op"].astype("string").fillna("") if "op" in frame.columns else pd.Series("", index=frame.index)
    config = frame["config"].astype("string").fillna("") if "config" in frame.columns else op
    key = pd.Series(
        np.where(network, "network|" + model + "|" + batch, "layer|" + op + "|" + config), index=frame.index
    )
    cls = pd.Series(np.where(network, NETWORK_CLASS, op.map(op_group)), index=frame.index)
    return key, cls


def _models_by_run(models: pd.Series, network: pd.Series, run_ids: pd.Series) -> dict[str, list[str]]:
    """Each run's networks in the order measured, or the models of its layers where it measured none."""
    found = {}
    for run_id, rows in pd.DataFrame({"model": models.astype(str), "network": network}).groupby(run_ids, sort=False):
        names = rows.loc[rows["network"], "model"] if rows["network"].any() else rows["model"]
        found[str(run_id)] = list(pd.unique(names))
    return found


def _measured_networks(rows: pd.DataFrame) -> bool:
    """Whether a run's configurations (align_runs's by_run[run]) include networks."""
    return bool((rows["cls"] == NETWORK_CLASS).any())


def _reference(by_run: dict[str, pd.DataFrame], candidates: list[str]) -> str:
    """Of these runs, the one that measured networks and their layers together (so the two agree),
    then the one with most layer configurations (what the layer models learn most from), then the fastest
    on the configurations they all measured (others sharing the machine only slow a run down), then the
    first of `candidates`: the same runs given in any order have the same reference."""

    def rank(run_id):
        classes = by_run[run_id]["cls"]
        layers = int((classes != NETWORK_CLASS).sum())
        return (layers > 0 and _measured_networks(by_run[run_id]), layers, len(classes))

    ranks = {run: rank(run) for run in candidates}
    tied = [run for run in candidates if ranks[run] == max(ranks.values())]
    if len(tied) == 1:
        return tied[0]
    logs = pd.concat({run: by_run[run].set_index("key")["log"] for run in tied}, axis=1).dropna()
    if logs.empty:
        return tied[0]
    slowness = logs.sub(logs.mean(axis=1), axis=0).median()  # each run's median log ratio to the runs' mean
    return min(tied, key=lambda run: slowness[run])


def align_runs(frame: pd.DataFrame, threads_by_run: dict[str, object] | None = None) -> tuple[pd.DataFrame, Alignment]:
    """`frame` with each run's latencies scaled, class by class, to its reference run's machine speed.

    A reference is chosen (see _reference), and runs are aligned to it in order of how many
    configurations they share with what is aligned so far; a run aligned joins that pool, so a
    run that shares configurations only with another rerun is reached too. Runs reached by no
    reference start a reference of their own. Rows without a run_id (tables from other tools)
    and runs with another thread count than their reference are left as they are."""
    if "run_id" not in frame.columns:
        return frame, Alignment([])
    run_ids = frame["run_id"].astype("string")
    latency = pd.to_numeric(frame["latency_ms"], errors="coerce")
    measured = (run_ids.notna() & (latency > 0)).to_numpy()
    if run_ids[measured].nunique() < 2:
        return frame, Alignment([])
    key, cls = _keys(frame)
    table = pd.DataFrame({"run_id": run_ids, "key": key, "cls": cls, "log": np.log(latency)})[measured]
    per_run = table.groupby(["run_id", "key", "cls"], sort=True)["log"].median().reset_index()
    by_run = dict(tuple(per_run.groupby("run_id", sort=False)))  # run -> its configurations (key, cls, log)
    threads = threads_by_run or {}
    models = _models_by_run(frame["model"][measured], (cls == NETWORK_CLASS)[measured], run_ids[measured])
    waiting = sorted(set(table["run_id"]))  # where runs tie, the lowest run_id, whatever the order of the rows
    scale = pd.Series(1.0, index=frame.index)
    done: list[RunFactor] = []
    while waiting:
        reference = _reference(by_run, waiting)
        waiting.remove(reference)
        why = None
        if done:
            first = done[0].run_id
            why = (
                f"measured with {threads.get(reference)} threads, run {first[:8]} with {threads.get(first)}"
                if threads.get(reference) != threads.get(first)
                else UNRELATED
            )
        done.append(
            RunFactor(
                reference,
                why_reference=why,
                models=models.get(reference, []),
                networks=_measured_networks(by_run[reference]),
            )
        )
        pool = by_run[reference].set_index("key")["log"]
        while True:
            overlap = {
                run: int(by_run[run]["key"].isin(pool.index).sum())
                for run in waiting
                if threads.get(run) == threads.get(reference)
            }
            if not overlap or max(overlap.values()) < MIN_SHARED:
                break
            run_id = max(overlap, key=overlap.get)
            waiting.remove(run_id)
            rows = by_run[run_id]
            run = RunFactor(run_id, reference, models=models.get(run_id, []), networks=_measured_networks(rows))
            shared = rows[rows["key"].isin(pool.index)]
            shared = shared.assign(ratio=shared["log"].to_numpy() - pool.loc[shared["key"]].to_numpy())
            for name, group in shared.groupby("cls"):
                if len(group) >= MIN_SHARED:
                    run.factors[str(name)] = float(np.exp(np.median(group["ratio"])))
                    run.shared[str(name)] = int(len(group))
            run.left = sorted(set(rows["cls"]) - set(run.factors))
            in_run = (run_ids == run_id).fillna(False).to_numpy()
            scale[in_run] = cls[in_run].map(lambda c: run.factors.get(c, 1.0)).to_numpy(dtype=float)
            aligned = rows[rows["cls"].isin(list(run.factors)) & ~rows["key"].isin(pool.index)]
            pool = pd.concat(
                [pool, aligned.set_index("key")["log"] - np.log(aligned["cls"].map(run.factors).to_numpy(dtype=float))]
            )
            done.append(run)
    aligned_frame = frame.copy()
    for column in SCALED_COLUMNS:
        if column in aligned_frame.columns:
            aligned_frame[column] = pd.to_numeric(aligned_frame[column], errors="coerce") / scale
    return aligned_frame, Alignment(done)
