"""`hwprof search` end to end on the toy family: outputs written, mistakes reported in one sentence."""

import json
import signal

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

import hwprof.cli.search
import hwprof.measuring.session
from fakes.search_doubles import LATENCY_MS_PER_WIDTH, TOY_SPACE, ToyPredictor
from hwprof.cli import main
from hwprof.search.constraints import parse_constraints
from hwprof.search.space import space_from_dict
from hwprof.search.study import FAILURES_IN_A_ROW, SearchOptions, run_search
from hwprof.search.verify import final_candidates, verify_candidates


@pytest.fixture
def toy_yaml(tmp_path):
    path = tmp_path / "toy.yaml"
    path.write_text(yaml.safe_dump(TOY_SPACE))
    return path


@pytest.fixture
def toy_predictor(monkeypatch):
    monkeypatch.setattr(hwprof.cli.search, "_predictor", lambda *args: ToyPredictor())


def invoke(*args):
    return CliRunner().invoke(main, ["search", *map(str, args)])


def test_search_writes_best_pareto_json_and_png(toy_yaml, toy_predictor, tmp_path):
    out = tmp_path / "out"
    result = invoke(
        toy_yaml,
        "--predictor",
        "unused.json",
        "--constraint",
        "latency_ms<=1",
        "--trials",
        30,
        "--seed",
        1,
        "--out",
        out,
    )
    assert result.exit_code == 0, result.output
    assert "trainings skipped as predicted infeasible" in result.output
    summary = json.loads((out / "search.json").read_text())
    assert summary["best"]["params"] == {"width": 10, "head": "wide"}
    assert summary["wasted_trainings"] == 0
    assert summary["skipped_trainings"] == sum(t["state"] == "skipped" for t in summary["trials"]) > 0
    assert summary["pareto_front"] and all(t["feasible"] for t in summary["pareto_front"])
    assert (out / "pareto.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert summary["space_path"] == str(toy_yaml) and summary["started"] <= summary["finished"]  # ISO, UTC


def test_infeasible_only_space_reports_clearly_without_crashing(toy_yaml, toy_predictor, tmp_path):
    out = tmp_path / "out"
    result = invoke(
        toy_yaml, "--predictor", "unused.json", "--constraint", "latency_ms<=0.01", "--trials", 5, "--out", out
    )
    assert result.exit_code == 1, result.output  # no score: a CI job must not pass on it
    assert "no configuration in 5 trials was predicted to meet the budgets" in result.output
    assert result.output.strip().splitlines()[-1].startswith("Error: no trial produced a score")
    assert "closest was trial" in result.output
    assert json.loads((out / "search.json").read_text())["best"] is None
    assert (out / "pareto.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"  # the plot always matches search.json


@pytest.mark.parametrize(
    "args, sentence",
    [
        (["--constraint", "latncy_ms<=5"], "unknown metric 'latncy_ms'"),
        (["--constraint", "latency_ms=>5"], "bad operator '=>'"),
        (["--constraint", "latency_ms<=fast"], "is not a number"),
        ([], "no --constraint given"),
        (["--constraint", "latency_ms<=5", "--objective", "nowhere:evaluate"], "cannot import objective module"),
        (["--constraint", "latency_ms<=5", "--confidence", "2"], "--confidence must lie strictly between 0 and 1"),
        (["--constraint", "latency_ms<=5", "--trials", "0"], "--trials must be at least 1"),
        (["--constraint", "latency_ms<=5", "--seed", "-5"], "--seed -5: give a seed from 0 to 4294967295"),
        (["--constraint", "latency_ms<=5", "--seed", "99999999999"], "--seed 99999999999: give a seed from 0 to"),
        (["--constraint", "latency_ms<=5", "--timeout", "-1"], "a timeout of -1 seconds leaves no time"),
        (["--constraint", "latency_ms<=5", "--timeout", "0"], "give a positive number of seconds"),
        (["--constraint", "latency_ms<=5", "--threads", "99999"], "--threads 99999: give a thread count from 1 to"),
        (["--constraint", "latency_ms<=5", "--verify", "--verify-count", "0"], "--verify-count 0: give how many"),
    ],
)
def test_mistakes_are_one_sentence_before_any_trial(toy_yaml, toy_predictor, tmp_path, args, sentence):
    result = invoke(toy_yaml, "--predictor", "unused.json", "--out", tmp_path / "out", *args)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert lines[-1].startswith("Error: ") and sentence in lines[-1]
    assert not any(line.startswith("trial ") for line in lines)


def test_missing_space_and_missing_predictor_are_one_sentence(toy_yaml, tmp_path):
    missing_space = invoke(tmp_path / "nope.yaml", "--constraint", "latency_ms<=5")
    assert missing_space.exit_code == 1 and "does not exist" in missing_space.output
    no_predictor = invoke(toy_yaml, "--constraint", "latency_ms<=5")
    assert no_predictor.exit_code == 1 and "--predictor is required" in no_predictor.output
    missing_file = invoke(toy_yaml, "--predictor", tmp_path / "none.json", "--constraint", "latency_ms<=5")
    assert missing_file.exit_code == 1 and "Traceback" not in missing_file.output
    assert "does not exist" in missing_file.output


def fake_measure(slowdown):
    """A stand-in for hwprof.measure: network rows whose latency is the toy formula times `slowdown`."""

    def measure(specs, batch_sizes=(1,), **kwargs):
        assert kwargs["layers"] is True and kwargs["sweep_share"] == 0  # layers, so the kept dataset refits
        return pd.DataFrame(
            [
                {
                    "model": s.name,
                    "kind": "network",
                    "batch_size": batch_sizes[0],
                    "latency_ms": LATENCY_MS_PER_WIDTH * s.module.width * slowdown,
                    "power_w": None,
                    "energy_mj": None,
                }
                for s in specs
            ]
        )

    return measure


def toy_result(constraints):
    space = space_from_dict(TOY_SPACE)
    options = SearchOptions(trials=30, constraints=parse_constraints(constraints), seed=1)
    return space, run_search(space, ToyPredictor(), space.objective, space.objective_ref, options)


def test_verify_reports_budgets_that_fail_in_reality():
    space, result = toy_result(["latency_ms<=1"])
    candidates = final_candidates(result, 3)
    assert candidates[0].number == result.best.number
    exact = verify_candidates(space, result, candidates, measure=fake_measure(1.0))
    assert all(check["holds"] for check in exact.values())
    slower = verify_candidates(space, result, candidates, measure=fake_measure(1.15))
    best_check = slower[result.best.number]  # width 10: 1.15 ms measured against a 1 ms budget
    assert best_check["holds"] is False and best_check["measured"]["latency_ms"] == pytest.approx(1.15)


def test_verify_says_unavailable_when_a_budgeted_metric_cannot_be_measured():
    space, result = toy_result(["latency_ms<=1", "energy_mj<=10"])
    checks = verify_candidates(space, result, final_candidates(result, 2), measure=fake_measure(1.0))
    assert all(check["holds"] is None and check["unavailable"] == ["energy_mj<=10"] for check in checks.values())
    from hwprof.search.report import verification_lines

    lines = verification_lines(result, checks, "--power none")
    assert len(lines) == len(checks)
    assert all(line.endswith(": energy_mj<=10 could not be measured (--power none)") for line in lines)


def test_verify_flag_measures_the_final_candidates(toy_yaml, toy_predictor, tmp_path, monkeypatch):
    kept, measure = [], fake_measure(1.15)

    def measured_into(specs, batch_sizes=(1,), **kwargs):
        kept.append(kwargs.get("out"))
        return measure(specs, batch_sizes, **kwargs)

    monkeypatch.setattr(hwprof.measuring.session, "measure", measured_into)
    out = tmp_path / "out"
    result = invoke(
        toy_yaml,
        "--predictor",
        "unused.json",
        "--constraint",
        "latency_ms<=1",
        "--trials",
        20,
        "--seed",
        1,
        "--out",
        out,
        "--verify",
        "--verify-count",
        2,
    )
    assert result.exit_code == 0, result.output
    assert "latency_ms<=1 (measured 1.15 ms, predicted 1 ms) does NOT hold when measured" in result.output
    assert "{'" not in result.output  # no Python dict on the terminal
    verified = json.loads((out / "search.json").read_text())["verified"]
    assert len(verified) == 2
    assert kept == [str(out / "verified.parquet")]  # the measurements are a dataset to refit with
    assert f"measured candidates kept in {out / 'verified.parquet'}" in " ".join(result.output.split())


def test_the_output_folder_is_checked_before_any_trial(toy_yaml, toy_predictor, tmp_path):
    def run(out):
        return invoke(toy_yaml, "--predictor", "unused.json", "--constraint", "latency_ms<=1", "--out", out)

    a_file = tmp_path / "a-file"
    a_file.write_text("")
    unwritable = run(a_file / "results")
    missing_parent = run(tmp_path / "nodir" / "deeper")
    for result, sentence in [
        (unwritable, f"Output directory {a_file} is not a directory"),
        (missing_parent, f"Output directory {tmp_path / 'nodir'} does not exist"),
    ]:
        assert result.exit_code == 1 and "Traceback" not in result.output
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and sentence in lines[0]
    assert not (tmp_path / "nodir").exists()
    created = run(tmp_path / "new")  # the folder itself is created when its parent exists
    assert created.exit_code == 0, created.output
    assert (tmp_path / "new" / "search.json").exists()


def test_an_earlier_search_is_replaced_only_with_force(toy_yaml, toy_predictor, tmp_path):
    out = tmp_path / "out"

    def run(*extra):
        return invoke(
            toy_yaml, "--predictor", "unused.json", "--constraint", "latency_ms<=5", "--trials", 2, "--out", out, *extra
        )

    assert run().exit_code == 0
    earlier = (out / "search.json").read_bytes()
    again = run()
    assert again.exit_code == 1 and not any(line.startswith("trial ") for line in again.output.splitlines())
    assert f"{out / 'search.json'} already exists; pass --force to replace it" in again.output
    assert (out / "search.json").read_bytes() == earlier
    journal = tmp_path / "study.journal"
    other_study = run("--storage", journal)  # a stored study is not the in-memory one that wrote the file
    assert other_study.exit_code == 1 and "--force" in other_study.output
    forced = run("--force")
    assert forced.exit_code == 0, forced.output
    assert (out / "search.json").read_bytes() != earlier


def test_storage_resumes_the_study_from_the_cli(toy_yaml, toy_predictor, tmp_path):
    journal, out = tmp_path / "study.journal", tmp_path / "out"

    def run(budget, trials, seed):
        return invoke(
            toy_yaml,
            "--predictor",
            "unused.json",
            "--constraint",
            budget,
            "--storage",
            journal,
            "--out",
            out,
            "--trials",
            trials,
            "--seed",
            seed,
        )

    first = run("latency_ms<=1", 6, 1)
    assert first.exit_code == 0, first.output
    second = run("latency_ms<=1", 10, 2)
    assert second.exit_code == 0, second.output
    assert sum(line.startswith("trial ") for line in second.output.splitlines()) == 4  # only the missing ones
    assert json.loads((out / "search.json").read_text())["trials_finished"] == 10
    changed = run("latency_ms<=2", 12, 3)
    assert changed.exit_code == 1 and "other constraints" in changed.output


@pytest.fixture
def optuna_warnings():
    """Optuna's own WARNING records (a failed trial comes with its traceback) during the test."""
    import logging

    records = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = records.append
    logging.getLogger("optuna").addHandler(handler)
    yield records
    logging.getLogger("optuna").removeHandler(handler)


def objective_file(tmp_path, body):
    """A user's objective file: `body` runs before the toy score; CALLS counts the trainings."""
    path = tmp_path / "objective.py"
    path.write_text(
        "import os, signal\n"
        "from fakes.search_doubles import score_toy\n"
        "CALLS = []\n"
        "def evaluate(model, params):\n"
        "    CALLS.append(params)\n"
        f"    {body}\n"
        "    return score_toy(model, params)\n"
    )
    return f"{path}:evaluate"


def went_on_past_failures(result, written, optuna_warnings) -> tuple[dict, list[dict]]:
    """A search that ended cleanly despite failed trials: its search.json and those trials."""
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output and optuna_warnings == []
    summary = json.loads(written.read_text())
    return summary, [t for t in summary["trials"] if t["state"] == "failed"]


def test_an_objective_that_raises_fails_its_trial_without_a_traceback(
    toy_yaml, toy_predictor, tmp_path, optuna_warnings
):
    result, written = toy_search(toy_yaml, tmp_path, "if params['head'] == 'narrow': raise RuntimeError('out of data')")
    summary, failed = went_on_past_failures(result, written, optuna_warnings)
    assert "the objective raised RuntimeError: out of data" in result.output
    assert failed and summary["failed_trials"] == len(failed)
    assert all(t["error"] == "RuntimeError: out of data" and t["params"]["head"] == "narrow" for t in failed)
    assert summary["best"]["params"]["head"] == "wide"
    assert f"{len(failed)} failed (the factory or objective failed" in result.output


def test_a_diverged_training_fails_its_trial_and_the_search_writes_its_results(
    toy_yaml, toy_predictor, tmp_path, optuna_warnings
):
    result, written = toy_search(toy_yaml, tmp_path, "if params['width'] > 14: return float('nan')")
    summary, failed = went_on_past_failures(result, written, optuna_warnings)
    assert "the objective returned nan, not a finite score" in result.output
    assert failed and all(t["params"]["width"] > 14 and t["failed_in"] == "objective" for t in failed)
    assert summary["trials_finished"] == 10 and (written.parent / "pareto.png").exists()  # failed ones replaced


def test_a_factory_that_fails_for_one_configuration_fails_that_trial(toy_yaml, toy_predictor, tmp_path):
    factory = tmp_path / "factory.py"
    factory.write_text(
        "from fakes.search_doubles import build_toy\n"
        "def build(width, head):\n"
        "    if width > 14:\n"
        "        raise ValueError(f'width {width} is too wide')\n"
        "    return build_toy(width, head)\n"
    )
    toy_yaml.write_text(yaml.safe_dump({**TOY_SPACE, "factory": f"{factory}:build"}))
    result, written = toy_search(toy_yaml, tmp_path, "pass")
    assert result.exit_code == 0, result.output
    failed = [t for t in json.loads(written.read_text())["trials"] if t["state"] == "failed"]
    assert failed and all(t["failed_in"] == "factory" and t["train_s"] is None for t in failed)
    width = failed[0]["params"]["width"]
    assert f"trial {failed[0]['number']}: failed, the factory raised ValueError: width {width} is too wide" in (
        result.output
    )


def test_an_error_that_stops_the_search_is_one_line_after_the_finished_trials_are_written(
    toy_yaml, toy_predictor, tmp_path
):
    result, written = toy_search(toy_yaml, tmp_path, "if len(CALLS) == 4: return 'high'")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.strip().splitlines()[-1].endswith("returned 'high': it must return one number")
    assert json.loads(written.read_text())["trials_finished"] == 3
    assert (written.parent / "pareto.png").exists()


def test_a_search_where_every_training_failed_exits_non_zero_and_keeps_the_results(toy_yaml, toy_predictor, tmp_path):
    result, written = toy_search(toy_yaml, tmp_path, "raise RuntimeError('out of data')", "--trials", 2)
    assert result.exit_code == 1 and "Traceback" not in result.output
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("Error: no trial produced a score") and str(written) in last
    summary = json.loads(written.read_text())
    assert summary["failed_trials"] == FAILURES_IN_A_ROW and summary["trials_finished"] == 0
    assert (written.parent / "pareto.png").exists()


def toy_search(toy_yaml, tmp_path, objective_line, *extra):
    """The toy search with `objective_line` first in its objective: (result, path of search.json)."""
    out = tmp_path / "out"
    objective = objective_file(tmp_path, objective_line)
    result = invoke(
        toy_yaml,
        "--predictor",
        "unused.json",
        "--objective",
        objective,
        "--constraint",
        "latency_ms<=5",
        "--trials",
        10,
        "--seed",
        2,
        "--out",
        out,
        *extra,
    )
    return result, out / "search.json"


def interrupted_search(toy_yaml, tmp_path, body, *extra):
    return toy_search(toy_yaml, tmp_path, f"if len(CALLS) == 4: {body}", *extra)


@pytest.mark.parametrize(
    "body, exit_code",
    [("raise KeyboardInterrupt", 130), ("os.kill(os.getpid(), signal.SIGTERM)", 128 + signal.SIGTERM)],
)
def test_ctrl_c_or_sigterm_keeps_the_finished_trials_and_says_how_to_resume(
    toy_yaml, toy_predictor, tmp_path, optuna_warnings, body, exit_code
):
    result, written = interrupted_search(toy_yaml, tmp_path, body)
    assert result.exit_code == exit_code, result.output
    assert "Traceback" not in result.output and optuna_warnings == []
    summary = json.loads(written.read_text())
    assert summary["trials_finished"] == 3 and summary["interrupted_trials"] == 1
    assert summary["unfinished_trials"] == 0  # none still running: the interrupted one is closed
    assert summary["best"] is not None
    assert "--storage" in result.stderr and str(written) in result.stderr


def test_an_interrupted_study_in_storage_resumes_with_the_same_command(toy_yaml, toy_predictor, tmp_path):
    journal = tmp_path / "study.journal"
    first, written = interrupted_search(toy_yaml, tmp_path, "raise KeyboardInterrupt", "--storage", journal)
    assert first.exit_code == 130, first.output
    assert "run the same command to resume" in first.stderr
    assert json.loads(written.read_text())["trials_finished"] == 3
    second, written = interrupted_search(toy_yaml, tmp_path, "raise KeyboardInterrupt", "--storage", journal)
    assert second.exit_code == 0, second.output
    assert json.loads(written.read_text())["trials_finished"] == 10


@pytest.mark.parametrize(
    "content", [b"\x8f\x01\xfe random bytes \x00", b'not a journal\n{"op_code": 0, "worker_id": "a"']
)
def test_a_corrupt_journal_is_one_line_naming_the_file(toy_yaml, toy_predictor, tmp_path, content):
    journal = tmp_path / "study.journal"
    journal.write_bytes(content)
    result = invoke(
        toy_yaml, "--predictor", "unused.json", "--constraint", "latency_ms<=5", "--storage", journal, "--out", tmp_path
    )
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert f"{journal} is not a readable Optuna journal" in result.output and "--storage" in result.output


def test_resuming_after_editing_the_space_file_is_one_line_before_any_trial(toy_yaml, toy_predictor, tmp_path):
    journal, out = tmp_path / "study.journal", tmp_path / "out"
    args = ["--predictor", "unused.json", "--constraint", "latency_ms<=5", "--storage", journal, "--out", out]
    first = invoke(toy_yaml, *args, "--trials", 3)
    assert first.exit_code == 0, first.output
    toy_yaml.write_text(yaml.safe_dump({**TOY_SPACE, "params": {**TOY_SPACE["params"], "head": ["wide", "deep"]}}))
    edited = invoke(toy_yaml, *args, "--trials", 6)
    assert edited.exit_code == 1
    assert "Traceback" not in edited.output and len(edited.output.strip().splitlines()) == 1
    assert "space 'toy' has changed" in edited.output and "pick a new --study-name" in edited.output
    assert json.loads((out / "search.json").read_text())["trials_finished"] == 3  # the first run's, untouched


def test_trials_counts_evaluated_trials_and_the_summary_says_how_many_failed(toy_yaml, toy_predictor, tmp_path):
    result, written = toy_search(toy_yaml, tmp_path, "if params['head'] == 'narrow': raise RuntimeError('out of data')")
    assert result.exit_code == 0, result.output
    summary = json.loads(written.read_text())
    failed = summary["failed_trials"]
    assert failed > 0 and summary["trials_finished"] == 10 and len(summary["trials"]) == 10 + failed
    trained = 10 - summary["repeated_trials"]  # a repeat takes an earlier trial's score, not trained again
    assert f"10 trials finished, {trained} trained, 0 trainings skipped as predicted infeasible" in result.output
    assert f", {failed} failed (" in result.output


def test_a_search_whose_trials_keep_failing_stops_in_one_sentence(toy_yaml, toy_predictor, tmp_path):
    objective_line = "if len(CALLS) > 3: raise RuntimeError('disk full')"
    result, written = toy_search(toy_yaml, tmp_path, objective_line, "--trials", 30)
    assert result.exit_code == 1 and "Traceback" not in result.output
    summary = json.loads(written.read_text())
    finished = 3 + summary["repeated_trials"]  # 3 trained; a repeat calls no objective and counts no failure
    assert summary["trials_finished"] == finished and summary["failed_trials"] == FAILURES_IN_A_ROW
    last = result.output.strip().splitlines()[-1]
    assert last.startswith(f"Error: the search stopped after {FAILURES_IN_A_ROW} trials in a row failed")
    assert f"{finished} of the 30 trials asked for finished" in last and "RuntimeError: disk full" in last


def test_a_storage_that_does_not_open_leaves_no_output_folder_behind(toy_yaml, toy_predictor, tmp_path):
    storage, out = tmp_path / "notds.parquet", tmp_path / "sres6"
    storage.write_bytes(b"PAR1\x00\x01 not a journal")
    result = invoke(
        toy_yaml, "--predictor", "unused.json", "--constraint", "latency_ms<=5", "--storage", storage, "--out", out
    )
    assert result.exit_code == 1 and "is not a readable Optuna journal" in result.output
    assert not out.exists()


def test_the_refit_hint_after_verify_runs_for_either_kind_of_predictor(tmp_path):
    """The hint said `hwprof fit verified.parquet --base PREDICTOR`, which an analytic predictor (the demo's,
    fitted from network rows alone) refuses: it has no layer models to keep. Its refit from its datasets needs
    --run-model-files (their network rows name the search's model files), and each hint an --out of its own."""
    import types

    from fakes.synthetic import fitted_predictor_path
    from hwprof.predictor.predictor import load_predictor

    layered, _ = fitted_predictor_path(tmp_path, cv=False)
    kept = tmp_path / "verified.parquet"
    refit = tmp_path / "refit.json"  # beside the candidates: a predictor.json in the folder would refuse it
    assert hwprof.cli.search._refit_hint(load_predictor(layered), kept).endswith(f"--base {layered} --out {refit}`)")
    networks = tmp_path / "demo-measurements.parquet"  # what an analytic predictor's file says it learnt from
    doc = {"training": {"sources": [{"path": str(networks)}]}}
    analytic = types.SimpleNamespace(uses_layers=False, doc=doc, source=str(tmp_path / "demo-predictor.json"))
    hint = hwprof.cli.search._refit_hint(analytic, kept)
    assert "--base" not in hint and f"hwprof fit {networks} {kept} --run-model-files --out {refit}`" in hint


def test_a_skipped_trial_names_the_budgets_it_breaks_not_those_that_held(capsys):
    from hwprof.search.study import TrialRecord

    record = TrialRecord(
        number=3,
        state="skipped",
        params={},
        metrics={},
        checked={"latency_ms<=0.05": 4.386, "flops<=300000": 4800.0},
        feasible=False,
        score=None,
        predict_s=0.001,
        train_s=None,
        finished_s=None,
    )
    hwprof.cli.search._echo_trial(record, parse_constraints(list(record.checked)))
    line = capsys.readouterr().out
    assert "predicted to break a budget (latency_ms<=0.05 -> 4.386)" in line and "flops" not in line


def test_a_search_json_from_before_it_named_its_storage_is_replaced_when_resuming_its_study(
    toy_yaml, toy_predictor, tmp_path
):
    out = tmp_path / "out"

    def run(journal, trials):
        args = ["--predictor", "unused.json", "--constraint", "latency_ms<=5", "--trials", trials, "--out", out]
        return invoke(toy_yaml, *args, "--storage", journal)

    assert run(tmp_path / "study.journal", 2).exit_code == 0
    written = json.loads((out / "search.json").read_text())
    del written["storage"]  # as search.json was written before 2026-12-05
    (out / "search.json").write_text(json.dumps(written))
    other = run(tmp_path / "other.journal", 3)  # another study: its results are not these
    assert other.exit_code == 1 and "already exists; pass --force" in other.output
    resumed = run(tmp_path / "study.journal", 4)
    assert resumed.exit_code == 0, resumed.output
    assert json.loads((out / "search.json").read_text())["trials_finished"] == 4
