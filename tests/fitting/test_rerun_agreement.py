"""fit says how far reruns of the same networks disagree: the noise a network error is judged against."""

import json

import pandas as pd
import pytest

from fakes.synthetic import synthetic_frame, write
from hwprof.fitting.data import rerun_agreement


def _runs(slower=1.2):
    """One run, and a rerun whose whole-network rows came out `slower` times as long."""
    first = synthetic_frame(n_networks=6, seed=60).assign(run_id="first")
    again = first.assign(run_id="again")
    networks = again["kind"] == "network"
    again.loc[networks, "latency_ms"] *= slower
    return first, again


def test_reruns_disagree_by_the_shift_between_them_taken_both_ways():
    first, again = _runs(1.2)
    agreement = rerun_agreement(pd.concat([first, again], ignore_index=True))
    networks = first[first["kind"] == "network"].groupby(["model", "batch_size"]).ngroups
    assert agreement["networks"] == networks and agreement["most_runs"] == 2
    assert agreement["mape"] == pytest.approx((0.2 + (1 - 1 / 1.2)) / 2)  # |1.2 - 1| one way, |1/1.2 - 1| the other
    assert agreement["within_10pct"] == 0


def test_reruns_whose_power_disagrees_say_so_beside_their_latency(tmp_path):
    """Two runs at 20 W and 30 W fitted together said only how far their latencies agreed; fit predicted the mean."""
    from click.testing import CliRunner

    from hwprof.cli import main

    first = synthetic_frame(n_networks=6, seed=60, with_power=True).assign(run_id="first")
    again = first.assign(run_id="again")
    again["power_w"] *= 1.5
    agreement = rerun_agreement(pd.concat([first, again], ignore_index=True))
    assert agreement["mape"] == 0 and agreement["power_w"]["mape"] == pytest.approx((0.5 + (1 - 1 / 1.5)) / 2)
    paths = [str(write(frame, tmp_path / f"{name}.parquet")) for name, frame in (("a", first), ("b", again))]
    result = CliRunner().invoke(main, ["fit", *paths, "--out", str(tmp_path / "p.json"), "--no-cv"])
    assert result.exit_code == 0, result.output
    assert "their mean power disagrees by 41.7%" in " ".join(result.output.split())
    assert "power_w" not in rerun_agreement(pd.concat(_runs(), ignore_index=True))  # no power measured


def test_one_run_has_no_reruns_to_report():
    first, _ = _runs()
    assert rerun_agreement(first) is None
    assert rerun_agreement(first.drop(columns="run_id")) is None


def test_fit_prints_the_rerun_disagreement_beside_its_network_error(tmp_path):
    from click.testing import CliRunner

    from hwprof.cli import main
    from hwprof.predictor.predictor import load_predictor

    first, again = _runs(1.05)
    paths = [str(write(frame, tmp_path / f"{name}.parquet")) for name, frame in (("a", first), ("b", again))]
    result = CliRunner().invoke(main, ["fit", *paths, "--out", str(tmp_path / "p.json"), "--no-cv"])
    assert result.exit_code == 0, result.output
    assert "network(s) measured in two runs disagree by 4.9%" in " ".join(result.output.split())
    assert "100.0% within 10%" in " ".join(result.output.split())
    saved = load_predictor(tmp_path / "p.json").doc["training"]["rerun_agreement"]
    assert saved["mape"] == pytest.approx((0.05 + (1 - 1 / 1.05)) / 2)


def test_evaluate_reports_the_rerun_disagreement_of_the_data_it_scores(tmp_path):
    from click.testing import CliRunner

    from hwprof.cli import main
    from hwprof.fitting.fit import fit

    first, again = _runs(1.2)
    fit([write(first, tmp_path / "a.parquet")], out=tmp_path / "p.json", cv=False)
    paths = [str(write(frame, tmp_path / f"{name}.parquet")) for name, frame in (("b", first), ("c", again))]
    result = CliRunner().invoke(main, ["evaluate", str(tmp_path / "p.json"), *paths])
    assert result.exit_code == 0, result.output
    assert "measured in two runs disagree by 18.3%" in " ".join(result.output.split())
    single = CliRunner().invoke(main, ["evaluate", str(tmp_path / "p.json"), paths[0], "--json"])
    assert single.exit_code == 0 and '"rerun_agreement": null' in single.output


def test_a_predictor_adapted_to_new_data_reports_their_reruns_not_the_base_s(tmp_path):
    """fit --base keeps the base's layer models, not what its data's reruns said; the file is new, dated now."""
    from click.testing import CliRunner

    from hwprof.cli import main
    from hwprof.predictor.predictor import load_predictor

    first, again = _runs(1.2)
    base_paths = [str(write(frame, tmp_path / f"{name}.parquet")) for name, frame in (("a", first), ("b", again))]
    base = tmp_path / "base.json"
    assert CliRunner().invoke(main, ["fit", *base_paths, "--out", str(base), "--no-cv"]).exit_code == 0
    doc = json.loads(base.read_text())
    doc["created"] = "2000-01-01T00:00:00+00:00"
    base.write_text(json.dumps(doc))
    new = write(first.assign(device_name="another board"), tmp_path / "new.parquet")  # one run: no reruns
    out = tmp_path / "adapted.json"
    result = CliRunner().invoke(main, ["fit", str(new), "--base", str(base), "--out", str(out), "--no-cv"])
    assert result.exit_code == 0, result.output
    assert "disagree" not in result.output
    adapted = load_predictor(out).doc
    assert adapted["training"]["rerun_agreement"] is None and not adapted["created"].startswith("2000")


def test_a_network_whose_runs_differ_wildly_is_named_not_averaged_in(tmp_path):
    """One cell read 1179.8 ms in one run and 6.8 ms in the other: the mean over 100 cells said 311.5%."""
    from click.testing import CliRunner

    from hwprof.cli import main

    first, again = _runs(1.05)
    networks = again.index[again["kind"] == "network"]
    wrong = networks[0]
    again.loc[wrong, "latency_ms"] = first.loc[wrong, "latency_ms"] * 170
    agreement = rerun_agreement(pd.concat([first, again], ignore_index=True))
    assert agreement["networks"] == len(networks) - 1 and agreement["wild"] == 1
    assert agreement["mape"] == pytest.approx((0.05 + (1 - 1 / 1.05)) / 2)  # the other networks' shift only
    named = agreement["wild_named"][0]
    assert named["model"] == again.loc[wrong, "model"] and named["factor"] == pytest.approx(170 / 1.0)
    assert sorted(named["runs"]) == ["again", "first"]
    paths = [str(write(frame, tmp_path / f"{name}.parquet")) for name, frame in (("a", first), ("b", again))]
    result = CliRunner().invoke(main, ["fit", *paths, "--out", str(tmp_path / "p.json"), "--no-cv"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "disagree by 4.9%" in text and "1 network(s) left out of that differ by over 3x between runs" in text
    assert f"{again.loc[wrong, 'model']} batch" in text and "measure them again" in text


def test_reruns_that_all_differ_wildly_say_so_without_a_mean(tmp_path):
    first, again = _runs(10.0)
    agreement = rerun_agreement(pd.concat([first, again], ignore_index=True))
    assert agreement["mape"] is None and agreement["networks"] == 0 and agreement["wild"] > 0
    from hwprof.cli.fit import rerun_line

    assert rerun_line(agreement).startswith("reruns: no network measured in two runs agrees within 3x")
