"""Which defaults carry beyond the digits: a staged study on a panel of seven data sets.

Every data set is made from what scikit-learn and scikit-image ship (see
``_datasets.py``); nothing is downloaded. Run from the repository root, on a
shared machine niced and on one BLAS thread::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 nice -n 19 \\
        python benchmarks/defaults_study.py --out study.json      # about 90 minutes
    python benchmarks/defaults_study.py --quick                   # smoke test, seconds
    python benchmarks/defaults_study.py --only screen --problems digits breast
    python benchmarks/defaults_study.py --report study.json       # tables, no fits

The panel (training rows at the screen / at full size; test rows; units):

====================  =========  ===============  =======  =====  ========
problem               features   train rows       test     units  decoder
====================  =========  ===============  =======  =====  ========
digits                64         1,437 / 1,437    360      64     sigmoid
nudged digits         64         2,000 / 7,188    1,797    100    sigmoid
strokes 28x28         784        1,000 / 4,000    2,000    100    sigmoid
patches 16x16         256        2,000 / 5,000    2,000    100    sigmoid
patches 8x8 (ZCA)     64         3,000 / 8,000    2,000    64     identity
breast cancer         30         455 / 455        114      16     identity
gaussian table        40         2,000 / 4,000    1,000    32     identity
====================  =========  ===============  =======  =====  ========

Digits are divided by 16; the nudged digits are scikit-learn's RBM example
data with its split; the strokes are the digits upscaled to 28x28 with
random rotations (up to 15 degrees) and shifts (up to 2 pixels), no source
digit on both sides (the generator makes tens of thousands of rows; the
fits take a subsample that two shared cores afford); the patches come from
ten photographs (scikit-learn's two, eight of ``skimage.data``), labelled by
photograph, training patches from the top 70 % of each photograph and test
patches from the rest; the tables are standardised on their training rows.
The screen's training rows are a random subsample of the full training set.

For each fit the study records:

- ``acc``: the test accuracy of ``make_pipeline(StandardScaler(),
  LogisticRegression(max_iter=1000))`` fitted on the codes of all the
  training rows; ``few``: the same with 20 labelled rows per class, the mean
  over 5 draws of those rows (the same draws for every fit);
- ``fve``: the fraction of the test set's variance (about the training
  mean) that ``inverse_transform(transform(X_test))`` explains;
- ``act``: the mean of ``mean_activation_``, next to ``rho``;
- the fit's iterations (epochs for Adam), wall time and the 1-minute load.

The stages (``--only``):

1. ``screen``: the grid beta in {1, 3} x alpha in {1e-4, 3e-4, 1e-3, 3e-3}
   x rho in {0.05, 0.1} x decoder_scaling in {1, "auto"} for L-BFGS (32
   fits) and the same without decoder_scaling for Adam (16), one seed, at
   the screen's sizes, plus the defaults with a second seed (the noise of a
   refit). Today's defaults are the grid's cell (L-BFGS, beta 1, alpha 1e-4,
   rho 0.05, scaling 1).
2. ``confirm``: today's defaults, the screen's best (chosen by the rule of
   :func:`screen_choice` when the screen's rows are in ``--out``) and the
   fixed ``CANDIDATES``, at full size, two seeds each (one on the
   strokes and the 16x16 patches), with raw features and PCA (as many
   components as units) as reference points.
3. ``targets``: the issue's three targets for each candidate: benchmark d's
   protocol on the nudged digits (100 units, rho=0.01, beta=3, macro-F1 of
   the RBM example's classifier) against BernoulliRBM; the README's grid
   search (digits, 64 units, 5-fold CV over rho {0.01, 0.05} x beta {1, 3},
   best CV accuracy). The third, the strokes' accuracy and fit time against
   today's, is read from the confirmation.
4. ``outliers``: ``SparseAutoencoderOutlierDetector`` with one class held
   out as the outliers, on novelty (inliers only) and contaminated (2 % of
   the training rows from the held-out class) training: MinMaxScaler and
   the sigmoid decoder against StandardScaler and the identity decoder,
   L-BFGS against Adam, today's defaults against the candidates; ROC AUC of
   ``-decision_function`` and the fit time, next to IsolationForest and
   LocalOutlierFactor.

A data-computed weight decay is written ``alpha=(statistic, c)``, meaning
``c`` times a statistic of the training rows (``RULES``): ``"var"`` is the
total variance (the sum of the features' variances), ``"d"`` the number of
features.
"""

# SPDX-License-Identifier: BSD-3-Clause

import argparse
import itertools
import json
import os
import time
import warnings

import numpy as np
from _common import machine_description
from _datasets import (
    breast_cancer,
    gaussian_table,
    labelled_patches,
    nudged_digits,
    stroke_digits,
)
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neighbors import LocalOutlierFactor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from skl_sparseae import SparseAutoencoderOutlierDetector, SparseAutoencoderTransformer

TODAY = dict(solver="lbfgs", beta=1.0, alpha=1e-4, rho=0.05, decoder_scaling=1.0)

RULES = {
    "var": lambda X: float(np.sum(np.var(X, axis=0))),
    "d": lambda X: float(X.shape[1]),
}

# Fixed candidates of the confirmation, beside the screen's best: the
# CS294A/UFLDL settings, and weight decays computed from the data, c times
# the total variance, with c from the screen: the best alpha of each problem
# over its total variance was 6e-5 to 8e-5 on five of the seven (see the
# README); the decoder scaled for the sigmoid decoder only.
RULE = dict(rho=0.05, decoder_scaling="sigmoid-auto")
CANDIDATES = {
    "UFLDL (b3 a3e-3 r0.1)": dict(beta=3.0, alpha=3e-3, rho=0.1),
    "var rule 5e-5, b1": dict(RULE, beta=1.0, alpha=("var", 5e-5)),
    "var rule 5e-5, b3": dict(RULE, beta=3.0, alpha=("var", 5e-5)),
    "var rule 1e-4, b3": dict(RULE, beta=3.0, alpha=("var", 1e-4)),
}

# Seeds of the confirmation; one on the strokes and the 16x16 patches, whose
# fits at full size cost about a minute each on two shared cores.
CONFIRM_SEEDS = (0, 1)
ONE_SEED = ("strokes 28x28", "patches 16x16")

FEW_PER_CLASS = 20
FEW_DRAWS = 5


# --- the panel -------------------------------------------------------------


def _digits(seed):
    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16.0, y, test_size=0.2, stratify=y, random_state=seed)


PROBLEMS = {
    # name: (loader(quick), decoder, units, screen rows, full rows)
    "digits": (lambda quick: _digits(0), "sigmoid", 64, None, None),
    "nudged digits": (lambda quick: nudged_digits(), "sigmoid", 100, 2000, None),
    "strokes 28x28": (
        lambda quick: stroke_digits(4000, 2000),
        "sigmoid",
        100,
        1000,
        4000,
    ),
    "patches 16x16": (
        lambda quick: labelled_patches(16, 5000, 2000, "olshausen-field"),
        "sigmoid",
        100,
        2000,
        5000,
    ),
    "patches 8x8 ZCA": (
        lambda quick: labelled_patches(8, 8000, 2000, "zca"),
        "identity",
        64,
        3000,
        8000,
    ),
    "breast cancer": (lambda quick: breast_cancer(), "identity", 16, None, None),
    "gaussian table": (lambda quick: gaussian_table(), "identity", 32, 2000, 4000),
}


def load_problem(name, stage, quick):
    """The problem's train/test arrays at the stage's size, and its settings."""
    loader, decoder, units, screen_rows, full_rows = PROBLEMS[name]
    X_train, X_test, y_train, y_test = loader(quick)
    rows = screen_rows if stage == "screen" else full_rows
    if quick:
        rows, units = min(300, len(X_train)), min(units, 16)
        keep = np.random.RandomState(1).permutation(len(X_test))[:300]
        X_test, y_test = X_test[keep], y_test[keep]
    if rows is not None:
        # Some training sets are ordered by class: draw the subsample.
        keep = np.sort(np.random.RandomState(0).permutation(len(X_train))[:rows])
        X_train, y_train = X_train[keep], y_train[keep]
    return X_train, X_test, y_train, y_test, decoder, units


# --- one fit and its scores ------------------------------------------------


def resolve(params, X, decoder):
    """Estimator parameters, with a rule's alpha computed from X.

    ``decoder_scaling="sigmoid-auto"`` is "auto" for the sigmoid decoder and
    1 for the identity decoder.
    """
    params = dict(params)
    if isinstance(params.get("alpha"), (tuple, list)):
        statistic, c = params["alpha"]
        params["alpha"] = c * RULES[statistic](X)
    if params.get("decoder_scaling") == "sigmoid-auto":
        params["decoder_scaling"] = "auto" if decoder == "sigmoid" else 1.0
    return params


def config_name(params):
    p = dict(TODAY, **params)
    alpha = p["alpha"]
    alpha = (
        f"{alpha[1]:g}*{alpha[0]}" if isinstance(alpha, (tuple, list)) else f"{alpha:g}"
    )
    name = f"{p['solver']} b{p['beta']:g} a{alpha} r{p['rho']:g}"
    if p["solver"] == "lbfgs":
        scaling = {1.0: "1", "sigmoid-auto": "auto/1"}.get(
            p["decoder_scaling"], p["decoder_scaling"]
        )
        name += f" s{scaling}"
    return name


def few_label_draws(y_train, seed=0):
    """FEW_DRAWS index sets of FEW_PER_CLASS training rows per class."""
    rng = np.random.RandomState(seed)
    draws = []
    for _ in range(FEW_DRAWS):
        rows = []
        for c in np.unique(y_train):
            members = np.flatnonzero(y_train == c)
            rows.append(rng.choice(members, min(FEW_PER_CLASS, len(members)), False))
        draws.append(np.concatenate(rows))
    return draws


def classifier_scores(codes_train, codes_test, y_train, y_test, draws):
    """Accuracy with all labels, and the mean over the few-label draws."""

    def accuracy(rows):
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(codes_train[rows], y_train[rows])
        return accuracy_score(y_test, model.predict(codes_test))

    full = accuracy(slice(None))
    few = float(np.mean([accuracy(rows) for rows in draws]))
    return full, few


def explained(X_test, X_hat, mean):
    return 1 - np.sum((X_test - X_hat) ** 2) / np.sum((X_test - mean) ** 2)


def evaluate(name, stage, params, data, seed, quick):
    """Fit one configuration and score it; returns the record."""
    X_train, X_test, y_train, y_test, decoder, units, draws = data
    full = resolve(dict(TODAY, **params), X_train, decoder)
    estimator = SparseAutoencoderTransformer(
        n_components=units,
        decoder_activation=decoder,
        random_state=seed,
        max_iter=30 if quick else 400,
        **full,
    )
    load = os.getloadavg()[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        estimator.fit(X_train)
        seconds = time.perf_counter() - start
    codes_train, codes_test = estimator.transform(X_train), estimator.transform(X_test)
    acc, few = classifier_scores(codes_train, codes_test, y_train, y_test, draws)
    fve = explained(X_test, estimator.inverse_transform(codes_test), X_train.mean(0))
    record = dict(
        problem=name,
        stage=stage,
        config=config_name(params),
        params={k: v for k, v in params.items()},
        alpha=full["alpha"],
        seed=seed,
        rows=len(X_train),
        variance=float(np.sum(np.var(X_train, axis=0))),
        acc=float(acc),
        few=few,
        fve=float(fve),
        act=float(np.mean(estimator.mean_activation_)),
        rho=full["rho"],
        n_iter=int(estimator.n_iter_),
        seconds=seconds,
        load=load,
    )
    print(
        f"  {record['config']:32s} seed {seed}  acc {acc:.3f}  few {few:.3f}  "
        f"fve {fve:+.3f}  act {record['act']:.3f}/{record['rho']:g}  "
        f"{record['n_iter']:3d} it  {seconds:6.1f} s  load {load:.1f}",
        flush=True,
    )
    return record


def reference_scores(name, data):
    """Raw features and PCA (as many components as units), as reference points."""
    X_train, X_test, y_train, y_test, decoder, units, draws = data
    rows = []
    pca = PCA(n_components=min(units, X_train.shape[1]), random_state=0).fit(X_train)
    for label, (a, b) in {
        "raw features": (X_train, X_test),
        f"PCA {pca.n_components_}": (pca.transform(X_train), pca.transform(X_test)),
    }.items():
        acc, few = classifier_scores(a, b, y_train, y_test, draws)
        rows.append(
            dict(problem=name, stage="reference", config=label, acc=acc, few=few)
        )
        print(f"  {label:32s} acc {acc:.3f}  few {few:.3f}", flush=True)
    return rows


# --- stages ----------------------------------------------------------------


ALPHAS = (1e-4, 3e-4, 1e-3, 3e-3)


def screen_grid(quick):
    alphas = ALPHAS[::2] if quick else ALPHAS
    grid = []
    for beta, alpha, rho in itertools.product((1.0, 3.0), alphas, (0.05, 0.1)):
        for scaling in (1.0, "auto"):
            grid.append(
                dict(
                    solver="lbfgs",
                    beta=beta,
                    alpha=alpha,
                    rho=rho,
                    decoder_scaling=scaling,
                )
            )
        grid.append(dict(solver="adam", beta=beta, alpha=alpha, rho=rho))
    return grid


def prepared(name, stage, quick):
    X_train, X_test, y_train, y_test, decoder, units = load_problem(name, stage, quick)
    draws = few_label_draws(y_train)
    print(
        f"\n{name} ({stage}): train {X_train.shape}, test {X_test.shape[0]}, "
        f"{units} units, {decoder} decoder",
        flush=True,
    )
    return X_train, X_test, y_train, y_test, decoder, units, draws


def run_screen(problems, quick, records):
    for name in problems:
        data = prepared(name, "screen", quick)
        records.append(evaluate(name, "screen", TODAY, data, 1, quick))
        for params in screen_grid(quick):
            records.append(evaluate(name, "screen", params, data, 0, quick))
        yield


def panel_deltas(records, stage):
    """Per config, per problem: the mean over seeds of (acc + few) / 2 - today's."""
    table = {}
    for r in records:
        if r["stage"] == stage:
            table.setdefault(r["config"], {}).setdefault(r["problem"], []).append(
                (r["acc"] + r["few"]) / 2
            )
    today = table[config_name(TODAY)]
    return {
        config: {
            problem: float(np.mean(scores) - np.mean(today[problem]))
            for problem, scores in by_problem.items()
            if problem in today
        }
        for config, by_problem in table.items()
    }


def screen_noise(records):
    """Per problem, |(acc + few) / 2| difference between today's two seeds."""
    today = config_name(TODAY)
    by_problem = {}
    for r in records:
        if r["stage"] == "screen" and r["config"] == today:
            by_problem.setdefault(r["problem"], []).append((r["acc"] + r["few"]) / 2)
    return {p: abs(s[0] - s[-1]) for p, s in by_problem.items()}


def screen_choice(records, n_lbfgs=1, n_adam=1):
    """The screen's best configurations, to confirm at full size.

    Ranked by the mean over the panel of the gain in (acc + few) / 2 over
    today's defaults, among the configurations that lose on no problem by
    more than twice that problem's refit noise (at least 0.01).
    """
    deltas = panel_deltas(records, "screen")
    noise = screen_noise(records)
    params = {r["config"]: r["params"] for r in records if r["stage"] == "screen"}
    n_problems = max(len(d) for d in deltas.values())
    ranked = []
    for config, by_problem in deltas.items():
        if len(by_problem) < n_problems:
            continue
        safe = all(
            delta >= -max(2 * noise.get(problem, 0), 0.01)
            for problem, delta in by_problem.items()
        )
        ranked.append((safe, float(np.mean(list(by_problem.values()))), config))
    ranked.sort(reverse=True)
    chosen = {}
    for solver, count in (("lbfgs", n_lbfgs), ("adam", n_adam)):
        picks = [c for safe, _, c in ranked if c.startswith(solver) and safe][:count]
        chosen.update({c: params[c] for c in picks})
    return chosen


def confirm_configs(records):
    configs = {"today's defaults": TODAY}
    configs.update(CANDIDATES)
    if any(r["stage"] == "screen" for r in records):
        for config, params in screen_choice(records).items():
            if config_name(params) not in map(config_name, configs.values()):
                configs[config] = params
    return configs


def run_confirm(problems, quick, records, seeds=None):
    configs = confirm_configs(records)
    print("\nconfirming: " + "; ".join(configs))
    for name in problems:
        data = prepared(name, "confirm", quick)
        if not any(r["stage"] == "reference" and r["problem"] == name for r in records):
            records.extend(reference_scores(name, data))
        these = seeds
        if these is None:
            these = CONFIRM_SEEDS[:1] if name in ONE_SEED else CONFIRM_SEEDS
        for seed in these:
            for params in configs.values():
                records.append(evaluate(name, "confirm", params, data, seed, quick))
        yield


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
            full = resolve(dict(TODAY, **{**params, **extra}), X_train, "sigmoid")
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
            dict(TODAY, **params), MinMaxScaler().fit_transform(X), "sigmoid"
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


# --- report ----------------------------------------------------------------


def row(*cells):
    """Print one row of a Markdown table."""
    print("| " + " | ".join(str(cell) for cell in cells) + " |")


def report(records):
    """Print the study's tables from its records."""
    stages = {r["stage"] for r in records}
    for stage in ("screen", "confirm"):
        if stage in stages:
            report_fits(records, stage)
    if "screen" in stages:
        report_screen_factors(records)
    if "d" in stages:
        print(
            "\nbenchmark d (nudged digits, macro-F1 of the RBM example's classifier):"
        )
        print("| setting | variant | macro-F1 | iterations | fit (s) |")
        print("| --- | --- | --- | --- | --- |")
        for r in records:
            if r["stage"] == "d":
                print(
                    f"| {r['config']} | {r.get('variant', '-')} | {r['f1']:.4f} | "
                    f"{r.get('n_iter', '-')} | {r['seconds']:.1f} |"
                )
    if "grid" in stages:
        print("\nREADME grid search (digits, 64 units, 5-fold CV):")
        print("| setting | best CV accuracy | best cell | time (s) |")
        print("| --- | --- | --- | --- |")
        for r in records:
            if r["stage"] == "grid":
                row(
                    r["config"],
                    f"{r['best']:.4f}",
                    r["best_params"],
                    f"{r['seconds']:.0f}",
                )
    if "outliers" in stages:
        report_outliers(records)


def report_fits(records, stage):
    rows = [r for r in records if r["stage"] == stage]
    problems = list(dict.fromkeys(r["problem"] for r in rows))
    print(f"\n{stage}: mean over seeds per problem and configuration")
    header = "problem configuration alpha acc few fve act/rho iterations fit(s) seeds"
    row(*header.split())
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for problem in problems:
        for r in records:
            if (
                r["stage"] == "reference"
                and r["problem"] == problem
                and stage == "confirm"
            ):
                row(
                    problem,
                    r["config"],
                    "-",
                    f"{r['acc']:.3f}",
                    f"{r['few']:.3f}",
                    *"-----",
                )
        by_config = {}
        for r in rows:
            if r["problem"] == problem:
                by_config.setdefault(r["config"], []).append(r)
        for config, rs in by_config.items():

            def mean(key):
                return float(np.mean([r[key] for r in rs]))

            print(
                f"| {problem} | {config} | {rs[0]['alpha']:.2g} | {mean('acc'):.3f} | "
                f"{mean('few'):.3f} | {mean('fve'):.3f} | {mean('act'):.3f} / "
                f"{rs[0]['rho']:g} | {mean('n_iter'):.0f} | {mean('seconds'):.1f} | "
                f"{len(rs)} |"
            )
    deltas = panel_deltas(records, stage)
    print(f"\n{stage}: gain in (acc + few) / 2 over today's defaults, per problem")
    print("| configuration | " + " | ".join(problems) + " | mean |")
    print("| --- | " + " | ".join("---" for _ in problems) + " | --- |")
    order = sorted(deltas, key=lambda c: -np.mean(list(deltas[c].values())))
    for config in order:
        cells = [f"{deltas[config].get(p, float('nan')):+.3f}" for p in problems]
        print(
            f"| {config} | "
            + " | ".join(cells)
            + f" | {np.mean(list(deltas[config].values())):+.3f} |"
        )


def path(record):
    """ "adam", "lbfgs s1" or "lbfgs sauto": the solver and the scaling."""
    if record["config"].startswith("adam"):
        return "adam"
    return "lbfgs " + record["config"].rsplit(" ", 1)[1]


def report_screen_factors(records):
    """The screen's (acc + few) / 2, and fve, per level of each factor."""
    rows = [r for r in records if r["stage"] == "screen" and r["seed"] == 0]
    problems = list(dict.fromkeys(r["problem"] for r in rows))

    def cell(selected):
        score = np.mean([(r["acc"] + r["few"]) / 2 for r in selected])
        return f"{score:.3f} ({np.mean([r['fve'] for r in selected]):.2f})"

    print("\nscreen: mean (acc + few) / 2 (and fve) over the other factors")
    row("factor", "level", *problems)
    row(*["---"] * (len(problems) + 2))
    levels = [("alpha", a, lambda r, a=a: r["alpha"] == a) for a in ALPHAS]
    levels += [
        (key, v, lambda r, key=key, v=v: r["params"].get(key, TODAY[key]) == v)
        for key, values in (("beta", (1.0, 3.0)), ("rho", (0.05, 0.1)))
        for v in values
    ]
    levels += [
        ("solver", name, lambda r, name=name: path(r) == name)
        for name in ("lbfgs s1", "lbfgs sauto", "adam")
    ]
    for factor, level, keep in levels:
        cells = [
            cell([r for r in rows if r["problem"] == p and keep(r)]) for p in problems
        ]
        row(factor, level, *cells)
    for name in ("lbfgs s1", "lbfgs sauto", "adam"):
        iterations = [
            np.mean(
                [r["n_iter"] for r in rows if r["problem"] == p and path(r) == name]
            )
            for p in problems
        ]
        row("iterations", name, *(f"{i:.0f}" for i in iterations))
    best = []
    for p in problems:
        by_alpha = {
            a: np.mean(
                [
                    (r["acc"] + r["few"]) / 2
                    for r in rows
                    if r["problem"] == p and r["alpha"] == a
                ]
            )
            for a in ALPHAS
        }
        alpha = max(by_alpha, key=by_alpha.get)
        variance = next(r["variance"] for r in rows if r["problem"] == p)
        best.append(f"{alpha:g} / {variance:.1f} = {alpha / variance:.1e}")
    row("best alpha / total variance", "-", *best)


def report_outliers(records):
    rows = [r for r in records if r["stage"] == "outliers"]
    print("\noutliers: mean ROC AUC over the held-out classes (fit time, s)")
    keys = list(
        dict.fromkeys(
            (r["config"], r.get("recipe", "-"), r.get("solver", "-")) for r in rows
        )
    )
    columns = list(dict.fromkeys((r["problem"], r["setting"]) for r in rows))
    print(
        "| detector | recipe | solver | "
        + " | ".join(f"{p}, {s}" for p, s in columns)
        + " | mean |"
    )
    print("| --- | --- | --- | " + " | ".join("---" for _ in columns) + " | --- |")
    for key in keys:
        cells, aucs = [], []
        for p, s in columns:
            rs = [
                r
                for r in rows
                if (r["config"], r.get("recipe", "-"), r.get("solver", "-")) == key
                and r["problem"] == p
                and r["setting"] == s
            ]
            auc = float(np.mean([r["auc"] for r in rs]))
            aucs.append(auc)
            cells.append(f"{auc:.3f} ({np.mean([r['seconds'] for r in rs]):.1f})")
        print(
            f"| {key[0]} | {key[1]} | {key[2]} | "
            + " | ".join(cells)
            + f" | {np.mean(aucs):.3f} |"
        )


# --- main ------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test")
    parser.add_argument(
        "--only",
        nargs="+",
        default=["screen", "confirm", "targets", "outliers"],
        choices=["screen", "confirm", "targets", "outliers"],
    )
    parser.add_argument("--problems", nargs="+", default=None, help="name prefixes")
    parser.add_argument(
        "--out", default=None, help="JSON of the records, kept up to date"
    )
    parser.add_argument("--report", default=None, help="print the tables of this JSON")
    parser.add_argument(
        "--seeds", nargs="+", type=int, default=None, help="confirm: these seeds"
    )
    parser.add_argument(
        "--detectors",
        nargs="+",
        default=None,
        help="outliers: only these settings (names of CANDIDATES or \"today's "
        'defaults"; the baselines come with the latter)',
    )
    args = parser.parse_args()
    if args.report:
        with open(args.report) as f:
            report(json.load(f))
        return
    problems = [
        p
        for p in PROBLEMS
        if args.problems is None or any(p.startswith(q) for q in args.problems)
    ]
    records = []
    if args.out and os.path.exists(args.out):
        with open(args.out) as f:
            records = json.load(f)
    print("\n".join(machine_description()), flush=True)
    start = time.perf_counter()
    stages = {
        "screen": lambda: run_screen(problems, args.quick, records),
        "confirm": lambda: run_confirm(problems, args.quick, records, args.seeds),
        "targets": lambda: run_targets(args.quick, records),
        "outliers": lambda: run_outliers(args.quick, records, args.detectors),
    }
    for stage in args.only:
        for _ in stages[stage]():
            if args.out:
                with open(args.out, "w") as f:
                    json.dump(records, f, indent=0)
        print(f"[{stage} done at {time.perf_counter() - start:.0f} s]", flush=True)
    report(records)
    print(f"\n{time.perf_counter() - start:.0f} s in all")


if __name__ == "__main__":
    main()
