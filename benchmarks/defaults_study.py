"""Which defaults carry beyond the digits: a staged study on a panel of seven data sets.

Every data set is made from what scikit-learn and scikit-image ship (see
``_datasets.py``); nothing is downloaded. Run from the repository root, on a
shared machine niced and on one BLAS thread::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 nice -n 19 \\
        python benchmarks/defaults_study.py --out study.json
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
   the screen's sizes, plus ``FORMER`` with a second seed (the noise of a
   refit). Every gain is measured against ``FORMER``, the former defaults,
   a cell of the grid (L-BFGS, beta 1, alpha 1e-4, rho 0.05, scaling 1).
2. ``confirm``: ``FORMER``, the screen's best (chosen by the rule of
   ``_study.screen_choice`` when the screen's rows are in ``--out``) and the
   fixed ``CANDIDATES``, at full size, two seeds each (one on the
   strokes and the 16x16 patches), with raw features and PCA (as many
   components as units) as reference points.

The targets (benchmark d against the RBM, the README's grid search) are
``defaults_study_targets.py``'s, the outlier detector's recipes
``defaults_study_outliers.py``'s; the three scripts take the same options,
share the panel and one fit through ``_study.py`` and print their tables
with ``_study_report.py``, whose ``--report`` prints the tables of any of
their records.

A data-computed weight decay is written ``alpha=(statistic, c)``, meaning
``c`` times a statistic of the training rows (``RULES``): ``"var"`` is the
total variance (the sum of the features' variances), ``"d"`` the number of
features.
"""

# SPDX-License-Identifier: BSD-3-Clause

import itertools

from _study import (
    ALPHAS,
    CONFIRM_SEEDS,
    FORMER,
    ONE_SEED,
    confirm_configs,
    evaluate,
    prepared,
    reference_scores,
)
from _study_report import study_main, study_parser

# --- stages ----------------------------------------------------------------


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


def run_screen(problems, quick, records):
    for name in problems:
        data = prepared(name, "screen", quick)
        records.append(evaluate(name, "screen", FORMER, data, 1, quick))
        for params in screen_grid(quick):
            records.append(evaluate(name, "screen", params, data, 0, quick))
        yield


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


def main(argv=None):
    stages = {
        "screen": lambda args, problems, records: run_screen(
            problems, args.quick, records
        ),
        "confirm": lambda args, problems, records: run_confirm(
            problems, args.quick, records, args.seeds
        ),
    }
    parser = study_parser(__doc__, stages)
    parser.add_argument(
        "--seeds", nargs="+", type=int, default=None, help="confirm: these seeds"
    )
    study_main(parser, stages, argv)


if __name__ == "__main__":
    main()
