"""What a fitted model computes on a dask array: lazy codes, reconstructions, scores.

The lazy ``transform``, ``inverse_transform`` and ``score_samples`` map the
array functions of :mod:`skl_sparseae._inference` over the chunks, with
copies of the weights: a result computed later belongs to the model it came
from, whatever happens to the estimator meanwhile. The statistics behind
:mod:`skl_sparseae.metrics` are computed chunk by chunk where the chunks
are, in one pass, and combined in chunk order.

Nothing here imports dask at module level: the core package works without it.
"""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import scipy.sparse as sp

from .._inference import (
    Statistics,
    combine_statistics,
    encode,
    model_statistics,
    reconstruct,
    score_rows,
)


def _copies(*arrays):
    # Copied into the graph, so that refitting the estimator before the
    # result is computed cannot change it.
    return tuple(np.array(a, copy=True) for a in arrays)


def _map_row_chunks(function, X, *args, dtype, n_columns=None):
    """``function(chunk, *args)`` over X's row chunks, lazily.

    ``n_columns`` is the width of each output chunk; None means one value
    per row.
    """
    if n_columns is None:
        layout = {"drop_axis": 1, "chunks": (X.chunks[0],)}
    else:
        layout = {"chunks": (X.chunks[0], (n_columns,))}
    meta = np.empty((0,) * len(layout["chunks"]), dtype=dtype)
    return X.map_blocks(function, *args, **layout, dtype=dtype, meta=meta)


def transform(X, components, intercept_hidden, estimator_name):
    """Hidden activations of the validated dask array X, lazily."""
    components, intercept_hidden = _copies(components, intercept_hidden)
    dtype = np.result_type(X.dtype, components.dtype)
    return _map_row_chunks(
        encode,
        X,
        components,
        intercept_hidden,
        estimator_name,
        dtype=dtype,
        n_columns=components.shape[0],
    )


def _dense_reconstruction(A, decoder_components, intercept_visible, decoder, name):
    if sp.issparse(A):
        A = A.toarray()
    return reconstruct(A, decoder_components, intercept_visible, decoder, name)


def inverse_transform(
    A, decoder_components, intercept_visible, decoder_activation, estimator_name
):
    """Reconstruction of the validated dask array of activations A, lazily."""
    W2, b2 = _copies(decoder_components, intercept_visible)
    return _map_row_chunks(
        _dense_reconstruction,
        A,
        W2,
        b2,
        decoder_activation,
        estimator_name,
        dtype=np.result_type(A.dtype, W2.dtype),
        n_columns=W2.shape[1],
    )


def score_samples(X, weights, decoder_activation, estimator_name):
    """Negative half squared reconstruction error per row of X, lazily."""
    weights = _copies(*weights)
    return _map_row_chunks(
        score_rows,
        X,
        weights,
        decoder_activation,
        estimator_name,
        dtype=np.result_type(X.dtype, weights[0].dtype),
    )


def statistics(
    X, weights, decoder_activation, estimator_name, *, threshold, reconstruction
):
    """The :class:`~skl_sparseae._inference.Statistics` of the validated dask array X.

    One task per chunk computes the chunk's statistics where it lives (with
    the active ``dask.distributed`` client, else dask's local scheduler);
    a single ``compute`` reads each chunk once, and only the small per-chunk
    sums come back, combined here in chunk order.
    """
    import dask

    # One key for the weights, shared by every chunk's task.
    weights = dask.delayed(_copies(*weights), traverse=False)
    chunk_statistics = dask.delayed(model_statistics, pure=True)
    parts = dask.compute(
        *(
            chunk_statistics(
                chunk,
                weights,
                decoder_activation,
                estimator_name,
                threshold=threshold,
                reconstruction=reconstruction,
            )
            for chunk in X.to_delayed().ravel()
        )
    )
    result = Statistics(0, None, None)
    for part in parts:
        result = combine_statistics(result, part)
    return result
