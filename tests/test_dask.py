"""Fitting on a dask.distributed cluster equals fitting in memory.

CI installs the ``dask`` extra; the module is skipped only where it is not
installed, because it needs a real cluster.
"""

# SPDX-License-Identifier: BSD-3-Clause

import os
import pickle
import re
import signal
import sys

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

da = pytest.importorskip(
    "dask.array", reason="the dask extra (pip install '.[dask]') is needed"
)
distributed = pytest.importorskip(
    "distributed", reason="the dask extra (pip install '.[dask]') is needed"
)

from joblib import parallel_backend  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402

from skl_sparseae import SparseAutoencoderTransformer  # noqa: E402
from skl_sparseae._backends import _dask_fit  # noqa: E402

from ._helpers import (  # noqa: E402
    FITTED_ARRAYS,
    assert_same_model,
    ignore_convergence_warnings,
    make_estimator,
    run_python,
    uniform,
    wrap_objective,
)

# Most fits here stop on max_iter on purpose, in memory and on the cluster
# alike.
pytestmark = ignore_convergence_warnings


def unit_data(n_samples=240, n_features=12, seed=0):
    return uniform((n_samples, n_features), seed)


@pytest.mark.parametrize(
    "rows, holders, n_threads, expected",
    [
        # Already balanced: nothing moves.
        ([10] * 4, ["a", "a", "b", "b"], {"a": 1, "b": 1}, {}),
        # All on one worker: the second half moves.
        ([10] * 4, ["a"] * 4, {"a": 1, "b": 1}, {2: "b", 3: "b"}),
        # Shares follow threads: a has 2 threads, b has 1.
        ([10] * 6, ["a"] * 6, {"a": 2, "b": 1}, {4: "b", 5: "b"}),
        # Uneven chunks: 150 rows stay on a, the 90-row chunk moves; the empty
        # chunk never does.
        ([0, 150, 90], ["a"] * 3, {"a": 1, "b": 1}, {2: "b"}),
        # One chunk cannot be split: it stays.
        ([240], ["a"], {"a": 1, "b": 1}, {}),
    ],
)
def test_plan_moves_gives_each_worker_its_share(rows, holders, n_threads, expected):
    holder_sets = [{address} for address in holders]
    assert _dask_fit.plan_moves(rows, holder_sets, n_threads) == expected


def test_column_chunks_are_merged(two_workers):
    # Kept before the spread test below, as the in-memory comparisons were
    # before they moved to test_backends.py: on a cluster that has run no fit
    # yet, the spread test finds the moved chunks still held by the first
    # worker as well (a known failure, to fix in _backends._dask_fit).
    X = unit_data()
    reference = make_estimator().fit(X)
    fitted = make_estimator().fit(da.from_array(X, chunks=(80, 5)))
    assert_same_model(fitted, reference)


def test_chunks_held_by_one_worker_are_spread_before_fitting(two_workers):
    # Each evaluation runs where the chunks are: data that a loader left on
    # one worker would leave the other idle in every evaluation.
    X = unit_data()
    first = sorted(two_workers.scheduler_info()["workers"])[0]
    X_dask = two_workers.persist(da.from_array(X, chunks=(40, 12)), workers=[first])
    distributed.wait(X_dask)
    chunks = _dask_fit._ClusterChunks(two_workers, X_dask, 60.0)
    try:
        chunks.summaries()
        who_has = two_workers.who_has(chunks.chunks)
        holders = [set(who_has[future.key]) for future in chunks.chunks]
        # Half the chunks now live on the second worker (a moved chunk may
        # also keep a copy on the first), and each worker's group holds three
        # chunks that it has: every evaluation uses both workers.
        assert sum(holder != {first} for holder in holders) == 3, holders
        assert sorted(len(group) for group in chunks.groups) == [3, 3]
        group_holders = [
            set.intersection(*(holders[index] for index in group))
            for group in chunks.groups
        ]
        assert all(group_holders), (chunks.groups, holders)
        assert group_holders[0] != group_holders[1] or len(group_holders[0]) > 1
    finally:
        chunks.release()

    reference = make_estimator().fit(X)
    assert_same_model(make_estimator().fit(X_dask), reference)


def test_tree_reduction_of_many_groups(two_workers, monkeypatch):
    # Large clusters have more groups (worker threads) than the fan-in: the
    # partial sums are then added on the workers first.
    monkeypatch.setattr(_dask_fit, "REDUCTION_FAN_IN", 2)
    monkeypatch.setattr(
        _dask_fit._ClusterChunks,
        "_co_located_groups",
        lambda self: [[index] for index in range(len(self.chunks))],
    )
    X = unit_data()
    # Every evaluation goes through the tree: a few iterations show its sums.
    reference = make_estimator(max_iter=5).fit(X)
    fitted = make_estimator(max_iter=5).fit(da.from_array(X, chunks=(40, 12)))
    assert_same_model(fitted, reference)


def test_float32_stays_float32(two_workers):
    X = unit_data().astype(np.float32)
    reference = make_estimator(max_iter=10).fit(X)
    fitted = make_estimator(max_iter=10).fit(da.from_array(X, chunks=70))
    for name in FITTED_ARRAYS:
        assert getattr(fitted, name).dtype == np.float32
        # float32 round-off, amplified by ten L-BFGS steps
        assert_allclose(getattr(fitted, name), getattr(reference, name), atol=1e-4)
    codes = fitted.transform(da.from_array(X, chunks=70))
    assert codes.dtype == np.float32
    assert codes.compute().dtype == np.float32


def test_integer_input_becomes_float64(two_workers):
    X = (unit_data() > 0.5).astype(np.int64)
    reference = make_estimator(max_iter=5).fit(X)
    fitted = make_estimator(max_iter=5).fit(da.from_array(X, chunks=100))
    assert fitted.components_.dtype == np.float64
    assert_same_model(fitted, reference)


def test_fit_without_client_uses_local_scheduler(monkeypatch):
    # No distributed client: the same map-reduce runs over chunks in this process.
    monkeypatch.setattr(_dask_fit, "current_client", lambda: None)
    X = unit_data()
    reference = make_estimator().fit(X)
    fitted = make_estimator().fit(da.from_array(X, chunks=((100, 7, 133), 12)))
    assert_same_model(fitted, reference)


def test_methods_on_dask_arrays_are_lazy_and_equal(two_workers):
    X = unit_data()
    estimator = make_estimator().fit(X)
    X_dask = da.from_array(X, chunks=((100, 7, 133), 12))

    codes = estimator.transform(X_dask)
    scores = estimator.score_samples(X_dask)
    reconstruction = estimator.inverse_transform(codes)
    for result in (codes, scores, reconstruction):
        assert isinstance(result, da.Array)
        assert result.chunks[0] == X_dask.chunks[0]
    assert codes.shape == (240, 5)
    assert scores.shape == (240,)
    assert reconstruction.shape == X.shape

    expected_codes = estimator.transform(X)
    assert_allclose(codes.compute(), expected_codes, rtol=1e-12)
    assert_allclose(scores.compute(), estimator.score_samples(X), rtol=1e-12)
    assert_allclose(
        reconstruction.compute(),
        estimator.inverse_transform(expected_codes),
        rtol=1e-12,
    )
    assert estimator.score(X_dask) == pytest.approx(estimator.score(X), rel=1e-12)
    refitted_codes = estimator.fit_transform(X_dask)
    assert isinstance(refitted_codes, da.Array)
    assert_allclose(refitted_codes.compute(), estimator.transform(X), rtol=1e-12)


def test_chunks_share_the_estimators_overflow_handling(two_workers):
    # The chunks run the estimator's own array computations: extreme finite
    # data saturates without numpy warnings (errors in this suite), exactly
    # as in memory.
    estimator = make_estimator().fit(unit_data())
    X = np.full((4, 12), 1e300)
    X[1::2, ::2] *= -1
    X_dask = da.from_array(X, chunks=(2, 12))
    assert_array_equal(estimator.transform(X_dask).compute(), estimator.transform(X))
    assert_array_equal(
        estimator.score_samples(X_dask).compute(), estimator.score_samples(X)
    )


def test_overflow_to_nan_in_a_chunk_raises(monkeypatch):
    estimator = make_estimator().fit(unit_data())
    codes = da.from_array(estimator.transform(unit_data()), chunks=(100, 5))

    def overflowing(A, *args, **kwargs):
        return np.full((A.shape[0], 12), np.inf) - np.inf

    # the patch lives in this process: compute the chunks here
    monkeypatch.setattr("skl_sparseae._inference.decode", overflowing)
    with pytest.raises(ValueError, match="^inverse_transform overflowed"):
        estimator.inverse_transform(codes).compute(scheduler="synchronous")


def test_fitted_estimator_holds_no_dask_objects(two_workers):
    fitted = make_estimator(max_iter=3).fit(da.from_array(unit_data(), 60))
    for name, value in vars(fitted).items():
        assert not type(value).__module__.startswith(("dask", "distributed")), name
    restored = pickle.loads(pickle.dumps(fitted))
    assert_array_equal(restored.components_, fitted.components_)


def test_validation_messages_follow_scikit_learn(two_workers):
    X = unit_data()
    estimator = make_estimator(max_iter=3).fit(X)
    with pytest.raises(ValueError, match="Expected 2D array, got 1D array instead"):
        make_estimator().fit(da.from_array(X[:, 0], chunks=100))
    with pytest.raises(ValueError, match="Found array with dim 3"):
        make_estimator().fit(da.from_array(X.reshape(240, 3, 4), chunks=100))
    with pytest.raises(
        ValueError,
        match="X has 11 features, but SparseAutoencoderTransformer is expecting "
        "12 features as input",
    ):
        estimator.transform(da.from_array(X[:, :11], chunks=100))
    with pytest.raises(ValueError, match="expects n_components=5 columns"):
        estimator.inverse_transform(da.from_array(X, chunks=100))
    with pytest.raises(ValueError, match="Found array with 0 sample"):
        make_estimator().fit(da.from_array(X[:0], chunks=100))

    X_nan = X.copy()
    X_nan[200, 3] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        make_estimator().fit(da.from_array(X_nan, chunks=100))
    with pytest.raises(ValueError, match="Input X contains NaN"):
        estimator.transform(da.from_array(X_nan, chunks=100)).compute()


def test_failed_fit_keeps_previous_model(two_workers):
    estimator = make_estimator(max_iter=3).fit(unit_data())
    components = estimator.components_.copy()
    X_nan = unit_data(n_features=7)
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        estimator.fit(da.from_array(X_nan, chunks=100))
    assert estimator.n_features_in_ == 12
    assert_array_equal(estimator.components_, components)


@pytest.mark.parametrize("value", ["abc", -1, -0.5, float("nan"), True, None, [60]])
def test_invalid_no_workers_timeout_setting_is_named(two_workers, value):
    # The fit fails before sending chunks, with the setting and what it takes,
    # and the previous model is kept.
    import dask

    estimator = make_estimator(max_iter=3).fit(unit_data())
    components = estimator.components_.copy()
    with dask.config.set({_dask_fit.NO_WORKERS_TIMEOUT_KEY: value}):
        with pytest.raises(
            ValueError,
            match=r"'skl_sparseae\.no-workers-timeout' must be a non-negative "
            r"number of seconds.*got " + re.escape(repr(value)),
        ):
            estimator.fit(da.from_array(unit_data(seed=1), chunks=100))
    assert_array_equal(estimator.components_, components)


@pytest.mark.parametrize("value, seconds", [(0, 0.0), (600, 600.0), ("120", 120.0)])
def test_valid_no_workers_timeout_settings(value, seconds):
    import dask

    with dask.config.set({_dask_fit.NO_WORKERS_TIMEOUT_KEY: value}):
        assert _dask_fit._no_workers_timeout() == seconds
    assert _dask_fit._no_workers_timeout() == _dask_fit.DEFAULT_NO_WORKERS_TIMEOUT


def test_sigmoid_decoder_warns_outside_unit_interval(two_workers):
    X = unit_data() * 3.0
    with pytest.warns(UserWarning, match="MinMaxScaler"):
        make_estimator(max_iter=2).fit(da.from_array(X, chunks=100))


def test_dataframe_collection_gets_clear_error(two_workers):
    dd = pytest.importorskip("dask.dataframe", reason="needs dask[dataframe]")
    pd = pytest.importorskip("pandas")
    frame = dd.from_pandas(pd.DataFrame(unit_data()), npartitions=2)
    with pytest.raises(TypeError, match="to_dask_array"):
        make_estimator().fit(frame)


def test_grid_search_dask_backend_equals_loky(two_workers):
    X, y = load_digits(return_X_y=True)
    X, y = X[:500] / 16.0, y[:500]
    pipeline = Pipeline(
        [
            (
                "sae",
                SparseAutoencoderTransformer(
                    n_components=16, max_iter=30, random_state=0
                ),
            ),
            ("clf", LogisticRegression(max_iter=300)),
        ]
    )
    grid = {"sae__rho": [0.05, 0.2]}

    def search(backend):
        search = GridSearchCV(pipeline, grid, cv=3, n_jobs=-1)
        with parallel_backend(backend):
            return search.fit(X, y)

    on_cluster = search("dask")
    on_loky = search("loky")
    assert on_cluster.best_params_ == on_loky.best_params_
    for key, values in on_loky.cv_results_.items():
        if key.endswith("_test_score"):
            assert_array_equal(on_cluster.cv_results_[key], values, err_msg=key)
    # The cluster really ran the fits.
    assert any(
        "fit" in str(key) for key in two_workers.run_on_scheduler(_task_prefixes)
    )


def _task_prefixes(dask_scheduler):
    return list(dask_scheduler.task_prefixes)


def test_error_names_the_extra_without_dask(monkeypatch):
    X_dask = da.from_array(unit_data(), chunks=100)
    # Simulate an environment without the extra: the imports fail.
    for name in ("dask", "dask.array", "distributed"):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(ImportError, match=r'pip install "dask\[array\]" distributed'):
        make_estimator().fit(X_dask)


def test_core_package_works_without_dask():
    code = (
        "import sys\n"
        "sys.modules['dask'] = None\n"
        "sys.modules['distributed'] = None\n"
        "import numpy as np\n"
        "from skl_sparseae import SparseAutoencoderTransformer\n"
        "X = np.random.RandomState(0).uniform(size=(30, 6))\n"
        "est = SparseAutoencoderTransformer(max_iter=5).fit(X)\n"
        "print(est.transform(X).shape)\n"
    )
    result = run_python("-W", "ignore", "-c", code, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "(30, 1)"


# The tests that kill a worker come last: its nanny restarts it, but not at
# once.


def kill_one_worker_after(monkeypatch, client, n_evaluations):
    """Kill a worker process (SIGKILL) at the given objective evaluation."""
    state = {"calls": 0, "killed": None}

    def killing_evaluate(objective, theta):
        state["calls"] += 1
        if state["calls"] == n_evaluations:
            address = sorted(client.scheduler_info()["workers"])[0]
            os.kill(client.run(os.getpid)[address], signal.SIGKILL)
            state["killed"] = address
        return objective(theta)

    wrap_objective(monkeypatch, killing_evaluate)
    return state


def test_worker_killed_mid_fit_completes_on_survivors(two_workers, monkeypatch):
    # Chunks built by a dask graph keep their lineage: the scheduler
    # recomputes the lost ones elsewhere and the fit must still be exact.
    X = unit_data()
    reference = make_estimator().fit(X)
    state = kill_one_worker_after(monkeypatch, two_workers, n_evaluations=5)
    fitted = make_estimator().fit(da.from_array(X, chunks=40))
    assert state["killed"] is not None
    assert_same_model(fitted, reference)


def test_worker_killed_with_unrecoverable_data_raises(two_workers, monkeypatch):
    # Scattered chunks have no lineage: losing one must stop the fit with a
    # clear error, never return a model fitted on part of the data.
    X = unit_data()
    futures = two_workers.scatter(
        [X[start : start + 40] for start in range(0, 240, 40)]
    )
    X_dask = da.concatenate(
        [da.from_delayed(future, shape=(40, 12), dtype=X.dtype) for future in futures]
    )
    estimator = make_estimator()
    state = kill_one_worker_after(monkeypatch, two_workers, n_evaluations=5)
    with pytest.raises(RuntimeError, match="The dask cluster lost work"):
        estimator.fit(X_dask)
    assert state["killed"] is not None
    assert not hasattr(estimator, "components_")
    assert not hasattr(estimator, "n_features_in_")


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_lazy_dask_results_keep_the_weights_they_were_built_with():
    da = pytest.importorskip("dask.array", reason="needs the dask extra")
    X = np.random.RandomState(0).uniform(size=(200, 8))
    X_dask = da.from_array(X, chunks=50)
    sae = SparseAutoencoderTransformer(max_iter=20, random_state=0)
    codes = sae.set_params(n_components=2).fit(X).transform(X_dask)
    scores = sae.score_samples(X_dask)
    reconstruction = sae.inverse_transform(da.from_array(sae.transform(X), chunks=50))
    expected = (
        sae.transform(X),
        sae.score_samples(X),
        sae.inverse_transform(sae.transform(X)),
    )
    sae.set_params(n_components=4).fit(X)
    assert codes.compute(scheduler="synchronous").shape == (200, 2)
    np.testing.assert_allclose(codes.compute(scheduler="synchronous"), expected[0])
    np.testing.assert_allclose(scores.compute(scheduler="synchronous"), expected[1])
    np.testing.assert_allclose(
        reconstruction.compute(scheduler="synchronous"), expected[2]
    )


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_dask_evaluation_fails_when_the_cluster_has_no_workers(monkeypatch):
    pytest.importorskip("distributed", reason="needs the dask extra")
    from skl_sparseae._backends._dask_fit import _ClusterChunks

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


@pytest.mark.parametrize("known_size", [True, False], ids=["known", "unknown"])
@pytest.mark.parametrize(
    "solver, method", [("adam", "fit"), ("sgd", "fit"), ("adam", "partial_fit")]
)
def test_minibatch_solvers_refuse_an_empty_dask_array(solver, method, known_size):
    """scikit-learn's message, as for L-BFGS and in-memory data."""
    X = da.from_array(unit_data(n_samples=40), chunks=(10, 12))
    # A mask gives chunks whose row counts dask knows only once computed.
    empty = X[:0] if known_size else X[X[:, 0] > 2]
    estimator = make_estimator(solver=solver)
    with pytest.raises(ValueError, match=r"Found array with 0 sample\(s\)"):
        getattr(estimator, method)(empty)
    assert not hasattr(estimator, "components_")


@pytest.mark.parametrize(
    "solver, method",
    [("lbfgs", "fit"), ("adam", "fit"), ("sgd", "fit"), ("adam", "partial_fit")],
)
def test_a_dask_array_of_unknown_row_counts_fits_as_with_known_counts(solver, method):
    """A mask leaves the row counts unknown until computed; the fit computes them."""
    X = da.from_array(unit_data(n_samples=80), chunks=(20, 12))
    masked = X[X[:, 0] > 0.4]
    assert np.isnan(masked.shape[0])
    known = masked.copy().compute_chunk_sizes()
    params = dict(solver=solver, max_iter=3, batch_size=8)
    reference = getattr(make_estimator(**params), method)(known)
    fitted = getattr(make_estimator(**params), method)(masked)
    for name in FITTED_ARRAYS:
        assert_array_equal(getattr(fitted, name), getattr(reference, name), name)
    assert fitted.loss_curve_ == reference.loss_curve_
    assert fitted.n_iter_ == reference.n_iter_
    # The lazy methods keep dask's unknown row counts, as map_blocks does.
    codes = fitted.transform(masked)
    assert np.isnan(codes.shape[0])
    assert_array_equal(codes.compute(), reference.transform(known).compute())
    assert_array_equal(
        fitted.score_samples(masked).compute(),
        reference.score_samples(known).compute(),
    )
    assert fitted.score(masked) == reference.score(known)


def test_outlier_detector_fits_a_dask_array_of_unknown_row_counts():
    from skl_sparseae import SparseAutoencoderOutlierDetector

    X = da.from_array(unit_data(n_samples=80), chunks=(20, 12))
    masked = X[X[:, 0] > 0.4]
    known = masked.copy().compute_chunk_sizes()
    params = dict(n_components=5, max_iter=3, random_state=0)
    reference = SparseAutoencoderOutlierDetector(**params).fit(known)
    fitted = SparseAutoencoderOutlierDetector(**params).fit(masked)
    assert fitted.offset_ == reference.offset_
    assert_array_equal(fitted.components_, reference.components_)
    assert_array_equal(
        fitted.predict(masked).compute(), reference.predict(known).compute()
    )


def test_a_dask_fit_is_the_same_wherever_its_chunks_live(two_workers, monkeypatch):
    # The chunks' sums are added in an order fixed by the chunks alone, so the
    # model is the same whoever computes them: two workers, chunks that a
    # loader left on one worker, or dask's local scheduler in this process.
    X = unit_data()
    spread = make_estimator(max_iter=10).fit(da.from_array(X, chunks=(40, 12)))
    first = sorted(two_workers.scheduler_info()["workers"])[0]
    X_on_one = two_workers.persist(da.from_array(X, chunks=(40, 12)), workers=[first])
    distributed.wait(X_on_one)
    on_one = make_estimator(max_iter=10).fit(X_on_one)
    monkeypatch.setattr(_dask_fit, "current_client", lambda: None)
    local = make_estimator(max_iter=10).fit(da.from_array(X, chunks=(40, 12)))
    for fitted in (on_one, local):
        assert fitted.loss_curve_ == spread.loss_curve_
        for name in FITTED_ARRAYS:
            assert_array_equal(
                getattr(fitted, name), getattr(spread, name), err_msg=name
            )
