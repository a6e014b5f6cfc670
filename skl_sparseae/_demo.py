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

from ._sklearn_compat import InvalidParameterError, validate_parameter_constraints
from ._sparse_autoencoder import SparseAutoencoderTransformer

# The estimator's own defaults, to tell where the demo departs from them.
_ESTIMATOR_DEFAULTS = SparseAutoencoderTransformer().get_params()


def _alpha(value):
    """``--alpha``: "auto" or a number, as the estimator's ``alpha``."""
    return value if value == "auto" else float(value)


# (option, estimator parameter, type, default, help). The demo's defaults are
# the estimator's except n_components: the estimator's None keeps a quarter
# as many units as features, too few for the digits' strokes.
_OPTIONS = [
    ("--n-components", "n_components", int, 100, "number of hidden units"),
    ("--rho", "rho", float, 0.05, "target mean activation of each hidden unit"),
    ("--beta", "beta", float, 3.0, "weight of the sparsity penalty"),
    (
        "--alpha",
        "alpha",
        _alpha,
        "auto",
        "weight decay (L2 penalty on the weights); 'auto' follows the data's scale",
    ),
    ("--max-iter", "max_iter", int, 400, "maximum number of L-BFGS iterations"),
    (
        "--random-state",
        "random_state",
        int,
        0,
        "seed of the train/test split and of the initial weights",
    ),
]


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m skl_sparseae",
        description=(
            "Fit a sparse autoencoder on scikit-learn's digits and compare a "
            "logistic regression on its features with one on raw pixels."
        ),
    )
    for option, name, type_, default, help_ in _OPTIONS:
        estimator_default = _ESTIMATOR_DEFAULTS[name]
        if name != "random_state" and default != estimator_default:
            help_ += (
                f" (default: {default}, where the estimator's default is "
                f"{estimator_default})"
            )
        else:
            help_ += f" (default: {default})"
        parser.add_argument(option, type=type_, default=default, help=help_)
    return parser


def _parse_args(parser, argv):
    """Parse and check the arguments against the estimator's constraints.

    An out-of-range value is a usage error (exit status 2), as a value of the
    wrong type is, rather than a traceback from ``fit``.
    """
    args = parser.parse_args(argv)
    constraints = SparseAutoencoderTransformer._parameter_constraints
    for option, name, *_ in _OPTIONS:
        try:
            validate_parameter_constraints(
                {name: constraints[name]},
                {name: getattr(args, name)},
                caller_name=SparseAutoencoderTransformer.__name__,
            )
        except InvalidParameterError as exc:
            parser.error(f"argument {option}: {exc}")
    return args


def stop_reason(sae):
    """Why the fit of ``sae`` stopped, from its fitted attributes.

    Replays the no-improvement rule (see ``tol``) on ``loss_curve_``; what
    neither that rule nor ``max_iter`` explains is L-BFGS-B's own stopping.
    """
    best, count = float("inf"), 0
    for loss in sae.loss_curve_:
        improved = best == float("inf") or best - loss > sae.tol * abs(best)
        count = 0 if improved else count + 1
        best = min(best, loss)
    if sae.tol > 0 and count >= sae.n_iter_no_change:
        return (
            f"the objective improved by less than tol={sae.tol:g} (relative) for "
            f"n_iter_no_change={sae.n_iter_no_change} iterations"
        )
    if sae.n_iter_ >= sae.max_iter:
        return f"reached max_iter={sae.max_iter}"
    return (
        "L-BFGS-B's own tests (projected gradient below tol / 10, or no "
        "further decrease along the search direction)"
    )


def main(argv=None):
    args = _parse_args(build_parser(), argv)
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

    unconverged = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    print(f"digits: {X_train.shape[0]} training and {X_test.shape[0]} test images")
    print(
        f"sparse autoencoder: n_components={args.n_components}, rho={args.rho}, "
        f"beta={args.beta}, alpha={args.alpha}"
        f"{f' ({sae.alpha_:.2g})' if args.alpha == 'auto' else ''}, "
        f"loss={sae.loss_:.4f}"
    )
    print(
        f"stopped after {sae.n_iter_} L-BFGS iterations: {stop_reason(sae)}"
        f"{' while still improving' if unconverged else ''}"
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
