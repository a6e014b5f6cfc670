"""Scalings of L-BFGS-B's variables: iterations to the same objective, and quality.

The study behind ``decoder_scaling`` (see the user guide, "Conditioning the
decoder's variables"). L-BFGS-B is run over ``u = theta / s`` for a per-block
scaling ``s`` of the flattened weights (W1, b1, W2, b2); the loss is always
``J(theta)``. For each problem and scaling it records, with ``tol=0`` and
``--max-iter`` iterations, the objective after every iteration and its wall
time, and the weights every ``--every`` iterations. It reports:

- ``it``: the first iteration whose objective reaches the plain run's
  objective after ``--target`` iterations (``>N`` where it never does), and
  ``t``: the wall time to get there over the plain run's (the runs of one
  problem are timed in turn in this process; the machine is shared, so the
  iteration counts are the exact figures);
- ``stop``: the iteration where the default no-progress rule (``tol=5e-4``,
  ``n_iter_no_change=20``) stops on that curve, replayed as in
  ``stopping_study.py``, and ``q``: the downstream quality at the snapshot
  nearest that stop, next to ``q@N``, the quality after all the iterations;
  then, for the rules ``(tol, n_iter_no_change)`` of ``RULES``, the mean
  stop and the quality there, per scaling.

The scalings:

- ``none``: L-BFGS-B's own, a scalar ``y's / y'y`` times the identity for the
  first guess of the inverse Hessian, the same for every block;
- ``W2 xc``: ``s = c`` on the decoder weights W2 and 1 elsewhere, for fixed
  ``c`` and for ``c = 1 / sqrt(rho)``;
- ``W2 unit@k``: ``k`` plain iterations, then a restart with ``s = 1 /
  sqrt(rho_hat_j)`` on row ``j`` of W2, ``rho_hat`` the mean activations at
  the restart (the Gauss-Newton curvature of a row of W2 is the mean of
  ``a_j**2``, about ``rho_hat_j`` for sparse codes, against a curvature of
  order one for W1);
- ``pairs@k``: ``k`` plain iterations, then a restart with one factor per
  block, ``s_B = sqrt(c_W1 / c_B)``, ``c_B = sum(y_B's_B) / sum(s_B's_B)``
  over the steps ``s`` and gradient changes ``y`` of those iterations: a
  diagonal (per block) estimate of the curvature from L-BFGS-B's own pairs.

The problems are those of ``stopping_study.py`` (the README's grid search,
4 cells x 5 folds, summed; digits in float64, float32 and CSR; nudged digits;
8x8 image patches with an identity decoder) and 784-feature image patches
(``_datasets.large_patches``, 4,000 training rows, 196 units, rho=0.1,
beta=3, alpha=3e-3; quality: mean held-out ``score_samples``). Run from the
repository root::

    python benchmarks/conditioning_study.py                 # about 30 minutes
    python benchmarks/conditioning_study.py --only digits --max-iter 100
"""

# SPDX-License-Identifier: BSD-3-Clause

import argparse
import time

import numpy as np
from _common import machine_description
from _datasets import large_patches
from sklearn.datasets import load_digits
from sklearn.metrics import accuracy_score
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import MinMaxScaler
from stopping_study import (
    classifier_quality,
    lbfgs_problem,
    quality_at,
    set_weights,
    single_splits,
    split_quality,
    stop_iteration,
)

from skl_sparseae._lbfgs import decoder_scale, minimize_lbfgs
from skl_sparseae._objective import pack, unpack

DEFAULT_RULE = (5e-4, 20)

# Stopping rules (tol, n_iter_no_change) replayed on every curve, for the
# defaults under the change of variables.
RULES = [(5e-4, 20), (3e-4, 20), (2e-4, 20), (5e-4, 30), (3e-4, 30), (1e-3, 20)]


def fixed(c):
    def scale(problem, theta):
        return decoder_scale(problem.n_features, problem.n_components, c(problem))

    return scale


def per_unit(problem, theta, evaluation, pairs):
    d, h = problem.n_features, problem.n_components
    rho_hat = np.clip(np.asarray(evaluation.mean_activation, np.float64), 1e-3, 1)
    W1, b1, W2, b2 = unpack(np.ones_like(theta), d, h)
    W2 *= (1 / np.sqrt(rho_hat))[:, np.newaxis]
    return pack(W1, b1, W2, b2)


def from_pairs(problem, theta, evaluation, pairs):
    d, h = problem.n_features, problem.n_components
    ends = np.cumsum([d * h, h, h * d, d])
    blocks = np.split(np.arange(ends[-1]), ends[:-1])
    (x0, g0), *rest = pairs
    curvature = np.zeros(4)
    squares = np.zeros(4)
    for x1, g1 in rest:
        s, y = x1 - x0, g1 - g0
        for i, block in enumerate(blocks):
            curvature[i] += s[block] @ y[block]
            squares[i] += s[block] @ s[block]
        x0, g0 = x1, g1
    c = np.maximum(curvature / np.maximum(squares, 1e-300), 1e-12)
    scale = np.empty(ends[-1])
    for i, block in enumerate(blocks):
        scale[block] = np.sqrt(c[0] / c[i])
    return scale


SCALINGS = {
    "none": None,
    "W2 x3.16": fixed(lambda p: np.sqrt(10)),
    "W2 x10": fixed(lambda p: 10.0),
    "W2 x1/sqrt(rho)": fixed(lambda p: 1 / np.sqrt(p.rho)),
    "W2 unit@20": (20, per_unit),
    "pairs@10": (10, from_pairs),
}


class Problem:
    def __init__(self, X, params, quality):
        self.X, self.params, self.quality = X, params, quality
        self.n_features = X.shape[1]
        self.n_components = params["n_components"]
        self.rho = params["rho"]


def recorded_path(problem, scaling, max_iter, every):
    """The estimator's L-BFGS path under the study's ``scaling``, recorded.

    The estimator's objective and initial weights (``lbfgs_problem``), run
    through the solver function for ``max_iter`` iterations at ``tol=0``,
    with ``scaling`` in place of the estimator's ``decoder_scaling``: a
    function of the problem (a fixed scale) or ``(k, rule)``, a scale that
    ``rule`` builds after ``k`` unscaled iterations. Returns the estimator
    at the last weights, the loss curve, the times of the iterations and
    the weights every ``every`` iterations.
    """
    estimator, objective, theta0, _ = lbfgs_problem(problem.X, problem.params)
    times, snapshots, pairs, latest = [], {}, [], {}
    start = time.perf_counter()
    offset = 0
    restart = scaling if isinstance(scaling, tuple) else None

    def on_iteration(iteration, theta, loss, score, evaluation_at_iterate):
        times.append(time.perf_counter() - start)
        if (iteration + offset) % every == 0:
            snapshots[iteration + offset] = np.array(theta, copy=True)
        if restart is not None and offset == 0:
            evaluation = evaluation_at_iterate()
            pairs.append((np.array(theta, copy=True), evaluation.gradient.copy()))
            latest["evaluation"] = evaluation

    def run(theta, max_iter, scale):
        return minimize_lbfgs(
            objective,
            theta,
            max_iter=max_iter,
            max_fun=10 * max_iter + 100,
            tol=0,
            n_iter_no_change=estimator.n_iter_no_change,
            on_iteration=on_iteration,
            scale=scale,
        )

    if restart is None:
        scale = None if scaling is None else scaling(problem, theta0)
        result = run(theta0, max_iter, scale)
        curve = result.loss_curve
    else:
        k, rule = restart
        first = run(theta0, k, None)
        scale = rule(problem, first.theta, latest["evaluation"], pairs)
        offset = first.n_iter
        result = run(first.theta, max_iter - first.n_iter, scale)
        curve = first.loss_curve + result.loss_curve
    return set_weights(estimator, result.theta), list(curve), times, snapshots


def run(problem, scaling, max_iter, every):
    estimator, curve, times, snapshots = recorded_path(
        problem, scaling, max_iter, every
    )
    cache = {}

    def quality(iteration):
        theta = quality_at(snapshots, iteration)
        key = id(theta)
        if key not in cache:
            cache[key] = problem.quality(set_weights(estimator, theta))
        return cache[key]

    stops = {rule: stop_iteration(curve, *rule) for rule in RULES}
    return dict(
        curve=curve,
        times=times,
        stop=stops[DEFAULT_RULE],
        quality_stop=quality(stops[DEFAULT_RULE]),
        quality_end=quality(max(snapshots)),
        rules={rule: (stop, quality(stop)) for rule, stop in stops.items()},
    )


def reach(result, target):
    """(iteration, seconds) of the first objective at or below ``target``."""
    for i, loss in enumerate(result["curve"]):
        if loss <= target * (1 + 1e-12):
            return i + 1, result["times"][i]
    return None, None


def grid_problems():
    X, y = load_digits(return_X_y=True)
    folds = list(StratifiedKFold(5).split(X, y))
    for rho in (0.01, 0.05):
        for beta in (1.0, 3.0):
            for train, test in folds:
                scaler = MinMaxScaler().fit(X[train])
                X_train, X_test = scaler.transform(X[train]), scaler.transform(X[test])
                quality = classifier_quality(
                    X_train, y[train], X_test, y[test], accuracy_score
                )
                yield (
                    (rho, beta),
                    Problem(
                        X_train, dict(n_components=64, rho=rho, beta=beta), quality
                    ),
                )


def split_problem(X, y, params):
    X_train, quality = split_quality(X, y)
    return Problem(X_train, params, quality)


def problems(only):
    """(name, [problems]) pairs: the grid's 20 fits are one entry."""
    if only is None or "grid" in only:
        yield "README grid (20 fits)", [p for _, p in grid_problems()]
    for name, X, y, params in single_splits():
        if only is None or any(word in name for word in only):
            yield name, [split_problem(X, y, params)]
    name = "large patches 784 x 4000"
    if only is None or any(word in name for word in only):
        X = large_patches(n_samples=5000)
        params = dict(n_components=196, rho=0.1, beta=3.0, alpha=3e-3)
        yield name, [split_problem(X, None, params)]


def report(name, results, max_iter, target_iter):
    """One table per problem; ``results[scaling]`` is a list over its fits."""
    plain = results["none"]
    targets = [r["curve"][target_iter - 1] for r in plain]
    plain_t = sum(r["times"][target_iter - 1] for r in plain)
    print(f"\n{name}: plain J after {target_iter} = {np.mean(targets):.6g}")
    print("  scaling            | it to plain J | t / plain | stop | q at stop | q@N")
    for scaling, runs in results.items():
        reached = [reach(r, t) for r, t in zip(runs, targets)]
        if all(it is not None for it, _ in reached):
            its = sum(it for it, _ in reached)
            it_text = f"{its / len(runs):6.0f}"
            t_text = f"{sum(t for _, t in reached) / plain_t:5.2f}"
        else:
            missed = sum(it is None for it, _ in reached)
            it_text = f">{max_iter} ({missed})"
            t_text = "  -  "
        stop = np.mean([r["stop"] for r in runs])
        if len(runs) > 1:  # the grid: the best cell's mean over folds
            q_stop = best_cell(runs, "quality_stop")
            q_end = best_cell(runs, "quality_end")
        else:
            q_stop, q_end = runs[0]["quality_stop"], runs[0]["quality_end"]
        print(
            f"  {scaling:18s} | {it_text:>13s} | {t_text:>9s} | {stop:4.0f} | "
            f"{q_stop:9.4f} | {q_end:.4f}",
            flush=True,
        )


def best_cell(runs, key):
    cells = np.array([key(r) if callable(key) else r[key] for r in runs])
    return float(cells.reshape(4, 5).mean(axis=1).max())


def report_rules(results):
    """Mean stop and quality there, for each replayed rule and scaling."""
    print("  rule (tol, n) | " + " | ".join(f"{k:>15s}" for k in results))
    for rule in RULES:
        cells = []
        for runs in results.values():
            stop = np.mean([r["rules"][rule][0] for r in runs])
            if len(runs) > 1:
                q = best_cell(runs, lambda r: r["rules"][rule][1])
            else:
                q = runs[0]["rules"][rule][1]
            cells.append(f"{stop:4.0f} ({q:.4f})")
        print(
            f"  {rule[0]:.0e} {rule[1]:2d}     | "
            + " | ".join(f"{c:>15s}" for c in cells),
            flush=True,
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-iter", type=int, default=400)
    parser.add_argument("--target", type=int, default=None)
    parser.add_argument("--every", type=int, default=10)
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--scalings", nargs="*", default=None)
    args = parser.parse_args()
    target = args.target or args.max_iter
    print("\n".join(machine_description()))
    scalings = {
        k: v
        for k, v in SCALINGS.items()
        if k == "none" or args.scalings is None or k in args.scalings
    }
    start = time.perf_counter()
    for name, fits in problems(args.only):
        results = {k: [] for k in scalings}
        for problem in fits:
            for key, scaling in scalings.items():
                results[key].append(run(problem, scaling, args.max_iter, args.every))
        report(name, results, args.max_iter, target)
        report_rules(results)
    print(f"\n{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
