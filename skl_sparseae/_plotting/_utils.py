"""Helpers shared by the displays."""

# SPDX-License-Identifier: BSD-3-Clause

from collections.abc import Mapping
from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn.pipeline import Pipeline
from sklearn.utils import assert_all_finite
from sklearn.utils.validation import check_is_fitted

PLOT_EXTRA_HINT = "pip install matplotlib"


def check_matplotlib_support(caller_name):
    """Raise an ImportError naming the ``plot`` extra if matplotlib is missing.

    Parameters
    ----------
    caller_name : str
        Name of the function or method that needs matplotlib.
    """
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            f"{caller_name} requires matplotlib, an optional dependency of "
            f"skl-sparseae. Install it with: {PLOT_EXTRA_HINT}"
        ) from exc


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


def check_int(value, name, *, min_val, allow_none=False):
    """Return ``value`` checked to be an integer ``>= min_val``.

    Booleans are rejected although Python counts them as integers: ``True``
    for a number of tiles is a mistake, not a request for one.

    Parameters
    ----------
    value : object
        The parameter's value.

    name : str
        The parameter's name, used in the error messages.

    min_val : int
        Smallest value allowed.

    allow_none : bool, default=False
        Whether None is allowed (and returned as is).

    Returns
    -------
    value : int or None
        The value, unchanged.

    Raises
    ------
    TypeError
        If ``value`` is not an integer (or None where allowed).

    ValueError
        If ``value`` is smaller than ``min_val``.
    """
    if value is None and allow_none:
        return value
    expected = f"an int in the range [{min_val}, inf)" + (
        " or None" if allow_none else ""
    )
    if not isinstance(value, Integral) or isinstance(value, (bool, np.bool_)):
        raise TypeError(
            f"{name} must be {expected}; got {value!r} of type {type(value).__name__}."
        )
    if value < min_val:
        raise ValueError(f"{name} must be {expected}; got {value!r}.")
    return value


def check_bool(value, name):
    """Raise a TypeError unless ``value`` is a bool (Python's or NumPy's)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(
            f"{name} must be a bool; got {value!r} of type {type(value).__name__}."
        )
    return bool(value)


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
    values = as_float_array(values, name)
    if values.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array; got shape {values.shape}.")
    if not allow_empty and values.size == 0:
        raise ValueError(f"{name} is empty: there is nothing to plot.")
    assert_all_finite(values, input_name=name)
    return values


def as_float_array(values, name):
    """``np.asarray(values, dtype=np.float64)``, with an error naming ``name``."""
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be an array of numbers ({exc}).") from exc
