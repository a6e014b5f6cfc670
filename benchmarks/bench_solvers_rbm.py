"""The minibatch solver (``solver="adam"``) against BernoulliRBM: figure 2.

Run from the repository root::

    python benchmarks/bench_solvers_rbm.py --threads 1
    python benchmarks/bench_solvers_rbm.py --quick            # smoke test

2. scikit-learn's RBM-features protocol (as ``run.py`` figure d): adam's
   macro-F1 and fit time against BernoulliRBM's; a scan of
   ``learning_rate_init``, ``batch_size`` and epochs finds what reaches the
   target (macro-F1 >= 0.95 and above the RBM's, at <= 1x its time). The
   two sides are timed alternated in this one process (see ``_common.py``).
"""

# SPDX-License-Identifier: BSD-3-Clause

import warnings

from _common import (
    interleaved_fits,
    rbm_example_f1,
)
from _datasets import nudged_digits
from _solvers import (
    DIGITS_MODEL,
    configure,
    run,
    solver_parser,
)

from skl_sparseae import SparseAutoencoderTransformer

# ---------------------------------------------------------------------------
# Figure 2: against the RBM (run.py figure d's protocol).


def fig2(args):
    from sklearn.neural_network import BernoulliRBM

    X_train, X_test, y_train, y_test = nudged_digits()
    data = (X_train, X_test, y_train, y_test)
    # The classifier's iterations; --quick lowers them (a smoke test only).
    classifier_max_iter = 50 if args.quick else 1000
    if args.quick:
        X_train, y_train = X_train[:1000], y_train[:1000]
        X_test, y_test = X_test[:500], y_test[:500]
        data = (X_train, X_test, y_train, y_test)
    checkpoints = [2] if args.quick else args.f2_epochs
    configs = (
        [(1e-2, "auto")]
        if args.quick
        else [
            (float(lr), batch if batch == "auto" else int(batch))
            for lr, batch in (c.split(":") for c in args.f2_configs.split(","))
        ]
    )

    def macro_f1(learner):
        return rbm_example_f1(learner, *data, max_iter=classifier_max_iter)

    def rbm():
        return BernoulliRBM(
            n_components=100, n_iter=10, learning_rate=0.06, random_state=0
        )

    def adam(**options):
        return SparseAutoencoderTransformer(
            solver="adam", random_state=0, **DIGITS_MODEL, **options
        )

    f1_rbm = macro_f1(rbm().fit(X_train))
    rows = [
        (
            "data",
            f"nudged digits, {X_train.shape[0]} x 64 float32 fit, "
            f"{X_test.shape[0]} held out",
        ),
        ("RBM macro-F1", f"{f1_rbm:.4f}"),
    ]
    # The scan: epochs of partial_fit (the same epochs as fit(max_iter=k,
    # tol=0)), macro-F1 at each checkpoint. Times come later, interleaved.
    scan = {}
    for lr, batch in configs:
        est = adam(learning_rate_init=lr, batch_size=batch)
        f1s = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for epoch in range(1, checkpoints[-1] + 1):
                est.partial_fit(X_train)
                if epoch in checkpoints:
                    f1s.append(macro_f1(est))
        scan[lr, batch] = f1s
        rows.append(
            (
                f"scan lr={lr:g} batch={batch}",
                "macro-F1 at epochs "
                + ", ".join(f"{k}: {f:.4f}" for k, f in zip(checkpoints, f1s)),
            )
        )
    # The cheapest passing config: fewest epochs x rows per epoch alike, so
    # fewest epochs first, then the larger batch (fewer steps).
    passing = sorted(
        (k, -(min(200, X_train.shape[0]) if b == "auto" else b), lr, b)
        for (lr, b), f1s in scan.items()
        for k, f in zip(checkpoints, f1s)
        if f >= 0.95 and f > f1_rbm
    )
    learners = {
        "rbm": rbm,
        "adam defaults": ((lambda: adam(max_iter=20)) if args.quick else adam),
    }
    if passing:
        k, _, lr, b = passing[0]
        chosen = f"adam lr={lr:g} batch={b} max_iter={k} tol=0"
        learners[chosen] = lambda: adam(
            learning_rate_init=lr, batch_size=b, max_iter=k, tol=0
        )
    else:
        chosen = None
        rows.append(
            ("scan", "no configuration reached macro-F1 >= 0.95 above the RBM's")
        )

    times, fitted = interleaved_fits(learners, X_train, args.repeats)
    ratios = {}
    for name in learners:
        if name == "rbm":
            continue
        f1 = macro_f1(fitted[name])
        ratio = times[name] / times["rbm"]
        passed = f1 >= 0.95 and f1 > f1_rbm and ratio <= 1.0
        key = "2" if name == chosen else f"2 ({name})"
        ratios[key] = ratio if passed else float("nan")
        rows.append(
            (
                name,
                f"{times[name]:.3f} s vs RBM {times['rbm']:.3f} s "
                f"(x{ratio:.3f}), {fitted[name].n_iter_} epochs, macro-F1 "
                f"{f1:.4f} vs RBM {f1_rbm:.4f}: "
                f"{'meets' if passed else 'misses'} the target",
            )
        )
    return ratios, rows


FIGURES = {"2": fig2}


def main(argv=None):
    parser = solver_parser(__doc__, FIGURES)
    parser.add_argument(
        "--f2-epochs",
        type=int,
        nargs="+",
        default=[10, 20, 40],
        help="epochs at which figure 2's scan scores macro-F1",
    )
    parser.add_argument(
        "--f2-configs",
        default="1e-3:auto,3e-3:auto,1e-2:auto,1e-2:50,3e-2:50,1e-1:50,3e-2:200",
        help="learning_rate_init:batch_size pairs of figure 2's scan",
    )
    args = parser.parse_args(argv)
    configure(args)
    run(args, FIGURES)


if __name__ == "__main__":
    main()
