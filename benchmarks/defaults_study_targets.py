"""The defaults study's targets: benchmark d, and the README's grid search.

Run from the repository root, on a shared machine niced and on one BLAS
thread::

    python benchmarks/defaults_study_targets.py --out targets.json
    python benchmarks/defaults_study_targets.py --quick           # smoke test

For the former defaults (``FORMER``), the fixed ``CANDIDATES`` and, when
the screen's rows are in ``--out``, the screen's best (see
``defaults_study.py``): benchmark d's protocol on the nudged digits (100
units, rho=0.01, beta=3, macro-F1 of the RBM example's classifier) against
BernoulliRBM; the README's grid search (digits, 64 units, 5-fold CV over rho
{0.01, 0.05} x beta {1, 3}, best CV accuracy). The third target, the
strokes' accuracy and fit time against the former defaults', is read from
``defaults_study.py``'s confirmation.
"""

# SPDX-License-Identifier: BSD-3-Clause

import time
import warnings

from _datasets import (
    nudged_digits,
)
from _study import (
    FORMER,
    confirm_configs,
    resolve,
)
from _study_report import study_main, study_parser
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from skl_sparseae import SparseAutoencoderTransformer


def run_targets(quick, records):
    """Benchmark d against the RBM, and the README's grid search."""
    from sklearn.neural_network import BernoulliRBM

    configs = confirm_configs(records)
    X_train, X_test, y_train, y_test = nudged_digits()
    if quick:
        X_train, y_train = X_train[:500], y_train[:500]
    print(f"\nbenchmark d: nudged digits, train {X_train.shape}", flush=True)

    def rbm_f1(codes_train, codes_test):
        classifier = LogisticRegression(max_iter=1000, C=6000)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            classifier.fit(codes_train, y_train)
        return f1_score(y_test, classifier.predict(codes_test), average="macro")

    start = time.perf_counter()
    rbm = BernoulliRBM(n_components=100, n_iter=10, learning_rate=0.06, random_state=0)
    rbm.fit(X_train)
    rbm_seconds = time.perf_counter() - start
    f1 = rbm_f1(rbm.transform(X_train), rbm.transform(X_test))
    records.append(dict(stage="d", config="BernoulliRBM", f1=f1, seconds=rbm_seconds))
    print(f"  BernoulliRBM  macro-F1 {f1:.4f}  {rbm_seconds:.1f} s", flush=True)
    for label, params in configs.items():
        for variant, extra in (("d", dict(rho=0.01, beta=3.0)), ("defaults", {})):
            full = resolve(dict(FORMER, **{**params, **extra}), X_train, "sigmoid")
            if full["solver"] != "lbfgs":
                full.pop("decoder_scaling")
            model = SparseAutoencoderTransformer(
                n_components=100, random_state=0, max_iter=30 if quick else 400, **full
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                start = time.perf_counter()
                model.fit(X_train)
                seconds = time.perf_counter() - start
            f1 = rbm_f1(model.transform(X_train), model.transform(X_test))
            records.append(
                dict(
                    stage="d",
                    config=label,
                    variant=variant,
                    f1=f1,
                    seconds=seconds,
                    n_iter=int(model.n_iter_),
                )
            )
            print(
                f"  {label:28s} {variant:8s} macro-F1 {f1:.4f}  {model.n_iter_} it  "
                f"{seconds:.1f} s",
                flush=True,
            )
    yield

    X, y = load_digits(return_X_y=True)
    if quick:
        X, y = X[:400], y[:400]
    print("\nREADME grid search: digits, 64 units, 5-fold CV", flush=True)
    grid = {
        "sparseautoencodertransformer__rho": [0.01, 0.05],
        "sparseautoencodertransformer__beta": [1, 3],
    }
    for label, params in configs.items():
        full = resolve(
            dict(FORMER, **params), MinMaxScaler().fit_transform(X), "sigmoid"
        )
        full.pop("rho"), full.pop("beta")
        pipe = make_pipeline(
            MinMaxScaler(),
            SparseAutoencoderTransformer(
                n_components=64, random_state=0, max_iter=30 if quick else 400, **full
            ),
            LogisticRegression(max_iter=1000),
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start = time.perf_counter()
            search = GridSearchCV(pipe, grid, n_jobs=1).fit(X, y)
            seconds = time.perf_counter() - start
        best = {k.split("__")[1]: v for k, v in search.best_params_.items()}
        records.append(
            dict(
                stage="grid",
                config=label,
                best=float(search.best_score_),
                best_params=best,
                seconds=seconds,
            )
        )
        print(
            f"  {label:28s} best CV {search.best_score_:.4f} at {best}  "
            f"{seconds:.1f} s",
            flush=True,
        )
    yield


def main(argv=None):
    stages = {
        "targets": lambda args, problems, records: run_targets(args.quick, records)
    }
    study_main(study_parser(__doc__, stages), stages, argv)


if __name__ == "__main__":
    main()
