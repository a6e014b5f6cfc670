"""The checks of a dask array X, and its first rows, without computing all of it.

A dask array is checked as ``check_array`` checks in-memory data, without
computing it: its shape and dtype at once, and each chunk's values (finite,
numeric, sparse format) lazily, on the worker that computes the chunk
(:func:`check_dask_array`).

Nothing here imports dask at module level: the core package works without it.
"""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import check_array

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
