"""`--verify`: measure the final candidates and check the budgets against reality, not the prediction."""

from __future__ import annotations

from hwprof.errors import HwprofError, option
from hwprof.measuring.runner import Method
from hwprof.search.constraints import PREDICTED_METRICS
from hwprof.search.space import SearchSpace
from hwprof.search.study import SearchResult, TrialRecord, weights_dtype


def final_candidates(result: SearchResult, count: int) -> list[TrialRecord]:
    """The best feasible configuration first, then the Pareto front, at most `count` in all."""
    best = result.best
    chosen = [best] if best is not None else []
    chosen += [r for r in result.pareto_front() if best is None or r.number != best.number]
    return chosen[:count]


def training_threads(predictor) -> int | None:
    """The one thread count the predictor's training runs recorded; None where they recorded none (or several)."""
    from hwprof.fitting.data import thread_counts

    sources = ((getattr(predictor, "doc", None) or {}).get("training") or {}).get("sources") or []
    counts = thread_counts([source for source in sources if isinstance(source, dict)])
    return counts[0] if len(counts) == 1 else None


def verify_threads(predictor, threads: int | None) -> int | None:
    """The thread count to measure the candidates at: the predictor's training runs', since a latency measured
    at another says nothing of its predictions (and refitting with it would mix thread counts). `threads` that
    contradicts it is refused; with neither, torch's own (None)."""
    trained = training_threads(predictor)
    if threads is not None and trained is not None and threads != trained:
        raise HwprofError(
            f"{option('threads', threads)} contradicts the predictor, fitted on runs at {trained} "
            f"thread{'s' * (trained != 1)}: the candidates would be verified at another thread count than their "
            f"costs were predicted for; give {option('threads', trained)}, or leave it out to verify at "
            f"{trained}"
        )
    return trained if threads is None else threads


def check_device(device: str, power: str) -> str:
    """The board --verify measures (its device_name). Refuses, before any trial, a device it cannot measure here,
    or a named power sensor that cannot read it: either would fail after every trial."""
    from hwprof.drivers import open_sensor
    from hwprof.measuring.provenance import device_name

    board = device_name(device)
    if power != "auto":  # auto measures without power where no sensor covers the device; a named one must open
        open_sensor(power, device).close()
    return board


def check_verification(predictor, board: str, device: str, threads: int | None) -> str | None:
    """Refuse, before any trial, a verification that cannot check the predictor's budgets: one measuring another
    board than it was fitted on (what holds there says nothing of its board), or one at the predictor's thread
    count where this process may use fewer CPUs (it would fail after every trial). A note where the predictor
    names no board to compare `board` with."""
    from hwprof.drivers.host import usable_cpus
    from hwprof.fitting.data import UNKNOWN_DEVICE

    fitted = (getattr(predictor, "doc", None) or {}).get("device_name")
    note = None
    if fitted in (None, UNKNOWN_DEVICE):  # fitted from a table that named no board
        note = f"the predictor names no board, so --verify cannot check that {board} is the one it was fitted on"
    elif fitted != board:
        raise HwprofError(
            f"the predictor was fitted on {fitted}, but {option('device', device)} here is {board}: --verify would "
            f"check budgets predicted for one board by measuring another; run the search with --verify on {fitted}, "
            f"or search with a predictor of this board (`hwprof fit` of networks measured here, or "
            f"{_adapting(predictor)})"
        )
    trained = verify_threads(predictor, threads)
    cpus = usable_cpus()
    if threads is None and trained is not None and trained > cpus:
        raise HwprofError(
            f"the predictor was fitted on runs at {trained} threads, which --verify measures at, but this process "
            f"may use {cpus} CPU{'s' * (cpus != 1)} (more threads than CPUs time the scheduler, not the model): "
            f"run the search with --verify where {trained} CPUs are free to it, or leave --verify out"
        )
    return note


def _adapting(predictor) -> str:
    """The fit command that carries `predictor` over to networks measured on another board: --base keeps its layer
    models; one fitted from network rows alone has none, which fit --base refuses, so its datasets are given as
    --prior, the board the new networks are scaled from."""
    import shlex

    from hwprof.fitting.prior import MIN_NEW_NETWORKS
    from hwprof.predictor.predictor import IN_MEMORY

    if getattr(predictor, "uses_layers", True):
        source = getattr(predictor, "source", IN_MEMORY)
        base = "PREDICTOR" if source == IN_MEMORY else shlex.quote(source)
        return f"`hwprof fit NETWORKS --base {base}` to adapt this one to them"
    sources = ((getattr(predictor, "doc", None) or {}).get("training") or {}).get("sources") or []
    paths = [source["path"] for source in sources if isinstance(source, dict) and isinstance(source.get("path"), str)]
    priors = " ".join(f"--prior {shlex.quote(path)}" for path in paths) or "--prior DATASET"
    return (
        f"`hwprof fit NETWORKS {priors}` to start from the data this one was fitted on{'' if paths else ', its datasets'}"
        f", with at least {MIN_NEW_NETWORKS} networks measured here (it was fitted from network rows alone, so it has "
        "no layer models for --base to keep)"
    )


def verify_candidates(
    space: SearchSpace,
    result: SearchResult,
    candidates: list[TrialRecord],
    *,
    device: str = "cpu",
    power: str = "auto",
    threads: int | None = None,
    precision: float = Method.precision,  # measure's own default
    measure=None,
    out=None,
) -> dict[int, dict]:
    """trial number -> {"measured": {metric: value or None}, "holds": True/False/None, "unavailable": [...],
    "measured_budgets": [...], "counted_budgets": [...]}.

    Only latency, power and energy are measured: `holds` judges the budgets on them alone. A budget on a counted
    metric (params, flops, memory_mb) is listed under `counted_budgets`, never judged here, since nothing about
    it was measured. `holds` is None when a budgeted metric could not be measured here (no power sensor for
    energy, say), or when no budget is on a measured metric: the report then says so instead of guessing. With
    `out`, the measurements are kept there as a dataset, to refit the predictor with (the candidates lay where
    it had no data).
    """
    if not candidates:
        return {}
    from hwprof.models.spec import ModelSpec, candidate_name

    if measure is None:
        from hwprof.measuring.session import measure
    specs = {candidate_name(space.name, r.number): r for r in candidates}
    models = [ModelSpec(name, space.build(r.params), space.input_shape, space.name) for name, r in specs.items()]
    dtypes = {weights_dtype(model.module, model.name) for model in models}  # as the search predicted them
    if len(dtypes) > 1:
        raise HwprofError(
            f"the final candidates hold weights in several dtypes ({', '.join(sorted(dtypes))}), and --verify "
            "measures them in one run, in one dtype: build the search space's models in one dtype"
        )
    frame = measure(
        models,
        dtype=dtypes.pop(),
        batch_sizes=(result.batch_size,),
        device=device,
        power=power,
        threads=threads,
        precision=precision,
        layers=True,  # a refit learns the candidates from their layers: fit cannot build space[trial N] by name
        sweep_share=0,
        out=None if out is None else str(out),
    )
    networks = frame[frame["kind"] == "network"].set_index("model")
    verified = {}
    for name, record in specs.items():
        row = networks.loc[name] if name in networks.index else None
        measured = {metric: _number(row, metric) for metric in PREDICTED_METRICS}
        budgets = [c for c in result.constraints if c.is_predicted]
        outcomes, unavailable = [], []
        for constraint in budgets:
            value = measured[constraint.metric]
            if value is None:
                unavailable.append(constraint.text)
            else:
                outcomes.append(constraint.holds(value))
        holds = False if not all(outcomes) else (None if unavailable or not budgets else True)
        verified[record.number] = {
            "model": name,
            "measured": measured,
            "predicted": dict(record.metrics),
            "holds": holds,
            "unavailable": unavailable,
            "measured_budgets": [c.text for c in budgets],
            "counted_budgets": [c.text for c in result.constraints if not c.is_predicted],
        }
    return verified


def _number(row, column: str) -> float | None:
    if row is None or column not in row.index:
        return None
    value = row[column]
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if value == value else None  # NaN means not measured
