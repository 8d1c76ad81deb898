"""`hwprof compare BASE NEW`: did latency or energy change between two runs, and can we tell?

Rows are matched by what was measured (device, model, batch size, layer position,
op and configuration, and dtype, --compile and --channels-last where both datasets have them); those
settings are checked board by board, so a fleet board measured otherwise tonight is named, not left out. Each metric gets
the ratio NEW / BASE of the datasets' figures. For latency the raw samples
(`hwprof.samples`) also give a 95% interval of the ratio of medians, by a
bootstrap: each side resampled on its own, the distribution of a resample's
median taken exactly from the order statistics (so a thousand samples cost no
more than ten), their ratio drawn 20000 times, seeded so the same files always
give the same answer. A change is significant when the two-sided Mann-Whitney U
test gives p < 0.05 *and* the interval excludes 1, so one method's blind spot
(U tests a shift of the whole distribution, the interval only the median) does
not raise a false alarm. Energy and power have one load window per row, so no
spread within a run to test a row by; per model and per op (and per dtype, --compile or
--channels-last setting where the paired rows hold several) the geometric mean of the row
ratios gets a Student's t interval over rows (distinct measurements only),
significant when it excludes 1. A network's energy and power, and every figure of a
command `hwprof run` timed (once per run, with no samples), are tested by the
spread between runs alone where the sides hold enough runs of the row (below).

The samples describe the spread within a run; a rerun in a fresh process on a
shared machine also moves by the spread between processes, which they cannot
show (BENCHMARKS.md). A side that measured a target in several runs (reruns
merged into one baseline, boards of one kind) therefore gives the median of its
runs' figures; the bootstrap draws each run's samples, and the interval is widened
(in log, in quadrature) by a Student's t term from the spread of the runs' medians,
which a side of one run takes as its own too: its run moved as much, unseen. Such a
row's verdict comes from the interval alone, as the U test would count samples of
different runs as independent. A figure measured once per run has no samples to
draw, so its interval is that t term alone; it takes two degrees of freedom (two runs a
side, or three against one), as two runs against one leave a t of 12.7. A row `measure --processes`
combined from several processes is the median of their medians, which its pooled
samples cannot reproduce; its own interval already holds the spread between the
processes, so such a row is tested by the two rows' intervals (their log
half-widths added in quadrature, each sized for one side) instead. `--fail-above` gates on
significant changes larger than a threshold, never on significance alone; as it tests every network, model and
op at once, each at 5% would fail a job on some unchanged item ever more often the more it tests, so their
p-values take Holm's correction (the chance of any false alarm among them stays at 5%).
"""

from __future__ import annotations

import json
import math
import os
import re
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from hwprof.dataset import RUN_CONDITIONS, UNREADABLE, condition_differences, read_dataset
from hwprof.errors import HwprofError, given_percent, option
from hwprof.progress import Progress, duration_text, given_progress
from hwprof.samples import SUFFIX as SAMPLES_SUFFIX
from hwprof.samples import grouped, read_samples, row_key, samples_path
from hwprof.schema import (  # per side: fewer samples cannot bound a median at 95%
    MIN_BOUNDED_SAMPLES,
    SETTINGS_BEFORE_RECORDED,  # rows from before the setting columns
)

CONFIDENCE = 0.95
ALPHA = 1 - CONFIDENCE
BOOTSTRAP_RESAMPLES = 20000  # draws of the ratio of medians
ROUND_OFF = 1e-9  # relative: a ratio this close to the gate's threshold is at it, not above
ONE_FREEDOM = "two runs against one"  # the spread between runs with one degree of freedom: no interval to speak of
ONE_WINDOW = "one load window per row"  # a network's energy and power: one figure per run, no samples to test by
PROGRESS_EVERY_S = 15.0  # how often, at most, compare says how far it is: a fleet's rows take minutes to test
ONCE_PER_RUN = "hwprof run measures a command once per run"  # each of its figures: one per run, no samples
MIN_RUNS_EACH = 2  # runs a side that leave the spread between runs 2 degrees of freedom, as _sample_test needs
MIN_SUMMARY_ROWS = 5  # distinct measurements behind a geometric mean before it is tested
METRICS = ("latency_ms", "energy_mj", "power_w")
POWER_METRICS = ("energy_mj", "power_w")  # from one load window per row, which power_flags may call into doubt
INTERVAL_COLUMNS = ("latency_ms_ci_low", "latency_ms_ci_high")
GATE_METRICS = ("latency_ms", "energy_mj")
# what makes two rows the same measurement target; dtype joins where both datasets have it
MATCH_COLUMNS = ("device_name", "model", "batch_size", "kind", "layer_index", "op", "config")
# columns the two sides must share a value of, and which join rows: a compiled network is not its eager run
SETTING_COLUMNS = {
    "device_name": "device",
    "dtype": "dtype",
    "compiled": "--compile",
    "channels_last": "--channels-last",
}
# a flag's words in a label, set and not set
SETTING_WORDS = {"compiled": ("compiled", "eager"), "channels_last": ("channels-last", "contiguous")}
# the settings of RUN_CONDITIONS compare words alike; torch has its own sentence, and the rows' cache labels
# say which caches the paired layers were timed with
COMPARED_CONDITIONS = tuple(key for key in RUN_CONDITIONS if key not in ("torch", "cache"))
PRELOAD_WORDS = re.compile(r"LD_PRELOAD[= ]")  # an env difference in LD_PRELOAD, as condition_differences words it
DISTINCT_COLUMNS = ("device_name", "batch_size", "kind", "op", "config")  # one measurement, however many rows
HIGHER, LOWER, SAME, UNTESTED = "higher", "lower", "not significant", "untested"
WHOLE_KINDS = ("network", "command")  # rows that gate on their own: a whole network, a command hwprof run timed
METHOD = (
    "latency per row: Mann-Whitney U (two-sided) and a bootstrap of the ratio of medians "
    f"({BOOTSTRAP_RESAMPLES} draws), significant when p < {ALPHA:.2g} and the {CONFIDENCE:.0%} interval "
    "excludes 1; where a side has several runs, the interval alone, widened by Student's t over the spread of "
    "the runs' medians; network energy and power and every figure of a command: that spread alone, where the sides "
    "hold enough runs; per model and per op: geometric mean of the row ratios, Student's t interval over distinct "
    "measurements"
)


class CannotCompare(HwprofError):
    """The inputs cannot answer the question asked; distinct from a regression (exit 1) for CI jobs."""

    exit_code = 2


@dataclass
class _Side:
    path: Path
    frame: pd.DataFrame
    samples: dict | None  # (run_id, key) -> RawSamples
    samples_missing: str | None  # why there are none, when there are none

    @property
    def runs(self) -> list[dict]:
        """The provenance of the side's runs, as read_dataset read it with the rows."""
        return self.frame.attrs.get("provenance", [])


def _load(path: str | os.PathLike, role: str) -> _Side:
    path = Path(path)
    if path.name.endswith(SAMPLES_SUFFIX):
        dataset = str(path).removesuffix(SAMPLES_SUFFIX)
        raise CannotCompare(f"{role} {path} holds the raw samples of a dataset; give the dataset, {dataset}")
    try:
        frame = read_dataset([path])
    except HwprofError as error:
        raise CannotCompare(f"{role}: {error}") from None
    try:
        raw = read_samples(path)
    except HwprofError as error:
        raise CannotCompare(f"{role}: {error}") from None
    if raw is None:
        if frame["kind"].eq("command").all():
            why = (
                f"{path.name} holds commands, which hwprof run times once per run without raw samples: only the "
                "spread between a command's runs can test it"
            )
        else:
            why = (
                f"{path.name} has no raw samples ({samples_path(path).name}): it was measured before hwprof kept "
                "raw samples, or its sidecar was not copied with it"
            )
        return _Side(path, frame, None, why)
    return _Side(path, frame, grouped(raw), None)


def parse_threshold(text: str | float) -> float:
    """'5%' or '5' (percent) as the fraction 0.05. A bare number below 1 is refused: it is most likely a
    fraction meant as a percentage (0.05 for 5%), and read as a percent it would gate 100 times tighter."""
    written = str(text).strip()
    value = written.removesuffix("%")
    try:
        percent = float(value)
    except ValueError:
        raise CannotCompare(f"{option('fail_above', text)} is not a percentage; write it as 5%") from None
    if not (math.isfinite(percent) and percent >= 0):
        raise CannotCompare(f"{option('fail_above', text)} must be a percentage of 0 or more, such as 5%")
    if 0 < percent < 1 and not written.endswith("%"):
        raise CannotCompare(
            f"{option('fail_above', text)} is a percentage, not a fraction: write {100 * percent:g}% for "
            f"{100 * percent:g} percent, or {percent:g}% if you mean it"
        )
    return percent / 100


# ---------------------------------------------------------------- statistics


def _rng(*parts) -> np.random.Generator:
    """A generator seeded by what is compared, so the same inputs always give the same interval."""
    return np.random.default_rng(zlib.crc32("|".join(map(str, parts)).encode()))


def bootstrap_medians(samples: np.ndarray, rng: np.random.Generator, count: int) -> np.ndarray:
    """Medians of `count` bootstrap resamples of `samples`, the ordinary median the rows report (the mean of
    the two middle values when n is even), drawn from the order statistics without building a resample.

    A resample's k-th smallest value is x_(a) for some sample index a, and it is at most x_(a) exactly when
    at least k of the n draws are (C_a >= k, C_a ~ Binomial(n, a/n)). For odd n the median is the k-th,
    k = (n+1)/2. For even n, k = n/2, and the (k+1)-th is x_(a) too unless exactly k draws are at most x_(a)
    (probability P(C_a = k)(1 - ((a-1)/a)^k) of A = a); then the other n-k draws fall uniformly above a,
    and the (k+1)-th is the least of them."""
    from scipy.special import bdtrc

    ordered = np.sort(samples)
    n = ordered.size
    k = (n + 1) // 2
    index = np.arange(1, n + 1)
    cdf = bdtrc(k - 1, n, index / n)  # P(k-th smallest <= x_(a)), a = 1..n: the binomial's upper tail
    low = np.minimum(np.searchsorted(cdf, rng.random(count)), n - 1)  # 0-based a - 1
    if n % 2:
        return ordered[low]
    exactly = _binomial_pmf(k, n, index / n) * (1 - ((index - 1) / index) ** k)  # P(A = a, C_a = k)
    at_a = np.diff(cdf, prepend=0.0)  # P(k-th smallest = x_(a))
    chance = np.divide(exactly, at_a, out=np.zeros(n), where=at_a > 0)
    apart = rng.random(count) < chance[low]
    above = n - (low + 1)  # values above x_(a)
    gap = np.ceil(above * (1 - rng.random(count) ** (1 / (n - k))))
    high = low + np.where(apart, np.clip(gap, 1, np.maximum(above, 1)), 0).astype(int)
    return (ordered[low] + ordered[np.minimum(high, n - 1)]) / 2


def _binomial_pmf(k: int, n: int, p: np.ndarray) -> np.ndarray:
    """P(C = k) for C ~ Binomial(n, p), from scipy.special's ufuncs: scipy.stats.binom.pmf checks its
    arguments on every call, which cost more than the draws themselves in a compare of thousands of rows."""
    from scipy.special import betaln, xlog1py, xlogy

    return np.exp(xlogy(k, p) + xlog1py(n - k, -p) - betaln(k + 1, n - k + 1) - np.log(n + 1))


def _bootstrap_runs(runs: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """Draws of the median of the runs' medians, each run's samples drawn within it: the spread between the
    runs is `_between_runs`'s, which 2-3 resampled runs would understate."""
    if len(runs) == 1:
        return bootstrap_medians(runs[0], rng, BOOTSTRAP_RESAMPLES)
    return np.median([bootstrap_medians(samples, rng, BOOTSTRAP_RESAMPLES) for samples in runs], axis=0)


def _bootstrap_median_ratio(base: list, new: list, rng: np.random.Generator) -> tuple[float, float, float]:
    """The interval of the ratio of medians, and the two-sided p-value of the same draws (the share on the far
    side of 1, doubled; one draw added to each count so 20000 draws never claim a p of 0)."""
    ratios = _bootstrap_runs(new, rng) / _bootstrap_runs(base, rng)
    low, high = np.quantile(ratios, [ALPHA / 2, 1 - ALPHA / 2])
    tail = min(int((ratios <= 1).sum()), int((ratios >= 1).sum())) + 1
    return float(low), float(high), min(1.0, 2 * tail / (ratios.size + 1))


def _verdict(low: float, high: float, p_value: float | None = None) -> str:
    if p_value is not None and not p_value < ALPHA:
        return SAME
    if low > 1:
        return HIGHER
    return LOWER if high < 1 else SAME


def mann_whitney_p(new: np.ndarray, base: np.ndarray) -> float:
    """The two-sided Mann-Whitney U test's p-value, as scipy.stats.mannwhitneyu gives it: its exact
    distribution for small samples without ties, else the normal approximation with tie and continuity
    corrections, computed here from one np.unique (scipy's general machinery took 2.5 ms a row)."""
    n_new, n_base = new.size, base.size
    values, where, ties = np.unique(np.concatenate([new, base]), return_inverse=True, return_counts=True)
    if (n_new <= 8 or n_base <= 8) and not (ties > 1).any():
        from scipy.stats import mannwhitneyu

        return float(mannwhitneyu(new, base, alternative="two-sided").pvalue)
    mean_ranks = np.cumsum(ties) - (ties - 1) / 2  # a tied value's rank: the mean of the ranks it spans
    u_new = mean_ranks[where[:n_new]].sum() - n_new * (n_new + 1) / 2
    u = max(u_new, n_new * n_base - u_new)
    n = n_new + n_base
    spread = math.sqrt(n_new * n_base / 12 * ((n + 1) - float((ties**3 - ties).sum()) / (n * (n - 1))))
    if spread == 0:  # every value equal: no evidence of a shift
        return 1.0
    from scipy.special import ndtr

    return float(min(1.0, 2 * ndtr(-(u - n_new * n_base / 2 - 0.5) / spread)))


def _sample_test(base: list, new: list, seed) -> dict:
    """Interval, p-value and verdict of NEW/BASE from each side's runs of samples. Where a side has several
    runs, the U test would take the samples of different runs as independent, so a few percent between runs
    would read as a shift however the code stands: the verdict then comes from the interval alone, widened by
    the spread between the runs (`_between_runs`)."""
    if sum(len(runs) - 1 for runs in (base, new)) == 1:  # two runs against one: Student's t of 12.7
        return _untested(
            f"{ONE_FREEDOM}: one side holds two runs and the other one, too few to bound how far runs move (a +60% "
            "rise read as not significant)"
        )
    low, high, bootstrap_p = _bootstrap_median_ratio(base, new, _rng(*seed))
    if len(base) == len(new) == 1:
        p_value = mann_whitney_p(np.concatenate(new), np.concatenate(base))
        verdict = _verdict(low, high, p_value)
        return {
            "ci_low": low,
            "ci_high": high,
            "p_value": p_value,
            "bootstrap_p_value": bootstrap_p,
            "verdict": verdict,
        }
    base_medians, new_medians = ([float(np.median(run)) for run in runs] for runs in (base, new))
    # a side's figure of a target is the median of its runs' medians, as its row gives it
    center = math.log(float(np.median(new_medians)) / float(np.median(base_medians)))
    between = _between_runs(base_medians, new_medians)
    low = math.exp(center - math.hypot(center - math.log(low), between))
    high = math.exp(center + math.hypot(math.log(high) - center, between))
    freedom = len(base) + len(new) - 2  # of the spread between runs, as _between_runs pools it
    return {
        "ci_low": low,
        "ci_high": high,
        "p_value": None,
        "degrees_of_freedom": freedom,
        "verdict": _verdict(low, high),
    }


def _between_runs(base_medians: list[float], new_medians: list[float]) -> float:
    """The half-width, in log, that the spread between runs adds to the ratio of two sides' medians of runs,
    from each side's run medians.

    The bootstrap cannot size it from 2-3 runs (with two it has three outcomes and misses a (k-1)/k of the
    variance), and a side of one run shows none, though its run moved as much as any. So the runs' log medians
    are pooled about their own side's mean over the sides with several runs, and their standard deviation s,
    with as many degrees of freedom, takes Student's t: t * s * sqrt(1/k_base + 1/k_new) for sides of k runs,
    a side of one run counting its run as one draw of that spread."""
    from scipy.stats import t

    several = [np.log(medians) for medians in (base_medians, new_medians) if len(medians) > 1]
    freedom = sum(logs.size - 1 for logs in several)
    spread = math.sqrt(sum(float(((logs - logs.mean()) ** 2).sum()) for logs in several) / freedom)
    return float(t.ppf(1 - ALPHA / 2, freedom)) * spread * math.sqrt(1 / len(base_medians) + 1 / len(new_medians))


def _runs_test(kind: str, base_figures: list, new_figures: list) -> dict:
    """NEW / BASE of a figure measured once per run (every figure of a command, a network's energy and power),
    tested by the spread between the runs alone: the interval `_sample_test` gives latency over several runs,
    with no samples to bootstrap. It needs the same 2 degrees of freedom; with fewer the figure is untested."""
    base, new = ([value for value in map(_positive, figures) if value] for figures in (base_figures, new_figures))
    if len(base) + len(new) - 2 < 2:
        return _untested(_too_few_runs(kind, len(base), len(new)))
    center = math.log(float(np.median(new)) / float(np.median(base)))
    between = _between_runs(base, new)
    low, high = math.exp(center - between), math.exp(center + between)
    freedom = len(base) + len(new) - 2  # of the spread between runs, as _between_runs pools it
    result = {"ci_low": low, "ci_high": high, "p_value": None, "degrees_of_freedom": freedom}
    return result | {"verdict": _verdict(low, high), "why": None}


def _too_few_runs(kind: str, base_runs: int, new_runs: int) -> str:
    """Why a figure measured once per run is untested: a network's energy of one run a side keeps the reason it
    always had; any other count is named, so the remedy can say how many more runs it takes."""
    one_window = kind == "network"
    if one_window and base_runs == new_runs == 1:
        return ONE_WINDOW
    held = f"BASE holds {base_runs} run{'' if base_runs == 1 else 's'} of it and NEW {new_runs}"
    return f"{ONE_WINDOW if one_window else ONCE_PER_RUN}; {held}, too few to test it by how far runs differ"


def _positive(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and number > 0 else None


def _not_positive(role: str, metric: str, value) -> str:
    """Why a side's figure gives no ratio, in words: a row with none, or with 0 (a CSV rounded to 3 decimals)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if math.isnan(number):
        return f"{role} has no {metric}"
    return f"{role}'s {metric} is {number:g}, not a positive number"


def _untested(why: str) -> dict:
    """A metric's fields where no interval or verdict could be had, and why."""
    return dict(ci_low=None, ci_high=None, p_value=None, verdict=UNTESTED, why=why)


def _compared(result: dict | None) -> bool:
    """Whether a row's or summary's metric has a ratio: both sides had a positive figure."""
    return result is not None and result["ratio"] is not None


# ---------------------------------------------------------------- matching


def _check_settings(base: _Side, new: _Side) -> tuple[list[str], dict[str, str]]:
    """The setting columns both sides have, and the devices both measured with no value of one in common
    (a board of a fleet that changed dtype tonight), each with how: their rows pair with nothing, so they are
    named rather than left out unseen. Two sides whose every shared device differs so are refused."""
    shared = [column for column in SETTING_COLUMNS if column in base.frame and column in new.frame]
    if "device_name" in shared:
        devices = sorted(set(base.frame["device_name"].dropna()) & set(new.frame["device_name"].dropna()))
        parts = {
            device: (base.frame["device_name"] == device, new.frame["device_name"] == device) for device in devices
        }
    else:
        parts = {None: (slice(None), slice(None))}
    otherwise: dict = {}
    for column in shared:
        for device, (ours_rows, theirs_rows) in parts.items():
            ours = set(_setting(base.frame.loc[ours_rows], column).dropna())
            theirs = set(_setting(new.frame.loc[theirs_rows], column).dropna())
            if ours and theirs and not ours & theirs:
                otherwise.setdefault(device, []).append(_how_measured(column, ours, theirs))
    if len(otherwise) == len(parts):  # nothing measured alike: no comparison to show
        for column in shared:
            if _disjoint(base.frame, new.frame, column):  # another device, or every row of another setting
                _refuse_setting(base, new, column)
    if otherwise and len(otherwise) == len(parts):
        listed = "; ".join(f"{device}: {', '.join(how)}" for device, how in otherwise.items())
        raise CannotCompare(
            f"{base.path} and {new.path} measured no device the same way ({listed}); compare runs measured alike"
        )
    return shared, {device: ", ".join(how) for device, how in otherwise.items()}


def _disjoint(base_frame: pd.DataFrame, new_frame: pd.DataFrame, column: str) -> bool:
    ours, theirs = set(_setting(base_frame, column).dropna()), set(_setting(new_frame, column).dropna())
    return bool(ours and theirs and not ours & theirs)


def _how_measured(column: str, ours: set, theirs: set) -> str:
    """How a device's runs differ in one setting: "float32 in BASE, bfloat16 in NEW"."""
    word = SETTING_COLUMNS[column]
    if isinstance(SETTINGS_BEFORE_RECORDED.get(column), bool):  # a flag of measure
        return (
            f"{'with' if True in ours else 'without'} {word} in BASE, {'with' if True in theirs else 'without'} in NEW"
        )
    return f"{', '.join(sorted(map(str, ours)))} in BASE, {', '.join(sorted(map(str, theirs)))} in NEW"


def _refuse_setting(base: _Side, new: _Side, column: str) -> None:
    """Two sides with no value of `column` in common at all, in one sentence."""
    word = SETTING_COLUMNS[column]
    ours, theirs = set(_setting(base.frame, column).dropna()), set(_setting(new.frame, column).dropna())
    if isinstance(SETTINGS_BEFORE_RECORDED.get(column), bool):
        raise CannotCompare(
            f"{base.path} was measured {'with' if True in ours else 'without'} {word} but {new.path} "
            f"{'with' if True in theirs else 'without'} it; compare runs measured the same way"
        )
    raise CannotCompare(
        f"{base.path} was measured with {word} {', '.join(sorted(map(str, ours)))} but {new.path} with "
        f"{', '.join(sorted(map(str, theirs)))}; compare runs of the same {word}"
    )


def _run_differences(base: _Side, new: _Side, matched: pd.DataFrame) -> list[str]:
    """How the runs behind the paired rows were set up differently, where that moves every ratio (the thread
    count, the PyTorch release or build, the caches the layers were timed with, and the RUN_CONDITIONS both sides
    recorded: allocator, governor, turbo, CPU kernels, oneDNN, CPU and kernel or thread variables): the
    comparison stands, but it measures that change as well as the code's. Runs with no paired row (other models
    measured at other settings into the same file) move no ratio, so they are not named."""
    runs = [_paired_runs(side, matched[f"_links_{role}"]) for side, role in ((base, "base"), (new, "new"))]
    differences, releases_differ = [], False
    for key, words in (
        ("threads", "BASE ran at {} thread(s) and NEW at {}"),
        ("torch", "BASE ran torch {} and NEW {}"),
    ):
        ours, theirs = (sorted({run[key] for run in side if run.get(key) is not None}, key=str) for side in runs)
        if ours and theirs and ours != theirs:
            listed = ("/".join(map(str, values)) for values in (ours, theirs))
            differences.append(f"{words.format(*listed)}: each ratio includes that change")
            releases_differ |= key == "torch"
    if not releases_differ:  # another release is another build: said once
        differences += _build_differences(runs)
    layers = matched[matched["kind"] == "layer"]
    caches = [sorted({mode for modes in layers[f"cache_{role}"] for mode in modes}) for role in ("base", "new")]
    if all(caches) and caches[0] != caches[1]:
        listed = ("/".join(modes) for modes in caches)
        differences.append(
            "BASE timed its layers with {} caches and NEW with {} (--cache): each layer ratio includes that "
            "change".format(*listed)
        )
    commands = matched[matched["kind"] == "command"]
    idles = [sorted(set().union(*commands[f"idle_{role}"])) for role in ("base", "new")]
    if all(idles) and idles[0] != idles[1]:
        listed = (" or ".join(words) for words in idles)
        differences.append(
            "BASE timed its commands after {} and NEW after {} (hwprof run --idle-s, or a sensor one side lacked): "
            "paired all the same, as the idle window is how idle power was measured, not what the command "
            "did".format(*listed)
        )
    conditions = condition_differences(*runs, keys=COMPARED_CONDITIONS)
    if any(key == "allocator" for key, _, _ in conditions) and _preload_told_by_allocator(runs):
        conditions = [entry for entry in conditions if not (entry[0] == "env" and PRELOAD_WORDS.match(entry[1]))]
    differences += [
        f"BASE ran with {ours} and NEW with {theirs}: each ratio includes that change" for _, ours, theirs in conditions
    ]
    return differences


def _build_differences(runs: list[list[dict]]) -> list[str]:
    """Two torch builds (a local build, a conda and a pip wheel of one release) told apart by torch_config_digest,
    compared only between runs at one CPU capability: the digest hashes torch.__config__.show(), which names the
    capability in use, so across two capabilities it differs whatever the build (their own line says that)."""

    def digests(side: list[dict], capability: str) -> list[str]:
        found = {run.get("torch_config_digest") for run in side if run.get("cpu_capability") == capability}
        return sorted(str(digest) for digest in found - {None, UNREADABLE})

    capabilities = [{run.get("cpu_capability") for run in side} - {None, UNREADABLE} for side in runs]
    differences = []
    for capability in sorted(map(str, capabilities[0] & capabilities[1])):
        ours, theirs = (digests(side, capability) for side in runs)
        if ours and theirs and ours != theirs:
            differences.append(
                f"BASE ran a torch build of config digest {'/'.join(ours)} and NEW one of {'/'.join(theirs)}, both "
                f"at CPU capability {capability}: each ratio includes that change"
            )
    return differences


def _preload_told_by_allocator(runs: list[list[dict]]) -> bool:
    """Whether the two sides' LD_PRELOAD differ only by the allocator libraries their allocator lines already name
    (a preloaded jemalloc on one side): LD_PRELOAD's own line would name the same library twice. A preload of
    anything else, or one whose allocator the run did not record, keeps its line."""

    def library(run: dict) -> str | None:
        allocator = run.get("allocator")
        return allocator.get("library") if isinstance(allocator, dict) else None

    def others(run: dict) -> str:  # LD_PRELOAD less the allocator its run's allocator line names
        paths = re.split(r"[:\s]+", str(run["env"].get("LD_PRELOAD", "")))
        named = Path(library(run)).name if library(run) else None
        return ":".join(path for path in paths if path and named not in (Path(path).name, Path(path).resolve().name))

    libraries = [{library(run) for run in side} for side in runs]
    rest = [{others(run) for run in side if isinstance(run.get("env"), dict)} for side in runs]
    return libraries[0] != libraries[1] and rest[0] == rest[1]


def _cache_modes(labels: list) -> list[str]:
    """The --cache modes the runs of a target timed it in (cold_partial is cold with fewer copies than it
    needs); none for a network, whose row has no cache mode."""
    return sorted({"cold" if str(label).startswith("cold") else str(label) for label in labels if not pd.isna(label)})


def _paired_runs(side: _Side, links: pd.Series) -> list[dict]:
    """The provenance of the runs a side's paired rows came from; every run of the side where those rows
    carry no run id (a table from elsewhere), as nothing then tells its runs apart."""
    runs = side.runs
    paired = {run_id for row_links in links for run_id, _ in row_links if isinstance(run_id, str)}
    return [run for run in runs if run.get("run_id") in paired] if paired else runs


def _only_in_base(
    base_frame: pd.DataFrame, new_frame: pd.DataFrame, columns: list[str], otherwise: dict[str, str]
) -> tuple[list[str], list[dict], list[dict]]:
    """The devices BASE measured that NEW has no row of, the models BASE measured on a device NEW has but NEW did
    not measure there the same way (dtype and the flags, where both record them), and the settings NEW measured a
    model of BASE in that BASE did not. Their rows pair with nothing, so a count alone hides that a whole board (or
    model) did not run tonight, and a gate over the rest would pass without a word about it. A model the other
    side measured in other settings is named with the setting it lacks ("cnn bfloat16" where NEW has cnn in
    float32 alone), not as missing. A device measured `otherwise` is named for that instead."""
    if "device_name" not in base_frame or "device_name" not in new_frame:
        return [], [], []
    new_devices = set(new_frame["device_name"])
    devices = sorted(set(base_frame["device_name"]) - new_devices)
    settings = [column for column in columns if column in SETTINGS_BEFORE_RECORDED]
    held = [
        set(map(tuple, frame[["device_name", "model", *settings]].drop_duplicates().to_numpy()))
        for frame in (base_frame, new_frame)
    ]
    compared = (new_devices & set(base_frame["device_name"])) - set(otherwise)
    only_in_base = _missing(*held, settings, compared, whole=True)
    return devices, only_in_base, _missing(*reversed(held), settings, compared, whole=False)


def _missing(ours: set, theirs: set, settings: list[str], devices: set, *, whole: bool) -> list[dict]:
    """The (device, model, *settings) of `ours` that `theirs` lacks on `devices`: a model `theirs` measured in
    other settings with the settings that tell its variants apart, one `theirs` lacks altogether (only where
    `whole`) by its name alone."""
    variants: dict = {}
    for device, model, *values in ours | theirs:
        variants.setdefault((device, model), set()).add(tuple(values))
    in_theirs = {(device, model) for device, model, *_ in theirs}
    entries: list[dict] = []
    for device, model, *values in sorted(ours - theirs):
        if device not in devices or ((device, model) not in in_theirs and not whole):
            continue
        entry = {"device_name": device, "model": model}
        if (device, model) in in_theirs:
            told = [i for i in range(len(settings)) if len({v[i] for v in variants[device, model]}) > 1]
            entry |= {settings[i]: _setting_value(settings[i], values[i]) for i in told}
        if entry not in entries:
            entries.append(entry)
    return entries


def _devices_only_in_new(base_frame: pd.DataFrame, new_frame: pd.DataFrame) -> list[str]:
    """The devices NEW measured that BASE has no row of: a board added to a fleet since its baseline pairs with
    nothing, so no gate checks it however slow it gets, and only this says so."""
    if "device_name" not in base_frame or "device_name" not in new_frame:
        return []
    return sorted(set(new_frame["device_name"]) - set(base_frame["device_name"]))


POSITION_COLUMNS = ("kind", "layer_index", "op", "config")  # where a layer is in its network, and what it is


def _unpaired_layers(
    base_frame: pd.DataFrame, new_frame: pd.DataFrame, matched: pd.DataFrame, columns: list[str], dtypes: bool
) -> list[dict]:
    """The layers of a network both sides measured that pair with nothing although the other side has a layer at
    the same position: their op or config text differs (hwprof has recorded new config keys over time, or the
    input differs), so no row, op summary or gate compares them, and an attention layer that is a third of a
    ViT's time would leave the comparison without a word. Each entry names the network (with its dtype where
    the rows name theirs, `dtypes`), per side the unpaired layers, their ops and their share of the network's
    layer time, and `why` says what to do. Rows pair as before: only what they leave out is told."""
    network = [column for column in columns if column not in POSITION_COLUMNS]
    paired = matched[columns].assign(_paired=True)
    layers = {
        role: frame.loc[frame["kind"] == "layer", [*columns, "latency_ms"]].merge(paired, on=columns, how="left")
        for role, frame in (("base", base_frame), ("new", new_frame))
    }
    totals = {role: rows.groupby(network, sort=False)["latency_ms"].sum() for role, rows in layers.items()}
    positions = {role: rows[[*network, "layer_index"]].drop_duplicates() for role, rows in layers.items()}
    unpaired = {  # at a position the other side has a layer at: a network the other side did not finish is not
        role: rows[rows["_paired"].isna()].merge(positions[other], on=[*network, "layer_index"])
        for (role, rows), other in zip(layers.items(), ("new", "base"))
    }
    by_network = {role: dict(list(rows.groupby(network, sort=False))) for role, rows in unpaired.items()}
    devices = matched["device_name"].nunique()
    entries = []
    for key in sorted({*by_network["base"], *by_network["new"]}):
        named = dict(zip(network, key))
        entry = {
            "device_name": named["device_name"],
            "model": named["model"],
            "batch_size": _whole_or_none(named["batch_size"]),
            **({"dtype": named["dtype"]} if dtypes else {}),
        }
        for role, groups in by_network.items():
            rows = groups.get(key, unpaired[role].iloc[:0])
            total = totals[role].get(key)
            entry[f"only_in_{role}"] = {
                "layers": len(rows),
                "ops": dict(sorted(rows["op"].value_counts().items(), key=lambda item: (-item[1], item[0]))),
                "layer_time_share": float(rows["latency_ms"].sum() / total) if total else None,
            }
        entry["why"] = _unpaired_why(entry, devices)
        entries.append(entry)
    return entries


def _unpaired_why(entry: dict, devices: int) -> str:
    """A network's unpaired layers in one sentence: which, how much of its layer time, why, and what to do."""
    sides = []
    for role in ("base", "new"):
        side = entry[f"only_in_{role}"]
        if side["layers"]:
            ops = ", ".join(f"{op} x{count}" if count > 1 else op for op, count in side["ops"].items())
            share = "" if side["layer_time_share"] is None else f"; {side['layer_time_share']:.0%} of its layer time"
            sides.append(f"{side['layers']} in {role.upper()} ({ops}{share})")
    dtype = f" {entry['dtype']}" if "dtype" in entry else ""
    device = f" on {entry['device_name']}" if devices > 1 else ""
    return (
        f"{entry['model']} batch {entry['batch_size']}{dtype}{device}, measured on both sides, has layers that pair "
        f"with nothing, {' and '.join(sides)}, so no row, op summary or gate compares them: BASE and NEW recorded "
        "their configs differently (measured by another hwprof version, or with another input); measure BASE "
        "again with this hwprof version, on the same input, to compare them"
    )


def _boards_only_in_base(base: _Side, new: _Side, devices: list[str], shared: list[str]) -> list[dict]:
    """Boards of one kind (one device name) that BASE measured on a host NEW has no run from measured alike:
    boards of a kind pool their rows, so one whose job did not run tonight (or ran another dtype or setting)
    leaves no device unpaired, only a host missing. Told apart only where every run of the device on both sides
    recorded its host, and only where NEW has fewer such hosts than BASE: as many under other names are the
    same boards renamed (a container's or a re-provisioned runner's host name), still compared. Each entry
    carries the sentence (`why`) that says what is missing."""

    settings = [column for column in shared if column != "device_name"]

    def hosts(side: _Side, rows: pd.Series) -> set | None:
        run_ids = set(side.frame.loc[rows, "run_id"].dropna())
        found = [run.get("host") for run in side.runs if run.get("run_id") in run_ids]
        return set(found) if found and None not in found else None

    missing = []
    for device in devices:
        ours_rows, theirs_rows = base.frame["device_name"] == device, new.frame["device_name"] == device
        alike = theirs_rows.copy()  # NEW's rows of the device measured as BASE measured it
        for column in settings:
            alike &= _setting(new.frame, column).isin(set(_setting(base.frame.loc[ours_rows], column).dropna()))
        ours, theirs, ran = hosts(base, ours_rows), hosts(new, alike), hosts(new, theirs_rows)
        if not ours or not ran:
            continue
        theirs = theirs or set()
        if len(theirs) >= len(ours):
            continue
        absent = sorted(ours - theirs)
        if len(absent) == len(ours) - len(theirs):  # the hosts that ran kept their names: these did not run alike
            for host in absent:
                how = " (it ran, measured otherwise)" if host in ran else ""
                missing.append(
                    {
                        "device_name": device,
                        "host": host,
                        "why": f"{new.path} has no run of {device} from host {host} measured as {base.path} "
                        f"measured it{how}: that board is not compared",
                    }
                )
        else:  # renamed hosts among them: which board is missing cannot be told
            missing.append(
                {
                    "device_name": device,
                    "host": " or ".join(absent),
                    "why": f"{new.path} has runs of {device} measured as {base.path} measured it from "
                    f"{len(theirs)} host(s) ({', '.join(sorted(theirs)) or 'none'}) where {base.path} has "
                    f"{len(ours)} ({', '.join(sorted(ours))}): a board of that kind did not run alike, or ran "
                    "under another name",
                }
            )
    return missing


def _setting(frame: pd.DataFrame, column: str) -> pd.Series:
    """A setting column with its default where a row predates it."""
    values = frame[column].astype(object)
    if column in SETTINGS_BEFORE_RECORDED:
        values = values.where(values.notna(), SETTINGS_BEFORE_RECORDED[column])
    return values


def _match_frame(side: _Side, columns: list[str]) -> pd.DataFrame:
    """One row per measured target; a target several runs measured (reruns merged into one baseline, boards
    of one kind) keeps the median of their figures and the links to all their samples."""
    frame = side.frame.copy()
    frame["_key"] = [row_key(row) for row in frame.to_dict("records")]
    frame["_link"] = list(zip(frame["run_id"], frame["_key"]))
    # a target's runs in the order of their ids, not of the rows: the bootstrap draws from its runs in turn,
    # so a baseline merged from a and b must list them alike whether merged as a+b or b+a
    frame = frame.sort_values(["run_id", "_key"], kind="stable", na_position="last")
    commands = frame["kind"].eq("command")
    settled = [_without_idle(text) for text in frame.loc[commands, "config"]] if "config" in frame else []
    frame["_idle"] = None
    if settled:
        frame.loc[commands, "config"] = [config for config, _ in settled]
        frame.loc[commands, "_idle"] = pd.Series(
            [idle for _, idle in settled], index=frame.index[commands], dtype=object
        )
    for column in columns:
        frame[column] = (_setting(frame, column) if column in SETTING_COLUMNS else frame[column]).astype("string")
        frame[column] = frame[column].fillna("")
    aggregations = {"layer_name": ("layer_name", "first"), "seq_len": ("seq_len", "first")}
    aggregations |= {metric: (metric, "median") for metric in METRICS}
    frame["processes"] = pd.to_numeric(frame["processes"], errors="coerce") if "processes" in frame.columns else 1
    for bound in INTERVAL_COLUMNS:
        frame[bound] = pd.to_numeric(frame[bound], errors="coerce") if bound in frame.columns else math.nan
    aggregations |= {"processes": ("processes", "max")} | {bound: (bound, "median") for bound in INTERVAL_COLUMNS}
    grouped = frame.groupby(columns, sort=False)
    matched = grouped.agg(**aggregations).reset_index()
    # lists and sets gathered in one pass: pandas calls a Python aggregation once per group with a Series
    # of its own, which took most of a compare's time on 50,000 rows
    groups = grouped.ngroup().to_numpy()
    members = _members(groups, len(matched), frame[["_link", "power_flags", "cache", "_idle"]])
    matched["_links"] = [links for links, _, _, _ in members]
    matched["power_flags"] = [_flags_of_runs(flags) for _, flags, _, _ in members]
    matched["cache"] = [_cache_modes(caches) for _, _, caches, _ in members]
    matched["idle"] = [tuple(sorted({idle for idle in idles if idle})) for _, _, _, idles in members]
    whole = frame["kind"].isin(WHOLE_KINDS).to_numpy()  # only these are tested by the spread between runs
    figures = _members(groups[whole], len(matched), frame.loc[whole, list(METRICS)])
    matched["_figures"] = [dict(zip(METRICS, lists)) for lists in figures]
    return matched


def _without_idle(config) -> tuple[object, str | None]:
    """(a command's config without idle_s, its idle baseline in words, None where it recorded none): the idle
    window's length, and whether a sensor gave one, is how hwprof run measured idle power, not what it ran, so a
    command measured with another --idle-s or with a sensor gained pairs with itself (the runs' note says so)."""
    try:
        parsed = json.loads(config)
    except (TypeError, ValueError):
        return config, None
    if not isinstance(parsed, dict) or "idle_s" not in parsed:
        return config, None
    idle_s = parsed.pop("idle_s")
    words = f"an idle baseline of {idle_s:g} s" if isinstance(idle_s, (int, float)) else "no idle baseline (no sensor)"
    return json.dumps(parsed), words


def _members(groups: np.ndarray, count: int, columns: pd.DataFrame) -> list[tuple[list, ...]]:
    """Each group's values of `columns`, in row order: one list per column."""
    gathered = [tuple([] for _ in columns.columns) for _ in range(count)]
    for group, *values in zip(groups, *(columns[column].tolist() for column in columns.columns)):
        for into, value in zip(gathered[group], values):
            into.append(value)
    return gathered


def _flags_of_runs(values: list) -> list[str]:
    """The power flags any run of a target carries: one run's doubtful window is in the median too."""
    return sorted({flag for value in values if not pd.isna(value) for flag in str(value).split(",") if flag})


def _samples_of(side: _Side, links: list) -> list | None:
    """Each run's samples of a target, or None unless every run's are there."""
    if side.samples is None:
        return None
    found = [side.samples.get(link) for link in links]
    return None if None in found else [np.asarray(raw.seconds_per_call, dtype=float) for raw in found]


def _row_metric(metric: str, base_row, new_row, base: _Side, new: _Side, seed) -> dict:
    base_value, new_value = _positive(base_row[f"{metric}_base"]), _positive(new_row[f"{metric}_new"])
    if base_value is None or new_value is None:
        why = " and ".join(
            _not_positive(role, metric, row[f"{metric}_{role.lower()}"])
            for role, row, value in (("BASE", base_row, base_value), ("NEW", new_row, new_value))
            if value is None
        )
        return {"base": base_value, "new": new_value, "ratio": None} | _untested(why)
    entry = {"base": base_value, "new": new_value, "ratio": new_value / base_value}
    kind = base_row["kind"]
    if kind in WHOLE_KINDS and (metric != "latency_ms" or kind == "command"):
        return entry | _runs_test(kind, base_row["_figures"][metric], new_row["_figures"][metric])
    if metric != "latency_ms":
        return entry | _untested(ONE_WINDOW)
    if max(_processes(base_row, "base"), _processes(new_row, "new")) > 1:
        return entry | _interval_test(base_row, new_row, entry["ratio"])
    base_samples, new_samples = _samples_of(base, base_row["_links"]), _samples_of(new, new_row["_links"])
    missing = [
        side.samples_missing or f"{side.path.name} has no samples for this row"
        for side, found in ((base, base_samples), (new, new_samples))
        if found is None
    ]
    if not missing:
        few = min(len(run) for run in base_samples + new_samples)
        if few < MIN_BOUNDED_SAMPLES:
            missing = [
                f"only {few} sample{'' if few == 1 else 's'} on one side (a median needs {MIN_BOUNDED_SAMPLES} "
                "to be bounded)"
            ]
    if missing:
        return entry | _untested("; ".join(missing))
    return entry | {"why": None} | _sample_test(base_samples, new_samples, seed)


def _check_not_the_same_run(base: _Side, new: _Side) -> None:
    """A run compared with itself shows no change: a CI gate whose baseline names the new run passes forever.
    Runs are told apart by their run ids, or by their bytes where a dataset carries none."""
    shared = sorted(set(base.frame["run_id"].dropna()) & set(new.frame["run_id"].dropna()))
    if shared:
        what = f"the same run ({', '.join(map(str, shared[:3]))}{', ...' if len(shared) > 3 else ''})"
    elif base.path.stat().st_size == new.path.stat().st_size and base.path.read_bytes() == new.path.read_bytes():
        what = "the same bytes"
    else:
        return
    raise CannotCompare(
        f"{base.path} and {new.path} hold {what}: a run compared with itself shows no change; give a new "
        "measurement as NEW"
    )


def _processes(row, side: str) -> int:
    value = row.get(f"processes_{side}")
    return int(value) if value is not None and not pd.isna(value) else 1


def _interval_test(base_row, new_row, ratio: float) -> dict:
    """NEW / BASE (`ratio`) tested by the rows' own 95% intervals, for rows combined from several processes.

    The log half-widths are added in quadrature, each a side's own share of the difference. A row combined
    from two or more processes has a half-width sized for the difference of two such medians (the sqrt(2/n) of
    combine_processes), so its share is that divided by sqrt(2); taken whole, the two rows counted sqrt(2) twice
    and missed a true +10% in 97 of 100 comparisons at 3 processes. Where a typical process's own interval w
    was the wider term, w / sqrt(2) still covers the row: the median of n >= 2 process medians, each of spread
    w, spreads at most w / sqrt(2) (exactly for n = 2, where it is their mean; about 0.67 w for n = 3). A row
    of one process keeps its interval, that of its one median."""
    half_widths = []
    for row, side in ((base_row, "base"), (new_row, "new")):
        low, high = (row.get(f"{bound}_{side}") for bound in INTERVAL_COLUMNS)
        if low is None or high is None or pd.isna(low) or pd.isna(high):
            why = f"the {side.upper()} row has no 95% interval (its processes took too few samples to bound one)"
            return dict(ci_low=None, ci_high=None, p_value=None, verdict=UNTESTED, why=why)
        share = math.sqrt(2) if _processes(row, side) > 1 else 1.0
        half_widths.append(math.log(high / low) / 2 / share if low > 0 else math.inf)  # reaching 0: no bound at all
    spread = math.hypot(*half_widths)
    if not math.isfinite(spread):
        why = "a row combined from several processes has an interval down to 0: they disagree too much to bound it"
        return dict(ci_low=None, ci_high=None, p_value=None, verdict=UNTESTED, why=why)
    low, high = ratio * math.exp(-spread), ratio * math.exp(spread)
    return dict(ci_low=low, ci_high=high, p_value=None, verdict=_verdict(low, high), why=None)


def _mean_log_p(logs: np.ndarray) -> float:
    """The two-sided p-value of Student's t that the rows' mean log ratio is 0: the test whose interval
    `_mean_log_interval` gives, so it is below 5% exactly where that interval excludes 1."""
    from scipy.stats import t

    error = float(logs.std(ddof=1)) / math.sqrt(logs.size)
    center = abs(float(logs.mean()))
    if error == 0:  # every row moved alike: certain, unless none moved
        return 1.0 if center == 0 else 0.0
    return float(2 * t.sf(center / error, logs.size - 1))


def _mean_log_interval(logs: np.ndarray) -> tuple[float, float]:
    """The geometric mean ratio's interval from Student's t over the rows' log ratios. A percentile bootstrap
    of 5-10 rows' mean is too narrow (z for t, and n for n - 1): it called 10-14% of unchanged reruns higher
    or lower at a 5% level, and tripped --fail-above on them."""
    from scipy.stats import t

    center = float(logs.mean())
    half = float(t.ppf(1 - ALPHA / 2, logs.size - 1) * logs.std(ddof=1) / math.sqrt(logs.size))
    return math.exp(center - half), math.exp(center + half)


def _distinct_columns(frame: pd.DataFrame) -> list[str]:
    """What tells one measurement from another: a layer configuration timed once and shared by every network
    holding it, in each setting (dtype, compiled, ...) the rows were matched in; a whole network or command by
    its model, as two networks of one input shape are two measurements."""
    settings = [column for column in SETTING_COLUMNS if column in frame.columns and column not in DISTINCT_COLUMNS]
    return [*DISTINCT_COLUMNS, *settings, "_whole_model"]


def _splitting_settings(matched: pd.DataFrame, columns: list[str]) -> list[str]:
    """The setting columns rows were paired on that tell paired rows of one kind apart (a float32 and a bfloat16
    run of a model in each file): a summary over both would let an unchanged setting dilute a regression in the
    other. A compiled run's layers are eager, so its networks alone do not split it."""
    settings = [column for column in columns if column in SETTINGS_BEFORE_RECORDED]
    return [column for column in settings if matched.groupby("kind")[column].nunique().gt(1).any()]


def _setting_value(column: str, text: str):
    """A setting as the paired rows hold it (text) as the value it was: a flag as a bool."""
    return text == "True" if isinstance(SETTINGS_BEFORE_RECORDED[column], bool) else text


def _summaries(
    rows: list[dict], frame: pd.DataFrame, by: str, metrics: Sequence[str], settings: Sequence[str] = ()
) -> list[dict]:
    """Geometric mean of the row ratios per device, value of `by` and value of each setting in `settings` (those
    that tell the rows apart), with a Student's t interval over distinct measurements."""
    summaries = []
    for (device_name, value, *values), group in frame.groupby(["device_name", by, *settings], sort=True):
        entry = {"device_name": device_name, by: value}
        entry |= {column: _setting_value(column, text) for column, text in zip(settings, values)}
        distinct = group.drop_duplicates(_distinct_columns(group))
        for metric in metrics:
            compared = [rows[i][metric] for i in distinct["_row"] if _compared(rows[i][metric])]
            logs = np.array([math.log(result["ratio"]) for result in compared])
            result = {"ratio": float(math.exp(logs.mean())) if logs.size else None, "rows": int(logs.size)}
            if metric in POWER_METRICS:
                flagged = [row["flags"] for row in compared if row["flags"]]
                result |= {"flagged_rows": len(flagged), "flags": sorted({flag for flags in flagged for flag in flags})}
            if not logs.size:
                result |= dict(
                    ci_low=None,
                    ci_high=None,
                    p_value=None,
                    verdict=UNTESTED,
                    why=f"no row of it has a positive {metric} in both BASE and NEW",
                )
            elif logs.size < MIN_SUMMARY_ROWS:
                why = f"fewer than {MIN_SUMMARY_ROWS} rows"
                result |= dict(ci_low=None, ci_high=None, p_value=None, verdict=UNTESTED, why=why)
            else:
                low, high = _mean_log_interval(logs)
                result |= dict(
                    ci_low=low, ci_high=high, p_value=_mean_log_p(logs), verdict=_verdict(low, high), why=None
                )
            entry[metric] = result
        summaries.append(entry)
    return summaries


# ---------------------------------------------------------------- the comparison


def compare(
    base_path: str | os.PathLike,
    new_path: str | os.PathLike,
    *,
    fail_above: float | None = None,
    metric: str = "latency_ms",
    progress: Progress | None = None,
) -> dict:
    """The comparison of NEW against BASE as a JSON-ready dict; `fail_above` (a fraction) adds the gate.
    `progress` is told, every PROGRESS_EVERY_S while rows are tested, how many are done and how long the rest
    may take: 60 boards' rows take over a minute.

    The gate has passed only when it has no `regressions` and nothing `unchecked`: boards of BASE that NEW
    did not measure as BASE did (a device it has no row of, one it measured with another dtype or flag, or a
    host of boards sharing a device name that it has no run from; these are `unchecked_devices` too), and
    paired rows with no positive figure of the gated metric on a side, which it could not check;
    `check_every_device_gated` says so as an error."""
    if metric not in GATE_METRICS:
        raise CannotCompare(f"{option('metric', metric)}: choose from {', '.join(GATE_METRICS)}")
    progress = given_progress(progress)
    base, new = _load(base_path, "BASE"), _load(new_path, "NEW")
    _check_not_the_same_run(base, new)
    shared, otherwise = _check_settings(base, new)
    columns = [c for c in MATCH_COLUMNS if c not in SETTING_COLUMNS] + shared
    base_frame, new_frame = _match_frame(base, columns), _match_frame(new, columns)
    wanted = ["_links", "_figures", "layer_name", "seq_len", *METRICS, "processes", *INTERVAL_COLUMNS]
    wanted += ["power_flags", "cache", "idle"]
    matched = base_frame[[*columns, *wanted]].merge(
        new_frame[[*columns, *wanted]], on=columns, suffixes=("_base", "_new")
    )
    if matched.empty:
        raise CannotCompare(
            f"{base.path} and {new.path} share no measured row (same device, model, batch size, layer and "
            "configuration); compare two runs of the same models"
        )
    order = ["model", "seq_len_new", "batch_size", "kind", "layer_index"]
    matched = matched.sort_values(order, key=_natural).reset_index(drop=True)
    settings = _splitting_settings(matched, columns)
    several_dtypes = "dtype" in settings
    networks_only = {
        role: _networks_only_in(ours, theirs, columns)
        for role, ours, theirs in (("base", base_frame, new_frame), ("new", new_frame, base_frame))
    }
    # a row names each setting that tells the rows apart, paired or not: an eager network only BASE holds
    # and its compiled run only NEW holds read alike otherwise
    labelled = _splitting_settings(pd.concat([matched[columns], *networks_only.values()]), columns)
    metrics = [m for m in METRICS if matched[f"{m}_base"].notna().any() and matched[f"{m}_new"].notna().any()]
    rows = []
    started_s = said_s = time.monotonic()
    for record in matched.to_dict("records"):
        now_s = time.monotonic()
        if rows and now_s - said_s >= PROGRESS_EVERY_S:
            left_s = (now_s - started_s) / len(rows) * (len(matched) - len(rows))
            progress.note(f"compared {len(rows)} of {len(matched)} rows, about {duration_text(left_s)} left")
            said_s = now_s
        base_row = {**record, "_links": record["_links_base"], "_figures": record["_figures_base"]}
        new_row = {**record, "_links": record["_links_new"], "_figures": record["_figures_new"]}
        seed = [record[c] for c in columns]
        entry = {
            "device_name": record["device_name"],
            "model": record["model"],
            "batch_size": _whole_or_none(record["batch_size"]),  # none for a command `hwprof run` timed
            "seq_len": None if pd.isna(record["seq_len_new"]) else int(record["seq_len_new"]),
            **{column: _setting_value(column, record[column]) for column in labelled},
            "kind": record["kind"],
            "layer_index": _whole_or_none(record["layer_index"]),
            "layer_name": None if pd.isna(record["layer_name_new"]) else str(record["layer_name_new"]),
            "op": record["op"],
            "runs": {"base": len(record["_links_base"]), "new": len(record["_links_new"])},
        }
        flags = {"base": record["power_flags_base"], "new": record["power_flags_new"]}
        for name in metrics:
            entry[name] = _row_metric(name, base_row, new_row, base, new, [*seed, name])
            if name in POWER_METRICS:
                either = sorted({*flags["base"], *flags["new"]})
                entry[name] |= {"flagged_rows": int(bool(either)), "flags": either}
        if any(name in POWER_METRICS for name in metrics):
            entry["power_flags"] = flags
        rows.append(entry)
    matched["_row"] = range(len(matched))
    matched["_whole_model"] = matched["model"].where(matched["kind"].isin(WHOLE_KINDS), "")
    devices_only_in_base, models_only_in_base, settings_only_in_new = _only_in_base(
        base_frame, new_frame, columns, otherwise
    )
    devices = sorted(matched["device_name"].unique())
    report = {
        "base": str(base.path),
        "new": str(new.path),
        "method": METHOD,
        "metrics": metrics,
        "devices": devices,
        "raw_samples": {
            "base": base.samples is not None,
            "new": new.samples is not None,
            "unavailable_reason": _no_significance_reason(base, new),
        },
        "run_differences": _run_differences(base, new, matched),
        "matched_rows": len(rows),
        "only_in_base": len(base_frame) - len(rows),
        "only_in_new": len(new_frame) - len(rows),
        "devices_only_in_base": devices_only_in_base,
        "devices_only_in_new": _devices_only_in_new(base_frame, new_frame),
        "devices_measured_otherwise": [{"device_name": d, "how": how} for d, how in sorted(otherwise.items())],
        "boards_only_in_base": _boards_only_in_base(base, new, devices, shared) if "device_name" in shared else [],
        "models_only_in_base": models_only_in_base,
        "settings_only_in_new": settings_only_in_new,
        **{
            f"networks_only_in_{role}": [_network_entry(record, labelled) for record in frame.to_dict("records")]
            for role, frame in networks_only.items()
        },
        "unpaired_layers": _unpaired_layers(base_frame, new_frame, matched, columns, several_dtypes),
        "power_flags": _power_flag_counts(rows, metrics),
        "rows": rows,
        "models": _summaries(rows, matched, "model", metrics, settings),
        "ops": _summaries(rows, matched, "op", metrics, settings),
    }
    if fail_above is not None:
        report["gate"] = _gate(report, metric, fail_above)
    return report


def _networks_only_in(ours: pd.DataFrame, theirs: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The network rows of `ours` (a match frame) that no row of `theirs` measured alike. A compiled run's
    layers are eager and pair with an eager run's, so its networks are all that tell it apart: without this, the
    eager network only BASE measured went unnamed, as its model was in NEW."""
    networks = ours[ours["kind"] == "network"]
    marked = networks.merge(theirs[columns].drop_duplicates(), on=columns, how="left", indicator=True)
    return marked[marked["_merge"] == "left_only"].drop(columns="_merge")


def _network_entry(record: dict, settings: list[str]) -> dict:
    """A network row only one side holds, named as a paired row is (with the `settings` that tell rows apart),
    with that side's latency and how many of its runs measured it."""
    return {
        "device_name": record["device_name"],
        "model": record["model"],
        "batch_size": _whole_or_none(record["batch_size"]),
        "seq_len": None if pd.isna(record["seq_len"]) else int(record["seq_len"]),
        **{column: _setting_value(column, record[column]) for column in settings},
        "kind": record["kind"],
        "latency_ms": _positive(record["latency_ms"]),
        "runs": len(record["_links"]),
    }


def _power_flag_counts(rows: list[dict], metrics: list[str]) -> dict | None:
    """How many of the rows compared on energy or power carry power flags in BASE or NEW, and how many each
    flag: a ratio from a window flagged below_idle or load_unstable is less certain than its figure shows.
    None where neither metric is compared."""
    if not any(name in POWER_METRICS for name in metrics):
        return None
    compared = [row for row in rows if any(_compared(row.get(name)) for name in POWER_METRICS)]
    counts: dict[str, int] = {}
    for row in compared:
        for flag in sorted({*row["power_flags"]["base"], *row["power_flags"]["new"]}):
            counts[flag] = counts.get(flag, 0) + 1
    flagged = sum(bool(row["power_flags"]["base"] or row["power_flags"]["new"]) for row in compared)
    return {"compared_rows": len(compared), "flagged_rows": flagged, "flags": dict(sorted(counts.items()))}


def _whole_or_none(text: str) -> int | None:
    """A joined column's text ("" where the row has no value) as the number it was."""
    return int(text) if text != "" else None


def _natural(column: pd.Series) -> pd.Series:
    return (
        pd.to_numeric(column, errors="coerce")
        if column.name in ("batch_size", "seq_len_new", "layer_index")
        else column
    )


def _no_significance_reason(base: _Side, new: _Side) -> str | None:
    """Why rows have no raw samples to test them by; a side of commands alone says only that, as its rows are
    tested by how far their runs differ wherever each side holds enough runs."""
    missing = [side for side in (base, new) if side.samples_missing]
    if not missing:
        return None
    reasons = "; ".join(side.samples_missing for side in missing)
    if all(side.frame["kind"].eq("command").all() for side in missing):
        return reasons
    return reasons + "; so rows get ratios without intervals or verdicts"


def _gate(report: dict, metric: str, fail_above: float) -> dict:
    """Regressions: a significant increase of `metric` by more than `fail_above`, in a network or command row or in
        a model's or op's summary, significant after Holm's correction over every item the gate tests: each at 5%
        alone, 20 unchanged models (42 items) failed 7 of 30 synthetic reruns at samples +-10%
        (bench/compare_false_alarms.py). The gate fails on rises alone, so Holm takes each item's one-sided p-value of a
    rise (`_rise_p_value`), which each regression gives as `gate_p_value` (its `p_value` stays the row's). A single
        layer row does not gate: between two processes a few layers move more than 5%, significantly within their own
        samples, on a plain rerun (BENCHMARKS.md), and what a change in the code does to layers shows in their op's
        summary. Where nothing could be tested, or a risen network or command could not be, it cannot decide: with
        nothing unchecked that is an error at once, but a board missing (or a row without a figure) leaves fewer runs
        to test by and is the cause to name, so `cannot_decide` keeps why for `check_every_device_gated`, which says
        it after the comparison is printed."""
    tested, undecided = [], []
    devices = len(report["devices"])
    whole = [entry for entry in report["rows"] if entry["kind"] in WHOLE_KINDS]
    for where, entries in (("row", whole), ("model", report["models"]), ("op", report["ops"])):
        for entry in entries:
            result = entry.get(metric)
            if not _compared(result):  # a row of it is in `unchecked`
                continue
            if result["verdict"] == UNTESTED:  # a network or command above the threshold that no test cleared
                if where == "row" and _above(result.get("ratio") or 0, fail_above):
                    undecided.append(entry)
                continue
            tested.append((where, entry, result, _rise_p_value(result, _gate_p_value(result, where))))
    significant = _holm([p_value for *_, p_value in tested])
    regressions = [
        {"where": where, "label": label(entry, where, devices), **result, "gate_p_value": p_value}
        for (where, entry, result, p_value), rejected in zip(tested, significant)
        if rejected and result["verdict"] == HIGHER and _above(result["ratio"], fail_above)
    ]
    if metric not in report["metrics"]:
        raise CannotCompare(
            f"{report['base']} and {report['new']} do not both have {metric} (was one measured without a power "
            f"sensor?), so {option('fail_above')} cannot gate on it"
        )
    cannot_decide = None
    if undecided and not regressions:  # a summary over many rows must not wave a risen network through
        first, *others = undecided
        result = first[metric]
        cannot_decide = {
            "why": f"{label(first, 'row', devices)} {metric} rose {result['ratio'] - 1:+.1%}, above the "
            f"{given_percent(fail_above)} gate, and could not be tested for significance "
            f"({result.get('why') or 'no raw samples'})" + (f", and so did {_more_rows(others)}" if others else ""),
            "remedy": _remedy(result.get("why")),
        }
    elif not tested:
        why = report["raw_samples"]["unavailable_reason"] if metric == "latency_ms" else None
        compared = [entry[metric] for entry in whole if _compared(entry.get(metric))]
        commands = [entry[metric]["why"] for entry in whole if entry["kind"] == "command" and entry[metric]["why"]]
        if compared and len(commands) == len(compared):  # rows of hwprof run alone: say what they lack
            why = commands[0]
        if why is None:  # the whole rows' own reason (two runs against one, too few samples) names the remedy
            why = next((entry[metric]["why"] for entry in whole if (entry.get(metric) or {}).get("why")), None)
        cannot_decide = {
            "why": f"no {metric} change between {report['base']} and {report['new']} could be tested for "
            f"significance ({why or 'too few rows with samples or distinct measurements'})",
            "remedy": _remedy(why) if why else "measure more networks, or with a longer --max-time",
        }
    unchecked = _unchecked(report, metric)
    if cannot_decide and not unchecked["unchecked"]:
        raise CannotCompare(
            f"{cannot_decide['why']}, so {option('fail_above')} cannot decide; {cannot_decide['remedy']}"
        )
    return {
        "metric": metric,
        "fail_above": fail_above,
        "tested": len(tested),
        "correction": "holm",
        "regressions": regressions,
        "cannot_decide": cannot_decide,
        **unchecked,
    }


def _gate_p_value(result: dict, where: str) -> float:
    """The two-sided p-value of a tested item, for Holm's correction. A summary has Student's t's. A row of one
    run a side is significant only when both the U test and the bootstrap say so, so it takes the larger of
    their p-values. Other rows (several runs a side, --processes, a figure measured once per run) are decided by
    their interval alone and have no p-value of their own: theirs is derived from the interval's half towards 1
    in log space, so it is below 5% exactly where the interval excludes 1: by Student's t with the degrees of
    freedom of the spread between runs where that sized it (a normal approximation there would give 2-4 degrees
    of freedom far too small p-values for Holm's thresholds; where the interval also holds a bootstrap's share,
    t's heavier tails err towards a larger p), else (--processes) by a normal approximation."""
    if where != "row":
        return result["p_value"]
    if result.get("bootstrap_p_value") is not None:
        return max(result["p_value"], result["bootstrap_p_value"])
    from scipy.stats import norm, t

    center = math.log(result["ratio"])
    bound = result["ci_low"] if center > 0 else result["ci_high"]
    half = abs(center - math.log(bound))
    if half == 0:
        return 1.0 if center == 0 else 0.0
    law = t(result["degrees_of_freedom"]) if result.get("degrees_of_freedom") else norm
    return float(min(1.0, 2 * law.sf(abs(center) / half * law.ppf(1 - ALPHA / 2))))


def _rise_p_value(result: dict, two_sided: float) -> float:
    """The one-sided p-value of a rise from a symmetric test's two-sided one: half of it where the ratio is above
    1, and the rest where it is not. The gate fails on rises alone, and a two-sided p doubled every item's
    p-value before Holm's thresholds for nothing: a real 10% slowdown among 10 models at samples +-15% passed
    3 gates in 10."""
    return two_sided / 2 if result["ratio"] > 1 else 1 - two_sided / 2


def _holm(p_values: list[float]) -> list[bool]:
    """Which of `p_values` Holm's step-down procedure rejects at ALPHA: the k-th smallest (from 0) of m against
    ALPHA / (m - k), stopping at the first that is not below it."""
    rejected = [False] * len(p_values)
    for rank, index in enumerate(sorted(range(len(p_values)), key=p_values.__getitem__)):
        if not p_values[index] < ALPHA / (len(p_values) - rank):
            break
        rejected[index] = True
    return rejected


def _more_rows(entries: list[dict]) -> str:
    """The rows of `entries` counted by kind: "1 more command row", "2 more network rows and 1 more command row"."""
    counts = [(kind, sum(entry["kind"] == kind for entry in entries)) for kind in WHOLE_KINDS]
    return " and ".join(f"{count} more {kind} row{'' if count == 1 else 's'}" for kind, count in counts if count)


def _above(ratio: float, fail_above: float) -> bool:
    """Whether `ratio` rose by more than `fail_above`, give or take float round-off: 2.373 / 2.26 is
    1.0500000000000003, a rise of exactly 5%, which must not fail a 5% gate."""
    return ratio > (1 + fail_above) * (1 + ROUND_OFF)


def _remedy(why: str | None) -> str:
    """What would let the gate decide, for the reason a row could not be tested."""
    if why and why.startswith(ONE_FREEDOM):
        return "merge a third run into the side of two (hwprof merge), or compare one run against one"
    if why and "on one side (a median needs" in why:
        return f"measure with a longer --max-time, so each row takes at least {MIN_BOUNDED_SAMPLES} samples"
    if why and "too few samples to bound" in why:
        return "measure with a longer --max-time, so each process bounds its row's interval"
    if why and "disagree too much" in why:
        return "measure on a quieter machine, or with more --processes, so the processes agree"
    if why and why.startswith(ONCE_PER_RUN):
        return (
            f"give each side at least {MIN_RUNS_EACH} runs of each command, or one side three against the other's "
            "one (each hwprof run --out adds one to its dataset, hwprof merge joins datasets), so how far its runs "
            "differ tests it; three a side narrow the interval"
        )
    if why and why.startswith(ONE_WINDOW):  # one run a side gives a network's energy no spread to test it by
        return (
            "a network's energy and power come from one load window, which no test bounds on its own: merge at "
            f"least {MIN_RUNS_EACH} reruns into each side, or three into one side against the other's one (hwprof "
            "merge), so how far runs differ tests it, check that change by hand, or gate on latency_ms"
        )
    return "give datasets measured with raw samples"


def _unchecked(report: dict, metric: str) -> dict:
    """What the gate could not check, each with the sentence that says why (`unchecked`): the boards of BASE
    (also named in `unchecked_devices`) that NEW has no row of, measured otherwise, or has no host of, and the
    paired rows with no positive `metric` on a side (a blank or rounded cell of a CSV), whose change no ratio
    shows."""
    reasons = [
        {
            "device_name": device,
            "reason": "no row",
            "why": f"{report['new']} has no row of {device}, which {report['base']} measured",
        }
        for device in report["devices_only_in_base"]
    ]
    reasons += [
        {
            "device_name": entry["device_name"],
            "reason": "measured otherwise",
            "why": f"{entry['device_name']}: {entry['how']}",
        }
        for entry in report["devices_measured_otherwise"]
    ]
    reasons += [
        {
            "device_name": entry["device_name"],
            "host": entry["host"],
            "reason": "no run from host",
            "why": entry["why"],
        }
        for entry in report["boards_only_in_base"]
    ]
    names = [entry["device_name"] + (f" on host {entry['host']}" if "host" in entry else "") for entry in reasons]
    devices = len(report["devices"])
    reasons += [
        {
            "device_name": row["device_name"],
            "reason": _no_figure(metric),
            "row": label(row, "row", devices),
            "why": f"{label(row, 'row', devices)}: {row[metric]['why']}",
        }
        for row in report["rows"]
        if not _compared(row[metric])
    ]
    return {"unchecked_devices": names, "unchecked": reasons}


def _no_figure(metric: str) -> str:
    """The `reason` of an unchecked row: no ratio of `metric`, as one side had no positive figure."""
    return f"no positive {metric}"


def check_every_device_gated(report: dict) -> None:
    """Refuse a gate that checked only some of what it was given: in a fleet, a board whose job did not run (or
    that ran another dtype or setting) leaves its rows unpaired, and the gate over the boards that did would
    pass with that board unchecked; a paired row with no positive figure on a side has no ratio, and the gate
    over the other rows would pass with that network unchecked. A regression found elsewhere is the stronger
    news, so the caller reports it first."""
    gate = report.get("gate") or {}
    unchecked = gate.get("unchecked")
    if not unchecked:
        return
    threshold = option("fail_above", f"{100 * gate['fail_above']:g}%")
    by_reason: dict = {}
    for entry in unchecked:
        by_reason.setdefault(entry["reason"], []).append(entry["why"])
    hosts, otherwise = by_reason.get("no run from host", []), by_reason.get("measured otherwise", [])
    rows = by_reason.get(_no_figure(gate["metric"]), [])
    clauses = by_reason.get("no row", []) + hosts
    if otherwise:
        clauses.append(f"{report['new']} measured a board otherwise than {report['base']} ({'; '.join(otherwise)})")
    remedies = []
    if len(unchecked) > len(rows):
        boards = "it" if len(unchecked) - len(rows) == 1 else "them"
        renamed = " (a board renamed since BASE needs a new baseline)" if hosts else ""
        remedies.append(
            f"measure {boards} as BASE did{renamed}, or to gate fewer boards on purpose compare against a "
            "baseline of only those (such as a board's own shard from a run you trust)"
        )
    if rows:
        more = f"; and {len(rows) - 3} more" if len(rows) > 3 else ""
        clauses.append(
            f"{len(rows)} paired row{'' if len(rows) == 1 else 's'} had no positive {gate['metric']} "
            f"({'; '.join(rows[:3])}{more})"
        )
        them = "it" if len(rows) == 1 else "them"
        remedies.append(
            f"measure {them} again, or give the dataset as hwprof wrote it (a CSV edited or rounded by hand "
            "loses figures)"
        )
    one = len(unchecked) == 1
    undecided = ""
    if gate.get("cannot_decide"):  # a missing board's remedy comes first: with it back, the gate may decide
        undecided = f", and among the rows compared {gate['cannot_decide']['why']}"
        if len(unchecked) == len(rows):
            remedies.append(gate["cannot_decide"]["remedy"])
    raise CannotCompare(
        f"{'; '.join(clauses)}, so {threshold} could not check {'it' if one else 'them'}{undecided}: "
        f"{'; or '.join(remedies)}"
    )


def label(entry: dict, where: str = "row", devices: int = 1) -> str:
    """How a row or summary is named to a person; rows of a comparison over several devices name theirs."""
    device = f" on {entry['device_name']}" if devices > 1 else ""
    settings = "".join(f" {word}" for word in setting_words(entry))
    if where != "row":
        return f"{where} {entry[where]}{settings}{device}"
    if entry["kind"] == "command":  # timed by hwprof run: no batch, no layers
        return f"command {entry['model']}{device}"
    what = "network" if entry["kind"] == "network" else f"layer {entry['layer_index']} {entry['layer_name'] or ''}"
    seq = f" seq {entry['seq_len']}" if entry.get("seq_len") else ""  # as show names a network's row
    return f"{entry['model']}{seq} batch {entry['batch_size']}{settings} {what.rstrip()}{device}"


def setting_words(entry: dict) -> list[str]:
    """The settings a row or summary carries (those that tell the compared rows apart), as show names them: its
    dtype, compiled or eager, channels-last or contiguous."""
    words = []
    for column in SETTINGS_BEFORE_RECORDED:
        value = entry.get(column)
        if value is not None:
            words.append(SETTING_WORDS[column][not value] if column in SETTING_WORDS else str(value))
    return words
