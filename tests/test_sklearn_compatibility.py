"""scikit-learn's estimator checks, over several configurations."""

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

from skl_sparseae import SparseAutoencoderTransformer

from ._helpers import ignore_estimator_check_warnings

CONFIGURATIONS = [
    SparseAutoencoderTransformer(),
    SparseAutoencoderTransformer(decoder_activation="identity"),
    SparseAutoencoderTransformer(n_components=12, rho=0.1, beta=3.0),
    SparseAutoencoderTransformer(max_iter=5),
]


@ignore_estimator_check_warnings
@parametrize_with_checks(CONFIGURATIONS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


# Checks that parametrize_with_checks does not generate on its own.
EXTRA_CHECKS = [
    check_param_validation,
    check_set_output_transform,
    check_set_output_transform_pandas,
    check_set_output_transform_polars,
    check_global_set_output_transform_polars,
    check_transformer_get_feature_names_out,
    check_transformer_get_feature_names_out_pandas,
    check_get_feature_names_out_error,
    check_dataframe_column_names_consistency,
]


@ignore_estimator_check_warnings
@pytest.mark.parametrize("check", EXTRA_CHECKS, ids=lambda check: check.__name__)
@pytest.mark.parametrize(
    "estimator", CONFIGURATIONS, ids=lambda est: repr(est).replace(" ", "")
)
def test_additional_sklearn_checks(estimator, check):
    check(type(estimator).__name__, estimator)
