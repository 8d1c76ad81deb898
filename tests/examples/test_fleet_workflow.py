"""examples/ci/hwprof-fleet.yml is a real workflow: its own `run:` commands measure, merge and gate, end to end.

The jobs run here as GitHub would run them, step by step in job folders, for a matrix of two fake boards
(each a HWPROF_SYSFS_ROOT whose /proc/cpuinfo names another CPU, so each shard has its own device name)
with a tiny model and fast settings. The install steps are left out (hwprof is on PATH already) and the
`uses:` steps are played by `play_action`: artifacts are copied between job folders as the upload and
download actions do.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from fakes.traces import windowed_trace_rows
from hwprof.dataset import journal_path, read_dataset, read_provenance, write_table
from hwprof.samples import read_samples, samples_path, write_samples
from hwprof.traces import write_trace

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / "examples" / "ci" / "hwprof-fleet.yml"
FAKE_BOARDS = [{"board": "fake-board-a", "device": "cpu"}, {"board": "fake-board-b", "device": "cpu"}]
FAST_SETTINGS = {
    "HWPROF_MODELS": "mlp",
    "HWPROF_BATCH_SIZES": "1",
    "HWPROF_MEASURE_ARGS": "--power none --precision 0.2 --max-time 0.3 --threads 1 --seed 0",
}
EXPRESSION = re.compile(r"\$\{\{\s*matrix\.(\w+)\s*\}\}")


@pytest.fixture(scope="module")
def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def test_the_workflow_measures_on_each_board_merges_and_gates(workflow):
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert "workflow_dispatch" in triggers
    measure, merge = workflow["jobs"]["measure"], workflow["jobs"]["merge"]
    boards = measure["strategy"]["matrix"]["include"]
    assert len(boards) >= 2 and all(set(board) == set(FAKE_BOARDS[0]) for board in boards)
    assert measure["runs-on"] == ["self-hosted", "${{ matrix.board }}"]  # a runner label per board
    assert measure["strategy"]["fail-fast"] is False
    uploads = [step for step in measure["steps"] if step.get("uses", "").startswith("actions/upload-artifact@")]
    assert uploads and uploads[0]["with"]["name"] == "shard-${{ matrix.board }}"
    assert merge["needs"] == "measure"
    scripts = " ".join(step.get("run", "") for step in merge["steps"])
    assert "hwprof merge" in scripts and "hwprof compare" in scripts and "--fail-above" in scripts
    # the boards that finished, merged; a cancelled run is not gated as boards missing
    assert merge["if"] == "${{ !cancelled() }}" and "--skip-unfinished" in scripts
    uploads += [step for step in merge["steps"] if step.get("uses", "").startswith("actions/upload-artifact@")]
    assert all(step["with"]["overwrite"] is True for step in uploads)  # "Re-run failed jobs" uploads again
    for job in (measure, merge):  # an expression pasted into a script is run as shell code
        assert not any("${{" in step.get("run", "") for step in job["steps"])


def test_the_fleet_artifact_holds_every_file_merge_writes_beside_the_fleet():
    """The merged power trace (fleet.trace.parquet) was left out of the fleet artifact, and so of the baseline."""
    (upload,) = [
        step
        for step in yaml.safe_load(WORKFLOW.read_text())["jobs"]["merge"]["steps"]
        if step.get("uses", "").startswith("actions/upload-artifact@")
    ]
    assert upload["with"]["path"].split() == [
        "fleet.parquet",
        "fleet.parquet.json",
        "fleet.parquet.samples.parquet",
        "fleet.trace.parquet",  # absent without --trace: a listed file that is missing is skipped
    ]
    assert "if-no-files-found" not in upload["with"]  # its default only warns, and only when no file is found


def substitute(script: str, matrix: dict) -> str:
    """The script with GitHub's ${{ matrix.X }} expressions filled in; any other expression fails the test."""
    script = EXPRESSION.sub(lambda match: str(matrix[match.group(1)]), script)
    assert "${{" not in script, f"an expression this test cannot play: {script}"
    return script


def play_action(step: dict, folder: Path, artifacts: Path, matrix: dict) -> None:
    """What the `uses:` steps of the workflow do, on this machine."""
    action, settings = step["uses"].split("@")[0], step.get("with", {})
    if action in ("actions/checkout", "actions/setup-python"):
        return  # the job folder stands for the checkout; this Python for the set-up one
    if action == "actions/upload-artifact":
        target = artifacts / substitute(settings["name"], matrix)
        for pattern in substitute(settings["path"], matrix).split():
            for path in folder.glob(pattern.rstrip("/")):
                if path.is_dir():
                    shutil.copytree(path, target, dirs_exist_ok=True)
                elif path.exists():
                    target.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(path, target)
        return
    if action == "actions/download-artifact":
        assert settings["merge-multiple"] is True
        destination = folder / settings["path"]
        for artifact in sorted(artifacts.glob(settings["pattern"])):
            shutil.copytree(artifact, destination, dirs_exist_ok=True)
        return
    raise AssertionError(f"this test cannot play {step['uses']}: teach play_action what it does")


def run_job(workflow: dict, job: str, folder: Path, artifacts: Path, env: dict, matrix: dict) -> list:
    """Every step of `job` in order; (step, completed process) for each `run:` step."""
    folder.mkdir(parents=True, exist_ok=True)
    shell = workflow["defaults"]["run"]["shell"]
    assert shell == "bash"
    job_env = {**env, **{k: str(v) for k, v in workflow.get("env", {}).items()}, **FAST_SETTINGS}
    done = []
    for step in workflow["jobs"][job]["steps"]:
        if "uses" in step:
            play_action(step, folder, artifacts, matrix)
        elif step.get("id") != "install":
            script = substitute(step["run"], matrix)
            step_env = {name: substitute(str(value), matrix) for name, value in step.get("env", {}).items()}
            process = subprocess.run(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
                cwd=folder,
                env={**job_env, **step_env},
                capture_output=True,
                text=True,
                timeout=600,
            )
            done.append((step, process))
            if process.returncode != 0:
                break  # as GitHub stops a job at its first failed step
    return done


@pytest.fixture
def hwprof_on_path(tmp_path) -> dict:
    """The environment of a job after its install step: `hwprof` is this checkout's."""
    bin_folder = tmp_path / "bin"
    bin_folder.mkdir()
    command = bin_folder / "hwprof"
    command.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m hwprof "$@"\n')
    command.chmod(0o755)
    env = {key: value for key, value in os.environ.items() if not key.startswith("HWPROF_")}
    env["PATH"] = f"{bin_folder}{os.pathsep}{env['PATH']}"
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def fake_board(tmp_path: Path, name: str) -> Path:
    root = tmp_path / "sysfs" / name
    (root / "proc").mkdir(parents=True)
    (root / "proc" / "cpuinfo").write_text(f"processor\t: 0\nmodel name\t: Fake CPU of {name}\n")
    return root


def store_baseline(fleet: Path, baseline: Path, speed: float = 1.0, tag: str = "earlier") -> None:
    """`fleet` with its sidecars as the stored baseline, its latencies (and samples) times `speed`, under
    run ids of its own (`tag`), as an earlier run's fleet artifact would be (compare refuses a run against
    itself)."""
    baseline.parent.mkdir(parents=True, exist_ok=True)
    frame, samples, runs = read_dataset(fleet), read_samples(fleet), read_provenance(fleet)
    for column in ("latency_ms", "latency_ms_ci_low", "latency_ms_ci_high", "latency_ms_std"):
        frame[column] = frame[column] * speed
    samples["seconds_per_call"] = samples["seconds_per_call"] * speed
    earlier = {run["run_id"]: f"{tag}-{run['run_id']}" for run in runs}
    frame["run_id"] = frame["run_id"].map(earlier)
    samples["run_id"] = samples["run_id"].map(earlier)
    write_table(baseline, frame, [{**run, "run_id": earlier[run["run_id"]]} for run in runs])
    write_samples(baseline, samples)


def outputs(done) -> str:
    return "\n".join(process.stdout + process.stderr for _, process in done)


@pytest.mark.slow
def test_the_workflow_commands_run_end_to_end_on_two_fake_boards(workflow, tmp_path, hwprof_on_path):
    artifacts = tmp_path / "artifacts"
    for board in FAKE_BOARDS:
        env = {**hwprof_on_path, "HWPROF_SYSFS_ROOT": str(fake_board(tmp_path, board["board"]))}
        done = run_job(workflow, "measure", tmp_path / board["board"], artifacts, env, board)
        assert done and all(process.returncode == 0 for _, process in done), outputs(done)
        shard = artifacts / f"shard-{board['board']}"
        assert {path.name for path in shard.iterdir()} >= {
            f"{board['board']}.parquet",
            f"{board['board']}.parquet.json",
            f"{board['board']}.parquet.samples.parquet",
        }

    for board in FAKE_BOARDS:  # as `--trace` leaves a power trace beside each shard
        shard = artifacts / f"shard-{board['board']}" / f"{board['board']}.parquet"
        write_trace(
            windowed_trace_rows(), shard.with_suffix(".trace.parquet"), run_id=read_provenance(shard)[0]["run_id"]
        )

    merge_folder = tmp_path / "merge"
    done = run_job(workflow, "merge", merge_folder, artifacts, hwprof_on_path, {})
    assert [process.returncode for _, process in done] == [0, 0], outputs(done)
    assert "no baseline at ci/hwprof-baseline.parquet" in outputs(done)
    fleet = merge_folder / "fleet.parquet"
    merged = read_dataset(fleet)
    assert sorted(merged["device_name"].unique()) == ["Fake CPU of fake-board-a", "Fake CPU of fake-board-b"]
    assert read_samples(fleet)["run_id"].nunique() == 2 and (artifacts / "fleet" / samples_path(fleet).name).exists()
    assert (artifacts / "fleet" / "fleet.trace.parquet").exists()  # report and plot-trace of the artifact find it

    # the notice's recipe, as a person follows it: three runs' fleet artifacts merged into the baseline
    recipe = re.search(r"run (mkdir -p .+? --out \S+), and commit", outputs(done))
    assert recipe and "hwprof merge run1/fleet.parquet run2/fleet.parquet run3/fleet.parquet" in recipe.group(1)
    for number in (1, 2, 3):
        store_baseline(fleet, merge_folder / f"run{number}" / "fleet.parquet", tag=f"night{number}")
    made = subprocess.run(["bash", "-c", recipe.group(1)], cwd=merge_folder, env=hwprof_on_path, capture_output=True)
    assert made.returncode == 0, made.stderr
    assert read_samples(merge_folder / "ci" / "hwprof-baseline.parquet")["run_id"].nunique() == 6

    # board b killed in a later run: its shard comes with a journal; the boards that finished are merged
    killed = artifacts / "shard-fake-board-b" / "fake-board-b.parquet"
    journal_path(killed).write_text(json.dumps({"provenance": {"run_id": "killed-run"}}) + "\n")
    done = run_job(workflow, "merge", tmp_path / "merge-after-a-kill", artifacts, hwprof_on_path, {})
    assert [process.returncode for _, process in done] == [0, 0], outputs(done)
    assert "fake-board-b.parquet belongs to a run that did not finish" in outputs(done) and "left out" in outputs(done)
    partial = read_dataset(tmp_path / "merge-after-a-kill" / "fleet.parquet")
    assert partial["device_name"].unique().tolist() == ["Fake CPU of fake-board-a"]
    journal_path(killed).unlink()

    gate = next(step for step in workflow["jobs"]["merge"]["steps"] if "hwprof compare" in step.get("run", ""))
    gate_workflow = {**workflow, "jobs": {"gate": {"steps": [gate]}}}
    done = run_job(gate_workflow, "gate", merge_folder, artifacts, hwprof_on_path, {})
    assert done[0][1].returncode == 0 and "gate: no significant latency rise above 5%" in outputs(done)

    baseline = merge_folder / "ci" / "hwprof-baseline.parquet"
    store_baseline(fleet, baseline)  # one run's fleet artifact, renamed, also serves
    done = run_job(gate_workflow, "gate", merge_folder, artifacts, hwprof_on_path, {})
    assert done[0][1].returncode == 0 and "gate: no significant latency rise above 5%" in outputs(done)

    store_baseline(fleet, baseline, speed=0.5)  # against it, the fleet is now twice as slow
    done = run_job(gate_workflow, "gate", merge_folder, artifacts, hwprof_on_path, {})
    assert done[0][1].returncode == 1
    # every row is exactly twice as slow, so the model's geometric mean is +100% with no spread at all;
    # whether each row is significant on its own depends on how noisy this machine was while it measured
    for board in FAKE_BOARDS:
        assert f"regression: model mlp on Fake CPU of {board['board']} latency +100.0% (95% CI +100.0% .. +100.0%)" in (
            outputs(done)
        )

    store_baseline(fleet, baseline)
    keep_only_board(fleet, "Fake CPU of fake-board-a")  # tonight board b's job did not run
    done = run_job(gate_workflow, "gate", merge_folder, artifacts, hwprof_on_path, {})
    assert done[0][1].returncode == 2, outputs(done)  # not a pass: board b was not checked
    assert "fleet.parquet has no row of Fake CPU of fake-board-b, which" in outputs(done)


def keep_only_board(fleet: Path, device_name: str) -> None:
    """`fleet` (with its samples) cut down to one board's rows and runs, as if only that board's shard came in."""
    frame, samples, runs = read_dataset(fleet), read_samples(fleet), read_provenance(fleet)
    frame = frame[frame["device_name"] == device_name]
    kept = set(frame["run_id"])
    write_table(fleet, frame, [run for run in runs if run["run_id"] in kept])
    write_samples(fleet, samples[samples["run_id"].isin(kept)])


def test_the_baseline_files_the_readme_says_to_commit_are_not_ignored(workflow):
    """README's fleet step 4 commits three files under ci/; this repository's .gitignore must let them in."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    baseline = workflow["env"]["HWPROF_BASELINE"]
    paths = [baseline, f"{baseline}.json", f"{baseline}.samples.parquet"]
    ignored = subprocess.run(["git", "-C", str(ROOT), "check-ignore", *paths], capture_output=True, text=True)
    assert ignored.returncode == 1, f"ignored by .gitignore: {ignored.stdout}"


def step_named(workflow: dict, job: str, name: str) -> dict:
    return next(step for step in workflow["jobs"][job]["steps"] if step.get("name") == name)


def recording_command(folder: Path, name: str, body: str = "") -> Path:
    """A stand-in for `name` on PATH that appends its arguments, one JSON list a line, to `name`.calls."""
    folder.mkdir(parents=True, exist_ok=True)
    calls = folder / f"{name}.calls"
    command = folder / name
    command.write_text(
        f'#!{sys.executable}\nimport json, sys\nwith open("{calls}", "a") as calls:\n'
        f"    calls.write(json.dumps(sys.argv[1:]) + '\\n')\n{body}"
    )
    command.chmod(0o755)
    return calls


def calls_of(calls: Path) -> list[list[str]]:
    return [json.loads(line) for line in calls.read_text().splitlines()] if calls.exists() else []


def test_a_board_label_reaches_the_measure_step_as_data_not_as_shell_code(workflow, tmp_path):
    """`${{ matrix.board }}` was pasted into the script: a label with a quote broke the step, and one with
    $(...) ran it. HWPROF_MEASURE_ARGS is split on spaces, as the workflow's comment says."""
    label = """odd "board" $(echo INJECTED) it's"""
    calls = recording_command(tmp_path / "bin", "hwprof")
    env = {**os.environ, "PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    env |= {k: str(v) for k, v in workflow["env"].items()} | {"HWPROF_MEASURE_ARGS": "--no-layers --max-time 5"}
    matrix = {"board": label, "device": "cpu"}
    step = step_named(workflow, "measure", "Measure")
    env |= {name: substitute(str(value), matrix) for name, value in step["env"].items()}
    process = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", substitute(step["run"], matrix)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert process.returncode == 0, process.stderr
    devices, measure = calls_of(calls)
    assert devices == ["devices"]
    assert measure[measure.index("--out") + 1] == f"shards/{label}.parquet"
    assert measure[measure.index("--device") + 1] == "cpu"
    start = measure.index("--no-layers")
    assert measure[start : start + 3] == ["--no-layers", "--max-time", "5"]
    assert (tmp_path / "shards" / f"{label}.summary.json").exists()
    assert not any("INJECTED" in argument and "$(" not in argument for argument in measure)


@pytest.mark.parametrize("system_torch", [False, True])
def test_the_install_step_pins_torch_where_a_board_has_none_of_its_own(workflow, tmp_path, system_torch):
    """pip resolved torch>=2.1 afresh each night on a board without a system torch, so the gate compared across
    torch releases; a board's own torch (NVIDIA's wheel on a Jetson) must be kept, not replaced."""
    pin = workflow["env"]["HWPROF_TORCH"]
    assert re.fullmatch(r"torch==\d+\.\d+\.\d+", pin)
    bin_folder, venv_bin = tmp_path / "bin", tmp_path / "job" / ".venv" / "bin"
    pip_calls = recording_command(venv_bin, "pip")
    recording_command(venv_bin, "python", "" if system_torch else "sys.exit(1)  # no module named torch\n")
    recording_command(bin_folder, "python3")  # python3 -m venv: the venv above stands for the one it makes
    env = {**os.environ, "PATH": f"{bin_folder}{os.pathsep}{os.environ['PATH']}"}
    env |= {k: str(v) for k, v in workflow["env"].items()} | {"GITHUB_PATH": str(tmp_path / "github_path")}
    step = step_named(workflow, "measure", "Install hwprof")
    process = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        cwd=tmp_path / "job",
        env=env,
        capture_output=True,
        text=True,
    )
    assert process.returncode == 0, process.stderr
    assert calls_of(bin_folder / "python3.calls") == [["-m", "venv", "--system-site-packages", ".venv"]]
    expected = [] if system_torch else [["install", pin]]
    assert calls_of(pip_calls) == [*expected, ["install", "-e", "."]]
