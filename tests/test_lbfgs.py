"""``_lbfgs.minimize_lbfgs`` on its own: handed an objective, no estimator."""

import warnings

import numpy as np
import pytest

from skl_sparseae._lbfgs import OverflowCause, minimize_lbfgs
from skl_sparseae._objective import Evaluation


class Quadratic:
    """J(theta) = 0.5 * sum(scale * (theta - target) ** 2), counting evaluations."""

    params = {"rho": 0.1, "beta": 0.0, "alpha": 0.0}
    dtype = np.dtype(np.float64)

    def __init__(self, target, scale, fail_at=None, error=KeyboardInterrupt):
        self.target, self.scale = target, scale
        self.fail_at, self.error = fail_at, error
        self.calls = 0

    def __call__(self, theta):
        self.calls += 1
        if self.calls == self.fail_at:
            raise self.error()
        residual = theta - self.target
        loss = 0.5 * float(np.sum(self.scale * residual**2))
        return Evaluation(loss, self.scale * residual, loss, 0.0, np.zeros(1))

    def without(self, penalty):
        return self


def _minimize(objective, **options):
    settings = dict(max_iter=200, max_fun=15000, tol=1e-8, n_iter_no_change=5)
    settings.update(options)
    return minimize_lbfgs(objective, np.zeros(5), **settings)


def test_it_minimises_the_objective_it_is_handed():
    target = np.arange(5.0)
    result = _minimize(Quadratic(target, np.array([1, 10, 100, 1000, 1e4])))
    np.testing.assert_allclose(result.theta, target, atol=1e-6)
    assert result.n_iter == len(result.loss_curve) > 0
    assert result.loss_curve == sorted(result.loss_curve, reverse=True)
    assert result.stop_reason


def test_the_callback_sees_every_iterate_and_its_loss():
    seen = []

    def on_iteration(iteration, theta, loss, score, evaluation_at_iterate):
        evaluation = evaluation_at_iterate()
        seen.append((iteration, loss, evaluation.loss, score))
        assert np.isclose(evaluation.loss, loss)

    result = _minimize(Quadratic(np.ones(5), np.ones(5) * 3), on_iteration=on_iteration)
    assert [entry[0] for entry in seen] == list(range(1, result.n_iter + 1))
    assert [entry[1] for entry in seen] == result.loss_curve
    assert all(entry[3] is None for entry in seen)


def test_a_held_out_score_drives_the_rule_and_picks_the_weights():
    objective = Quadratic(np.ones(5), np.ones(5))
    # The held-out optimum lies away from the training optimum.
    held_out = lambda theta: -float(np.sum((theta - 0.5) ** 2))  # noqa: E731
    result = _minimize(objective, held_out_score=held_out, tol=1e-3)
    best = int(np.argmax(result.validation_scores))
    assert held_out(result.theta) == max(result.validation_scores)
    assert result.loss == result.loss_curve[best]


def test_tol_zero_is_an_exact_budget():
    objective = Quadratic(np.ones(5), np.logspace(0, 6, 5))
    result = _minimize(objective, tol=0, max_iter=4)
    assert result.n_iter == 4
    assert result.stop_reason == "reached max_iter=4"


def test_an_interrupt_keeps_the_best_evaluated_weights():
    objective = Quadratic(np.ones(5), np.logspace(0, 6, 5), fail_at=6)
    with pytest.warns(UserWarning, match="interrupted by the user"):
        result = _minimize(objective)
    assert result.stop_reason == "interrupted by the user"
    assert result.loss == min(result.loss_curve + [result.loss])


def test_an_interrupt_before_any_evaluation_propagates():
    with pytest.raises(KeyboardInterrupt):
        _minimize(Quadratic(np.ones(5), np.ones(5), fail_at=1))


def test_a_non_finite_trial_point_stops_with_the_best_weights():
    class Overflowing(Quadratic):
        def __call__(self, theta):
            result = super().__call__(theta)
            if self.calls >= 4:
                return result._replace(loss=np.inf)
            return result

    # The solver reports the overflow; the estimator words it.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = _minimize(Overflowing(np.ones(5), np.logspace(0, 6, 5)))
    assert np.isfinite(result.loss)
    assert result.loss == min(result.loss_curve + [result.loss])
    assert result.stop_reason == "the objective overflowed at a trial point"
    assert result.status == "overflow"
    # Neither penalty is on: the data is the cause.
    assert result.overflow == OverflowCause("data")


def test_a_non_finite_start_keeps_no_weights():
    class Infinite(Quadratic):
        def __call__(self, theta):
            return super().__call__(theta)._replace(loss=np.inf)

    result = _minimize(Infinite(np.ones(5), np.ones(5)))
    assert result.status == "overflow" and result.theta is None
    assert result.n_iter == 0 and result.loss_curve == []
    assert result.overflow.culprit == "data"


@pytest.mark.parametrize(
    "max_iter, max_fun, status", [(2, 15000, "max_iter"), (200, 3, "max_fun")]
)
def test_a_budget_that_runs_out_while_improving_is_reported(max_iter, max_fun, status):
    objective = Quadratic(np.ones(5), np.logspace(0, 6, 5))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = _minimize(objective, max_iter=max_iter, max_fun=max_fun)
    assert result.status == status


def test_a_converged_run_reports_done():
    result = _minimize(Quadratic(np.ones(5), np.ones(5)))
    assert result.status == "done" and result.overflow is None
