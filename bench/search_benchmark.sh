#!/usr/bin/env bash
# Constraint-aware vs constraint-unaware search on the digits demo, serialised with other timing runs.
set -euo pipefail
cd "$(dirname "$0")/.."
exec flock /tmp/hwprof-bench.lock .venv/bin/python bench/search_benchmark.py "$@"
