"""How fast a fitted predictor answers, split into the parts a search loop pays for.

    flock /tmp/hwprof-bench.lock python bench/predict_speed.py

Single-threaded throughout (numpy, BLAS and torch pinned to one thread).
Reported separately, per NAS-Bench-201 network:
- model construction (build the nn.Module);
- feature extraction (trace one forward pass into layers);
- encoding (layers -> the predictor's feature arrays), cold and warm. Layer
  predictions are a pure function of a layer configuration, so the layer
  models run once per distinct (op, config) when features are built and are
  cached beside the encoded row. Cold: every configuration of the network is
  new (encode + layer-model evaluation). Warm: every configuration was seen
  before (cache lookups; the regime of a search loop over one space);
- prediction from features, one network per call (target: <= 50 us): sums of
  the cached per-layer predictions and the network models;
- prediction from features, batched (target: >= 100,000 networks/s).
Side by side in the same run: the same networks predicted one call at a
time, and an nn-Meter-style predictor (one sklearn random forest per op type,
summed over layers) fitted on the same layer rows.
"""

from __future__ import annotations

import os

for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[variable] = "1"

import argparse  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from fit_common import existing  # noqa: E402
from results_io import emit_markdown, heading, provenance  # noqa: E402


def median_seconds(call, repeats: int, inner: int = 1) -> float:
    """Median wall time of `call` over `repeats` samples of `inner` calls each."""
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(inner):
            call()
        samples.append((time.perf_counter() - start) / inner)
    return float(np.median(samples))


def trace_archs(archs: list[str]) -> dict:
    """Construction and extraction times per network, and the traced layer records."""
    from hwprof.models.layers import extract_layers
    from hwprof.models.spec import resolve_model
    from hwprof.predictor.features import LayerRecord

    build, extract, records = [], [], []
    for arch in archs:
        start = time.perf_counter()
        spec = resolve_model(f"nb201:{arch}")
        built = time.perf_counter()
        layers, _ = extract_layers(spec.module, spec.input_shape, 1)
        done = time.perf_counter()
        build.append(built - start)
        extract.append(done - built)
        records.append([LayerRecord.from_layer(layer) for layer in layers])
    return {"build_s": np.array(build), "extract_s": np.array(extract), "records": records}


def nn_meter_style(datasets: list[str]):
    """One RandomForestRegressor per op type on the same layer variables (nn-Meter's kernel models);
    returns (features of a layer list, prediction from those features)."""
    from sklearn.ensemble import RandomForestRegressor

    from hwprof.fitting.data import read_inputs, select_device, training_data
    from hwprof.predictor.features import BASE_VARIABLES, encode_layers

    frame, _ = read_inputs(datasets)
    frame, device = select_device(frame, None)
    data = training_data(frame, device)
    variables = list(BASE_VARIABLES)
    z = encode_layers(data.layer_records, variables)
    forests = {}
    for op in sorted(set(data.layers["op"])):
        rows = np.flatnonzero(data.layers["op"].to_numpy() == op)
        forest = RandomForestRegressor(n_estimators=100, random_state=0, n_jobs=1)
        forest.fit(z[rows], data.layers["latency_ms"].to_numpy()[rows])
        forests[op] = forest
    fallback = forests[max(forests, key=lambda op: (data.layers["op"] == op).sum())]

    def features(records):
        """Per op type, its layers' encoded variables: the forest's features, computed once."""
        zs = encode_layers(records, variables)
        ops = np.array([r.op for r in records])
        return [(forests.get(op, fallback), zs[ops == op]) for op in np.unique(ops)]

    def predict(encoded):
        return sum(forest.predict(z).sum() for forest, z in encoded)

    return features, predict


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--zoo", nargs="+", default=existing("zoo.parquet", "zoo_repeat.parquet"), help="layer + network datasets"
    )
    parser.add_argument("--nb201", nargs="+", default=existing("nb201_repeat.parquet"), help="network-only datasets")
    parser.add_argument("--archs", type=int, default=200, help="NAS-Bench-201 cells to trace")
    parser.add_argument("--batch", type=int, default=100_000, help="networks per batched call")
    parser.add_argument("--out", default=str(HERE / "results" / "fit_speed.json"))
    args = parser.parse_args()

    import torch

    torch.set_num_threads(1)
    from fit_measure_data import nb201_archs

    from hwprof.fitting.fit import fit
    from hwprof.predictor.features import NetworkBatch

    results = {
        **provenance(),
        "python": platform.python_version(),
        "threads": 1,
    }
    start = time.perf_counter()
    predictors = {"layers (zoo, auto)": fit(args.zoo, family="auto", cv=False)}
    if args.nb201:
        predictors["analytic (nb201 network rows)"] = fit(args.nb201, cv=False)
    results["fit_s"] = round(time.perf_counter() - start, 1)

    archs = nb201_archs(args.archs, seed=7)
    traced = trace_archs(archs)
    results["per_network_ms"] = {
        "model_construction": 1e3 * float(np.median(traced["build_s"])),
        "feature_extraction_trace": 1e3 * float(np.median(traced["extract_s"])),
    }
    names = [f"nb201:{a}" for a in archs]
    rng = np.random.default_rng(0)
    results["predictors"] = {}
    for label, predictor in predictors.items():
        entry = {"layer_models": predictor.uses_layers}
        # encoding of one network's layers: cold (empty cache: encode and run the layer models on every
        # configuration) and warm (every configuration cached: what a search loop pays once warmed up)
        cold, warm = [], []
        for name, records in zip(names[:50], traced["records"][:50]):
            predictor.clear_encoding_cache()
            t0 = time.perf_counter()
            predictor.features_from_layers([name], [1], [records])
            cold.append(time.perf_counter() - t0)
            warm.append(
                median_seconds(
                    lambda n=name, r=records: predictor.features_from_layers([n], [1], [r]), repeats=5, inner=10
                )
            )
        entry["encoding_ms_per_network"] = {"cold": 1e3 * float(np.median(cold)), "warm": 1e3 * float(np.median(warm))}
        singles = [predictor.features_from_layers([n], [1], [r]) for n, r in zip(names[:50], traced["records"][:50])]
        median_seconds(lambda: [predictor.predict_features(f) for f in singles], repeats=20)  # warm-up, untimed
        per_call = [median_seconds(lambda f=f: predictor.predict_features(f), repeats=7, inner=200) for f in singles]
        entry["single_network_us"] = {
            "median": 1e6 * float(np.median(per_call)),
            "p90": 1e6 * float(np.quantile(per_call, 0.9)),
        }
        loop = median_seconds(lambda: [predictor.predict_features(f) for f in singles], repeats=5)
        entry["loop_of_single_calls_networks_per_s"] = len(singles) / loop
        batch = NetworkBatch.from_layer_lists(names, [1] * len(names), traced["records"])
        big = batch.select(rng.integers(0, len(names), args.batch))
        features = predictor.features_from_batch(big)
        batched = median_seconds(lambda: predictor.predict_features(features), repeats=5)
        entry["batched"] = {
            "networks": args.batch,
            "distinct_traced": len(names),
            "seconds": batched,
            "networks_per_s": args.batch / batched,
        }
        entry["batched_vs_loop"] = entry["batched"]["networks_per_s"] / entry["loop_of_single_calls_networks_per_s"]
        results["predictors"][label] = entry
    forest_features, forest_predict = nn_meter_style(args.zoo)
    records20 = traced["records"][:20]
    encoded = [forest_features(r) for r in records20]
    forest_s = [median_seconds(lambda e=e: forest_predict(e), repeats=3) for e in encoded]
    forest_encode_s = [median_seconds(lambda r=r: forest_features(r), repeats=3) for r in records20]
    results["nn_meter_style_random_forest_us_per_network"] = 1e6 * float(np.median(forest_s))
    results["nn_meter_style_random_forest_encode_us_per_network"] = 1e6 * float(np.median(forest_encode_s))
    # like for like, a network none of whose configurations was seen (the forests are not cached):
    # forests encode + evaluate vs this predictor's cold encoding (with its layer models) + evaluation
    layered = results["predictors"]["layers (zoo, auto)"]
    forest_us = (
        results["nn_meter_style_random_forest_us_per_network"]
        + results["nn_meter_style_random_forest_encode_us_per_network"]
    )
    hwprof_cold_us = 1e3 * layered["encoding_ms_per_network"]["cold"] + layered["single_network_us"]["median"]
    results["random_forest_vs_hwprof_cold"] = forest_us / hwprof_cold_us

    emit_markdown(results, markdown(results), args.out)


def markdown(results: dict) -> str:
    lines = [
        *heading("Prediction speed", results),
        f"Machine: {results['machine']}, single-threaded",
        "",
        "Layer predictions are made once per distinct layer configuration, when features are built "
        "(cold encoding includes them; warm encoding finds them cached), so one network from its features "
        "is the network models applied to sums of cached per-layer predictions.",
        "",
        "| per NAS-Bench-201 network | time |",
        "|---|---|",
        f"| model construction | {results['per_network_ms']['model_construction']:.1f} ms |",
        f"| feature extraction (trace) | {results['per_network_ms']['feature_extraction_trace']:.1f} ms |",
    ]
    for label, entry in results["predictors"].items():
        encoding = entry["encoding_ms_per_network"]
        if not entry["layer_models"]:  # network aggregates only: nothing per configuration to encode or cache
            lines.append(f"| encoding, {label} (network aggregates, no layer models) | {encoding['cold']:.2f} ms |")
            continue
        lines.append(
            f"| encoding, {label}, cold (all configurations new: encode + layer models) | {encoding['cold']:.2f} ms |"
        )
        lines.append(f"| encoding, {label}, warm (all configurations seen before) | {encoding['warm']:.2f} ms |")
    lines += [
        "",
        "| predictor | one network from features (median / p90) | batched | batched vs loop of single calls |",
        "|---|---|---|---|",
    ]
    for label, entry in results["predictors"].items():
        single = entry["single_network_us"]
        lines.append(
            f"| {label} | {single['median']:.1f} us / {single['p90']:.1f} us | "
            f"{entry['batched']['networks_per_s']:,.0f} networks/s ({entry['batched']['networks']:,} per call) | "
            f"{entry['batched_vs_loop']:.0f}x |"
        )
    layered = results["predictors"]["layers (zoo, auto)"]
    hwprof_cold_ms = layered["encoding_ms_per_network"]["cold"] + layered["single_network_us"]["median"] / 1e3
    forest_ms = (
        results["nn_meter_style_random_forest_us_per_network"]
        + results["nn_meter_style_random_forest_encode_us_per_network"]
    ) / 1e3
    lines += [
        "",
        f"nn-Meter-style per-op random forests on the same layers: "
        f"{results['nn_meter_style_random_forest_us_per_network']:.0f} us per network from its encoded layers, "
        f"{forest_ms:.1f} ms with encoding (forests are evaluated on every call, not cached). "
        f"For a network with no configuration seen before, that is "
        f"{results['random_forest_vs_hwprof_cold']:.0f}x the layer predictor's cold encoding plus "
        f"evaluation ({hwprof_cold_ms:.2f} ms).",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
