"""Checks of parameters and training data that scikit-learn's helpers do not cover.

Arrays themselves are validated where they live (see
:mod:`skl_sparseae._backends._placement`): by scikit-learn's ``check_array`` and
``validate_data``, or chunk by chunk for a dask array. The checks here
work on what a fit has learnt of the data, whatever its placement: its row
count, its value range, the saturation of the fitted hidden units.
"""

# SPDX-License-Identifier: BSD-3-Clause

from numbers import Integral

import numpy as np
import scipy.sparse as sp

from ._sklearn_compat import Interval
from ._user_warnings import warn

FLOAT_DTYPES = (np.float64, np.float32)


class IntegerInterval(Interval):
    """``Interval(Integral, ...)`` that also rejects booleans.

    ``True`` is an ``Integral`` to Python, but ``max_iter=True`` is a
    mistake, not one iteration.
    """

    def __init__(self, left, right, *, closed):
        super().__init__(Integral, left, right, closed=closed)

    def is_satisfied_by(self, val):
        return not isinstance(val, (bool, np.bool_)) and super().is_satisfied_by(val)


def check_sample_count(n_samples, n_features, estimator_name):
    """The error ``check_array`` gives for data without rows."""
    if n_samples < 1:
        raise ValueError(
            f"Found array with {n_samples} sample(s) (shape=({n_samples}, "
            f"{n_features})) while a minimum of 1 is required by {estimator_name}."
        )


def check_finite_range(value_range):
    """The error ``check_array`` gives for NaN or infinity, from X's value range.

    Catches non-finite data that reached the fit unchecked: a dask chunk, or
    any input under ``sklearn.set_config(assume_finite=True)``.
    """
    if value_range is not None and not np.all(np.isfinite(value_range)):
        raise ValueError(
            "Input X contains NaN or infinity (X's values range over "
            f"[{value_range[0]!r}, {value_range[1]!r}]); the sparse autoencoder "
            "needs finite values, even under assume_finite=True."
        )


def outside_unit_interval(value_range, dtype):
    """Whether X leaves [0, 1] by more than round-off.

    Scalers produce values a few ulps outside [0, 1] (MinMaxScaler can give
    1.0000000000000002); those are data in [0, 1] for every practical
    purpose.
    """
    if value_range is None:
        return False
    low, high = value_range
    slack = 8 * np.finfo(dtype).eps
    return low < -slack or high > 1.0 + slack


def warn_if_outside_unit_interval(value_range, dtype):
    """Warn when data for the sigmoid decoder leaves [0, 1] by more than round-off."""
    if outside_unit_interval(value_range, dtype):
        low, high = value_range
        warn(
            f"X has values in [{low!r}, {high!r}], outside [0, 1], but "
            "decoder_activation='sigmoid' can only reconstruct values in "
            "[0, 1]. Scale X to [0, 1] (for instance with "
            "sklearn.preprocessing.MinMaxScaler), or use "
            "decoder_activation='identity' for real-valued data.",
            UserWarning,
        )


# decoder_scaling makes L-BFGS-B's steps along W2 decoder_scaling**2 times
# those along the other weights. Beyond this ratio, either way, the shorter
# steps come within a few orders of magnitude of float64's round-off, and
# the weights they move stall.
DECODER_STEP_RATIO_LIMIT = 1e12


def warn_if_decoder_scaling_extreme(decoder_scaling, rho, decoder_activation):
    """Warn when ``decoder_scaling`` puts L-BFGS-B's steps beyond float64's reach.

    With a factor far enough from 1, the steps along one block of weights
    (the others for a large factor, ``W2`` for a small one) are lost in
    round-off next to the other's. Past about 1e20, the first line search
    shrinks its step (about ``decoder_scaling`` long along ``W2``) to
    nothing, and L-BFGS-B's relative-reduction test reads the unchanged
    objective as convergence after one iteration.
    """
    if decoder_scaling == "auto":
        if decoder_activation != "sigmoid":
            return
        factor = 1 / np.sqrt(rho)
        named = f"decoder_scaling='auto' (1 / sqrt(rho) = {factor:.3g})"
        remedy = "such as 1 (the plain path), or a larger rho"
    else:
        factor = float(decoder_scaling)
        named = f"decoder_scaling={factor!r}"
        remedy = "such as 1 (the plain path) or 'auto'"
    exponent = 2 * np.log10(factor)
    limit = np.log10(DECODER_STEP_RATIO_LIMIT)
    if abs(exponent) <= limit:
        return
    bound = 10 ** (limit / 2)
    warn(
        f"{named} scales L-BFGS-B's steps along the decoder weights W2, "
        f"relative to those along the other weights, by about "
        f"1e{exponent:+.0f} (its square). Beyond 1e{limit:+.0f} either way, "
        "the shorter steps come near float64's round-off: the weights they "
        "move stall, and the fit stops early with a poor model (after one "
        "iteration for the most extreme values). Use a decoder_scaling "
        f"between {1 / bound:g} and {bound:g}, {remedy}.",
        UserWarning,
    )


# A hidden unit whose input lies beyond this is saturated: its activation is
# within 2e-9 of 0 or 1 and its slope is too, so it no longer learns.
SATURATED_INPUT = 20.0
# Rows checked for saturation: enough for a fraction, cheap on any data.
SATURATION_SAMPLE_ROWS = 2000


def warn_if_saturated(X, W1, b1):
    """Warn when most hidden units of the fitted model are saturated on X.

    A saturated unit's input lies far from 0, where the sigmoid's gradient
    vanishes: the fit then stops early with units stuck at 0 or 1, whatever
    the decoder. The advice depends on the cause:

    * X outside [0, 1]: its scale drives the inputs; scaling X helps.
    * X already in [0, 1] (wide data, thousands of features): each unit sums
      many features, and the weights grew large enough during the fit to
      saturate it. Scaling cannot help; more weight decay (``alpha``) keeps
      the weights small, and the identity decoder is an alternative.

    Returns whether it warned.
    """
    rows = X[:SATURATION_SAMPLE_ROWS]
    if rows.shape[0] == 0:
        return False
    with np.errstate(over="ignore", invalid="ignore"):
        Z = rows @ W1
        Z += b1
        saturated = float(np.mean(np.abs(Z) > SATURATED_INPUT))
    if saturated <= 0.5:
        return False
    message = (
        f"{saturated:.0%} of the hidden activations are saturated (within "
        "2e-9 of 0 or 1) on the training data, so the hidden units stopped "
        "learning. "
    )
    values = rows.data if sp.issparse(rows) else rows
    value_range = (float(values.min()), float(values.max())) if values.size else None
    if outside_unit_interval(value_range, rows.dtype):
        message += (
            "Scale X, for instance with sklearn.preprocessing.StandardScaler "
            "(identity decoder) or MinMaxScaler (sigmoid decoder)."
        )
    else:
        message += (
            f"X is already in [0, 1], so scaling it cannot help: each hidden "
            f"unit sums {X.shape[1]} features, and its weights grew large "
            "enough to saturate it. Increase alpha (the weight decay) 10 to "
            "100 times, or try decoder_activation='identity'."
        )
    warn(message, UserWarning)
    return True


# fit warns when the mean activation, averaged over the hidden units, is more
# than this factor above rho or below it.
SPARSITY_MISS_FACTOR = 2.5


def warn_if_sparsity_missed(mean_activation, rho, beta):
    """Warn when a fit's mean activation misses ``rho`` by more than the factor.

    ``mean_activation`` is the fitted ``mean_activation_`` (one value per
    hidden unit), whose mean is compared with ``rho``: beyond
    ``SPARSITY_MISS_FACTOR`` either way the codes are not as sparse as asked
    (or sparser), which usually means that the sparsity penalty ``beta`` is
    too weak next to the reconstruction. A plain autoencoder (``beta=0``)
    has no target and never warns.
    """
    if beta == 0:
        # A plain autoencoder: no sparsity was asked for.
        return
    mean = float(np.mean(mean_activation)) if np.size(mean_activation) else rho
    if rho / SPARSITY_MISS_FACTOR <= mean <= rho * SPARSITY_MISS_FACTOR:
        return
    ratio = mean / rho
    warn(
        f"The hidden units' mean activation, averaged over the units, is "
        f"{mean:.3g}: {ratio:.3g} times the target rho={rho:g}, beyond the "
        f"factor {SPARSITY_MISS_FACTOR:g} either way that fit accepts. The "
        f"sparsity penalty beta={beta:g} is too weak next to the "
        "reconstruction: raise beta (3 to 10 usually reaches rho), and with "
        "solver='lbfgs' a larger max_iter if the fit stopped at it; a larger "
        "rho asks for less sparse codes.",
        UserWarning,
    )
