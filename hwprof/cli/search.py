"""`hwprof search`: hardware-constrained hyper-parameter and architecture search."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

import click

from hwprof.cli import StdoutUnwritable
from hwprof.cli.common import make_console, refuse_empty
from hwprof.drivers import POWER_KINDS
from hwprof.errors import HwprofError, option
from hwprof.progress import Notes
from hwprof.search import DEFAULT_TRIALS
from hwprof.search.constraints import counted_meaning

SPACE_HELP = """Search SPACE for the best-scoring network whose predicted cost meets every --constraint.

\b
SPACE is `demo` (a small CNN family on scikit-learn's bundled 8x8 digits), a YAML file, or a Python
file (defining SPACE, or file.py:NAME). The format:
\b
    factory: mypackage.models:build      # or path/to/file.py:build; called as build(**fixed, **params)
    input_shape: [3, 32, 32]             # one sample, without the batch
    objective: mypackage.train:evaluate  # optional here; --objective overrides
    params:
      width: [16, 32, 64]                # choices
      depth: {low: 2, high: 8}           # integer range, ends included
      lr: {low: 0.0001, high: 0.1, log: true}   # float range
    fixed: {num_classes: 10}             # passed to the factory unchanged
\b
The objective is called as evaluate(model, params) and returns one number (e.g. accuracy); it trains the
model itself. Each candidate's cost is predicted first: one predicted to break a budget is never trained.
Budgets: latency_ms, power_w, energy_mj (predicted), params, flops, memory_mb (counted, as --constraint says),
with <=, <, >=, >.
--trials counts finished trials in the study, so a resumed study or several workers sharing --storage
stop together at that total (a few trials in flight may finish past it). A trial whose objective raises is
recorded as failed, with its error, and the search goes on, as is one whose objective returns NaN (a diverged
training) or whose factory raises; a failed trial is not counted as finished, so another runs in its place,
until 10 fail one after another: the search then stops, exiting non-zero. A search that produced no score
(every trial skipped as over budget, or every one not skipped failed) writes its results and exits non-zero
too. The output folder is created where
its parent exists; the results of an earlier search in it are replaced only with --force, or when resuming the
same study from --storage.
"""


@click.command(help=SPACE_HELP)
@click.argument("space")
@click.option(
    "--predictor",
    "predictor_path",
    type=click.Path(dir_okay=False),
    help="Predictor JSON from `hwprof fit`. The demo fits one on this machine when omitted.",
)
@click.option("--objective", help="module:function or path/to/file.py:function; default: the space's objective.")
@click.option(
    "--constraint",
    "constraint_texts",
    multiple=True,
    metavar="EXPR",
    help="A budget such as 'latency_ms<=5' or 'energy_mj<=20'; repeat for several. At least one is needed "
    f"(the demo sets one when none is given). {counted_meaning('flops')}; {counted_meaning('memory_mb')}.",
)
@click.option(
    "--trials",
    type=int,
    default=DEFAULT_TRIALS,
    show_default=True,
    help="Finished (trained, skipped or repeated) trials wanted in the study; failed ones are not counted.",
)
@click.option(
    "--sampler",
    type=click.Choice(["tpe", "nsga2"]),
    default="tpe",
    show_default=True,
    help="TPE for the best score; NSGA-II for the Pareto front of score against predicted cost.",
)
@click.option(
    "--confidence",
    type=float,
    help="Hold budgets against this interval's pessimistic end (e.g. 0.9), not the point prediction.",
)
@click.option("--batch-size", type=int, default=1, show_default=True, help="Batch size the cost is predicted for.")
@click.option(
    "--direction",
    type=click.Choice(["maximize", "minimize"]),
    default="maximize",
    show_default=True,
    help="Whether a higher or a lower objective score is better.",
)
@click.option(
    "--storage",
    help="Journal file (several processes on one host) or database URL such as "
    "postgresql://user:password@host/db (many machines); the study resumes from it.",
)
@click.option("--study-name", help="Study to create or resume in --storage (default: hwprof-<space name>).")
@click.option("--seed", type=int, help="Sampler seed, 0 to 4294967295; give each worker sharing a study its own.")
@click.option("--timeout", "timeout_s", type=float, help="Stop starting new trials after this many seconds (positive).")
@click.option(
    "--threads",
    type=int,
    help="torch threads for training and measuring, 1 to the CPU count (default: torch's; --verify measures at "
    "the thread count of the predictor's training runs).",
)
@click.option(
    "--out",
    "-o",
    "out_dir",
    type=click.Path(file_okay=False),
    default="search-results",
    show_default=True,
    help="Folder for search.json and pareto.png (and the demo's measurements and predictor); created if "
    "its parent exists.",
)
@click.option("--force", is_flag=True, help="Replace the search.json and pareto.png an earlier search left in --out.")
@click.option("--verify", is_flag=True, help="Measure the final candidates here and check the budgets for real.")
@click.option(
    "--verify-count",
    type=int,
    default=5,
    show_default=True,
    help="How many final candidates --verify measures: the best, then the Pareto front.",
)
@click.option("--device", default="cpu", show_default=True, help="Device --verify measures on.")
@click.option(
    "--power",
    type=click.Choice(POWER_KINDS),
    default="auto",
    show_default=True,
    help="Power sensor --verify uses for power and energy budgets.",
)
def search(
    space,
    predictor_path,
    objective,
    constraint_texts,
    trials,
    sampler,
    confidence,
    batch_size,
    direction,
    storage,
    study_name,
    seed,
    timeout_s,
    threads,
    out_dir,
    force,
    verify,
    verify_count,
    device,
    power,
):
    import dataclasses

    from hwprof.files import now_text
    from hwprof.search.constraints import parse_constraints
    from hwprof.search.report import every_training_failed, every_trial_skipped, stopped_short
    from hwprof.search.space import load_callable, load_space
    from hwprof.search.study import (
        SearchInterrupted,
        SearchOptions,
        SearchStopped,
        check_options,
        check_storage,
        run_search,
    )

    # every option is checked before anything is measured or trained: a typo fails in milliseconds
    refuse_empty("--objective", objective, "give module:function or path/to/file.py:function")
    refuse_empty("--out", out_dir, "give the folder for search.json and pareto.png")
    refuse_empty("--study-name", study_name, "give the study's name in --storage")
    options = SearchOptions(
        trials=trials,
        constraints=parse_constraints(constraint_texts),
        confidence=confidence,
        batch_size=batch_size,
        sampler=sampler,
        direction=direction,
        seed=seed,
        storage=storage,
        study_name=study_name,
        timeout_s=timeout_s,
    )
    check_options(options)
    check_storage(storage)
    started = now_text()  # search.json says when the search began, as a dataset's runs do
    if not verify:
        _check_verify_options_unset()
    if verify_count < 1:
        raise HwprofError(f"{option('verify_count', verify_count)}: give how many candidates to verify, 1 or more")
    if threads is not None:
        from hwprof.measuring.runner import check_threads

        check_threads(threads)
    board = None
    if verify:  # the device it measures, and a power sensor named for it, fail here rather than after every trial
        from hwprof.search.verify import check_device

        board = check_device(device, power)
    if space == "demo":  # the demo is an application of the space format, which does not know it
        from hwprof.search.demo import demo_space

        search_space = demo_space()
    else:
        search_space = load_space(space)
    if objective:
        objective_function, objective_ref = load_callable(objective, "objective"), objective
    elif search_space.objective is not None:
        objective_function, objective_ref = search_space.objective, search_space.objective_ref
    else:
        raise HwprofError(f"space {space} names no objective: pass --objective module:function")
    if not options.constraints and space != "demo":
        raise HwprofError("no --constraint given: add a budget such as --constraint 'latency_ms<=5'")
    out = Path(out_dir)
    created = _prepare_out(out, force, search_space, options)
    try:
        if threads is not None:
            import torch

            torch.set_num_threads(threads)
        predictor = _predictor(space, predictor_path, out, threads)
        conditions = getattr(predictor, "conditions", None)  # a search may hold any object with predict()
        if isinstance(conditions, dict):  # a predictor of another board, thread count or dtype is taken as given
            from hwprof.cli.fit import conditions_line

            click.echo(f"predicted costs are {conditions_line(conditions)}")
        if verify:  # before any trial: a verification on another board or thread count than the predictor's
            from hwprof.search.verify import check_verification

            note = check_verification(predictor, board, device, threads)
            if note:
                click.echo(note)
        if not options.constraints:
            from hwprof.search.demo import demo_default_budget

            budget = demo_default_budget(predictor)
            board = (conditions if isinstance(conditions, dict) else {}).get("device_name") or "the predictor's board"
            click.echo(f"demo budget: {budget} (the median predicted latency of the family on {board})")
            options = dataclasses.replace(options, constraints=parse_constraints([budget]))
        # a search.json another search wrote in the folder since _prepare_out is replaced only with --force, or
        # where workers share one --storage (each rewrites the study's file whole)
        origin = dict(
            predictor=predictor,
            space_path=None if space == "demo" else space,
            started=started,
            replace=force or bool(options.storage),
        )
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)  # each trial gets our own line instead
        try:
            result = run_search(
                search_space,
                predictor,
                objective_function,
                objective_ref,
                options,
                on_trial=lambda record: _echo_trial(record, options.constraints),
            )
        except SearchInterrupted as interrupted:  # Ctrl-C, or SIGTERM (hwprof.cli.Interrupted): keep what finished
            _report(interrupted.result, search_space, out, False, verify_count, device, power, threads, **origin)
            if storage:
                how = "run the same command to resume the study from --storage"
            else:
                how = (
                    "this study was kept in memory only: add --storage FILE (e.g. --storage study.journal) to the "
                    "command to keep a study across runs and resume it, and --force to replace these results"
                )
            click.echo(
                f"interrupted: the trials so far ({len(interrupted.result.finished)} finished) are in "
                f"{out / 'search.json'}; {how}",
                err=True,
            )
            sys.exit(interrupted.exit_code)
        except SearchStopped as stopped:  # an error in one trial: the finished ones are written before it is shown
            if isinstance(stopped.error, (BrokenPipeError, StdoutUnwritable)):  # the trial lines found no reader
                _write(stopped.result, out, {}, **origin)
                if isinstance(stopped.error, BrokenPipeError):  # the reader left: exit as SIGPIPE would, quietly
                    raise stopped.error from None
                raise StdoutUnwritable(f"{stopped.error}; the finished trials are in {out / 'search.json'}") from None
            try:
                _report(
                    stopped.result,
                    search_space,
                    out,
                    False,
                    verify_count,
                    device,
                    power,
                    threads,
                    stopped=True,
                    **origin,
                )
            except HwprofError as unsaved:  # a full disk refuses the study's storage and its results alike
                if isinstance(stopped.error, HwprofError):
                    raise HwprofError(f"{stopped.error}; {unsaved}") from None
                raise
            raise stopped.error from None
        _report(result, search_space, out, verify, verify_count, device, power, threads, **origin)
        if every_training_failed(result):  # a CI job must not pass on a search that produced no score
            raise HwprofError(
                f"no trial produced a score, since every one not skipped failed in its factory or objective; "
                f"{out / 'search.json'} has each error"
            )
        if every_trial_skipped(result):  # nor on one that trained nothing, every trial over its budgets
            raise HwprofError(
                "no trial produced a score, since every one was predicted to break a budget and none was trained; "
                f"{out / 'search.json'} has each prediction"
            )
        if stopped_short(result):  # nor on one that evaluated fewer trials than asked for
            raise HwprofError(f"{stopped_short(result)} ({out / 'search.json'} has each error)")

    finally:
        if created and out.is_dir() and not any(out.iterdir()):  # refused before anything was written in it
            out.rmdir()


VERIFY_OPTIONS = ("device", "power", "verify_count")  # what --verify measures on, with and how many


def _check_verify_options_unset() -> None:
    """Refuse --device, --power or --verify-count at another value than its default without --verify: they only
    shape what --verify measures, so a search without it would ignore them, silently."""
    context = click.get_current_context()
    defaults = {param.name: param.default for param in context.command.params}
    given = [
        f"--{name.replace('_', '-')} {context.params[name]}"
        for name in VERIFY_OPTIONS
        if context.params[name] != defaults[name]
    ]
    if len(given) == 1:
        raise HwprofError(f"{given[0]} only shapes what --verify measures: add --verify, or drop it")
    if given:
        named = f"{', '.join(given[:-1])} and {given[-1]}"
        raise HwprofError(f"{named} only shape what --verify measures: add --verify, or drop them")


def _prepare_out(out: Path, force: bool, search_space, options) -> bool:
    """Create the output folder, or check the one there, before any trial: results that could not be written
    at the end, or that would silently replace another search's, are refused while nothing is lost. Whether
    it created the folder: one left empty by a refusal (a --storage that does not open) is removed."""
    from hwprof.files import check_name_fits, check_output
    from hwprof.search import results
    from hwprof.search.study import storage_label, study_name_for

    check_name_fits(out)
    if out.is_symlink() and not out.exists():
        raise HwprofError(f"{out} is a link to {os.readlink(out)}, which does not exist: give a folder for --out")
    if not out.exists():
        try:
            check_output(out)  # its parent exists and can be written
        except HwprofError as refused:  # worded for a file: say which folder could not be made
            raise HwprofError(f"cannot create the folder {out} for --out: {refused}") from None
        out.mkdir()
        return True
    earlier_results = out / "search.json"
    resuming = False
    if options.storage and earlier_results.exists():  # the same stored study, resumed: its file is rewritten whole
        try:
            earlier = results.load(earlier_results)
        except HwprofError:  # damaged or another format: replaced only with --force, like any other file
            earlier = {}
        study_name = study_name_for(search_space, options)
        if "storage" in earlier:
            resuming = (earlier.get("study_name"), earlier.get("storage")) == (
                study_name,
                storage_label(options.storage),
            )
        else:  # written before search.json named its storage: the study it describes is the one stored there
            resuming = earlier.get("study_name") == study_name and _describes_stored_study(earlier, options.storage)
    for name in ("search.json", "pareto.png"):
        check_output(out / name, force=force, exists_ok=resuming)
    return False


def _describes_stored_study(earlier: dict, storage: str) -> bool:
    """Whether `storage` holds the study a search.json describes: every trial it lists is there, with the same
    parameters (a journal that is not there yet holds none)."""
    import optuna

    from hwprof.search.study import open_storage

    if "://" not in storage and not Path(storage).exists():
        return False
    try:
        study = optuna.load_study(study_name=earlier["study_name"], storage=open_storage(storage))
    except KeyError:  # no study of that name there
        return False
    stored = {trial.number: trial.params for trial in study.get_trials(deepcopy=False)}
    trials = earlier.get("trials") or []
    return bool(trials) and all(
        isinstance(trial, dict) and stored.get(trial.get("number")) == trial.get("params") for trial in trials
    )


def _predictor(space: str, predictor_path: str | None, out: Path, threads: int | None):
    if predictor_path:
        from hwprof.predictor.predictor import load_predictor

        return load_predictor(predictor_path)
    if space != "demo":
        raise HwprofError("--predictor is required: fit one with `hwprof fit DATASET --out predictor.json`")
    from hwprof.search.demo import DEMO_DATASET, demo_predictor

    try:
        predictor, _ = demo_predictor(out, threads=threads, progress=Notes(click.echo))
    except KeyboardInterrupt as interrupt:  # Ctrl-C or SIGTERM while the demo measures its networks or fits
        dataset = out / DEMO_DATASET
        if dataset.exists():
            said = f"the demo networks measured so far are kept in {dataset}; run the same command to carry on"
            said += " (the measurement resumes where it stopped)"
        else:
            said = "nothing was measured yet; run the same command to start again"
        click.echo(f"interrupted before the search began: {said}", err=True)
        sys.exit(getattr(interrupt, "exit_code", 130))
    return predictor


def _echo_trial(record, constraints) -> None:
    from hwprof.search.report import broken_budgets, held_texts, plural

    costs = held_texts(constraints, record.checked, " -> ")
    if record.state == "skipped":  # the budgets it breaks, not those that held
        broken = broken_budgets(constraints, record)
        named = held_texts(broken, record.checked, " -> ") or costs
        click.echo(
            f"trial {record.number}: skipped, predicted to break {plural(len(broken), 'a budget', 'budgets')} ({named})"
        )
    elif record.state == "trained":
        flag = "" if record.feasible else " (breaks a budget)"
        click.echo(f"trial {record.number}: score {record.score:.4g} in {record.train_s:.1f} s ({costs}){flag}")
    elif record.state == "repeated":
        click.echo(
            f"trial {record.number}: score {record.score:.4g}, repeats trial {record.repeats}, not trained again"
        )
    elif record.state == "failed":
        after = "" if record.train_s is None else f" after {record.train_s:.1f} s"  # a failed factory trained nothing
        click.echo(f"trial {record.number}: failed{after}, {record.failure}")


def _free_path(path: Path) -> Path:
    """`path`, or verified-2.parquet, -3, ... where a resumed search's earlier verification kept its own."""
    number = 1
    while path.exists():
        number += 1
        path = path.with_name(f"{path.stem.split('-')[0]}-{number}{path.suffix}")
    return path


def _refit_hint(predictor, kept: Path, earlier: list[Path] | tuple = ()) -> str:
    """The command that learns from the measured candidates (and those of `earlier` verifications): a layer-mode
    predictor is adapted to them (--base keeps its layer models); one fitted from network rows alone has none to
    keep, so it is refitted from its own datasets with them."""
    out = f"--out {shlex.quote(str(kept.with_name('refit.json')))}"  # beside them: a predictor.json may be there
    measured = [*map(str, earlier), str(kept)]
    if predictor is not None and getattr(predictor, "uses_layers", True) is False:
        # its datasets hold network rows alone, which name the model files fit must run to trace them (the
        # demo's own family file): the user's own search, so the hint opts in
        sources = [s.get("path") for s in predictor.doc.get("training", {}).get("sources", []) if s.get("path")]
        quoted = " ".join(map(shlex.quote, measured))
        datasets = " ".join(map(shlex.quote, [*sources, *measured])) if sources else f"DATASETS... {quoted}"
        also = "" if sources else " and the predictor's datasets"
        return f"refit with them{also} (`hwprof fit {datasets} --run-model-files {out}`)"
    return f"refit with them (`{_base_command(predictor, measured, out)}`)"


def _base_command(predictor, datasets: list[str], out: str) -> str:
    """`hwprof fit DATASETS --base PREDICTOR --out ...`, naming the predictor's file where it has one."""
    from hwprof.predictor.predictor import IN_MEMORY

    source = getattr(predictor, "source", IN_MEMORY)  # a predictor made in memory has no file to name
    source = "PREDICTOR" if source == IN_MEMORY else shlex.quote(source)
    return f"hwprof fit {' '.join(map(shlex.quote, datasets))} --base {source} {out}"


def _report(
    result,
    search_space,
    out: Path,
    verify: bool,
    verify_count: int,
    device: str,
    power: str,
    threads: int | None,
    stopped: bool = False,
    predictor=None,
    space_path: str | None = None,
    started: str | None = None,
    replace: bool = True,
) -> None:
    """Verify the study's final candidates where asked, write search.json and pareto.png, then show the study:
    a standard output that takes no more lines (a reader gone, a full disk) loses no result. The files are
    written before the measuring too, so that a verification that fails or is stopped loses no finished trial."""
    from hwprof.search.verify import final_candidates

    verified, figure = {}, None
    candidates = final_candidates(result, verify_count) if verify else []
    if verify and not candidates:  # --verify asked for a measurement: say why none was made
        click.echo("verify: nothing was measured, since no trained configuration was predicted to meet the budgets")
    if candidates:
        try:
            figure = _write(result, out, {}, predictor, space_path, started, replace=replace)
            replace = True  # this command's own file from here on
        except HwprofError:
            _show(result, {}, stopped, False, device, power)
            raise
        try:
            verified = _verify(result, search_space, candidates, out, device, power, threads, predictor)
        except BaseException:
            click.echo(
                f"the verification stopped: every finished trial is in {out / 'search.json'} and {figure}, without it",
                err=True,
            )
            raise
    try:  # before anything is shown: a standard output that takes no more lines loses no result
        figure = _write(result, out, verified, predictor, space_path, started, figure, replace)
    except HwprofError:
        _show(result, verified, stopped, verify, device, power)
        raise
    _show(result, verified, stopped, verify, device, power)
    click.echo(f"wrote {out / 'search.json'} and {figure}")


def _verify(result, search_space, candidates, out: Path, device: str, power: str, threads, predictor) -> dict:
    """Measure the final candidates on `device` and check their budgets, the measurements kept for a refit."""
    from hwprof.search.report import counted, plural
    from hwprof.search.verify import verify_candidates, verify_threads

    them = plural(len(candidates), "it", "them")
    click.echo(f"verifying {counted(len(candidates), 'final candidate')} by measuring {them} on {device}")
    kept = _free_path(out / "verified.parquet")
    measured_at = verify_threads(predictor, threads)
    if threads is None and measured_at is not None:
        click.echo(
            f"measuring at {measured_at} thread{'s' * (measured_at != 1)}, the thread count of the "
            "predictor's training runs (--threads was not given)"
        )
    verified = verify_candidates(
        search_space, result, candidates, device=device, power=power, threads=measured_at, out=kept
    )
    click.echo(f"measured candidates kept in {kept}: {_refit_advice(predictor, kept, verified)}")
    return verified


def _refit_advice(predictor, kept: Path, verified: dict) -> str:
    """_refit_hint where the refit can learn from the candidates. fit --base chooses no correction from fewer than
    MIN_ROWS_FOR_RATIO_CV networks and keeps the base's network models unchanged, so below that it says how many
    more are needed, counting those an earlier verification in the folder kept (verified-2.parquet, ...), and how
    to measure them."""
    from hwprof.fitting.network import MIN_ROWS_FOR_RATIO_CV

    if predictor is not None and getattr(predictor, "uses_layers", True) is False:  # refitted from all its data
        return _refit_hint(predictor, kept)
    earlier = sorted(path for path in kept.parent.glob("verified*.parquet") if path != kept)
    here = {entry["model"] for entry in verified.values() if entry["measured"].get("latency_ms") is not None}
    models = here | {model for path in earlier for model in _network_models(path)}
    if len(models) >= MIN_ROWS_FOR_RATIO_CV:
        return _refit_hint(predictor, kept, [path for path in earlier if _network_models(path)])
    more = MIN_ROWS_FOR_RATIO_CV - len(models)
    also = f" ({len(models)} with the folder's earlier verifications)" if earlier else ""
    datasets = [*map(str, earlier), str(kept), "OTHER/verified.parquet"]
    out = f"--out {shlex.quote(str(kept.with_name('refit.json')))}"
    return (
        f"a refit with them (fit --base) chooses no correction from fewer than {MIN_ROWS_FOR_RATIO_CV} networks and "
        f"keeps the predictor's network models as they are; {len(here)} {'was' if len(here) == 1 else 'were'} measured here{also}, so verify "
        f"{more} more first, with a larger --verify-count where the best and the Pareto front hold that many "
        f"candidates, or in other searches with --verify, and give fit every verified file together "
        f"(`{_base_command(predictor, datasets, out)}`)"
    )


def _network_models(path: Path) -> set[str]:
    """The networks whose latency a verified dataset holds; none where it cannot be read."""
    import pandas as pd

    try:
        rows = pd.read_parquet(path, columns=["kind", "model", "latency_ms"])
    except (OSError, ValueError, KeyError):  # damaged, or not a dataset: nothing to refit with
        return set()
    return set(rows.loc[(rows["kind"] == "network") & rows["latency_ms"].notna(), "model"].astype(str))


def _show(result, verified: dict, stopped: bool, verify: bool, device: str, power: str) -> None:
    """The table of feasible trained configurations, the study's summary and how the verification went."""
    from hwprof.search.report import (
        counted_budgets_line,
        measured_budgets_line,
        render_table,
        summary_lines,
        verification_lines,
    )

    console = make_console()
    if result.feasible_trained():
        console.print(render_table(result, verified))
    for line in summary_lines(result, stopped, verify=verify):
        click.echo(line)
    unmeasured_because = "--power none" if power == "none" else f"no power sensor covers {device} here"
    for line in verification_lines(result, verified, unmeasured_because):
        click.echo(line)
    for line in (measured_budgets_line(result, verified), counted_budgets_line(result, verified)):
        if line:
            click.echo(line)


def _write(
    result, out: Path, verified: dict, predictor, space_path, started, figure: Path | None = None, replace: bool = True
) -> Path:
    """Write search.json, and pareto.png unless `figure` is one drawn already (a verification changes no point
    of it); the figure's path. Without `replace`, a search.json another process wrote meanwhile is kept, and
    this one's goes beside it."""
    from hwprof.files import WrittenAside
    from hwprof.search import results
    from hwprof.search.report import plot_pareto

    try:
        results.dump(
            result, out / "search.json", verified, predictor=predictor, space=space_path, started=started, force=replace
        )
    except WrittenAside:  # saved, under another name, which it says
        raise
    except HwprofError as unwritten:
        raise HwprofError(f"{unwritten}; the results above were not saved") from None
    return figure or plot_pareto(result, out / "pareto.png")
