#!/usr/bin/env bash
# Wall time of a whole `hwprof fit` (cross-validation included) with the code of git revision REV and with
# this checkout's, alternated over three rounds (the order flips each round), on the given datasets.
#
#     flock /tmp/hwprof-bench.lock bash bench/fit_time.sh REV DATASET...
#
# Prints "round side seconds" per fit. Run it with nothing else on the machine.
set -euo pipefail
rev=$1; shift
root=$(cd "$(dirname "$0")/.." && pwd)
python=$root/.venv/bin/python
old=$(mktemp -d)/before
git -C "$root" worktree add -q --detach "$old" "$rev"
trap 'git -C "$root" worktree remove --force "$old"' EXIT
ln -s "$old/drivers" "$old/hwprof/drivers"
ln -s "$old/sample_models" "$old/hwprof/sample_models"
datasets=$(realpath "$@")
out=$(mktemp -d)
for round in 1 2 3; do
    sides="before after"
    [ $((round % 2)) = 0 ] && sides="after before"
    for side in $sides; do
        tree=$root
        [ "$side" = before ] && tree=$old
        start=$(date +%s.%N)
        # shellcheck disable=SC2086
        (cd "$tree" && PYTHONPATH=$tree "$python" -m hwprof fit $datasets --force --quiet --out "$out/$side.json" > /dev/null)
        echo "$round $side $(echo "$(date +%s.%N) - $start" | bc)"
    done
done
