"""The private scikit-learn names this package relies on, in one place.

skl_sparseae needs scikit-learn 1.9 or later (``pyproject.toml`` says the
same): that is the first release with every helper below, the Array API ones
included. scikit-learn's own estimators use these helpers; they are private
and may move between releases, so they are imported here and nowhere else,
and a move breaks this one module.
"""

# SPDX-License-Identifier: BSD-3-Clause

from sklearn.base import _fit_context
from sklearn.externals.array_api_compat import array_namespace
from sklearn.utils._array_api import (
    _is_numpy_namespace,
    _max_precision_float_dtype,
    check_same_namespace,
    get_namespace_and_device,
    move_estimator_to,
    move_to,
)
from sklearn.utils._chunking import get_chunk_n_rows
from sklearn.utils._optional_dependencies import check_matplotlib_support
from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    StrOptions,
    validate_parameter_constraints,
    validate_params,
)
from sklearn.utils.stats import _weighted_percentile
from sklearn.utils.validation import _check_sample_weight, _get_feature_names

__all__ = [
    "Interval",
    "InvalidParameterError",
    "StrOptions",
    "_check_sample_weight",
    "_fit_context",
    "_get_feature_names",
    "_is_numpy_namespace",
    "_max_precision_float_dtype",
    "_weighted_percentile",
    "array_namespace",
    "check_matplotlib_support",
    "check_same_namespace",
    "get_chunk_n_rows",
    "get_namespace_and_device",
    "move_estimator_to",
    "move_to",
    "validate_parameter_constraints",
    "validate_params",
]
