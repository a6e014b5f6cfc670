"""Interrupted and failed fits: work is never lost, state is never corrupt.

A KeyboardInterrupt during the optimisation keeps the best weights evaluated
so far as a valid fitted model; any other failure inside fit leaves the
estimator exactly as it was before the call.
"""

import pickle
import re
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from skl_sparseae import SparseAutoencoderTransformer
from skl_sparseae._lbfgs import LBFGSResult
from skl_sparseae._placement import Placement
from skl_sparseae._progress import Progress

from ._helpers import (
    ignore_convergence_warnings,
    objective_at_fitted_weights,
    wrap_objective,
)

# The complete fits that the interrupted ones are compared with stop on
# max_iter on purpose.
pytestmark = ignore_convergence_warnings

PARAMS = dict(n_components=4, rho=0.1, beta=2.0, alpha=1e-3, random_state=0)
INTERRUPTED = "Training interrupted by the user after"


@pytest.fixture(scope="module")
def X():
    return np.random.RandomState(0).uniform(size=(30, 8))


def _patch_objective(monkeypatch, raise_at=None, error=KeyboardInterrupt):
    """Make fit's objective record its losses and raise on evaluation ``raise_at``.

    Returns the list the losses are appended to.
    """
    losses = []

    def recording_evaluate(objective, theta):
        if len(losses) + 1 == raise_at:
            raise error()
        result = objective(theta)
        losses.append(result.loss)
        return result

    wrap_objective(monkeypatch, recording_evaluate)
    return losses


def _state(estimator):
    """Everything the estimator holds, to compare bit for bit."""
    return pickle.dumps(vars(estimator), protocol=pickle.HIGHEST_PROTOCOL)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("raise_at", [5, 20])
def test_keyboard_interrupt_keeps_the_best_weights(X, dtype, raise_at, monkeypatch):
    X = X.astype(dtype)
    full = SparseAutoencoderTransformer(max_iter=40, **PARAMS).fit(X)

    losses = _patch_objective(monkeypatch, raise_at=raise_at)
    sae = SparseAutoencoderTransformer(max_iter=40, **PARAMS)
    with pytest.warns(UserWarning, match=INTERRUPTED) as record:
        sae.fit(X)
    assert len(losses) == raise_at - 1

    # A valid fitted model ...
    check_is_fitted(sae)
    assert sae.n_features_in_ == X.shape[1]
    for name in ["components_", "intercept_hidden_", "decoder_components_"]:
        assert getattr(sae, name).dtype == dtype
        assert np.all(np.isfinite(getattr(sae, name)))
    codes = sae.transform(X)
    assert codes.shape == (X.shape[0], 4)
    np.testing.assert_allclose(
        sae.mean_activation_,
        codes.mean(axis=0),
        rtol=1e-5 if dtype is np.float32 else 1e-12,
    )
    # ... that reports what was done ...
    n_iter = sae.n_iter_
    assert n_iter == len(sae.loss_curve_) >= 1
    assert sae.loss_curve_ == full.loss_curve_[:n_iter]
    assert f"after {n_iter} iteration(s)" in str(record[0].message)
    # ... and keeps the best weights evaluated, not merely the last iterate.
    assert sae.loss_ == min(losses)
    assert sae.loss_ <= sae.loss_curve_[-1]
    if dtype is np.float64:
        assert sae.loss_ == pytest.approx(objective_at_fitted_weights(sae, X)[0])


def test_keyboard_interrupt_from_the_callback(X, monkeypatch):
    full = SparseAutoencoderTransformer(max_iter=40, **PARAMS).fit(X)
    printed = []

    def interrupt_on_third(self, iteration, loss, **details):
        printed.append(iteration)
        if iteration == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(Progress, "iteration", interrupt_on_third)
    sae = SparseAutoencoderTransformer(max_iter=40, verbose=2, **PARAMS)
    with pytest.warns(UserWarning, match=re.escape(f"{INTERRUPTED} 3 iteration(s)")):
        sae.fit(X)
    assert printed == [1, 2, 3]
    assert sae.n_iter_ == 3
    assert sae.loss_curve_ == full.loss_curve_[:3]
    assert sae.loss_ == pytest.approx(sae.loss_curve_[-1], rel=1e-12)
    assert sae.loss_ == pytest.approx(objective_at_fitted_weights(sae, X)[0])


def test_warm_start_resumes_an_interrupted_fit(X, monkeypatch):
    with monkeypatch.context() as patch:
        _patch_objective(patch, raise_at=15)
        sae = SparseAutoencoderTransformer(max_iter=40, warm_start=True, **PARAMS)
        with pytest.warns(UserWarning, match=INTERRUPTED):
            sae.fit(X)
    interrupted_loss = sae.loss_
    sae.fit(X)
    # the second fit starts from the weights the interrupted one kept
    assert sae.loss_curve_[0] <= interrupted_loss
    assert sae.loss_ < interrupted_loss


def test_interrupt_before_any_evaluation_propagates(X, monkeypatch):
    # Nothing was computed, so there is nothing to keep: the interrupt goes
    # through and the estimator is left as it was.
    previous = SparseAutoencoderTransformer(max_iter=5, **PARAMS).fit(X)
    before = _state(previous)
    fresh = SparseAutoencoderTransformer(max_iter=5, **PARAMS)
    _patch_objective(monkeypatch, raise_at=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        with pytest.raises(KeyboardInterrupt):
            previous.fit(X[:, :6])
        with pytest.raises(KeyboardInterrupt):
            fresh.fit(X)
    assert _state(previous) == before
    with pytest.raises(NotFittedError):
        fresh.transform(X)
    assert vars(fresh) == vars(SparseAutoencoderTransformer(max_iter=5, **PARAMS))


@pytest.mark.parametrize("error", [RuntimeError, MemoryError, KeyboardInterrupt])
@pytest.mark.parametrize("new_data", ["same", "other-features", "sparse"])
def test_failure_mid_fit_leaves_the_previous_fit_intact(
    X, error, new_data, monkeypatch
):
    sae = SparseAutoencoderTransformer(max_iter=10, **PARAMS).fit(X)
    before = _state(sae)
    codes = sae.transform(X)
    X_new = {
        "same": X,
        "other-features": X[:, :6],
        "sparse": sp.csr_matrix(np.where(X > 0.5, X, 0.0)),
    }[new_data]
    # a KeyboardInterrupt on the first evaluation has nothing to keep
    _patch_objective(
        monkeypatch, raise_at=1 if error is KeyboardInterrupt else 4, error=error
    )
    with pytest.raises(error):
        sae.fit(X_new)
    assert _state(sae) == before
    np.testing.assert_array_equal(sae.transform(X), codes)


def test_failure_mid_fit_restores_feature_names(X, monkeypatch):
    pd = pytest.importorskip("pandas")
    named = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    sae = SparseAutoencoderTransformer(max_iter=5, **PARAMS).fit(named)
    unnamed = SparseAutoencoderTransformer(max_iter=5, **PARAMS).fit(X)
    before, before_unnamed = _state(sae), _state(unnamed)
    _patch_objective(monkeypatch, raise_at=3, error=RuntimeError)
    with pytest.raises(RuntimeError):
        sae.fit(X[:, :6])  # no feature names, other width
    assert _state(sae) == before
    assert list(sae.feature_names_in_) == list(named.columns)
    with pytest.raises(RuntimeError):
        unnamed.fit(named.iloc[:, :6])
    assert _state(unnamed) == before_unnamed
    assert not hasattr(unnamed, "feature_names_in_")


def test_failure_after_the_optimisation_leaves_the_previous_fit_intact(X, monkeypatch):
    sae = SparseAutoencoderTransformer(max_iter=5, **PARAMS).fit(X)
    before = _state(sae)

    def out_of_memory(*args, **kwargs):
        raise MemoryError

    # the last step of a fit, after the optimisation
    monkeypatch.setattr(Placement, "to_data", out_of_memory)
    with pytest.raises(MemoryError):
        sae.fit(X[:, :6])
    assert _state(sae) == before


def test_first_fit_that_fails_leaves_an_unfitted_estimator(X, monkeypatch):
    sae = SparseAutoencoderTransformer(max_iter=5, **PARAMS)
    pristine = _state(sae)
    _patch_objective(monkeypatch, raise_at=3, error=RuntimeError)
    with pytest.raises(RuntimeError):
        sae.fit(X)
    assert _state(sae) == pristine
    with pytest.raises(NotFittedError):
        sae.transform(X)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_weights_raise_and_keep_no_corrupt_state(X, bad, monkeypatch):
    sae = SparseAutoencoderTransformer(max_iter=5, **PARAMS).fit(X)
    before = _state(sae)

    def diverging(
        self, objective, theta0, held_out_score, value_range, progress, scale
    ):
        theta = theta0.copy()
        theta[3] = bad
        return LBFGSResult(theta, 1.0, [1.0], 1, [], "diverged")

    monkeypatch.setattr(SparseAutoencoderTransformer, "_run_solver", diverging)
    with pytest.raises(
        ValueError, match="Solver produced non-finite parameter weights"
    ):
        sae.fit(X)
    assert _state(sae) == before
