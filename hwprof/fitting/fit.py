"""Datasets in, predictor out: the one entry point of fitting.

It reads and checks the datasets, picks the board, says what the data lacks,
and takes one of three paths: a full fit (hwprof.fitting.pipeline), adapting
an existing predictor's network models (`base`), or adapting the fleet board
the datasets resemble (`prior`, hwprof.fitting.prior).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from hwprof.errors import HwprofError, each_call_warns_afresh, option, shown, true_or_false
from hwprof.files import as_path, as_paths
from hwprof.fitting.advice import (
    data_advice,
    free_output,
    measure_flags,
    ops_without_sweeps,
    plain_output,
    sweep_advice,
)
from hwprof.fitting.data import (
    TARGETS,
    allocator_warning,
    cache_warning,
    check_one_thread_count,
    distrusted_rows,
    read_inputs,
    requested_targets,
    select_device,
    torch_warning,
    training_data,
)
from hwprof.fitting.layers import FAMILIES
from hwprof.fitting.pipeline import adapt_training_data, fit_training_data
from hwprof.fitting.prior import fit_from_prior
from hwprof.predictor import file as predictor_file
from hwprof.predictor.predictor import IN_MEMORY, Predictor, check_predictor_output, load_predictor
from hwprof.progress import Progress, given_progress


@each_call_warns_afresh
def fit(
    paths: str | os.PathLike | Iterable[str | os.PathLike],
    out: str | os.PathLike | None = None,
    targets: str | Iterable[str] | None = None,
    family: str = "auto",
    device_name: str | None = None,
    cv: bool = True,
    progress: Progress | None = None,
    base: str | os.PathLike | Predictor | None = None,
    align_runs: bool = True,
    force: bool = False,
    prior: str | os.PathLike | Iterable[str | os.PathLike] | None = None,
    run_model_files: bool = False,
) -> Predictor:
    """Datasets in (a path or a list of them), predictor out (written to `out` when given; an existing file is
    replaced only with `force`, and never one of the inputs or a .parquet/.csv file).

    `targets` are what to fit, by default every one the datasets measured: "latency,energy", or a list such as
    ["latency_ms", "energy_mj"], naming latency, power and energy or their columns latency_ms, power_w and
    energy_mj. Latency is always fitted: power and energy models build on it.

    With `align_runs`, runs of the datasets measured at different machine speeds are
    scaled to one before repeats are combined (hwprof/fitting/alignment.py).

    With `base` (a predictor file, or a Predictor as evaluate takes one), its layer models are kept and only the network
    models are learned from the datasets' network rows: a few whole networks measured
    on a new board or in a new search space adapt an existing predictor.

    With `prior` (datasets of other boards, each with its own device_name), the fleet board whose
    predictions match the datasets' few networks best is adapted to them (hwprof/fitting/prior.py).

    A network row naming a Python file (path/to/file.py:factory) without layer rows is traced by running that
    file only with `run_model_files`: a dataset may come from anyone (hwprof.fitting.data.training_data)."""
    paths = as_paths(paths, "dataset")
    prior = as_paths(prior, "prior dataset") if prior is not None else None
    adapting = base is not None
    if isinstance(base, Predictor):  # its file, where it has one, so that `out` is never that file
        base_predictor, base = base, (Path(base.source) if base.source != IN_MEMORY else None)
    else:
        base_predictor, base = None, _base_path(base)
    out = as_path(out, "output") if out is not None else None
    if family not in FAMILIES:
        raise HwprofError(f"unknown model family {family!r}; choose polynomial, trees or auto")
    cv, align_runs, force = (true_or_false(n, v) for n, v in (("cv", cv), ("align_runs", align_runs), ("force", force)))
    run_model_files = true_or_false("run_model_files", run_model_files)
    targets = _target_text(targets)
    progress = given_progress(progress)
    if adapting and prior:
        raise HwprofError(
            f"give {option('base')} (one predictor to adapt) or {option('prior')} (other boards' datasets), not both"
        )
    if adapting and family != "auto":
        raise HwprofError(
            f"{option('base')} keeps its layer models, so {option('family')} {family} would choose nothing: "
            f"leave {option('family')} out, or fit without {option('base')} to fit new layer models"
        )
    if out is not None:
        check_predictor_output(out, inputs=[*paths, *([base] if base is not None else []), *(prior or [])], force=force)
    say = progress.note
    if base_predictor is None and base is not None:
        base_predictor = load_predictor(base)
    frame, sources = read_inputs(paths)
    frame, device = select_device(frame, device_name)
    check_one_thread_count(frame, sources)
    data = training_data(frame, device, sources, align=align_runs, run_model_files=run_model_files)
    aligned = data.alignment.summary()
    if aligned:
        say(aligned)
    for warning in data.alignment.warnings():
        progress.warn(f"warning: {warning}")
    mixed = [
        warning for warning in (allocator_warning(sources), cache_warning(sources), torch_warning(sources)) if warning
    ]
    for warning in mixed:
        progress.warn(f"warning: {warning}")
    distrusted = distrusted_rows(frame)
    if distrusted:
        say(distrusted)
    wanted = requested_targets(targets, data)
    if prior:
        fleet, fleet_sources = read_inputs(prior)
        predictor = fit_from_prior(
            data, fleet, fleet_sources, wanted, family, cv=cv, progress=progress, run_model_files=run_model_files
        )
    elif base_predictor is not None:
        predictor = adapt_training_data(base_predictor, data, wanted, cv=cv, progress=progress)
    else:
        predictor = fit_training_data(data, wanted, family, cv=cv, progress=progress)
    # an op whose sweep rows were left out gets the larger sweep's command, not a second one
    fitted_here = not prior and base_predictor is None
    run_ids = set(frame["run_id"].dropna().astype(str)) if "run_id" in frame.columns else set()
    flags = measure_flags(sources, run_ids or None)  # the runs of the rows fitted, or every run where none says
    covered = frozenset(ops_without_sweeps(predictor.doc) if fitted_here else ())
    # --base keeps its layer models, and so does --prior, unless the new rows were fitted alone
    own_layers = not prior or predictor.doc["training"]["prior"]["how"] == "own rows"
    layers = base_predictor is None and own_layers

    def advice_naming(output) -> list[str]:
        return data_advice(data, covered, flags, layers, output) + (
            sweep_advice(predictor.doc, data, frame, flags, output) if fitted_here else []
        )

    for note in advice_naming(free_output):  # commands that run as printed in this folder
        say(f"note: {note}")
    advice = advice_naming(plain_output)  # the predictor file's: the same whatever folder fit ran in
    predictor.doc["training"]["warnings"] = [*mixed, *([distrusted] if distrusted else []), *advice]
    if out is not None:
        # check_predictor_output above refused an existing file without force; one another process (a second fit
        # to the same path) wrote since is not replaced either
        predictor_file.dump(predictor.doc, out, force)
        predictor.source = str(out)
    return predictor


def _base_path(base: object) -> Path | None:
    """The base predictor's file given as a path, refused as one sentence where it is not one."""
    return as_path(base, "base predictor (a predictor file or a Predictor)") if base is not None else None


def _target_text(targets: object) -> str | None:
    """The targets asked for as the comma-separated words data.requested_targets reads ("latency,energy"), from
    that text or a list, each a word or its column (latency_ms); one that is neither is refused here."""
    if targets is None:
        return None
    items = [targets] if isinstance(targets, str) else targets
    if not isinstance(items, (list, tuple)) or not all(isinstance(item, str) for item in items):
        raise HwprofError(
            f"{option('targets', shown(targets))}: give them as text such as 'latency,energy' or a list such as "
            "['latency_ms', 'energy_mj']"
        )
    words = {column: word for word, column in TARGETS.items()}
    parts = [part.strip().lower() for item in items for part in item.split(",") if part.strip()]
    for part in parts:
        if part not in TARGETS and part not in words:
            raise HwprofError(
                f"unknown target {part!r}; choose from {', '.join(TARGETS)} or their columns "
                f"{', '.join(TARGETS.values())} (comma-separated)"
            )
    return ",".join(words.get(part, part) for part in parts)
