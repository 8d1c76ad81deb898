"""After search --verify, the refit command is advised only where fit --base can learn from the candidates: from
fewer networks than it chooses a correction from, it keeps the base as it was, so the advice says how many more."""

import shlex
from types import SimpleNamespace

import pandas as pd

from hwprof.cli.search import _refit_advice
from hwprof.fitting.network import MIN_ROWS_FOR_RATIO_CV

LAYERED = SimpleNamespace(source="p.json", doc={}, uses_layers=True)


def _verified(count: int, first: int = 0) -> dict:
    return {n: {"model": f"space[trial {n}]", "measured": {"latency_ms": 1.0}} for n in range(first, first + count)}


def _command(advice: str) -> list[str]:
    return shlex.split(advice[advice.index("`") + 1 : advice.rindex("`")])


def test_too_few_candidates_say_how_many_more_and_promise_no_refit(tmp_path):
    kept = tmp_path / "verified.parquet"
    failed = {9: {"model": "space[trial 9]", "measured": {"latency_ms": None}}}  # measured nothing: no network
    advice = _refit_advice(LAYERED, kept, {**_verified(3), **failed})
    assert not advice.startswith("refit with them")
    assert f"fewer than {MIN_ROWS_FOR_RATIO_CV} networks" in advice
    assert f"3 were measured here, so verify {MIN_ROWS_FOR_RATIO_CV - 3} more first" in advice
    assert "--verify-count" in advice
    assert _command(advice)[:3] == ["hwprof", "fit", str(kept)] and "--base" in _command(advice)


def test_enough_candidates_get_the_refit_command(tmp_path):
    kept = tmp_path / "verified.parquet"
    advice = _refit_advice(LAYERED, kept, _verified(MIN_ROWS_FOR_RATIO_CV))
    assert advice.startswith("refit with them")
    assert _command(advice) == ["hwprof", "fit", str(kept), "--base", "p.json", "--out", str(tmp_path / "refit.json")]


def test_an_earlier_verification_in_the_folder_counts_and_is_given_to_fit(tmp_path):
    earlier = tmp_path / "verified.parquet"
    rows = [{"kind": "network", "model": f"space[trial {n}]", "latency_ms": 1.0} for n in range(10, 14)]
    pd.DataFrame(rows).to_parquet(earlier)
    kept = tmp_path / "verified-2.parquet"
    advice = _refit_advice(LAYERED, kept, _verified(2))
    assert _command(advice)[:4] == ["hwprof", "fit", str(earlier), str(kept)]
    assert advice.startswith("refit with them")


def test_search_verify_at_one_candidate_promises_no_refit(tmp_path, monkeypatch):
    from fakes.search_doubles import LATENCY_MS_PER_WIDTH, verify_search_runner

    def measure(specs, batch_sizes=(1,), **kwargs):
        rows = [
            {"model": s.name, "kind": "network", "latency_ms": LATENCY_MS_PER_WIDTH * s.module.width} for s in specs
        ]
        return pd.DataFrame(rows)

    result, out = verify_search_runner(tmp_path, monkeypatch)(measure=measure)
    said = " ".join(result.output.split())
    assert result.exit_code == 0, result.output
    assert f"measured candidates kept in {out / 'verified.parquet'}: a refit with them" in said
    assert f"1 was measured here, so verify {MIN_ROWS_FOR_RATIO_CV - 1} more first" in said
