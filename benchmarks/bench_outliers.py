"""Outlier detection: the sparse autoencoder against scikit-learn's detectors.

Run from the repository root (about 15 seconds on 2 idle cores, no download)::

    python benchmarks/bench_outliers.py

Novelty detection on three data sets: every method is fitted on normal
samples only and scores a test set of held-out normal samples and outliers.

1. digits: trained on 70 % of the classes 0-4; tested on the other 30 %
   (inliers) and on every 5-9 (outliers);
2. breast cancer: trained on 70 % of the benign tumours; tested on the other
   30 % (inliers) and on every malignant one (outliers);
3. synthetic, 500 features: inliers near an 8-dimensional non-linear
   manifold, ``sigmoid(Z @ A)`` with ``Z`` uniform in [-1, 1] plus Gaussian
   noise (standard deviation 0.1); each outlier is an inlier with a random
   10 % of its features taken from another inlier, so that every feature
   keeps its normal range and only the relations between features break.

Digits are divided by 16 (their pixel range); the other inputs are scaled to
[0, 1] with a MinMaxScaler fitted on the training rows. Methods:
SparseAutoencoderOutlierDetector, IsolationForest,
LocalOutlierFactor(novelty=True), OneClassSVM, and PCA reconstruction error
(PCA with as many components as the autoencoder has hidden units). ROC AUC
and average precision take the outliers as the positive class and
``-decision_function`` (``-score_samples`` for PCA) as their score. Fit and
score times are one run each (wall clock), not medians: read them as orders
of magnitude.

The last table checks ``contamination="auto"`` (Tukey's lower fence of the
training scores): the fraction of training rows it flags, and the fraction
of the test inliers and outliers that ``predict`` flags.
"""

# SPDX-License-Identifier: BSD-3-Clause

import argparse
import os
import time
import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.neighbors import LocalOutlierFactor
from sklearn.preprocessing import MinMaxScaler
from sklearn.svm import OneClassSVM

from skl_sparseae import SparseAutoencoderOutlierDetector


def _novelty_split(X, normal, seed, scale=True):
    """Train on 70 % of the normal rows; test on the rest and the others."""
    X_train, X_normal_test = train_test_split(
        X[normal], test_size=0.3, random_state=seed
    )
    X_test = np.vstack([X_normal_test, X[~normal]])
    is_outlier = np.r_[np.zeros(len(X_normal_test)), np.ones(np.sum(~normal))]
    if not scale:
        return X_train, X_test, is_outlier
    scaler = MinMaxScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), is_outlier


def digits(seed):
    X, y = load_digits(return_X_y=True)
    # Pixel intensities are 0-16: one scale for all pixels, so that a pixel
    # that is always blank in 0-4 is not blown up in 5-9.
    return _novelty_split(X / 16.0, y <= 4, seed, scale=False)


def breast_cancer(seed):
    X, y = load_breast_cancer(return_X_y=True)
    return _novelty_split(X, y == 1, seed)  # 1 is benign


def synthetic(seed, n_features=500, n_latent=8, n_normal=2500, n_outliers=150):
    rng = np.random.RandomState(seed)
    A = rng.normal(scale=1.5, size=(n_latent, n_features))
    Z = rng.uniform(-1, 1, size=(n_normal + n_outliers, n_latent))
    X = 1 / (1 + np.exp(-(Z @ A)))
    X += rng.normal(scale=0.1, size=X.shape)
    # Each outlier takes a random 10 % of its features from another inlier.
    donors = rng.randint(n_normal, size=n_outliers)
    swapped = rng.uniform(size=(n_outliers, n_features)) < 0.1
    outliers = X[n_normal:]
    outliers[swapped] = X[donors][swapped]
    normal = np.r_[np.ones(n_normal, dtype=bool), np.zeros(n_outliers, dtype=bool)]
    return _novelty_split(X, normal, seed)


class PCAReconstruction:
    """PCA's reconstruction error as a novelty score (higher is more normal)."""

    def __init__(self, n_components):
        self.n_components = n_components

    def fit(self, X):
        self.pca_ = PCA(n_components=self.n_components).fit(X)
        return self

    def decision_function(self, X):
        residual = X - self.pca_.inverse_transform(self.pca_.transform(X))
        return -0.5 * np.sum(residual**2, axis=1)


DATA_SETS = {
    "digits 0-4 vs 5-9": (digits, 32),
    "breast cancer, benign vs malignant": (breast_cancer, 8),
    "synthetic manifold, 500 features": (synthetic, 16),
}


def methods(n_components, seed):
    return {
        "SparseAutoencoderOutlierDetector": SparseAutoencoderOutlierDetector(
            # The estimator's defaults, as in docs/outlier_detection.rst.
            n_components=n_components,
            random_state=seed,
        ),
        "IsolationForest": IsolationForest(n_estimators=200, random_state=seed),
        "LocalOutlierFactor(novelty=True)": LocalOutlierFactor(novelty=True),
        "OneClassSVM": OneClassSVM(gamma="scale", nu=0.1),
        f"PCA reconstruction ({n_components} components)": PCAReconstruction(
            n_components
        ),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    print("1-minute load average at the start: %.2f" % os.getloadavg()[0])
    rows, auto_rows = [], []
    for data_name, (load, n_components) in DATA_SETS.items():
        X_train, X_test, is_outlier = load(args.seed)
        print(
            f"{data_name}: train {X_train.shape}, test {len(X_test)} "
            f"({int(is_outlier.sum())} outliers)",
            flush=True,
        )
        for method_name, estimator in methods(n_components, args.seed).items():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                start = time.perf_counter()
                estimator.fit(X_train)
                fit_time = time.perf_counter() - start
            start = time.perf_counter()
            score = -estimator.decision_function(X_test)
            score_time = time.perf_counter() - start
            rows.append(
                (
                    data_name,
                    method_name,
                    roc_auc_score(is_outlier, score),
                    average_precision_score(is_outlier, score),
                    fit_time,
                    score_time,
                )
            )
            if isinstance(estimator, SparseAutoencoderOutlierDetector):
                flagged = estimator.predict(X_test) == -1
                auto_rows.append(
                    (
                        data_name,
                        np.mean(estimator.predict(X_train) == -1),
                        np.mean(flagged[is_outlier == 0]),
                        np.mean(flagged[is_outlier == 1]),
                    )
                )

    print()
    print("| data set | method | ROC AUC | average precision | fit (s) | score (s) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for data_name, method_name, auc, ap, fit_time, score_time in rows:
        print(
            f"| {data_name} | {method_name} | {auc:.3f} | {ap:.3f} | "
            f"{fit_time:.3f} | {score_time:.4f} |"
        )
    print()
    print('contamination="auto" (Tukey\'s lower fence of the training scores):')
    print()
    print(
        "| data set | training rows flagged | test inliers flagged | "
        "test outliers flagged |"
    )
    print("| --- | --- | --- | --- |")
    for data_name, train_rate, false_rate, true_rate in auto_rows:
        print(
            f"| {data_name} | {train_rate:.3f} | {false_rate:.3f} | {true_rate:.3f} |"
        )


if __name__ == "__main__":
    main()
