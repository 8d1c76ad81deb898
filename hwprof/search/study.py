"""Hardware-constrained search: predict a candidate's cost first, train it only if it fits.

Each Optuna trial builds the model for a configuration, asks the predictor
for its latency, power and energy, and checks the budgets. A configuration
predicted to break a budget is never trained (HyperPower): the trial is
closed as pruned with its constraint violations recorded, so TPE and NSGA-II
learn where the infeasible region lies without paying a training run for it.
A trial whose factory or objective fails is closed as pruned too, recorded as
failed: TPE learns to avoid its configuration, and another trial runs in its place.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import logging
import math
import os
import random
import signal
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hwprof.errors import HwprofError, error_line, error_text, given_percent, option, warn
from hwprof.files import utc_text
from hwprof.predictor import INTERVAL_CONFIDENCE
from hwprof.search import DEFAULT_TRIALS
from hwprof.search.constraints import (
    ANALYTIC_METRICS,
    METRICS,
    PREDICTED_METRICS,
    Constraint,
    check_satisfiable,
    parse_constraint,
)
from hwprof.search.space import FactoryFailed, SearchSpace

SAMPLERS = ("tpe", "nsga2")
SEED_LIMIT = 2**32 - 1  # the largest seed numpy's generator, under both samplers, accepts
# random trials before TPE models the study: one count for every --trials, so that a longer seeded study begins
# with the trials a shorter one drew. Scaled with --trials (2-10) before, which made them part from the third
# trial; on synthetic spaces of 10-200 trials, 5 found as good a best as that scaling, and 10 a worse one below 30
TPE_STARTUP_TRIALS = 5
PARETO_METRICS = ("latency_ms", "energy_mj")  # cost axes of the Pareto front, where predicted
DEFAULT_CONFIDENCE = INTERVAL_CONFIDENCE  # asked of the predictor when no interval is used for the budgets
# failed trials one after another that stop a search short of its trials: a factory or objective failing that
# often is broken, not unlucky, and each failure may have cost a training
FAILURES_IN_A_ROW = 10
# configurations drawn, after every parameter's first value, to find one the factory builds before the study
# starts: a space with no model among them is refused as broken
PROBE_CONFIGURATIONS = 8
RETURNED = "returned "  # begins a failed trial's error when the factory or objective returned, not raised


@dataclass
class SearchOptions:
    # finished (trained, skipped or repeated) trials wanted in the study, across all workers and resumes; a failed
    # trial is not one: another runs in its place, until FAILURES_IN_A_ROW fail one after another
    trials: int = DEFAULT_TRIALS
    constraints: list[Constraint] = field(default_factory=list)
    confidence: float | None = None  # None: budgets hold for the point prediction
    batch_size: int = 1
    sampler: str = "tpe"
    direction: str = "maximize"  # of the objective's score
    seed: int | None = None
    storage: str | None = None  # journal file path or database URL; None keeps the study in memory
    study_name: str | None = None
    constraint_aware: bool = True  # False: train everything (the baseline HyperPower compares against)
    timeout_s: float | None = None


@dataclass
class TrialRecord:
    number: int
    state: str  # "trained", "skipped", "repeated" (the configuration of an earlier trained trial, whose score it
    # takes without training again), "failed" (the factory or objective gave no model or score), "interrupted"
    # (stopped by Ctrl-C or SIGTERM: never resumed, another trial runs in its place), or "unfinished" (still
    # running elsewhere, or left running by a worker that was killed)
    params: dict
    metrics: dict  # predicted point values and analytic counts
    checked: dict  # constraint text -> the value the budget was held against
    feasible: bool | None
    score: float | None
    predict_s: float | None
    train_s: float | None
    finished_s: float | None  # seconds from the study's first trial start to this trial's end
    error: str | None = None  # a failed trial's exception, first line: "RuntimeError: out of memory", or
    # what came back instead of a model or a score: "returned nan, not a finite score"
    failed_in: str | None = None  # a failed trial's "factory" or "objective"
    intervals: dict = field(default_factory=dict)  # predicted metric -> (low, high), at the study's confidence
    # or, where the budgets were held against the point prediction, at DEFAULT_CONFIDENCE
    repeats: int | None = None  # a repeated trial's earlier trial, of the same configuration

    @property
    def trained(self) -> bool:
        return self.state == "trained"

    @property
    def failure(self) -> str:
        """A failed trial's reason as a clause, e.g. 'the objective raised RuntimeError: out of memory'."""
        how = self.error if self.error.startswith(RETURNED) else f"raised {self.error}"
        return f"the {self.failed_in} {how}"

    def to_dict(self) -> dict:
        return {
            "number": self.number,
            "state": self.state,
            "params": self.params,
            "metrics": self.metrics,
            "checked": self.checked,
            "intervals": self.intervals,
            "feasible": self.feasible,
            "score": self.score,
            "predict_s": self.predict_s,
            "train_s": self.train_s,
            "finished_s": self.finished_s,
            "error": self.error,
            "failed_in": self.failed_in,
            "repeats": self.repeats,
        }


@dataclass
class SearchResult:
    study_name: str
    space_name: str
    objective_ref: str
    constraints: list[Constraint]
    confidence: float | None
    batch_size: int
    sampler: str
    direction: str
    constraint_aware: bool
    pareto_metrics: list[str]
    records: list[TrialRecord]
    storage: str | None = None  # where the study is kept, without a password; None: in memory only
    trials_wanted: int | None = None  # SearchOptions.trials
    stopped_after_failures: int | None = None  # FAILURES_IN_A_ROW where that many failed trials stopped this run
    seed: int | None = None  # SearchOptions.seed: with the space's definition and the settings, the study again
    space_definition: dict | None = None  # SearchSpace.definition()
    study_started: str | None = None  # its first trial's start (ISO 8601, UTC), over every resume; None: no trial

    @property
    def finished(self) -> list[TrialRecord]:
        """Trained, repeated and skipped trials: the ones `SearchOptions.trials` counts."""
        return [r for r in self.records if r.state in ("trained", "repeated", "skipped")]

    @property
    def repeated(self) -> int:
        """Trials that drew an earlier trained trial's configuration and took its score, trained no more."""
        return sum(r.state == "repeated" for r in self.records)

    @property
    def failed(self) -> int:
        """Trials whose factory or objective failed: not counted as finished, so another trial ran in each one's
        place."""
        return sum(r.state == "failed" for r in self.records)

    @property
    def skipped_trainings(self) -> int:
        return sum(r.state == "skipped" for r in self.records)

    @property
    def wasted_trainings(self) -> int:
        """Trainings spent on configurations that break a budget (only the unaware baseline has any)."""
        return sum(r.trained and not r.feasible for r in self.records)

    @property
    def unfinished(self) -> int:
        """Trials still running: elsewhere, or forever where their worker was killed."""
        return sum(r.state == "unfinished" for r in self.records)

    @property
    def interrupted(self) -> int:
        """Trials stopped by Ctrl-C or SIGTERM: closed, so they stay so once the study has gone on without them."""
        return sum(r.state == "interrupted" for r in self.records)

    def feasible_trained(self) -> list[TrialRecord]:
        """Feasible trained trials, one per configuration: a study run before repeats were told apart (or two
        workers that drew one configuration at once) may have trained one twice, and keeps its best score."""
        sign = 1 if self.direction == "maximize" else -1
        kept: dict[str, TrialRecord] = {}
        for r in self.records:
            if r.trained and r.feasible and r.score is not None:
                key = json.dumps(r.params, sort_keys=True, default=str)
                if key not in kept or (sign * r.score, -r.number) > (sign * kept[key].score, -kept[key].number):
                    kept[key] = r
        return sorted(kept.values(), key=lambda r: r.number)

    @property
    def best(self) -> TrialRecord | None:
        candidates = self.feasible_trained()
        if not candidates:
            return None
        sign = 1 if self.direction == "maximize" else -1
        return max(candidates, key=lambda r: (sign * r.score, -r.number))

    def pareto_front(self) -> list[TrialRecord]:
        """Feasible trained trials that no other beats on score and on every predicted cost."""
        sign = 1 if self.direction == "maximize" else -1
        points = [(r, [-sign * r.score] + [r.metrics[m] for m in self.pareto_metrics]) for r in self.feasible_trained()]
        front = [record for record, values in points if not any(_dominates(other, values) for _, other in points)]
        return sorted(front, key=lambda r: [r.metrics[m] for m in self.pareto_metrics] + [r.number])

    def to_dict(self) -> dict:
        best = self.best
        return {
            "study_name": self.study_name,
            "space": self.space_name,
            "objective": self.objective_ref,
            "constraints": [c.text for c in self.constraints],
            "confidence": self.confidence,
            "interval_confidence": self.confidence or DEFAULT_CONFIDENCE,  # of each trial's intervals
            "batch_size": self.batch_size,
            "sampler": self.sampler,
            "direction": self.direction,
            "constraint_aware": self.constraint_aware,
            "storage": self.storage,
            "trials_wanted": self.trials_wanted,
            "trials_finished": len(self.finished),
            "trainings": sum(r.trained for r in self.records),
            "skipped_trainings": self.skipped_trainings,
            "repeated_trials": self.repeated,
            "wasted_trainings": self.wasted_trainings,
            "unfinished_trials": self.unfinished,
            "interrupted_trials": self.interrupted,
            "failed_trials": self.failed,
            "stopped_after_failures_in_a_row": self.stopped_after_failures,
            "seed": self.seed,
            "space_definition": self.space_definition,
            "best": best.to_dict() if best else None,
            "pareto_metrics": self.pareto_metrics,
            "pareto_front": [r.to_dict() for r in self.pareto_front()],
            "trials": [r.to_dict() for r in self.records],
        }


class SearchInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM stopped the study; `result` holds every trial that finished before it."""

    def __init__(self, result: SearchResult, signum: int = signal.SIGINT) -> None:
        super().__init__()
        self.result = result
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


class SearchStopped(Exception):
    """An error stopped the study; `result` holds every trial that finished before it, `error` is the error."""

    def __init__(self, result: SearchResult, error: Exception) -> None:
        super().__init__(str(error))
        self.result = result
        self.error = error


def _dominates(a: list[float], b: list[float]) -> bool:
    return all(x <= y for x, y in zip(a, b)) and any(x < y for x, y in zip(a, b))


class CostEstimator:
    """Predicted and analytic cost of one model, and the budgets checked against it."""

    def __init__(
        self, predictor, space: SearchSpace, constraints: list[Constraint], confidence: float | None, batch_size: int
    ):
        self.predictor = predictor
        self.space = space
        self.constraints = constraints
        self.confidence = confidence
        self.batch_size = batch_size
        self.needs_layers = any(c.metric in ("flops", "memory_mb") for c in constraints)

    def estimate(self, module, params: dict) -> tuple[dict, dict, dict]:
        """-> (metrics, intervals, checked value per constraint)."""
        from hwprof.models.spec import ModelSpec

        spec = ModelSpec(f"{self.space.name}:{_params_text(params)}", module, self.space.input_shape, self.space.name)
        dtype = weights_dtype(module, spec.name)
        prediction = self.predictor.predict(
            spec,
            batch_size=self.batch_size,
            input_shape=self.space.input_shape,
            confidence=self.confidence or DEFAULT_CONFIDENCE,
            **({} if dtype == "float32" else {"dtype": dtype}),  # a predictor of the user's may take no dtype
        )
        metrics = {m: float(v) for m, v in prediction.total.items() if m in PREDICTED_METRICS}
        intervals = {
            m: (float(low), float(high))
            for m, (low, high) in (prediction.interval or {}).items()
            if m in PREDICTED_METRICS
        }
        from hwprof.models.layers import module_weights

        parameters, buffers = module_weights(module)
        metrics["params"] = float(sum(p.numel() for p in parameters))
        # 1.0 where the candidate lies outside the predictor's training data: its interval was widened, or it has
        # none, running in a dtype or layout the predictor has no data in
        novelty = prediction.novelty
        metrics["outside_training_data"] = float(bool(novelty.get("outside") or novelty.get("untrained_setting")))
        if self.needs_layers:
            # whole tables, each once: a layer's weight_bytes is what it reads, and a shared one is read twice
            weight_bytes = sum(t.numel() * t.element_size() for t in [*parameters, *buffers])
            metrics.update(_layer_metrics(module, self.space.input_shape, self.batch_size, weight_bytes, dtype))
        checked = {}
        for constraint in self.constraints:
            if constraint.metric not in metrics:
                budgetable = [m for m in METRICS if m in metrics or m in ANALYTIC_METRICS]  # counted ones always
                raise HwprofError(
                    f"the predictor gives no {constraint.metric} (budgets can be held on {', '.join(budgetable)}): "
                    f"fit it with that target or drop the constraint {constraint.text!r}"
                )
            interval = intervals.get(constraint.metric) if (self.confidence and constraint.is_predicted) else None
            untrained = prediction.novelty.get("untrained_setting")
            if self.confidence and constraint.is_predicted and untrained:
                # its interval is (0, inf): every budget would be held against an infinite cost and skipped
                raise HwprofError(
                    f"{option('confidence')} holds each budget against a predicted interval, and candidates such as "
                    f"{spec.name} get {self._untrained_note(spec, dtype, untrained)}, or drop {option('confidence')} "
                    "to hold the budgets against the point prediction"
                )
            if self.confidence and constraint.is_predicted and interval is None:
                raise HwprofError(
                    f"the predictor gives no interval for {constraint.metric}: drop {option('confidence')}"
                )
            checked[constraint.text] = constraint.checked_value(metrics[constraint.metric], interval)
        return metrics, intervals, checked

    def _untrained_note(self, spec, dtype: str, untrained: str) -> str:
        """The predictor's note for a candidate in a setting it has no data in. A candidate whose factory makes
        only some of its layers float16 or bfloat16 runs in float32 with them kept: the note names those layers and
        asks for data measured as the model is, since --dtype would convert it all and give no data in that mix."""
        how = {} if dtype == "float32" else {"dtype": dtype}
        features = self.predictor.features(spec, self.batch_size, self.space.input_shape, **how)
        return self.predictor.untrained_note(untrained, self.predictor._partial_dtypes(features, 0, untrained))


def weights_dtype(module, label: str) -> str:
    """The dtype a candidate runs in, as its factory built it: float32 where any float weight is (or none is),
    else its weights' one half dtype. A search has no --dtype: a bfloat16 family is predicted, counted and
    verified in bfloat16, as it will run."""
    from hwprof.schema import COMPUTE_DTYPES

    held = sorted({str(p.dtype).removeprefix("torch.") for p in module.parameters() if p.is_floating_point()})
    if not held or "float32" in held:
        return "float32"
    if len(held) == 1 and held[0] in COMPUTE_DTYPES:
        return held[0]
    raise HwprofError(
        f"{label} holds {', '.join(held)} weights: search predicts each candidate in its weights' dtype, which must "
        f"be one of {', '.join(COMPUTE_DTYPES)}; convert the model to one of them in the factory (model.float())"
    )


def _layer_metrics(module, input_shape, batch_size, weight_bytes: int, dtype: str = "float32") -> dict:
    """FLOPs and memory (the candidate's `weight_bytes`, each weight once, plus its largest layer's inputs,
    output and working memory) from the candidate's layers, traced on meta tensors in `dtype`: no forward pass."""
    from hwprof.models.tracing import trace_layers

    layers = trace_layers(module, input_shape, batch_size, label=type(module).__name__, dtype=dtype).layers
    largest_activation = max(
        (layer.input_bytes + layer.output_bytes + _attention_scores_bytes(layer) for layer in layers), default=0
    )
    return {
        "flops": float(sum(layer.flops for layer in layers)),
        "memory_mb": (weight_bytes + largest_activation) / 1e6,
    }


FLOAT_MASKS = ("float16", "bfloat16", "float32", "float64")  # a float attention mask keeps MHA off its fused kernel


def _attention_scores_bytes(layer) -> int:
    """The batch x heads x L x S score matrices an nn.MultiheadAttention layer builds inside itself, which its
    input and output leave out (24x the counted memory at L=2048, 32 heads). Measured on the CPU: its fused kernel
    (self-attention, batch_first, as TransformerEncoderLayer calls it) keeps one; the unfused path keeps the scores
    and their softmax where it returns the weights (need_weights, the default), and none where it does not, since
    it then calls scaled_dot_product_attention, whose fused kernels build no score matrix (nor does that layer)."""
    config = layer.config
    shapes, output = config.get("input_shapes") or [], config.get("output_shape")
    if layer.op != "multiheadattention" or len(shapes) < 2 or not output:
        return 0
    query, key = shapes[0], shapes[1]
    if len(query) == 2:  # unbatched (L, E)
        batch, target_len, source_len = 1, query[0], key[0]
    elif config.get("batch_first"):
        batch, target_len, source_len = query[0], query[1], key[1]
    else:
        batch, target_len, source_len = query[1], query[0], key[0]
    embed = config.get("embed_dim")
    fused = (
        len(query) == 3
        and config.get("batch_first")
        and config.get("repeated_inputs", 0) >= 2  # query, key and value are one tensor
        and config.get("num_heads", 1) % 2 == 0
        and config.get("bias") is not False
        and config.get("bias_k") is None
        and config.get("bias_v") is None
        and not config.get("add_zero_attn")
        and config.get("kdim") == config.get("vdim") == embed
        and not any(dtype in FLOAT_MASKS for dtype in (config.get("masks") or {}).values())
    )
    import torch

    from hwprof.models.layers import attention_fastpath_enabled

    fused = fused and attention_fastpath_enabled()  # as layers tells it (a torch without the switch has it on)
    need_weights = (config.get("kwargs") or {}).get("need_weights", True)
    matrices = 1 if fused else 2 if need_weights else 0

    element_bytes = torch.empty(0, dtype=getattr(torch, config.get("dtype", "float32"))).element_size()
    return matrices * batch * config.get("num_heads", 1) * target_len * source_len * element_bytes


def _params_text(params: dict) -> str:
    return ",".join(f"{k}={v}" for k, v in params.items())


def open_storage(text: str | None):
    """None -> in memory; a URL -> a database (RDB); anything else -> a journal file."""
    if text is None:
        return None
    import optuna

    if "://" in text:
        try:
            with warnings.catch_warnings():  # heartbeats are marked experimental; they fail dead workers' trials
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                return optuna.storages.RDBStorage(_database_url(text), heartbeat_interval=30, grace_period=120)
        except ImportError as missing:
            raise HwprofError(
                f"storage {_redact(text)} needs a database driver that is not installed: {_driver_hint(missing)}"
            ) from None
        except Exception as error:  # sqlalchemy reports unreachable servers, bad URLs, refused logins
            raise HwprofError(f"cannot open storage {_redact(text)}: {error_text(error)}") from None
    from optuna.storages.journal import JournalFileBackend

    try:
        backend = JournalFileBackend(text, lock_obj=_journal_lock(text))  # creates the file where there is none
        _check_journal(text)
        return optuna.storages.JournalStorage(backend)  # replays the journal
    except OSError as error:
        raise HwprofError(f"cannot open journal file {text!r}: {error.strerror or error}") from None
    except HwprofError:
        raise
    except Exception as error:  # entries that parse but do not replay
        raise _not_a_journal(text, f"replaying it fails with {error_line(error)}") from None


def _journal_lock(path: str):
    """Optuna's lock for appending to a journal: a symbolic link where processes may make one, an exclusively
    created file on Windows, where making a link needs administrator rights (every search on a journal there
    failed with 'A required privilege is not held by the client'). Every process sharing a journal runs on one
    kind of system, so all take the same kind of lock."""
    from optuna.storages.journal import JournalFileOpenLock, JournalFileSymlinkLock

    return (JournalFileOpenLock if sys.platform == "win32" else JournalFileSymlinkLock)(path)


def _check_journal(path: str) -> None:
    """Refuse a journal Optuna could not replay before anything is appended to it (Optuna reads a bad last
    line as one still being written, and fails only once another entry follows it).

    The file is read under Optuna's own lock, so a writer in another process is never caught halfway."""
    lock = _journal_lock(path)  # the lock JournalFileBackend takes to append
    lock.acquire()
    try:
        with open(path, "rb") as handle:
            data = handle.read()
        whole = data[: data.rfind(b"\n") + 1]  # the entries written to their end
        for number, line in enumerate(whole.split(b"\n")[:-1], start=1):
            try:
                entry = json.loads(line)
            except ValueError:  # JSONDecodeError, UnicodeDecodeError
                raise _not_a_journal(path, f"line {number} is not JSON") from None
            if not isinstance(entry, dict) or "op_code" not in entry:
                raise _not_a_journal(path, f"line {number} is not a journal entry")
        torn = data[len(whole) :]
        if torn and not torn.startswith(b'{"op_code"'):
            raise _not_a_journal(path, "it ends halfway through something that is not a journal entry")
        if torn:  # a search killed while writing it (we hold the writers' lock): the entry holds no whole trial
            os.truncate(path, len(whole))
            warn(
                f"{path} ended halfway through an entry (a search stopped while writing it): its {len(torn)} "
                "bytes were dropped, and the study resumes from the entries before it"
            )
    finally:
        lock.release()


def _not_a_journal(path: str, why: str) -> HwprofError:
    return HwprofError(
        f"{path} is not a readable Optuna journal ({why}): move it away or give another {option('storage')}"
    )


# a database driver's module -> what pip installs it as, where the two differ (psycopg 3 is hwprof's extra)
DRIVER_PACKAGES = {"psycopg": "'hwprof[postgres]'", "psycopg2": "psycopg2-binary", "MySQLdb": "mysqlclient"}


def _driver_hint(missing: ImportError) -> str:
    """The pip command for the driver module SQLAlchemy could not import (psycopg2 for a
    postgresql+psycopg2:// URL is not the psycopg 3 that hwprof's postgres extra brings)."""
    cause: BaseException | None = missing  # Optuna re-raises SQLAlchemy's ImportError as its own, without a name
    while cause is not None and not getattr(cause, "name", None):
        cause = cause.__cause__ or cause.__context__
    module = (getattr(cause, "name", None) or "").split(".")[0]
    if not module:
        return f"install the driver the URL names ({error_text(missing)})"
    return f"pip install {DRIVER_PACKAGES.get(module, module)}"


def _database_url(url: str) -> str:
    """A bare postgresql:// URL names its driver: SQLAlchemy 2.0 reads it as psycopg2 and 2.1 as psycopg 3, so
    the postgres extra (psycopg 3) failed on 2.0 with "pip install psycopg2-binary". psycopg 3 where it is
    installed (postgresql+psycopg://, which both read alike), psycopg2 where only that is."""
    import importlib.util

    scheme, _, rest = url.partition("://")
    if scheme in ("postgres", "postgresql"):
        if importlib.util.find_spec("psycopg") is None and importlib.util.find_spec("psycopg2") is not None:
            return f"postgresql+psycopg2://{rest}"
        return f"postgresql+psycopg://{rest}"
    return url


def _redact(url: str) -> str:
    """A URL without its password, for messages."""
    scheme, _, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at or ":" not in credentials:
        return url
    return f"{scheme}://{credentials.split(':', 1)[0]}:***@{host}"


def run_search(
    space: SearchSpace,
    predictor,
    objective: Callable[[Any, dict], float],
    objective_ref: str,
    options: SearchOptions,
    on_trial: Callable[[TrialRecord], None] | None = None,
) -> SearchResult:
    """Run (or resume) the study until it holds `options.trials` finished trials: a failed trial is replaced by
    another, until FAILURES_IN_A_ROW of this run's trials fail one after another (`stopped_after_failures`).

    Ctrl-C (or SIGTERM, where the caller turns it into a KeyboardInterrupt with a `signum`) raises
    SearchInterrupted, which carries the result so far; a journal or database keeps the study to resume."""
    import optuna

    check_options(options)
    estimator = CostEstimator(predictor, space, options.constraints, options.confidence, options.batch_size)
    probe_metrics, _, probe_checked = _probe(space, estimator, options.seed)
    _check_bounded_intervals(predictor, options, probe_checked)
    pareto_metrics = [m for m in PARETO_METRICS if m in probe_metrics]
    directions = [options.direction] + (["minimize"] * len(pareto_metrics) if options.sampler == "nsga2" else [])
    study_name = study_name_for(space, options)
    settings = {
        "space": space.name,
        "space_fingerprint": space.fingerprint(),  # params, fixed, input_shape and factory
        "constraints": [c.text for c in options.constraints],
        "budgets_exact": True,  # constraints as budget_text writes them; an older hwprof rounded to 6 digits
        "confidence": options.confidence,
        "batch_size": options.batch_size,
        "constraint_aware": options.constraint_aware,
        "predictor": predictor_label(predictor),  # earlier trials' costs were predicted by it
        "objective": objective_ref,
    }
    try:
        study = _open_study(study_name, options, directions, settings, _Unrecorded(space, estimator))
    except OSError as error:  # the journal opened, but a full disk or a size limit refuses its first entry
        raise _unwritable_storage(options.storage, error) from None

    def trial_function(trial):
        try:
            return evaluate(trial)
        except KeyboardInterrupt:  # Optuna closes the trial as failed; the record shows it interrupted
            trial.set_user_attr("interrupted", True)
            raise

    def evaluate(trial):
        params = space.suggest(trial)
        started = time.perf_counter()
        try:
            module = space.build(params)
        except FactoryFailed as failure:
            trial.set_user_attr("failed_in", "factory")
            trial.set_user_attr("error", failure.reason)
            raise optuna.TrialPruned("the factory failed") from failure
        metrics, intervals, checked = estimator.estimate(module, params)
        predict_s = time.perf_counter() - started
        violations = {c.text: c.violation(checked[c.text]) for c in options.constraints}
        feasible = all(v <= 0 for v in violations.values())
        trial.set_user_attr("metrics", metrics)
        trial.set_user_attr("intervals", {m: list(v) for m, v in intervals.items()})
        trial.set_user_attr("checked", checked)
        trial.set_user_attr("feasible", feasible)
        trial.set_user_attr("predict_s", predict_s)
        if options.constraint_aware:
            for text, violation in violations.items():
                trial.set_constraint(text, violation)
            if not feasible:
                raise optuna.TrialPruned("predicted to break a budget: not trained")
        earlier = _earlier_training(trial.study, params)
        if earlier is not None:  # the same configuration, trained before: its score, without a training
            trial.set_user_attr("repeats", earlier.number)
            score = earlier.user_attrs["score"]
        else:
            score = train(module, params, trial)
        trial.set_user_attr("score", score)
        if options.sampler == "nsga2":
            return [score] + [metrics[m] for m in pareto_metrics]
        return score

    def train(module, params: dict, trial) -> float:
        started = time.perf_counter()
        try:
            score = _call_objective(objective, objective_ref, module, params)
        except (_ObjectiveFailed, HwprofError) as failure:  # failed: the study goes on, or stops (an error)
            trial.set_user_attr("train_s", time.perf_counter() - started)
            trial.set_user_attr("failed_in", "objective")
            trial.set_user_attr("error", str(failure))
            if isinstance(failure, HwprofError):
                raise
            raise optuna.TrialPruned("the objective failed") from failure
        trial.set_user_attr("train_s", time.perf_counter() - started)
        return score

    stop = _StopRule(options.trials)  # not n_trials, which would count failed trials as well
    callbacks = [stop]
    if on_trial is not None:
        run_started = datetime.datetime.now()
        callbacks.append(lambda study_, frozen: on_trial(_record(frozen, run_started)))
    remaining = options.trials - _finished_count(study)

    def result() -> SearchResult:
        return _result(study, space, objective_ref, options, pareto_metrics, stop.stopped_after_failures)

    if remaining > 0:
        try:
            with _failed_trials_reported_here():
                study.optimize(
                    trial_function,
                    timeout=options.timeout_s,
                    callbacks=callbacks,
                    gc_after_trial=False,
                )
        except KeyboardInterrupt as interrupt:
            raise SearchInterrupted(result(), getattr(interrupt, "signum", signal.SIGINT)) from interrupt
        except Exception as error:  # the trials finished so far are kept for the caller to write
            written = _os_error_under(error)
            if written is not None:  # Optuna's own error (an AssertionError) hides the storage's failed write
                error = _unwritable_storage(options.storage, written)
            raise SearchStopped(result(), error) from error
    return result()


def _probe(space: SearchSpace, estimator: CostEstimator, seed: int | None) -> tuple[dict, dict, dict]:
    """The cost of the first configuration that builds, which tells the study its cost axes and checks the
    predictor's intervals before any trial: every parameter's first value, else a few drawn at random (the same
    ones for one seed). A factory that rejects some configurations fails their trials only; a space none of
    whose tried configurations builds is refused, with the first one's failure."""
    first_failure, tried = None, 0
    for params in _probe_configurations(space, seed):
        tried += 1
        try:
            module = space.build(params)
        except FactoryFailed as failure:
            first_failure = first_failure or failure
            continue
        return estimator.estimate(module, params)
    others = f", and so did the {tried - 1} other configuration{'s' * (tried != 2)} tried" if tried > 1 else ""
    raise HwprofError(f"{first_failure}{others}: no trial could build a model; fix the factory or the space")


def _probe_configurations(space: SearchSpace, seed: int | None):
    """Every parameter's first value, then up to PROBE_CONFIGURATIONS others drawn at random from the space."""
    first = space.first_params()
    yield first
    seen = [first]
    rng = random.Random(0 if seed is None else seed)
    for _ in range(PROBE_CONFIGURATIONS):
        params = space.draw_params(rng)
        if params not in seen:
            seen.append(params)
            yield params


def _earlier_training(study, params: dict):
    """The study's first completed trial of this configuration, whose score a repeat of it takes: a sampler
    draws a configuration again, and training it again would cost a training for the same answer."""
    from optuna.trial import TrialState

    for earlier in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        if earlier.params == params and "score" in earlier.user_attrs:
            return earlier
    return None


def _os_error_under(error: BaseException) -> OSError | None:
    """The OSError an exception was raised from or while handling, if any: a trial's own failures (factory,
    objective) are caught inside it, so one that reaches the study is its storage's. A standard output that
    takes no more lines (a reader gone, a full disk) is not: its BrokenPipeError, or the error hwprof worded it
    as, is the caller's to say, as is any error hwprof worded itself."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, (BrokenPipeError, HwprofError)):
            return None
        if isinstance(error, OSError):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None


def _unwritable_storage(storage: str | None, error: OSError) -> HwprofError:
    where = _redact(storage) if storage else "memory"
    return HwprofError(
        f"cannot write the study to {where}: {error.strerror or error}; the trials written before it are kept there: "
        "free space (or raise the file-size limit), then run the same command to resume"
    )


class _StopRule:
    """An Optuna callback that stops this worker once the study holds `trials` finished trials (every worker
    sharing it stops so; a few in flight may finish past it), or once FAILURES_IN_A_ROW of this run's trials
    have failed one after another (a trained or skipped trial starts that count again; a repeat, which calls no
    objective, leaves it as it was)."""

    def __init__(self, trials: int) -> None:
        self.trials = trials
        self.failures_in_a_row = 0
        self.stopped_after_failures: int | None = None

    def __call__(self, study, frozen) -> None:
        if "repeats" not in frozen.user_attrs:  # a repeat trained nothing, so it shows nothing of the objective
            self.failures_in_a_row = self.failures_in_a_row + 1 if "error" in frozen.user_attrs else 0
        if self.failures_in_a_row >= FAILURES_IN_A_ROW:
            self.stopped_after_failures = self.failures_in_a_row
            study.stop()
        elif _finished_count(study) >= self.trials:
            study.stop()


def _finished_count(study) -> int:
    """Trained and skipped trials in the study: the ones `SearchOptions.trials` counts. A failed trial is closed
    as pruned as well (older studies closed it as failed), and told apart by its error."""
    from optuna.trial import TrialState

    closed = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))
    return sum("error" not in t.user_attrs for t in closed)


def study_name_for(space: SearchSpace, options: SearchOptions) -> str:
    return options.study_name or f"hwprof-{space.name}"


def storage_label(storage: str | None) -> str | None:
    """How search.json names the study's storage: without a password, so the file can be shared."""
    return _redact(storage) if storage else None


def check_options(options: SearchOptions) -> None:
    """Every option checked before the predictor is loaded or a trial runs: a typo costs no training."""
    if options.trials < 1:
        raise HwprofError(f"{option('trials')} must be at least 1")
    if options.sampler not in SAMPLERS:
        raise HwprofError(f"unknown sampler {options.sampler!r}: use {' or '.join(SAMPLERS)}")
    if options.direction not in ("maximize", "minimize"):
        raise HwprofError(f"direction must be maximize or minimize, not {options.direction!r}")
    if options.confidence is not None and not 0 < options.confidence < 1:
        raise HwprofError(
            f"{option('confidence')} must lie strictly between 0 and 1, e.g. 0.9, not {options.confidence}"
        )
    if options.batch_size < 1:
        raise HwprofError(f"{option('batch_size')} must be at least 1")
    check_satisfiable(options.constraints)
    if options.seed is not None and not 0 <= options.seed <= SEED_LIMIT:
        raise HwprofError(f"{option('seed', options.seed)}: give a seed from 0 to {SEED_LIMIT}")
    if options.timeout_s is not None and not options.timeout_s > 0:  # NaN fails too
        raise HwprofError(
            f"a timeout of {options.timeout_s:g} seconds leaves no time for any trial: give a positive number of seconds"
        )


def check_storage(text: str | None) -> None:
    """Open the storage before the demo measures, a predictor loads or a trial trains, so a bad one costs no
    minute; a journal not there yet is only looked for a folder (it is created where the study opens, so a
    search refused for another reason leaves none behind). The command line checks it with its options;
    run_search opens it when the study starts."""
    if text is None:
        return
    if "://" in text or os.path.lexists(text):
        open_storage(text)
        return
    folder = os.path.dirname(text) or "."
    if not os.path.isdir(folder):
        raise HwprofError(f"cannot open journal file {text!r}: the folder {folder} does not exist")


def _check_bounded_intervals(predictor, options: SearchOptions, checked: dict) -> None:
    """With a confidence level, refuse a predictor whose intervals are unbounded before any trial: every
    candidate would be held against an infinite cost, skipped, and the search would find nothing."""
    if options.confidence is None:
        return
    from hwprof.predictor.intervals import missing_interval

    for constraint in options.constraints:
        if constraint.is_predicted and not math.isfinite(checked[constraint.text]):
            why, fix = missing_interval((getattr(predictor, "doc", None) or {}).get("cv"))
            raise HwprofError(
                f"the predictor gives no bounded {constraint.metric} interval at {given_percent(options.confidence)} "
                f"confidence, because {why}: drop {option('confidence')}, or {fix} to calibrate its intervals"
            )


LATER_SETTINGS = ("space_fingerprint", "predictor", "objective")  # settings older studies did not record


def predictor_label(predictor) -> str | None:
    """The predictor file's board, date and a digest of its content: a refit, or another predictor, differs."""
    doc = getattr(predictor, "doc", None)
    if not isinstance(doc, dict):
        return None
    digest = hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()[:12]
    return f"{doc.get('device_name')}, fitted {doc.get('created', 'at an unrecorded time')}, {digest}"


def _open_study(study_name: str, options: SearchOptions, directions: list[str], settings: dict, unrecorded_check):
    import optuna

    storage = open_storage(options.storage)
    study = optuna.create_study(
        storage=storage, sampler=_sampler(options), study_name=study_name, directions=directions, load_if_exists=True
    )
    earlier_trials = len(study.get_trials(deepcopy=False))
    if earlier_trials:  # resumed: seeded as before, it would draw the configurations its first trials drew again
        study.sampler = _sampler(options, earlier_trials)
    where = _redact(options.storage) if options.storage else "memory"  # no PostgreSQL password in messages
    stored = study.user_attrs.get("settings")
    rounded = stored is not None and not stored.get("budgets_exact")  # budgets written by an older hwprof
    if rounded:
        stored = {**stored, "budgets_exact": True}  # compared by _same_budgets, which knows their form
    if stored is not None and _same_budgets(stored.get("constraints"), options.constraints, rounded):
        # before the settings recorded later are checked: there an equal budget must read as equal
        stored = {**stored, "constraints": settings["constraints"]}
    unrecorded = [key for key in LATER_SETTINGS if stored is not None and key not in stored]
    if unrecorded:  # a study from before these were kept: it resumes where its trials fit, and keeps them from now on
        stored = {**stored, **{key: settings[key] for key in unrecorded}}
        if stored == settings:  # otherwise refused below, naming the settings that differ
            if "space_fingerprint" in unrecorded and not unrecorded_check.same_space(study):
                raise _space_changed(settings, study_name, where)
            if "predictor" in unrecorded:
                unrecorded_check.same_predictor(study, study_name, where)
            study.set_user_attr("settings", settings)
    if stored is None:
        study.set_user_attr("settings", settings)
    elif stored.get("space_fingerprint") != settings["space_fingerprint"]:
        raise _space_changed(settings, study_name, where)
    elif stored != settings:
        changed = [k for k in settings if stored.get(k) != settings[k]]
        was = "; ".join(f"{k}: {stored.get(k)!r}" for k in changed)
        raise HwprofError(
            f"study {study_name!r} in {where} was run with other {', '.join(changed)} ({was}): resume with the "
            f"same ones or pick a new {option('study_name')}"
        )
    stored_directions = [d.name.lower() for d in study.directions]
    if stored_directions != directions:
        raise HwprofError(
            f"study {study_name!r} in {where} was run to {', '.join(stored_directions)}, not "
            f"{', '.join(directions)}: resume it with the same {option('sampler')} and {option('direction')}, "
            f"or pick a new {option('study_name')}"
        )
    return study


def _same_budgets(stored_texts, constraints: list[Constraint], rounded: bool) -> bool:
    """Whether a study's recorded budgets are these, compared as numbers (params<=2176009 is not params<=2176011).
    An older hwprof (`rounded`: its settings lack budgets_exact) wrote each budget to 6 significant digits
    (params<=2.17601e+06 for 2176009), so there a text in that form is also these budgets where these round to
    it: the command that ran the study resumes it."""
    if not isinstance(stored_texts, list) or len(stored_texts) != len(constraints):
        return False
    try:
        if [parse_constraint(text) for text in stored_texts] == constraints:
            return True
    except (HwprofError, TypeError):
        return False
    return rounded and stored_texts == [f"{c.metric}{c.operator}{float(c.budget):g}" for c in constraints]


def _space_changed(settings: dict, study_name: str, where: str) -> HwprofError:
    return HwprofError(
        f"space {settings['space']!r} has changed since study {study_name!r} in {where} was run "
        "(its params, fixed values, input_shape or factory differ): "
        f"pick a new {option('study_name')} for the changed space, or resume with the space as it was"
    )


class _Unrecorded:
    """What a study from before its space fingerprint and predictor were recorded can still show: its trials'
    parameter ranges, and the costs predicted for them."""

    CHECKED_TRIALS = 3  # rebuilt and predicted again: enough to tell another predictor, and cheap

    def __init__(self, space: SearchSpace, estimator: CostEstimator) -> None:
        self.space, self.estimator = space, estimator

    def same_space(self, study) -> bool:
        """Whether every trial drew its parameters from this space's ranges (its fixed values, input shape and
        factory were never recorded)."""
        from optuna.trial import FixedTrial

        probe = FixedTrial(self.space.first_params())
        self.space.suggest(probe)
        return all(t.distributions == probe.distributions for t in study.get_trials(deepcopy=False) if t.params)

    def same_predictor(self, study, study_name: str, where: str) -> None:
        """Refuse unless this predictor predicts the costs stored with the study's first trials: another one
        would put trials predicted by two predictors on one Pareto front."""
        predicted = [t for t in study.get_trials(deepcopy=False) if t.user_attrs.get("metrics")]
        for trial in predicted[: self.CHECKED_TRIALS]:
            stored = trial.user_attrs["metrics"]
            metrics, _, _ = self.estimator.estimate(self.space.build(trial.params), trial.params)
            for metric in sorted(set(stored) & set(metrics)):
                if isinstance(stored[metric], (int, float)) and not math.isclose(
                    stored[metric], metrics[metric], rel_tol=1e-6
                ):
                    raise HwprofError(
                        f"study {study_name!r} in {where} was run before hwprof recorded its predictor, and this "
                        f"predictor predicts other costs for its trials ({metric} of trial {trial.number}: "
                        f"{stored[metric]:.4g} stored, {metrics[metric]:.4g} now): resume it with the predictor "
                        f"it was run with, or pick a new {option('study_name')}"
                    )


def _sampler(options: SearchOptions, earlier_trials: int = 0):
    """The study's sampler; resuming a study of `earlier_trials`, seeded with seed + earlier_trials, so that a
    resumed seeded study goes on to new configurations and is still reproducible."""
    import optuna

    seed = None if options.seed is None else (options.seed + earlier_trials) % (SEED_LIMIT + 1)
    if options.sampler == "nsga2":
        population = max(4, min(50, options.trials // 4))
        return optuna.samplers.NSGAIISampler(population_size=population, seed=seed)
    return optuna.samplers.TPESampler(seed=seed, n_startup_trials=TPE_STARTUP_TRIALS)


class _ObjectiveFailed(Exception):
    """The objective raised, or gave no finite score (a diverged training), for one configuration: that trial is
    failed, the study goes on."""


@contextlib.contextmanager
def _failed_trials_reported_here():
    """Keep Optuna's failed-trial warnings (each with its traceback) off the terminal while the study runs.

    Optuna's optimize loop warns only of failed trials, and each of those is raised to run_search's caller (a
    failed factory or objective closes its trial as pruned, with its `error`), so the warning would repeat it."""
    logger = logging.getLogger("optuna.study._optimize")

    def below_warning(record: logging.LogRecord) -> bool:
        return record.levelno < logging.WARNING

    logger.addFilter(below_warning)
    try:
        yield
    finally:
        logger.removeFilter(below_warning)


def _call_objective(objective, objective_ref: str, module, params: dict) -> float:
    try:
        score = objective(module, dict(params))
    except HwprofError:
        raise
    except Exception as error:  # the objective is the user's code: this trial fails, the study goes on
        raise _ObjectiveFailed(error_line(error)) from error
    except SystemExit as stop:  # a training script's argparse reads hwprof's own command line and exits
        raise HwprofError(
            f"objective {objective_ref} called sys.exit({stop.code!r}), as a training script's argparse does on "
            "hwprof's own arguments: give the function its settings as arguments instead"
        ) from None
    try:
        score = float(score)
    except (TypeError, ValueError):
        raise HwprofError(f"objective {objective_ref} returned {score!r}: it must return one number") from None
    if not math.isfinite(score):  # a diverged training: this trial fails, the study goes on
        raise _ObjectiveFailed(f"{RETURNED}{score}, not a finite score")
    return score


def _record(frozen, origin) -> TrialRecord:
    from optuna.trial import TrialState

    attrs = frozen.user_attrs
    if frozen.state in (TrialState.PRUNED, TrialState.FAIL) and "error" in attrs:  # pruned, or failed: older studies
        state = "failed"
    elif frozen.state == TrialState.COMPLETE:
        state = "repeated" if "repeats" in attrs else "trained"
    elif frozen.state == TrialState.PRUNED:  # otherwise only the budget check prunes
        state = "skipped"
    elif frozen.state == TrialState.FAIL:  # otherwise only an interrupt fails a trial that _result keeps
        state = "interrupted"
    else:
        state = "unfinished"
    finished_s = None
    if frozen.datetime_complete is not None and origin is not None:
        finished_s = (frozen.datetime_complete - origin).total_seconds()
    return TrialRecord(
        number=frozen.number,
        state=state,
        params=dict(frozen.params),
        metrics=attrs.get("metrics", {}),
        checked=attrs.get("checked", {}),
        feasible=attrs.get("feasible"),
        score=attrs.get("score"),
        predict_s=attrs.get("predict_s"),
        train_s=attrs.get("train_s"),
        finished_s=finished_s,
        error=attrs.get("error"),
        failed_in=attrs.get("failed_in", "objective") if state == "failed" else None,  # older studies: objective
        intervals={metric: tuple(bounds) for metric, bounds in attrs.get("intervals", {}).items()},
        repeats=attrs.get("repeats"),
    )


def _result(study, space, objective_ref, options, pareto_metrics, stopped_after_failures=None) -> SearchResult:
    from optuna.trial import TrialState

    trials = [
        t
        for t in study.get_trials(deepcopy=False)
        if t.state in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING)
        # a failed factory or objective, or a trial stopped by Ctrl-C; other failures were raised to the caller
        or (t.state == TrialState.FAIL and ("error" in t.user_attrs or "interrupted" in t.user_attrs))
    ]
    starts = [t.datetime_start for t in trials if t.datetime_start is not None]
    origin = min(starts) if starts else None
    return SearchResult(
        study_name=study.study_name,
        space_name=space.name,
        objective_ref=objective_ref,
        constraints=list(options.constraints),
        confidence=options.confidence,
        batch_size=options.batch_size,
        sampler=options.sampler,
        direction=options.direction,
        constraint_aware=options.constraint_aware,
        pareto_metrics=pareto_metrics,
        records=[_record(t, origin) for t in trials],
        storage=storage_label(options.storage),
        trials_wanted=options.trials,
        stopped_after_failures=stopped_after_failures,
        seed=options.seed,
        space_definition=space.definition(),
        study_started=None if origin is None else utc_text(origin),  # Optuna keeps the host's time, without a zone
    )
