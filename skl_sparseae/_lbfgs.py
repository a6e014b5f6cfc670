"""Full-batch L-BFGS: scipy's L-BFGS-B over the flattened weights.

:func:`minimize_lbfgs` is handed the objective (a callable from the
parameter vector to an :class:`~skl_sparseae._objective.Evaluation`), the
stopping rule's settings and, optionally, a held-out score and a progress
callback. It knows nothing of estimators or of where the data lives, so a
test can hand it any objective: count its evaluations, interrupt it, or
make it overflow.

Every evaluation runs under :func:`numpy.errstate` with overflow, invalid
values and division by zero raised, and its result is checked: NaN never
reaches the weights. A non-finite objective stops the optimisation, with the
best weights evaluated so far (none at the initial weights), and the result
says what overflowed (:class:`OverflowCause`): a penalty too large for the
arithmetic, the change of variables ``scale``, or the data. As with
scikit-learn's ``_check_optimize_result``, the result carries a status and
the estimator words the warning or the error.
"""

# SPDX-License-Identifier: BSD-3-Clause

from typing import NamedTuple

import numpy as np
import scipy.optimize

from . import _blas
from ._minibatch import InterruptGuard
from ._stopping import BestIterate, FitHistory
from ._user_warnings import warn

# L-BFGS-B's gradient test uses tol / 10: with the gradient test at tol
# itself, fits on [0, 1] data stopped before their features had settled.
GTOL_PER_TOL = 0.1

# scipy's default relative-reduction tolerance of L-BFGS-B (its ``ftol``).
LBFGS_DEFAULT_FTOL = 2.2204460492503131e-09


class _NonFiniteObjective(Exception):
    """The objective was not finite at ``theta``, a point L-BFGS-B asked for."""

    def __init__(self, theta):
        super().__init__()
        self.theta = theta


class _LatestEvaluation:
    """The latest evaluation and its weights, for the per-iteration callback."""

    def __init__(self):
        self.theta = self.evaluation = None

    def record(self, theta, evaluation):
        # scipy may reuse the buffer behind ``theta``: keep a copy.
        self.theta = np.array(theta, copy=True)
        self.evaluation = evaluation

    def at(self, theta, evaluate):
        """The evaluation at ``theta``: ``evaluate(theta)`` first unless the latest."""
        if not np.array_equal(self.theta, theta):
            evaluate(theta)
        return self.evaluation


class OverflowCause(NamedTuple):
    """What made the objective overflow (see :func:`overflow_cause`).

    ``culprit`` is ``"beta"`` or ``"alpha"`` (that penalty, of value
    ``value``, is too large for ``dtype`` arithmetic), ``"scale"`` (the
    change of variables, whose largest factor is ``value``) or ``"data"``.
    """

    culprit: str
    value: float | None = None
    dtype: np.dtype | None = None


class LBFGSResult(NamedTuple):
    """What :func:`minimize_lbfgs` returns to the estimator.

    ``status`` says how the run ended, for the caller to word:

    - ``"done"``: a stopping test fired (L-BFGS-B's own, or the
      no-improvement rule), or a budget ran out once the objective had
      stopped improving by more than ``tol`` (or under ``tol=0``);
    - ``"max_iter"``, ``"max_fun"``, ``"line_search"``: that budget ran out,
      or the line search failed (scipy's ``message`` says how), while the
      objective still improved by more than ``tol``;
    - ``"overflow"``: the objective was not finite at a point L-BFGS-B asked
      for; ``overflow`` says why. ``theta`` is None when that point was the
      first (there are no weights to keep);
    - ``"interrupted"``: a KeyboardInterrupt, after a warning.
    """

    theta: np.ndarray | None
    loss: float
    loss_curve: list
    n_iter: int
    validation_scores: list
    stop_reason: str
    status: str = "done"
    message: str = ""
    overflow: OverflowCause | None = None


def finite_evaluation(objective, theta):
    """The evaluation at ``theta``, or None where it overflows or is not finite.

    Overflow, invalid values and division by zero raise inside it, so NaN
    never reaches the caller.
    """
    try:
        with (
            np.errstate(over="raise", invalid="raise", divide="raise"),
            _blas.one_thread(),
        ):
            result = objective(theta)
            finite = np.isfinite(result.loss) and np.all(np.isfinite(result.gradient))
    except FloatingPointError:
        return None
    return result if finite else None


def _dominates(objective, theta, without):
    """Whether the gradient of ``objective`` dwarfs the one ``without`` a penalty."""
    with np.errstate(all="ignore"), _blas.one_thread():
        full = objective(theta).gradient
        rest = without(theta).gradient
    scale = 1.0 / np.sqrt(np.finfo(objective.dtype).eps)
    return bool(np.max(np.abs(full)) > scale * max(np.max(np.abs(rest)), 1e-300))


def _scaling_overflows(objective, theta, last_finite, scale):
    """Whether the change of variables ``scale`` made L-BFGS-B overflow at ``theta``.

    Either L-BFGS-B's own gradient, ``scale * grad J`` at the last finite
    point, is beyond float64 (its norm overflows, and so does the step), or
    the objective is finite at ``theta`` once the scaled weights are put
    back to the last finite point (their step, ``scale`` times larger than
    the others', overflowed).
    """
    evaluation = finite_evaluation(objective, last_finite)
    if evaluation is None:
        return False
    with np.errstate(over="ignore", invalid="ignore"):
        scaled_gradient = scale * evaluation.gradient
        norm = float(np.dot(scaled_gradient, scaled_gradient))
    if not np.isfinite(norm):
        return True
    reset = np.where(scale != 1, last_finite, theta)
    return bool(np.all(np.isfinite(theta))) and (
        finite_evaluation(objective, reset) is not None
    )


def overflow_cause(objective, theta, last_finite, scale=None):
    """Why the objective overflowed at ``theta``: an :class:`OverflowCause`.

    A penalty is at fault when the objective is finite without it at
    ``theta``, or when, at the last finite point, it outweighs the rest of
    the gradient by more than the working precision can carry (its step
    then throws L-BFGS-B to a point where nothing is finite). The change of
    variables ``scale`` (see :func:`minimize_lbfgs`) is at fault when the
    objective is finite at ``theta`` with its scaled weights put back to
    the last finite point, or when L-BFGS-B's own gradient ``scale * grad J``
    overflows there. Otherwise the data is at fault.

    ``objective`` has ``params`` (rho, beta, alpha), ``dtype`` and
    ``without(penalty)`` (see :class:`~skl_sparseae._objective.Objective`).
    """
    reproducible = finite_evaluation(objective, theta) is None
    for penalty in ("beta", "alpha"):
        value = objective.params[penalty]
        if value == 0:
            continue
        without = objective.without(penalty)
        if (reproducible and finite_evaluation(without, theta) is not None) or (
            last_finite is not None and _dominates(objective, last_finite, without)
        ):
            return OverflowCause(penalty, value, objective.dtype)
    if (
        scale is not None
        and last_finite is not None
        and _scaling_overflows(objective, theta, last_finite, scale)
    ):
        return OverflowCause("scale", float(np.max(scale[scale != 1])))
    return OverflowCause("data")


def _scipy_stop_reason(result, n_iter, max_iter, max_fun):
    """Why L-BFGS-B itself stopped, in words."""
    message = str(result.message)
    if result.status == 0 and "PROJECTED GRADIENT" in message:
        return "the largest projected gradient component fell below tol / 10"
    if result.status == 0:
        return "the objective's relative reduction fell below L-BFGS-B's ftol"
    if result.status == 1 and n_iter >= max_iter:
        return f"reached max_iter={max_iter}"
    if result.status == 1:
        return f"reached max_fun={max_fun} objective evaluations"
    return f"the line search failed ({message.strip()})"


def decoder_scale(n_features, n_components, factor):
    """The ``scale`` of :func:`minimize_lbfgs`: ``factor`` on W2, 1 elsewhere.

    In the order of :func:`~skl_sparseae._objective.pack`: W1, b1, W2, b2.
    """
    d, h = n_features, n_components
    scale = np.ones(2 * d * h + d + h)
    scale[d * h + h : 2 * d * h + h] = factor
    return scale


def decoder_scaling_factor(decoder_scaling, rho, decoder_activation):
    """The factor that ``decoder_scaling`` names.

    ``"auto"`` is ``1 / sqrt(rho)`` for the sigmoid decoder: under codes of
    mean activation ``rho`` the curvature of J along a row of W2 (the mean
    of the squared activations, at most ``rho``) is about ``rho`` times
    that along W1. The identity decoder gains nothing from it (its fits
    take more iterations), so "auto" is 1 there.
    """
    if decoder_scaling != "auto":
        return decoder_scaling
    return 1 / np.sqrt(rho) if decoder_activation == "sigmoid" else 1.0


def lbfgs_scale(decoder_scaling, rho, n_features, n_components, decoder_activation):
    """The ``scale`` of :func:`minimize_lbfgs` for the estimators' ``decoder_scaling``.

    See :func:`decoder_scaling_factor`; a factor of 1 is no change of
    variables (None).
    """
    factor = decoder_scaling_factor(decoder_scaling, rho, decoder_activation)
    if factor == 1:
        return None
    return decoder_scale(n_features, n_components, factor)


def in_scaled_variables(fun, scale):
    """``u -> (J(scale * u), scale * grad J(scale * u))`` for ``fun = (J, grad J)``.

    What L-BFGS-B minimises under ``scale`` (``fun`` itself for None).
    """
    if scale is None:
        return fun

    def scaled(u):
        loss, gradient = fun(scale * u)
        return loss, scale * gradient

    return scaled


def minimize_lbfgs(
    objective,
    theta0,
    *,
    max_iter,
    max_fun,
    tol,
    n_iter_no_change,
    held_out_score=None,
    on_iteration=None,
    scale=None,
):
    """Run L-BFGS-B on ``objective`` from ``theta0``; return an :class:`LBFGSResult`.

    Stops at the first of: L-BFGS-B's own tests (the projected gradient
    below ``tol / 10``), ``n_iter_no_change`` iterations in a row that
    improve the objective (or, with ``held_out_score(theta)``, the held-out
    score) by less than ``tol`` relatively, ``max_iter`` iterations or
    ``max_fun`` evaluations. With a held-out score the weights of the best
    score are kept.

    ``objective`` has ``params`` (rho, beta, alpha), ``dtype`` and
    ``without(penalty)``, used only to say why it overflowed (see
    :func:`overflow_cause`). ``on_iteration(iteration,
    theta, loss, validation_score, evaluation_at_iterate)`` is called after
    each iteration with the iterate (a buffer scipy reuses: copy it to keep
    it), its loss, the held-out score (None without a held-out set) and a
    function that returns the evaluation at the iterate, evaluating again
    only when the latest evaluation was elsewhere. The result's ``status``
    says whether the run converged, ran out of budget while improving,
    overflowed or was interrupted (see :class:`LBFGSResult`); nothing but
    an interrupt is warned about here.

    A KeyboardInterrupt stops the optimisation and keeps the best weights
    evaluated so far (with a held-out score, those of the best-scored
    iteration), with a warning, so that a long fit is never lost;
    ``n_iter``, ``loss_curve`` and ``validation_scores`` then describe the
    completed iterations, an iteration being complete once it is scored.
    An interrupt before the first evaluation has nothing to keep and is
    re-raised.

    ``scale``, a positive vector of ``theta0``'s length (None for ones),
    changes L-BFGS-B's variables to ``u = theta / scale``: it minimises
    ``u -> J(scale * u)``, whose gradient is ``scale * grad J``. Its first
    steps follow ``-scale**2 * grad J`` instead of ``-grad J``, so that
    blocks of weights with a small curvature (the decoder's, under sparse
    codes) take steps of their own size from the first iteration. Only
    L-BFGS-B's path changes: the objective is evaluated at ``theta``, and
    the loss curve, the held-out score, ``on_iteration``, the best weights
    and the result are in ``theta``'s units. L-BFGS-B's projected-gradient
    test then reads ``scale * grad J``.
    """
    if scale is not None:
        scale = np.asarray(scale, dtype=np.float64)
        if scale.shape != np.shape(theta0) or not np.all(scale > 0):
            raise ValueError("scale must be a positive vector of theta0's shape.")

    def to_theta(u):
        return u if scale is None else scale * u

    history = FitHistory(tol, n_iter_no_change)
    loss_curve, validation_scores = history.loss_curve, history.validation_scores
    best_held_out, progress = history.best_held_out, history.rule
    best_loss = BestIterate()
    latest = _LatestEvaluation()
    guard = InterruptGuard()

    def fun_theta(theta):
        result = finite_evaluation(objective, theta)
        if result is None:
            raise _NonFiniteObjective(np.array(theta, copy=True))
        loss = float(result.loss)
        best_loss.offer(theta, loss)
        if on_iteration is not None:
            latest.record(theta, result)
        return loss, result.gradient

    fun = in_scaled_variables(fun_theta, scale)

    def callback(intermediate_result):
        theta = to_theta(intermediate_result.x)
        loss = float(intermediate_result.fun)
        # Scored before anything is recorded, and recorded whole: an
        # interrupt leaves an iteration counted with its score or not at
        # all, so that n_iter_ is len(validation_scores_).
        score = None if held_out_score is None else held_out_score(theta)
        with guard.held():
            history.record(loss, score, theta)
        if on_iteration is not None:

            def evaluation_at_iterate():
                return latest.at(theta, fun_theta)

            on_iteration(
                len(loss_curve),
                theta,
                loss_curve[-1],
                score,
                evaluation_at_iterate,
            )
        if progress.should_stop:
            raise StopIteration

    status, message, cause = "done", "", None
    try:
        # L-BFGS-B's own vector operations are tiny: a multi-threaded BLAS
        # only spins on them, and splitting them over threads would make
        # the result depend on the number of cores.
        with _blas.one_thread(), guard:
            result = scipy.optimize.minimize(
                fun,
                theta0 if scale is None else theta0 / scale,
                method="L-BFGS-B",
                jac=True,
                callback=callback,
                options={
                    "maxiter": max_iter,
                    "maxfun": max_fun,
                    "gtol": tol * GTOL_PER_TOL,
                    # tol=0 asks for a fixed budget: no relative-reduction
                    # test either.
                    "ftol": 0.0 if tol == 0 else LBFGS_DEFAULT_FTOL,
                },
            )
        theta, loss, stop = to_theta(result.x), float(result.fun), result
    except _NonFiniteObjective as overflow:
        status = "overflow"
        cause = overflow_cause(objective, overflow.theta, best_loss.theta, scale)
        if not best_loss.found:
            return LBFGSResult(
                None,
                float("nan"),
                [],
                0,
                [],
                "the objective overflowed at the initial weights",
                status,
                overflow=cause,
            )
        theta, loss, stop = best_loss.theta, best_loss.value, None
        reason = "the objective overflowed at a trial point"
    except KeyboardInterrupt:
        if not best_loss.found:
            # Nothing was computed yet: there is no work to keep.
            raise
        kept = (
            "the weights of the iteration with the best held-out score"
            if best_held_out.found
            else "the best weights found so far"
        )
        warn(
            f"Training interrupted by the user after {len(loss_curve)} "
            f"iteration(s); the model keeps {kept}.",
            UserWarning,
        )
        theta, loss, stop = best_loss.theta, best_loss.value, None
        reason, status = "interrupted by the user", "interrupted"

    n_iter = min(len(loss_curve), max_iter)
    if stop is not None:
        if progress.should_stop:
            watched = "objective" if held_out_score is None else "held-out score"
            reason = (
                f"the {watched} improved by less than tol={tol} (relative) for "
                f"{n_iter_no_change} consecutive iterations"
            )
        else:
            reason = _scipy_stop_reason(stop, n_iter, max_iter, max_fun)
        # A fit the no-progress rule stopped ends with status 99
        # (StopIteration from the callback); 1 and 2 are a budget or a failed
        # line search.
        if stop.status in (1, 2) and tol > 0 and progress.still_improving:
            if stop.status == 2:
                status = "line_search"
            else:
                status = "max_iter" if n_iter >= max_iter else "max_fun"
            message = str(stop.message)
    if best_held_out.found:
        theta, loss = best_held_out.theta, best_held_out.details["loss"]
    return LBFGSResult(
        theta,
        loss,
        loss_curve,
        n_iter,
        validation_scores,
        reason,
        status,
        message,
        cause,
    )
