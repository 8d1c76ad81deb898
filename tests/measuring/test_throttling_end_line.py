"""measure's end line under a cgroup CPU quota: one below the threads limited the run, and one below a CPU stops
even one thread for part of every period, so it gets no "--threads 1 times the model alone" hint; where the
provenance recorded the quota's stops, the line says how many and how long."""

from hwprof.cli.measure import run_facts, threads_line

RUN = {"threads": 1, "usable_cpus": 2, "cpu_count": 2}


def test_a_quota_below_one_cpu_says_it_limited_the_run_without_a_threads_hint():
    line = threads_line(run_facts({**RUN, "cpu_quota": 0.3, "cpu_throttled_periods": 63, "cpu_throttled_s": 1.2}, 9))
    assert line.startswith("1 intra-op thread; this process may use 2 CPUs, under a cgroup quota of 0.3 CPUs (")
    assert "the run was limited by the container's CPU quota" in line
    assert "it stopped the run 63 times, 1.2 s in all" in line
    assert "--threads" not in line and "times the model alone" not in line


def test_a_quota_below_the_threads_keeps_the_hint_a_whole_cpu_allows():
    line = threads_line(run_facts({**RUN, "threads": 2, "cpu_quota": 1.5}, 9))
    assert "the run was limited by the container's CPU quota" in line
    assert line.endswith("; --threads 1 times the model alone)")


def test_a_quota_the_threads_fit_in_says_only_its_stops():
    quiet = threads_line(run_facts({**RUN, "cpu_quota": 2.0, "cpu_throttled_periods": 0, "cpu_throttled_s": 0.0}, 9))
    assert quiet == "1 intra-op thread; this process may use 2 CPUs, under a cgroup quota of 2 CPUs"
    stopped = threads_line(run_facts({**RUN, "cpu_quota": 2.0, "cpu_throttled_periods": 1, "cpu_throttled_s": 0.1}, 9))
    assert stopped.endswith("quota of 2 CPUs (it stopped the run 1 time, 0.1 s in all)")
