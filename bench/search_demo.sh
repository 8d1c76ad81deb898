#!/usr/bin/env bash
# The built-in demo from nothing: measure demo networks here, fit a predictor, search 30 trials, verify.
# Records the wall time of each part in bench/results/search_demo.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=$(mktemp -d /tmp/hwprof-search-demo.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
{
    echo "# $(date -u +%Y-%m-%d) $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores"
    echo "# hwprof search demo --trials 30 --threads 1 --seed 0 --verify --out \$WORK"
    /usr/bin/time -f "# wall %e s" .venv/bin/hwprof search demo --trials 30 --threads 1 --seed 0 --verify \
        --out "$WORK" 2>&1
} | tee bench/results/search_demo.txt
