"""Where the no-progress rule stops, and what more iterations would give.

The study behind the defaults of ``tol`` and ``n_iter_no_change`` (see the
user guide, "When a fit stops"). It runs each problem once to a long fixed
budget (``tol=0``), records the objective after every iteration and the
downstream quality every ``--every`` iterations, then replays the stopping
rule on the recorded curves for each candidate ``(tol, n_iter_no_change)``:
the rule only reads the objective's curve, so replaying it gives the
iteration a fit with those parameters stops at, and the quality there, without
refitting. Run from the repository root::

    python benchmarks/stopping_study.py                  # several minutes
    python benchmarks/stopping_study.py --quick          # a smoke test

The problems:

- the README's grid search: digits, 64 units, rho in {0.01, 0.05} x beta in
  {1, 3}, 5-fold cross-validated accuracy of the README's pipeline
  (MinMaxScaler, the autoencoder, LogisticRegression(max_iter=1000));
- digits / 16, 64 units, rho=0.05, beta=3, float64 and float32;
- scikit-learn's nudged digits (benchmark d), 100 units, rho=0.01, beta=3;
- a sparse (CSR) digits, pixels below 0.5 zeroed;
- 8 x 8 patches of a natural image, identity decoder (quality: the mean
  held-out ``score_samples``).

On the single splits the quality is the macro-F1 of a logistic regression on
the codes, on a held-out fifth. The "long run" column is the mean quality
over the snapshots from 400 iterations to the end, a less noisy reference
than any single snapshot.

The replay uses the estimator's own loop and rule: every problem is run
through the estimator's solver function on the objective, initial weights
and change of variables its ``fit`` builds (``tol=0``, ``max_iter=N``), its
weights are read at the snapshots through the solver's per-iteration
callback, and the stop is found by feeding the loss curve to the
estimator's ``NoImprovement``. L-BFGS-B's own
gradient test (``gtol = tol / 10``) is not replayed; on benchmark d's problem
the replayed stop (216 iterations at ``tol=5e-4``) is the one the real fit
makes.
"""

# SPDX-License-Identifier: BSD-3-Clause

import argparse
import time
import warnings
from functools import partial

import numpy as np
import scipy.sparse as sp
from _common import machine_description, nudged_digits
from sklearn.datasets import load_digits, load_sample_image
from sklearn.feature_extraction.image import extract_patches_2d
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.preprocessing import MinMaxScaler
from sklearn.utils import check_array, check_random_state

from skl_sparseae import SparseAutoencoderTransformer
from skl_sparseae._backends._numpy import NumpyBackend
from skl_sparseae._lbfgs import lbfgs_scale, minimize_lbfgs
from skl_sparseae._objective import Objective, initial_parameters, unpack
from skl_sparseae._stopping import NoImprovement

CANDIDATES = [
    (tol, n) for tol in (2e-4, 3e-4, 5e-4, 7e-4, 1e-3, 2e-3) for n in (10, 20, 30)
]


def lbfgs_problem(X, params):
    """What ``SparseAutoencoderTransformer(random_state=0, **params).fit(X)``
    hands L-BFGS: ``(estimator, objective, theta0, scale)``.

    The same objective, initial weights and change of variables
    (``decoder_scaling``) as the estimator's own fit, so that
    :func:`minimize_lbfgs` run on them follows the estimator's path, with a
    per-iteration callback of the study's. ``estimator`` is fitted for one
    iteration: :func:`set_weights` gives it any weights of the path.
    """
    estimator = SparseAutoencoderTransformer(max_iter=1, random_state=0, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator.fit(X)
    X = check_array(X, accept_sparse="csr", dtype=[np.float64, np.float32])
    d, h = X.shape[1], estimator.components_.shape[0]
    backend = NumpyBackend(X, h, estimator.decoder_activation)
    objective = Objective(
        backend, rho=estimator.rho, beta=estimator.beta, alpha=estimator.alpha
    )
    theta0 = initial_parameters(d, h, check_random_state(0))
    scale = lbfgs_scale(
        estimator.decoder_scaling, estimator.rho, d, h, estimator.decoder_activation
    )
    return estimator, objective, theta0, scale


def long_fit(X, params, max_iter, every):
    """The estimator's fit with a fixed budget (``tol=0``), keeping snapshots.

    Returns the estimator, at the last weights and with their
    ``loss_curve_``, and a copy of the weights every ``every`` iterations.
    """
    store = {}
    estimator, objective, theta0, scale = lbfgs_problem(X, params)

    def on_iteration(iteration, theta, loss, score, evaluation_at_iterate):
        if iteration % every == 0:
            store[iteration] = np.array(theta, copy=True)

    result = minimize_lbfgs(
        objective,
        theta0,
        max_iter=max_iter,
        max_fun=estimator.max_fun,
        tol=0,
        n_iter_no_change=estimator.n_iter_no_change,
        on_iteration=on_iteration,
        scale=scale,
    )
    set_weights(estimator, result.theta).loss_curve_ = result.loss_curve
    return estimator, store


def set_weights(estimator, theta):
    """Give the fitted ``estimator`` the weights ``theta`` (in place); return it."""
    W1, b1, W2, b2 = unpack(theta, estimator.n_features_in_, estimator.n_components)
    dtype = estimator.components_.dtype
    estimator.components_ = np.ascontiguousarray(W1.T, dtype=dtype)
    estimator.intercept_hidden_ = b1.astype(dtype)
    estimator.decoder_components_ = np.ascontiguousarray(W2, dtype=dtype)
    estimator.intercept_visible_ = b2.astype(dtype)
    return estimator


def record(estimator, store, quality):
    """The loss curve, and ``quality(model)`` at each snapshot of ``store``."""
    return dict(
        loss=list(estimator.loss_curve_),
        quality={
            k: quality(set_weights(estimator, theta))
            for k, theta in sorted(store.items())
        },
    )


def classifier_quality(X_train, y_train, X_test, y_test, metric):
    """``model -> metric`` of a logistic regression on the model's codes."""

    def quality(model):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            classifier = LogisticRegression(max_iter=1000).fit(
                model.transform(X_train), y_train
            )
        return float(metric(y_test, classifier.predict(model.transform(X_test))))

    return quality


def split_quality(X, y):
    """The training rows of a fixed 80/20 split, and ``model -> quality``.

    The quality is the held-out mean ``score_samples`` where there are no
    labels ``y``, else the held-out macro-F1 of a classifier on the codes.
    """
    if y is None:
        X_train, X_test = train_test_split(X, test_size=0.2, random_state=0)

        def quality(model):
            return float(np.mean(model.score_samples(X_test)))

    else:
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.2, random_state=0
        )
        quality = classifier_quality(
            X_train, y_train, X_test, y_test, partial(f1_score, average="macro")
        )
    return X_train, quality


def record_split(X, y, params, max_iter, every):
    """One train/test split: loss curve and quality at each snapshot."""
    X_train, quality = split_quality(X, y)
    return [record(*long_fit(X_train, params, max_iter, every), quality)]


def record_grid(max_iter, every):
    """The README's grid search: per cell, one record per fold."""
    X, y = load_digits(return_X_y=True)
    folds = list(StratifiedKFold(5).split(X, y))
    cells = {}
    for rho in (0.01, 0.05):
        for beta in (1.0, 3.0):
            params = dict(n_components=64, rho=rho, beta=beta)
            records = []
            for train, test in folds:
                scaler = MinMaxScaler().fit(X[train])
                X_train, X_test = scaler.transform(X[train]), scaler.transform(X[test])
                quality = classifier_quality(
                    X_train, y[train], X_test, y[test], accuracy_score
                )
                records.append(
                    record(*long_fit(X_train, params, max_iter, every), quality)
                )
            cells[(rho, beta)] = records
    return cells


def single_splits():
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    digits = dict(n_components=64, rho=0.05, beta=3.0)
    yield "digits, 64 units", X, y, digits
    yield "digits float32", X.astype(np.float32), y, digits
    yield "digits CSR", sp.csr_matrix(np.where(X > 0.5, X, 0.0)), y, digits
    X_nudged, y_nudged = nudged_digits()
    yield (
        "nudged digits, 100 units, rho 0.01",
        X_nudged,
        y_nudged,
        dict(n_components=100, rho=0.01, beta=3.0),
    )
    image = load_sample_image("china.jpg").mean(axis=2) / 255.0
    patches = extract_patches_2d(image, (8, 8), max_patches=6000, random_state=0)
    patches = patches.reshape(len(patches), -1)
    patches = patches - patches.mean(axis=1, keepdims=True)
    patches = patches / (3 * patches.std())
    yield (
        "image patches, identity decoder",
        patches,
        None,
        dict(n_components=64, rho=0.05, beta=3.0, decoder_activation="identity"),
    )


def stop_iteration(loss_curve, tol, n_iter_no_change):
    """The iteration at which the estimator's no-progress rule stops."""
    rule = NoImprovement(tol, n_iter_no_change)
    for iteration, loss in enumerate(loss_curve, start=1):
        rule.update(loss)
        if rule.should_stop:
            return iteration
    return len(loss_curve)


def quality_at(quality, iteration):
    """Quality at the snapshot nearest ``iteration``."""
    snapshots = np.array(sorted(quality))
    return quality[int(snapshots[np.argmin(np.abs(snapshots - iteration))])]


def long_run(quality, start=400):
    late = [q for k, q in quality.items() if k >= start]
    return float(np.mean(late)) if late else float("nan")


def summarise(records, tol, n, max_iter):
    """Mean stop iteration and mean quality there over ``records`` (folds)."""
    stops = [stop_iteration(r["loss"][:max_iter], tol, n) for r in records]
    quality = [quality_at(r["quality"], k) for r, k in zip(records, stops)]
    return float(np.mean(stops)), float(np.mean(quality)), sum(stops)


def mean_quality(records, iteration):
    return float(np.mean([quality_at(r["quality"], iteration) for r in records]))


def report_grid(cells, budget):
    reference = {cell: mean_quality(records, budget) for cell, records in cells.items()}
    best_reference = max(reference.values())
    fixed_iterations = sum(budget for records in cells.values() for _ in records)
    print(
        f"\nREADME grid search: best CV accuracy after {budget} iterations "
        f"{best_reference:.4f}; per cell (rho, beta) at {budget} / long run:"
    )
    for cell, records in cells.items():
        print(
            f"  {cell}: {reference[cell]:.4f} / "
            f"{float(np.mean([long_run(r['quality']) for r in records])):.4f}"
        )
    print(
        "  tol     n  | iterations / fixed budget's | best CV | gap to fixed | "
        "per cell: mean stop (CV accuracy)"
    )
    for tol, n in CANDIDATES:
        summaries = {
            cell: summarise(records, tol, n, budget) for cell, records in cells.items()
        }
        best = max(summary[1] for summary in summaries.values())
        iterations = sum(summary[2] for summary in summaries.values())
        cells_text = " ".join(
            f"{summary[0]:.0f} ({summary[1]:.3f})" for summary in summaries.values()
        )
        print(
            f"  {tol:.0e} {n:2d} | {iterations / fixed_iterations:.2f} | "
            f"{best:.4f} | {best_reference - best:+.4f} | {cells_text}"
        )


def report_split(name, records, budget):
    (record,) = records
    print(
        f"\n{name}: quality after {budget} iterations "
        f"{quality_at(record['quality'], budget):.4f}, "
        f"long run {long_run(record['quality']):.4f}"
    )
    print("  tol     n  | stops after | quality there")
    for tol, n in CANDIDATES:
        stop, quality, _ = summarise(records, tol, n, budget)
        print(f"  {tol:.0e} {n:2d} | {stop:4.0f} | {quality:.4f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-iter", type=int, default=600)
    parser.add_argument("--every", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="short fits, grid only")
    args = parser.parse_args()
    max_iter, every = (60, 10) if args.quick else (args.max_iter, args.every)
    budget = min(400, max_iter)
    print("\n".join(machine_description()))
    start = time.perf_counter()
    report_grid(record_grid(max_iter, every), budget)
    if not args.quick:
        for name, X, y, params in single_splits():
            report_split(name, record_split(X, y, params, max_iter, every), budget)
    print(f"\n{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
