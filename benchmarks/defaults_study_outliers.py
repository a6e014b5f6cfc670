"""The defaults study's outlier-detector recipes.

Run from the repository root, on a shared machine niced and on one BLAS
thread::

    python benchmarks/defaults_study_outliers.py --out outliers.json
    python benchmarks/defaults_study_outliers.py --quick          # smoke test

``SparseAutoencoderOutlierDetector`` with one class held out as the
outliers, on novelty (inliers only) and contaminated (2 % of the training
rows from the held-out class) training: MinMaxScaler and the sigmoid
decoder against StandardScaler and the identity decoder, L-BFGS against
Adam, today's defaults against the ``CANDIDATES`` of ``_study.py``; ROC AUC
of ``-decision_function`` and the fit time, next to IsolationForest and
LocalOutlierFactor.
"""

# SPDX-License-Identifier: BSD-3-Clause

import itertools
import time
import warnings

import numpy as np
from _datasets import (
    breast_cancer,
    gaussian_table,
    stroke_digits,
)
from _study import (
    CANDIDATES,
    TODAY,
    _digits,
    resolve,
)
from _study_report import study_main, study_parser
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import LocalOutlierFactor
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from skl_sparseae import SparseAutoencoderOutlierDetector

# --- outliers --------------------------------------------------------------


def anomaly_tasks(quick):
    """(name, X_train, X_test, y_train, y_test, held-out classes, units) of the panel.

    The units are the detector's default (``n_features // 4``) but on the
    strokes, which take the transformer panel's 100 (196 would double the
    cost). The patches are left out: with the brightness and contrast
    whitened away, no method (IsolationForest and LocalOutlierFactor
    included) tells one photograph's patches from the others' (ROC AUC
    0.35-0.65 in the smoke run), so the task measures nothing.
    """
    X_train, X_test, y_train, y_test = _digits(0)
    yield "digits", X_train, X_test, y_train, y_test, (0, 5), None
    X_train, X_test, y_train, y_test = stroke_digits(1500, 1000)
    yield "strokes 28x28", X_train, X_test, y_train, y_test, (0,), 100
    X_train, X_test, y_train, y_test = breast_cancer()
    yield "breast cancer", X_train, X_test, y_train, y_test, (0,), None  # malignant
    X_train, X_test, y_train, y_test = gaussian_table(3000)
    yield "gaussian table", X_train, X_test, y_train, y_test, (0, 2), None


def anomaly_split(X_train, X_test, y_train, y_test, outlier, contaminated, seed=0):
    """Training rows (inliers, plus 2 % outliers if contaminated), test rows, labels.

    2 %, not more: a tenth of the rows is a whole class of the ten-class
    problems, which the autoencoder then learns to reconstruct.
    """
    normal = y_train != outlier
    train = np.flatnonzero(normal)
    if contaminated:
        n = int(round(0.02 / 0.98 * len(train)))
        rng = np.random.RandomState(seed)
        extra = rng.choice(
            np.flatnonzero(~normal), min(n, np.sum(~normal)), replace=False
        )
        train = np.sort(np.concatenate([train, extra]))
    return X_train[train], X_test, (y_test == outlier).astype(int)


def detector_settings(names=None):
    """Today's defaults and the ``CANDIDATES``, or those of them in ``names``."""
    settings = {"today's defaults": {}}
    settings.update(CANDIDATES)
    return {k: v for k, v in settings.items() if names is None or k in names}


def run_outliers(quick, records, names=None):
    for name, X_train, X_test, y_train, y_test, held_out, units in anomaly_tasks(quick):
        if quick:
            units = 8
            keep = np.random.RandomState(0).permutation(len(X_train))[:300]
            X_train, y_train = X_train[keep], y_train[keep]
            keep = np.random.RandomState(1).permutation(len(X_test))[:300]
            X_test, y_test = X_test[keep], y_test[keep]
        print(f"\noutliers: {name}, train {X_train.shape}", flush=True)
        for outlier, contaminated in itertools.product(held_out, (False, True)):
            A, B, is_outlier = anomaly_split(
                X_train, X_test, y_train, y_test, outlier, contaminated
            )
            setting = "contaminated" if contaminated else "novelty"
            base = dict(
                problem=name, stage="outliers", outlier=int(outlier), setting=setting
            )
            baselines = (
                (
                    "IsolationForest",
                    lambda: IsolationForest(n_estimators=200, random_state=0),
                ),
                ("LocalOutlierFactor", lambda: LocalOutlierFactor(novelty=True)),
            )
            if names is not None and "today's defaults" not in names:
                baselines = ()
            for label, make in baselines:
                scaler = StandardScaler().fit(A)
                start = time.perf_counter()
                model = make().fit(scaler.transform(A))
                seconds = time.perf_counter() - start
                auc = roc_auc_score(
                    is_outlier, -model.decision_function(scaler.transform(B))
                )
                records.append(dict(base, config=label, auc=auc, seconds=seconds))
            for (label, params), recipe, solver in itertools.product(
                detector_settings(names).items(),
                ("minmax+sigmoid", "standard+identity"),
                ("lbfgs", "adam"),
            ):
                if recipe == "minmax+sigmoid":
                    scaler, decoder = MinMaxScaler().fit(A), "sigmoid"
                else:
                    scaler, decoder = StandardScaler().fit(A), "identity"
                A_s = scaler.transform(A)
                full = resolve(dict(TODAY, **params, solver=solver), A_s, decoder)
                if solver != "lbfgs":
                    full.pop("decoder_scaling")
                model = SparseAutoencoderOutlierDetector(
                    n_components=units,
                    decoder_activation=decoder,
                    random_state=0,
                    max_iter=30 if quick else 400,
                    **full,
                )
                with warnings.catch_warnings():
                    # MinMaxScaler takes test rows out of [0, 1]: scored as
                    # they come, and the warning says nothing new.
                    warnings.simplefilter("ignore")
                    start = time.perf_counter()
                    model.fit(A_s)
                    seconds = time.perf_counter() - start
                    score = -model.decision_function(scaler.transform(B))
                auc = roc_auc_score(is_outlier, score)
                records.append(
                    dict(
                        base,
                        config=label,
                        recipe=recipe,
                        solver=solver,
                        auc=auc,
                        seconds=seconds,
                        n_iter=int(model.n_iter_),
                    )
                )
            line = [
                f"{r['config'][:10]}/{r.get('recipe', '-')[:3]}/"
                f"{r.get('solver', '-')[:2]} {r['auc']:.3f}"
                for r in records
                if r.get("stage") == "outliers"
                and r["problem"] == name
                and r["outlier"] == outlier
                and r["setting"] == setting
            ]
            print(f"  class {outlier} {setting}: " + ", ".join(line), flush=True)
        yield


def main(argv=None):
    stages = {
        "outliers": lambda args, problems, records: run_outliers(
            args.quick, records, args.detectors
        )
    }
    parser = study_parser(__doc__, stages)
    parser.add_argument(
        "--detectors",
        nargs="+",
        default=None,
        help="outliers: only these settings (names of CANDIDATES or \"today's "
        'defaults"; the baselines come with the latter)',
    )
    study_main(parser, stages, argv)


if __name__ == "__main__":
    main()
