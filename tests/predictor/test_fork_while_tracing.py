"""A process forked (multiprocessing's fork pools, a server's workers) while another thread traces a network
gets a usable tracing lock and none of that trace's half-done state."""

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import gc, os, signal, threading, time
    from hwprof.models import FX_TRACING
    from hwprof.predictor.records import collector_paused

    tracing = threading.Event()

    def trace():  # as a prediction in a service thread holds the lock, with the collector paused
        with FX_TRACING, collector_paused():
            tracing.set()
            time.sleep(0.5)

    threading.Thread(target=trace).start()
    tracing.wait()
    pid = os.fork()
    if pid == 0:
        signal.alarm(5)  # killed by SIGALRM if the lock is held by a thread the child does not have
        with FX_TRACING:
            pass
        os._exit(0 if gc.isenabled() else 3)
    _, status = os.waitpid(pid, 0)
    print("hung" if os.WIFSIGNALED(status) else os.WEXITSTATUS(status))
    with FX_TRACING:  # the parent's lock is free again
        pass
    """
)


def test_a_child_forked_while_another_thread_traces_can_trace():
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0"  # neither hung on the lock nor left with the collector paused
