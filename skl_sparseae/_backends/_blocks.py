"""How rows are cut into blocks: in memory, on a device, and the dtype of their sums.

The sizes depend on the data's shape alone, so that a fit's sums are grouped
the same way on every machine. The evaluation backends and the array maths of
a fitted model (:mod:`skl_sparseae._inference`) both cut their rows with them.
"""

# SPDX-License-Identifier: BSD-3-Clause

from .._sklearn_compat import _max_precision_float_dtype, get_chunk_n_rows


def block_row_bytes(n_features, n_components, itemsize):
    """Bytes per row of a block's buffers: two (rows, d) and two (rows, h)."""
    return (2 * n_features + 2 * n_components) * itemsize


# A block of rows keeps its buffers near this many bytes: the blocks of an
# evaluation, and the largest of a transform or a score.
MAX_BLOCK_BYTES = 8 * 2**20
MIN_BLOCK_ROWS = 64


def block_rows(n_samples, n_features, n_components, itemsize):
    """Rows per block from the data's shape alone.

    A block holds two (rows, d) buffers and two (rows, h) buffers; the rows
    keep them near ``MAX_BLOCK_BYTES`` (but at least ``MIN_BLOCK_ROWS``, at
    most ``n_samples``). Block buffers of a few MiB are as fast as one block
    of all rows, since each block still feeds the BLAS matrices with hundreds
    of rows and its element-wise passes run on data that is still in cache.
    """
    row_bytes = block_row_bytes(n_features, n_components, itemsize)
    cap = max(MIN_BLOCK_ROWS, MAX_BLOCK_BYTES // row_bytes)
    return max(1, min(n_samples, cap))


# Rows per device block are at least this many, so that small data still makes one
# block of all its rows and large data keeps the device's kernels busy.
DEVICE_MIN_BLOCK_ROWS = 1024


def sums_dtype(xp, device, dtype):
    """float64 for the reduced sums where the device has it, else ``dtype``."""
    max_float = _max_precision_float_dtype(xp, device)
    return xp.float64 if max_float == xp.float64 else dtype


def device_batch_size(n_samples, n_features, n_components, itemsize, *, keep_hidden):
    """Rows per block of an Array API evaluation.

    A block allocates two (rows, d) arrays (reconstruction and residual) and
    about three (rows, h) arrays. Their total is capped by scikit-learn's
    ``working_memory`` and by half the size of X (the whole of it when the
    hidden activations are not kept), so that the extra memory of an
    evaluation stays below the size of X.
    """
    row_bytes = (2 * n_features + 3 * n_components) * itemsize
    x_bytes = n_samples * n_features * itemsize
    budget = x_bytes // 2 if keep_hidden else x_bytes
    rows = get_chunk_n_rows(row_bytes=row_bytes, max_n_rows=n_samples)
    rows = min(rows, max(DEVICE_MIN_BLOCK_ROWS, budget // row_bytes))
    return max(1, min(rows, n_samples))
