"""What the training data lacks, one line each, with the command that fixes it.

A fit on what one default `hwprof measure` collects is much less accurate than
on the benchmark recipe; most of the gap is data the fit could not validate or
extrapolate from. These notes say which, where `fit` can tell.
"""

from __future__ import annotations

from hwprof.fitting.data import TrainingData

MIN_FAMILIES = 3  # leave-one-family-out needs three families to hold out
MIN_CONFIGS_PER_OP = 10  # fewer distinct measured configurations and an op's layer model extrapolates


def data_advice(data: TrainingData, covered_ops: frozenset[str] = frozenset()) -> list[str]:
    """Notes on what `data` lacks for a predictor that generalises, each ending in the command to run
    (`covered_ops`: ops another note already gives a sweep command for)."""
    from hwprof.sample_models.sweep import SAMPLERS

    notes = []
    families = sorted(set(data.families))
    if len(families) < MIN_FAMILIES:
        notes.append(
            f"the networks come from {len(families)} famil{'y' if len(families) == 1 else 'ies'} "
            f"({', '.join(families)}): validation cannot hold a family out, so the reported accuracy and the "
            "intervals describe networks like these only; measure networks of at least 3 families (for example "
            "`hwprof measure resnet18 mobilenet_v2 vgg11 --out more.parquet`) and fit with them"
        )
    if len(data.layers):
        configs = data.layers.groupby("op").size()
        in_networks = {record.op for record in data.networks.layers}
        sweepable = (in_networks & set(SAMPLERS)) - covered_ops
        thin = sorted(op for op in sweepable if configs.get(op, 0) < MIN_CONFIGS_PER_OP)
        if thin:
            sweeps = " ".join(f"sweep:{op}" for op in thin)
            notes.append(
                f"{', '.join(thin)} {'has' if len(thin) == 1 else 'have'} fewer than {MIN_CONFIGS_PER_OP} distinct "
                f"measured layer configurations, so {'its layer model extrapolates' if len(thin) == 1 else 'their layer models extrapolate'} to the sizes of new networks; "
                f"measure a sweep (`hwprof measure {sweeps} --out sweeps.parquet`) and fit with it"
            )
    return notes


def ops_without_sweeps(doc: dict) -> list[str]:
    """The ops whose latency layer models were fitted without the layer sweep's rows (see
    hwprof.fitting.layers.fit_op_model)."""
    from hwprof.fitting.layers import WITHOUT_SWEEPS

    models = doc.get("layer_models", {}).get("latency_ms", {}).get("ops", {})
    return sorted(op for op, model in models.items() if model["cv"]["family"].endswith(WITHOUT_SWEEPS))


def sweep_advice(doc: dict) -> list[str]:
    """A note naming the ops whose layer models were fitted without the layer sweep's rows, with the
    command that gives them a sweep worth keeping."""
    from hwprof.sample_models.sweep import SAMPLERS

    ops = ops_without_sweeps(doc)
    if not ops:
        return []
    models_of = "its layer model" if len(ops) == 1 else "their layer models"
    note = (
        f"the layer sweep's rows of {', '.join(ops)} were left out of {models_of}: with them the held-out "
        "families were predicted worse (a few sweep configurations unlike the networks' layers, typically tiny "
        "ones whose launch cost misleads)"
    )
    sweepable = [op for op in ops if op in SAMPLERS]
    if sweepable:
        sweeps = " ".join(f"sweep:{op}:{MIN_CONFIGS_PER_OP * 2}" for op in sweepable)
        note += f"; a larger sweep spans their sizes (`hwprof measure {sweeps} --out sweeps.parquet`): fit with it"
    return [note]
