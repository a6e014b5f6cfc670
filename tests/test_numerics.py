"""Numerically awkward data: the loss and gradient stay finite.

pyproject.toml turns numpy's RuntimeWarnings (overflow, invalid value,
division by zero) into errors for the whole suite, so any of them raised
while fitting or evaluating the objective fails these tests. On top of that,
every evaluation made during these fits is recorded and must be finite: the
estimator's guard, which steps L-BFGS back from non-finite trial points, must
never have been needed on this data.
"""

import re

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import config_context
from sklearn.exceptions import ConvergenceWarning

import skl_sparseae._inference as inference_module
from skl_sparseae import SparseAutoencoderTransformer
from skl_sparseae._backends._numpy import loss_and_gradient

from ._helpers import (
    FITTED_ARRAYS,
    fitted_theta,
    ignore_convergence_warnings,
    ignore_sparsity_missed,
    objective_at_fitted_weights,
    wrap_objective,
)


@pytest.fixture
def evaluations(monkeypatch):
    """Record (finite loss, finite gradient) for every evaluation of fit."""
    records = []

    def recording_evaluate(objective, theta):
        result = objective(theta)
        records.append(
            bool(np.isfinite(result.loss) and np.all(np.isfinite(result.gradient)))
        )
        return result

    wrap_objective(monkeypatch, recording_evaluate)
    return records


def _uniform(shape=(30, 8), seed=0):
    return np.random.RandomState(seed).uniform(size=shape)


def _zero_rows():
    X = _uniform()
    X[::3] = 0.0
    return X


def _constant_columns():
    X = _uniform()
    X[:, 2] = 0.5
    X[:, 5] = 0.0
    return X


# (id, data builder, parameters); data for the sigmoid decoder lies in [0, 1].
CASES = [
    (
        "scaled-1e6-identity",
        lambda: _uniform() * 1e6,
        dict(decoder_activation="identity"),
    ),
    (
        "centred-1e6-identity",
        lambda: np.random.RandomState(1).normal(size=(30, 8)) * 1e6,
        dict(decoder_activation="identity"),
    ),
    (
        "scaled-1e6-identity-csr",
        lambda: sp.csr_matrix(np.where(_uniform() > 0.6, _uniform() * 1e6, 0.0)),
        dict(decoder_activation="identity"),
    ),
    ("all-zero-rows", _zero_rows, {}),
    ("all-zero-data", lambda: np.zeros((10, 4)), {}),
    ("constant-columns", _constant_columns, {}),
    ("duplicated-rows", lambda: np.repeat(_uniform((3, 8)), 10, axis=0), {}),
    ("single-sample", lambda: _uniform((1, 8)), {}),
    ("one-by-one", lambda: _uniform((1, 1)), {}),
    ("overcomplete", lambda: _uniform((30, 4)), dict(n_components=100)),
    ("rho=1e-4", _uniform, dict(rho=1e-4)),
    ("rho=0.999", _uniform, dict(rho=0.999)),
    ("beta=1e4", _uniform, dict(beta=1e4, max_iter=100)),
    ("beta=1e4-rho=1e-4", _uniform, dict(beta=1e4, rho=1e-4)),
    ("alpha=0", _uniform, dict(alpha=0.0, max_iter=100)),
    (
        "float32-tiny",
        lambda: (_uniform() * 1e-30).astype(np.float32),
        {},
    ),
    (
        "float32-subnormal",
        lambda: (_uniform() * 1e-40).astype(np.float32),
        dict(decoder_activation="identity"),
    ),
    (
        "float32-tiny-csr",
        lambda: sp.csr_matrix((_zero_rows() * 1e-30).astype(np.float32)),
        {},
    ),
    (
        "float32-scaled-1e6-identity",
        lambda: (_uniform() * 1e6).astype(np.float32),
        dict(decoder_activation="identity"),
    ),
]


# Reaching max_iter is fine here; a RuntimeWarning is still an error. The
# cases scaled by 1e6 saturate the hidden units, as the warning says: that is
# the awkward data under test.
@ignore_convergence_warnings
@pytest.mark.filterwarnings("ignore:.*hidden activations are saturated:UserWarning")
@pytest.mark.parametrize(
    "make_X, params", [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_fit_stays_finite_on_awkward_data(make_X, params, evaluations):
    X = make_X()
    params = {"n_components": 5, "max_iter": 150, "random_state": 0, **params}
    sae = SparseAutoencoderTransformer(**params)
    sae.fit(X)

    assert evaluations and all(evaluations)
    assert np.isfinite(sae.loss_)
    assert np.all(np.isfinite(sae.loss_curve_))
    for name in FITTED_ARRAYS:
        values = getattr(sae, name)
        assert values.dtype == X.dtype
        assert np.all(np.isfinite(values)), name
    assert np.all((sae.mean_activation_ >= 0) & (sae.mean_activation_ <= 1))

    # the objective itself, outside the estimator's guard, at the solution
    loss, grad = objective_at_fitted_weights(sae, X)
    assert np.isfinite(loss) and np.all(np.isfinite(grad))
    assert grad.dtype == np.float64

    codes = sae.transform(X)
    assert np.all(np.isfinite(codes))
    assert np.all(np.isfinite(sae.inverse_transform(codes)))
    scores = sae.score_samples(X)
    assert np.all(np.isfinite(scores)) and np.all(scores <= 0)


@pytest.mark.parametrize("rho", [1e-4, 0.05, 0.999])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("theta_scale", [0.0, 1.0, 1e3])
def test_objective_is_finite_for_saturated_units(rho, dtype, theta_scale):
    # Large weights saturate every unit (mean activation 0 or 1): the clipped
    # KL term and its slope must stay finite even with beta=1e4.
    X = _uniform((20, 6)).astype(dtype)
    rng = np.random.RandomState(0)
    n_params = 2 * 6 * 4 + 6 + 4
    theta = theta_scale * rng.uniform(-1, 1, size=n_params)
    for decoder in ["sigmoid", "identity"]:
        loss, grad = loss_and_gradient(
            theta,
            X,
            4,
            rho=rho,
            beta=1e4,
            alpha=1e-4,
            decoder_activation=decoder,
        )
        assert np.isfinite(loss) and np.all(np.isfinite(grad))


@ignore_convergence_warnings
def test_overflowing_data_raises_before_any_iteration(evaluations):
    # Data this large overflows the squared error at the initial weights.
    X = np.random.RandomState(0).normal(size=(20, 5)) * 1e200
    previous = SparseAutoencoderTransformer(
        decoder_activation="identity", max_iter=3, random_state=0
    )
    previous.fit(_uniform((20, 5)))
    before = {name: getattr(previous, name).copy() for name in FITTED_ARRAYS}
    evaluations.clear()
    with pytest.raises(
        ValueError,
        match=re.escape(
            "The sparse autoencoder objective is not finite (it overflows) at "
            "the initial weights. The input data has values too large for the "
            "model (X is in [-2.55299e+200, 2.26975e+200]). Scale X, for "
            "instance with sklearn.preprocessing.StandardScaler or MinMaxScaler."
        ),
    ):
        previous.fit(X)
    # The first evaluation fails; three more (again, without beta, without
    # alpha) find that the data, not a penalty, is the cause.
    assert evaluations == [False] * 4
    for name, values in before.items():
        np.testing.assert_array_equal(getattr(previous, name), values)


# Data of size 1e20 saturates the hidden units: that warning is expected too.
@pytest.mark.filterwarnings("ignore:.*hidden activations are saturated:UserWarning")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float32_overflow_is_reported_not_warned(dtype):
    # 1e20 squared overflows float32 but not float64.
    X = (np.random.RandomState(0).normal(size=(20, 5)) * 1e20).astype(dtype)
    # A fixed alpha: "auto"'s would follow the data's scale up to 1e35.
    sae = SparseAutoencoderTransformer(
        decoder_activation="identity", alpha=1e-4, max_iter=5, random_state=0
    )
    if dtype is np.float32:
        with pytest.raises(ValueError, match="not finite .* initial weights"):
            sae.fit(X)
    else:
        with pytest.warns(ConvergenceWarning, match="badly scaled"):
            sae.fit(X)
        assert np.isfinite(sae.loss_)


@pytest.mark.parametrize("failure", ["nan", "inf-gradient", "overflow"])
def test_non_finite_trial_point_stops_with_the_best_weights(failure, monkeypatch):
    """A NaN or overflow at a trial point never reaches the weights."""
    X = _uniform()
    losses = []

    def failing_evaluate(objective, theta):
        result = objective(theta)
        # From the ninth evaluation on, so that the checks that look for the
        # cause meet the same failure.
        if len(losses) >= 8:
            if failure == "nan":
                return result._replace(loss=np.nan, gradient=np.zeros_like(theta))
            if failure == "inf-gradient":
                return result._replace(loss=1.0, gradient=np.full_like(theta, np.inf))
            # an overflow inside the objective, as numpy reports it
            np.multiply(np.float64(1e300), np.float64(1e300))
        losses.append(result.loss)
        return result

    wrap_objective(monkeypatch, failing_evaluate)
    sae = SparseAutoencoderTransformer(n_components=4, random_state=0)
    with pytest.warns(
        ConvergenceWarning,
        match=r"^L-BFGS stopped after \d+ iteration\(s\): the objective was not "
        r"finite \(it overflowed\) at a trial point\. The model keeps the best "
        r"weights found so far\. The input data has values too large",
    ):
        sae.fit(X)
    # Eight evaluations by L-BFGS-B; the checks that look for the cause may
    # add some at the best weights.
    assert len(losses) >= 8
    assert sae.n_iter_ == len(sae.loss_curve_) >= 1
    assert sae.loss_ == min(losses[:8])
    assert np.isfinite(sae.loss_) and np.all(np.isfinite(sae.loss_curve_))
    for name in FITTED_ARRAYS:
        assert np.all(np.isfinite(getattr(sae, name)))
    loss, _ = loss_and_gradient(
        fitted_theta(sae), X, 4, rho=sae.rho, beta=sae.beta, alpha=sae.alpha_
    )
    assert sae.loss_ == pytest.approx(loss, rel=1e-12)


@ignore_convergence_warnings
@pytest.mark.parametrize("decoder_activation", ["sigmoid", "identity"])
@pytest.mark.parametrize("scale", [1e200, 1e300, -1e308])
def test_extreme_finite_data_saturates_without_numpy_warnings(
    decoder_activation, scale
):
    # RuntimeWarnings are errors in this suite: overflow inside the products
    # must neither warn nor turn into NaN.
    rng = np.random.RandomState(0)
    sae = SparseAutoencoderTransformer(
        n_components=3,
        decoder_activation=decoder_activation,
        max_iter=20,
        random_state=0,
    )
    sae.fit(rng.uniform(size=(40, 6)))
    X = np.full((2, 6), scale)
    X[1, ::2] *= -1  # mixed signs: positive and negative overflows meet
    codes = sae.transform(X)
    assert np.all((codes >= 0) & (codes <= 1))
    scores = sae.score_samples(X)
    assert not np.any(np.isnan(scores)) and np.all(scores <= 0)


@ignore_convergence_warnings
@pytest.mark.parametrize(
    "method, helper",
    [
        ("transform", "hidden_activations"),
        ("inverse_transform", "decode"),
        ("score_samples", "squared_reconstruction_error"),
    ],
)
def test_overflow_to_nan_raises_a_clear_error(method, helper, monkeypatch):
    rng = np.random.RandomState(0)
    sae = SparseAutoencoderTransformer(n_components=2, max_iter=5, random_state=0)
    sae.fit(rng.uniform(size=(30, 4)))
    X = (
        sae.transform(rng.uniform(size=(3, 4)))
        if method == "inverse_transform"
        else (rng.uniform(size=(3, 4)))
    )
    expected = getattr(sae, method)(X)
    assert not np.any(np.isnan(expected))

    # Which sums overflow into inf - inf depends on the BLAS kernel's blocking:
    # stand in for it with the same arithmetic, inside the method's numerics.
    def overflowing(*args, **kwargs):
        return np.full(expected.shape, np.inf) - np.inf

    monkeypatch.setattr(inference_module, helper, overflowing)
    with pytest.raises(ValueError, match=f"^{method} overflowed: X has values too"):
        getattr(sae, method)(X)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("penalty", ["beta", "alpha"])
def test_overflowing_penalty_is_named_not_the_data(penalty):
    X = np.random.RandomState(0).uniform(size=(30, 8)).astype(np.float32)
    sae = SparseAutoencoderTransformer(4, random_state=0, **{penalty: 1e40})
    with pytest.raises(ValueError, match=rf"The {penalty}=1e\+40 penalty is too large"):
        sae.fit(X)


@ignore_sparsity_missed
def test_huge_beta_in_float64_is_named_when_a_trial_point_overflows():
    X = np.random.RandomState(0).uniform(size=(30, 8))
    sae = SparseAutoencoderTransformer(4, beta=1e300, random_state=0)
    with pytest.warns(ConvergenceWarning, match=r"The beta=1e\+300 penalty is too"):
        sae.fit(X)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_nan_under_assume_finite_is_reported_as_nan():
    X = np.random.RandomState(0).uniform(size=(30, 8))
    X[3, 2] = np.nan
    with config_context(assume_finite=True):
        with pytest.raises(ValueError, match="Input X contains NaN or infinity"):
            SparseAutoencoderTransformer(4, random_state=0).fit(X)
