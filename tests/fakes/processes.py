"""The processes a test started, read from /proc: who a process's children are, and whether one still runs."""

from __future__ import annotations

from pathlib import Path


def children(pid: int) -> list[int]:
    """The live (not zombie) processes whose parent is `pid`."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, parent = stat.read_text().rsplit(")", 1)[1].split()[:2]
        except (OSError, ValueError):
            continue
        if int(parent) == pid and state != "Z":
            found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def signalled_run(out: Path, signum: int, **popen_options) -> tuple[int, str]:
    """`hwprof run --out OUT` of a command that sleeps, sent `signum` once the command has started:
    (hwprof's exit status, what it wrote to stderr)."""
    import subprocess
    import sys
    import time

    started = Path(out).parent / "started"
    command = ["sh", "-c", f"touch '{started}'; exec sleep 20"]
    process = subprocess.Popen(
        [sys.executable, "-m", "hwprof", "run", "--power", "none", "--out", str(out), "--", *command],
        stderr=subprocess.PIPE,
        text=True,
        **popen_options,
    )
    deadline = time.monotonic() + 30
    while not started.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=30)
    return process.returncode, stderr
