"""scikit-learn's estimator checks, for both estimators and every solver."""

import pytest
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

TRANSFORMERS = [
    SparseAutoencoderTransformer(),
    SparseAutoencoderTransformer(decoder_activation="identity"),
    SparseAutoencoderTransformer(n_components=12, rho=0.1, beta=3.0),
    SparseAutoencoderTransformer(max_iter=5),
    SparseAutoencoderTransformer(solver="adam", max_iter=20),
    SparseAutoencoderTransformer(solver="sgd", max_iter=20, early_stopping=True),
]
DETECTORS = [
    SparseAutoencoderOutlierDetector(),
    SparseAutoencoderOutlierDetector(decoder_activation="identity", contamination=0.1),
    SparseAutoencoderOutlierDetector(n_components=12, rho=0.1, beta=3.0),
    SparseAutoencoderOutlierDetector(max_iter=5, contamination=0.5),
    SparseAutoencoderOutlierDetector(solver="adam", max_iter=20),
]


@ignore_estimator_check_warnings
@parametrize_with_checks(TRANSFORMERS + DETECTORS)
def test_sklearn_compatible_estimator(estimator, check):
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


@ignore_estimator_check_warnings
@pytest.mark.parametrize(
    "estimator, check",
    EXTRA,
    ids=[f"{est!r}-{check.__name__}".replace(" ", "") for est, check in EXTRA],
)
def test_additional_sklearn_checks(estimator, check):
    check(type(estimator).__name__, estimator)
