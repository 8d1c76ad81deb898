"""fit's and evaluate's tables print rank correlations that tell a near-perfect ranking from a perfect one."""

from hwprof.cli.fit import _print_fit_summary, _print_report

METRICS = {"n": 8000, "rmspe": 0.044, "mape": 0.032, "within_5pct": 0.8, "within_10pct": 0.97, "coverage": 0.9}


def table_line(output: str, name: str) -> list[str]:
    (line,) = [line for line in output.splitlines() if line.startswith(f"│ {name} ")]
    return [cell.strip() for cell in line.split("│")[1:-1]]


def test_evaluate_prints_spearman_0_9995_as_such_beside_kendall(capsys):
    network = METRICS | {"spearman": 0.9995, "kendall": 0.987}
    layers = {"conv2d": METRICS | {"spearman": 1.0, "kendall": 0.97}}
    _print_report({"network": {"latency_ms": network}, "layers": layers, "confidence": 0.9})
    output = capsys.readouterr().out
    assert table_line(output, "latency_ms")[6:8] == ["0.9995", "0.987"]
    assert table_line(output, "conv2d")[6:8] == ["1.000", "0.970"]  # a perfect ranking is exactly 1


def test_fit_prints_a_cross_validated_spearman_near_1_with_enough_digits(capsys):
    summary = {
        "out": "p.json",
        "mode": "latency",
        "device_name": "Synthetic CPU",
        "training": {"rows": {"networks": 8000, "unique_layer_configs": 3200}},
        "layer_models": {},
        "cv": {
            "scheme": "leave-one-family-out",
            "folds": 5,
            "metrics": {"latency_ms": METRICS | {"spearman": 0.99987}},
        },
    }
    _print_fit_summary(summary)
    assert table_line(capsys.readouterr().out, "latency_ms")[5] == "0.9999"
