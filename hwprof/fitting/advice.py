"""What the training data lacks, one line each, with the command that fixes it.

A fit on what one default `hwprof measure` collects is much less accurate than
on the benchmark recipe; most of the gap is data the fit could not validate or
extrapolate from. These notes say which, where `fit` can tell.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pandas as pd

from hwprof.fitting.alignment import MIN_SHARED
from hwprof.fitting.data import UNKNOWN_DEVICE, TrainingData, files_by_value
from hwprof.predictor.features import op_group
from hwprof.predictor.predictor import allocator_policy, measure_runs
from hwprof.schema import ALLOCATOR_POLICIES, DEFAULT_CACHE_MODE

MIN_FAMILIES = 3  # leave-one-family-out needs three families to hold out
MIN_CONFIGS_PER_OP = 10  # fewer distinct configurations beyond one family's and an op's layer model extrapolates
# run setting -> (its `hwprof measure` default, how a command line sets another value)
MEASURE_SETTINGS = {
    "threads": (None, "--threads {}"),  # None: no fixed default (torch's depends on the machine), always given
    "device": ("cpu", "--device {}"),
    "dtype": ("float32", "--dtype {}"),
    "channels_last": (False, "--channels-last"),
    "compile": (False, "--compile"),
    "cache": (DEFAULT_CACHE_MODE, "--cache {}"),  # the mode layers were timed in
    "allocator": (ALLOCATOR_POLICIES[0], "--allocator {}"),
}


def measure_flags(sources: list[dict], run_ids=None) -> str:
    """The `hwprof measure` options the datasets' runs (those in `run_ids`, when given) were all measured with
    where they are not its defaults, ' --threads 1 --device cuda:0': an advised command measures data that
    `fit` then takes with theirs, not data at another thread count or on another device that it refuses, or in
    another cache mode or allocator policy that it warns about. The thread count is always given: measure's default is the machine's, and the advice is kept in the
    predictor file, read on other machines and by processes with other settings."""
    flags = []
    measured = [dict(source, runs=measure_runs(source.get("runs", []))) for source in sources]
    for key, (default, flag) in MEASURE_SETTINGS.items():
        values = list(files_by_value(measured if key == "cache" else sources, key, run_ids))
        if key == "allocator":  # a label, which may name the library that served malloc
            values = list({allocator_policy(value) for value in values} - {None})
        if len(values) == 1 and (default is None or values[0] != default):
            flags.append(flag.format(values[0]))
    return "".join(f" {flag}" for flag in flags)


def free_output(stem: str) -> str:
    """The first of STEM.parquet, STEM_2.parquet, ... that `hwprof measure --out` in the current folder would not
    refuse (no dataset, journal or raw samples of that name yet), so that an advised command runs as printed,
    the second time too."""
    from hwprof.dataset import journal_path
    from hwprof.samples import samples_path

    for number in itertools.count(1):
        name = plain_output(stem) if number == 1 else f"{stem}_{number}.parquet"
        if not any(path.exists() for path in (Path(name), journal_path(name), samples_path(name))):
            return name


def plain_output(stem: str) -> str:
    """STEM.parquet: the output an advised command names in the predictor file, which no folder decides."""
    return f"{stem}.parquet"


def data_advice(
    data: TrainingData,
    covered_ops: frozenset[str] = frozenset(),
    flags: str = "",
    layers: bool = True,
    output=plain_output,
) -> list[str]:
    """Notes on what `data` lacks for a predictor that generalises, each ending in the command to run, with
    the `flags` the data was measured with (`covered_ops`: ops another note already gives a sweep command for;
    `layers` False: the layer models come from elsewhere, fit --base's, so no sweep is advised; `output` names
    each command's --out, free_output where the note is printed for the folder it runs in)."""
    from hwprof.sample_models.sweep import SAMPLERS

    notes = []
    families = sorted(set(data.families))
    if len(families) < MIN_FAMILIES:
        command = f"`hwprof measure resnet18 mobilenet_v2 vgg11{flags} --out {output('more')}`"
        if data.device_name in files_by_value(data.sources, "device_name"):
            fix = f"measure networks of at least 3 families (for example {command}) and fit with them"
        else:  # rows from a table: networks measured anywhere else are another board's, which fit refuses to mix
            unnamed = data.device_name == UNKNOWN_DEVICE
            board = "the board these rows were measured on" if unnamed else data.device_name
            column = "a device_name column with" if unnamed else "its device_name set to"
            fix = (
                f"measure networks of at least 3 families on {board} (for example {command} there) and fit with "
                f"them, giving this table {column} the name that run records (`hwprof devices` there shows it), so "
                "that fit takes both as one board"
            )
        notes.append(
            f"the networks come from {len(families)} famil{'y' if len(families) == 1 else 'ies'} "
            f"({', '.join(families)}): validation cannot hold a family out, so the reported accuracy and the "
            f"intervals describe networks like these only; {fix}"
        )
    if layers and len(data.layers):
        beyond = _configs_beyond_largest_family(data.layers)
        in_networks = {record.op for record in data.networks.layers}
        sweepable = (in_networks & set(SAMPLERS)) - covered_ops
        thin = sorted(op for op in sweepable if beyond.get(op, 0) < MIN_CONFIGS_PER_OP)
        if thin:
            sweeps = " ".join(f"sweep:{op}" for op in thin)
            one = len(thin) == 1
            notes.append(
                f"{', '.join(thin)} {'has' if one else 'have'} fewer than {MIN_CONFIGS_PER_OP} distinct measured "
                f"layer configurations beyond those of {'its' if one else 'their'} largest network family, so "
                f"{'its layer model extrapolates' if one else 'their layer models extrapolate'} to the sizes of new "
                f"networks (and, that family held out, validation scores {'it' if one else 'them'} on too few); "
                f"measure a sweep (`hwprof measure {sweeps}{flags} --out {output('sweeps')}`) and fit with it"
            )
    return notes


def _configs_beyond_largest_family(layers: pd.DataFrame) -> pd.Series:
    """Per op, its distinct layer configurations less those of the network family that has the most of them: what
    its model learns from when validation holds that family out. Sweeps are never held out, so all of theirs count;
    an op whose configurations all come from one network family has none (conv2d of a resnet beside an mlp)."""
    from hwprof.models.spec import SWEEP_FAMILY

    networked = layers[layers["family"] != SWEEP_FAMILY]
    largest = networked.groupby(["op", "family"]).size().groupby(level="op").max()
    configs = layers.groupby("op").size()
    return configs - largest.reindex(configs.index, fill_value=0)


def ops_without_sweeps(doc: dict) -> list[str]:
    """The ops whose latency layer models were fitted without the layer sweep's rows (see
    hwprof.fitting.layers.fit_op_model)."""
    from hwprof.fitting.layers import WITHOUT_SWEEPS

    models = doc.get("layer_models", {}).get("latency_ms", {}).get("ops", {})
    return sorted(op for op, model in models.items() if model["cv"]["family"].endswith(WITHOUT_SWEEPS))


def shared_models_without_sweeps(doc: dict) -> list[str]:
    """The shared latency layer models (an op group's, "fallback") fitted without the layer sweep's rows: they
    predicted the ops they cost with their family held out better so (see hwprof.fitting.pipeline)."""
    from hwprof.fitting.layers import WITHOUT_SWEEPS

    entry = doc.get("layer_models", {}).get("latency_ms", {})
    shared = {f"the {group} group's layer model": model for group, model in (entry.get("groups") or {}).items()}
    if entry.get("fallback"):
        shared["the fallback layer model"] = entry["fallback"]
    return sorted(name for name, model in shared.items() if model["cv"]["family"].endswith(WITHOUT_SWEEPS))


def sweep_advice(doc: dict, data: TrainingData, frame: pd.DataFrame, flags: str = "", output=plain_output) -> list[str]:
    """A note per op whose layer model was fitted without the layer sweep's rows, with the command (measuring as
    the data was, `flags`) that changes that: more sweep configurations than `data` holds, drawn with a seed it
    has not used, where its sweep is small or does not span the networks' sizes; else the sweep's rows disagree
    with the networks' layers of like sizes, and no larger sweep mends that, so the note says why and has the
    networks measured again with the sweep in one run (`frame`'s rows name the runs, networks and sweeps)."""
    from hwprof.sample_models.sweep import SAMPLERS

    notes = []
    layer_rows = None  # frame's layer rows, found once for every op that needs them
    for op in ops_without_sweeps(doc):
        note = (
            f"the layer sweep's rows of {op} were left out of its layer model: with them the held-out families "
            "were predicted worse"
        )
        if op in SAMPLERS:
            if layer_rows is None:
                layer_rows = frame[frame["kind"].astype("string").str.lower() == "layer"]
            note += _sweep_remedy(op, data, layer_rows, flags, output)
        notes.append(note)
    shared = shared_models_without_sweeps(doc)
    if shared:
        notes.append(
            f"the layer sweep's rows were left out of {' and '.join(shared)} (which cost the ops without a model "
            "of their own): with them those ops were predicted worse with their family held out; networks of more "
            "families with those ops give them models of their own"
        )
    return notes


def _sweep_remedy(op: str, data: TrainingData, layer_rows: pd.DataFrame, flags: str, output) -> str:
    """The rest of sweep_advice's note for `op`: why its sweep rows misled, and the command that changes it
    (`layer_rows`: the layer rows of sweep_advice's frame)."""
    from hwprof.models.spec import SWEEP_FAMILY
    from hwprof.sample_models.sweep import DEFAULT_SEED, PREFIX

    layers = data.layers[data.layers["op"] == op]
    swept = (layers["family"] == SWEEP_FAMILY).to_numpy()
    sizes = ["flops", "output_bytes"]
    spans = bool(swept.any() and (~swept).any()) and all(
        layers.loc[swept, size].min() <= layers.loc[~swept, size].min()
        and layers.loc[swept, size].max() >= layers.loc[~swept, size].max()
        for size in sizes
    )
    rows = layer_rows[layer_rows["op"] == op]
    models = rows["model"].astype(str)
    of_sweeps = models.str.startswith(PREFIX)
    sweeps = _sweeps_of(op, pd.unique(models[of_sweeps]))
    count = int(swept.sum())
    if count < 2 * MIN_CONFIGS_PER_OP or not spans:
        used = {seed for _, seed in sweeps}
        seed = next(seed for seed in itertools.count() if seed not in used)
        larger = max(2 * MIN_CONFIGS_PER_OP, count)
        held = f"the data holds {count} sweep configuration(s) of {op}" + (
            "" if spans else ", not spanning the sizes of its networks' layers"
        )
        return (
            f" ({held}: a few configurations unlike the networks' layers, typically tiny ones whose launch cost "
            f"misleads); a sweep of {larger} more, drawn anew (`hwprof measure sweep:{op}:{larger}:{seed}{flags} "
            f"--out {output('larger_sweeps')}`) to span their sizes: fit with it"
        )
    runs = rows["run_id"].astype(str) if "run_id" in rows.columns else pd.Series("", index=rows.index)
    in_sweeps = of_sweeps.to_numpy()
    apart = ~runs[in_sweeps].isin(set(runs[~in_sweeps]))  # sweep rows of runs that measured no network's op
    if apart.mean() > 0.5:
        why = "most of them were measured in other runs than the networks' layers"
        elsewhere = set(runs[in_sweeps][apart.to_numpy()])
        if not any(op_group(op) in run.factors for run in data.alignment.runs if run.run_id in elsewhere):
            why += f", which fit could not bring to one speed (fewer than {MIN_SHARED} configurations in common)"
    else:
        why = "the machine's noise moved them: they were measured in the networks' runs, on a busy or drifting machine"
    largest = max(sweeps, default=(count, DEFAULT_SEED))
    again = f"sweep:{op}:{largest[0]}:{largest[1]}"
    return (
        f"; the data already holds {count} sweep configurations of {op}, spanning its networks' layer sizes, so a "
        f"larger sweep would not change that: the sweep's rows disagree with the networks' layers of like sizes, "
        f"since {why}. Measure the networks and the sweep again in one run on a quiet machine (`hwprof measure "
        f"{' '.join(pd.unique(models[~in_sweeps]))} {again}{flags} --out {output('networks_and_sweep')}`) and fit with it"
    )


def _sweeps_of(op: str, names) -> list[tuple[int, int]]:
    """(count, seed) of each sweep of `op` among these model names."""
    from hwprof.sample_models.sweep import parse_sweep

    found = []
    for name in names:
        try:
            swept, count, seed = parse_sweep(name)
        except ValueError:  # another tool's name, or an op this torch has no sweep for
            continue
        if swept == op:
            found.append((count, seed))
    return found
