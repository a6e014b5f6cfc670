"""What a fitted model computes on new rows: codes, reconstructions, scores.

The array-level maths behind ``transform``, ``inverse_transform`` and
``score_samples``, and the sums behind :mod:`skl_sparseae.metrics`
(:func:`model_statistics`), for validated arrays of any namespace: NumPy
arrays and CSR matrices (also each chunk of a dask array) or an Array API
namespace's arrays on their device. They use the kernel's functions of
:mod:`skl_sparseae._objective`, so a code or a score is computed exactly as a
fit computes it.
"""

# SPDX-License-Identifier: BSD-3-Clause

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from sklearn.utils import gen_batches

from ._backends._blocks import (
    block_row_bytes,
    block_rows,
    device_batch_size,
    sums_dtype,
)
from ._objective import (
    canonical_csr,
    decode,
    hidden_activations,
    is_numpy,
    row_squared_errors,
    subtract_csr,
    to_numpy,
)
from ._sklearn_compat import get_chunk_n_rows

# Blocks of rows on a device are sized as if every value took the bytes of a
# float64, the widest float dtype, so that the memory bound holds for any.
DEVICE_ITEMSIZE = 8


def row_batch_size(n_samples, n_features, n_components, itemsize, working_memory=None):
    """Rows per block of a row-wise computation within ``working_memory`` MiB.

    For transforms and scores, whose result for a row does not depend on how
    the rows are cut: the smaller of what ``working_memory`` (scikit-learn's
    setting when None) allows and the blocks of a fit
    (:func:`~skl_sparseae._backends._blocks.block_rows`).
    """
    row_bytes = block_row_bytes(n_features, n_components, itemsize)
    rows = get_chunk_n_rows(
        row_bytes=row_bytes, max_n_rows=n_samples, working_memory=working_memory
    )
    cap = block_rows(n_samples, n_features, n_components, itemsize)
    return max(1, min(rows, cap))


def has_non_finite(X, xp=None):
    """Whether X (dense, scipy.sparse or of namespace ``xp``) holds NaN or inf."""
    if sp.issparse(X):
        X = X.data
    if is_numpy(xp):
        return not np.all(np.isfinite(X))
    return not bool(xp.all(xp.isfinite(X)))


def _without_overflow(method, estimator_name, compute, X, xp=None):
    """``compute()`` with overflow allowed to saturate, but never to give NaN.

    Finite data far larger than the training data can overflow the
    products: +-inf is still a meaningful answer (a saturated unit, an
    infinitely bad reconstruction), NaN (inf - inf) is not. NaN from input
    that was never checked for it (``assume_finite=True``) is named as such.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        result = compute()
    nan = np.isnan(result).any() if is_numpy(xp) else bool(xp.any(xp.isnan(result)))
    if nan:
        if has_non_finite(X, xp):
            raise ValueError(
                f"Input X contains NaN or infinity; {method} of this "
                f"{estimator_name} needs finite values, even under "
                "assume_finite=True."
            )
        raise ValueError(
            f"{method} overflowed: X has values too large for this "
            f"{estimator_name}. Scale X the way the training data was "
            "scaled (for instance with the same MinMaxScaler or StandardScaler)."
        )
    return result


def _common_dtype(xp, X, *weights):
    """X and the weights in their common float dtype (NumPy keeps them as they are)."""
    if is_numpy(xp):
        return X, list(weights)
    dtype = xp.result_type(X.dtype, *(w.dtype for w in weights))
    return xp.astype(X, dtype, copy=False), [
        xp.astype(w, dtype, copy=False) for w in weights
    ]


def encode(X, components, intercept_hidden, estimator_name, xp=None):
    """Hidden activations of validated X (``transform``)."""
    X, (components, intercept_hidden) = _common_dtype(
        xp, X, components, intercept_hidden
    )
    return _without_overflow(
        "transform",
        estimator_name,
        lambda: hidden_activations(X, components.T, intercept_hidden, xp=xp),
        X,
        xp,
    )


def reconstruct(
    A, decoder_components, intercept_visible, decoder_activation, name, xp=None
):
    """Reconstruction of validated hidden activations A (``inverse_transform``)."""
    A, (decoder_components, intercept_visible) = _common_dtype(
        xp, A, decoder_components, intercept_visible
    )
    return _without_overflow(
        "inverse_transform",
        name,
        lambda: decode(
            A, decoder_components, intercept_visible, decoder_activation, xp=xp
        ),
        A,
        xp,
    )


def mean_hidden_activation(X, W1, b1, xp=None, sample_weight=None):
    """float64 mean over the rows of X of ``sigmoid(X @ W1 + b1)``, in blocks.

    No more than one block of activations is held at a time. With
    ``sample_weight`` (an array where X lives) the mean is weighted.
    """
    n_samples, n_features = X.shape
    n_components = W1.shape[1]
    # Kept for CSR rows; on NumPy the generic body takes 0.75-1.34x this time
    if is_numpy(xp):
        batch_size = block_rows(n_samples, n_features, n_components, X.dtype.itemsize)
        total = np.zeros(n_components, dtype=np.float64)
        buffer = np.empty((min(batch_size, n_samples), n_components), dtype=W1.dtype)
        for rows in gen_batches(n_samples, batch_size):
            k = rows.stop - rows.start
            A = hidden_activations(X[rows], W1, b1, out=buffer[:k])
            if sample_weight is None:
                total += A.sum(axis=0, dtype=np.float64)
            else:
                total += sample_weight[rows].astype(np.float64) @ A
        if sample_weight is None:
            return total / n_samples
        return total / np.sum(sample_weight, dtype=np.float64)
    batch_size = device_batch_size(
        n_samples, n_features, n_components, DEVICE_ITEMSIZE, keep_hidden=False
    )
    dtype = sums_dtype(xp, X.device, X.dtype)
    total = xp.zeros(n_components, dtype=dtype, device=X.device)
    for rows in gen_batches(n_samples, batch_size):
        A = hidden_activations(X[rows, ...], W1, b1, xp=xp)
        if sample_weight is None:
            total += xp.sum(A, axis=0, dtype=dtype)
        else:
            total += xp.astype(sample_weight[rows], dtype) @ xp.astype(A, dtype)
    if sample_weight is None:
        return to_numpy(total).astype(np.float64) / n_samples
    weight_sum = float(to_numpy(xp.sum(xp.astype(sample_weight, dtype))))
    return to_numpy(total).astype(np.float64) / weight_sum


def squared_reconstruction_error(
    X, W1, b1, W2, b2, decoder_activation, batch_size, xp=None
):
    """Per-sample ||x_i - x_hat_i||^2, computed block by block.

    On NumPy the extra memory is two buffers of ``batch_size`` rows (hidden
    activations and reconstruction), reused by every block, and a sparse X
    is never made dense; on another namespace each block allocates its own.
    """
    m, n_features = X.shape
    if not is_numpy(xp):
        parts = []
        for rows in gen_batches(m, batch_size):
            X_blk = X[rows, ...]
            A = hidden_activations(X_blk, W1, b1, xp=xp)
            parts.append(
                row_squared_errors(X_blk, A, W2, b2, decoder_activation, xp=xp)
            )
        return xp.concat(parts) if len(parts) > 1 else parts[0]
    # On NumPy the generic body takes 0.94-4.3x this time (1.2-4.3x in float64)
    n_components = W1.shape[1]
    dtype = np.result_type(X.dtype, W1.dtype)
    if sp.issparse(X):
        X = canonical_csr(X)
    errors = np.empty(m, dtype=dtype)
    n_rows = max(1, min(batch_size, m))
    hidden = np.empty((n_rows, n_components), dtype=dtype)
    recon = np.empty((n_rows, n_features), dtype=dtype)
    for rows in gen_batches(m, batch_size):
        X_blk = X[rows]
        k = X_blk.shape[0]
        A = hidden_activations(X_blk, W1, b1, out=hidden[:k])
        errors[rows] = row_squared_errors(
            X_blk, A, W2, b2, decoder_activation, out=recon[:k]
        )
    return errors


def score_rows(
    X, weights, decoder_activation, estimator_name, batch_size=None, xp=None
):
    """``score_samples`` of validated X: -0.5 * squared reconstruction error.

    ``weights`` are the fitted ``(components_, intercept_hidden_,
    decoder_components_, intercept_visible_)``. ``batch_size`` rows are
    scored at a time; None sizes the blocks with :func:`row_batch_size`.
    """
    X, (components, intercept_hidden, decoder_components, intercept_visible) = (
        _common_dtype(xp, X, *weights)
    )
    n_samples, n_features = X.shape
    if is_numpy(xp) and n_samples == 0:
        return np.empty(0, dtype=np.result_type(X.dtype, components.dtype))
    if batch_size is None and is_numpy(xp):
        batch_size = row_batch_size(
            n_samples, n_features, components.shape[0], X.dtype.itemsize
        )
    elif batch_size is None:
        # Devices want large blocks; the Array API backend says how large.
        batch_size = device_batch_size(
            n_samples,
            n_features,
            components.shape[0],
            DEVICE_ITEMSIZE,
            keep_hidden=False,
        )
    errors = _without_overflow(
        "score_samples",
        estimator_name,
        lambda: squared_reconstruction_error(
            X,
            components.T,
            intercept_hidden,
            decoder_components,
            intercept_visible,
            decoder_activation,
            batch_size,
            xp=xp,
        ),
        X,
        xp,
    )
    errors *= -0.5
    return errors


# ----------------------------------------------------------------------
# Statistics of a fitted model on data, for skl_sparseae.metrics.


class Statistics(NamedTuple):
    """Sums over the rows of X from which every metric follows.

    The arrays are float64 (on a device without float64, the data's float
    dtype), of NumPy or of the data's namespace. ``active_counts`` is None
    without a threshold, the per-feature fields without the reconstruction.
    """

    n_samples: int
    # (n_components,): sum over rows of each hidden activation, and the
    # number of rows on which it exceeds the activity threshold.
    activation_sums: object
    active_counts: object
    # (n_features,): mean of each feature, its sum of squares about the mean,
    # and the sum of squared reconstruction errors.
    feature_means: object = None
    feature_scatter: object = None
    squared_errors: object = None


def combine_statistics(first, second):
    """The :class:`Statistics` of the rows of ``first`` and ``second`` together.

    Means and sums of squares about them are combined with Chan, Golub and
    LeVeque's pairwise update, so that no block's sum of squares is ever
    taken about anything but its own mean (no cancellation).
    """
    if first.n_samples == 0:
        return second
    if second.n_samples == 0:
        return first
    n = first.n_samples + second.n_samples
    activation_sums = first.activation_sums + second.activation_sums
    active_counts = None
    if first.active_counts is not None:
        active_counts = first.active_counts + second.active_counts
    if first.feature_means is None:
        return Statistics(n, activation_sums, active_counts)
    delta = second.feature_means - first.feature_means
    return Statistics(
        n,
        activation_sums,
        active_counts,
        first.feature_means + delta * (second.n_samples / n),
        first.feature_scatter
        + second.feature_scatter
        + delta * delta * (first.n_samples * second.n_samples / n),
        first.squared_errors + second.squared_errors,
    )


def _csr_feature_moments(X_blk, n_features):
    """Column means and sums of squares about them of a canonical CSR block.

    Touches the stored entries only: each implicit zero adds ``mean**2``.
    """
    n_rows = X_blk.shape[0]
    stored = np.bincount(X_blk.indices, minlength=n_features)
    means = np.bincount(X_blk.indices, weights=X_blk.data, minlength=n_features)
    means /= n_rows
    deviations = X_blk.data - means[X_blk.indices]
    scatter = np.bincount(
        X_blk.indices, weights=deviations * deviations, minlength=n_features
    )
    scatter += (n_rows - stored) * means * means
    return means, scatter


def dense_feature_moments(X_blk):
    """Column means and sums of squares about them of a dense block, in float64."""
    means = X_blk.sum(axis=0, dtype=np.float64) / X_blk.shape[0]
    deviations = np.subtract(X_blk, means, dtype=np.float64)
    return means, np.einsum("ij,ij->j", deviations, deviations)


def _block_statistics(X_blk, weights, decoder, name, threshold, reconstruction, xp):
    """:class:`Statistics` of one block of validated rows."""
    components, intercept_hidden, decoder_components, intercept_visible = weights
    n_rows, n_features = X_blk.shape
    A = encode(X_blk, components, intercept_hidden, name, xp=xp)
    numpy = is_numpy(xp)
    active_counts = None
    if numpy:
        activation_sums = A.sum(axis=0, dtype=np.float64)
        if threshold is not None:
            active = np.count_nonzero(A > threshold, axis=0)
            active_counts = active.astype(np.float64)
    else:
        from ._backends._blocks import sums_dtype

        dtype = sums_dtype(xp, X_blk.device, X_blk.dtype)
        activation_sums = xp.sum(A, axis=0, dtype=dtype)
        if threshold is not None:
            active_counts = xp.sum(xp.astype(A > threshold, dtype), axis=0)
    if not reconstruction:
        return Statistics(n_rows, activation_sums, active_counts)
    residual = reconstruct(
        A, decoder_components, intercept_visible, decoder, name, xp=xp
    )
    del A
    if numpy:
        if sp.issparse(X_blk):
            subtract_csr(residual, X_blk)
        else:
            residual -= X_blk
        squared_errors = np.square(residual, out=residual).sum(axis=0, dtype=np.float64)
        del residual
        if sp.issparse(X_blk):
            means, scatter = _csr_feature_moments(X_blk, n_features)
        else:
            means, scatter = dense_feature_moments(X_blk)
    else:
        residual -= X_blk
        squared_errors = xp.sum(residual * residual, axis=0, dtype=dtype)
        X_blk = xp.astype(X_blk, dtype)
        means = xp.sum(X_blk, axis=0) / n_rows
        deviations = X_blk - means
        scatter = xp.sum(deviations * deviations, axis=0)
    return Statistics(
        n_rows, activation_sums, active_counts, means, scatter, squared_errors
    )


def model_statistics(
    X,
    weights,
    decoder_activation,
    estimator_name,
    *,
    threshold,
    reconstruction,
    xp=None,
):
    """:class:`Statistics` of validated X under the fitted ``weights``, by blocks.

    ``weights`` are the fitted ``(components_, intercept_hidden_,
    decoder_components_, intercept_visible_)``; ``threshold`` (None: no
    counts) is the activation above which a unit counts as active. Each
    block is encoded (and, with ``reconstruction``, decoded) as
    :meth:`transform` and :meth:`score_samples` do it; the blocks are sized
    as theirs and their statistics are combined in row order.
    """
    n_samples, n_features = X.shape
    n_components = weights[0].shape[0]
    statistics = Statistics(0, None, None)
    if n_samples == 0:
        # An empty chunk of a dask array.
        return statistics
    if is_numpy(xp):
        if sp.issparse(X):
            X = canonical_csr(X)
        batch_size = row_batch_size(
            n_samples, n_features, n_components, X.dtype.itemsize
        )
    else:
        from ._backends._blocks import device_batch_size

        batch_size = device_batch_size(
            n_samples, n_features, n_components, 8, keep_hidden=False
        )
    for rows in gen_batches(n_samples, batch_size):
        X_blk = X[rows] if is_numpy(xp) else X[rows, ...]
        statistics = combine_statistics(
            statistics,
            _block_statistics(
                X_blk,
                weights,
                decoder_activation,
                estimator_name,
                threshold,
                reconstruction,
                xp,
            ),
        )
    return statistics
