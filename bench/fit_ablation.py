"""bench/fit_accuracy.py with one of the layer models' safeguards taken out, to see what each one buys.

    python bench/fit_ablation.py no-rate-floor --zoo bench/data/default/*.parquet --out OUT.json
    python bench/fit_ablation.py no-launch-cost --zoo bench/data/default/*.parquet --out OUT.json

no-rate-floor: no latency model is held to the best MACs per ms its training layers reached.
no-launch-cost: a launch-cost base is fitted as the plain power law over the same variables, so base
selection chooses between power laws and rooflines only, as before the launch-cost base existed.
Every other argument goes to fit_accuracy.py unchanged.
"""

from __future__ import annotations

import sys

ABLATIONS = ("no-rate-floor", "no-launch-cost")


def take_out(ablation: str) -> None:
    from hwprof.fitting import layers

    if ablation == "no-rate-floor":
        layers.rate_limits = lambda z, y, columns: {}
        return
    fit_base = layers.fit_base

    def power_instead_of_launch_cost(z, y, w, spec):
        form, columns = spec
        return fit_base(z, y, w, ("power" if form == "launch_power" else form, columns))

    layers.fit_base = power_instead_of_launch_cost


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in ABLATIONS:
        sys.exit(f"usage: python bench/fit_ablation.py {{{','.join(ABLATIONS)}}} [fit_accuracy.py arguments]")
    take_out(sys.argv[1])
    import fit_accuracy  # beside this script: on sys.path when run as a script

    fit_accuracy.main(sys.argv[2:])


if __name__ == "__main__":
    main()
