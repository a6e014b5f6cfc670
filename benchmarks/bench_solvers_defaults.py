"""The minibatch solver's (``solver="adam"``) defaults: figure D.

Run from the repository root::

    python benchmarks/bench_solvers_defaults.py --threads 1
    python benchmarks/bench_solvers_defaults.py --quick       # smoke test

D. the stochastic defaults: adam traced for a fixed number of epochs for
   several ``learning_rate_init`` and ``batch_size`` on two data sets, and
   the stopping rule (tol, n_iter_no_change) replayed on each loss curve.
"""

# SPDX-License-Identifier: BSD-3-Clause

from _solvers import (
    DIGITS_MODEL,
    WHITENED_MODEL,
    configure,
    digits,
    patches_8x8,
    replay_stop,
    run,
    solver_parser,
    traced_fit,
    within,
)

from skl_sparseae import SparseAutoencoderTransformer

# ---------------------------------------------------------------------------
# Figure D: the stochastic defaults.


def figD(args):
    if args.quick:
        problems = [("digits", *digits(1000), DIGITS_MODEL, 10)]
        configs = [(1e-3, "auto"), (1e-2, "auto")]
    else:
        problems = [
            ("digits", *digits(None), DIGITS_MODEL, args.d_epochs),
            (
                "8x8 whitened",
                *patches_8x8(20000, 5000),
                WHITENED_MODEL,
                args.d_epochs // 2,
            ),
        ]
        configs = [
            (1e-3, "auto"),
            (3e-3, "auto"),
            (1e-2, "auto"),
            (1e-3, 50),
            (1e-2, 1000),
        ]
    rules = [(5e-4, 20), (5e-4, 10), (1e-4, 20), (1e-3, 10)]
    rows = []
    for name, X_train, X_test, model, epochs in problems:
        traces = {}
        for lr, batch in configs:
            est = SparseAutoencoderTransformer(
                solver="adam",
                learning_rate_init=lr,
                batch_size=batch,
                max_iter=epochs,
                tol=0,
                random_state=0,
                **model,
            )
            traces[lr, batch] = traced_fit(
                est, X_train, X_test, model, budget=args.d_budget
            )[0]
        best = max(max(t.scores) for t in traces.values())
        target = within(best)
        rows.append(
            (
                f"{name} ({X_train.shape[0]} rows)",
                f"{epochs} epochs, tol=0; best held-out score of all "
                f"{best:.4f}, 1 % target {target:.4f}",
            )
        )
        for (lr, batch), t in traces.items():
            stops = []
            for tol, n in rules:
                k = replay_stop(t.losses, tol, n)
                stops.append(
                    f"({tol:g},{n}): "
                    + (
                        "never"
                        if k is None
                        else f"ep {k} {t.scores[k - 1]:.3f} {t.times[k - 1]:.1f}s"
                    )
                )
            k = t.epochs_to(target)
            reach = "never" if k is None else f"epoch {k}, {t.times[k - 1]:.1f} s"
            rows.append(
                (
                    f"  lr={lr:g} batch={batch}",
                    f"{len(t.scores)} ep {t.times[-1]:.1f} s; score ep 10 "
                    f"{t.scores[min(9, len(t.scores) - 1)]:.3f}, last "
                    f"{t.scores[-1]:.3f}, best {max(t.scores):.3f}; to "
                    f"target: {reach}; rule (tol,n) stops at " + "; ".join(stops),
                )
            )
    return {}, rows


FIGURES = {"D": figD}


def main(argv=None):
    parser = solver_parser(__doc__, FIGURES)
    parser.add_argument(
        "--d-epochs",
        type=int,
        default=200,
        help="epochs of each trace of figure D (half on 8x8)",
    )
    parser.add_argument(
        "--d-budget",
        type=float,
        default=60,
        help="seconds each trace of figure D may run",
    )
    args = parser.parse_args(argv)
    configure(args)
    run(args, FIGURES)


if __name__ == "__main__":
    main()
