"""Helpers shared by the displays."""

# SPDX-License-Identifier: BSD-3-Clause

from collections.abc import Mapping

import numpy as np
import scipy.sparse as sp
from sklearn.pipeline import Pipeline
from sklearn.utils import assert_all_finite, check_scalar
from sklearn.utils.validation import check_is_fitted


def find_fitted_step(estimator, attributes, caller_name):
    """Return ``estimator`` or, for a Pipeline, its last step with ``attributes``.

    Parameters
    ----------
    estimator : estimator instance
        A fitted estimator, or a fitted Pipeline containing one.

    attributes : tuple of str
        Fitted attributes the display reads.

    caller_name : str
        Used in the error message.

    Returns
    -------
    step : estimator instance
        The estimator that holds all of ``attributes``.
    """
    candidates = (
        [step for _, step in estimator.steps if step != "passthrough"][::-1]
        if isinstance(estimator, Pipeline)
        else [estimator]
    )
    for candidate in candidates:
        if all(hasattr(candidate, name) for name in attributes):
            return candidate
    # Distinguish "not fitted" from "wrong kind of estimator" for the user.
    for candidate in candidates:
        check_is_fitted(candidate)
    raise ValueError(
        f"{caller_name} needs a fitted estimator with the attributes "
        f"{', '.join(attributes)}; got {type(estimator).__name__}."
    )


def check_number(value, name, target_type, **bounds):
    """:func:`sklearn.utils.check_scalar`, with bools rejected.

    Python counts ``True`` as the integer 1, but ``n_cols=True`` or
    ``rho=True`` is a mistake, not a request for 1: the estimators' integer
    parameters reject bools too. ``bounds`` are ``check_scalar``'s
    ``min_val``, ``max_val`` and ``include_boundaries``.
    """
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a number, not bool; got {value!r}.")
    return check_scalar(value, name, target_type, **bounds)


def check_kwargs(value, name):
    """Return ``value`` as a dict of keyword arguments; None gives ``{}``."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TypeError(
            f"{name} must be a dict of keyword arguments or None; got "
            f"{type(value).__name__}."
        )
    return dict(value)


def check_1d(values, name, *, allow_empty=True):
    """Return ``values`` as a finite 1-D float64 array.

    Parameters
    ----------
    values : array-like of shape (n,)
        The parameter's value.

    name : str
        The parameter's name, used in the error messages.

    allow_empty : bool, default=True
        Whether an empty array is allowed.

    Returns
    -------
    values : ndarray of shape (n,)
        The values as float64.
    """
    if sp.issparse(values):
        raise TypeError(
            f"{name} must be a dense 1-D array-like; got a sparse "
            f"{type(values).__name__}. Use .toarray().ravel() to convert it."
        )
    values = check_float_array(values, name)
    if values.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array; got shape {values.shape}.")
    if not allow_empty and values.size == 0:
        raise ValueError(f"{name} is empty: there is nothing to plot.")
    assert_all_finite(values, input_name=name)
    return values


def check_float_array(values, name):
    """``np.asarray(values, dtype=np.float64)``, with an error naming ``name``."""
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be an array of numbers ({exc}).") from exc
