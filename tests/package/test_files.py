"""Every file hwprof writes goes through one atomic write: whole or not at all, ordinary permissions,
no temporary file left behind, and each writer its own temporary name."""

from __future__ import annotations

import os
import stat
import threading

import pytest

from hwprof.files import write_atomically, write_text_atomically


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_new_file_gets_what_an_ordinary_open_would_give(tmp_path):
    previous = os.umask(0o022)
    try:
        path = write_text_atomically(tmp_path / "a.json", "{}")
    finally:
        os.umask(previous)
    assert path.read_text() == "{}" and mode(path) == 0o644
    assert os.listdir(tmp_path) == ["a.json"]


def test_a_replaced_file_keeps_its_mode(tmp_path):
    path = tmp_path / "shared.json"
    path.write_text("old")
    os.chmod(path, 0o640)
    write_text_atomically(path, "new")
    assert path.read_text() == "new" and mode(path) == 0o640


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("measured rows")

    def fail(temporary):
        temporary.write_text("half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        write_atomically(path, fail)
    assert path.read_text() == "measured rows"
    assert os.listdir(tmp_path) == ["data.csv"]


def test_concurrent_writers_use_their_own_temporary_files(tmp_path):
    path = tmp_path / "search.json"
    seen, barrier = [], threading.Barrier(4)

    def write(text):
        def slow(temporary):
            seen.append(temporary.name)
            barrier.wait(timeout=5)  # all four temporaries exist at once
            temporary.write_text(text)

        write_atomically(path, slow)

    threads = [threading.Thread(target=write, args=(str(i),)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(seen)) == 4
    assert path.read_text() in {"0", "1", "2", "3"} and os.listdir(tmp_path) == ["search.json"]


@pytest.mark.parametrize("writer", ["trace", "search", "predictor", "pareto"])
def test_user_files_are_readable_by_others(tmp_path, writer):
    """The trace, search results, predictor and Pareto plot all come out 0644 under umask 022."""
    previous = os.umask(0o022)
    try:
        path = _write(writer, tmp_path)
    finally:
        os.umask(previous)
    assert mode(path) == 0o644 and sorted(os.listdir(path.parent)) == [path.name]


def _write(writer, folder):
    if writer == "trace":
        from hwprof.traces import write_trace

        return write_trace([(1.0, "VDD_IN", 5.0)], folder / "run.trace.parquet")
    if writer == "predictor":
        from hwprof.predictor import file

        file.dump({"format": file.FORMAT}, folder / "p.json")
        return folder / "p.json"
    from fakes.search_doubles import TOY_SPACE, ToyPredictor, score_toy
    from hwprof.search import results
    from hwprof.search.constraints import parse_constraints
    from hwprof.search.report import plot_pareto
    from hwprof.search.space import space_from_dict
    from hwprof.search.study import SearchOptions, run_search

    result = run_search(
        space_from_dict(TOY_SPACE),
        ToyPredictor(),
        score_toy,
        "toy",
        SearchOptions(trials=12, constraints=parse_constraints(["latency_ms<=1"]), seed=0),
    )
    if writer == "search":
        return results.dump(result, folder / "search.json")
    return plot_pareto(result, folder / "pareto.png")


@pytest.mark.parametrize("given", ["frame", "list"])
def test_a_dataframe_where_dataset_files_are_taken_says_to_write_it_first(given, tmp_path):
    """measure returns a frame; fit, evaluate and merge read files. Iterated, a frame was its column names."""
    import pandas as pd

    import hwprof

    frame = pd.DataFrame({"kind": ["network"], "latency_ms": [1.0]})
    value = frame if given == "frame" else [frame]
    for call in (lambda: hwprof.fit(value), lambda: hwprof.merge(value, out=tmp_path / "m.parquet")):
        with pytest.raises(hwprof.HwprofError, match=r"not a DataFrame: measure\(\.\.\., out='run.parquet'\) writes"):
            call()


def test_a_dataset_given_twice_is_refused_where_its_rows_would_count_twice(tmp_path):
    import hwprof
    from fakes.synthetic import synthetic_frame, write
    from hwprof.dataset import read_dataset

    path = write(synthetic_frame(n_networks=3), tmp_path / "d.parquet")
    for call in (lambda: read_dataset([path, path]), lambda: hwprof.fit([path, str(path)], cv=False)):
        with pytest.raises(hwprof.HwprofError, match="is given twice; pass each dataset once"):
            call()


def test_a_name_too_long_for_the_files_beside_it_is_refused_before_any_work(tmp_path):
    """A 240-byte name is legal, but its raw samples' temporary file is not: the run used to fail at its end
    ("this is a bug", or a --resume that could never work). Refused at the start, with the longest name
    that works; that name's companions and their temporary files can all be written."""
    from click.testing import CliRunner

    from hwprof.cli import main
    from hwprof.errors import HwprofError
    from hwprof.files import COMPANION_ADDED, SAMPLES_SUFFIX, TEMPORARY_ADDED, check_output

    limit = os.pathconf(tmp_path, "PC_NAME_MAX")
    too_long = tmp_path / ("L" * (limit - COMPANION_ADDED - len(".parquet") + 1) + ".parquet")
    result = CliRunner().invoke(main, ["measure", "mlp", "--no-layers", "--out", str(too_long)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"give a name of at most {limit - COMPANION_ADDED} bytes" in result.output
    assert os.listdir(tmp_path) == []
    with pytest.raises(HwprofError, match="past this folder's limit"):
        check_output(too_long, exists_ok=True, companions=True)  # --resume is refused the same way
    # a report or a predictor has no files beside it: only its own temporary name must fit
    check_output(tmp_path / ("R" * (limit - TEMPORARY_ADDED - len(".json")) + ".json"))

    longest = tmp_path / ("M" * (limit - COMPANION_ADDED - len(".parquet")) + ".parquet")
    check_output(longest, companions=True)
    write_text_atomically(f"{longest}{SAMPLES_SUFFIX}", "samples")
    assert os.listdir(tmp_path) == [longest.name + SAMPLES_SUFFIX]
