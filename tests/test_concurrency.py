"""One fitted estimator shared by threads; clones fitted in parallel."""

import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import config_context
from sklearn.base import clone
from sklearn.utils.parallel import Parallel, delayed
from threadpoolctl import threadpool_info, threadpool_limits

from skl_sparseae import SparseAutoencoderTransformer, _blas
from skl_sparseae._backends._numpy import NumpyBackend

from ._helpers import ignore_convergence_warnings, wrap_objective

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


def _blas_threads():
    return sorted(
        (info["filepath"], info["num_threads"])
        for info in threadpool_info()
        if info["user_api"] == "blas"
    )


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_fits_in_threads_restore_the_blas_thread_counts():
    X = np.random.RandomState(0).uniform(size=(3000, 30))
    before = _blas_threads()
    with ThreadPoolExecutor(4) as executor:
        list(
            executor.map(
                lambda seed: SparseAutoencoderTransformer(
                    8, max_iter=60, random_state=seed
                ).fit(X),
                range(8),
            )
        )
    assert _blas_threads() == before


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_fits_in_threads_leave_a_user_limit_working():
    # A fit in a worker thread must not take over the BLAS limits: the user's
    # threadpool_limits in the main thread still applies afterwards.
    X = np.random.RandomState(0).uniform(size=(500, 20))
    thread = threading.Thread(
        target=lambda: SparseAutoencoderTransformer(4, max_iter=5).fit(X)
    )
    thread.start()
    thread.join()
    with threadpool_limits(limits=1, user_api="blas"):
        assert all(count == 1 for _, count in _blas_threads())


@contextmanager
def _fit_paused_in_a_thread(monkeypatch):
    """A fit running in another thread, paused (holding its BLAS limits) inside.

    The pause is its fourth evaluation of the objective, inside L-BFGS-B's
    loop; later fits, and later evaluations, run through.
    """
    X = np.random.RandomState(0).uniform(size=(500, 20))
    paused, resume = threading.Event(), threading.Event()
    calls = []

    def pausing_evaluate(objective, theta):
        calls.append(1)
        if len(calls) == 4:
            paused.set()
            resume.wait(timeout=60)
        return objective(theta)

    wrap_objective(monkeypatch, pausing_evaluate)
    model = SparseAutoencoderTransformer(4, max_iter=6, tol=0, random_state=0)
    thread = threading.Thread(target=model.fit, args=(X,))
    thread.start()
    try:
        assert paused.wait(timeout=60)
        yield
    finally:
        resume.set()
        thread.join()


def _openblas_only():
    kinds = {info["internal_api"] for info in threadpool_info()}
    if kinds & {"blis", "mkl", "flexiblas"} or "openblas" not in kinds:
        pytest.skip(f"threadpoolctl's one-thread rule is OpenBLAS's; BLAS: {kinds}")


def test_a_limit_asked_for_in_another_thread_during_a_fit_is_ignored(monkeypatch):
    # threadpoolctl lets one thread at a time change OpenBLAS's process-wide
    # count: a limit asked for in another thread while a fit holds the BLAS
    # at one thread changes nothing, and the fit restores the counts it
    # found. Thread limits belong around the fits, in the fitting thread.
    _openblas_only()
    before = _blas_threads()
    chosen = max(count for _, count in before) + 1
    with _fit_paused_in_a_thread(monkeypatch):
        with threadpool_limits(limits=chosen, user_api="blas"):
            assert all(count == 1 for _, count in _blas_threads())
    assert _blas_threads() == before


def test_a_limit_lifted_in_another_thread_during_a_fit_stays_lifted(monkeypatch):
    # A one-thread limit entered before the fit and left during it (as
    # MiniBatchKMeans.fit does in another thread): the fit found the BLAS at
    # one thread, changed nothing, and must not put one thread back.
    before = _blas_threads()
    with threadpool_limits(limits=1, user_api="blas") as limiter:
        with _fit_paused_in_a_thread(monkeypatch):
            limiter.restore_original_limits()
        assert _blas_threads() == before
    assert _blas_threads() == before


def test_fits_in_threads_take_turns_on_the_blas(monkeypatch):
    # While one fit holds the BLAS at one thread, another fit's solver
    # waits; its row shares still use the threads the BLAS had before.
    X = np.random.RandomState(1).uniform(size=(200, 20))
    expected = SparseAutoencoderTransformer(4, max_iter=5, tol=0, random_state=1).fit(X)
    outside = _blas.available_threads()
    second = SparseAutoencoderTransformer(4, max_iter=5, tol=0, random_state=1)
    with _fit_paused_in_a_thread(monkeypatch):
        backend = NumpyBackend(_data(2, n_samples=20_000, n_features=40), 4, "sigmoid")
        assert backend.n_threads == min(outside, len(backend.shares))
        thread = threading.Thread(target=second.fit, args=(X,))
        thread.start()
        thread.join(timeout=1.0)
        assert thread.is_alive() and not hasattr(second, "components_")
    thread.join()
    np.testing.assert_array_equal(second.components_, expected.components_)
    assert second.loss_curve_ == expected.loss_curve_


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_same_model_whatever_the_number_of_threads():
    # Enough rows for several blocks, so that the partial sums are added up.
    X = np.random.RandomState(0).uniform(size=(20_000, 40))
    params = dict(max_iter=40, tol=0, random_state=0)
    default = SparseAutoencoderTransformer(**params).fit(X)
    with threadpool_limits(limits=1, user_api="blas"):
        one_thread = SparseAutoencoderTransformer(**params).fit(X)
    np.testing.assert_array_equal(default.components_, one_thread.components_)
    np.testing.assert_array_equal(
        default.decoder_components_, one_thread.decoder_components_
    )
    assert default.loss_curve_ == one_thread.loss_curve_


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_refit_keeps_the_old_schema_until_it_ends(monkeypatch):
    rng = np.random.RandomState(0)
    X_old, X_new = rng.uniform(size=(30, 6)), rng.uniform(size=(30, 9))
    sae = SparseAutoencoderTransformer(3, max_iter=5, random_state=0).fit(X_old)
    expected = sae.transform(X_old)
    seen = []

    def checking_evaluate(objective, theta):
        # What another thread sees while the refit runs.
        seen.append(sae.n_features_in_)
        np.testing.assert_array_equal(sae.transform(X_old), expected)
        return objective(theta)

    wrap_objective(monkeypatch, checking_evaluate)
    sae.fit(X_new)
    assert set(seen) == {6}
    assert sae.n_features_in_ == 9
