"""The README's grid search with the default stopping rule against a fixed budget.

The search of the README (digits, MinMaxScaler, the autoencoder with 64 units,
LogisticRegression(max_iter=1000); rho in {0.01, 0.05} x beta in {1, 3},
5-fold, ``n_jobs=2``), run as written and with ``max_iter=400, tol=0`` (and
with each ``--tol`` given), the settings alternated ``--rounds`` times in this
process after one untimed warm-up search that starts joblib's workers. Prints
each search's wall time, best parameters and cross-validated accuracy, and how
many ConvergenceWarnings it raised, counted in the parent and in joblib's
workers (every process here writes its warnings to one file, whose new lines
are read after each search). Run from the repository root::

    python benchmarks/bench_grid_search.py --rounds 2 --tol 1e-3
"""

# SPDX-License-Identifier: BSD-3-Clause

import argparse
import os
import sys
import tempfile
import time
import warnings

import numpy as np
from _common import machine_description, settle
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from skl_sparseae import SparseAutoencoderTransformer

GRID = {
    "sparseautoencodertransformer__rho": [0.01, 0.05],
    "sparseautoencodertransformer__beta": [1, 3],
}
FIXED = "max_iter=400, tol=0"
SETTINGS = {"defaults": {}, FIXED: dict(max_iter=400, tol=0)}


def search(X, y, **autoencoder_params):
    pipe = make_pipeline(
        MinMaxScaler(),
        SparseAutoencoderTransformer(
            n_components=64, random_state=0, **autoencoder_params
        ),
        LogisticRegression(max_iter=1000),
    )
    return GridSearchCV(pipe, GRID, n_jobs=2).fit(X, y)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--tol",
        type=float,
        action="append",
        default=[],
        help="also time the search with this tol (repeatable)",
    )
    args = parser.parse_args()
    settings = dict(SETTINGS)
    settings.update({f"tol={tol:g}": dict(tol=tol) for tol in args.tol})
    print("\n".join(machine_description()), flush=True)
    X, y = load_digits(return_X_y=True)

    # joblib's workers inherit file descriptor 2: point it at a file so that
    # their warnings can be counted, and restore it at the end, so that an
    # error of this script still reaches the terminal.
    log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)
    stderr = os.dup(2)
    os.dup2(log.fileno(), 2)
    try:
        times = time_searches(X, y, settings, args.rounds, log.name)
    finally:
        sys.stderr.flush()
        os.dup2(stderr, 2)
        os.close(stderr)
        log.close()
        os.unlink(log.name)
    fixed = np.median(times[FIXED])
    for name in settings:
        if name != FIXED:
            median = np.median(times[name])
            print(
                f"median time, {name} / {FIXED}: {median:.1f} / "
                f"{fixed:.1f} s = {median / fixed:.2f}"
            )


def time_searches(X, y, settings, rounds, log_path):
    """Wall times of each setting's search; prints one line per search."""
    # The filters travel to the workers with scikit-learn's joblib wrapper.
    warnings.simplefilter("always", ConvergenceWarning)
    search(X, y, max_iter=5, tol=0)  # warm-up: starts the workers, untimed
    times = {name: [] for name in settings}
    for _ in range(rounds):
        for name, params in settings.items():
            settle()
            position = os.path.getsize(log_path)
            start = time.perf_counter()
            result = search(X, y, **params)
            times[name].append(time.perf_counter() - start)
            sys.stderr.flush()
            with open(log_path) as lines:
                lines.seek(position)
                n_warnings = lines.read().count(": ConvergenceWarning:")
            print(
                f"{name}: {times[name][-1]:.1f} s, best {result.best_params_}, "
                f"CV accuracy {result.best_score_:.4f}, ConvergenceWarnings "
                f"{n_warnings}, the refit stopped after "
                f"{result.best_estimator_[1].n_iter_} iterations",
                flush=True,
            )
    return times


if __name__ == "__main__":
    main()
