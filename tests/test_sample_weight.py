"""sample_weight: the weighted objective, its solvers, the offset, the routing."""

import re

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
from numpy.testing import assert_allclose
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler
from sklearn.utils._testing import assert_docstring_consistency

from skl_sparseae import SparseAutoencoderOutlierDetector, SparseAutoencoderTransformer
from skl_sparseae._backends._numpy import (
    NumpyPlacement,
    loss_and_gradient,
    total_variance,
)
from skl_sparseae._objective import minibatch_loss_and_gradient, unpack
from skl_sparseae._outlier_detector import weighted_percentile

from ._helpers import (
    FITTED_ARRAYS,
    finite_difference_gradient,
    ignore_convergence_warnings,
    ignore_sparsity_missed,
    objective_problem,
    relative_error,
    uniform,
)

PARAMS = dict(rho=0.1, beta=3.0, alpha=1e-2)
H = 5
# L-BFGS amplifies the rounding differences between two evaluations of the
# same objective (a weighted sum against a sum over repeated rows) from
# iteration to iteration, as any method on a non-convex objective does;
# over this budget they stay far below the tolerances here.
SHORT_LBFGS = dict(max_iter=30, tol=0)


def plain_weighted_loss(theta, X, w, h, rho, beta, alpha, decoder_activation):
    """The weighted J from its definition, one sample at a time."""
    X = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    d = X.shape[1]
    W1, b1, W2, b2 = unpack(np.asarray(theta, dtype=np.float64), d, h)

    def sigmoid(z):
        return 1.0 / (1.0 + np.exp(-z))

    reconstruction, activation_sum = 0.0, np.zeros(h)
    for x, weight in zip(X, w):
        a = sigmoid(x @ W1 + b1)
        z = a @ W2 + b2
        x_hat = sigmoid(z) if decoder_activation == "sigmoid" else z
        reconstruction += weight * np.sum((x - x_hat) ** 2)
        activation_sum += weight * a
    total = np.sum(w)
    rho_hat = activation_sum / total
    kl = np.sum(
        rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat))
    )
    decay = np.sum(W1**2) + np.sum(W2**2)
    return reconstruction / (2 * total) + alpha / 2 * decay + beta * kl


def weights_for(n, seed=0):
    """Integer weights in 0..3 with both zeros and repeats."""
    w = np.random.RandomState(seed).randint(0, 4, size=n).astype(np.float64)
    w[:2] = [0.0, 3.0]
    return w


def repeated(X, w):
    counts = w.astype(int)
    if sp.issparse(X):
        return X[np.repeat(np.arange(X.shape[0]), counts)]
    return np.repeat(X, counts, axis=0)


# --------------------------------------------------------------------------
# The weighted objective.


@pytest.mark.parametrize("decoder_activation", ["sigmoid", "identity"])
@pytest.mark.parametrize("container", ["dense", "csr_matrix"])
def test_weighted_loss_matches_the_plain_formula(decoder_activation, container):
    X, theta = objective_problem(13, 7, H, container)
    w = np.random.RandomState(3).uniform(0.2, 3.0, size=13)
    kwargs = dict(decoder_activation=decoder_activation, **PARAMS)
    J, _ = loss_and_gradient(theta, X, H, sample_weight=w, **kwargs)
    assert J == pytest.approx(plain_weighted_loss(theta, X, w, H, **kwargs), rel=1e-12)


@pytest.mark.parametrize("decoder_activation", ["sigmoid", "identity"])
@pytest.mark.parametrize("container", ["dense", "csr_matrix"])
@pytest.mark.parametrize("batch_size", [None, 4])
def test_weighted_gradient_matches_finite_differences(
    decoder_activation, container, batch_size
):
    X, theta = objective_problem(13, 7, H, container)
    w = np.random.RandomState(3).uniform(0.0, 3.0, size=13)
    kwargs = dict(decoder_activation=decoder_activation, **PARAMS)
    _, grad = loss_and_gradient(
        theta, X, H, sample_weight=w, batch_size=batch_size, **kwargs
    )
    numerical = finite_difference_gradient(
        lambda t: plain_weighted_loss(t, X, w, H, **kwargs), theta
    )
    for analytic_part, numerical_part in zip(
        unpack(grad, 7, H), unpack(numerical, 7, H)
    ):
        assert relative_error(analytic_part, numerical_part) < 1e-6


@pytest.mark.parametrize("container", ["dense", "csr_matrix"])
def test_integer_weights_evaluate_as_repeated_rows(container):
    X, theta = objective_problem(13, 7, H, container)
    w = weights_for(13)
    J_w, g_w = loss_and_gradient(theta, X, H, sample_weight=w, **PARAMS)
    J_r, g_r = loss_and_gradient(theta, repeated(X, w), H, **PARAMS)
    assert J_w == pytest.approx(J_r, rel=1e-13)
    assert_allclose(g_w, g_r, rtol=1e-11, atol=1e-14)


def test_weights_are_scale_free_and_ones_are_no_weights():
    X, theta = objective_problem(13, 7, H)
    w = np.random.RandomState(3).uniform(0.5, 2.0, size=13)
    J, g = loss_and_gradient(theta, X, H, sample_weight=w, **PARAMS)
    J_scaled, g_scaled = loss_and_gradient(theta, X, H, sample_weight=7 * w, **PARAMS)
    assert J_scaled == pytest.approx(J, rel=1e-13)
    assert_allclose(g_scaled, g, rtol=1e-11, atol=1e-14)
    J1, g1 = loss_and_gradient(theta, X, H, sample_weight=np.ones(13), **PARAMS)
    J0, g0 = loss_and_gradient(theta, X, H, **PARAMS)
    assert J1 == pytest.approx(J0, rel=1e-14)
    assert_allclose(g1, g0, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("decoder_activation", ["sigmoid", "identity"])
@pytest.mark.parametrize("container", ["dense", "csr_matrix"])
def test_weighted_minibatch_step_matches_the_plain_formula(
    decoder_activation, container
):
    X, theta = objective_problem(9, 7, H, container)
    w = np.random.RandomState(4).uniform(0.0, 2.0, size=9)
    kwargs = dict(decoder_activation=decoder_activation, **PARAMS)
    grad = np.empty_like(theta)
    loss, grad = minibatch_loss_and_gradient(
        theta,
        X,
        grad,
        n_features=7,
        n_components=H,
        weights=w,
        weight_sum=float(w.sum()),
        **kwargs,
    )
    # The batch's objective is the weighted objective of its rows, normalised
    # by the batch's weight sum.
    assert loss == pytest.approx(
        plain_weighted_loss(theta, X, w, H, **kwargs), rel=1e-12
    )
    numerical = finite_difference_gradient(
        lambda t: plain_weighted_loss(t, X, w, H, **kwargs), theta
    )
    assert relative_error(grad, numerical) < 1e-6
    # Unit weights give the unweighted step.
    ones = np.ones(9)
    loss1, grad1 = minibatch_loss_and_gradient(
        theta,
        X,
        np.empty_like(theta),
        n_features=7,
        n_components=H,
        weights=ones,
        weight_sum=9.0,
        **kwargs,
    )
    loss0, grad0 = minibatch_loss_and_gradient(
        theta, X, np.empty_like(theta), n_features=7, n_components=H, **kwargs
    )
    assert loss1 == pytest.approx(loss0, rel=1e-14)
    assert_allclose(grad1, grad0, rtol=1e-12, atol=1e-15)


@ignore_convergence_warnings
@ignore_sparsity_missed
def test_weighted_total_variance_is_that_of_repeated_rows():
    X = uniform((30, 6))
    w = weights_for(30)
    expected = repeated(X, w).var(axis=0).sum()
    assert total_variance(X, w) == pytest.approx(expected, rel=1e-12)
    assert total_variance(sp.csr_matrix(X), w) == pytest.approx(expected, rel=1e-12)
    est = SparseAutoencoderTransformer(n_components=2, max_iter=2, tol=0)
    est.fit(X, sample_weight=w)
    assert est.alpha_ == pytest.approx(5e-5 * expected, rel=1e-12)


# --------------------------------------------------------------------------
# L-BFGS fits: zero weights drop rows, integer weights repeat them.


def assert_close_fits(a, b, rtol=1e-7):
    assert a.n_iter_ == b.n_iter_
    assert_allclose(a.loss_curve_, b.loss_curve_, rtol=rtol)
    for name in FITTED_ARRAYS:
        assert_allclose(getattr(a, name), getattr(b, name), rtol=rtol, atol=1e-10)


@ignore_convergence_warnings
@ignore_sparsity_missed
@pytest.mark.parametrize("container", [np.asarray, sp.csr_matrix])
@pytest.mark.parametrize(
    "Estimator", [SparseAutoencoderTransformer, SparseAutoencoderOutlierDetector]
)
def test_integer_weights_fit_as_repeated_rows(container, Estimator):
    X = uniform((40, 10))
    w = weights_for(40)
    est = Estimator(n_components=4, random_state=0, **SHORT_LBFGS)
    weighted = clone(est).fit(container(X), sample_weight=w)
    repeats = clone(est).fit(container(repeated(X, w)))
    assert_close_fits(weighted, repeats)
    assert weighted.alpha_ == pytest.approx(repeats.alpha_, rel=1e-12)
    if Estimator is SparseAutoencoderOutlierDetector:
        assert weighted.offset_ == pytest.approx(repeats.offset_, rel=1e-7)


@ignore_convergence_warnings
@ignore_sparsity_missed
@pytest.mark.parametrize("container", [np.asarray, sp.csr_matrix])
def test_zero_weights_drop_the_rows(container):
    X = uniform((40, 10))
    w = np.ones(40)
    w[::3] = 0
    est = SparseAutoencoderOutlierDetector(
        n_components=4, random_state=0, **SHORT_LBFGS
    )
    weighted = clone(est).fit(container(X), sample_weight=w)
    dropped = clone(est).fit(container(X[w > 0]))
    assert_close_fits(weighted, dropped)
    assert weighted.offset_ == pytest.approx(dropped.offset_, rel=1e-7)


@ignore_convergence_warnings
@ignore_sparsity_missed
def test_unit_weights_fit_as_no_weights():
    X = uniform((40, 10))
    est = SparseAutoencoderTransformer(n_components=4, random_state=0, **SHORT_LBFGS)
    assert_close_fits(clone(est).fit(X, sample_weight=np.ones(40)), clone(est).fit(X))


@ignore_convergence_warnings
@ignore_sparsity_missed
def test_float32_weighted_fit_stays_float32():
    X = uniform((40, 10)).astype(np.float32)
    w = weights_for(40)
    # float32 rounding grows faster along the iterations: a shorter budget.
    est = SparseAutoencoderTransformer(
        n_components=4, random_state=0, max_iter=10, tol=0
    )
    weighted = clone(est).fit(X, sample_weight=w)
    assert weighted.components_.dtype == np.float32
    repeats = clone(est).fit(repeated(X, w))
    assert_allclose(weighted.components_, repeats.components_, rtol=1e-3, atol=1e-5)


@ignore_convergence_warnings
@ignore_sparsity_missed
def test_weights_are_neither_changed_nor_kept():
    X = uniform((20, 6))
    w = weights_for(20)
    before = w.copy()
    est = SparseAutoencoderTransformer(n_components=2, max_iter=3, tol=0)
    est.fit(X, sample_weight=w)
    assert_allclose(w, before, rtol=0, atol=0)
    assert not any(value is w for value in vars(est).values())


# --------------------------------------------------------------------------
# Minibatch solvers.


@ignore_convergence_warnings
@ignore_sparsity_missed
@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_minibatch_unit_weights_fit_as_no_weights(solver):
    X = uniform((50, 8))
    est = SparseAutoencoderTransformer(
        n_components=3,
        solver=solver,
        max_iter=4,
        tol=0,
        batch_size=16,
        early_stopping=True,
        random_state=0,
    )
    a = clone(est).fit(X, sample_weight=np.ones(50))
    b = clone(est).fit(X)
    assert_allclose(a.loss_curve_, b.loss_curve_, rtol=1e-12)
    assert_allclose(a.validation_scores_, b.validation_scores_, rtol=1e-12)
    assert_allclose(a.components_, b.components_, rtol=1e-10, atol=1e-13)
    a.partial_fit(X, sample_weight=np.ones(50))
    b.partial_fit(X)
    assert_allclose(a.components_, b.components_, rtol=1e-10, atol=1e-13)
    assert a.t_ == b.t_


class RecordingAdam:
    """Wraps an optimizer; keeps every gradient it is handed."""

    def __init__(self, optimizer, record):
        self._optimizer, self.record = optimizer, record

    def update_params(self, theta, grad):
        self.record.append(np.array(grad, copy=True))
        self._optimizer.update_params(theta, grad)

    def __getattr__(self, name):
        return getattr(self._optimizer, name)


@ignore_convergence_warnings
@ignore_sparsity_missed
def test_minibatch_steps_use_each_batchs_weighted_gradient(monkeypatch):
    # One epoch, no shuffling: the first step's gradient is the weighted
    # gradient of the first batch at the initial weights, normalised by the
    # batch's weight sum; a batch of zero weights takes no step.
    X = uniform((12, 6))
    w = np.array([1, 2, 0, 3, 1, 1, 0, 0, 0, 0, 2, 1], dtype=float)
    record = []
    est = SparseAutoencoderTransformer(
        n_components=3,
        solver="adam",
        batch_size=4,
        shuffle=False,
        max_iter=1,
        tol=0,
        alpha=1e-3,
        random_state=0,
    )
    original = type(est)._make_optimizer
    monkeypatch.setattr(
        type(est),
        "_make_optimizer",
        lambda self, theta, xp: RecordingAdam(original(self, theta, xp), record),
    )
    est.fit(X, sample_weight=w)
    # Batches [0:4] and [8:12]; [4:8] has weight 1 + 1 and steps too; a
    # third batch of zeros would not.
    assert len(record) == 3
    fresh = SparseAutoencoderTransformer(
        n_components=3, solver="adam", max_iter=1, tol=0, random_state=0
    )
    theta0 = fresh._initial_theta(
        6, 3, np.random.RandomState(0), hidden_bias=np.log(0.05 / 0.95)
    )
    kwargs = dict(rho=0.05, beta=3.0, alpha=1e-3, decoder_activation="sigmoid")
    numerical = finite_difference_gradient(
        lambda t: plain_weighted_loss(t, X[:4], w[:4], 3, **kwargs), theta0
    )
    assert relative_error(record[0], numerical) < 1e-6
    zero_batch = SparseAutoencoderTransformer(
        n_components=3,
        solver="adam",
        batch_size=4,
        shuffle=False,
        max_iter=1,
        tol=0,
        random_state=0,
    )
    record.clear()
    zero_batch.fit(X, sample_weight=np.r_[w[:4], np.zeros(4), w[8:]])
    assert len(record) == 2 and zero_batch.t_ == 12


@ignore_convergence_warnings
@ignore_sparsity_missed
def test_held_out_rows_take_their_weights():
    X = uniform((60, 8))
    w = weights_for(60) + 0.5
    est = SparseAutoencoderTransformer(
        n_components=3,
        solver="adam",
        max_iter=3,
        tol=0,
        early_stopping=True,
        validation_fraction=0.25,
        random_state=0,
    )
    est.fit(X, sample_weight=w)
    # The held-out rows are those train_test_split draws from the same seed.
    _, val = NumpyPlacement().held_out_indices(60, 0.25, np.random.RandomState(0))
    # The model keeps the weights of the best held-out score.
    scores = est.score_samples(X[val])
    assert est.best_validation_score_ == pytest.approx(
        np.average(scores, weights=w[val]), rel=1e-10
    )
    assert est.best_validation_score_ != pytest.approx(np.mean(scores), rel=1e-6)


def test_all_zero_held_out_weights_are_refused():
    X = uniform((20, 4))
    _, val = NumpyPlacement().held_out_indices(20, 0.2, np.random.RandomState(0))
    w = np.ones(20)
    w[val] = 0
    est = SparseAutoencoderTransformer(
        n_components=2,
        solver="adam",
        early_stopping=True,
        validation_fraction=0.2,
        random_state=0,
    )
    with pytest.raises(ValueError, match="held-out rows are all zero"):
        est.fit(X, sample_weight=w)


# --------------------------------------------------------------------------
# The detector's offset.


@pytest.mark.parametrize("q", [0, 5, 25, 50, 62.5, 75, 100])
def test_weighted_percentile_is_the_percentile_of_repeated_values(q):
    values = np.random.RandomState(0).normal(size=17)
    w = weights_for(17)
    assert weighted_percentile(values, w, q) == pytest.approx(
        np.percentile(np.repeat(values, w.astype(int)), q), rel=1e-12
    )
    assert weighted_percentile(values, np.ones(17), q) == pytest.approx(
        np.percentile(values, q), rel=1e-12
    )


@ignore_convergence_warnings
@ignore_sparsity_missed
@pytest.mark.parametrize("contamination", ["auto", 0.1])
def test_offset_is_the_weighted_percentile_of_the_training_scores(contamination):
    X = uniform((40, 8))
    w = weights_for(40)
    det = SparseAutoencoderOutlierDetector(
        n_components=3, contamination=contamination, random_state=0, **SHORT_LBFGS
    ).fit(X, sample_weight=w)
    scores = np.repeat(det.score_samples(X), w.astype(int))
    if contamination == "auto":
        q1, q3 = np.percentile(scores, [25, 75])
        expected = q1 - 1.5 * (q3 - q1)
    else:
        expected = np.percentile(scores, 10)
    assert det.offset_ == pytest.approx(expected, rel=1e-12)


# --------------------------------------------------------------------------
# Metadata routing.


@pytest.fixture
def routing():
    with sklearn.config_context(enable_metadata_routing=True):
        yield


@ignore_convergence_warnings
@ignore_sparsity_missed
@pytest.mark.parametrize(
    "Estimator", [SparseAutoencoderTransformer, SparseAutoencoderOutlierDetector]
)
def test_sample_weight_is_routed_through_a_pipeline(routing, Estimator):
    X = uniform((40, 8))
    w = weights_for(40)
    est = Estimator(n_components=3, random_state=0, **SHORT_LBFGS)
    pipe = make_pipeline(MinMaxScaler(), clone(est).set_fit_request(sample_weight=True))
    pipe.fit(X, sample_weight=w)
    direct = clone(est).fit(MinMaxScaler().fit_transform(X), sample_weight=w)
    assert_allclose(pipe[-1].components_, direct.components_, rtol=1e-12)
    # Unrequested, the weights are an error, not silently dropped.
    with pytest.raises(Exception, match="sample_weight"):
        make_pipeline(MinMaxScaler(), clone(est)).fit(X, sample_weight=w)


@ignore_convergence_warnings
@ignore_sparsity_missed
def test_sample_weight_is_routed_through_a_grid_search(routing):
    X = uniform((40, 8))
    w = weights_for(40)
    est = SparseAutoencoderTransformer(n_components=3, random_state=0, **SHORT_LBFGS)
    # The search's scores are then weighted means too.
    requested = clone(est).set_fit_request(sample_weight=True)
    search = GridSearchCV(
        make_pipeline(requested.set_score_request(sample_weight=True)),
        {"sparseautoencodertransformer__rho": [0.05, 0.2]},
        cv=2,
    ).fit(X, sample_weight=w)
    best = clone(est).set_params(
        rho=search.best_params_["sparseautoencodertransformer__rho"]
    )
    assert_allclose(
        search.best_estimator_[-1].components_,
        best.fit(X, sample_weight=w).components_,
        rtol=1e-12,
    )
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))


@ignore_convergence_warnings
@ignore_sparsity_missed
def test_score_is_the_weighted_mean_of_the_scores():
    X = uniform((30, 6))
    w = weights_for(30)
    est = SparseAutoencoderTransformer(n_components=2, max_iter=5, tol=0).fit(X)
    assert est.score(X, sample_weight=w) == pytest.approx(
        np.average(est.score_samples(X), weights=w), rel=1e-12
    )
    with pytest.raises(ValueError, match="Negative values"):
        est.score(X, sample_weight=-w)


@ignore_convergence_warnings
@ignore_sparsity_missed
def test_partial_fit_requests_sample_weight(routing):
    X = uniform((40, 8))
    est = SparseAutoencoderTransformer(n_components=3, solver="adam", random_state=0)
    est.set_partial_fit_request(sample_weight=True)
    routing_info = est.get_metadata_routing()
    assert routing_info.consumes("partial_fit", ["sample_weight"]) == {"sample_weight"}
    est.partial_fit(X, sample_weight=weights_for(40))


# --------------------------------------------------------------------------
# Bad weights.


@pytest.mark.parametrize(
    "weights, message",
    [
        (-np.ones(10), "Negative values in data passed to `sample_weight`"),
        (np.ones(9), re.escape("sample_weight.shape == (9,), expected (10,)")),
        (np.r_[np.ones(9), np.nan], "Input sample_weight contains NaN"),
        (np.zeros(10), "Sample weights must contain at least one non-zero number"),
        (np.ones((10, 1)), "Sample weights must be 1D array or scalar"),
    ],
    ids=["negative", "length", "nan", "all-zero", "2d"],
)
@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
@pytest.mark.parametrize(
    "Estimator", [SparseAutoencoderTransformer, SparseAutoencoderOutlierDetector]
)
def test_bad_weights_are_refused_before_fitting(Estimator, solver, weights, message):
    X = uniform((10, 4))
    est = Estimator(n_components=2, solver=solver)
    with pytest.raises(ValueError, match=message):
        est.fit(X, sample_weight=weights)
    assert not hasattr(est, "components_")


# --------------------------------------------------------------------------
# Array API arrays on their device.


@ignore_convergence_warnings
@ignore_sparsity_missed
@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_array_api_weighted_fit_equals_the_numpy_fit(solver):
    xps = pytest.importorskip("array_api_strict")
    from skl_sparseae._objective import to_numpy

    X = uniform((40, 8))
    w = weights_for(40)
    params = dict(n_components=3, solver=solver, random_state=0, max_iter=15, tol=0)
    expected = SparseAutoencoderOutlierDetector(**params).fit(X, sample_weight=w)
    device = xps.Device("device1")
    with sklearn.config_context(array_api_dispatch=True):
        det = SparseAutoencoderOutlierDetector(**params).fit(
            xps.asarray(X, device=device),
            sample_weight=xps.asarray(w, device=device),
        )
        components = to_numpy(det.components_)
    assert_allclose(components, expected.components_, rtol=1e-9, atol=1e-12)
    assert det.offset_ == pytest.approx(expected.offset_, rel=1e-9)


# --------------------------------------------------------------------------
# Documentation.


def _documented_as(method, name):
    # assert_docstring_consistency keys its objects by __name__: two methods
    # called fit would be one.
    def function():
        pass

    function.__name__, function.__doc__ = name, method.__doc__
    return function


# An entry missing from one of the methods is a warning there: an error here.
@pytest.mark.filterwarnings("error::UserWarning")
def test_the_parameter_is_documented_alike_in_both_fits():
    pytest.importorskip(
        "numpydoc", reason="numpydoc (the 'test' extra) parses docstrings"
    )
    assert_docstring_consistency(
        [
            _documented_as(SparseAutoencoderTransformer.fit, "transformer_fit"),
            _documented_as(SparseAutoencoderOutlierDetector.fit, "detector_fit"),
        ],
        include_params=["y", "sample_weight"],
    )


# --------------------------------------------------------------------------
# Dask arrays: weights in the row chunks of X. The tests with a cluster come
# last: their client stays the default one until the module ends.


def _dask_problem(chunks=(13, 8)):
    da = pytest.importorskip("dask.array")
    X = uniform((40, 8))
    w = weights_for(40)
    return da, X, w, da.from_array(X, chunks=chunks)


@ignore_convergence_warnings
@ignore_sparsity_missed
@pytest.mark.parametrize(
    "Estimator", [SparseAutoencoderTransformer, SparseAutoencoderOutlierDetector]
)
@pytest.mark.parametrize("as_dask", [False, True], ids=["numpy-w", "dask-w"])
def test_dask_weighted_lbfgs_fit_equals_the_numpy_fit(Estimator, as_dask):
    da, X, w, X_dask = _dask_problem()
    # Weights as a dask array are rechunked like X; NumPy ones are cut alike.
    weights = da.from_array(w, chunks=7) if as_dask else w
    est = Estimator(n_components=3, random_state=0, **SHORT_LBFGS)
    on_dask = clone(est).fit(X_dask, sample_weight=weights)
    in_memory = clone(est).fit(X, sample_weight=w)
    assert_close_fits(on_dask, in_memory)
    assert on_dask.alpha_ == pytest.approx(in_memory.alpha_, rel=1e-12)
    if Estimator is SparseAutoencoderOutlierDetector:
        assert on_dask.offset_ == pytest.approx(in_memory.offset_, rel=1e-7)


@ignore_convergence_warnings
@ignore_sparsity_missed
def test_dask_weighted_sparse_chunks_and_zero_weights():
    da, X, w, _ = _dask_problem()
    X[X < 0.5] = 0
    X_sparse = da.from_array(X, chunks=(13, 8)).map_blocks(sp.csr_matrix)
    est = SparseAutoencoderTransformer(n_components=3, random_state=0, **SHORT_LBFGS)
    on_dask = clone(est).fit(X_sparse, sample_weight=w)
    dropped = clone(est).fit(sp.csr_matrix(X[w > 0]), sample_weight=w[w > 0])
    assert_close_fits(on_dask, dropped)


@ignore_convergence_warnings
@ignore_sparsity_missed
@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_dask_minibatch_unit_weights_fit_as_no_weights(solver):
    da, X, _, X_dask = _dask_problem()
    est = SparseAutoencoderTransformer(
        n_components=3,
        solver=solver,
        max_iter=3,
        tol=0,
        batch_size=8,
        random_state=0,
    )
    a = clone(est).fit(X_dask, sample_weight=da.ones(40, chunks=20))
    b = clone(est).fit(X_dask)
    assert_allclose(a.loss_curve_, b.loss_curve_, rtol=1e-12)
    assert_allclose(a.components_, b.components_, rtol=1e-10, atol=1e-13)
    # A chunk whose weights are all zero is passed over, its rows counted.
    w = np.ones(40)
    w[13:26] = 0
    c = clone(est).partial_fit(X_dask, sample_weight=w)
    d = clone(est).partial_fit(da.concatenate([X_dask[:13], X_dask[26:]]))
    assert_allclose(c.components_, d.components_, rtol=1e-10, atol=1e-13)
    assert c.t_ == 40 and d.t_ == 27


def test_dask_bad_weights_are_refused_before_fitting():
    da, X, w, X_dask = _dask_problem()
    est = SparseAutoencoderTransformer(n_components=2)
    with pytest.raises(ValueError, match=re.escape("expected (40,)")):
        est.fit(X_dask, sample_weight=w[:39])
    with pytest.raises(ValueError, match=re.escape("expected (40,)")):
        est.fit(X_dask, sample_weight=da.from_array(w[:39]))
    with pytest.raises(ValueError, match="Negative values"):
        est.fit(X_dask, sample_weight=da.from_array(-w, chunks=9))
    with pytest.raises(ValueError, match="at least one non-zero"):
        est.fit(X_dask, sample_weight=np.zeros(40))
    with pytest.raises(ValueError, match="early_stopping=True is not supported"):
        SparseAutoencoderTransformer(n_components=2, early_stopping=True).fit(
            X_dask, sample_weight=w
        )
    # Unknown row chunks: NumPy weights cannot be cut alike; dask weights
    # built from the same rows can.
    masked = X_dask[X_dask[:, 0] > 0.3]
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        est.fit(masked, sample_weight=np.ones(int((X[:, 0] > 0.3).sum())))
    keep = X[:, 0] > 0.3
    other_chunks = da.from_array(w, chunks=20)[da.from_array(keep, chunks=20)]
    with pytest.raises(ValueError, match="row chunks of X"):
        est.fit(masked, sample_weight=other_chunks)
    assert not hasattr(est, "components_")


@ignore_convergence_warnings
@ignore_sparsity_missed
def test_a_number_weighs_every_row_alike():
    da, X, _, X_dask = _dask_problem()
    est = SparseAutoencoderTransformer(n_components=3, random_state=0, max_iter=10)
    for data in (X, X_dask):
        assert_close_fits(
            clone(est).fit(data, sample_weight=2.5), clone(est).fit(X), rtol=1e-9
        )


@ignore_convergence_warnings
@ignore_sparsity_missed
def test_dask_weights_of_unknown_chunk_sizes_follow_their_rows():
    da, X, w, X_dask = _dask_problem()
    keep = X[:, 0] > 0.3
    mask = X_dask[:, 0] > 0.3
    est = SparseAutoencoderTransformer(n_components=3, random_state=0, **SHORT_LBFGS)
    on_dask = clone(est).fit(
        X_dask[mask], sample_weight=da.from_array(w, chunks=13)[mask]
    )
    in_memory = clone(est).fit(X[keep], sample_weight=w[keep])
    assert_close_fits(on_dask, in_memory)


@ignore_convergence_warnings
@ignore_sparsity_missed
def test_dask_weighted_fit_on_a_cluster_equals_the_local_one(two_workers):
    da, X, w, X_dask = _dask_problem()
    est = SparseAutoencoderOutlierDetector(n_components=3, random_state=0, max_iter=10)
    on_cluster = clone(est).fit(X_dask, sample_weight=da.from_array(w, chunks=13))
    in_memory = clone(est).fit(X, sample_weight=w)
    assert_close_fits(on_cluster, in_memory)
    assert on_cluster.offset_ == pytest.approx(in_memory.offset_, rel=1e-7)
    adam = SparseAutoencoderTransformer(
        n_components=3, solver="adam", max_iter=2, tol=0, random_state=0
    )
    adam.fit(X_dask, sample_weight=w)
    assert np.all(np.isfinite(adam.components_))
