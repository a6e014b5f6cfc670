"""When a fit stops and what it keeps: the rules every solver shares."""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np

from ._objective import to_numpy


class NoImprovement:
    """Count iterations that improve a monitored value by less than ``tol``, relatively.

    An iteration improves when it lowers the best value so far by more than
    ``tol * |best|``: relative, because the objective sums the squared error
    over features, so its scale grows with the number of features and no
    single absolute ``tol`` would suit every data set. ``should_stop`` is
    True after ``n_iter_no_change`` consecutive iterations without
    improvement. With ``tol=0`` the rule never fires.
    """

    def __init__(self, tol, n_iter_no_change):
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.best = float("inf")
        self.count = 0
        # Before its first iteration a fit has not stopped improving.
        self.improved = True

    def update(self, value):
        """Record the value after an iteration; return whether it improved."""
        improved = self.best == float("inf") or (
            self.best - value > self.tol * abs(self.best)
        )
        if improved:
            self.count = 0
        else:
            self.count += 1
        self.best = min(self.best, value)
        self.improved = improved
        return improved

    def restart(self):
        """Count afresh from the next iteration (the best value stays)."""
        self.count = 0

    @property
    def should_stop(self):
        return self.tol > 0 and self.count >= self.n_iter_no_change

    @property
    def still_improving(self):
        """Whether the latest iteration improved by more than ``tol``.

        A :meth:`restart` does not count as an improvement.
        """
        return self.improved


class BestIterate:
    """The best value a fit has seen so far, and a copy of its weights.

    ``offer`` keeps a copy of ``theta`` when ``value`` is lower than the best
    so far (or equal, with ``ties_to_latest``, so that the latest of equal
    held-out scores wins), together with any ``details`` the caller wants
    back with it (the training loss, the iteration). Solvers may reuse the
    buffer behind ``theta``: the copy is what makes it safe to keep.
    """

    def __init__(self, *, ties_to_latest=False):
        self.ties_to_latest = ties_to_latest
        self.theta = None
        self.value = float("inf")
        self.details = {}

    @property
    def found(self):
        return self.theta is not None

    def offer(self, theta, value, **details):
        """Record ``theta`` if ``value`` is the best so far; return whether it was."""
        better = value <= self.value if self.ties_to_latest else value < self.value
        if not better:
            return False
        self.theta = np.array(theta, copy=True)
        self.value = value
        self.details = details
        return True


class FitHistory:
    """What a fit records after each iteration (an L-BFGS-B iteration or an epoch).

    The loss curve, the held-out scores, the :class:`NoImprovement` rule on
    the watched value (the loss, or the negated held-out score) and the
    weights of the best held-out score (the latest of equal scores, with
    the iteration's training loss as ``details["loss"]``).
    """

    def __init__(self, tol, n_iter_no_change):
        self.loss_curve = []
        self.validation_scores = []
        self.rule = NoImprovement(tol, n_iter_no_change)
        self.best_held_out = BestIterate(ties_to_latest=True)

    def record(self, loss, score, theta):
        """Record an iteration's ``loss`` and held-out ``score`` (None without one).

        The caller holds back interrupts around it, so that an iteration is
        recorded whole or not at all.
        """
        self.loss_curve.append(loss)
        if score is None:
            self.rule.update(loss)
        else:
            self.validation_scores.append(score)
            self.rule.update(-score)
            self.best_held_out.offer(to_numpy(theta), -score, loss=loss)
