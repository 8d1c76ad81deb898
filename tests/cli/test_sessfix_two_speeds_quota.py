"""A network that ran at two speeds at one thread was put down to the machine slowing the core, even where the run
recorded the container's CPU quota stopping it: the quota is then named instead."""

from hwprof.cli.measure import two_speed_lines

ENTRY = {"model": "mlp", "batch_size": 1, "slow_sample_share": 0.4, "device": "cpu", "processes": 1}


def test_one_thread_two_speeds_name_the_quota_where_the_run_was_throttled():
    (line,) = two_speed_lines([ENTRY], one_thread=True, throttled=True)
    assert "the container's CPU quota stopping the process" in line and "slowing the core" not in line


def test_without_throttling_the_machine_is_named_as_before():
    (line,) = two_speed_lines([ENTRY], one_thread=True)
    assert "the machine slowing the core for a stretch" in line and "quota" not in line
