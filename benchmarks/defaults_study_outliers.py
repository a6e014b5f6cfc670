"""The defaults study's outlier-detector recipes.

Run from the repository root, on a shared machine niced and on one BLAS
thread::

    python benchmarks/defaults_study_outliers.py --out outliers.json
    python benchmarks/defaults_study_outliers.py --quick          # smoke test
    python benchmarks/defaults_study_outliers.py --seeds 1 2 --problems digits \
        --detectors "var rule 5e-5, b3" IsolationForest --out outliers.json

``SparseAutoencoderOutlierDetector`` with one class held out as the
outliers, on novelty (inliers only) and contaminated (2 % of the training
rows from the held-out class) training: MinMaxScaler and the sigmoid
decoder against StandardScaler and the identity decoder, L-BFGS against
Adam, the former defaults (``FORMER``) against the ``CANDIDATES`` of
``_study.py``; ROC AUC of ``-decision_function`` and the fit time, next to
IsolationForest and LocalOutlierFactor. A seed (``--seeds``) sets the
detector's and IsolationForest's ``random_state`` and which held-out rows
contaminate the training set; the data sets and their splits stay fixed.
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
    FORMER,
    FORMER_LABEL,
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


def anomaly_tasks(problems=None):
    """(name, X_train, X_test, y_train, y_test, held-out classes, units) of the panel.

    Only the problems named in ``problems``, if given.

    The units are the detector's default (``n_features // 4``) but on the
    strokes, which take the transformer panel's 100 (196 would double the
    cost). The patches are left out: with the brightness and contrast
    whitened away, no method (IsolationForest and LocalOutlierFactor
    included) tells one photograph's patches from the others' (ROC AUC
    0.35-0.65 in the smoke run), so the task measures nothing.
    """
    tasks = (
        ("digits", lambda: _digits(0), (0, 5), None),
        ("strokes 28x28", lambda: stroke_digits(1500, 1000), (0,), 100),
        ("breast cancer", breast_cancer, (0,), None),  # malignant
        ("gaussian table", lambda: gaussian_table(3000), (0, 2), None),
    )
    for name, load, held_out, units in tasks:
        if problems is None or name in problems:
            yield (name, *load(), held_out, units)


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


BASELINES = {
    "IsolationForest": lambda seed: IsolationForest(
        n_estimators=200, random_state=seed
    ),
    "LocalOutlierFactor": lambda seed: LocalOutlierFactor(novelty=True),
}


def detector_settings(names=None):
    """``FORMER`` and the ``CANDIDATES``, or those of them in ``names``."""
    settings = {FORMER_LABEL: {}}
    settings.update(CANDIDATES)
    return {k: v for k, v in settings.items() if names is None or k in names}


def run_outliers(quick, records, names=None, seeds=(0,), problems=None):
    for name, X_train, X_test, y_train, y_test, held_out, units in anomaly_tasks(
        problems
    ):
        if quick:
            units = 8
            keep = np.random.RandomState(0).permutation(len(X_train))[:300]
            X_train, y_train = X_train[keep], y_train[keep]
            keep = np.random.RandomState(1).permutation(len(X_test))[:300]
            X_test, y_test = X_test[keep], y_test[keep]
        print(f"\noutliers: {name}, train {X_train.shape}", flush=True)
        for seed, outlier, contaminated in itertools.product(
            seeds, held_out, (False, True)
        ):
            A, B, is_outlier = anomaly_split(
                X_train, X_test, y_train, y_test, outlier, contaminated, seed
            )
            setting = "contaminated" if contaminated else "novelty"
            base = dict(
                problem=name,
                stage="outliers",
                outlier=int(outlier),
                setting=setting,
                seed=seed,
            )
            for label, make in BASELINES.items():
                if names is not None and label not in names:
                    continue
                scaler = StandardScaler().fit(A)
                start = time.perf_counter()
                model = make(seed).fit(scaler.transform(A))
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
                full = resolve(dict(FORMER, **params, solver=solver), A_s, decoder)
                if solver != "lbfgs":
                    full.pop("decoder_scaling")
                model = SparseAutoencoderOutlierDetector(
                    n_components=units,
                    decoder_activation=decoder,
                    random_state=seed,
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
                and r.get("seed", 0) == seed
            ]
            print(
                f"  seed {seed}, class {outlier} {setting}: " + ", ".join(line),
                flush=True,
            )
            yield


def main(argv=None):
    stages = {
        "outliers": lambda args, problems, records: run_outliers(
            args.quick, records, args.detectors, args.seeds, problems
        )
    }
    parser = study_parser(__doc__, stages)
    parser.add_argument(
        "--detectors",
        nargs="+",
        default=None,
        help="outliers: only these settings (names of CANDIDATES, "
        f'"{FORMER_LABEL}", IsolationForest, LocalOutlierFactor)',
    )
    parser.add_argument(
        "--seeds",
        nargs="+",
        type=int,
        default=[0],
        help="outliers: these seeds (random_state and the contaminating rows)",
    )
    study_main(parser, stages, argv)


if __name__ == "__main__":
    main()
