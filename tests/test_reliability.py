"""Regression tests for defects found by an independent probe of the estimator."""

# SPDX-License-Identifier: BSD-3-Clause

import re
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from sklearn import config_context
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import MinMaxScaler
from threadpoolctl import threadpool_info, threadpool_limits

from skl_sparseae import SparseAutoencoderTransformer

from ._helpers import wrap_objective

pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning"
)


def _blas_threads():
    return sorted(
        (info["filepath"], info["num_threads"])
        for info in threadpool_info()
        if info["user_api"] == "blas"
    )


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


def test_lazy_dask_results_keep_the_weights_they_were_built_with():
    da = pytest.importorskip("dask.array", reason="needs the dask extra")
    X = np.random.RandomState(0).uniform(size=(200, 8))
    X_dask = da.from_array(X, chunks=50)
    sae = SparseAutoencoderTransformer(max_iter=20, random_state=0)
    codes = sae.set_params(n_components=2).fit(X).transform(X_dask)
    scores = sae.score_samples(X_dask)
    reconstruction = sae.inverse_transform(da.from_array(sae.transform(X), chunks=50))
    expected = (sae.transform(X), sae.score_samples(X), sae.inverse_transform(
        sae.transform(X)
    ))
    sae.set_params(n_components=4).fit(X)
    assert codes.compute(scheduler="synchronous").shape == (200, 2)
    np.testing.assert_allclose(codes.compute(scheduler="synchronous"), expected[0])
    np.testing.assert_allclose(scores.compute(scheduler="synchronous"), expected[1])
    np.testing.assert_allclose(
        reconstruction.compute(scheduler="synchronous"), expected[2]
    )


def test_too_wide_a_model_fails_early_with_the_estimate():
    # 20,000 features and the default n_components = 5,000: 200 million
    # weights, far more than any test machine holds with L-BFGS's history.
    X = np.zeros((50, 20_000))
    with pytest.raises(MemoryError, match=r"needs about .* GiB.*lower n_components"):
        SparseAutoencoderTransformer().fit(X)


def test_minmax_scaled_data_does_not_warn_about_its_range():
    X = np.random.RandomState(1).normal(size=(40, 6))
    X_scaled = MinMaxScaler().fit_transform(X)
    X_scaled[0, 0] = 1.0000000000000002  # what MinMaxScaler can produce
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        SparseAutoencoderTransformer(3, max_iter=5, random_state=0).fit(X_scaled)


def test_range_warning_prints_the_values_in_full():
    X = np.full((10, 3), 0.5)
    X[0, 0] = 1.0001
    with pytest.warns(UserWarning, match=re.escape("[0.5, 1.0001]")):
        SparseAutoencoderTransformer(2, max_iter=2, random_state=0).fit(X)


@pytest.mark.parametrize("penalty", ["beta", "alpha"])
def test_overflowing_penalty_is_named_not_the_data(penalty):
    X = np.random.RandomState(0).uniform(size=(30, 8)).astype(np.float32)
    sae = SparseAutoencoderTransformer(4, random_state=0, **{penalty: 1e40})
    with pytest.raises(ValueError, match=rf"The {penalty}=1e\+40 penalty is too large"):
        sae.fit(X)


def test_huge_beta_in_float64_is_named_when_a_trial_point_overflows():
    X = np.random.RandomState(0).uniform(size=(30, 8))
    sae = SparseAutoencoderTransformer(4, beta=1e300, random_state=0)
    with pytest.warns(ConvergenceWarning, match=r"The beta=1e\+300 penalty is too"):
        sae.fit(X)


def test_nan_under_assume_finite_is_reported_as_nan():
    X = np.random.RandomState(0).uniform(size=(30, 8))
    X[3, 2] = np.nan
    with config_context(assume_finite=True):
        with pytest.raises(ValueError, match="Input X contains NaN or infinity"):
            SparseAutoencoderTransformer(4, random_state=0).fit(X)


def test_saturated_hidden_units_warn():
    X = load_digits().data * 1000.0
    sae = SparseAutoencoderTransformer(
        16, decoder_activation="identity", max_iter=50, random_state=0
    )
    with pytest.warns(UserWarning, match="hidden activations are saturated"):
        sae.fit(X)


def test_well_scaled_fit_does_not_warn_about_saturation():
    X = load_digits().data / 16.0
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        SparseAutoencoderTransformer(
            16, rho=0.01, beta=3.0, max_iter=100, random_state=0
        ).fit(X)


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


def test_dask_evaluation_fails_when_the_cluster_has_no_workers(monkeypatch):
    pytest.importorskip("distributed", reason="needs the dask extra")
    from skl_sparseae._backend_dask import _ClusterChunks

    class NoWorkers:
        def nthreads(self):
            return {}

    chunks = _ClusterChunks.__new__(_ClusterChunks)
    chunks.client = NoWorkers()
    chunks.no_workers_timeout = 0.0

    def never_done(futures, timeout):
        raise TimeoutError

    with pytest.raises(RuntimeError, match="has had no workers for 0 s"):
        chunks._wait_with_workers([], never_done)
