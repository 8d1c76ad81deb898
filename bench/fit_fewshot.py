"""Few-shot ranking: how well N measured NAS-Bench-201 networks rank the rest.

    python bench/fit_fewshot.py [--nb201 RUN.parquet ...] [--noise-run RUN.parquet] [--zoo ZOO.parquet ...]

For N in 5, 10, 20, 50: draw N measured networks at random (many draws),
fit a predictor from those network rows alone (features computed from each
arch), predict the held-out networks and score Spearman and Kendall rank
correlation and MAPE. Side by side on the same held-out networks: ranking by
FLOPs (MACs) and by parameter count, which need no measurement, the layer
predictor fitted on the sample-model zoo with no NAS-Bench-201 network at all,
and that zoo predictor with its network model refitted on the N NAS-Bench-201
rows (layer models kept: transfer from the zoo, adapted with few samples).
The ceiling: Spearman between two runs of the same networks on this machine.
HELP (NeurIPS 2021) reports Spearman 0.93 on average from 10 samples.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from fit_common import NB201_ONE_THREAD_RUNS, existing  # noqa: E402
from results_io import emit_markdown, heading, provenance  # noqa: E402

SIZES = (5, 10, 20, 50)
HELP_SPEARMAN_AT_10 = 0.93


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--nb201",
        nargs="+",
        default=existing(*NB201_ONE_THREAD_RUNS[:3]),
        help="network-only datasets, combined (default: three one-thread runs on a quiet machine, the median "
        "of each network; see fit_measure_data.py)",
    )
    parser.add_argument(
        "--noise-run",
        default=(existing(NB201_ONE_THREAD_RUNS[3]) or [None])[0],
        help="another run of the same networks, to measure the run-to-run ranking ceiling",
    )
    parser.add_argument(
        "--zoo",
        nargs="+",
        default=existing("zoo_steady.parquet"),
        help="the zoo's layer and network rows (default: one thread, allocator pinned, as the cells)",
    )
    parser.add_argument("--draws", type=int, default=20)
    parser.add_argument("--out", default=str(HERE / "results" / "fit_fewshot.json"))
    args = parser.parse_args()

    from hwprof.fitting.data import read_inputs, select_device, training_data
    from hwprof.fitting.pipeline import fit_training_data, refit_networks
    from hwprof.predictor.features import OP_GROUPS

    frame, sources = read_inputs(args.nb201)
    frame, device = select_device(frame, None)
    data = training_data(frame, device, sources)  # traces every arch once
    y = data.targets["latency_ms"]
    n = len(y)
    totals = data.networks.aggregates.reshape(n, len(OP_GROUPS), -1)
    gmac = totals[:, :, 1].sum(axis=1)
    params = _parameter_counts(data.networks.names)
    op_counts = _cell_op_counts(data.networks.names)
    zoo = None
    if args.zoo:
        zoo_frame, zoo_sources = read_inputs(args.zoo)
        zoo_frame, zoo_device = select_device(zoo_frame, None)
        zoo = training_data(zoo_frame, zoo_device, zoo_sources)
        zoo_only = fit_training_data(zoo, ["latency_ms"], family="auto", cv=False)
        zoo_predicted = zoo_only.predict_features(zoo_only.features_from_batch(data.networks), intervals=False)

    results = {
        **provenance(),
        "dataset": ", ".join(args.nb201),
        "networks": n,
        "latency_ms_range": [float(y.min()), float(y.max())],
        "draws": args.draws,
        "help_published_spearman_at_10": HELP_SPEARMAN_AT_10,
        "sizes": {},
    }
    rng = np.random.default_rng(0)
    for size in SIZES:
        if size >= n - 5:
            continue
        scores: dict[str, list] = {
            "hwprof network rows only": [],
            "analytic model alone (before)": [],
            "op-count ridge": [],
            "FLOPs": [],
            "params": [],
        }
        if zoo is not None:
            scores["zoo layer predictor, no nb201 rows"] = []
            scores["zoo layer models, network model refitted on the N rows"] = []
        for _ in range(args.draws):
            order = rng.permutation(n)
            train, test = order[:size], order[size:]
            predictor = fit_training_data(data.subset(train), ["latency_ms"], cv=False)
            predicted = predictor.predict_features(
                predictor.features_from_batch(data.networks.select(test)), intervals=False
            )["latency_ms"]
            scores["hwprof network rows only"].append(_score(predicted, y[test]))
            scores["analytic model alone (before)"].append(_score(_analytic_alone(data, train, test), y[test]))
            scores["op-count ridge"].append(_score(_op_count_ridge(op_counts, y, train, test), y[test]))
            scores["FLOPs"].append(_score(gmac[test], y[test], ranking_only=True))
            scores["params"].append(_score(params[test], y[test], ranking_only=True))
            if zoo is not None:
                scores["zoo layer predictor, no nb201 rows"].append(_score(zoo_predicted["latency_ms"][test], y[test]))
                adapted = refit_networks(zoo_only, data.subset(train))
                both = adapted.predict_features(
                    adapted.features_from_batch(data.networks.select(test)), intervals=False
                )["latency_ms"]
                scores["zoo layer models, network model refitted on the N rows"].append(_score(both, y[test]))
        results["sizes"][str(size)] = {label: _summary(values) for label, values in scores.items()}
        results["below_ridge_draws"] = results.get("below_ridge_draws", {})
        results["below_ridge_draws"][str(size)] = sum(
            mine["spearman"] < ridge["spearman"]
            for mine, ridge in zip(scores["hwprof network rows only"], scores["op-count ridge"])
        )
        print(
            f"N={size}: " + ", ".join(f"{k} {v['spearman_mean']:.3f}" for k, v in results["sizes"][str(size)].items()),
            file=sys.stderr,
        )
    if args.noise_run:
        results["run_to_run"] = _run_to_run(data, args.noise_run)
    ten = results["sizes"].get("10", {}).get("hwprof network rows only")
    if ten:
        results["ratio_spearman_at_10_to_help"] = ten["spearman_mean"] / HELP_SPEARMAN_AT_10
    emit_markdown(results, markdown(results), args.out)


def _run_to_run(data, other_path: str) -> dict:
    """How well one run of the networks ranks another: the ceiling for any predictor."""
    other = pd.read_parquet(other_path)
    other = other[other["kind"] == "network"].set_index("model")["latency_ms"]
    mine = pd.Series(data.targets["latency_ms"], index=data.networks.names)
    both = pd.concat([mine, other], axis=1, join="inner").dropna()
    ratio = both.iloc[:, 0] / both.iloc[:, 1]
    return {
        "other_run": other_path,
        "networks": int(len(both)),
        "spearman": float(stats.spearmanr(both.iloc[:, 0], both.iloc[:, 1]).statistic),
        "median_abs_ratio_minus_1": float(np.median(np.abs(ratio - 1))),
    }


def _analytic_alone(data, train, test) -> np.ndarray:
    """The per-group analytic model with no baseline candidates: what `fit` on network rows did before."""
    from hwprof.fitting.layers import make_folds
    from hwprof.fitting.network import analytic_design, fit_network_model

    sub = data.networks.select(train)
    y = data.targets["latency_ms"][train]
    design, x = analytic_design(sub.aggregates, y)
    model = fit_network_model("latency_ms", x, y, design, make_folds(data.families[train]).splits)
    _, x_test = analytic_design(data.networks.select(test).aggregates, data.targets["latency_ms"][test])
    return np.maximum(x_test @ model.coef, 1e-9)


def _cell_op_counts(names) -> np.ndarray:
    """How many edges of each NAS-Bench-201 op a cell has: the baseline of the few-shot literature."""
    ops = ["nor_conv_3x3", "nor_conv_1x1", "avg_pool_3x3", "skip_connect", "none"]
    return np.array([[name.count(f"{op}~") for op in ops] for name in names], dtype=float)


def _op_count_ridge(counts: np.ndarray, y: np.ndarray, train, test) -> np.ndarray:
    """Ridge regression of log latency on the five op counts, its penalty by leave-one-out."""
    from sklearn.linear_model import RidgeCV

    model = RidgeCV(alphas=np.logspace(-3, 3, 13)).fit(counts[train], np.log(y[train]))
    return np.exp(model.predict(counts[test]))


def _parameter_counts(names) -> np.ndarray:
    from hwprof.models.spec import resolve_model

    return np.array([sum(p.numel() for p in resolve_model(name).module.parameters()) for name in names], dtype=float)


def _score(predicted, measured, ranking_only: bool = False) -> dict:
    result = {
        "spearman": float(stats.spearmanr(predicted, measured).statistic),
        "kendall": float(stats.kendalltau(predicted, measured).statistic),
    }
    if not ranking_only:
        result["mape"] = float(np.mean(np.abs(predicted / measured - 1)))
    return result


def _summary(values: list[dict]) -> dict:
    table = pd.DataFrame(values)
    summary = {}
    for column in table.columns:
        summary[f"{column}_mean"] = float(table[column].mean())
        summary[f"{column}_std"] = float(table[column].std(ddof=1)) if len(table) > 1 else 0.0
    return summary


def markdown(results: dict) -> str:
    labels = list(next(iter(results["sizes"].values())).keys()) if results["sizes"] else []
    lines = [
        *heading("Few-shot ranking of NAS-Bench-201 networks", results),
        f"Machine: {results['machine']}  ",
        f"Data: {results['dataset']}: {results['networks']} measured networks, latency "
        f"{results['latency_ms_range'][0]:.2f}-{results['latency_ms_range'][1]:.2f} ms; "
        f"{results['draws']} random draws per N, scored on the networks not drawn",
        "",
        "Spearman (mean ± sd over draws):",
        "",
        "| N measured | " + " | ".join(labels) + " |",
        "|---" * (len(labels) + 1) + "|",
    ]
    for size, entry in results["sizes"].items():
        lines.append(
            f"| {size} | "
            + " | ".join(
                f"{entry[label]['spearman_mean']:.3f} ± {entry[label]['spearman_std']:.3f}" for label in labels
            )
            + " |"
        )
    if results.get("below_ridge_draws"):
        lines += [
            "",
            "Draws (of "
            + str(results["draws"])
            + ") where hwprof ranked the held-out networks below the op-count ridge: "
            + ", ".join(f"N={size}: {count}" for size, count in results["below_ridge_draws"].items()),
        ]
    lines += [
        "",
        "MAPE of the fitted predictors (mean over draws):",
        "",
        "| N measured | "
        + " | ".join(label for label in labels if "mape_mean" in results["sizes"][next(iter(results["sizes"]))][label])
        + " |",
    ]
    mape_labels = [label for label in labels if "mape_mean" in results["sizes"][next(iter(results["sizes"]))][label]]
    lines.append("|---" * (len(mape_labels) + 1) + "|")
    for size, entry in results["sizes"].items():
        lines.append(
            f"| {size} | " + " | ".join(f"{100 * entry[label]['mape_mean']:.1f}%" for label in mape_labels) + " |"
        )
    if "run_to_run" in results:
        r = results["run_to_run"]
        lines += [
            "",
            f"Ceiling: a second run of the same {r['networks']} networks ranks this run with Spearman "
            f"{r['spearman']:.3f} (median |ratio - 1| {100 * r['median_abs_ratio_minus_1']:.1f}%).",
        ]
    if "ratio_spearman_at_10_to_help" in results:
        lines += [
            "",
            f"Spearman at N=10 against HELP's published 0.93: ratio {results['ratio_spearman_at_10_to_help']:.2f} "
            "(HELP: other devices, meta-trained on other devices first).",
        ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
