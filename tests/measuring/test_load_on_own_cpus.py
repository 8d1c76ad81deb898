"""Under `taskset -c 0` with a busy loop on CPU 1, the load check counted the whole machine: other_cpu_share was
0.5, bursts were discarded and the run waited for quiet spells, though the one CPU it may use was idle (and load
on that CPU was diluted by the machine's count). It counts the CPUs in the process's affinity mask now."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no affinity mask on this system")

# A machine of two CPUs whose CPU 1 is busy all the time and whose CPU 0 runs only this process.
SCRIPT = textwrap.dedent("""
    import collections, json, os, time
    import psutil

    os.sched_setaffinity(0, {0})
    Times = collections.namedtuple("Times", "user system idle")
    start = time.perf_counter()

    def cpu_times(percpu=False):
        wall_s = time.perf_counter() - start
        cpus = [Times(time.process_time(), 0.0, 1e6), Times(wall_s, 0.0, 1e6)]
        return cpus if percpu else Times(*(sum(column) for column in zip(*cpus)))

    psutil.cpu_times = cpu_times
    psutil.cpu_count = lambda logical=True: 2
    from hwprof.measuring import runner

    method = runner.Method(precision=0.5, max_item_s=0.5, min_sample_s=1e-3, seed=1)
    (result,) = runner.Runner(method).measure([runner.Item("a", lambda: sum(range(200)))])
    print(json.dumps({"counted": runner.CPU_COUNT, "share": result.other_cpu_share,
                      "discarded": result.discarded_bursts}))
""")


def test_load_on_a_cpu_the_process_may_not_use_is_not_counted():
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.splitlines()[-1])
    assert seen["counted"] == 1
    assert seen["share"] is not None and seen["share"] < 0.1
    assert seen["discarded"] == 0
