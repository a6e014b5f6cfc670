"""Interrupted and failed fits: work is never lost, state is never corrupt.

A KeyboardInterrupt during the optimisation keeps the best weights evaluated
so far as a valid fitted model; any other failure inside fit leaves the
estimator exactly as it was before the call.
"""

import pickle
import re
import signal
import threading
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from skl_sparseae import SparseAutoencoderOutlierDetector, SparseAutoencoderTransformer
from skl_sparseae._backends._numpy import NumpyBackend, NumpyPlacement
from skl_sparseae._base import _check_finite_solution
from skl_sparseae._optimizers import AdamOptimizer
from skl_sparseae._progress import Progress
from skl_sparseae._stopping import BestIterate

from ._helpers import (
    fitted_theta,
    ignore_convergence_warnings,
    ignore_sparsity_missed,
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
    monkeypatch.setattr(NumpyPlacement, "to_data", out_of_memory)
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
def test_non_finite_weights_from_a_solver_are_refused(bad):
    # The solvers never return non-finite weights (they keep the last
    # finite ones), and the estimator checks that before it publishes
    # anything; that a failure then leaves the previous fit intact is
    # test_failure_after_the_optimisation_leaves_the_previous_fit_intact.
    theta = np.zeros(5)
    _check_finite_solution(theta, 1.0)
    theta[3] = bad
    with pytest.raises(ValueError, match="Solver produced non-finite parameter"):
        _check_finite_solution(theta, 1.0)
    with pytest.raises(ValueError, match="Solver produced non-finite parameter"):
        _check_finite_solution(np.zeros(5), bad)


# --------------------------------------------------------------------------
# The minibatch solvers: an interrupt keeps the last completed step.

# 120 rows in batches of 20 in row order: 6 steps an epoch, and the first k
# steps of an epoch are those of a partial_fit on the first 20 * k rows.
# A fixed alpha: the references below fit fewer rows than the interrupted
# fits, and alpha="auto" would give them another weight decay.
MINIBATCH = dict(
    n_components=4,
    solver="adam",
    batch_size=20,
    shuffle=False,
    alpha=1e-3,
    random_state=0,
)


@pytest.fixture(scope="module")
def X_rows():
    return np.random.RandomState(1).uniform(size=(120, 8))


def _interrupt_at_step(monkeypatch, step, signal_inside_update=False):
    """Ctrl-C at minibatch step ``step``: raised before its update, or sent mid-update.

    The optimizer's update is the seam every step goes through. A real
    SIGINT sent inside the update (after Adam has counted the step, before
    it has moved the weights) tests that the step is finished first.
    """
    calls = []
    if signal_inside_update:
        original = AdamOptimizer._next_learning_rate

        def counting(self):
            original(self)
            calls.append(1)
            if len(calls) == step:
                signal.raise_signal(signal.SIGINT)

        monkeypatch.setattr(AdamOptimizer, "_next_learning_rate", counting)
    else:
        original = AdamOptimizer.update_params

        def interrupting(self, params, grads):
            calls.append(1)
            if len(calls) == step:
                raise KeyboardInterrupt
            return original(self, params, grads)

        monkeypatch.setattr(AdamOptimizer, "update_params", interrupting)


def _fit_keeping(estimator, method, X):
    """``estimator.method(X)``, failing the test (not the session) on an escape."""
    try:
        return getattr(estimator, method)(X)
    except KeyboardInterrupt:
        pytest.fail("the KeyboardInterrupt escaped the fit")


def _same_weights_and_state(interrupted, reference):
    np.testing.assert_array_equal(fitted_theta(interrupted), fitted_theta(reference))
    assert interrupted.t_ == reference.t_
    ours = interrupted._minibatch_state.optimizer
    theirs = reference._minibatch_state.optimizer
    assert ours.t == theirs.t
    np.testing.assert_array_equal(ours.first_moment, theirs.first_moment)
    np.testing.assert_array_equal(ours.second_moment, theirs.second_moment)


@pytest.mark.parametrize("call", ["fit", "first partial_fit", "later partial_fit"])
def test_an_interrupt_in_the_first_epoch_keeps_the_completed_steps(
    X_rows, call, monkeypatch
):
    X = X_rows
    # The reference: the same 2 steps, then the same state.
    reference = SparseAutoencoderTransformer(**MINIBATCH)
    sae = SparseAutoencoderTransformer(**MINIBATCH, max_iter=10, tol=0)
    if call == "later partial_fit":
        reference.partial_fit(X)
        sae.partial_fit(X)
    reference.partial_fit(X[:40])
    _interrupt_at_step(monkeypatch, 3)  # of this call
    with pytest.warns(UserWarning, match=re.escape("after 0 epoch(s)")):
        _fit_keeping(sae, "fit" if call == "fit" else "partial_fit", X)
    _same_weights_and_state(sae, reference)
    check_is_fitted(sae)
    assert np.all(np.isfinite(sae.transform(X)))
    if call == "later partial_fit":
        # No epoch of this call completed: n_iter_ and loss_ are the first's.
        assert sae.n_iter_ == 1 and sae.loss_curve_ == reference.loss_curve_[:1]
        assert sae.loss_ == reference.loss_curve_[0]
    else:
        assert sae.n_iter_ == 0 and sae.loss_curve_ == []
        # Before any epoch, loss_ is the mean loss of the steps completed.
        assert sae.loss_ == reference.loss_


@pytest.mark.parametrize("call", ["fit", "partial_fit"])
def test_an_interrupt_before_the_first_step_is_raised_again(X_rows, call, monkeypatch):
    # Nothing was done, so there is nothing to keep: the interrupt goes
    # through and the estimator is left as it was.
    sae = SparseAutoencoderTransformer(**MINIBATCH).partial_fit(X_rows)
    before = _state(sae)
    fresh = SparseAutoencoderTransformer(**MINIBATCH)

    def interrupting(self, params, grads):
        raise KeyboardInterrupt

    monkeypatch.setattr(AdamOptimizer, "update_params", interrupting)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        with pytest.raises(KeyboardInterrupt):
            getattr(fresh, call)(X_rows)
        with pytest.raises(KeyboardInterrupt):
            getattr(sae, call)(X_rows)
    assert vars(fresh) == vars(SparseAutoencoderTransformer(**MINIBATCH))
    if call == "partial_fit":
        assert _state(sae) == before


# Python delivers SIGINT as KeyboardInterrupt only to the main thread, under
# its default handler: only there can a test send a real Ctrl-C.
needs_sigint = pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread()
    or signal.getsignal(signal.SIGINT) is not signal.default_int_handler,
    reason="Python delivers SIGINT as KeyboardInterrupt only to the main "
    "thread, under its default handler",
)


@needs_sigint
def test_a_ctrl_c_during_an_update_is_held_until_the_step_ends(X_rows, monkeypatch):
    # A real SIGINT in the middle of step 9 (the third of the second epoch):
    # the step is completed, so the weights and Adam's state agree.
    X = X_rows
    reference = SparseAutoencoderTransformer(**MINIBATCH, max_iter=1, tol=0).fit(X)
    reference.partial_fit(X[:60])
    _interrupt_at_step(monkeypatch, 9, signal_inside_update=True)
    sae = SparseAutoencoderTransformer(**MINIBATCH, max_iter=10, tol=0)
    with pytest.warns(UserWarning, match=re.escape("after 1 epoch(s)")):
        _fit_keeping(sae, "fit", X)
    _same_weights_and_state(sae, reference)
    assert sae.n_iter_ == 1
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


class _InterruptedHeldOutScore(SparseAutoencoderTransformer):
    """Ctrl-C during the third held-out scoring (the third epoch's)."""

    def _held_out_scorer(self, *args, **kwargs):
        score = super()._held_out_scorer(*args, **kwargs)
        calls = []

        def interrupting(theta):
            calls.append(1)
            if len(calls) == 3:
                raise KeyboardInterrupt
            return score(theta)

        return interrupting


@ignore_sparsity_missed
@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_an_interrupt_while_scoring_keeps_the_scored_epochs(X_rows, solver):
    params = dict(MINIBATCH, solver=solver, early_stopping=True, shuffle=True, tol=0)
    reference = SparseAutoencoderTransformer(max_iter=2, **params).fit(X_rows)
    sae = _InterruptedHeldOutScore(max_iter=10, **params)
    with pytest.warns(UserWarning, match="held-out score"):
        _fit_keeping(sae, "fit", X_rows)
    # Two epochs (iterations) were scored: their record, and the better
    # one's weights. The third, whose scoring was interrupted, is not counted.
    assert sae.n_iter_ == len(sae.validation_scores_) == 2
    assert sae.loss_curve_ == reference.loss_curve_
    assert sae.validation_scores_ == reference.validation_scores_
    assert sae.best_validation_score_ == reference.best_validation_score_
    np.testing.assert_array_equal(fitted_theta(sae), fitted_theta(reference))


@needs_sigint
def test_a_ctrl_c_while_lbfgs_records_an_iteration_is_held_until_it_is_recorded(
    X_rows, monkeypatch
):
    # A real SIGINT as the third iteration's held-out score is recorded: the
    # record is finished first, so the third iteration counts whole, its
    # weights included.
    params = dict(n_components=4, early_stopping=True, tol=0, random_state=0)
    reference = SparseAutoencoderTransformer(max_iter=3, **params).fit(X_rows)
    assert reference.validation_scores_[2] == reference.best_validation_score_
    original = BestIterate.offer
    scored = []

    def offer(self, theta, value, **details):
        if "loss" in details:  # a held-out score's offer, not an evaluation's
            scored.append(1)
            if len(scored) == 3:
                signal.raise_signal(signal.SIGINT)
        return original(self, theta, value, **details)

    monkeypatch.setattr(BestIterate, "offer", offer)
    sae = SparseAutoencoderTransformer(max_iter=10, **params)
    with pytest.warns(UserWarning, match=re.escape("after 3 iteration(s)")):
        _fit_keeping(sae, "fit", X_rows)
    assert sae.n_iter_ == len(sae.validation_scores_) == 3
    assert sae.validation_scores_ == reference.validation_scores_
    np.testing.assert_array_equal(fitted_theta(sae), fitted_theta(reference))
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_an_interrupt_in_a_progress_line_keeps_its_epoch(X_rows, monkeypatch, capsys):
    params = dict(MINIBATCH, shuffle=True, tol=0)
    reference = SparseAutoencoderTransformer(max_iter=3, **params).fit(X_rows)
    original = Progress.iteration
    lines = []

    def interrupt_on_third(self, *args, **kwargs):
        lines.append(1)
        if len(lines) == 3:
            raise KeyboardInterrupt
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Progress, "iteration", interrupt_on_third)
    sae = SparseAutoencoderTransformer(max_iter=10, verbose=2, **params)
    with pytest.warns(UserWarning, match=re.escape("after 3 epoch(s)")):
        _fit_keeping(sae, "fit", X_rows)
    # The third epoch was recorded before its line was printed.
    assert sae.n_iter_ == 3 and sae.loss_curve_ == reference.loss_curve_
    np.testing.assert_array_equal(fitted_theta(sae), fitted_theta(reference))
    assert "Stopped after 3 epochs" in capsys.readouterr().out


def test_the_interrupt_warning_names_the_callers_line(X_rows, monkeypatch):
    sae = SparseAutoencoderTransformer(**MINIBATCH)
    _interrupt_at_step(monkeypatch, 3)
    with pytest.warns(UserWarning, match="interrupted") as record:
        _fit_keeping(sae, "partial_fit", X_rows)
    assert record[0].filename == __file__


# --------------------------------------------------------------------------
# After the solver's last step: the passes over X that complete the model.

AFTER_THE_SOLVER = "Training interrupted by the user after the solver's last step"


def _ctrl_c_on_call(monkeypatch, owner, name, armed=lambda: True):
    """A real SIGINT as ``owner.name`` starts, whenever ``armed()`` says so."""
    original = getattr(owner, name)

    def interrupting(*args, **kwargs):
        if armed():
            signal.raise_signal(signal.SIGINT)
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, interrupting)


def _assert_same_fit(fitted, reference):
    np.testing.assert_array_equal(fitted_theta(fitted), fitted_theta(reference))
    np.testing.assert_array_equal(fitted.mean_activation_, reference.mean_activation_)
    assert fitted.n_iter_ == reference.n_iter_
    assert fitted.loss_curve_ == reference.loss_curve_
    assert fitted.loss_ == reference.loss_
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


@needs_sigint
@pytest.mark.parametrize(
    "solver, method",
    [("lbfgs", "fit"), ("adam", "fit"), ("sgd", "fit"), ("adam", "partial_fit")],
)
def test_a_ctrl_c_while_the_mean_activations_are_measured_keeps_the_fit(
    X_rows, solver, method, monkeypatch
):
    # The mean activations are measured in a pass over X after the solver's
    # last step: that pass is finished, and the fit kept, with a warning.
    params = dict(n_components=4, solver=solver, max_iter=3, tol=0, random_state=0)
    reference = getattr(SparseAutoencoderTransformer(**params), method)(X_rows)
    if solver == "lbfgs":
        # The evaluations measure the activations too: only the pass after
        # the solver, outside every evaluation, is interrupted.
        evaluating = []

        def marking_evaluate(objective, theta):
            evaluating.append(1)
            try:
                return objective(theta)
            finally:
                evaluating.pop()

        wrap_objective(monkeypatch, marking_evaluate)
        _ctrl_c_on_call(
            monkeypatch, NumpyBackend, "activation_sums", lambda: not evaluating
        )
    else:
        _ctrl_c_on_call(monkeypatch, NumpyPlacement, "mean_activation")
    sae = SparseAutoencoderTransformer(**params)
    with pytest.warns(
        UserWarning, match=AFTER_THE_SOLVER + ", while the mean"
    ) as record:
        _fit_keeping(sae, method, X_rows)
    _assert_same_fit(sae, reference)
    (interrupted,) = [w for w in record if AFTER_THE_SOLVER in str(w.message)]
    assert interrupted.filename == __file__


@needs_sigint
def test_a_ctrl_c_while_the_saturation_is_checked_keeps_the_fit(X_rows, monkeypatch):
    params = dict(n_components=4, max_iter=3, tol=0, random_state=0)
    reference = SparseAutoencoderTransformer(**params).fit(X_rows)
    _ctrl_c_on_call(monkeypatch, NumpyPlacement, "first_rows")
    sae = SparseAutoencoderTransformer(**params)
    with pytest.warns(UserWarning, match=AFTER_THE_SOLVER + ", while the hidden"):
        _fit_keeping(sae, "fit", X_rows)
    _assert_same_fit(sae, reference)


@needs_sigint
def test_a_ctrl_c_while_the_detector_scores_its_training_rows_keeps_the_fit(
    X_rows, monkeypatch
):
    params = dict(n_components=4, max_iter=3, tol=0, random_state=0)
    reference = SparseAutoencoderOutlierDetector(**params).fit(X_rows)
    _ctrl_c_on_call(
        monkeypatch, SparseAutoencoderOutlierDetector, "_reconstruction_scores"
    )
    detector = SparseAutoencoderOutlierDetector(**params)
    with pytest.warns(UserWarning, match=AFTER_THE_SOLVER + ", while the training"):
        _fit_keeping(detector, "fit", X_rows)
    _assert_same_fit(detector, reference)
    assert detector.offset_ == reference.offset_
