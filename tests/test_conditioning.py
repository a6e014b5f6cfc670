"""The change of L-BFGS-B's variables (``decoder_scaling``): only the path changes.

L-BFGS-B runs over ``u = theta / scale``; everything the estimator reports
(the loss, its curve, the held-out scores, the kept weights) is in the units
of the weights themselves.
"""

# SPDX-License-Identifier: BSD-3-Clause

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from skl_sparseae import (
    SparseAutoencoderOutlierDetector,
    SparseAutoencoderTransformer,
)
from skl_sparseae._backends._numpy import NumpyBackend
from skl_sparseae._base import _overflow_advice
from skl_sparseae._lbfgs import (
    OverflowCause,
    decoder_scale,
    in_scaled_variables,
    lbfgs_scale,
    overflow_cause,
)
from skl_sparseae._objective import Objective, initial_parameters, unpack

from ._helpers import (
    SPARSITY_MISSED,
    finite_difference_gradient,
    fitted_theta,
    ignore_convergence_warnings,
    ignore_sparsity_missed,
    objective_at_fitted_weights,
    relative_error,
    wrap_objective,
)

PARAMS = dict(n_components=4, rho=0.1, beta=2.0, alpha=1e-3, random_state=0)


@pytest.fixture(scope="module")
def X():
    return np.random.RandomState(0).uniform(size=(40, 8))


def test_lbfgs_scale_puts_the_factor_on_w2_only():
    d, h = 7, 3
    scale = lbfgs_scale("auto", 0.04, d, h, "sigmoid")
    W1, b1, W2, b2 = unpack(scale, d, h)
    assert np.all(W2 == 5.0)
    assert np.all(W1 == 1) and np.all(b1 == 1) and np.all(b2 == 1)
    np.testing.assert_array_equal(
        lbfgs_scale(3.0, 0.04, d, h, "sigmoid"), decoder_scale(d, h, 3.0)
    )
    assert lbfgs_scale(1.0, 0.1, d, h, "sigmoid") is None
    assert lbfgs_scale("auto", 1 - 1e-16, d, h, "sigmoid") is not None
    # The identity decoder's "auto" is no scaling.
    assert lbfgs_scale("auto", 0.04, d, h, "identity") is None
    np.testing.assert_array_equal(
        lbfgs_scale(3.0, 0.04, d, h, "identity"), decoder_scale(d, h, 3.0)
    )


@pytest.mark.parametrize("bad", [0, -1.0, "sqrt"])
def test_invalid_decoder_scaling_is_rejected(X, bad):
    with pytest.raises(ValueError, match="decoder_scaling"):
        SparseAutoencoderTransformer(decoder_scaling=bad, **PARAMS).fit(X)


def test_lbfgs_sees_the_scaled_variables_and_a_consistent_gradient(X):
    """Finite differences of what L-BFGS-B minimises: ``u -> J(scale * u)``."""
    d, h = X.shape[1], PARAMS["n_components"]
    scale = decoder_scale(d, h, 4.0)
    fun = in_scaled_variables(lambda theta: objective_at_weights(theta, X), scale)
    theta0 = SparseAutoencoderTransformer(**PARAMS)._initial_theta(
        d, h, np.random.RandomState(0)
    )
    u = theta0 / scale + np.random.RandomState(1).normal(scale=0.3, size=theta0.size)
    loss, gradient = fun(u)
    numeric = finite_difference_gradient(lambda v: fun(v)[0], u)
    assert relative_error(gradient, numeric) < 1e-7
    # u -> J(scale * u): the loss and gradient of the unscaled objective there.
    J, grad = objective_at_weights(scale * u, X)
    assert loss == pytest.approx(J, rel=1e-12)
    np.testing.assert_allclose(gradient, scale * grad, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("decoder_scaling", [4.0, 1.0])
def test_lbfgs_starts_from_the_scaled_initial_weights(X, monkeypatch, decoder_scaling):
    # L-BFGS-B starts from u0 = theta0 / scale, so the first weights
    # evaluated are scale * u0; a scaling of one is the plain path, theta0.
    evaluated = []

    def recording(objective, theta):
        evaluated.append(np.array(theta, copy=True))
        return objective(theta)

    wrap_objective(monkeypatch, recording)
    SparseAutoencoderTransformer(
        max_iter=3, tol=0, decoder_scaling=decoder_scaling, **PARAMS
    ).fit(X)
    d, h = X.shape[1], PARAMS["n_components"]
    theta0 = SparseAutoencoderTransformer(**PARAMS)._initial_theta(
        d, h, np.random.RandomState(0)
    )
    if decoder_scaling == 1.0:
        np.testing.assert_array_equal(evaluated[0], theta0)
    else:
        scale = decoder_scale(d, h, decoder_scaling)
        np.testing.assert_array_equal(evaluated[0], scale * (theta0 / scale))


def objective_at_weights(theta, X):
    from skl_sparseae._backends._numpy import loss_and_gradient

    return loss_and_gradient(
        theta,
        X,
        PARAMS["n_components"],
        rho=PARAMS["rho"],
        beta=PARAMS["beta"],
        alpha=PARAMS["alpha"],
        decoder_activation="sigmoid",
    )


@pytest.mark.parametrize("decoder_scaling", ["auto", 10.0, 0.5])
def test_reported_loss_is_the_unscaled_objective(X, decoder_scaling):
    sae = SparseAutoencoderTransformer(
        max_iter=25, tol=0, decoder_scaling=decoder_scaling, **PARAMS
    ).fit(X)
    J, _ = objective_at_fitted_weights(sae, X)
    assert sae.loss_ == pytest.approx(J, rel=1e-12)
    assert sae.loss_ == pytest.approx(sae.loss_curve_[-1], rel=1e-12)
    assert np.all(np.diff(sae.loss_curve_) <= 0)


def test_scaling_of_one_is_the_plain_path(X):
    d, h = X.shape[1], PARAMS["n_components"]
    assert lbfgs_scale(1.0, PARAMS["rho"], d, h, "sigmoid") is None
    assert lbfgs_scale("auto", PARAMS["rho"], d, h, "sigmoid") is not None
    one = SparseAutoencoderTransformer(
        max_iter=20, tol=0, decoder_scaling=1.0, **PARAMS
    ).fit(X)
    auto = SparseAutoencoderTransformer(
        max_iter=20, tol=0, decoder_scaling="auto", **PARAMS
    ).fit(X)
    assert one.loss_curve_ != auto.loss_curve_


@ignore_sparsity_missed
@pytest.mark.parametrize("decoder_scaling", ["auto", 10.0])
@pytest.mark.parametrize("max_iter", [1, 17])
def test_zero_tol_still_runs_exactly_max_iter(X, decoder_scaling, max_iter):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        sae = SparseAutoencoderTransformer(
            max_iter=max_iter, tol=0, decoder_scaling=decoder_scaling, **PARAMS
        ).fit(X)
    assert sae.n_iter_ == len(sae.loss_curve_) == max_iter


@ignore_convergence_warnings
def test_warm_start_continues_from_the_unscaled_weights(X, monkeypatch):
    sae = SparseAutoencoderTransformer(max_iter=15, warm_start=True, **PARAMS).fit(X)
    previous = fitted_theta(sae)
    previous_loss = sae.loss_
    evaluated = []

    def recording(objective, theta):
        evaluated.append(np.array(theta, copy=True))
        return objective(theta)

    wrap_objective(monkeypatch, recording)
    sae.fit(X)
    # The first evaluation is at the previous weights (up to the rounding
    # of theta / scale * scale), not at scaled ones.
    np.testing.assert_allclose(evaluated[0], previous, rtol=1e-15, atol=1e-300)
    assert sae.loss_curve_[0] <= previous_loss
    assert sae.loss_ < previous_loss


@ignore_convergence_warnings
@pytest.mark.parametrize(
    "Estimator", [SparseAutoencoderTransformer, SparseAutoencoderOutlierDetector]
)
def test_early_stopping_keeps_the_best_unscaled_weights(X, Estimator):
    sae = Estimator(
        early_stopping=True,
        validation_fraction=0.25,
        max_iter=40,
        decoder_scaling=5.0,
        **PARAMS,
    ).fit(X)
    assert len(sae.validation_scores_) == sae.n_iter_
    best = int(np.argmax(sae.validation_scores_))
    assert sae.best_validation_score_ == sae.validation_scores_[best]
    assert sae.loss_ == sae.loss_curve_[best]
    J, _ = objective_at_fitted_weights(sae, X[~held_out_mask(len(X), 0.25)])
    assert sae.loss_ == pytest.approx(J, rel=1e-12)


def held_out_mask(n, fraction):
    from sklearn.model_selection import train_test_split

    _, held_out = train_test_split(
        np.arange(n), test_size=fraction, random_state=np.random.RandomState(0)
    )
    mask = np.zeros(n, dtype=bool)
    mask[held_out] = True
    return mask


@ignore_sparsity_missed
@pytest.mark.parametrize("raise_at", [3, 12])
def test_interrupt_keeps_the_best_unscaled_weights(X, raise_at, monkeypatch):
    losses = []

    def interrupting(objective, theta):
        if len(losses) + 1 == raise_at:
            raise KeyboardInterrupt
        result = objective(theta)
        losses.append(result.loss)
        return result

    wrap_objective(monkeypatch, interrupting)
    sae = SparseAutoencoderTransformer(max_iter=40, decoder_scaling=10.0, **PARAMS)
    with pytest.warns(UserWarning, match="interrupted by the user"):
        sae.fit(X)
    assert sae.loss_ == min(losses)
    J, _ = objective_at_fitted_weights(sae, X)
    assert sae.loss_ == pytest.approx(J, rel=1e-12)


def test_auto_scaling_reaches_a_lower_objective_in_as_many_iterations():
    """What the change of variables is for, on digits with sparse codes."""
    X = load_digits().data[:400] / 16
    params = dict(n_components=32, rho=0.05, beta=3.0, tol=0, random_state=0)
    plain = SparseAutoencoderTransformer(max_iter=60, decoder_scaling=1.0, **params)
    scaled = SparseAutoencoderTransformer(max_iter=60, decoder_scaling="auto", **params)
    assert scaled.fit(X).loss_ < plain.fit(X).loss_


def test_an_overflowing_decoder_scaling_is_named_not_the_data(X):
    # Accepted, but its first step on W2 overflows: the data (in [0, 1])
    # are not at fault.
    sae = SparseAutoencoderTransformer(decoder_scaling=1e200, **PARAMS)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        sae.fit(X)
    (message,) = [
        str(w.message) for w in record if issubclass(w.category, ConvergenceWarning)
    ]
    # Before the fit, a warning names the factor's range.
    (extreme,) = [
        str(w.message)
        for w in record
        if w.category is UserWarning and not str(w.message).startswith(SPARSITY_MISSED)
    ]
    assert extreme.startswith("decoder_scaling=1e+200 ")
    assert "Scale X" not in extreme
    assert "Use a smaller decoder_scaling" in message
    assert "by 1e+200" in message
    assert "Scale X" not in message
    assert np.all(np.isfinite(sae.components_))


def test_a_decoder_step_that_overflows_is_put_down_to_the_scaling(X):
    # A trial point whose decoder weights alone are out of range, under a
    # factor whose gradient is still finite: the scaling is named, not the
    # penalties (the objective is not finite without them either) or X.
    d, h = X.shape[1], PARAMS["n_components"]
    objective = Objective(NumpyBackend(X, h, "sigmoid"), rho=0.1, beta=2.0, alpha=1e-3)
    last_finite = initial_parameters(d, h, np.random.RandomState(0))
    trial = last_finite.copy()
    unpack(trial, d, h)[2][:] *= 1e160
    cause = overflow_cause(objective, trial, last_finite, decoder_scale(d, h, 10.0))
    assert cause == OverflowCause("scale", 10.0)
    advice = _overflow_advice(cause, (0.0, 1.0))
    assert "decoder_scaling" in advice and "by 10" in advice
    # Without the change of variables the same point blames the data.
    cause = overflow_cause(objective, trial, last_finite)
    assert cause == OverflowCause("data")
    assert "Scale X" in _overflow_advice(cause, (0.0, 1.0))


@ignore_sparsity_missed
@ignore_convergence_warnings
@pytest.mark.parametrize(
    "decoder_scaling, ratio",
    [(1e-7, "1e-14"), (1e7, "1e+14"), (1e50, "1e+100"), (1e150, "1e+300")],
)
def test_a_decoder_scaling_beyond_the_arithmetic_is_named(X, decoder_scaling, ratio):
    # L-BFGS-B's steps along W2 are decoder_scaling**2 times those along the
    # other weights: beyond 1e12 either way, the shorter ones come near
    # float64's round-off and the weights they move stall. From about 1e20
    # the fit stops after one iteration: the line search shrinks the first
    # step (about decoder_scaling long along W2) to nothing, and L-BFGS-B's
    # relative-reduction test reads the unchanged objective as convergence.
    sae = SparseAutoencoderTransformer(
        max_iter=50, decoder_scaling=decoder_scaling, **PARAMS
    )
    with pytest.warns(UserWarning, match=r"^decoder_scaling=") as record:
        sae.fit(X)
    (message,) = [
        str(w.message)
        for w in record
        if w.category is UserWarning and not str(w.message).startswith(SPARSITY_MISSED)
    ]
    assert f"by about {ratio} " in message
    assert "between 1e-06 and 1e+06, such as 1 (the plain path)" in message
    assert "Scale X" not in message
    if decoder_scaling >= 1e50:
        assert sae.n_iter_ == 1  # the silent stop this warning explains


@ignore_sparsity_missed
@ignore_convergence_warnings
def test_auto_decoder_scaling_beyond_the_arithmetic_names_rho(X):
    params = dict(PARAMS, rho=1e-14)
    sae = SparseAutoencoderTransformer(max_iter=3, decoder_scaling="auto", **params)
    with pytest.warns(UserWarning, match=r"^decoder_scaling='auto' \(1 / sqrt\(rho\)"):
        sae.fit(X)


@pytest.mark.parametrize("decoder_scaling", [1e-6, 1e6, "auto", 1.0])
@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_decoder_scaling_within_the_arithmetic_does_not_warn(
    X, decoder_scaling, solver
):
    sae = SparseAutoencoderTransformer(
        solver=solver, max_iter=3, tol=0, decoder_scaling=decoder_scaling, **PARAMS
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        # Three iterations are far from rho, which is not this test's subject.
        warnings.filterwarnings("ignore", SPARSITY_MISSED, UserWarning)
        sae.fit(X)


def test_decoder_scaling_is_not_named_by_the_minibatch_solvers(X):
    # Only L-BFGS uses it.
    sae = SparseAutoencoderTransformer(
        solver="adam", max_iter=2, tol=0, decoder_scaling=1e50, **PARAMS
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        sae.fit(X)
