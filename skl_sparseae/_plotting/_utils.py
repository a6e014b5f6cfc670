"""Helpers shared by the displays."""

# SPDX-License-Identifier: BSD-3-Clause

from sklearn.pipeline import Pipeline
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
