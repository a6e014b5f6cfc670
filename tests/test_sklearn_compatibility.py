"""scikit-learn's estimator checks, for both estimators and every solver."""

import re
from functools import partial

import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import (
    check_dataframe_column_names_consistency,
    check_get_feature_names_out_error,
    check_global_set_output_transform_polars,
    check_param_validation,
    check_set_output_transform,
    check_set_output_transform_pandas,
    check_set_output_transform_polars,
    check_transformer_get_feature_names_out,
    check_transformer_get_feature_names_out_pandas,
    parametrize_with_checks,
)

from skl_sparseae import SparseAutoencoderOutlierDetector, SparseAutoencoderTransformer

from ._helpers import ignore_estimator_check_warnings

# One instance per code path that the checks can tell apart; other
# parameter values (n_components, rho, beta, a shorter budget) run the same
# code and add only time. Each estimator is checked with its defaults; the
# other instances run a short fixed budget (tol=0), which ends without a
# ConvergenceWarning.
TRANSFORMERS = [
    # The defaults: L-BFGS and the sigmoid decoder, whose range check warns
    # on the checks' data outside [0, 1].
    SparseAutoencoderTransformer(),
    # The identity decoder: no range check, a linear output layer.
    SparseAutoencoderTransformer(decoder_activation="identity", max_iter=50, tol=0),
    # The minibatch loop with SGD's update, partial_fit, and the held-out
    # rows of early stopping.
    SparseAutoencoderTransformer(solver="sgd", max_iter=20, tol=0, early_stopping=True),
]
DETECTORS = [
    # The detector's own code: the offset with contamination="auto" ...
    SparseAutoencoderOutlierDetector(),
    # ... and with a float contamination, on the minibatch loop with Adam's
    # update.
    SparseAutoencoderOutlierDetector(
        solver="adam", max_iter=20, tol=0, contamination=0.1
    ),
]


SAMPLE_WEIGHT_EQUIVALENCE = (
    "check_sample_weight_equivalence_on_dense_data",
    "check_sample_weight_equivalence_on_sparse_data",
)
# These checks compare a fit with integer weights to a fit on the repeated
# rows at rtol=1e-7. The two evaluate the same objective with sums grouped
# differently, and L-BFGS on a non-convex objective amplifies those
# round-off differences from iteration to iteration: they stay near 1e-9
# over 50 iterations but reach about 1e-4 by the default stopping rule's
# 100-odd. The L-BFGS instances run them on a fixed budget of 50
# iterations, as scikit-learn gives MLPRegressor its own parameters for this
# check (PER_ESTIMATOR_CHECK_PARAMS).
EQUIVALENCE_BUDGET = {"max_iter": 50, "tol": 0}


def expected_failed_checks(estimator):
    if estimator.solver == "lbfgs":
        return {}
    # As scikit-learn marks SGDRegressor and SGDClassifier. Not strict: where
    # one batch holds every row and no row is held out (the Adam detector on
    # the check's 15 rows) the two fits take the same steps, and it passes.
    reason = (
        "sample_weight is not equivalent to removing/repeating samples with "
        "the minibatch solvers: repeated rows change the batches (and the "
        "held-out rows of early stopping), so the steps differ."
    )
    return dict.fromkeys(SAMPLE_WEIGHT_EQUIVALENCE, reason)


def _check_name(check):
    return (check.func if isinstance(check, partial) else check).__name__


@ignore_estimator_check_warnings
@parametrize_with_checks(
    TRANSFORMERS + DETECTORS, expected_failed_checks=expected_failed_checks
)
def test_sklearn_compatible_estimator(estimator, check):
    if estimator.solver == "lbfgs" and _check_name(check) in SAMPLE_WEIGHT_EQUIVALENCE:
        estimator = clone(estimator).set_params(**EQUIVALENCE_BUDGET)
    check(estimator)


# Checks that parametrize_with_checks does not generate on its own; the
# transformer's output checks do not apply to the detector.
COMMON_CHECKS = [check_param_validation, check_dataframe_column_names_consistency]
TRANSFORMER_CHECKS = [
    check_set_output_transform,
    check_set_output_transform_pandas,
    check_set_output_transform_polars,
    check_global_set_output_transform_polars,
    check_transformer_get_feature_names_out,
    check_transformer_get_feature_names_out_pandas,
    check_get_feature_names_out_error,
]
EXTRA = [
    (estimator, check)
    for estimator in TRANSFORMERS + DETECTORS
    for check in COMMON_CHECKS
    + (TRANSFORMER_CHECKS if estimator in TRANSFORMERS else [])
]


def _check_id(estimator, check):
    # A long repr wraps over lines: an id holds no whitespace at all.
    return re.sub(r"\s", "", f"{estimator!r}-{check.__name__}")


@ignore_estimator_check_warnings
@pytest.mark.parametrize(
    "estimator, check", EXTRA, ids=[_check_id(*pair) for pair in EXTRA]
)
def test_additional_sklearn_checks(estimator, check):
    check(type(estimator).__name__, estimator)
