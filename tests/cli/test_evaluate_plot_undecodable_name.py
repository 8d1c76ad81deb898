"""Under `PYTHONUTF8=0 LC_ALL=C` Python holds a non-ASCII file name with surrogates, which matplotlib refuses in a
title: `evaluate --plot` on a predictor and dataset in a folder `dätä` failed as a bug. Its title, made of their
names, shows them with their bytes read as UTF-8; the files are still opened by their real paths."""

import os
import shutil

from click.testing import CliRunner

from fakes.synthetic import fitted_predictor_path
from hwprof.cli import main

NAME = "d\u00e4t\u00e4"  # what the C locale holds as "d\udcc3\udca4t\udcc3\udca4"


def held_under_the_c_locale(path) -> str:
    """`path` as Python holds it where the file system encoding is ASCII: each non-ASCII byte a surrogate."""
    return os.fsencode(path).decode("ascii", "surrogateescape")


def test_evaluate_plots_files_whose_names_python_holds_with_surrogates(tmp_path, monkeypatch):
    import hwprof.fitting.evaluate

    predictor, dataset = fitted_predictor_path(tmp_path, n_networks=6)
    folder = tmp_path / NAME
    folder.mkdir()
    held = [held_under_the_c_locale(shutil.copy(path, folder)) for path in (predictor, dataset)]
    titles = []
    drawn = hwprof.fitting.evaluate.plot
    monkeypatch.setattr(
        hwprof.fitting.evaluate, "plot", lambda points, path, title: titles.append(title) or drawn(points, path, title)
    )
    png = held_under_the_c_locale(folder / "ev.png")
    result = CliRunner().invoke(main, ["evaluate", *held, "--plot", png])
    assert result.exit_code == 0, result.output
    assert titles == [f"{folder / os.path.basename(predictor)} on {folder / os.path.basename(dataset)}"]
    assert (folder / "ev.png").read_bytes()[:4] == b"\x89PNG"
