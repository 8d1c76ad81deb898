"""Predicting from several threads at once: tracing is serialised, so every prediction, and every later one in
the same process, gives what serial calls give."""

import subprocess
import sys
import textwrap
import threading

import pytest

import hwprof
from fakes.synthetic import fitted_predictor_path
from hwprof.predictor import records

JOBS = [(model, size) for model in ("mlp", "mlp_large", "squeezenet1_1", "resnet18") for size in (1, 2, 3)]


@pytest.fixture(scope="module")
def predictor_path(tmp_path_factory):
    path, _ = fitted_predictor_path(tmp_path_factory.mktemp("fit"), cv=False)
    return path


def _in_threads(work, jobs) -> tuple[dict, list[str]]:
    """work(*job) for every job, each in its own thread, all started together."""
    results, errors = {}, []
    start = threading.Barrier(len(jobs))

    def run(job):
        start.wait()
        try:
            results[job] = work(*job)
        except Exception as error:  # collected, for the assertion to show them all
            errors.append(f"{job}: {type(error).__name__}: {error}")

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


def test_threads_predicting_at_once_give_what_serial_calls_give(predictor_path):
    predictor = hwprof.load_predictor(predictor_path)
    records._cache.clear()  # every thread traces
    threaded, errors = _in_threads(lambda model, size: predictor.predict(model, batch_size=size).total, JOBS)
    assert not errors
    records._cache.clear()
    many, errors = _in_threads(lambda model, size: predictor.predict_many([model], size)["latency_ms"][0], JOBS)
    assert not errors

    records._cache.clear()  # torch.fx's patches of nn.Module were all undone: a fresh trace still works
    serial = {job: predictor.predict(*job).total for job in JOBS}
    assert threaded == serial
    assert many == pytest.approx({job: totals["latency_ms"] for job, totals in serial.items()})


def test_threads_predicting_in_a_fresh_process_import_what_they_need_once(predictor_path):
    script = textwrap.dedent(
        f"""
        import sys, threading
        import hwprof
        predictor = hwprof.load_predictor({predictor_path!r})
        assert "hwprof.models.spec" not in sys.modules  # the threads race to import it
        errors = []
        def run(model, size):
            try:
                predictor.predict_many([model], size) if size % 2 else predictor.predict(model, batch_size=size)
            except Exception as error:
                errors.append(f"{{model}} {{size}}: {{type(error).__name__}}: {{error}}")
        threads = [threading.Thread(target=run, args=job) for job in {JOBS!r}]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        print(errors)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_a_measurement_in_another_thread_waits_for_a_prediction_s_trace():
    """measure's fx trace takes the lock prediction holds while tracing: torch.fx patches nn.Module for the
    whole process, so the two must not trace at once."""
    import torch

    from hwprof.models import FX_TRACING
    from hwprof.models.layers import run_and_extract

    done = threading.Event()
    module = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.ReLU())

    def measure_layers():
        run_and_extract(module, (4,), 1)
        done.set()

    with FX_TRACING:  # as a prediction tracing in this thread holds it
        worker = threading.Thread(target=measure_layers)
        worker.start()
        assert not done.wait(0.5)  # it waits for the trace here to end
    worker.join(timeout=60)
    assert done.is_set()
