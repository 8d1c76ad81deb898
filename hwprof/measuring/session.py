"""`hwprof.measure`: models in, a tidy latency (and power) table out.

For each (model, batch size) group, in random order: extract the layers,
time each unique layer configuration once (reused by every instance, across
models and groups) and the whole network, interleaved; write each row as soon
as its measurement finishes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import itertools
import json
import math
import numbers
import os
import random
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import torch
from torch.overrides import TorchFunctionMode

from hwprof.dataset import contended_measurements, contention_warning, measurements, run_status
from hwprof.drivers.base import NoSensor, PowerSensor, SensorUnavailable, sensor_notes
from hwprof.drivers.host import check_sysfs_root, cpu_quota, cpus_within_quota, parse_device, usable_cpus
from hwprof.errors import (
    HwprofError,
    each_call_warns_afresh,
    is_switch,
    option,
    shown,
    true_or_false,
    warn,
    whole_number,
    worded,
)
from hwprof.files import now_text
from hwprof.interrupts import signals_deferred
from hwprof.measuring.allocator import DEFAULT_POLICY, pin_allocator
from hwprof.measuring.cache import CACHE_MODES
from hwprof.measuring.energy import ENERGY_KEYS
from hwprof.measuring.execution import Execution
from hwprof.measuring.fit_sweep import DEFAULT_SWEEP_SHARE, SweepRecord, recorded_sweep
from hwprof.measuring.guest import own_torch_settings
from hwprof.measuring.processes import DEFAULT_PROCESSES
from hwprof.measuring.provenance import end_facts
from hwprof.measuring.runner import (
    OVERRUN_SHARE,
    Item,
    ItemFailed,
    Method,
    Result,
    Runner,
    check_threads,
    quota_below_threads,
)
from hwprof.models.inputs import (
    InputSpec,
    ModelInputs,
    check_module_weights,
    kept_mixed_note,
    mixed_weights_advice,
    mixes_in,
    parse_seq_lens,
    with_lazy_weights_made,
)
from hwprof.models.layers import Layer, module_weights, run_and_extract, run_failure
from hwprof.models.recall import tensors_in
from hwprof.models.spec import (
    ModelSpec,
    check_settings_apply,
    compiled_by_user,
    eager,
    file_digest,
    is_module_pair,
    model_file,
    module_name,
    own_module_file,
    own_modules,
    parse_batch_sizes,
    resolve_model,
)
from hwprof.models.tracing import for_run
from hwprof.progress import Progress, bytes_text, given_progress
from hwprof.samples import RawSamples
from hwprof.schema import ALL_COLUMNS, ALLOCATOR_POLICIES, CACHE_BEFORE_RECORDED, DEFAULT_CACHE_MODE, SWEEP_PREFIX

MEASUREMENT_COLUMNS = (
    "latency_ms",
    "latency_ms_ci_low",
    "latency_ms_ci_high",
    "latency_ms_std",
    "samples",
    "iterations",
    "stable",
    "measure_s",
    "other_cpu_share",
    "discarded_bursts",
    "processes",
    *ENERGY_KEYS,
    "cache",
)
CUDA_MIN_SAMPLE_S = 0.01  # a sample this long keeps the synchronisation's share of a CUDA timing under 0.1%


@dataclass(frozen=True)
class MeasureOptions:
    """How `measure` measures, stated once: the API's defaults are the CLI's."""

    batch_sizes: tuple[int, ...] = (1,)
    device: str = "cpu"
    precision: float = Method.precision  # target relative half-width of each median's 95% interval
    max_item_s: float = Method.max_item_s  # time budget per layer configuration or network
    threads: int | None = None  # intra-op threads; None keeps PyTorch's default
    power: str = "auto"  # auto, nvml, rapl, jetson or none
    tegrastats: str | None = None
    layers: bool = True  # False: whole networks only
    input_shape: tuple[int, ...] | None = None
    seed: int | None = None  # of the randomised measurement order
    allocator: str = DEFAULT_POLICY
    trace: str | None = None  # where to write every power sample
    max_other_share: float = Method.max_other_share  # bursts taken while others held more of the CPU are discarded
    processes: int = DEFAULT_PROCESSES  # fresh processes the measurement is repeated in and combined over
    inputs: Any = None  # NAME:DTYPE[SHAPE] strings, or example tensors (batch first); None: each model's own
    seq_lens: tuple[int, ...] = ()  # sequence lengths to sweep for models with one; (): each model's default
    dtype: str = "float32"  # weights and float inputs
    channels_last: bool = False  # 4-D tensors NHWC; a model with none runs, and is recorded, as it is
    compile: bool = False  # whole networks through torch.compile; layers stay eager
    hf_config: dict | None = None  # overrides of hf: models' configs, e.g. {"num_hidden_layers": 4}
    cache: str = DEFAULT_CACHE_MODE  # cold: rotate copies of a layer's buffers (measuring.cache); warm: reuse them
    sweep_share: float = DEFAULT_SWEEP_SHARE  # of the run's time, for a layer sweep of the networks' ops (fit_sweep)


@dataclass
class _MemoryWriter:
    """Stands in for a dataset file when the caller only wants the DataFrame: it keeps the rows, and the run's
    provenance as a file would hold it once the run finished."""

    provenance: dict
    rows: list[dict] = field(default_factory=list)

    @property
    def run_id(self) -> str:
        return self.provenance["run_id"]

    def existing_rows(self) -> pd.DataFrame:
        return pd.DataFrame(columns=list(ALL_COLUMNS))

    def write(self, rows: list[dict], samples=None) -> None:
        self.rows.extend(rows)

    def close(self, status: str = "complete") -> None:
        self.provenance.update(status=status, rows=len(self.rows), end_time=now_text(), **end_facts())


def resolve_device(text: str) -> torch.device:
    if "," in str(text):
        raise HwprofError(
            f"{option('device', text)}: measure() takes one device; the command `hwprof measure --device {text}` "
            "measures several in parallel, one shard each"
        )
    ref = parse_device(text)
    if ref.kind == "cpu":
        return torch.device("cpu")
    if not torch.cuda.is_available():
        from hwprof.measuring.provenance import no_cuda_reason

        raise HwprofError(no_cuda_reason(text))
    if ref.index >= torch.cuda.device_count():
        raise HwprofError(f"{option('device', text)}: only {torch.cuda.device_count()} CUDA device(s) are visible")
    return torch.device("cuda", ref.index)


def _number(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _path(value: object) -> bool:
    return isinstance(value, (str, os.PathLike))


# setting -> (does a value fit, what to give instead); the ranges are checked in measure()
SETTING_TYPES: dict[str, tuple[Callable[[object], bool], str]] = {
    "precision": (_number, "a fraction such as 0.02"),
    "max_item_s": (_number, "a number of seconds"),
    "max_other_share": (_number, "a share from 0 to 1 such as 0.1"),
    "sweep_share": (_number, "a share from 0 to below 1 such as 0.2"),
    "threads": (lambda v: v is None or whole_number(v), "a whole number of threads, or None"),
    "seed": (lambda v: v is None or whole_number(v), "a whole number, or None"),
    "layers": (is_switch, "True or False"),
    "channels_last": (is_switch, "True or False"),
    "compile": (is_switch, "True or False"),
    "input_shape": (
        lambda v: v is None or (isinstance(v, (tuple, list)) and all(whole_number(d) for d in v)),
        "a tuple of whole numbers such as (3, 224, 224), or None",
    ),
    "hf_config": (lambda v: v is None or isinstance(v, dict), "a dict such as {'num_hidden_layers': 4}, or None"),
    "trace": (lambda v: v is None or _path(v), "a path (str or os.PathLike), or None"),
    "tegrastats": (lambda v: v is None or _path(v), "a path (str or os.PathLike), or None"),
}


def _check_setting_types(options: MeasureOptions) -> MeasureOptions:
    """Refuse a setting of the wrong type (threads="1") in one sentence, before anything compares or uses it;
    the options with numpy's True and False as Python's, which the provenance's JSON holds."""
    for name, (fits, wanted) in SETTING_TYPES.items():
        value = getattr(options, name)
        if not fits(value):
            raise HwprofError(f"{option(name, shown(value))}: give {wanted}")
    switches = {name: bool(getattr(options, name)) for name, (fits, _) in SETTING_TYPES.items() if fits is is_switch}
    return dataclasses.replace(options, **switches)


@each_call_warns_afresh
def measure(
    models: str | ModelSpec | torch.nn.Module | Iterable[str | ModelSpec | torch.nn.Module],
    options: MeasureOptions | None = None,
    *,
    out: str | None = None,
    resume: bool = False,
    argv: list[str] | None = None,
    progress: Progress | None = None,
    **settings: Any,
) -> pd.DataFrame:
    """Measure models on one device and return the dataset as a DataFrame (also written to `out`).

    `models` is a list of names, spec strings, ModelSpecs or nn.Modules; one of them alone is a list of one.
    An nn.Module is left as it was given: converted for the run (dtype, layout, device), it is measured as a
    copy, and its training mode, its buffers' values and torch's thread count are restored afterwards. The host's autocast, default
    dtype and device, and random generators neither apply to the run nor are changed by it (measuring.guest).

    How to measure is `options` (a MeasureOptions), or its fields given by name: `measure(["resnet18"],
    batch_sizes=[1, 8])`. The allocator policy is applied to the whole calling process
    (hwprof.measuring.allocator)."""
    if isinstance(models, Iterable) and not isinstance(models, (str, torch.nn.Module)) and not is_module_pair(models):
        models = list(models)  # a generator is read once, here
    listed = models if isinstance(models, list) else [models]
    given = [_given_module(m) for m in listed if _given_module(m) is not None]
    modes = [(part, part.training) for module in given for part in module.modules()]
    buffers = _buffers_of(given)
    threads = torch.get_num_threads()
    progress = given_progress(progress)
    try:
        with own_torch_settings():
            frame = _measure(models, options, out=out, resume=resume, argv=argv, progress=progress, **settings)
        contended = contended_measurements(frame)
        if contended:
            progress.warn(contention_warning(contended))
        return frame
    finally:
        torch.set_num_threads(threads)
        for part, training in modes:
            part.training = training
        _put_back(buffers)


def _buffers_of(modules: list[torch.nn.Module]) -> list[tuple]:
    """Each buffer of the user's modules, with a copy of its values: a forward that updates one (a step counter,
    an EMA) ran hundreds of timed calls on the user's module, which is to be left as it was given. A lazy buffer
    has no values yet (measure makes them on a copy)."""
    from torch.nn.parameter import is_lazy

    return [
        (part, name, tensor, tensor.detach().clone())
        for module in modules
        for part in module.modules()
        for name, tensor in part._buffers.items()
        if tensor is not None and not is_lazy(tensor) and not tensor.is_meta  # a meta buffer holds no values
    ]


def _put_back(buffers: list[tuple]) -> None:
    """Each buffer the run replaced or changed, as it was; only those: a buffer of inference tensors (a module made
    under torch.inference_mode) or an expanded one takes no write, and needs none where nothing changed it."""
    failed = []
    for part, name, tensor, values in buffers:
        part._buffers[name] = tensor  # a forward that assigned a new tensor (self.ema = ...) is undone too
        try:
            if torch.equal(tensor, values):
                continue
            with torch.inference_mode() if tensor.is_inference() else torch.no_grad():
                tensor.copy_(values)
        except (RuntimeError, NotImplementedError):  # never in place of the error a run ended with
            failed.append(f"{type(part).__name__}.{name}")
    if failed:
        warn(
            f"the buffer(s) {', '.join(failed)} of the model given changed during the run and cannot be written "
            "back (expanded or shared memory): they hold what its timed calls left"
        )


def _given_module(model: Any) -> torch.nn.Module | None:
    """The user's nn.Module a model argument is, alone or in a (module, example_inputs) pair; None for the others."""
    if is_module_pair(model):
        return model[0]
    return model if isinstance(model, torch.nn.Module) else None


def _measured(model: Any, execution: Execution, device: torch.device) -> Any:
    """A model argument with its user's module replaced by the one this run measures (_measured_module)."""
    if is_module_pair(model):
        return (_measured_module(model[0], execution, device), model[1])
    return _measured_module(model, execution, device) if isinstance(model, torch.nn.Module) else model


def _measured_module(module: torch.nn.Module, execution: Execution, device: torch.device) -> torch.nn.Module:
    """A user's module as this run measures it: a copy where the run converts it (dtype, channels-last, another
    device), as .to converts in place, itself where it is converted already (tracing.for_run); refused where it
    holds weights of another dtype than the run's. It is checked under the name its rows get (module_name), as
    the model is checked again once built: a note on its weights (mostly bfloat16 at float32) is then one text,
    said once."""
    check_module_weights(module, execution.dtype, module_name(eager(module)), "measure")
    label = f"the {type(module).__name__} module"
    return for_run(module, execution.torch_dtype, execution.channels_last, device, label, "measure")


def _measure(
    models: Any,
    options: MeasureOptions | None,
    *,
    out: str | None,
    resume: bool,
    argv: list[str] | None,
    progress: Progress,
    **settings: Any,
) -> pd.DataFrame:
    check_sysfs_root()
    resume = true_or_false("resume", resume)
    if resume and out is None:
        raise HwprofError(f"{option('resume', True)} carries on the dataset file given as out=: give out=, or drop it")
    # before the models load (seconds): an output measure cannot write, or one that is no path (a DataFrame),
    # is refused at once, in one sentence
    if out is not None:
        from hwprof.dataset import check_dataset_output

        check_dataset_output(out, resume=resume)
    unknown = sorted(set(settings) - {f.name for f in dataclasses.fields(MeasureOptions)})
    if unknown:
        raise HwprofError(f"measure has no setting {', '.join(unknown)}; see hwprof.MeasureOptions for the settings")
    if options is not None and not isinstance(options, MeasureOptions):
        raise HwprofError(
            f"options is a {type(options).__name__}, not a hwprof.MeasureOptions: give the settings by name "
            "instead, e.g. measure(models, threads=1), or measure(models, **settings) for a dict"
        )
    options = dataclasses.replace(options or MeasureOptions(), **settings)
    options = _check_setting_types(options)
    if not 0 < options.precision < 1:
        raise HwprofError(
            f"{option('precision', options.precision)} is out of range: give a fraction such as 0.02 for 2%"
        )
    if not (math.isfinite(options.max_item_s) and options.max_item_s > 0):
        raise HwprofError(f"{option('max_item_s', options.max_item_s)} must be a positive number of seconds")
    if not 0 < options.max_other_share <= 1:
        raise HwprofError(
            f"{option('max_other_share', options.max_other_share)} is out of range: give a share of the CPUs this "
            "process may use (its affinity mask) from 0 to 1, such as 0.1 (1 keeps every burst)"
        )
    if isinstance(options.processes, bool) or not isinstance(options.processes, int) or options.processes < 1:
        raise HwprofError(
            f"{option('processes', shown(options.processes))}: give a whole number of processes, 1 or more"
        )
    if options.processes == 1 and out is not None:
        _check_no_workers(out)
    if options.processes > 1 and options.trace:
        raise HwprofError(
            f"{option('trace', True)} records the power samples of one process; use it with {option('processes', 1)}"
        )
    if options.trace:
        from hwprof.dataset import check_trace_owner

        check_trace_owner(options.trace, out, resume)
    if not (isinstance(options.sweep_share, (int, float)) and 0 <= options.sweep_share < 1):
        raise HwprofError(
            f"{option('sweep_share', options.sweep_share)} is out of range: give a share of the run from 0 (no "
            "sweep) to below 1, such as 0.2"
        )
    if options.cache not in CACHE_MODES:
        raise HwprofError(f"{option('cache', options.cache)}: choose from {', '.join(CACHE_MODES)}")
    if options.allocator not in ALLOCATOR_POLICIES:
        raise HwprofError(f"{option('allocator', options.allocator)}: choose from {', '.join(ALLOCATOR_POLICIES)}")
    if isinstance(models, (str, ModelSpec, torch.nn.Module)) or is_module_pair(models):  # one model: a list of one
        models = [models]
    elif not isinstance(models, Iterable):
        raise HwprofError(f"give a model or a list of models, e.g. 'resnet18' or ['resnet18', module], not {models!r}")
    models = list(models)
    if not models:
        raise HwprofError(
            "no model was given: give one or a list, e.g. 'resnet18' or ['resnet18', module] (the built-in models "
            "are in hwprof.sample_models)"
        )
    sizes = parse_batch_sizes(options.batch_sizes)
    options = dataclasses.replace(options, seq_lens=parse_seq_lens(options.seq_lens))
    execution = Execution.from_options(options)
    torch_device = resolve_device(options.device)
    device_text = str(torch_device)
    if options.threads is not None:
        check_threads(options.threads)
        torch.set_num_threads(options.threads)
    elif (fewer := _usable_threads()) is not None:
        options = dataclasses.replace(options, threads=fewer[0])  # measuring processes are told it
        torch.set_num_threads(fewer[0])
        progress.warn(fewer[1])
    if (quota_line := _quota_below_threads()) is not None:
        progress.warn(quota_line)
    execution.check_device(torch_device)
    models = [_measured(m, execution, torch_device) for m in models]
    specs, flat, nhwc = _checked_specs(models, options, execution, torch_device)
    check_settings_apply(specs, options.seq_lens, options.hf_config, options.input_shape, options.inputs)
    if options.compile and all(spec.sweep is not None for spec in specs):
        raise HwprofError(
            f"{', '.join(spec.name for spec in specs)} time{'s' if len(specs) == 1 else ''} layers alone, with no "
            f"network to compile, so {option('compile', True)} applies to none of them: drop it"
        )
    names = [spec.name for spec in specs]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise HwprofError(f"{', '.join(twice)} is given more than once; name each model once")
    seq_lens = {spec.name: spec.model_inputs.seq_lens(options.seq_lens) for spec in specs if spec.sweep is None}
    sweeps = [spec.name for spec in specs if spec.sweep is not None]
    if sweeps and not options.layers:
        raise HwprofError(
            f"{sweeps[0]} is a layer sweep: it has layers only, so {option('layers', False)} would measure "
            "nothing of it; drop one or the other"
        )
    if resume and out is not None:
        _note_nothing_to_resume(out, progress)
    if flat:
        progress.warn(
            worded(
                f"{option('channels_last', True)} lays out 4-D tensors (images) only, and these models take "
                f"none: {', '.join(flat)}; they run as they are, and their rows are recorded as not channels-last"
            )
        )
    for name in nhwc:
        progress.note(
            worded(
                f"{name} has its 4-D weights or example inputs laid out channels-last (NHWC) already, so it runs "
                f"so without {option('channels_last', True)}, and its rows say channels_last true"
            )
        )
    if options.processes > 1:
        objects = [m for m in models if not isinstance(m, str)]
        if objects:
            raise HwprofError(
                f"{option('processes', options.processes)} measures in fresh processes, which can only be told "
                "models by name (a built-in, nb201:..., sweep:... or path/to/file.py:factory), not a "
                f"{type(objects[0]).__name__} object: give its factory as path/to/file.py:factory, or measure in "
                "one process"
            )
        texts = [options.inputs] if isinstance(options.inputs, str) else options.inputs
        if options.inputs is not None and not (
            isinstance(texts, (list, tuple)) and all(isinstance(i, str) for i in texts)
        ):
            raise HwprofError(
                f"{option('processes', options.processes)} measures in fresh processes, which can only be told "
                f"inputs as NAME:DTYPE[SHAPE] text, not example tensors: describe them so, or measure in one process"
            )
        del specs  # checked; each measuring process builds its own
        return _measure_in_processes(list(models), names, options, out, resume, argv, progress)

    if options.seed is None:  # drawn and recorded (method.seed), so the run's order can be replayed with --seed
        options = dataclasses.replace(options, seed=random.SystemRandom().randrange(2**32))
    from hwprof.drivers import open_sensor
    from hwprof.measuring.provenance import collect_provenance, device_name

    for warning in execution.warnings(torch_device):
        progress.warn(warning)
    sensor = open_sensor(options.power, device_text, options.tegrastats)
    if not sensor.available and options.power != "none":
        progress.warn(f"power unavailable: {sensor.reason}")
    for note in sensor_notes(sensor, device_text):
        progress.warn(note)
    allocator_state = pin_allocator(options.allocator)
    if not allocator_state["applied"]:
        progress.warn(f"allocator not pinned: {allocator_state['unavailable_reason']}")
    method = method_for(options, torch_device)
    plan = _plan(names, sizes, options)
    cache = _cache_record(options.cache, torch_device)
    provenance = collect_provenance(
        device_text,
        torch.get_num_threads(),
        argv if argv is not None else sys.argv,
        {
            "method": {k: getattr(method, k) for k in method.__dataclass_fields__},
            "plan": plan,
            "allocator": allocator_state,
            "execution": execution.provenance(torch_device),
            "cache": cache,
            "power": {
                "requested": options.power,
                "source": sensor.source,
                "unavailable_reason": sensor.reason,
                "sensor": sensor.metadata(),
            },
        },
    )
    if out is None:
        writer: Any = _MemoryWriter(provenance)
    else:
        from hwprof.dataset import DatasetWriter

        try:
            writer = DatasetWriter(out, provenance, resume=resume, end_facts=end_facts)
            _check_same_plan(writer, plan)
        except BaseException:
            sensor.close()
            raise
    session = _Session(
        writer,
        Runner(method),
        torch_device,
        device_name(device_text),
        sensor,
        progress,
        trace=[] if options.trace else None,
        execution=execution,
        cache=cache,
    )
    networks_s: float | None = None  # known once every network is timed
    stopped_by: BaseException | None = None  # this run's own exception, not one its caller is handling
    try:  # open_sensor hands the sensor over opened; it is closed here whatever happens
        session.load_existing()
        resumed = _resumed_seconds(session.frame(), names)
        groups = _groups(specs, sizes, seq_lens, options.seed)
        finished = [
            session.finished_before((specs[k].name, size, seq_len), options.layers) for k, size, seq_len in groups
        ]
        session.clock = RunClock(options, resumed)
        started = time.perf_counter()
        with torch.inference_mode():
            built: tuple[int, ModelSpec] | None = None  # the model of the groups being measured, built once for them
            for number, (k, size, seq_len) in enumerate(groups, 1):
                if finished[number - 1]:  # an earlier run measured it: its model is not even built
                    continue
                session.clock.place = (number, len(groups), finished[number:].count(False))
                before = time.perf_counter()
                if built is None or built[0] != k:
                    if built is not None:  # the model before it is let go of first: its groups are done
                        specs[built[0]].module = None
                        built = None
                        gc.collect()
                    built = (k, _built(specs[k], models[k], options))
                if timed := session.measure_group(built[1], size, options.layers, seq_len):
                    session.clock.add(time.perf_counter() - before, timed)
            del built
            session.clock.place = (0, 0, 0)  # the default sweep's groups have no place among the run's
            from hwprof.sample_models.sweep import parse_sweep

            swept = {parse_sweep(spec.name)[0] for spec in specs if spec.sweep is not None}
            networks_s = resumed["networks"] + time.perf_counter() - started
            earlier = recorded_sweep(getattr(writer, "previous_runs", []))
            _fit_sweep(session, options, names, sizes, swept, networks_s, resumed["sweep"], earlier)
            if resume and not session.measured_now and session.rows:
                progress.note(f"nothing was left to measure: earlier runs measured all of {out}")
    except BaseException as error:
        stopped_by = error
        raise
    finally:
        writer.provenance["contention"] = session.contention()
        if session.sweep is not None:  # an interrupted sweep's too: a resumed run carries on from it
            writer.provenance["fit_sweep"] = session.sweep.provenance()
        if networks_s is not None:  # whatever the sweep did: none is run with --sweep-share 0 or --no-layers
            timed_s = session.sweep.networks_s if session.sweep is not None else networks_s  # as the sweep counts
            writer.provenance["networks_s"] = round(timed_s, 3)
        writer.close(run_status(stopped_by))
        sensor.close()
        if options.trace and session.trace:
            from hwprof.traces import append_trace, write_trace

            (append_trace if resume else write_trace)(session.trace, options.trace, writer.run_id)
        elif options.trace:
            progress.warn(f"no power trace written to {options.trace}: {sensor.reason or 'no power was sampled'}")
        session.report_contention(options.max_other_share, bool(writer.provenance.get("cpu_throttled_periods")))
        session.report_overruns()
        if out is None:
            _hand_over_rows(stopped_by, session, writer, progress)
    return _returned(_stamped(session.frame(), writer.run_id), _runs(out, writer.provenance))


def _hand_over_rows(error: BaseException | None, session: _Session, writer: _MemoryWriter, progress: Progress) -> None:
    """A run without a file that stops on an exception (Ctrl-C, a notebook's interrupt, a model failing in a later
    group) puts the rows it measured on the exception as `frame`, so minutes of measuring are not lost with it."""
    if error is None or not writer.rows:
        return
    error.frame = _returned(_stamped(session.frame(), writer.run_id), [writer.provenance])
    progress.warn(
        f"{'interrupted' if isinstance(error, KeyboardInterrupt) else 'stopped'}: the {len(writer.rows)} rows "
        "measured so far are on the exception, as its frame attribute; give out= to keep rows in a file, which "
        "resume=True carries on"
    )


@dataclass
class RunClock:
    """Where a measure run is among its (model, batch size) groups, and about how long it has left: the items
    left at the mean seconds per item of the groups this run timed (their models' building and tracing
    included), and the share of the run the default layer sweep may then take (fit_sweep)."""

    options: MeasureOptions
    resumed: dict  # seconds the resumed rows took: _resumed_seconds
    place: tuple[int, int, int] = (0, 0, 0)  # (this group's number, the run's groups, groups left after it)
    timed_s: float = 0.0
    timed_items: int = 0
    timed_groups: int = 0

    def add(self, seconds: float, items: int) -> None:
        self.timed_s += seconds
        self.timed_items += items
        self.timed_groups += 1

    def left_s(self, items_now: int) -> float | None:
        """Seconds left once a group of `items_now` items starts; None before a group was timed."""
        from hwprof.measuring.fit_sweep import budget_s

        if not self.timed_items:
            return None
        item_s = self.timed_s / self.timed_items
        items_after = self.place[2] * self.timed_items / self.timed_groups  # their own counts are not known yet
        networks_left_s = item_s * (items_now + items_after)
        if not self.options.layers or self.options.sweep_share == 0:
            return networks_left_s
        networks_s = self.resumed["networks"] + self.timed_s + networks_left_s
        return networks_left_s + max(0.0, budget_s(self.options.sweep_share, networks_s) - self.resumed["sweep"])


KEPT_MEMORY_SHARE = 0.25  # models checked stay built while their weights take at most this share of free memory


def _checked_specs(
    models: list, options: MeasureOptions, execution: Execution, device: torch.device
) -> tuple[list[ModelSpec], list[str]]:
    """Each model built in turn and checked: its weights' dtype and, in a list of networks measured in this
    process, that it runs once on its inputs (batch 1, its first sequence length), so that one that does not
    fails before any is timed. A model named by text whose weights would take the models kept so far past
    KEPT_MEMORY_SHARE of the free memory is then let go of (its spec's module is None) and built again when
    its turn comes (_built): a zoo's weights are never all in memory at once, and a list of small models is
    built once. Also the names of the models channels-last leaves as they are (with channels_last), and of those
    that run channels-last without it (_nhwc_by_itself)."""
    from hwprof.sample_models.sweep import PREFIX

    networks = [m for m in models if not (isinstance(m, str) and m.startswith(PREFIX))]
    run_each = options.processes == 1 and len(networks) > 1  # one network's first run is its extraction
    specs, flat, nhwc = [], [], []
    room_bytes = KEPT_MEMORY_SHARE * available_memory_bytes(torch.device("cpu"))  # where models are built
    for model in models:
        spec = _spec_of(model, options)
        check_module_weights(spec.module, execution.dtype, spec.name, "measure")  # a factory's (.double()) too
        if execution.dtype != "float32" and mixes_in(spec.module, execution.torch_dtype):
            warn(kept_mixed_note(spec.module, execution.torch_dtype, spec.name))
        if run_each and spec.sweep is None:
            _check_runs(spec, options, execution, device)
        if options.channels_last and not _lays_out_nhwc(spec):
            flat.append(spec.name)
        if not options.channels_last and _nhwc_by_itself(spec):
            nhwc.append(spec.name)
        if isinstance(model, str) and spec.sweep is None:
            weights = sum(t.numel() * t.element_size() for t in itertools.chain(*module_weights(spec.module)))
            if weights > room_bytes:
                spec.module = None
            else:
                room_bytes -= weights
        specs.append(spec)
    return specs, flat, nhwc


def _built(spec: ModelSpec, model, options: MeasureOptions) -> ModelSpec:
    """The spec with its module, built again where _checked_specs let it go."""
    return spec if spec.module is not None else _spec_of(model, options)


# what building and running a model at batch 1 takes, in its weights: `measure vgg16 --no-layers` peaked 0.748 GB
# above the process's memory before it (its imports, already out of what is free) for 0.553 GB of weights; the
# build is 1.0x of it, its batch-1 passes the rest, which _check_memory estimates once its layers are known
BUILD_PEAK_WEIGHTS = 1.35


def _spec_of(model, options: MeasureOptions) -> ModelSpec:
    """A model argument built as the run's options describe it (its inputs, shape and hf: settings), its lazy
    layers' weights made (on a copy: the user's module stays lazy); refused first where its weights would not fit
    (_check_build_fits)."""
    built = _check_build_fits(model, options) if isinstance(model, str) else None
    spec = built or resolve_model(model, options.input_shape, inputs=options.inputs, hf_config=options.hf_config)
    if spec.module is not None and spec.sweep is None:
        seq_len = spec.model_inputs.seq_lens(options.seq_lens)[0]
        spec.module = with_lazy_weights_made(spec.module, spec.model_inputs, spec.name, seq_len)
    return spec


def _check_build_fits(model: str, options: MeasureOptions) -> ModelSpec | None:
    """Refuse a model whose build would exhaust the host's memory, sized from a build on the meta device (no
    weight allocated, as predict sizes one): in a container's memory limit the kernel's OOM killer otherwise ends
    the run mid-build, with nothing said. Building and running it on the CPU take about BUILD_PEAK_WEIGHTS times
    its weights; on a GPU its batch-1 passes use the GPU's memory, and the host holds its weights alone. A model
    that cannot be built on meta (a user's file, whose imports would keep meta constants) is not sized; a zoo
    constructor that cannot run on meta builds it for real instead, and that build is returned, to be used rather
    than built twice."""
    from hwprof.models.spec import builds_on_meta
    from hwprof.models.tracing import MetaDevice

    if not builds_on_meta(model):
        return
    with MetaDevice():
        spec = resolve_model(model, options.input_shape, inputs=options.inputs, hf_config=options.hf_config)
    if spec.module is None or spec.sweep is not None:
        return
    weights = [*itertools.chain(*module_weights(spec.module))]
    if not all(t.is_meta for t in weights):  # a zoo constructor that cannot run on meta built it for real: it fit
        return spec
    weight_bytes = sum(t.numel() * t.element_size() for t in weights)
    free_bytes = available_memory_bytes(torch.device("cpu"))
    peak = BUILD_PEAK_WEIGHTS if resolve_device(options.device).type == "cpu" else 1.0
    if peak * weight_bytes > free_bytes:
        raise HwprofError(
            f"{spec.name} was not built: its weights take {weight_bytes / 1e9:.2f} GB, and building and running it "
            f"about {peak * weight_bytes / 1e9:.2f} GB, more than the {free_bytes / 1e9:.2f} GB of memory "
            "available to hwprof (other processes, a container's memory limit or `ulimit -v` may leave less than "
            "the machine has): give it more memory, or measure a smaller model"
        )


def _quota_below_threads() -> str | None:
    """The line that says the cgroup's CPU quota is below the threads the run measures with (so below one CPU too),
    by the runner's rule for keeping throttled bursts (quota_below_threads): it then stops the process within every
    busy period, waiting cannot avoid it, and every latency includes the stops. None where there is no quota, or it
    fits."""
    if not quota_below_threads():
        return None
    return (
        f"the container's CPU quota of {cpu_quota():g} CPUs is less than {torch.get_num_threads()} thread(s) need: "
        "latencies will include the time the quota stops the process"
    )


def _usable_threads() -> tuple[int, str] | None:
    """Where torch's default intra-op threads (OMP_NUM_THREADS, or its count of physical cores) outnumber the CPUs
    the process may use (a taskset, a cpuset, a cgroup's CPU quota rounded up): the threads to measure with
    instead, and the line that says so. Capped rather than refused as threads= is: the default was not asked for
    in this command (OMP_NUM_THREADS is often set for a whole machine), and more threads than CPUs time the
    scheduler, not the model. None where the default fits."""
    threads, cpus, quota = torch.get_num_threads(), usable_cpus(), cpu_quota()
    limit = cpus_within_quota(cpus, quota)
    if threads <= limit:
        return None
    omp = os.environ.get("OMP_NUM_THREADS", "").strip()
    source = f"OMP_NUM_THREADS={omp}" if omp else "PyTorch's default"
    cause = (
        f"the {cpus} CPU{'s' * (cpus != 1)} this process may use"
        if limit == cpus
        else f"its cgroup's CPU quota of {quota:g} CPU{'s' * (quota != 1)}"
    )
    return limit, worded(
        f"measuring with {limit} intra-op thread{'s' * (limit != 1)}, not the {threads} of {source}: more threads "
        f"than {cause} time the scheduler, not the model; give {option('threads')} to choose"
    )


def _groups(specs: list[ModelSpec], sizes: list[int], seq_lens: dict, seed: int | None) -> list[tuple]:
    """(model index, batch size, seq_len) in the order they are measured: the models in a random order, each
    model's groups together (it is built once for them) in a random order of their own."""
    rng = random.Random(seed)
    order = list(range(len(specs)))
    rng.shuffle(order)
    groups = []
    for k in order:
        own = [(k, size, seq_len) for size in sizes for seq_len in seq_lens.get(specs[k].name, [None])]
        rng.shuffle(own)
        groups.extend(own)
    return groups


def _note_nothing_to_resume(out, progress: Progress) -> None:
    """Say so where --resume finds no run at `out` (a typo, another extension): the run starts afresh."""
    from pathlib import Path

    from hwprof.dataset import journal_path
    from hwprof.measuring.processes import work_folder

    path = Path(out)
    if path.exists() or journal_path(path).exists() or work_folder(path).exists():
        return
    others = [path.with_suffix(ext) for ext in (".parquet", ".csv") if path.with_suffix(ext) != path]
    found = [other for other in others if other.exists()]
    beside = f"; {found[0]} is there: resume it with {option('out', str(found[0]))}" if found else ""
    progress.warn(worded(f"nothing to resume: {path} does not exist, so this run starts it{beside}"))


def _check_no_workers(out) -> None:
    """A run in one process never reads `out`'s work folder: it would measure everything afresh and strand an
    interrupted --processes run's rows there, which no resume could then reach (its plan would differ)."""
    from hwprof.measuring.processes import started_workers, work_folder

    folder = work_folder(out)
    started = started_workers(folder)
    if started:
        raise HwprofError(
            f"{folder} holds the rows of an interrupted {option('processes', 'N')} run ({started} of its processes "
            f"started), which one process would leave behind: carry it on with {option('resume', True)} and the "
            f"{option('processes', 'N')} it was started with (N is {max(started, 2)} or more), or remove {folder}"
        )


def _resumed_seconds(rows: pd.DataFrame, names: list[str]) -> dict[str, float]:
    """Seconds the rows of a resumed dataset took to time, each configuration once: its networks' (and
    their layers') and its default sweep's (sweep rounds the user did not name), so that a resumed run
    sizes and spends the sweep's share as the uninterrupted run would have. An estimate (it leaves out the
    extraction and setup around the timing) for runs that recorded no sweep (fit_sweep.recorded_sweep)."""
    if rows.empty or "measure_s" not in rows.columns:
        return {"networks": 0.0, "sweep": 0.0}
    once = rows.drop_duplicates("config_id") if "config_id" in rows.columns else rows
    seconds = pd.to_numeric(once["measure_s"], errors="coerce").fillna(0.0)
    model = once["model"].astype(str)
    default_sweep = model.str.startswith(SWEEP_PREFIX) & ~model.isin(names)
    return {"networks": float(seconds[~default_sweep].sum()), "sweep": float(seconds[default_sweep].sum())}


def _lays_out_nhwc(spec: ModelSpec) -> bool:
    """Whether channels-last changes anything for a model: torch lays out 4-D tensors only (an input of 3
    dimensions per sample, a conv weight), and leaves a model with none (an MLP, a text model) as it was."""
    if spec.sweep is not None:
        parts = [(entry.module, (entry.input_shape, *entry.more_shapes)) for entry in spec.sweep]
    else:
        parts = [(spec.module, [input_spec.shape for input_spec in spec.model_inputs.specs])]
    return any(
        any(len(shape) == 3 for shape in shapes)
        or any(tensor.dim() == 4 for tensor in itertools.chain(module.parameters(), module.buffers()))
        for module, shapes in parts
    )


def _nhwc_by_itself(spec: ModelSpec) -> bool:
    """Whether a model runs channels-last without being told: its example inputs are NHWC (and drawn so), or its
    4-D weights are (module.to(memory_format=torch.channels_last)), and a convolution then computes NHWC
    whatever its other operand's layout. A tensor whose strides fit both layouts (a 1x1 kernel) tells nothing."""
    if spec.sweep is not None:
        return False
    if any(input_spec.channels_last for input_spec in spec.model_inputs.specs):
        return True
    laid_out = [
        tensor.is_contiguous(memory_format=torch.channels_last)
        for tensor in itertools.chain(spec.module.parameters(), spec.module.buffers())
        if tensor.dim() == 4 and tensor.is_contiguous() != tensor.is_contiguous(memory_format=torch.channels_last)
    ]
    return bool(laid_out) and all(laid_out)


def _fit_sweep(
    session: _Session,
    options: MeasureOptions,
    names: list[str],
    sizes: list[int],
    swept: set[str],
    networks_s: float,
    resumed_sweep_s: float,
    earlier: tuple[SweepRecord | None, bool],
) -> None:
    """Measure the default layer sweep of the networks' ops within its share of the run (fit_sweep), into
    session.sweep. A resumed run draws the same rounds (their seed comes from the model names): those
    finished before the interruption are kept and count against the budget, and a round cut short is
    finished first (its rows kept, the rest measured). Where an earlier run recorded
    the sweep (`earlier`: its record, and whether it finished), its seconds and rounds are taken as recorded
    and a finished sweep is repeated as it was; otherwise the rows' timing is the estimate
    (`resumed_sweep_s`)."""
    from hwprof.measuring import fit_sweep

    if options.sweep_share == 0:
        return
    recorded, finished = earlier
    if recorded is not None and finished:  # a resumed complete run: nothing is left to measure
        session.sweep = recorded
        session.progress.note(recorded.note())
        return
    if not options.layers:  # network rows alone are fitted without layer models: a sweep would train none
        if any(row.get("kind") == "network" for row in session.rows):
            session.progress.note(
                worded(
                    f"no layer sweep for the fit with {option('layers', False)}: network rows alone are fitted "
                    "without layer models; measure with layers to add one"
                )
            )
        return
    if recorded is not None:  # the networks were all measured before the interruption
        networks_s, resumed_sweep_s = recorded.networks_s, recorded.sweep_s
    record = SweepRecord(options.sweep_share, networks_s=networks_s, sweep_s=resumed_sweep_s)
    ops = fit_sweep.ops_to_sweep(session.frame(), swept)
    budget_s = fit_sweep.budget_s(options.sweep_share, networks_s)
    if not ops:
        return
    session.sweep = record
    if budget_s < fit_sweep.MIN_BUDGET_S:
        record.skipped_reason = worded(  # the share sets the cutoff: 4 s of networks at 0.2, 19 s at 0.05
            f"a {options.sweep_share:g} share of the run is {budget_s:.2f} s beside the networks' {networks_s:.1f} s, "
            f"under the {fit_sweep.MIN_BUDGET_S:g} s a bounded sweep needs; raise {option('sweep_share')} or measure "
            "longer (sweep:OP models add one)"
        )
        session.progress.note(record.note())
        return
    done_rounds = recorded.rounds if recorded is not None else 0  # measured to the end before: counted, not run
    seed = fit_sweep.first_seed(names)
    begun = {str(row.get("model")) for row in session.rows}  # a round cut short is finished whatever its seconds
    started = time.perf_counter()
    rounds = itertools.product(range(fit_sweep.MAX_ROUNDS), ops)  # round by round
    for index, (round_index, op) in enumerate(rounds):
        name = fit_sweep.round_name(op, round_index, seed)
        if index >= done_rounds and record.sweep_s >= budget_s and name not in begun:
            break
        spec = resolve_model(name)
        if index >= done_rounds:
            for size in sizes:
                session.measure_group(spec, size, True)
        # only finished rounds count: an interrupted round's seconds would spend the budget of the round a
        # resume must still finish (its rows kept so far are not measured again)
        record.sweep_s = resumed_sweep_s + time.perf_counter() - started
        record.rounds += 1
        record.configurations += len(spec.sweep)
        if op not in record.ops:
            record.ops.append(op)
    session.progress.note(record.note())


def method_for(options: MeasureOptions, device: torch.device) -> Method:
    """The timing method for a device: on CUDA, samples long enough that the synchronisation is negligible."""
    longer = {"min_sample_s": CUDA_MIN_SAMPLE_S} if device.type == "cuda" else {}
    return Method(
        precision=options.precision,
        max_item_s=options.max_item_s,
        max_other_share=options.max_other_share,
        seed=options.seed,
        **longer,
    )


def _plan(names: list[str], sizes: list[int], options: MeasureOptions) -> dict:
    """What a resumed run must share with the one it continues, or its rows would not belong together."""
    plan = {
        "models": names,
        "batch_sizes": sizes,
        # the model names do not carry it: rows of two shapes would read as one network's batch sizes
        "input_shape": None if options.input_shape is None else [int(d) for d in options.input_shape],
        "threads": torch.get_num_threads(),
        "layers": options.layers,
        "processes": options.processes,
        **Execution.from_options(options).plan(),  # dtype, layout, compile where not the defaults
        "cache": options.cache,
    }
    if options.seq_lens:
        plan["seq_lens"] = list(options.seq_lens)
    if isinstance(options.inputs, (list, tuple)) and all(isinstance(i, str) for i in options.inputs):
        plan["inputs"] = list(options.inputs)
    files = _model_files(names)
    if files:
        plan["model_files"] = files
    return plan


def _model_files(names: list[str]) -> dict[str, dict]:
    """The file each path/to/file.py:factory model is built from, resolved, with a digest of its text and of each
    module of the user's it imported (`imports`, own_modules, a blocks.py beside it): the name is the path as typed,
    so a file edited, one of its modules edited, or another file of that name, would carry on a run under the same
    name."""
    files = {}
    for name in names:
        path = model_file(name)
        if path is not None:
            files[name] = {"path": str(path.resolve()), "digest": file_digest(path), "imports": own_modules(path)}
    return files


def _measure_in_processes(
    models: list[str], names: list[str], options: MeasureOptions, out, resume: bool, argv, progress: Progress
) -> pd.DataFrame:
    """measure(processes=N): N workers, each told the models as the caller wrote them, then their rows
    combined into `out` (hwprof.measuring.processes)."""
    import tempfile
    from pathlib import Path

    from hwprof.measuring import processes
    from hwprof.measuring.provenance import collect_provenance

    method = method_for(options, resolve_device(options.device))
    if options.layers and options.sweep_share > 0:
        progress.note(
            worded(
                f"no layer sweep for the fit with {option('processes')}: each process would time a different "
                "number of its rounds; give sweep:OP models to measure one"
            )
        )
    provenance = collect_provenance(
        str(resolve_device(options.device)),
        torch.get_num_threads(),
        argv if argv is not None else sys.argv,
        {
            "method": {k: getattr(method, k) for k in method.__dataclass_fields__},
            "plan": _plan(names, parse_batch_sizes(options.batch_sizes), options),
            "allocator": {"policy": options.allocator},  # replaced by what the measuring processes applied
            "power": {"requested": options.power},
        },
    )
    if out is None:
        try:
            temporary = tempfile.TemporaryDirectory()
        except OSError as error:  # a read-only or missing /tmp (a locked-down container)
            raise HwprofError(
                f"{option('processes', options.processes)} without out= keeps its measuring processes' rows in the "
                f"system temp dir, which cannot be written here ({error.strerror or error}): give out= a dataset "
                "path to keep them beside it"
            ) from None
        with temporary as folder:
            shards = processes.run_workers(models, options, Path(folder), progress)
            rows, runs, _, speeds = processes.combine_shards(shards, options.precision)
        frame = _rows_frame(rows)
        _report_workers(frame, runs, options, progress)
        _add_workers(provenance, runs, speeds)
        provenance.update(status="complete", rows=len(frame), end_time=now_text(), **end_facts())
        return _returned(_stamped(frame, provenance["run_id"]), [provenance])
    from hwprof.dataset import DatasetWriter

    folder = processes.work_folder(out)
    writer = DatasetWriter(out, provenance, resume=resume, end_facts=end_facts)
    try:
        _check_same_plan(writer, _plan(names, parse_batch_sizes(options.batch_sizes), options))
        if folder.exists() and not resume:
            raise HwprofError(
                f"{folder} holds the measuring processes of an interrupted run; pass {option('resume', True)} "
                "to carry on with it, or remove it"
            )
        existing = writer.existing_rows()
        if len(existing) and not folder.exists():  # its processes finished and were combined: nothing is left
            progress.note(f"every row is already measured in {out}")
            writer.close("complete")
            return _returned(existing, _runs(out))
        shards = processes.run_workers(models, options, folder, progress)
        rows, runs, samples, speeds = processes.combine_shards(shards, options.precision)
        # the rows combined before an interruption, by the key the workers' rows are combined by (seq_len too)
        done = {processes.combined_key(row) for row in existing.to_dict("records")}
        _add_workers(writer.provenance, runs, speeds)
        new = [row for row in rows if processes.combined_key(row) not in done]
        for row in new:
            writer.write([row], samples.get(processes.combined_key(row)))
    except BaseException as error:  # this run's own: a caller's exception being handled is not its status
        writer.close(run_status(error))
        raise
    finally:
        writer.close("complete")  # a second close does nothing
    processes.remove_work_folder(folder)
    _report_workers(_rows_frame(new), runs, options, progress)
    new_frame = _stamped(_rows_frame(new), writer.run_id)
    frame = pd.concat([existing, new_frame], ignore_index=True) if len(existing) else new_frame
    return _returned(frame, _runs(out))


def _add_workers(provenance: dict, runs: list[dict], speeds: list[float] | None) -> None:
    """The measuring processes' own provenance, in the run that combined them, with each one's speed against the
    others (hwprof.measuring.processes.worker_speeds); the seconds their networks took,
    added up (they run one after the other); the allocator, power, cache mode and execution as they applied them
    (fit, show and compare read them there: a run without a cache mode reads as timed warm), and a sensor that
    stopped in any of them (the first), so the run says it as one process's run does; the bursts they discarded
    and the seconds they waited for quiet, added up."""
    provenance["processes"] = runs
    provenance["process_speeds"] = speeds
    # a worker resumed after an interruption recorded them in its last run only, over its runs
    timed = [run["networks_s"] for run in runs if isinstance(run.get("networks_s"), (int, float))]
    if timed:
        provenance["networks_s"] = round(sum(timed), 3)
    for setting in ("allocator", "power", "cache", "execution"):
        if setting in runs[-1]:
            provenance[setting] = dict(runs[-1][setting])
    contention = [run["contention"] for run in runs if isinstance(run.get("contention"), dict)]
    if contention:
        provenance["contention"] = {
            "discarded_bursts": sum(int(counts.get("discarded_bursts") or 0) for counts in contention),
            "waited_s": round(sum(float(counts.get("waited_s") or 0.0) for counts in contention), 3),
        }
    stopped = _stopped_workers(runs)
    if stopped and "power" in provenance:
        number, power = stopped[0]
        provenance["power"].update({key: value for key, value in power.items() if key.startswith("stopped_")})
        provenance["power"]["stopped_in_process"] = number


def _stopped_workers(runs: list[dict]) -> list[tuple[int, dict]]:
    """(number from 1, power section) of each measuring process whose sensor stopped mid-run."""
    return [
        (number, run["power"])
        for number, run in enumerate(runs, start=1)
        if (run.get("power") or {}).get("stopped_reason")
    ]


def _report_workers(frame: pd.DataFrame, runs: list[dict], options: MeasureOptions, progress: Progress) -> None:
    """What the measuring processes would have said themselves, from their provenance."""
    reason = (runs[-1].get("power") or {}).get("unavailable_reason") if runs else None
    if reason and options.power != "none":
        progress.warn(f"power unavailable: {reason}")
    for number, power in _stopped_workers(runs):
        progress.warn(
            f"{power['stopped_reason']} in measuring process {number} of {len(runs)}; the rows it timed from "
            "there on have no power (flagged sensor_stopped)"
        )
    throttled = any(run.get("cpu_throttled_periods") for run in runs)
    _report_discarded(frame, options.max_other_share, progress, waited_s(runs), throttled)


def waited_s(runs: list[dict]) -> float:
    """Seconds the runs (or one run's measuring processes) waited for a quiet machine, from their provenance."""
    return sum(float((run.get("contention") or {}).get("waited_s") or 0.0) for run in runs)


def _stamped(frame: pd.DataFrame, run_id: str) -> pd.DataFrame:
    """This run's rows with the run_id the dataset file gives them, so the frame measure returns links to the
    file's provenance and raw samples as the file's own rows do (rows resumed from the file keep theirs)."""
    return frame.assign(run_id=frame["run_id"].where(frame["run_id"].notna(), run_id))


def _check_runs(spec: ModelSpec, options: MeasureOptions, execution: Execution, device: torch.device) -> None:
    """The network runs once on its inputs (batch 1, its first sequence length), before any model of the list
    is timed: one that does not take them fails now, not after the networks before it were measured."""
    module = eager(execution.prepare(spec.module, device))  # a compile is the network item's (Execution.network)
    seq_len = spec.model_inputs.seq_lens(options.seq_lens)[0]
    args, kwargs = spec.model_inputs.make(1, seq_len, device, execution.torch_dtype, execution.channels_last)
    try:
        with torch.no_grad():
            module(*args, **kwargs)
    except (Exception, SystemExit) as error:  # a forward's sys.exit too: hwprof says which model stopped, on what
        described = spec.model_inputs.describe(1, seq_len, execution.torch_dtype)
        raise HwprofError(
            f"{run_failure(spec.name, described, error)}{mixed_weights_advice(module, execution.dtype)}; no model "
            "was timed: each model of a list runs once before any is"
        ) from None


def _returned(frame: pd.DataFrame, runs: list[dict]) -> pd.DataFrame:
    """The frame measure returns, in the dataset's column dtypes, with its runs' provenance in
    attrs["provenance"]: as read_dataset and read_provenance read the file it wrote, so the machine, software
    and settings travel with the numbers even where no file was written."""
    from hwprof.dataset import Provenance, typed

    returned = typed(frame)
    returned.attrs["provenance"] = Provenance(runs)  # shared by the frame's slices, not deep-copied into each
    return returned


def _runs(out: str | None, provenance: dict | None = None) -> list[dict]:
    """The provenance of every run in `out`, as read back from it; without a file, the one run's `provenance`."""
    if out is None:
        return [provenance]
    from hwprof.dataset import read_provenance

    return read_provenance(out)


def _rows_frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    for column in ALL_COLUMNS:
        if column not in frame:
            frame[column] = None
    return frame[list(ALL_COLUMNS)]


def _report_discarded(
    frame: pd.DataFrame,
    max_other_share: float,
    progress: Progress,
    waited_s: float | None = None,
    throttled: bool = False,
):
    """The bursts the runner discarded, and why: others' load, or also the cgroup's CPU quota where it stopped the
    run (`throttled`), whose windows the runner discards alike."""
    frame = measurements(frame)
    discarded = int(pd.to_numeric(frame["discarded_bursts"], errors="coerce").fillna(0).sum()) if len(frame) else 0
    if discarded:
        waited = f", and waited {waited_s:.1f} s for quiet spells" if waited_s else ""
        progress.note(
            f"discarded {discarded} sample burst(s) taken while other processes held more than "
            f"{max_other_share:.0%} of the CPU{_QUOTA_STOPPED * throttled}{waited} (column discarded_bursts)"
        )


_QUOTA_STOPPED = " or the container's CPU quota stopped the process"


def _throttled_so_far() -> bool:
    """Whether the cgroup's CPU quota has stopped the process since the run began (provenance.end_facts)."""
    return bool(end_facts()["cpu_throttled_periods"])


def _cache_record(mode: str, device: torch.device) -> dict:
    """How layers used the caches, for the provenance: the mode and the cache size cold mode outgrows."""
    if mode == "warm":
        return {"mode": mode}
    from hwprof.measuring.cache import cache_bytes

    size, source = cache_bytes(device)
    return {"mode": mode, "cache_bytes": size, "cache_bytes_source": source}


def _rounded_up(seconds: float) -> float:
    """Seconds rounded up to two significant digits, as a budget to suggest: 0.0481 is 0.049."""
    step = 10 ** (math.floor(math.log10(seconds)) - 1)
    return round(math.ceil(seconds / step - 1e-9) * step, 12)


def available_memory_bytes(device: torch.device) -> int:
    """Memory free for new tensors: what this process may still allocate on the host (a container's memory.max
    and `ulimit -v` leave less than the machine's available memory), or on a GPU its free memory plus what
    PyTorch's caching allocator holds unused (the batch-1 run and cold copies leave it cached, and the driver
    counts it as used, though this process's next tensors are made from it first)."""
    if device.type == "cuda":
        cached = torch.cuda.memory_reserved(device) - torch.cuda.memory_allocated(device)
        return int(torch.cuda.mem_get_info(device)[0] + cached)
    from hwprof.drivers import host

    return host.available_memory_bytes()


class AutocastSeen(TorchFunctionMode):
    """The dtypes a torch.autocast inside a model's forward runs the device's ops in, seen at every torch function
    the forward calls: autocast is off when measure calls the network (own_torch_settings), so one that is on
    was entered by the model, also where its forward casts the result back (`y.float()`)."""

    def __init__(self, device_type: str) -> None:
        super().__init__()
        self.device_type = device_type
        self.dtypes: set[torch.dtype] = set()

    def __torch_function__(self, func, types, args=(), kwargs=None):
        dtype = autocast_dtype(self.device_type)
        if dtype is not None:
            self.dtypes.add(dtype)
        return func(*args, **(kwargs or {}))


def autocast_dtype(device_type: str) -> torch.dtype | None:
    """The dtype torch.autocast runs this device type's ops in now; None where it is off. torch before 2.4 kept
    the CPU's autocast apart and took no device type."""
    try:
        return torch.get_autocast_dtype(device_type) if torch.is_autocast_enabled(device_type) else None
    except (AttributeError, TypeError):
        if device_type == "cpu":
            return torch.get_autocast_cpu_dtype() if torch.is_autocast_cpu_enabled() else None
        return torch.get_autocast_gpu_dtype() if torch.is_autocast_enabled() else None


def _check_same_plan(writer, plan: dict) -> None:
    """A resumed run carries on the measurement it continues: same machine, models, batch sizes, input shape,
    threads and layers."""
    runs = [run for run in writer.previous_runs if isinstance(run.get("plan"), dict) or run.get("device_name")]
    if not runs:
        return
    last = next((run for run in reversed(runs) if isinstance(run.get("plan"), dict)), runs[-1])
    _check_same_machine(writer, last)
    # runs from before --processes measured in one; before the cache mode was always recorded, a plan without
    # one was warm
    earlier = {"processes": 1, "cache": CACHE_BEFORE_RECORDED, **_recorded_plan(last)}
    files_before, files_now = earlier.pop("model_files", None), plan.get("model_files") or {}
    plan = {key: value for key, value in plan.items() if key != "model_files"}  # compared apart, after the rest
    if "input_shape" not in earlier:  # a plan from before the input shape was recorded: it cannot be compared
        plan = {key: value for key, value in plan.items() if key != "input_shape"}
    defaults = dataclasses.asdict(Execution())  # a plan leaves out the dtype, layout and compile at their defaults
    before, now = {**defaults, **earlier}, {**defaults, **plan}
    keys = [*{**plan, **earlier, **defaults}]  # in the plan's order; seq_lens and inputs only where given
    if "plan" not in last:  # a run from before plans were recorded: only what its provenance tells is compared
        keys = [key for key in keys if key in before]
        now = {key: now[key] for key in keys}
    if "models" in now and sorted(before.get("models") or []) == sorted(now["models"]):  # in another order
        now["models"] = before.get("models")
    if before == now:
        _check_same_files(writer, files_before, files_now)
        return
    writer.close("failed")
    differ = ", ".join(key for key in keys if before.get(key) != now.get(key))
    settings = ", ".join(f"{k}={before[k]}" if before.get(k) is not None else f"no {k}" for k in keys)
    raise HwprofError(
        f"{writer.path} was measured with other {differ} ({settings}); resuming continues that measurement, so "
        f"give the same ({_plan_settings(before, now, keys)}), or write the new one to another path"
    )


def _check_same_files(writer, before: dict | None, now: dict) -> None:
    """A resumed run builds each model file's network from the file the run it continues was measured from: an
    edited file (or another file the same path names from another folder) would put two networks under one name,
    its earlier batch sizes one and the rest the other. The digest of the file's text decides, so a project folder
    moved or copied elsewhere resumes; the path decides only for a file recorded without one. The user's own modules
    it imported (a blocks.py beside it) are checked alike, where the plan recorded them. A plan from before files
    were recorded is not checked."""
    for name, file in (before if isinstance(before, dict) else {}).items():
        current = now.get(name)
        if not isinstance(file, dict) or current is None:
            continue
        if file.get("digest") is None and file.get("path") not in (None, current["path"]):
            writer.close("failed")
            raise HwprofError(
                f"{writer.path} was measured from {name} as {file['path']}, and {name} now names {current['path']}; "
                f"resuming would put two files' networks under one name: resume it from the folder it was "
                f"measured in, or measure this one to another {option('out')}"
            )
        if file.get("digest") not in (None, current["digest"]):
            writer.close("failed")
            if file.get("path") not in (None, current["path"]):
                raise HwprofError(
                    f"{writer.path} was measured from {name} as {file['path']}, and {name} now names "
                    f"{current['path']}, whose text differs; resuming would put two files' networks under one name: "
                    f"resume it from the folder it was measured in, or measure this one to another {option('out')}"
                )
            raise HwprofError(
                f"{current['path']} changed since {writer.path} was measured from it ({name}); resuming would put "
                f"two versions of {name} under one name: measure the changed one to another {option('out')}, or "
                "put the file back as it was to resume"
            )
        imports = file.get("imports")
        for imported, digest in (imports if isinstance(imports, dict) else {}).items():
            changed = own_module_file(current["path"], imported)
            if file_digest(changed) != digest:
                writer.close("failed")
                raise HwprofError(
                    f"{changed} changed since {writer.path} was measured from {name}, which imports it; resuming "
                    f"would put two versions of {name} under one name: measure the changed one to another "
                    f"{option('out')}, or put the file back as it was to resume"
                )


# switches whose default leaves the earlier plan unchanged: to give it again, leave out what was added
SWITCH_DEFAULTS = {"layers": True, "channels_last": False, "compile": False}


def _plan_settings(before: dict, now: dict, keys: list[str]) -> str:
    """What to give for a resume to carry on the earlier plan, the settings that differ as the caller would
    type them (`--cache warm`): a run from before cold caches were the default is refused otherwise, and
    "give the same" left the user to work out which flag that was."""
    given = []
    for key in keys:
        value = before.get(key)
        if value == now.get(key):
            continue
        if key == "models":
            given.append("the models " + " ".join(map(str, value or [])))
        elif value is None or (key in SWITCH_DEFAULTS and value == SWITCH_DEFAULTS[key]):
            given.append(f"without {_typed(key, now[key])}")  # the earlier plan had the default: drop what was added
        else:
            given.append(_typed(key, value))
    return ", ".join(given)


def _typed(key: str, value: Any) -> str:
    """A plan's setting as it is typed: batch sizes comma-separated (--batch-size 1,8), one --input each."""
    if key == "inputs":
        return " ".join(option(key, text) for text in value)
    return option(key, ",".join(map(str, value)) if isinstance(value, (list, tuple)) else value)


def _recorded_plan(run: dict) -> dict:
    """The plan a run recorded; a run from before plans were recorded tells only its threads (with its device,
    and the cache mode and process count every run of that time had)."""
    if isinstance(run.get("plan"), dict):
        return run["plan"]
    return {"threads": run["threads"]} if run.get("threads") is not None else {}


def _check_same_machine(writer, before: dict) -> None:
    """A resumed run measures on the device and host of the run it continues (`before`): resuming a killed
    board's shard on another board would put two boards' rows in one file under one run's plan."""
    from hwprof.measuring.provenance import other_machine, same_machine

    now = writer.provenance
    if same_machine(before, now):  # a container's new hostname on the same boot is the same machine
        return
    writer.close("failed")
    raise HwprofError(
        f"{writer.path} was measured {other_machine(before, now)}; resuming continues that measurement on its own "
        "device, so resume it there, or write this one to another path"
    )


def _sweep_layers(
    spec: ModelSpec, batch_size: int, device: torch.device, execution: Execution | None = None
) -> tuple[list[Layer], str]:
    """The layers of a sweep's configurations, each extracted from its own module, numbered in order, in the
    run's dtype and layout."""
    execution = execution or Execution()
    layers: list[Layer] = []
    for entry in spec.sweep:
        module = execution.prepare(entry.module, device)
        if entry.more_shapes or entry.vocab_size:
            shapes = (entry.input_shape, *entry.more_shapes)
            dtype, high = (torch.int64, entry.vocab_size) if entry.vocab_size else (torch.float32, None)
            inputs = ModelInputs(tuple(InputSpec(None, dtype, shape, 0, high) for shape in shapes))
        else:  # one float tensor: wrapped so that fx sees the module as a leaf
            module, inputs = torch.nn.Sequential(module), ModelInputs.from_shape(entry.input_shape)
        found, _ = run_and_extract(
            module,
            inputs,
            batch_size,
            device,
            spec.name,
            dtype=execution.torch_dtype,
            channels_last=execution.channels_last,
        )
        layers.extend(dataclasses.replace(layer, index=len(layers) + k) for k, layer in enumerate(found))
    return layers, "fx"


class _Session:
    """State of one measure run: what has been measured, and where rows go."""

    def __init__(
        self,
        writer,
        runner: Runner,
        device: torch.device,
        device_name: str,
        sensor: PowerSensor | NoSensor,
        progress: Progress,
        trace: list | None,
        execution: Execution | None = None,
        cache: dict | None = None,
    ) -> None:
        self.writer = writer
        self.runner = runner
        self.device = device
        self.device_text = str(device)
        self.device_name = device_name
        self.sensor = sensor
        self.progress = progress
        self.trace = trace
        self.noted_no_energy = False  # a sensor that gives no energy is noted once, not per row
        self.execution = execution or Execution()
        self.cache = cache or {"mode": DEFAULT_CACHE_MODE}
        self.cache_labels: dict[str, str] = {}  # config_id -> warm, cold or cold_partial
        self.cold_bytes_left = 0  # memory the copies of the current group's layers may still take
        self.rows: list[dict] = []
        self.measured: dict[str, dict] = {}  # config_id -> measurement columns
        self.layer_rows_done: set[tuple] = set()  # (model, batch_size, seq_len, layer_index)
        self.networks_done: set[tuple] = set()  # (model, batch_size, seq_len)
        self.layer_counts: dict[tuple, int] = {}  # (model, batch_size, seq_len) -> layer_count of its network row
        self.earlier_layer_rows: Counter = Counter()  # (model, batch_size, seq_len) -> its layer rows read at resume
        self.per_sample_bytes: dict[tuple, tuple[int, int]] = {}  # (model, seq_len) -> see _check_memory
        self.measured_now: list[dict] = []  # measurement columns of each item timed in this run
        self.inputs_written: set[str] = set()  # models whose network writes its inputs, warned of once
        self.compiled_noted: set[str] = set()  # models their users torch.compile'd, said once
        self.autocast_warned: set[str] = set()  # models that autocast inside their forward, warned of once
        self.overruns: list[tuple[float, float]] = []  # (measure_s, seconds per sample) of items a sample ran over
        self.sweep: SweepRecord | None = None  # the default layer sweep, once it starts (_fit_sweep)
        self.clock: RunClock | None = None  # where the run is among its groups, for the progress
        self.sync: Callable[[], None] = (
            (lambda: torch.cuda.synchronize(device)) if device.type == "cuda" else (lambda: None)
        )

    def load_existing(self) -> None:
        existing = self.writer.existing_rows()
        if len(existing):  # `hwprof run` may have added command rows: they are not this measurement's
            existing = existing[(existing["device"] == self.device_text) & existing["kind"].isin(("layer", "network"))]
        for row in existing.to_dict("records"):
            self.rows.append(row)
            seq_len = row.get("seq_len")
            key = (row["model"], int(row["batch_size"]), None if pd.isna(seq_len) else int(seq_len))
            if row["kind"] == "network":
                self.networks_done.add(key)
                if not pd.isna(row.get("layer_count")):
                    self.layer_counts[key] = int(row["layer_count"])
            else:
                done = (*key, int(row["layer_index"]))
                self.earlier_layer_rows[key] += done not in self.layer_rows_done
                self.layer_rows_done.add(done)
                self.measured[row["config_id"]] = {c: row.get(c) for c in MEASUREMENT_COLUMNS}
        if self.rows:
            self.progress.note(f"resuming: {len(self.rows)} rows already measured are kept")

    def frame(self) -> pd.DataFrame:
        return _rows_frame(self.rows)

    def contention(self) -> dict:
        """How many bursts this run threw away, and how long it waited for quiet spells."""
        discarded = sum(int(values["discarded_bursts"] or 0) for values in self.measured_now)
        return {"discarded_bursts": discarded, "waited_s": round(self.runner.waited_s, 3)}

    def report_contention(self, max_other_share: float, throttled: bool) -> None:
        measured = pd.DataFrame(self.measured_now)
        if len(measured):
            _report_discarded(measured, max_other_share, self.progress, self.runner.waited_s, throttled)

    def emit(self, rows: list[dict], samples: RawSamples | None = None) -> None:
        """Write rows, with the raw samples they were measured from (none for a measurement reused)."""
        if rows:
            self.writer.write(rows, samples)
            self.rows.extend(rows)

    def _check_memory(
        self,
        spec: ModelSpec,
        module: torch.nn.Module,
        batch_size: int,
        with_layers: bool,
        seq_len: int | None,
        layers: list[Layer] | None = None,
    ) -> None:
        """Refuse, before timing it, a batch whose tensors cannot fit in the memory that is free.

        The need is estimated from a batch-1 trace (`layers`, where the group's own extraction at batch 1 made it):
        per sample either every distinct layer configuration's inputs and outputs (with layers, each one holds its
        own while the items are interleaved) or twice the largest layer's (a network alone frees activations as it
        goes). The weights are on the device already, counted out of what is free, so they are not counted again
        (they were, and a batch that fitted was refused by their size). At batch 1 it is checked once that
        extraction ran, which is the estimate's own cost."""
        if batch_size == 1 and layers is None:
            return
        if (spec.name, seq_len) not in self.per_sample_bytes:
            layers = layers if layers is not None else self._extract(spec, module, 1, seq_len)[0]
            unique = {(layer.op, layer.config_json()): layer.input_bytes + layer.output_bytes for layer in layers}
            moved = list(unique.values())
            self.per_sample_bytes[(spec.name, seq_len)] = (sum(moved), 2 * max(moved, default=0))
        all_layers, largest = self.per_sample_bytes[(spec.name, seq_len)]
        need = batch_size * (all_layers if with_layers else largest)
        free = available_memory_bytes(self.device)
        if batch_size == 1 and need > free:
            alone = f", or measure it with {option('layers', False)}" if with_layers and largest <= free else ""
            raise HwprofError(
                f"{spec.name} at batch size 1 needs about {bytes_text(need)} for its layers' inputs and "
                f"outputs, beside its weights, but {bytes_text(free)} is free on {self.device_text}: give hwprof "
                f"more memory{alone}"
            )
        if batch_size > 1 and need > free:
            raise HwprofError(
                f"{spec.name} at batch size {batch_size} needs about {need / 2**30:.1f} GiB beside its weights "
                f"({bytes_text(need / batch_size)} per sample, estimated from batch 1), but "
                f"{free / 2**30:.1f} GiB is free on {self.device_text}; measure a smaller batch size"
            )

    def _extract(self, spec: ModelSpec, module: torch.nn.Module, batch_size: int, seq_len: int | None):
        try:
            return run_and_extract(
                module,
                spec.model_inputs,
                batch_size,
                self.device,
                spec.name,
                seq_len=seq_len,
                dtype=self.execution.torch_dtype,
                channels_last=self.execution.channels_last,
            )
        except HwprofError as error:  # a model that fails (or exits) at a later batch size keeps the rows before
            advice = f"{mixed_weights_advice(module, self.execution.dtype)}{self._rows_kept()}"
            if not advice:
                raise
            raise HwprofError(f"{error.args[0]}{advice}") from None

    def _timing_failure(self, spec, batch_size: int, seq_len, instances: dict, failure: ItemFailed) -> str:
        """One sentence for a model that raised after it had run: which part, what it said, what is kept."""
        inputs = spec.model_inputs.describe(batch_size, seq_len, self.execution.torch_dtype)
        if failure.key == "network":
            sentence = run_failure(f"{spec.name} while timing it", inputs, failure.error)
        else:
            layer = instances[failure.key][0]
            sentence = run_failure(
                f"{layer.op} layer {layer.name} of {spec.name} while timing it", inputs, failure.error
            )
        return f"{sentence}{self._rows_kept()}"

    def _rows_kept(self) -> str:
        """The end of a failure's sentence where rows were written before it: where they are, and how to go on."""
        path = getattr(self.writer, "path", None)
        if path is None or not self.rows:
            return ""
        return f"; the rows measured before it are kept in {path}: run the same command with --resume to carry on"

    def finished_before(self, network_key: tuple, with_layers: bool) -> bool:
        """Whether an earlier run measured the whole group: its network row and, with layers, a row for each of
        the layer_count layers that row records. A resume then skips the group without running the model to
        trace it again (seconds for a large model, at every resume)."""
        count = self.layer_counts.get(network_key)
        if count is None:
            return False
        return not with_layers or self.earlier_layer_rows[network_key] >= count

    def measure_group(self, spec: ModelSpec, batch_size: int, with_layers: bool, seq_len: int | None = None) -> int:
        """Time what is left of one (model, batch size, seq_len) group; the number of items timed."""
        network_key = (spec.name, batch_size, seq_len)
        module = self.execution.prepare(spec.module, self.device)
        if spec.sweep is not None:
            layer_list, extraction = _sweep_layers(spec, batch_size, self.device, self.execution)
            with_layers = True
            self.networks_done.add(network_key)  # a sweep has no network to time
        else:  # a module its user compiled: its layers, as any network's, are found and timed eagerly
            self._check_memory(spec, eager(module), batch_size, with_layers, seq_len)
            layer_list, extraction = self._extract(spec, eager(module), batch_size, seq_len)
            if batch_size == 1:  # its extraction is the batch-1 trace the estimate is made from
                self._check_memory(spec, eager(module), batch_size, with_layers, seq_len, layer_list)
        if self.cache["mode"] == "cold":
            from hwprof.measuring.cache import COLD_MEMORY_SHARE

            self.cold_bytes_left = int(COLD_MEMORY_SHARE * available_memory_bytes(self.device))
        instances: dict[str, list[Layer]] = defaultdict(list)
        if with_layers:
            for layer in layer_list:
                if (*network_key, layer.index) not in self.layer_rows_done:
                    instances[layer.config_id(self.device_text)].append(layer)
        identity = self._identity(spec, batch_size, extraction, seq_len)
        items: dict[str, Item] = {}
        for config_id, group in instances.items():
            if config_id in self.measured:
                self.emit([self._layer_row(identity, layer, config_id) for layer in group])
            else:
                items[config_id] = Item(config_id, self._layer_runner(config_id, group[0]), self.sync)
        args, kwargs = (), {}
        output_bytes: list[int] = []
        output_dtypes: set[torch.dtype] = set()
        autocast = AutocastSeen(self.device.type)  # watches the eager network's first call only
        inputs_written: list[bool] = []  # the network's calls changed its inputs, and went on changing them
        if network_key not in self.networks_done:
            args, kwargs = spec.model_inputs.make(
                batch_size, seq_len, self.device, self.execution.torch_dtype, self.execution.channels_last
            )
            given = [tensor.clone() for tensor in (*args, *kwargs.values())]  # to tell a model that writes them
            if compiled_by_user(module):
                self._note_compiled(spec.name)
            network = self.execution.network(module, args, kwargs, spec.name)
            watched = network is module and not compiled_by_user(module)  # a mode would make a compiled one recompile

            def call() -> object:
                return network(*args, **kwargs)

            def sizing_call() -> None:
                """The cold call, which also sizes the output for the row (a slow network runs no call more), and
                finds whether the network writes its inputs, the dtypes it returns and any autocast it enters."""
                with autocast if watched else contextlib.nullcontext():
                    outputs = tensors_in(call())
                output_bytes.append(sum(t.numel() * t.element_size() for t in outputs))
                output_dtypes.update(t.dtype for t in outputs)
                fed = (*args, *kwargs.values())
                changed = not all(map(torch.equal, fed, given))
                inputs_written.append(changed)
                given[:] = [tensor.clone() for tensor in fed] if changed else []  # what the first call left
                items["network"].fn = call

            items["network"] = Item("network", sizing_call, self.sync, span=True)
        if not items:
            return 0
        if self.clock is not None and self.clock.place[0]:
            number, groups, _ = self.clock.place
            self.progress.position(number, groups, self.clock.left_s(len(items)))
        self.progress.group(spec.name, batch_size, len(items))

        def emit_item(result: Result, measurement: dict, samples: RawSamples) -> None:
            # a write that later calls repeat to the same values (a relu_ first) leaves the inputs as the first call
            # left them, and drifts nothing; one call alone (its budget spent) drifts nothing either
            if (
                result.key == "network"
                and inputs_written[0]
                and not all(map(torch.equal, (*args, *kwargs.values()), given))
            ):
                measurement["stable"] = False
                self._warn_inputs_written(spec.name)
            if result.key == "network":
                self._warn_autocast(spec.name, module, output_dtypes | autocast.dtypes)
                row = self._network_row(
                    spec, identity, layer_list, module, (args, kwargs), output_bytes[0], measurement, result
                )
                self.emit([row], samples)
                label, what = f"{spec.name} (network)", spec.name
            else:
                self.measured[result.key] = measurement
                group = instances[result.key]
                self.emit([self._layer_row(identity, layer, result.key) for layer in group], samples)
                label, what = f"{group[0].op} {group[0].name}", f"{group[0].op} layer {group[0].name} of {spec.name}"
            self.progress.item_done(label, measurement["latency_ms"], measurement["stable"])
            if result.over_budget and result.summary.median > self.runner.method.max_item_s:
                self._warn_over_budget(f"{what} at batch size {batch_size}", result)
            elif result.over_budget:  # a sample of quick calls, not one call: said once for the run
                self.overruns.append((result.measure_s, result.summary.median * result.iterations))

        timed: list[tuple[Result, dict, RawSamples]] = []  # latencies taken whose energy is still to come

        def keep_without_energy() -> None:
            """The latencies taken but not yet written: a run stopped before their energy windows loses none of
            them, and a resume carries on after them. A row whose window never ended is flagged
            energy_interrupted; one whose window ended before the stop keeps its energy and its own flags. A row
            that cannot be written is said and leaves the rest written, and the error that stopped the run is
            the one raised. A second Ctrl-C meanwhile is held and dropped: the run is stopping already, and the
            rows left take no time to write."""
            with signals_deferred():
                while timed:
                    result, measurement, samples = timed.pop(0)
                    if measurement["power_flags"] is None:  # set by its energy window alone, once that ended
                        measurement["power_flags"] = "energy_interrupted"
                    try:
                        emit_item(result, measurement, samples)
                    except BaseException as error:
                        self.progress.warn(
                            f"warning: a row of {spec.name} at batch size {batch_size} timed before the run stopped "
                            f"could not be written ({type(error).__name__}: {error}); --resume measures it again"
                        )

        def on_done(result: Result) -> None:
            measurement = self._measurement(items[result.key], result)
            samples = RawSamples.uniform(result.samples, result.iterations)
            if self.sensor.available:  # its energy once every latency of the group is taken
                timed.append((result, measurement, samples))
            else:
                self._flag_stopped(measurement)
                emit_item(result, measurement, samples)

        try:
            try:
                self.runner.measure(list(items.values()), on_done)
                # Energy after the latency work: idle windows would otherwise let the GPU's clocks drop under
                # the items still being timed; measure_energy warms each item up again under load.
                while timed:
                    result, measurement, samples = timed[0]
                    self._add_energy(items[result.key], measurement)
                    emit_item(*timed.pop(0))
            except BaseException:  # Ctrl-C, SIGTERM or a failure, in the timing or the energy windows
                keep_without_energy()
                raise
        except ItemFailed as failure:
            raise HwprofError(self._timing_failure(spec, batch_size, seq_len, instances, failure)) from None
        return len(items)

    def _warn_inputs_written(self, model: str) -> None:
        """Once a model: its network calls all ran on one set of inputs, which it writes in place (x.div_(2)), so
        each call ran on what the calls before it left, and its latency drifts with the number of calls made."""
        if model in self.inputs_written:
            return
        self.inputs_written.add(model)
        self.progress.warn(
            f"warning: {model} writes its inputs in place (its calls went on changing them), so each timed call ran on "
            "what the calls before it left and its network latency drifts over the run (its row says stable false): "
            "measure a model that leaves its inputs as given, e.g. one whose forward clones them first"
        )

    def _warn_autocast(self, model: str, module: torch.nn.Module, computed: set[torch.dtype]) -> None:
        """Once a model whose network computed in a half-precision dtype that neither the run nor any of its weights
        is in (an autocast its first call entered, or a dtype it returns, which is all a compiled network shows): a
        torch.autocast inside its forward makes it so, and its layers, found and timed alone outside that autocast,
        ran in the run's dtype, which every row says."""
        held = {tensor.dtype for tensor in module.parameters()} | {self.execution.torch_dtype}
        cast = sorted(str(d).removeprefix("torch.") for d in computed - held if d in (torch.float16, torch.bfloat16))
        if not cast or model in self.autocast_warned:
            return
        self.autocast_warned.add(model)
        run = self.execution.dtype
        self.progress.warn(
            worded(
                f"warning: {model} computes in {' and '.join(cast)} where the run is {run} and none of its weights is "
                f"in {' or '.join(cast)}, as a torch.autocast inside its forward makes it: its network was timed so, "
                f"but its layers were timed alone in {run}, outside that autocast, and every row says {run}; to time "
                f"its layers in {cast[0]}, measure it without that autocast and with {option('dtype', cast[0])}"
            )
        )

    def _note_compiled(self, model: str) -> None:
        """Once a model its user torch.compile'd: say that it is measured as --compile measures a network."""
        if model in self.compiled_noted:
            return
        self.compiled_noted.add(model)
        self.progress.note(
            f"{model} is torch.compile'd already: its network is compiled once before timing, the compile time left "
            f"out, and its network row says compiled, as with {option('compile')}; its layers are timed eagerly"
        )

    def report_overruns(self) -> None:
        """One line for the items whose samples, not their calls, ran them past the budget: a short budget
        against the calibrated sample length (min_sample_s, a burst at least) sends nearly every item over
        by a little, and a line each buried the run's other notes."""
        if not self.overruns:
            return
        budget_s = self.runner.method.max_item_s
        count = len(self.overruns)
        most_s = max(measure_s for measure_s, _ in self.overruns) - budget_s
        enough_s = _rounded_up(max(sample_s for _, sample_s in self.overruns) / OVERRUN_SHARE)
        self.progress.warn(
            worded(
                f"{count} item{'s' * (count != 1)} ran past {option('max_item_s', f'{budget_s:g}')} by up to "
                f"{most_s:.2g} s, as their samples (calibrated to last at least {self.runner.min_sample_s * 1e3:.2g} "
                f"ms each) are long against so short a budget, and their rows rest on few; "
                f"{option('max_item_s', f'{enough_s:g}')} or more would keep each within {OVERRUN_SHARE:.0%} of it"
            )
        )

    def _warn_over_budget(self, what: str, result: Result) -> None:
        """An item whose samples are long against its budget ran past it (the runner takes one sample at least,
        and a burst's samples all): say so, since its row's few samples and its time otherwise pass for a budget
        spent as asked. A sample is `iterations` calls; on a busy machine each lasts longer than it would alone."""
        budget_s = self.runner.method.max_item_s
        calls = result.iterations
        median_s = result.summary.median
        sample = f"one sample ({calls} call{'s' * (calls != 1)} of {median_s:.2g} s) takes {median_s * calls:.2g} s"
        share = result.other_cpu_share or 0.0
        busy = (
            f" while other processes held {share:.0%} of the CPU"
            + (_QUOTA_STOPPED if result.discarded_bursts and _throttled_so_far() else "")
            + (f" ({result.discarded_bursts} burst(s) discarded and waited out)" if result.discarded_bursts else "")
            if share > self.runner.method.max_other_share or result.discarded_bursts
            else ""
        )
        self.progress.warn(
            worded(
                f"{what} took {result.measure_s:.3g} s where {option('max_item_s', budget_s)} allows it "
                f"{budget_s:g} s: {sample}{busy}, so its latency rests on {result.summary.n} sample(s); give a "
                "longer budget for more"
            )
        )

    def _layer_runner(self, config_id: str, layer: Layer) -> Callable[[], object]:
        """The layer alone: on the same buffers every call (warm), or rotating through copies (cold)."""
        if self.cache["mode"] == "warm":
            self.cache_labels[config_id] = "warm"
            return layer.call.bind(self.device)
        from hwprof.measuring.cache import rotating_call

        # the copies take what each holds (an embedding's whole table), which the bytes a call reads may not say
        copy_bytes = max(1, layer.call.memory_bytes())
        layer_bytes = max(1, layer.input_bytes + layer.output_bytes + layer.weight_bytes)
        run, self.cache_labels[config_id], copies = rotating_call(
            layer.call, self.device, layer_bytes, self.cache["cache_bytes"], self.cold_bytes_left // copy_bytes
        )
        self.cold_bytes_left -= copies * copy_bytes
        return run

    def _measurement(self, item: Item, result: Result) -> dict:
        summary = result.summary
        values = dict.fromkeys(MEASUREMENT_COLUMNS)
        values.update(
            {
                "latency_ms": summary.median * 1e3,
                "latency_ms_ci_low": summary.ci_low * 1e3,
                "latency_ms_ci_high": summary.ci_high * 1e3,
                "latency_ms_std": summary.std * 1e3,
                "samples": summary.n,
                "iterations": result.iterations,
                "stable": result.stable,
                "measure_s": result.measure_s,
                "other_cpu_share": result.other_cpu_share,
                "discarded_bursts": result.discarded_bursts,
                "processes": 1,
                "cache": self.cache_labels.get(result.key),
            }
        )
        self.measured_now.append(values)
        other_processes = getattr(self.sensor, "other_processes", None)
        if other_processes is not None:  # a GPU's other users while this item's latency was taken
            values["gpu_other_processes"] = other_processes()
        return values

    def _add_energy(self, item: Item, values: dict) -> None:
        """The item's energy; a sensor lost mid-run (a GPU fallen off the bus) ends power for the rest."""
        from hwprof.measuring.energy import measure_energy

        seen_while_timed = values.get("gpu_other_processes")
        if not self.sensor.available:
            return
        try:
            energy = measure_energy(item.run, values["latency_ms"] / 1e3, self.sensor, self.trace)
        except SensorUnavailable as lost:
            self.sensor = NoSensor.in_place_of(self.sensor, lost)
            self.writer.provenance["power"].update(
                stopped_reason=self.sensor.reason, stopped_after_rows=len(self.rows), stopped_at=now_text()
            )
            self.progress.warn(f"{self.sensor.reason}; the rows from here on have no power (flagged sensor_stopped)")
            self._flag_stopped(values)
            return
        if seen_while_timed:
            energy["gpu_other_processes"] = max(seen_while_timed, energy["gpu_other_processes"] or 0)
            if "other_gpu_processes" not in energy["power_flags"].split(","):
                energy["power_flags"] = ",".join(f for f in (energy["power_flags"], "other_gpu_processes") if f)
        values.update(energy)  # in one step: a stop leaves the row with its whole energy and flags, or none
        if "no_energy" in values["power_flags"].split(",") and not self.noted_no_energy:
            self._note_no_energy()

    def _flag_stopped(self, values: dict) -> None:
        """A row timed after the sensor stopped mid-run says so (sensor_stopped); the provenance says why."""
        power = self.writer.provenance["power"]
        if power.get("stopped_reason"):
            values["power_source"] = power["source"]
            values["power_flags"] = "sensor_stopped"

    def _note_no_energy(self) -> None:
        """Rows flagged no_energy have null power: say why once, as a missing sensor is said."""
        self.noted_no_energy = True
        reason = self.sensor.no_energy_reason("the energy windows")
        self.progress.warn(f"power unavailable: {reason}; the rows flagged no_energy have no power")

    def _identity(self, spec: ModelSpec, batch_size: int, extraction: str, seq_len: int | None = None) -> dict:
        return {
            "model": spec.name,
            "batch_size": batch_size,
            "device": self.device_text,
            "device_name": self.device_name,
            "extraction": extraction,
            "seq_len": seq_len,
            "dtype": self.execution.dtype,
            # what the run did to it, or what the model does by itself
            "channels_last": (self.execution.channels_last and _lays_out_nhwc(spec)) or _nhwc_by_itself(spec),
            "compiled": False,  # layers always run eagerly; network rows say whether they were compiled
        }

    def _layer_row(self, identity: dict, layer: Layer, config_id: str) -> dict:
        return {
            **identity,
            "kind": "layer",
            "layer_index": layer.index,
            "layer_name": layer.name,
            "op": layer.op,
            "config": layer.config_json(),
            "flops": layer.flops,
            "params": layer.params,
            "input_bytes": layer.input_bytes,
            "output_bytes": layer.output_bytes,
            "weight_bytes": layer.weight_bytes,
            "config_id": config_id,
            **self.measured[config_id],
        }

    def _network_row(
        self, spec, identity, layer_list, module, example, output_bytes: int, measurement, result: Result
    ) -> dict:
        """The network's row; its output_bytes come from its first timed call (measure_group)."""
        args, kwargs = example
        inputs = tensors_in((args, kwargs))
        parameters, buffers = module_weights(module)  # a quantized Linear's packed weights too
        weights = parameters + buffers
        batch_size, seq_len = identity["batch_size"], identity["seq_len"]
        shapes = spec.model_inputs.shapes(batch_size, seq_len)
        config = {"input_shape": shapes[0], "family": spec.family}
        if len(shapes) > 1 or spec.inputs is not None:
            config["inputs"] = spec.model_inputs.describe(batch_size, seq_len, self.execution.torch_dtype)
        return {
            **identity,
            "compiled": self.execution.compile or compiled_by_user(module),
            "kind": "network",
            "layer_index": -1,
            "layer_name": spec.name,
            "op": "network",
            "config": json.dumps(config, sort_keys=True),
            "flops": sum(layer.flops for layer in layer_list),
            "params": sum(p.numel() for p in parameters),
            "input_bytes": sum(t.numel() * t.element_size() for t in inputs),
            "output_bytes": output_bytes,
            "weight_bytes": sum(t.numel() * t.element_size() for t in weights),
            "layer_count": len(layer_list),
            **measurement,
            "latency_ms_p90": result.tail_s[0] * 1e3 if result.tail_s else None,
            "latency_ms_p99": result.tail_s[1] * 1e3 if result.tail_s else None,
        }
