"""A power trace with known windows: idle at 10 W and load at 35 W, three times over."""

IDLE_W, LOAD_W = 10.0, 35.0


def windowed_trace_rows(start_s: float = 1.7e9, period_s: float = 0.05) -> list[tuple]:
    """Trace rows (hwprof.traces, version 2): each sample tagged with its window and the window's bounds."""
    rows, t = [], start_s
    for _ in range(3):
        for kind, watts, count in (("idle", IDLE_W, 20), ("load", LOAD_W, 30)):
            window_start = t
            for _ in range(count):
                rows.append((t, "package-0", watts, kind, window_start, window_start + count * period_s))
                t += period_s
            t += 0.3
    return rows
