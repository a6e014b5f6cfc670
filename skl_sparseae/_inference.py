"""What a fitted model computes on new rows: codes, reconstructions, scores.

The array-level maths behind ``transform``, ``inverse_transform`` and
``score_samples``, for validated arrays of any namespace: NumPy arrays and
CSR matrices (also each chunk of a dask array) or an Array API namespace's
arrays on their device. They use the kernel's functions of
:mod:`skl_sparseae._objective`, so a code or a score is computed exactly as a
fit computes it.
"""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import scipy.sparse as sp
from sklearn.utils import gen_batches

from ._backend_array_api import device_batch_size, sums_dtype, to_numpy
from ._objective import (
    canonical_csr,
    decode,
    hidden_activations,
    is_numpy,
    row_squared_errors,
)
from ._sklearn_compat import get_chunk_n_rows


def _block_row_bytes(n_features, n_components, itemsize):
    return (2 * n_features + 2 * n_components) * itemsize


# The blocks of a row-wise computation keep their two buffers (the hidden
# activations and the reconstruction of a block) near this many bytes.
MAX_BLOCK_BYTES = 8 * 2**20
MIN_BLOCK_ROWS = 64
# Blocks of rows on a device are sized as if every value took the bytes of a
# float64, the widest float dtype, so that the memory bound holds for any.
DEVICE_ITEMSIZE = 8


def block_rows(n_samples, n_features, n_components, itemsize):
    """Rows per block from the data's shape alone.

    A block holds two (rows, d) buffers and two (rows, h) buffers; the rows
    keep them near ``MAX_BLOCK_BYTES`` (but at least ``MIN_BLOCK_ROWS``, at
    most ``n_samples``). Block buffers of a few MiB are as fast as one block
    of all rows, since each block still feeds the BLAS matrices with hundreds
    of rows and its element-wise passes run on data that is still in cache.
    """
    row_bytes = _block_row_bytes(n_features, n_components, itemsize)
    cap = max(MIN_BLOCK_ROWS, MAX_BLOCK_BYTES // row_bytes)
    return max(1, min(n_samples, cap))


def row_batch_size(n_samples, n_features, n_components, itemsize, working_memory=None):
    """Rows per block of a row-wise computation within ``working_memory`` MiB.

    For transforms and scores, whose result for a row does not depend on how
    the rows are cut: the smaller of what ``working_memory`` (scikit-learn's
    setting when None) allows and :func:`block_rows`.
    """
    row_bytes = _block_row_bytes(n_features, n_components, itemsize)
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


def mean_hidden_activation(X, W1, b1, xp=None):
    """float64 mean over the rows of X of ``sigmoid(X @ W1 + b1)``, in blocks.

    No more than one block of activations is held at a time.
    """
    n_samples, n_features = X.shape
    n_components = W1.shape[1]
    if is_numpy(xp):
        batch_size = block_rows(n_samples, n_features, n_components, X.dtype.itemsize)
        total = np.zeros(n_components, dtype=np.float64)
        buffer = np.empty((min(batch_size, n_samples), n_components), dtype=W1.dtype)
        for rows in gen_batches(n_samples, batch_size):
            k = rows.stop - rows.start
            A = hidden_activations(X[rows], W1, b1, out=buffer[:k])
            total += A.sum(axis=0, dtype=np.float64)
        return total / n_samples
    batch_size = device_batch_size(
        n_samples, n_features, n_components, DEVICE_ITEMSIZE, keep_hidden=False
    )
    dtype = sums_dtype(xp, X.device, X.dtype)
    total = xp.zeros(n_components, dtype=dtype, device=X.device)
    for rows in gen_batches(n_samples, batch_size):
        A = hidden_activations(X[rows, ...], W1, b1, xp=xp)
        total += xp.sum(A, axis=0, dtype=dtype)
    return to_numpy(total).astype(np.float64) / n_samples


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
