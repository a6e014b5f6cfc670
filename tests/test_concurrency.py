"""One fitted estimator shared by threads; clones fitted in parallel."""

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import config_context
from sklearn.base import clone
from sklearn.utils.parallel import Parallel, delayed

from skl_sparseae import SparseAutoencoderTransformer

from ._helpers import ignore_convergence_warnings

# The fits stop on max_iter on purpose. scikit-learn's Parallel carries the
# filter into the loky workers too.
pytestmark = ignore_convergence_warnings

N_THREADS = 8
ROUNDS = 6


def _data(seed, n_samples=200, n_features=16, dtype=np.float64):
    X = np.random.RandomState(seed).uniform(size=(n_samples, n_features))
    X[X < 0.5] = 0.0
    return X.astype(dtype)


@pytest.fixture(scope="module", params=[np.float64, np.float32])
def fitted(request):
    dtype = request.param
    sae = SparseAutoencoderTransformer(n_components=6, max_iter=30, random_state=0)
    return dtype, sae.fit(_data(0, dtype=dtype))


def _calls(sae, dtype):
    """(method, input) pairs of different sizes, dense and sparse."""
    calls = []
    for seed, n_samples in [(1, 200), (2, 37), (3, 1)]:
        X = _data(seed, n_samples=n_samples, dtype=dtype)
        calls += [
            ("transform", X),
            ("transform", sp.csr_matrix(X)),
            ("score_samples", X),
            ("score_samples", sp.csc_matrix(X)),
            ("inverse_transform", sae.transform(X)),
        ]
    return calls


def _run(sae, method, X):
    # A tiny working memory makes score_samples work in many row blocks, so
    # that its per-call buffers are reused many times inside each call.
    with config_context(working_memory=0.005):
        return getattr(sae, method)(X)


def test_methods_called_from_threads_match_single_threaded_results(fitted):
    dtype, sae = fitted
    calls = _calls(sae, dtype)
    expected = [_run(sae, method, X) for method, X in calls]

    barrier = threading.Barrier(N_THREADS)

    def worker(offset):
        barrier.wait()  # start all threads at once to maximise overlap
        results = []
        for round_ in range(ROUNDS):
            # every thread walks through the calls in a different order
            for k in range(len(calls)):
                index = (k * (offset + 1) + round_) % len(calls)
                method, X = calls[index]
                results.append((index, _run(sae, method, X)))
        return results

    with ThreadPoolExecutor(max_workers=N_THREADS) as pool:
        outcomes = list(pool.map(worker, range(N_THREADS)))

    n_checked = 0
    for results in outcomes:
        for index, result in results:
            assert result.dtype == expected[index].dtype
            np.testing.assert_array_equal(result, expected[index])
            n_checked += 1
    assert n_checked == N_THREADS * ROUNDS * len(calls)


def test_fits_of_clones_in_threads_match_sequential_fits():
    X = _data(0, n_samples=80)
    estimators = [
        SparseAutoencoderTransformer(
            n_components=5, rho=rho, max_iter=25, random_state=seed
        )
        for rho, seed in [(0.05, 0), (0.1, 1), (0.2, 2), (0.05, 3)]
    ]
    sequential = [clone(est).fit(X) for est in estimators]
    with ThreadPoolExecutor(max_workers=len(estimators)) as pool:
        threaded = list(pool.map(lambda est: clone(est).fit(X), estimators))
    for a, b in zip(sequential, threaded):
        np.testing.assert_array_equal(a.components_, b.components_)
        np.testing.assert_array_equal(a.decoder_components_, b.decoder_components_)
        assert a.loss_curve_ == b.loss_curve_


def test_fits_of_clones_in_loky_processes():
    X = _data(0, n_samples=80)
    base = SparseAutoencoderTransformer(n_components=5, max_iter=20, random_state=0)
    grid = [{"rho": 0.05, "beta": 1.0}, {"rho": 0.1, "beta": 3.0}]

    def fit_one(params):
        return clone(base).set_params(**params).fit(X)

    parallel = Parallel(n_jobs=2, backend="loky")(
        delayed(fit_one)(params) for params in grid
    )
    for params, model in zip(grid, parallel):
        local = fit_one(params)
        assert model.get_params() == local.get_params()
        assert model.n_iter_ == local.n_iter_
        # Another process may use another number of BLAS threads, which
        # can change the last bits of the sums.
        np.testing.assert_allclose(model.components_, local.components_, rtol=1e-7)
        np.testing.assert_allclose(model.transform(X), local.transform(X), rtol=1e-7)
