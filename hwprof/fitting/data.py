"""Datasets -> the tables the fitter learns from, with every user mistake caught here.

Two kinds of input are accepted:
- hwprof datasets (layer and network rows, schema checked by hwprof.dataset);
- network-only tables from anywhere with at least `model`, `batch_size` and
  `latency_ms` (optionally `power_w`, `energy_mj`, `input_shape`,
  `device_name`); their layers are traced from the model spec.
A predictor describes one board, so rows from several devices are refused
unless one is chosen.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from hwprof.dataset import CONDITION_FIELDS, UNRECORDED, distinguishing_names, run_conditions, run_section
from hwprof.errors import HwprofError, option, shown, worded
from hwprof.fitting.alignment import Alignment, align_runs
from hwprof.predictor.features import LayerRecord, NetworkBatch
from hwprof.predictor.records import network_layers
from hwprof.schema import CACHE_BEFORE_RECORDED, CONTENDED_SHARE

NETWORK_ONLY_COLUMNS = ("model", "batch_size", "latency_ms")
TARGETS = {"latency": "latency_ms", "power": "power_w", "energy": "energy_mj"}
LAYER_FEATURE_COLUMNS = ("flops", "input_bytes", "output_bytes", "weight_bytes")
UNKNOWN_DEVICE = "unknown device"
REPEAT_FLOOR = 0.01  # relative; keeps one very precise repeat from erasing the others
UNSTABLE_RELATIVE_CI = 0.1  # a CI from the few samples of an unstable row is not trusted below this
MEDIAN_RUNS = 3  # from this many runs of one item on, their median: one run slow throughout cannot move it


@dataclass
class TrainingData:
    device_name: str
    layers: pd.DataFrame  # unique layer configurations: op, config, features, family, target means
    networks: NetworkBatch
    families: np.ndarray  # per network
    targets: dict[str, np.ndarray]  # per network, NaN where not measured
    relative_ci: np.ndarray  # per network: half-width of the latency's 95% CI over the latency (0 if unknown)
    sources: list[dict] = field(default_factory=list)
    alignment: Alignment = field(default_factory=lambda: Alignment([]))
    reruns: dict | None = None  # see rerun_agreement

    def subset(self, networks: np.ndarray) -> TrainingData:
        """These networks only (all layer configurations kept)."""
        return TrainingData(
            self.device_name,
            self.layers,
            self.networks.select(networks),
            self.families[networks],
            {t: v[networks] for t, v in self.targets.items()},
            self.relative_ci[networks],
            self.sources,
            self.alignment,
            self.reruns,
        )

    @property
    def models(self) -> int:
        """The distinct networks, each counted once whatever batch sizes (rows) it was measured at."""
        return len(set(self.networks.names))

    def networks_counted(self) -> str:
        """'3 network(s)', or '1 network(s) (2 rows)' where networks were measured at several batch sizes."""
        return networks_counted(self.models, len(self.networks))

    @property
    def layer_records(self) -> list[LayerRecord]:
        return [
            LayerRecord(
                r.op, r.config, float(r.flops), float(r.input_bytes), float(r.output_bytes), float(r.weight_bytes)
            )
            for r in self.layers.itertuples()
        ]


def readable_text(text: str) -> str:
    """`text` as a column, a page or a title can hold it: the surrogates Python keeps a file name's undecodable
    bytes as (a non-ASCII name under the C locale), which pyarrow and matplotlib refuse, read back as UTF-8, and
    any that are not UTF-8 shown as U+FFFD. The file itself is still opened by its real path."""
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate that stands for no byte (a Windows file name may hold one)
        raw = text.encode("utf-8", "replace")
    return raw.decode("utf-8", "replace")


def networks_counted(models: int, rows: int) -> str:
    """'3 network(s)', or '1 network(s) (2 rows)': every line of fit counts networks as distinct models and rows
    apart, so that a summary's networks and a validation's are never two counts of one set."""
    return f"{models} network(s)" + (f" ({rows} rows)" if rows != models else "")


def read_inputs(paths: Sequence[str | os.PathLike]) -> tuple[pd.DataFrame, list[dict]]:
    """All rows of all inputs, each checked for the columns its kind needs."""
    from hwprof.dataset import check_each_given_once, read_dataset, read_table, without_sample_sidecars

    if not paths:
        raise HwprofError("no dataset was given; pass at least one .parquet or .csv file")
    paths = without_sample_sidecars([Path(path) for path in paths])  # data/*.parquet matches them too
    check_each_given_once(paths, "dataset")  # its rows would count as repeats of themselves
    frames, sources = [], []
    for path in paths:
        frame = read_table(path)
        if frame.empty:
            raise HwprofError(f"{path} has no rows; measure something into it first")
        if "kind" in frame.columns:
            frame = read_dataset([path])  # an unfinished one warns at the caller of fit or evaluate
            provenance = frame.attrs["provenance"]
            kind = "hwprof dataset"
        else:
            missing = [c for c in NETWORK_ONLY_COLUMNS if c not in frame.columns]
            if missing:
                raise HwprofError(
                    f"{path} lacks the column(s) {', '.join(missing)}: a table of whole-network "
                    f"measurements needs at least model, batch_size and latency_ms"
                )
            frame = frame.copy()
            frame["batch_size"] = _batch_sizes(frame["batch_size"], path)
            frame["kind"] = "network"
            provenance = []
            kind = "network-only table"
        _check_measured_numbers(frame, path)
        frame["source"] = readable_text(str(path))
        frames.append(frame)
        runs = [_run_summary(run) for run in checked_runs(provenance, path)]
        sources.append({"path": str(path), "kind": kind, "rows": int(len(frame)), "runs": runs})
    sources.sort(key=lambda source: source["path"])  # as the rows: the predictor does not say the order given
    return _in_run_order(pd.concat(frames, ignore_index=True)), sources


def _in_run_order(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows run by run (by run_id), each run's in its file's order, whatever order the files were given in:
    the same datasets in another order then give the same predictor, where ties between runs, sums over repeats
    and cross-validation folds would otherwise follow the order of the files."""
    runs = frame["run_id"].astype("string") if "run_id" in frame.columns else pd.Series(pd.NA, index=frame.index)
    keys = pd.DataFrame(
        {"run": runs, "position": frame.groupby("source", sort=False).cumcount(), "source": frame["source"]}
    )
    return frame.loc[keys.sort_values(["run", "position", "source"], kind="stable").index].reset_index(drop=True)


def _batch_sizes(column: pd.Series, path) -> pd.Series:
    numbers = pd.to_numeric(column, errors="coerce")
    bad = numbers.isna() | (numbers < 1) | (numbers != numbers.round())
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise HwprofError(
            f"{path}: batch_size must be a positive whole number, but row {row + 1} has {shown(column.iloc[row])}"
        )
    return numbers.astype(int)


# The provenance fields fit and report read from each run, and the kind hwprof writes there (None stands for
# unrecorded): a dataset comes from anywhere, and a list where a name belongs crashed fit deep inside (an unhashable
# device).
RUN_FIELDS = {
    "run_id": str,
    "hwprof": str,
    "torch": str,
    "python": str,
    "device": str,
    "device_name": str,
    "cpu_model": str,
    "start_time": str,
    "threads": int,
}
RUN_SETTINGS = {  # objects of a run, and their fields fit and report read
    "execution": {"dtype": str, "channels_last": bool, "compile": bool},
    "allocator": {"policy": str, "applied": bool, "library": str},
    "plan": {"layers": bool},
    "cache": {"mode": str},
    "power": {"source": str, "unavailable_reason": str},
}
KIND_WORDS = {str: "text", int: "a whole number", bool: "true or false"}
REMEDY = "; get an undamaged copy of the dataset, or measure it again"


def checked_runs(runs: list[dict], path) -> list[dict]:
    """A dataset's runs (its provenance) where every field fit and report read is of the kind hwprof writes there;
    else one sentence naming the file, the run and the field."""

    def check(where: str, value: object, kind: type) -> None:
        if value is not None and (not isinstance(value, kind) or (kind is int and isinstance(value, bool))):
            raise HwprofError(
                f"{path}: its provenance is damaged: {where} {shown(value)}, where hwprof writes {KIND_WORDS[kind]}"
                f"{REMEDY}"
            )

    for number, run in enumerate(runs, start=1):  # a list of objects, their settings objects: read_dataset checks
        for key, kind in RUN_FIELDS.items():
            check(f"run {number} has {key}", run.get(key), kind)
        for setting, keys in RUN_SETTINGS.items():
            for key, kind in keys.items():
                check(f"run {number} has {setting}.{key}", (run.get(setting) or {}).get(key), kind)
    return runs


def _run_summary(run: dict) -> dict:
    """What fit keeps of a run in the predictor: what evaluate and advice read (run_conditions among it)."""
    summary = {k: run[k] for k in (*RUN_FIELDS, *CONDITION_FIELDS) if k in run}
    execution = run_section(run, "execution")  # how it ran, for the measure commands fit advises
    summary.update({k: execution[k] for k in ("dtype", "channels_last", "compile") if k in execution})
    # a measure run from before the allocator was recorded ran with the system's, as compare and show read it
    summary["allocator"] = run_conditions(run).get("allocator") or UNRECORDED
    if (run.get("plan") or {}).get("layers", True):  # the mode layers were timed in; runs from before, warm
        summary["cache"] = run_section(run, "cache").get("mode", CACHE_BEFORE_RECORDED)
    return summary


def allocator_pinned(sources: list[dict]) -> bool:
    """Every dataset is an hwprof dataset whose runs all pinned the allocator (`measure --allocator
    steady`): a network's activations were then reused as an isolated layer's buffer is, so there is
    no fresh-memory cost to learn, and any fitted would be noise (hwprof/measuring/allocator.py)."""
    return bool(sources) and all(
        source["runs"] and all(run.get("allocator") == "steady" for run in source["runs"]) for source in sources
    )


def source_names(sources: list[dict]) -> dict[Path, str]:
    """Each dataset's file by the shortest ending of its path no other dataset shares: two boards' folders each
    holding m.parquet read alike by their file names."""
    return distinguishing_names([Path(source.get("path", "?")) for source in sources])


def files_by_value(sources: list[dict], key: str, run_ids=None) -> dict:
    """The datasets' files (source_names) by the value their runs (those in `run_ids`, when given) recorded for
    `key`."""
    names = source_names(sources)
    by_value: dict = {}
    for source in sources:
        runs = [run for run in source.get("runs", []) if run_ids is None or run.get("run_id") in run_ids]
        for value in sorted({run[key] for run in runs if run.get(key) is not None}):
            by_value.setdefault(value, []).append(names[Path(source.get("path", "?"))])
    return by_value


def thread_counts(sources: list[dict]) -> list:
    """The thread counts the datasets' runs recorded, sorted; empty where none did."""
    return sorted(files_by_value(sources, "threads"))


def _mixed(sources: list[dict], key: str, run_ids=None) -> str | None:
    """The datasets by the value their runs recorded for `key` ("value: a.parquet; other: b.parquet"), where
    they recorded more than one; else None."""
    by_value = files_by_value(sources, key, run_ids)
    if len(by_value) < 2:
        return None
    return "; ".join(f"{value}: {', '.join(paths)}" for value, paths in sorted(by_value.items()))


def mixed_thread_counts(frame: pd.DataFrame, sources: list[dict]) -> tuple[str, str] | None:
    """(listing, fix) where the runs behind `frame`'s rows recorded more than one thread count, else None: the
    listing names the files by thread count ("1: a.parquet; 2: b.parquet"), and a merged file's runs by their
    run ids, since the file alone names nothing to split; the fix is what to give instead."""
    run_ids = set(frame["run_id"].dropna().astype(str)) if "run_id" in frame.columns else set()
    by_value = files_by_value(sources, "threads", run_ids or None)
    if len(by_value) < 2:
        return None
    merged = sorted(
        {name for names in by_value.values() for name in names if sum(name in n for n in by_value.values()) > 1}
    )
    named = source_names(sources)
    parts = []
    for value, names in sorted(by_value.items()):
        runs = [
            f"run {str(run.get('run_id'))[:8]} of {named[Path(source.get('path', '?'))]}"
            for source in sources
            if named[Path(source.get("path", "?"))] in merged
            for run in source["runs"]
            if run.get("threads") == value and (not run_ids or run.get("run_id") in run_ids)
        ]
        parts.append(f"{value}: {', '.join([name for name in names if name not in merged] + runs)}")
    if merged:
        fix = f"the shards {' and '.join(merged)} {'was' if len(merged) == 1 else 'were'} merged from, one thread count at a time"
    else:
        fix = "each thread count's datasets on their own"
    return "; ".join(parts), fix


def check_one_thread_count(frame: pd.DataFrame, sources: list[dict], verb: str = "fit") -> None:
    """A predictor is for one thread count: a network at two threads on a busy machine ran 1-70x its time at
    one, and no feature tells the two apart, so runs of both would be combined as if repeats of one."""
    mixed = mixed_thread_counts(frame, sources)
    if mixed:
        listing, fix = mixed
        raise HwprofError(
            f"the datasets were measured at different thread counts ({listing}), and a network's latency at one "
            f"says little about another; a predictor is for one thread count, so {verb} {fix}"
        )


def allocator_warning(sources: list[dict]) -> str | None:
    """A sentence when the hwprof datasets were measured under different allocator policies, else None.

    Activation-heavy networks run up to 1.4x apart on a CPU between the policies (hwprof/measuring/allocator.py),
    which no model can tell from the layers."""
    listed = _mixed(sources, "allocator")
    return listed and worded(
        f"the datasets were measured under different allocator policies ({listed}), and on a CPU "
        f"activation-heavy networks run up to 1.4x apart between them; measure them all with one "
        f"{option('allocator')} policy"
    )


def torch_warning(sources: list[dict]) -> str | None:
    """A sentence when the hwprof datasets ran different torch releases, else None: a release may pick other
    kernels for the same layer, which no model can tell from the layers."""
    listed = _mixed(sources, "torch")
    return listed and (
        f"the datasets ran different torch releases ({listed}), and a release may pick other kernels for the same "
        "layer; measure them all with one torch"
    )


def cache_warning(sources: list[dict]) -> str | None:
    """A sentence when the hwprof datasets timed their layers in different cache modes, else None: a layer
    timed warm runs from the cache and faster than in its network, and the fit would average the two."""
    listed = _mixed(sources, "cache")
    return listed and worded(
        f"the datasets timed their layers in different cache modes ({listed}), and a layer timed warm runs "
        f"faster than in its network; measure them all with one {option('cache')} mode (the default, cold)"
    )


def distrusted_rows(frame: pd.DataFrame, shown_rows: int = 3) -> str | None:
    """One line naming the rows timed while other processes took over CONTENDED_SHARE of the CPU, else None.

    Their uncertainty is raised by that share (see _relative_ci), so they count for less in every fit;
    rows whose contended bursts were discarded at measure time kept only quiet ones and are trusted."""
    if "other_cpu_share" not in frame.columns:
        return None
    share = pd.to_numeric(frame["other_cpu_share"], errors="coerce").clip(upper=1.0)  # coarse ticks overshoot
    contended = share > CONTENDED_SHARE
    if not contended.any():
        return None
    suspect = frame[contended].assign(share=share[contended]).sort_values("share", ascending=False, kind="stable")
    names = [
        f"{row.model} batch {int(row.batch_size)} "
        + ("network" if row.kind == "network" else f"layer {int(row.layer_index)}")
        + f" ({row.share:.0%})"
        for row in suspect.head(shown_rows).itertuples()
    ]
    more = f" and {len(suspect) - shown_rows} more" if len(suspect) > shown_rows else ""
    return (
        f"distrusted {len(suspect)} of {len(frame)} rows, timed while other processes held over "
        f"{CONTENDED_SHARE:.0%} of the CPU, and weighted them down by that share: {', '.join(names)}{more}"
    )


def device_of(frame: pd.DataFrame) -> pd.Series:
    if "device_name" in frame.columns:
        names = frame["device_name"].astype("string")
        if "device" in frame.columns:
            names = names.fillna(frame["device"].astype("string"))
        return names.fillna(UNKNOWN_DEVICE)
    if "device" in frame.columns:
        return frame["device"].astype("string").fillna(UNKNOWN_DEVICE)
    return pd.Series(UNKNOWN_DEVICE, index=frame.index, dtype="string")


def select_device(
    frame: pd.DataFrame, device_name: str | None, suggested: str | None = None
) -> tuple[pd.DataFrame, str]:
    """The rows of one device: `device_name`'s, or the only one's; several are refused, suggesting `suggested`
    (a predictor's own board) where the datasets hold it."""
    devices = device_of(frame)
    found = sorted(devices.unique())
    if device_name is not None:
        if device_name not in found:
            raise HwprofError(
                f"no rows measured on device {device_name!r}; the datasets hold {', '.join(map(repr, found))}"
            )
        return frame[devices == device_name], device_name
    if len(found) > 1:
        raise HwprofError(
            f"the datasets mix {len(found)} devices ({', '.join(map(repr, found))}) and a predictor "
            f"describes one board: refused; choose one, e.g. "
            f"{option('device_name', repr(suggested if suggested in found else found[0]))}"
        )
    return frame, found[0]


def _check_measured_numbers(frame: pd.DataFrame, path) -> None:
    """Refuse, naming the row, a latency that is missing, not a number, infinite, zero or negative, and a
    power or energy that is present but not a positive finite number: a fit never drops rows silently."""
    for column, required in (("latency_ms", True), ("power_w", False), ("energy_mj", False)):
        if column not in frame.columns:
            continue
        raw = frame[column]
        values = pd.to_numeric(raw, errors="coerce").astype(float)
        bad = ~(np.isfinite(values) & (values > 0))
        if not required:
            bad &= raw.notna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            model = frame["model"].iloc[row] if "model" in frame.columns else "?"
            value = raw.iloc[row]
            raise HwprofError(
                f"{path}: {column} must be a positive number, but row {row + 1} ({model}) has "
                f"{'nothing' if pd.isna(value) else shown(value)}"
                f"{f' ({int(bad.sum())} rows in all)' if bad.sum() > 1 else ''}; fix or remove those rows"
            )


def _number(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame.columns:
        return pd.Series(np.nan, index=frame.index)
    return pd.to_numeric(frame[column], errors="coerce").astype(float)


def _fill_energy_and_power(frame: pd.DataFrame) -> pd.DataFrame:
    """energy_mj = power_w x latency_ms (W x ms = mJ); derive whichever of the two is missing."""
    frame = frame.copy()
    latency = _number(frame, "latency_ms")
    power = _number(frame, "power_w")
    energy = _number(frame, "energy_mj")
    frame["latency_ms"] = latency
    frame["power_w"] = power.fillna(energy / latency)
    frame["energy_mj"] = energy.fillna(power * latency)
    return frame


def training_data(
    frame: pd.DataFrame,
    device_name: str,
    sources: list[dict] | None = None,
    require_networks: bool = True,
    align: bool = True,
    run_model_files: bool = False,
) -> TrainingData:
    """The fitter's tables. With `align`, runs measured at different machine speeds are first
    scaled to one (hwprof/fitting/alignment.py); evaluation takes the measurements as they are.

    A network row naming a Python file (path/to/file.py:factory) and no layer rows is traced by importing that
    file and calling its factory only with `run_model_files`; otherwise it is refused before anything is
    imported. A dataset may come from anyone, so running the code it names is the caller's choice."""
    from hwprof.models.spec import family_of

    frame = with_variant_names(frame)
    reruns = rerun_agreement(frame)
    alignment = Alignment([])
    if align:
        threads = {
            run["run_id"]: run.get("threads") for source in sources or [] for run in source["runs"] if "run_id" in run
        }
        frame, alignment = align_runs(frame, threads)
    frame = _fill_energy_and_power(frame)
    kinds = frame["kind"].astype("string").str.lower()
    layer_rows = frame[kinds == "layer"]
    network_rows = frame[kinds == "network"]
    if network_rows.empty and require_networks:
        if layer_rows.empty:  # commands `hwprof run` timed, say: nothing a network model can learn from
            raise HwprofError(
                "the datasets have no network or layer rows (only commands hwprof run timed, or other kinds); "
                "fit learns from networks that hwprof measure timed"
            )
        raise HwprofError(
            "the datasets have layer rows but no network rows; the network model learns from "
            "whole-network measurements, so measure the networks too (hwprof measure writes both)"
        )
    bad = network_rows["latency_ms"].isna() | ~(network_rows["latency_ms"] > 0)
    if bad.all() and require_networks:
        raise HwprofError("no network row has a positive latency_ms, so there is nothing to fit")
    network_rows = network_rows[~bad]
    if not layer_rows.empty:
        missing = [c for c in ("op", "config", *LAYER_FEATURE_COLUMNS) if c not in layer_rows.columns]
        if missing:
            raise HwprofError(f"layer rows lack the column(s) {', '.join(missing)}")
        layer_rows = layer_rows[layer_rows["latency_ms"] > 0]

    instances = _layer_instances(layer_rows)
    if "input_shape" not in network_rows.columns:
        network_rows = network_rows.assign(input_shape=None)
    if "layer_count" not in network_rows.columns:
        network_rows = network_rows.assign(layer_count=None)
    network_rows = network_rows.assign(
        batch_size=network_rows["batch_size"].astype(int), relative_ci=_relative_ci(network_rows)
    )
    networks = pd.DataFrame(
        [
            {"model": model, "batch_size": batch_size, **_combine_repeats(rows)}
            for (model, batch_size), rows in network_rows.groupby(["model", "batch_size"], sort=True)
        ],
        columns=[
            "model",
            "batch_size",
            *TARGETS.values(),
            "relative_ci",
            "input_shape",
            "layer_count",
            "source",
            "config",
        ],
    )
    names, sizes, lists, families = [], [], [], []
    for row in networks.itertuples():
        records = instances.get((row.model, int(row.batch_size)))
        if records is not None and pd.notna(row.layer_count) and len(records) != int(row.layer_count):
            records = None  # an interrupted run measured only some layers: trace the network instead
        if records is None:
            records = _traced(row.model, int(row.batch_size), row.input_shape, row.config, row.source, run_model_files)
        names.append(str(row.model))
        sizes.append(int(row.batch_size))
        lists.append(records)
        families.append(family_of(str(row.model)))
    batch = NetworkBatch.from_layer_lists(names, sizes, lists)
    targets = {t: networks[t].to_numpy(dtype=float) for t in TARGETS.values()}
    return TrainingData(
        device_name,
        _unique_layers(layer_rows, family_of),
        batch,
        np.array(families),
        targets,
        networks["relative_ci"].to_numpy(dtype=float),
        sources or [],
        alignment,
        reruns,
    )


def rerun_agreement(frame: pd.DataFrame) -> dict | None:
    """How well one run's measurement of a network predicts another run's, over the networks measured in
    two runs or more: the measurement noise a predictor's network error, scored against single runs, is
    judged against.

    Per network, |b / a - 1| over every ordered pair of its runs (a's latency taken as the prediction of
    b's), averaged; `mape` is the mean over the networks, `within_10pct` the share of pairs within 10%.
    On a 2-vCPU virtual machine at two threads, two runs a minute or less apart disagreed by 7-9% (BENCHMARKS.md):
    a network MAPE near that is as good as the data can show. Where networks were measured with power in two
    runs or more, `power_w` holds the same for their mean power. None without reruns."""
    if "run_id" not in frame.columns or "kind" not in frame.columns:
        return None
    networks = frame[frame["kind"].astype("string").str.lower().eq("network")].dropna(subset=["run_id"])
    agreement = _agreement(networks, "latency_ms")
    if agreement is None:
        return None
    power = _agreement(networks, "power_w") if "power_w" in networks.columns else None
    return {**agreement, **({"power_w": power} if power else {})}


# Runs of one network further apart than this are not noise: no machine speed moved a whole run by more than
# 2x here (BENCHMARKS.md, "What a spell slows"), while a broken run has read 170x (1179.8 ms against 6.8 ms).
WILD_RERUN_FACTOR = 3.0
WILD_RERUNS_NAMED = 3


def _agreement(networks: pd.DataFrame, column: str) -> dict | None:
    """rerun_agreement's figures for one column of the network rows. A network whose runs differ by more than
    WILD_RERUN_FACTOR is counted apart, under `wild`, and named: one such pair (a 170x ratio) made the mean
    311.5% over a hundred networks whose other runs agreed within 47%, and said nothing of which to measure again."""
    rows = networks[pd.to_numeric(networks[column], errors="coerce") > 0]
    per_network, pairs, most_runs, wild = [], [], 0, []
    for (model, batch_size), network in rows.groupby(["model", "batch_size"], sort=False):
        by_run = network.groupby("run_id")[column].median()
        values = by_run.to_numpy(dtype=float)
        if len(values) < 2:
            continue
        most_runs = max(most_runs, len(values))
        factor = float(values.max() / values.min())
        if factor > WILD_RERUN_FACTOR:
            wild.append(
                {
                    "model": str(model),
                    "batch_size": int(batch_size),
                    "factor": factor,
                    "runs": {str(run): float(value) for run, value in by_run.items()},
                }
            )
            continue
        errors = np.abs(values[None, :] / values[:, None] - 1)[~np.eye(len(values), dtype=bool)]
        per_network.append(float(errors.mean()))
        pairs.append(errors)
    if not per_network and not wild:
        return None
    wild.sort(key=lambda network: -network["factor"])
    return {
        "networks": len(per_network),
        "most_runs": most_runs,
        "mape": float(np.mean(per_network)) if per_network else None,
        "within_10pct": float(np.mean(np.concatenate(pairs) <= 0.10)) if pairs else None,
        **({"wild": len(wild), "wild_named": wild[:WILD_RERUNS_NAMED]} if wild else {}),
    }


VARIANT_COLUMNS = ("seq_len", "dtype", "channels_last", "compiled")


def with_variant_names(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows of one model run another way (another sequence length, dtype or layout, or compiled) name another
    network, hf:bert@seq_len=512,dtype=bfloat16, so they are never combined as repeats of one; so does a model
    measured at several input shapes (--input-shape), each shape named: resnet18@input_shape=3x160x160."""
    from hwprof.models.spec import variant_name

    present = [c for c in VARIANT_COLUMNS if c in frame.columns]
    if frame.empty:
        return frame
    shapes = _network_input_shapes(frame)
    # several shapes at one sequence length: a sequence length alone changes the shape, and is named already
    lengths = _seq_lens(frame)
    seen = pd.DataFrame({"model": frame["model"], "seq_len": lengths, "shape": shapes}).dropna(subset=["shape"])
    counts = seen.groupby(["model", "seq_len"], dropna=False)["shape"].agg(lambda group: len(set(group)))
    several = {model for (model, _), count in counts.items() if count > 1}
    if not present and not several:
        return frame
    values = frame[present].astype(object).where(frame[present].notna(), None)
    names = [
        variant_name(
            str(model),
            None if row.get("seq_len") is None else int(row["seq_len"]),
            row.get("dtype"),
            bool(row.get("channels_last") or False),
            bool(row.get("compiled") or False),
            shape if model in several else None,
        )
        for model, row, shape in zip(frame["model"], values.to_dict("records"), shapes)
    ]
    return frame.assign(model=names)


def _seq_lens(frame: pd.DataFrame) -> pd.Series:
    """Each row's sequence length, None where it has none (or the frame no such column)."""
    if "seq_len" not in frame:
        return pd.Series(None, index=frame.index, dtype=object)
    return frame["seq_len"].astype(object).where(frame["seq_len"].notna(), None)


def _network_input_shapes(frame: pd.DataFrame) -> pd.Series:
    """Each row's network input shape, one sample without the batch (from its run's network row at its batch
    size and sequence length, which records it), or None where no network row of its run says."""
    shapes = pd.Series(None, index=frame.index, dtype=object)
    if "config" not in frame.columns or "run_id" not in frame.columns:
        return shapes
    lengths = _seq_lens(frame)
    keys = list(zip(frame["run_id"].astype(str), frame["model"].astype(str), frame["batch_size"], lengths))
    per_network = {}
    for key, kind, config in zip(keys, frame["kind"], frame["config"]):
        if kind != "network" or not isinstance(config, str):
            continue
        try:
            shape = json.loads(config).get("input_shape")
        except (ValueError, AttributeError):
            continue
        if isinstance(shape, list) and len(shape) > 1 and all(isinstance(d, int) for d in shape):
            per_network[key] = tuple(shape[1:])
    return pd.Series([per_network.get(key) for key in keys], index=frame.index, dtype=object)


def _relative_ci(rows: pd.DataFrame) -> pd.Series:
    """Half-width of each row's 95% CI over its latency; rows that missed their precision target
    (a few samples when the time budget ran out) count as no better than UNSTABLE_RELATIVE_CI,
    and rows with no interval at all (too few samples to bound a median) as the least precise.

    A row timed while other processes took a share of the CPUs it may use (`other_cpu_share`)
    may be inflated by about that much whatever its interval says (the interval only sees
    the noise within the run), so that share is added to it in quadrature."""
    from hwprof.dataset import latency_interval_unbounded

    if "latency_ms_ci_low" not in rows.columns or "latency_ms_ci_high" not in rows.columns:
        return pd.Series(0.0, index=rows.index)
    low = pd.to_numeric(rows["latency_ms_ci_low"], errors="coerce")
    high = pd.to_numeric(rows["latency_ms_ci_high"], errors="coerce")
    relative = ((high - low) / (2 * rows["latency_ms"])).clip(lower=0).fillna(0.0)
    if "stable" in rows.columns:
        unstable = rows["stable"].astype("boolean").fillna(True).eq(False).to_numpy()
        relative = relative.where(~unstable, relative.clip(lower=UNSTABLE_RELATIVE_CI))
    unbounded = latency_interval_unbounded(rows).to_numpy()
    least_precise = np.fmax(UNSTABLE_RELATIVE_CI, relative[~unbounded].max())  # fmax skips the NaN of no bounded row
    relative = relative.where(~unbounded, least_precise)
    if "other_cpu_share" in rows.columns:
        share = pd.to_numeric(rows["other_cpu_share"], errors="coerce").fillna(0.0).clip(lower=0.0, upper=1.0)
        relative = np.sqrt(relative**2 + share**2)
    return relative


def _repeat_weights(relative_ci):
    """Precision weights of repeated measurements of one item, floored at REPEAT_FLOOR."""
    return 1.0 / (relative_ci**2 + REPEAT_FLOOR**2)


def combine_runs(latency_ms: np.ndarray, relative_ci: np.ndarray) -> tuple[float, float]:
    """One item measured in several runs -> (latency_ms, relative CI).

    A run's interval only sees the noise within that run, not a run that was
    slow throughout (another tenant of a virtual machine, a throttled CPU). With
    fewer than MEDIAN_RUNS runs the more precise counts more; from MEDIAN_RUNS
    on, the median of the runs is taken, which one slow run cannot move, and the
    spread between the runs (median absolute deviation of the logs) is the
    least its CI can be."""
    logs = np.log(latency_ms)
    weights = _repeat_weights(relative_ci)
    within = float(np.sqrt(1.0 / weights.sum())) if (relative_ci > 0).any() else 0.0
    if len(logs) < MEDIAN_RUNS:
        return float(np.exp(np.average(logs, weights=weights))), within
    center = float(np.median(logs))
    between = float(np.median(np.abs(logs - center)))
    return float(np.exp(center)), max(within, between)


def _combine_repeats(rows: pd.DataFrame) -> dict:
    """One network measured in several runs (see combine_runs); power and energy by the same rule as latency."""
    relative_ci = rows["relative_ci"].to_numpy(dtype=float)
    latency_ms, combined_ci = combine_runs(rows["latency_ms"].to_numpy(dtype=float), relative_ci)
    weights = _repeat_weights(relative_ci)
    return {
        "latency_ms": latency_ms,
        "power_w": _combined(rows["power_w"], weights),
        "energy_mj": _combined(rows["energy_mj"], weights),
        "input_shape": rows["input_shape"].iloc[0],
        "layer_count": rows["layer_count"].max(),
        "relative_ci": combined_ci,
        "source": rows["source"].iloc[0] if "source" in rows.columns else None,  # the dataset it is read from
        "config": rows["config"].iloc[0] if "config" in rows.columns else None,  # what measure fed it
    }


def _combined(values: pd.Series, weights: np.ndarray) -> float:
    """A power or energy over the runs that measured it: from MEDIAN_RUNS on their median, as combine_runs takes
    latency, so the slow run that cannot move the latency target cannot move the energy target either (energy
    then stays power x latency); of fewer, their precision-weighted mean."""
    values = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(values)
    if ok.sum() >= MEDIAN_RUNS:
        return float(np.exp(np.median(np.log(values[ok]))))
    return float(np.average(values[ok], weights=weights[ok])) if ok.any() else math.nan


def _traced(
    model: str, batch_size: int, input_shape, config, source: str | None, run_model_files: bool
) -> list[LayerRecord]:
    from hwprof.models.spec import model_file, parse_shape, split_variant

    path = model_file(split_variant(str(model))[0])
    if path is not None and not run_model_files:
        raise HwprofError(
            f"{f'{source}: ' if source else ''}network row {model!r} (batch {batch_size}) has no layer rows to "
            f"compute its features from and names the Python file {path}; hwprof runs a model file named in a "
            f"dataset only when told: pass {option('run_model_files', True)} if you trust it, or measure the model "
            "with its layers (the default), whose rows need no trace"
        )
    shape = parse_shape(str(input_shape)) if isinstance(input_shape, str) and input_shape.strip() else None
    recorded_shape, inputs = _recorded_inputs(config)
    try:
        records = network_layers(model, batch_size, shape or recorded_shape, inputs=inputs).records
    except HwprofError as error:
        hint = ""
        if str(error.args[0]).startswith("model file ") and not Path(model.rsplit(":", 1)[0]).is_absolute():
            hint = (
                "; a dataset's model files are looked for from the folder hwprof runs in, as measure was given "
                "them: run from the folder the dataset was measured in, or name the file by its absolute path"
            )
        raise HwprofError(f"cannot compute features for network row {model!r}: {error.args[0]}{hint}") from None
    return records


RECORDED_INPUT = re.compile(r"(?:(?P<name>\w+):)?(?P<dtype>\w+)\[(?P<dims>[^\]]*)\]")


def _recorded_inputs(config) -> tuple[tuple[int, ...] | None, list[str] | None]:
    """(input shape, inputs) a network row's config records it was measured on, without the batch as
    network_layers takes them, so a model file that names no inputs of its own (a factory measured with
    --input-shape, --input or --seq-len) is traced on what it was fed; (None, None) where the row records neither.

    Measure writes `inputs` as NAME:DTYPE[BATCH,...] at the row's batch size and sequence length, naming a
    positional input `input`, and one unnamed float input by its shape alone, which `input_shape` holds too."""
    try:
        recorded = json.loads(config) if isinstance(config, str) else None
    except ValueError:
        return None, None
    if not isinstance(recorded, dict):
        return None, None
    described = recorded.get("inputs")
    found = list(RECORDED_INPUT.finditer(described)) if isinstance(described, str) else []
    if found:
        inputs = []
        for match in found:
            name = "" if match["name"] in (None, "input") else f"{match['name']}:"
            dims = [d.strip() for d in match["dims"].split(",")][1:]
            inputs.append(f"{name}{match['dtype']}[{','.join(dims)}]")
        return None, inputs
    shape = recorded.get("input_shape")
    if isinstance(shape, list) and len(shape) > 1 and all(isinstance(d, int) and d > 0 for d in shape):
        return tuple(shape[1:]), None
    return None, None


def _layer_instances(layer_rows: pd.DataFrame) -> dict[tuple[str, int], list[LayerRecord]]:
    """Each network's executed layers, in order, from its layer rows (first copy if merged twice)."""
    if layer_rows.empty:
        return {}
    rows = layer_rows.drop_duplicates(["model", "batch_size", "layer_index"]).sort_values("layer_index")
    found = {}
    for (model, batch_size), group in rows.groupby(["model", "batch_size"], sort=False):
        found[(model, int(batch_size))] = [
            LayerRecord(
                str(r.op),
                str(r.config),
                float(r.flops),
                float(r.input_bytes),
                float(r.output_bytes),
                float(r.weight_bytes),
            )
            for r in group.itertuples()
        ]
    return found


def _unique_layers(layer_rows: pd.DataFrame, family_of) -> pd.DataFrame:
    """One row per measured configuration: the same work measured in several networks or runs
    counts once, its runs combined as combine_runs does (its power too, from MEDIAN_RUNS runs on)."""
    columns = ["op", "config", *LAYER_FEATURE_COLUMNS, "family", "latency_ms", "power_w", "relative_ci"]
    if layer_rows.empty:
        return pd.DataFrame(columns=columns)
    rows = layer_rows.assign(
        family=layer_rows["model"].astype(str).map(family_of), relative_ci=_relative_ci(layer_rows)
    )
    rows = rows.drop_duplicates(
        ["op", "config", "run_id", "latency_ms"] if "run_id" in rows.columns else ["op", "config", "latency_ms"]
    )  # instances share one measurement
    rows = rows.assign(weight=_repeat_weights(rows["relative_ci"]), log_latency=np.log(rows["latency_ms"]))
    rows = rows.assign(weighted_log=rows["weight"] * rows["log_latency"])
    table = (
        rows.groupby(["op", "config"], sort=True)
        .agg(
            flops=("flops", "first"),
            input_bytes=("input_bytes", "first"),
            output_bytes=("output_bytes", "first"),
            weight_bytes=("weight_bytes", "first"),
            family=("family", "min"),
            weighted_log=("weighted_log", "sum"),
            weight=("weight", "sum"),
            relative_ci=("relative_ci", "min"),
            power_w=("power_w", "mean"),
        )
        .reset_index()
    )
    table["latency_ms"] = np.exp(table.pop("weighted_log") / table["weight"])
    table["relative_ci"] = np.where(table["relative_ci"] > 0, np.sqrt(1.0 / table.pop("weight")), 0.0)
    runs = rows.groupby(["op", "config"], sort=True)["latency_ms"].transform("size")
    if (runs >= MEDIAN_RUNS).any():  # see combine_runs: the median of many runs, not their mean
        position = {key: i for i, key in enumerate(zip(table["op"], table["config"]))}
        for key, group in rows[runs >= MEDIAN_RUNS].groupby(["op", "config"], sort=False):
            combined = combine_runs(
                group["latency_ms"].to_numpy(dtype=float), group["relative_ci"].to_numpy(dtype=float)
            )
            table.loc[position[key], ["latency_ms", "relative_ci"]] = combined
            table.loc[position[key], "power_w"] = _combined(group["power_w"], group["weight"].to_numpy(dtype=float))
    return table[columns]


def target_words(text: str) -> list[str]:
    """The targets asked for ('latency,energy', or their columns 'latency_ms,energy_mj') as words, each checked to
    be one; before any dataset is read."""
    columns = {column: word for word, column in TARGETS.items()}
    words = [columns.get(w, w) for w in (w.strip().lower() for w in str(text).split(",")) if w]
    for word in words:
        if word not in TARGETS:
            choices = ", ".join(f"{name} or {column}" for name, column in TARGETS.items())
            raise HwprofError(f"unknown target {word!r}; choose from {choices} (comma-separated)")
    return words


def requested_targets(text: str | None, data: TrainingData) -> list[str]:
    """Target columns to fit: all measured ones by default, or exactly those asked for."""
    if text is None:
        wanted = ["latency_ms"] + [t for t in ("power_w", "energy_mj") if np.isfinite(data.targets[t]).sum() >= 3]
        return wanted
    wanted = []
    for word in target_words(text):
        column = TARGETS[word]
        if column != "latency_ms" and np.isfinite(data.targets[column]).sum() < 3:
            raise HwprofError(
                f"target {word} needs {column} on at least 3 networks, but the datasets have "
                f"{int(np.isfinite(data.targets[column]).sum())}; measure with a power sensor or drop {word}"
            )
        wanted.append(column)
    if "latency_ms" not in wanted:
        wanted.insert(0, "latency_ms")  # power and energy models build on the latency model
    return list(dict.fromkeys(wanted))
