"""The checks of a dask array X, and its first rows, without computing all of it.

A dask array is checked as ``check_array`` checks in-memory data, without
computing it: its shape and dtype at once, and each chunk's values (finite,
numeric, sparse format) lazily, on the worker that computes the chunk
(:func:`check_dask_array`). Sample weights are checked as
``_check_sample_weight`` checks them and given X's row chunks
(:func:`check_sample_weight`); :func:`chunk_items` pairs each chunk of X
with its weights, for the fit's passes and the minibatch epochs.

Nothing here imports dask at module level: the core package works without it.
"""

# SPDX-License-Identifier: BSD-3-Clause

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import check_array, check_non_negative

from .._validation import FLOAT_DTYPES


def is_dask_collection(X):
    """Whether X is a dask collection, decided without importing dask."""
    return hasattr(type(X), "__dask_graph__") and any(
        cls.__module__.partition(".")[0] in ("dask", "dask_expr")
        for cls in type(X).__mro__
    )


def is_dask_array(X):
    """Whether X is a ``dask.array.Array``, decided without importing dask."""
    return any(
        cls.__name__ == "Array" and cls.__module__.partition(".")[0] == "dask"
        for cls in type(X).__mro__
    )


INSTALL_DASK_HINT = 'pip install "dask[array]" distributed'


def import_dask():
    """Import dask.array, or fail with the command that installs the extra."""
    try:
        import dask
        import dask.array  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            "Fitting or transforming a dask array needs the optional dependencies "
            f"dask[array] and distributed; install them with: {INSTALL_DASK_HINT}"
        ) from exc
    return dask


def check_chunk(X_chunk, estimator_name, dtype):
    """``check_array`` on one chunk of a dask array, where it is computed."""
    return check_array(
        X_chunk,
        accept_sparse="csr",
        dtype=dtype,
        ensure_min_samples=0,
        estimator=estimator_name,
        input_name="X",
    )


def check_dask_array(X, estimator_name):
    """Check a dask array's shape and dtype now, and its values lazily.

    Follows ``check_array(dtype=(float64, float32))``: float32 and float64
    are kept, other numeric types become float64. Returns a dask array with
    whole rows in each chunk whose chunks are validated when computed.
    """
    import_dask()
    if not is_dask_array(X):
        raise TypeError(
            f"{estimator_name} accepts a dask array, not a {type(X).__module__}."
            f"{type(X).__qualname__}. Convert it first, for instance with "
            "dask_dataframe.to_dask_array(lengths=True)."
        )
    if X.ndim != 2:
        if X.ndim < 2:
            raise ValueError(
                f"Expected 2D array, got {X.ndim}D array instead. Reshape your "
                "data either using array.reshape(-1, 1) if your data has a single "
                "feature or array.reshape(1, -1) if it contains a single sample."
            )
        raise ValueError(
            f"Found array with dim {X.ndim}. {estimator_name} expected <= 2."
        )
    if np.isnan(X.shape[1]):
        raise ValueError(
            f"{estimator_name} needs the number of columns of the dask array; it "
            "is unknown. Call X.compute_chunk_sizes() first."
        )
    if X.shape[1] < 1:
        raise ValueError(
            f"Found array with 0 feature(s) (shape={X.shape}) while a minimum of "
            f"1 is required by {estimator_name}."
        )
    if X.dtype.kind == "c":
        raise ValueError("Complex data not supported")
    if X.dtype not in FLOAT_DTYPES:
        X = X.astype(np.float64)
    if len(X.chunks[1]) > 1:
        # The objective needs whole rows in each chunk.
        X = X.rechunk({1: -1})
    return X.map_blocks(
        check_chunk, estimator_name, X.dtype, dtype=X.dtype, meta=X._meta
    )


def leading_rows(X, n_rows):
    """Up to ``n_rows`` leading rows of a dask array, computed chunk by chunk.

    For a validated array (whole rows in each chunk) whose row counts dask
    does not know (after a boolean mask), which cannot be sliced: the
    leading chunks are computed one at a time until they hold ``n_rows``
    rows.
    """
    import dask

    pieces, rows = [], 0
    for chunk in X.to_delayed().ravel():
        (piece,) = dask.compute(chunk)
        pieces.append(piece)
        rows += piece.shape[0]
        if rows >= n_rows:
            break
    if sp.issparse(pieces[0]):
        return sp.vstack(pieces, format="csr")[:n_rows]
    return np.concatenate(pieces)[:n_rows]


# --------------------------------------------------------------------------
# Sample weights: a 1-d dask array with the row chunks of X.


class WeightedChunk(NamedTuple):
    """A chunk of X's rows with their sample weights, as the tasks receive it."""

    X: object
    weights: np.ndarray


def rows_and_weights(chunk):
    """``(rows, weights)`` of a chunk item; the weights are None without any."""
    if isinstance(chunk, WeightedChunk):
        return chunk.X, chunk.weights
    return chunk, None


def _weighted_chunk(X_chunk, weights):
    if weights.shape[0] != X_chunk.shape[0]:
        raise ValueError(
            f"A chunk of sample_weight has {weights.shape[0]} entries where the "
            f"chunk of X has {X_chunk.shape[0]} rows: give sample_weight the row "
            "chunks of X (for instance sample_weight.rechunk((X.chunks[0],)))."
        )
    return WeightedChunk(X_chunk, weights)


def chunk_items(X, sample_weight=None):
    """X's row chunks as delayed objects, paired with their weights if given."""
    chunks = X.to_delayed().ravel().tolist()
    if sample_weight is None:
        return chunks
    import dask

    pair = dask.delayed(_weighted_chunk, pure=True)
    return [
        pair(chunk, weights)
        for chunk, weights in zip(chunks, sample_weight.to_delayed().ravel())
    ]


def _check_weight_chunk(weights, dtype):
    """``_check_sample_weight``'s value checks on one chunk of weights."""
    weights = check_array(
        weights,
        ensure_2d=False,
        dtype=dtype,
        ensure_min_samples=0,
        input_name="sample_weight",
    )
    if weights.size:
        check_non_negative(weights, "`sample_weight`")
    return weights


def check_sample_weight(sample_weight, X, estimator_name):
    """Sample weights for the validated dask array X, with X's row chunks.

    A NumPy array (or array-like) is checked as scikit-learn's
    ``_check_sample_weight`` checks it and cut into X's row chunks; a dask
    array is rechunked like X where both row counts are known, and its
    values are checked chunk by chunk. The weights are summed now (one pass
    over them, which checks every chunk's values), so that all-zero weights
    are an error before the fit. Returns ``(weights, their float sum)``.
    """
    import dask.array as da

    n_rows = X.shape[0]
    if is_dask_array(sample_weight):
        if sample_weight.ndim != 1:
            raise ValueError(
                "Sample weights must be 1D array or scalar, got "
                f"{sample_weight.ndim}D array."
            )
        known = not (np.isnan(n_rows) or np.isnan(sample_weight.shape[0]))
        if known and sample_weight.shape[0] != n_rows:
            raise ValueError(
                f"sample_weight.shape == {sample_weight.shape}, expected ({n_rows},)!"
            )
        if known:
            sample_weight = sample_weight.rechunk((X.chunks[0],))
        elif len(sample_weight.chunks[0]) != len(X.chunks[0]):
            raise ValueError(
                f"{estimator_name} needs sample_weight in the row chunks of X, "
                f"whose sizes are unknown: X has {len(X.chunks[0])} row chunks "
                f"and sample_weight {len(sample_weight.chunks[0])}. Build both "
                "from the same rows, or call X.compute_chunk_sizes() first."
            )
        sample_weight = sample_weight.map_blocks(
            _check_weight_chunk, X.dtype, dtype=X.dtype
        )
    else:
        if np.isnan(n_rows):
            raise ValueError(
                f"{estimator_name} cannot cut sample_weight into the row chunks "
                "of X: their sizes are unknown. Pass sample_weight as a dask "
                "array with the row chunks of X, or call X.compute_chunk_sizes() "
                "first."
            )
        if np.ndim(sample_weight) == 0:
            # A number weighs every row alike, as in _check_sample_weight.
            sample_weight = np.full(int(n_rows), sample_weight, dtype=X.dtype)
        weights = _check_weight_chunk(sample_weight, X.dtype)
        if weights.ndim != 1:
            raise ValueError(
                "Sample weights must be 1D array or scalar, got "
                f"{weights.ndim}D array. Expected either a scalar value or a "
                f"1D array of length {n_rows}."
            )
        if weights.shape != (n_rows,):
            raise ValueError(
                f"sample_weight.shape == {weights.shape}, expected ({n_rows},)!"
            )
        sample_weight = da.from_array(weights, chunks=(X.chunks[0],))
    total = float(sample_weight.sum(dtype=np.float64).compute())
    if total == 0:
        raise ValueError("Sample weights must contain at least one non-zero number.")
    return sample_weight, total
