"""The dataset's column contract, stated once.

`hwprof measure` writes these columns, `hwprof merge` checks them and
`hwprof fit` relies on them. Power columns stay null until a driver fills them.
"""

SCHEMA_VERSION = 1

IDENTITY_COLUMNS = (
    "kind",  # "layer" or "network"
    "model",
    "batch_size",
    "device",
    "device_name",
    "layer_index",  # -1 for network rows
    "layer_name",
    "op",
    "config",  # JSON: hyper-parameters and shapes
)
FEATURE_COLUMNS = ("flops", "params", "input_bytes", "output_bytes", "weight_bytes")
LATENCY_COLUMNS = (
    "latency_ms",  # median of samples, per inference
    "latency_ms_ci_low",  # 95% interval of the median; null when unbounded (MIN_BOUNDED_SAMPLES)
    "latency_ms_ci_high",
    "latency_ms_std",
    "samples",
    "iterations",  # loop count per sample
    "stable",  # the CI met --precision
)
POWER_COLUMNS = ("power_w", "idle_power_w", "energy_mj", "power_source")

REQUIRED_COLUMNS = IDENTITY_COLUMNS + FEATURE_COLUMNS + LATENCY_COLUMNS + POWER_COLUMNS

# Columns hwprof also writes; optional for datasets from elsewhere.
EXTRA_COLUMNS = (
    "dynamic_energy_mj",  # energy_mj net of idle power
    "power_flags",  # e.g. "clocks_changed,throttled,short_window"
    "extraction",  # "fx" or "hooks": how the network was decomposed
    "layer_count",  # network rows: layers that execute
    "config_id",  # layer rows: instances with the same id share one measurement
    "measure_s",  # wall time spent measuring the row
    "other_cpu_share",  # share of the CPUs this process may use that others took meanwhile; > CONTENDED_SHARE means suspect
    "discarded_bursts",  # sample bursts thrown away because other processes held too much of the CPU
    "processes",  # fresh processes the row's measurement was combined from (measure --processes)
    "run_id",  # links the row to its run's provenance
    # how the network was fed and run, and its tail latency
    "seq_len",  # the sequence length of models with a sequence dimension, null for others
    "dtype",  # float dtype of weights and float inputs: float32, float16 or bfloat16
    "channels_last",  # 4-D tensors laid out NHWC (--channels-last)
    "compiled",  # network rows run through torch.compile; layer rows are always eager (false)
    "latency_ms_p90",  # network rows: 90th percentile of the samples (MLPerf SingleStream's metric)
    "latency_ms_p99",  # network rows: 99th percentile; `samples` says how many are behind both
)
# What the GPU was doing in the row's load window (NVML), how steady its power was, and how the layer's buffers were used.
GPU_STATE_COLUMNS = (
    "gpu_sm_clock_mhz",  # median SM clock in the load window
    "gpu_mem_clock_mhz",
    "gpu_temperature_c",  # highest seen in the load window
    "gpu_pstate",  # e.g. "P0"; several comma-separated when it moved
    "gpu_clock_event_reasons",  # e.g. "SwPowerCap"; "" when none
    "gpu_other_processes",  # other processes with a context on the GPU meanwhile; > 0 means suspect
    "gpu_load_percent",  # median GPU load in the load window (a Jetson's GR3D_FREQ %; NVML gives none)
    "emc_load_percent",  # median load of the memory controller the CPU and GPU share (a Jetson's EMC_FREQ %)
    "power_spread",  # load power of the window's two halves, relative difference (every sensor, not only NVML)
    "cache",  # "warm": a layer reuses its buffers; "cold": rotated through more than the caches hold
)

ALL_COLUMNS = REQUIRED_COLUMNS + EXTRA_COLUMNS + GPU_STATE_COLUMNS
COMPUTE_DTYPES = ("float32", "float16", "bfloat16")  # what the dtype column holds (--dtype)
# how a run whose provenance records no cache mode timed its layers: warm, the default until cold became it
CACHE_BEFORE_RECORDED = "warm"
# the allocator of a measure run whose provenance records none: it ran before measure pinned glibc's (2026-11-29),
# with the allocator as the process found it, what --allocator system records
ALLOCATOR_BEFORE_RECORDED = "system"
ALLOCATOR_POLICIES = ("steady", "system")  # measure's --allocator policies, its default first
DEFAULT_CACHE_MODE = "cold"  # measure's default since 2026-12-03 (hwprof.measuring.cache says why)
SWEEP_PREFIX = "sweep:"  # the layer sweeps' model names (sample_models.sweep), here for readers without torch
# how layers and networks were measured before these columns were written: float32, eager, channels first
SETTINGS_BEFORE_RECORDED = {"dtype": "float32", "compiled": False, "channels_last": False}

# above this share of the CPUs this process may use taken by others while a row was timed, its timing is suspect
CONTENDED_SHARE = 0.05

# fewer samples than this (from one process) bound no 95% interval of their median (order statistics,
# hwprof.measuring.stats.median_ci_ranks): the row's CI columns are null, or in datasets written before,
# the samples' range, which covers the median far less often (75% of the time from 3 samples)
MIN_BOUNDED_SAMPLES = 6

INT_COLUMNS = (
    "batch_size",
    "layer_index",
    "flops",
    "params",
    "input_bytes",
    "output_bytes",
    "weight_bytes",
    "samples",
    "iterations",
    "layer_count",
    "discarded_bursts",
    "processes",
    "seq_len",
    "gpu_other_processes",
)
FLOAT_COLUMNS = (
    "latency_ms",
    "latency_ms_ci_low",
    "latency_ms_ci_high",
    "latency_ms_std",
    "power_w",
    "idle_power_w",
    "energy_mj",
    "dynamic_energy_mj",
    "measure_s",
    "other_cpu_share",
    "latency_ms_p90",
    "latency_ms_p99",
    "gpu_sm_clock_mhz",
    "gpu_mem_clock_mhz",
    "gpu_temperature_c",
    "gpu_load_percent",
    "emc_load_percent",
    "power_spread",
)
BOOL_COLUMNS = ("stable", "channels_last", "compiled")

# How each metric is named to a person, with its unit: tables, plots, search summaries.
METRIC_LABELS = {
    "latency_ms": "latency ms",
    "power_w": "power W",
    "energy_mj": "energy mJ",
    "params": "params",
    "flops": "MACs",
    "memory_mb": "memory MB",
}


def value_kind(series) -> str | None:
    """What a column (a pandas Series) actually holds, None when it is all null."""
    import pandas as pd

    if not series.notna().any():
        return None
    inferred = pd.api.types.infer_dtype(series, skipna=True)
    if inferred in ("integer", "floating", "mixed-integer-float", "decimal"):
        return "number"
    if inferred == "boolean":
        return "boolean"
    if inferred == "string":
        return "text"
    return inferred


KIND_WORDS = {"number": "numbers", "boolean": "true/false values", "text": "text"}


def kind_words(kind: str) -> str:
    """What value_kind() found, in words for a message: "text", "numbers"."""
    return KIND_WORDS.get(kind, f"{kind} values")
