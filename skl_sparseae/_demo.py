"""The main job: sparse autoencoder features for digit classification.

Run with ``python -m skl_sparseae``. Uses scikit-learn's bundled digits, so it
needs no download.
"""

# SPDX-License-Identifier: BSD-3-Clause

import argparse
import time
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from ._sparse_autoencoder import SparseAutoencoderTransformer


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m skl_sparseae",
        description=(
            "Fit a sparse autoencoder on scikit-learn's digits and compare a "
            "logistic regression on its features with one on raw pixels."
        ),
    )
    parser.add_argument("--n-components", type=int, default=100)
    parser.add_argument("--rho", type=float, default=0.05)
    parser.add_argument("--beta", type=float, default=3.0)
    parser.add_argument("--alpha", type=float, default=1e-4)
    parser.add_argument("--max-iter", type=int, default=400)
    parser.add_argument("--random-state", type=int, default=0)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=args.random_state
    )
    scaler = MinMaxScaler().fit(X_train)
    # Test pixels can leave the training range; the sigmoid decoder wants [0, 1].
    X_train = scaler.transform(X_train)
    X_test = np.clip(scaler.transform(X_test), 0.0, 1.0)

    sae = SparseAutoencoderTransformer(
        n_components=args.n_components,
        rho=args.rho,
        beta=args.beta,
        alpha=args.alpha,
        max_iter=args.max_iter,
        random_state=args.random_state,
    )
    pipeline = make_pipeline(sae, LogisticRegression(max_iter=2000))
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        pipeline.fit(X_train, y_train)
    fit_seconds = time.perf_counter() - start
    sae_accuracy = pipeline.score(X_test, y_test)

    raw = LogisticRegression(max_iter=2000).fit(X_train, y_train)
    raw_accuracy = raw.score(X_test, y_test)

    converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    print(f"digits: {X_train.shape[0]} training and {X_test.shape[0]} test images")
    print(
        f"sparse autoencoder: n_components={args.n_components}, rho={args.rho}, "
        f"beta={args.beta}, alpha={args.alpha}, {sae.n_iter_} L-BFGS iterations"
        f"{'' if converged else ' (max_iter reached)'}, loss={sae.loss_:.4f}"
    )
    print(f"test accuracy, SAE features + LogisticRegression: {sae_accuracy:.4f}")
    print(f"test accuracy, raw pixels   + LogisticRegression: {raw_accuracy:.4f}")
    print(
        f"mean hidden activation: {sae.mean_activation_.mean():.4f} "
        f"(target rho={args.rho})"
    )
    print(
        "fraction of units with mean activation > 0.1: "
        f"{np.mean(sae.mean_activation_ > 0.1):.3f}"
    )
    print(f"fit time (autoencoder + classifier): {fit_seconds:.1f} s")
    return 0
