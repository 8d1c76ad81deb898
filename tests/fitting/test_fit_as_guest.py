"""fit inside a host program: it leaves np.random's global state and the process's warning filters as they
were, and its Lasso path runs on scikit-learn before 1.9 (which takes no alpha count) as on 1.9."""

import threading
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import lasso_path

from fakes.synthetic import synthetic_frame, write
from hwprof.fitting import layers
from hwprof.fitting.fit import fit


def problem(rows, terms, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, terms))
    x[:, 1] = x[:, 0] * 2 + rng.normal(scale=1e-3, size=rows)  # collinear terms, as bytes and MACs are
    return x, x[:, 0] - 0.5 * x[:, 2] + rng.normal(scale=0.1, size=rows)


@pytest.mark.parametrize("rows,terms", [(40, 6), (7, 9), (26, 27)])
def test_the_lasso_grid_given_as_an_array_is_the_one_a_count_draws(rows, terms):
    x, r = problem(rows, terms, seed=rows)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        counted, coefs, _ = lasso_path(x, r, alphas=40, eps=1e-4, max_iter=1000)
        given, same, _ = lasso_path(x, r, alphas=layers.lasso_alphas(x, r), eps=1e-4, random_state=0)
    assert np.array_equal(counted, given) and np.array_equal(coefs, same)


def test_candidate_terms_on_scikit_learn_before_1_9(monkeypatch):
    """1.6 to 1.8 refuse an int `alphas`: "must be an array-like or None"."""

    def old_lasso_path(x, r, alphas=None, **kwargs):
        if isinstance(alphas, int):
            raise ValueError("The 'alphas' parameter of lasso_path must be an array-like or None.")
        return lasso_path(x, r, alphas=alphas, **kwargs)

    monkeypatch.setattr(layers, "lasso_path", old_lasso_path)
    x, r = problem(40, 6, seed=1)
    assert (0, 2) in layers._candidate_supports(x, r, np.ones(len(r)), max_size=3)


def test_fit_leaves_numpys_global_random_state_alone(tmp_path):
    dataset = write(synthetic_frame(n_networks=8, seed=3), tmp_path / "g.parquet")
    np.random.seed(0)
    expected = np.random.rand(3)
    np.random.seed(0)
    fit([dataset], family="polynomial", cv=False)
    assert np.array_equal(np.random.rand(3), expected)


def test_a_hosts_warning_while_fit_chooses_terms_is_shown(monkeypatch):
    """catch_warnings + simplefilter("ignore") swapped the process's filters: a host thread's warning raised
    meanwhile was lost. Only scikit-learn's solver notices are ignored, and the filters are left as found."""
    shown = []
    monkeypatch.setattr(warnings, "showwarning", lambda message, *rest, **kw: shown.append(str(message)))
    real = layers.lasso_path

    def lasso_path_while_the_host_warns(*args, **kwargs):
        host = threading.Thread(target=lambda: warnings.warn("host: loss is NaN"))
        host.start()
        host.join()
        warnings.warn_explicit("Objective did not converge.", ConvergenceWarning, "cd.pyx", 1, "sklearn.x")
        return real(*args, **kwargs)

    monkeypatch.setattr(layers, "lasso_path", lasso_path_while_the_host_warns)
    x, r = problem(7, 9, seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        filters = list(warnings.filters)
        layers._candidate_supports(x, r, np.ones(len(r)), max_size=3)
        assert warnings.filters == filters
    assert shown == ["host: loss is NaN"]
