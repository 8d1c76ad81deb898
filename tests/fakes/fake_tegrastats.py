"""A fake `tegrastats`: prints one board's recorded-format line every --interval ms.

FAKE_TEGRASTATS_BOARD picks the board (a key of tegrastats_lines.BOARDS).
FAKE_TEGRASTATS_POWER_FILE, when set, holds the module total in mW to report:
the counted rails' instantaneous values are scaled to add up to it, while the
averages stay as recorded. FAKE_TEGRASTATS_FAIL makes it exit like a tegrastats
that lacks permissions.
"""

import os
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tegrastats_lines import BOARDS  # noqa: E402

RAIL = re.compile(r"(?<![\w@])([A-Za-z][A-Za-z0-9_]*) (-?\d+)(mW)?/")


def interval_s(argv):
    if "--interval" in argv:
        return int(argv[argv.index("--interval") + 1]) / 1000.0
    return 1.0


def scaled_line(board, target_mw):
    line = board["line"]
    if target_mw is None:
        return line
    factor = target_mw / board["total_mw"]

    def scale(match):
        if match.group(1) not in board["counted"]:
            return match.group(0)
        return f"{match.group(1)} {round(int(match.group(2)) * factor)}{match.group(3) or ''}/"

    return RAIL.sub(scale, line)


def main():
    if os.environ.get("FAKE_TEGRASTATS_FAIL"):
        print("Error: tegrastats needs root to read the power monitors", file=sys.stderr)
        return 1
    board = BOARDS[os.environ.get("FAKE_TEGRASTATS_BOARD", "orin_nano_jp6")]
    power_file = os.environ.get("FAKE_TEGRASTATS_POWER_FILE")
    period_s = interval_s(sys.argv)
    target = None
    while True:
        if power_file:
            try:
                target = float(Path(power_file).read_text())
            except ValueError:
                pass  # caught mid-rewrite: keep the last value
        line = scaled_line(board, target)
        if line[:2].isdigit() and line[2] == "-":  # JetPack 5+ lines start with the time
            line = time.strftime("%m-%d-%Y %H:%M:%S") + line[19:]
        print(line, flush=True)
        time.sleep(period_s)


if __name__ == "__main__":
    sys.exit(main())
