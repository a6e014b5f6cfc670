"""What the ``bench_solvers_*.py`` scripts share: models, traced fits, the driver.

The held-out score is :meth:`score` (the mean negative half squared
reconstruction error) on rows that no fit sees. The time to a score comes
from one traced run per solver: the solver function the estimator's ``fit``
calls, on the same objective and start, reports each iteration or epoch, at
which the clock is read and the held-out score is computed with the clock
stopped (its time is subtracted).
"""

# SPDX-License-Identifier: BSD-3-Clause

import argparse
import json
import time
import warnings

import _common
import numpy as np
from _common import add_timing_arguments, machine_description, settle
from _datasets import large_patches, nudged_digits, whitened_patches
from sklearn.model_selection import train_test_split
from sklearn.utils import check_array, check_random_state
from threadpoolctl import threadpool_limits

from skl_sparseae._backends._numpy import NumpyBackend, NumpyPlacement
from skl_sparseae._lbfgs import lbfgs_scale, minimize_lbfgs
from skl_sparseae._minibatch import (
    EpochRunner,
    MinibatchPlan,
    MinibatchState,
    minimize_stochastic,
    resolve_batch_size,
)
from skl_sparseae._objective import hidden_activations, row_squared_errors, unpack
from skl_sparseae._stopping import NoImprovement

# The model of figures 1, 3 and 4 (the 28x28 patches are in [0.1, 0.9]).
PATCH_MODEL = dict(
    n_components=196, rho=0.1, beta=3.0, alpha=3e-3, decoder_activation="sigmoid"
)
# Figure 2's model: scikit-learn's RBM example (run.py figure d).
DIGITS_MODEL = dict(n_components=100, rho=0.01, beta=3.0)
# Whitened 8x8 patches: the UFLDL linear-decoder settings.
WHITENED_MODEL = dict(
    n_components=100, rho=0.035, beta=3.0, alpha=3e-3, decoder_activation="identity"
)

TARGETS = {"1": 0.15, "2": 1.0, "3a": 1.3, "3b": 0.5, "4": 1.0}


# ---------------------------------------------------------------------------
# Traced fits: the clock and the held-out score after every iteration.


class StopTrace(Exception):
    """Raised from the trace callback to end a fit early (budget or target)."""


def held_out_scorer(X_test, model):
    """``theta -> mean score_samples(X_test)``, as ``score`` computes it."""
    d, h = X_test.shape[1], model["n_components"]
    decoder = model.get("decoder_activation", "sigmoid")

    def score(theta):
        W1, b1, W2, b2 = unpack(np.asarray(theta, X_test.dtype), d, h)
        with np.errstate(over="ignore", invalid="ignore"):
            A = hidden_activations(X_test, W1, b1)
            errors = row_squared_errors(X_test, A, W2, b2, decoder)
        return -0.5 * float(np.mean(errors))

    return score


class Trace:
    """Seconds since the fit began and held-out score after each iteration."""

    def __init__(self, score, stop_at=None, budget=None):
        self.score = score
        self.stop_at = stop_at
        self.budget = budget
        self.times, self.scores, self.losses = [], [], []
        self.excluded = 0.0
        self.start = None
        self.stopped_early = None

    def record(self, loss, theta):
        now = time.perf_counter()
        self.times.append(now - self.start - self.excluded)
        self.losses.append(float(loss))
        self.scores.append(self.score(theta))
        self.excluded += time.perf_counter() - now
        if self.stop_at is not None and self.scores[-1] >= self.stop_at:
            self.stopped_early = "reached the target"
            raise StopTrace
        if self.budget is not None and self.times[-1] > self.budget:
            self.stopped_early = f"time budget {self.budget:g} s"
            raise StopTrace

    def time_to(self, target):
        """Seconds until the first score >= target (None if never)."""
        for t, s in zip(self.times, self.scores):
            if s >= target:
                return t
        return None

    def epochs_to(self, target):
        for i, s in enumerate(self.scores, 1):
            if s >= target:
                return i
        return None


def run_solver(estimator, X, on_iteration):
    """Run ``estimator``'s solver on the NumPy rows ``X`` as ``estimator.fit(X)`` does.

    The same objective, start and change of variables (L-BFGS), or the same
    optimizer, batches and order (Adam, SGD), as the estimator's own fit
    without held-out rows, through the solver functions it calls, with
    ``on_iteration(loss, theta)`` after each iteration or epoch. Returns the
    solver's result.
    """
    X = check_array(X, dtype=[np.float64, np.float32])
    (n_samples, d), h = X.shape, estimator.n_components
    rng = check_random_state(estimator.random_state)
    alpha = estimator._resolve_alpha(X, NumpyPlacement())
    if estimator.solver == "lbfgs":
        theta0 = estimator._initial_theta(d, h, rng)
        backend = NumpyBackend(X, h, estimator.decoder_activation)
        with backend:
            return minimize_lbfgs(
                estimator._objective(backend, alpha),
                theta0,
                max_iter=estimator.max_iter,
                max_fun=estimator.max_fun,
                tol=estimator.tol,
                n_iter_no_change=estimator.n_iter_no_change,
                on_iteration=lambda i, theta, loss, *rest: on_iteration(loss, theta),
                scale=lbfgs_scale(
                    estimator.decoder_scaling,
                    estimator.rho,
                    d,
                    h,
                    estimator.decoder_activation,
                ),
            )
    rho = estimator.rho
    theta0 = estimator._initial_theta(d, h, rng, hidden_bias=np.log(rho / (1 - rho)))
    theta = theta0.astype(X.dtype)
    state = MinibatchState(estimator._make_optimizer(theta, None), rng)
    plan = MinibatchPlan(
        h,
        {"rho": rho, "beta": estimator.beta, "alpha": alpha},
        estimator.decoder_activation,
        resolve_batch_size(estimator.batch_size, n_samples),
        estimator.shuffle,
    )
    with EpochRunner(X, plan) as runner:
        return minimize_stochastic(
            runner,
            theta,
            state,
            max_iter=estimator.max_iter,
            tol=estimator.tol,
            n_iter_no_change=estimator.n_iter_no_change,
            on_epoch=lambda epoch, loss, score: on_iteration(loss, theta),
        )


def traced_fit(estimator, X_train, X_test, model, stop_at=None, budget=None):
    """The estimator's solver run with a trace; ``(trace, seconds, result or None)``.

    ``result`` is the solver's (None when the trace stopped it).
    """
    trace = Trace(held_out_scorer(X_test, model), stop_at, budget)
    settle()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trace.start = time.perf_counter()
        try:
            result = run_solver(estimator, X_train, trace.record)
        except StopTrace:
            result = None
        seconds = time.perf_counter() - trace.start - trace.excluded
    return trace, seconds, result


def within(score, fraction=0.01):
    """The score ``fraction`` (relatively) below ``score``: the 1 % target."""
    return score - fraction * abs(score)


def replay_stop(losses, tol=5e-4, n_iter_no_change=20):
    """The epoch at which the stopping rule fires on ``losses`` (None: never)."""
    rule = NoImprovement(tol, n_iter_no_change)
    for i, loss in enumerate(losses, 1):
        rule.update(loss)
        if rule.should_stop:
            return i
    return None


def split(X, n_test, seed=0):
    return train_test_split(X, test_size=n_test, random_state=seed)


def patches_784(n_train, n_test, dtype=np.float64):
    X = large_patches(n_train + n_test, dtype=dtype)
    return split(X, n_test)


def patches_8x8(n_train, n_test):
    X = whitened_patches(n_train + n_test)
    return split(X, n_test)


def digits(n_train):
    """Nudged digits; ``n_train`` None for the RBM example's split (7,188)."""
    if n_train is None:
        X_train, X_test, _, _ = nudged_digits()
    else:
        X_train, X_test, _, _ = nudged_digits(n_samples=int(n_train / 0.8))
    return X_train, X_test


# ---------------------------------------------------------------------------
# The driver: the options every script takes, and the printed table.


def solver_parser(doc, figures):
    """The options common to the scripts; ``figures`` are the script's keys."""
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("--only", default=",".join(figures))
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small problems, one repeat, one BLAS thread unless "
        "--threads: a smoke test of < 1 minute",
    )
    add_timing_arguments(parser)
    parser.add_argument("--json", default=None, help="write the results here")
    return parser


def configure(args):
    """Apply ``--quick`` and ``--settle`` to ``args`` and ``_common``."""
    if args.quick:
        # A smoke test: one timing of each side, short pauses, and one BLAS
        # thread unless --threads says otherwise (on a loaded machine the
        # batch-sized products are many times slower on several threads).
        args.repeats, args.settle = 1, min(args.settle, 0.1)
        args.threads = args.threads or 1
    _common.SETTLE = args.settle


def run(args, figures):
    """Print the machine, then each figure of ``args.only`` as a table."""
    unknown = [key for key in args.only.split(",") if key not in figures]
    if unknown:
        raise SystemExit(
            f"--only: no figure {', '.join(unknown)} in this script; "
            f"its figures are {', '.join(figures)}"
        )
    for line in machine_description():
        print(line)
    print(
        f"quick={args.quick}, repeats={args.repeats}, settle={args.settle:g} s, "
        f"threads={args.threads or 'default'}"
    )
    with threadpool_limits(limits=args.threads, user_api="blas"):
        run_figures(args, figures)


def run_figures(args, figures):
    results = {}
    for key in args.only.split(","):
        start = time.perf_counter()
        print(f"\n[figure {key}]", flush=True)
        ratios, rows = figures[key](args)
        for name, text in rows:
            print(f"  {name}: {text}")
        for name, ratio in ratios.items():
            target = TARGETS.get(name.split()[0])
            met = "-" if target is None else ("yes" if ratio <= target else "NO")
            print(f"  => {name}: {ratio:.3f} (target <= {target}, met: {met})")
        results[key] = {"ratios": ratios, "rows": rows}
        print(f"[figure {key} done in {time.perf_counter() - start:.0f} s]", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1, default=str)
