"""What ``verbose`` prints while a fit runs, for every solver.

One line every ``VERBOSE_EVERY`` iterations (or epochs) at ``verbose=1`` and
one line each at ``verbose >= 2``, each prefixed with the estimator's name
and giving the elapsed time and, with early stopping, the held-out score;
at ``verbose >= 2``, a line for each change of the adaptive learning rate;
and a last line that says why the fit stopped. scikit-learn's own
estimators print in the same spirit (``[BernoulliRBM] Iteration 1, ...``).
"""

# SPDX-License-Identifier: BSD-3-Clause

import time

import numpy as np

# At verbose=1, a line for the first iteration and every this many.
VERBOSE_EVERY = 10


class Progress:
    """Progress lines of one fit.

    Parameters
    ----------
    estimator_name : str
        The class name that prefixes each line.

    verbose : int
        0 prints nothing; 1 prints the first iteration and every
        ``VERBOSE_EVERY``-th; 2 or more prints every iteration, with the
        objective's terms, the mean hidden activation and the mean number
        of active units per sample.

    unit : {"Iteration", "Epoch"}, default="Iteration"
        What the solver counts.
    """

    def __init__(self, estimator_name, verbose, unit="Iteration"):
        self.prefix = f"[{estimator_name}]"
        self.verbose = verbose
        self.unit = unit
        self.start = time.perf_counter()

    @property
    def enabled(self):
        return self.verbose > 0

    def _elapsed(self):
        return time.perf_counter() - self.start

    def shows(self, iteration):
        """Whether ``iteration`` gets a line at this verbosity."""
        return self.verbose >= 2 or (
            self.verbose == 1 and (iteration == 1 or iteration % VERBOSE_EVERY == 0)
        )

    def iteration(self, iteration, loss, *, validation_score=None, evaluation=None):
        """Print the line of ``iteration`` if this verbosity shows it.

        ``evaluation`` (an :class:`~skl_sparseae._objective.Evaluation` at the
        iterate, when the solver has one) adds its terms at ``verbose >= 2``,
        and its ``mean_active_units`` when it has them.
        """
        if not self.shows(iteration):
            return
        line = f"{self.prefix} {self.unit} {iteration}, loss = {loss:.8f}"
        if validation_score is not None:
            line += f", validation score = {validation_score:.6f}"
        if self.verbose >= 2 and evaluation is not None:
            rho_hat = evaluation.mean_activation
            line += (
                f", reconstruction = {evaluation.reconstruction:.6f}"
                f", sparsity = {evaluation.sparsity:.6f}"
                f", mean activation = {np.mean(rho_hat):.4f}"
            )
            if evaluation.mean_active_units is not None:
                line += (
                    f", active units per sample = {evaluation.mean_active_units:.2f}"
                )
        line += f", time = {self._elapsed():.2f}s"
        print(line, flush=True)

    def lbfgs_callback(self):
        """The ``on_iteration`` of :func:`~skl_sparseae._lbfgs.minimize_lbfgs`.

        It prints the lines of the iterations this verbosity shows, with the
        terms of the objective at ``verbose >= 2``; None when nothing is
        printed.
        """
        if not self.enabled:
            return None

        def on_iteration(iteration, theta, loss, score, evaluation_at_iterate):
            if self.shows(iteration):
                evaluation = evaluation_at_iterate() if self.verbose > 1 else None
                self.iteration(
                    iteration, loss, validation_score=score, evaluation=evaluation
                )

        return on_iteration

    def note(self, iteration, text):
        """Print an event of ``iteration`` (a change of the learning rate)."""
        if self.enabled:
            print(f"{self.prefix} {self.unit} {iteration}: {text}.", flush=True)

    def stopped(self, n_iter, reason):
        """Print why the fit stopped, after ``n_iter`` iterations."""
        if not self.enabled:
            return
        unit = self.unit.lower() + ("" if n_iter == 1 else "s")
        print(
            f"{self.prefix} Stopped after {n_iter} {unit} "
            f"({self._elapsed():.2f}s): {reason}.",
            flush=True,
        )
