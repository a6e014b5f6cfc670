"""Data held in memory, NumPy arrays and CSR matrices: evaluations and placement.

The rows are cut into equal, contiguous *shares*, and each share into
blocks of at most ``batch_size`` rows; how many of each depends on the data's
shape alone. Each share's sums are accumulated block by block and the shares'
sums are added in share order, so an evaluation gives the same bits on any
machine, with any number of threads and any ``working_memory`` setting:
threads only decide which share is computed when, never how the sums are
grouped. Each thread holds one set of block buffers (a
:class:`~skl_sparseae._objective.BlockWorkspace`), allocated on the first
evaluation and reused by every later one.

:class:`NumpyPlacement` answers the estimators' other questions about such
data: its validation, held-out rows, epochs and a fitted model's maths.
"""

# SPDX-License-Identifier: BSD-3-Clause

import queue
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp
from sklearn import get_config
from sklearn.model_selection import train_test_split
from sklearn.utils import gen_batches
from sklearn.utils.sparsefuncs import mean_variance_axis
from sklearn.utils.validation import check_array, validate_data

from .. import _blas
from .._inference import (
    encode,
    mean_hidden_activation,
    model_statistics,
    reconstruct,
    score_rows,
)
from .._minibatch import EpochRunner
from .._objective import (
    ACTIVE_THRESHOLD,
    BlockWorkspace,
    FirstPass,
    add_block_gradient_sums,
    add_in_order,
    add_partials_in_order,
    canonical_csr,
    evaluate,
    hidden_activations,
    n_parameters,
    to_numpy,
    unpack,
    zero_gradient_sums,
)
from .._sklearn_compat import (
    _check_sample_weight,
    _get_feature_names,
    check_same_namespace,
)
from .._validation import FLOAT_DTYPES
from ._blocks import block_rows
from ._protocol import Placement

# The blocks of a fit are grouped into at most this many shares, each with
# its own gradient sums. A constant, not the machine's number of cores: the
# grouping decides the order of the floating-point additions, so it must
# depend on nothing but the data for a fit to give the same bits on every
# machine. Sixteen shares keep up to sixteen threads busy.
MAX_SHARES = 16
# ... and the shares' gradient sums take at most this fraction of the bytes
# of X, so that wide models on few rows do not hold many parameter vectors.
MAX_SHARE_SUMS_FRACTION = 1 / 8


def data_bytes(X):
    """Bytes of X's values (and, for CSR, its indices)."""
    if sp.issparse(X):
        return X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    return X.nbytes


def n_shares(n_blocks, x_bytes, sums_bytes):
    """How many shares the blocks are grouped into; never depends on the machine.

    At most one per block and ``MAX_SHARES``, and no more than keeps their
    gradient sums (``sums_bytes`` each) within ``MAX_SHARE_SUMS_FRACTION`` of
    ``x_bytes``: a function of the data alone, not of the cores or threads
    that compute them. The fit's memory estimate counts the sums.
    """
    by_memory = int(x_bytes * MAX_SHARE_SUMS_FRACTION // max(sums_bytes, 1))
    return max(1, min(n_blocks, MAX_SHARES, by_memory))


# Rows per block of total_variance's float64 work array.
TOTAL_VARIANCE_BLOCK_ROWS = 4096


def value_range(X):
    """Smallest and largest stored value of X, or None when it stores none."""
    values = X.data if sp.issparse(X) else X
    if values.size == 0:
        return None
    return float(values.min()), float(values.max())


def total_variance(X, sample_weight=None):
    """Sum over the features of the variance of X's rows, in float64.

    Sparse X counts its implicit zeros, with scikit-learn's
    ``mean_variance_axis``; dense X is read in blocks of rows, so that the
    float64 work arrays stay small next to X. With ``sample_weight`` the
    means and variances are weighted (row i counts ``w_i`` times), so that
    integer weights give the variance of the repeated rows.
    """
    if X.shape[0] == 0:
        return 0.0
    if sp.issparse(X):
        weights = None if sample_weight is None else np.asarray(sample_weight)
        _, variances = mean_variance_axis(sp.csr_matrix(X), axis=0, weights=weights)
        return float(np.sum(variances, dtype=np.float64))
    if sample_weight is not None:
        return _weighted_total_variance(X, np.asarray(sample_weight, dtype=np.float64))
    mean = np.mean(X, axis=0, dtype=np.float64)
    total = 0.0
    for rows in gen_batches(X.shape[0], TOTAL_VARIANCE_BLOCK_ROWS):
        centred = X[rows].astype(np.float64) - mean
        total += float(np.einsum("ij,ij->", centred, centred))
    return total / X.shape[0]


def _weighted_total_variance(X, weights):
    """:func:`total_variance` of dense X with float64 sample ``weights``."""
    weight_sum = float(np.sum(weights))
    mean = np.zeros(X.shape[1], dtype=np.float64)
    for rows in gen_batches(X.shape[0], TOTAL_VARIANCE_BLOCK_ROWS):
        mean += weights[rows] @ X[rows].astype(np.float64)
    mean /= weight_sum
    total = 0.0
    for rows in gen_batches(X.shape[0], TOTAL_VARIANCE_BLOCK_ROWS):
        centred = X[rows].astype(np.float64) - mean
        total += float(weights[rows] @ np.einsum("ij,ij->i", centred, centred))
    return total / weight_sum


class NumpyBackend:
    """The two passes of an evaluation over in-memory data (see ``_objective``).

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Validated data, float32 or float64; sparse data is used as CSR.

    n_components : int
        Number of hidden units.

    decoder_activation : {"sigmoid", "identity"}
        The output non-linearity.

    batch_size : int, default=None
        Rows per block; None sizes the blocks from the data's shape with
        :func:`block_rows`.

    n_threads : int, default=None
        Threads that compute shares concurrently, each with a one-thread
        BLAS. None uses as many as numpy's BLAS may use when the backend is
        created (so ``threadpoolctl.threadpool_limits`` around a fit is
        respected), never more than there are shares. The result does not
        depend on it.

    sample_weight : ndarray of shape (n_samples,), default=None
        Validated sample weights of X's dtype, with a positive sum: the
        passes return weighted sums and ``total_weight`` is their sum. None
        weighs every row 1, on the unweighted code path.
    """

    def __init__(
        self,
        X,
        n_components,
        decoder_activation,
        *,
        batch_size=None,
        n_threads=None,
        sample_weight=None,
    ):
        if sp.issparse(X):
            X = canonical_csr(X)
        self.X = X
        self.n_samples, self.n_features = X.shape
        self.sample_weight = sample_weight
        self.total_weight = (
            self.n_samples
            if sample_weight is None
            else float(np.sum(sample_weight, dtype=np.float64))
        )
        self.n_components = n_components
        self.decoder_activation = decoder_activation
        self.dtype = X.dtype
        if batch_size is None:
            batch_size = block_rows(
                self.n_samples, self.n_features, n_components, self.dtype.itemsize
            )
        self.batch_size = batch_size
        # Equal, contiguous row ranges, each cut into blocks of at most
        # batch_size rows: every thread gets the same amount of work.
        m = self.n_samples
        count = n_shares(
            -(-m // batch_size),
            data_bytes(X),
            n_parameters(self.n_features, n_components) * self.dtype.itemsize,
        )
        bounds = [m * k // count for k in range(count + 1)]
        self.shares = [
            [
                slice(start + rows.start, start + rows.stop)
                for rows in gen_batches(stop - start, batch_size)
            ]
            for start, stop in zip(bounds[:-1], bounds[1:])
        ]
        if n_threads is None:
            n_threads = _blas.available_threads()
        self.n_threads = max(1, min(n_threads, len(self.shares)))
        self._hidden = None
        self._executor = None

    def value_range(self):
        """Smallest and largest stored value of X, or None when it stores none."""
        return value_range(self.X)

    def memory_bytes(self):
        """Bytes the evaluations allocate: activations, share sums, block buffers."""
        d, h = self.n_features, self.n_components
        n_rows = min(self.batch_size, self.n_samples)
        block = (2 * n_rows * (d + h) + 2 * d * h) * self.dtype.itemsize
        sums = len(self.shares) * n_parameters(d, h) * self.dtype.itemsize
        hidden = self.n_samples * h * self.dtype.itemsize
        return hidden + sums + self.n_threads * block

    def _weights(self, theta):
        return unpack(
            theta.astype(self.dtype, copy=False), self.n_features, self.n_components
        )

    def _allocate(self):
        d, h = self.n_features, self.n_components
        self._hidden = np.empty((self.n_samples, h), dtype=self.dtype)
        self._share_sums = [zero_gradient_sums(d, h, self.dtype) for _ in self.shares]
        self._workspaces = queue.SimpleQueue()
        n_rows = min(self.batch_size, self.n_samples)
        for _ in range(self.n_threads):
            self._workspaces.put(BlockWorkspace(n_rows, d, h, self.dtype))
        if self.n_threads > 1:
            # One pool for the backend's life: both passes of every evaluation
            # run on the same threads, which keep their place in the caches.
            self._executor = ThreadPoolExecutor(max_workers=self.n_threads)

    def close(self):
        """Free the buffers and stop the threads; the backend can be used again."""
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown()
        self._hidden = self._share_sums = self._workspaces = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def _map_shares(self, function):
        """``function(index, share)`` for each share, in threads if several."""
        items = list(enumerate(self.shares))
        with _blas.one_thread():
            if self._executor is None:
                return [function(*item) for item in items]
            return list(self._executor.map(lambda item: function(*item), items))

    def activation_sums(self, theta):
        """Pass 1: float64 column sums of the hidden activations of all rows.

        The activations go to pass 2 in the returned :class:`FirstPass`; they
        live in a buffer that the next call overwrites. The active units are
        counted in the same pass, while each block is in cache.
        """
        if self._hidden is None:
            self._allocate()
        W1, b1, _, _ = self._weights(theta)
        A = self._hidden
        weights = self.sample_weight

        def share_sums(index, share):
            total = np.zeros(self.n_components, dtype=np.float64)
            active = 0
            for rows in share:
                block = hidden_activations(self.X[rows], W1, b1, out=A[rows])
                if weights is None:
                    total += block.sum(axis=0, dtype=np.float64)
                    active += np.count_nonzero(block > ACTIVE_THRESHOLD)
                else:
                    w = weights[rows].astype(np.float64)
                    total += w @ block
                    active += float(
                        w @ np.count_nonzero(block > ACTIVE_THRESHOLD, axis=1)
                    )
            return total, active

        shares = self._map_shares(share_sums)
        column_sums = add_in_order([total for total, _ in shares])
        return FirstPass(column_sums, A, sum(active for _, active in shares))

    def gradient_sums(self, theta, kl_slope, first_pass):
        """Pass 2: squared error and the gradient sums of W1, b1, W2, b2."""
        _, _, W2, b2 = self._weights(theta)
        A = first_pass.kept

        def share_sums(index, share):
            sums = self._share_sums[index]
            for s in sums:
                s.fill(0)
            workspace = self._workspaces.get()
            try:
                squared_error = add_blocks_gradient_sums(
                    self.X,
                    A,
                    share,
                    W2,
                    b2,
                    kl_slope,
                    self.decoder_activation,
                    sums,
                    workspace,
                    self.sample_weight,
                )
            finally:
                self._workspaces.put(workspace)
            return squared_error, sums

        return add_partials_in_order(self._map_shares(share_sums))


def add_blocks_gradient_sums(
    X, A, blocks, W2, b2, kl_slope, decoder_activation, sums, workspace, weights=None
):
    """Add the gradient sums of the row ``blocks`` of X, in order; their squared error.

    ``A`` holds the hidden activations of X's rows; ``weights``, when given,
    the sample weight of each row.
    """
    squared_error = 0.0
    for rows in blocks:
        if weights is None:
            squared_error += add_block_gradient_sums(
                X[rows], A[rows], W2, b2, kl_slope, decoder_activation, sums, workspace
            )
        else:
            squared_error += add_block_gradient_sums(
                X[rows],
                A[rows],
                W2,
                b2,
                kl_slope,
                decoder_activation,
                sums,
                workspace,
                weights=weights[rows],
            )
    return squared_error


def rows_gradient_sums(X, A, W2, b2, kl_slope, decoder_activation, weights=None):
    """Squared error and gradient sums of all the rows of X, in row blocks.

    For rows held elsewhere (a dask chunk on a worker): the blocks are sized
    from X's shape as in :class:`NumpyBackend`, so that the sums never hold
    more than one block's temporaries and do not depend on the
    ``working_memory`` setting of the process that computes them.
    ``weights``, when given, are the rows' sample weights.
    """
    n_rows, n_features = X.shape
    n_components = A.shape[1]
    sums = zero_gradient_sums(n_features, n_components, A.dtype)
    if n_rows == 0:
        return 0.0, sums
    if sp.issparse(X):
        X = canonical_csr(X)
    batch_size = block_rows(n_rows, n_features, n_components, A.dtype.itemsize)
    workspace = BlockWorkspace(
        min(batch_size, n_rows), n_features, n_components, A.dtype
    )
    blocks = gen_batches(n_rows, batch_size)
    squared_error = add_blocks_gradient_sums(
        X, A, blocks, W2, b2, kl_slope, decoder_activation, sums, workspace, weights
    )
    return squared_error, sums


def loss_and_gradient(
    theta,
    X,
    n_components,
    *,
    rho,
    beta,
    alpha,
    decoder_activation="sigmoid",
    batch_size=None,
    n_threads=None,
    sample_weight=None,
):
    """Sparse autoencoder objective J(theta) and its float64 gradient on X."""
    with NumpyBackend(
        X,
        n_components,
        decoder_activation,
        batch_size=batch_size,
        n_threads=n_threads,
        sample_weight=sample_weight,
    ) as backend:
        result = evaluate(backend, theta, rho=rho, beta=beta, alpha=alpha)
    return result.loss, result.gradient


# --------------------------------------------------------------------------
# What the estimators ask of data in memory.


def check_namespace_of_fit(X, estimator, method):
    """scikit-learn's check that X lives where the fitted attributes do."""
    if get_config()["array_api_dispatch"]:
        check_same_namespace(X, estimator, attribute="components_", method=method)


class NumpyPlacement(Placement):
    """NumPy arrays, array-likes and scipy sparse matrices, held in memory.

    Validated by scikit-learn's ``check_array`` and ``validate_data``; the
    array maths of :mod:`skl_sparseae._inference` and the minibatch epochs
    run in the namespace ``xp`` (None: NumPy), which
    :class:`~skl_sparseae._backends._array_api.ArrayAPIPlacement` sets for
    data on a device.
    """

    # Sparse input a fitted model accepts (CSR, converted from any format).
    _accept_sparse = "csr"

    def __repr__(self):
        return f"{type(self).__name__}()"

    def _float_dtypes(self):
        """The float dtypes ``check_array`` keeps."""
        return FLOAT_DTYPES

    def feature_names(self, X):
        return _get_feature_names(X)

    def check_fit_input(self, X, estimator):
        return check_array(
            X,
            accept_sparse="csr",
            dtype=self._float_dtypes(),
            estimator=estimator,
            input_name="X",
        )

    def check_fitted_input(self, X, estimator, method):
        check_namespace_of_fit(X, estimator, method)
        return validate_data(
            estimator,
            X,
            accept_sparse=self._accept_sparse,
            reset=False,
            dtype=self._float_dtypes(),
        )

    def check_sample_weight(self, sample_weight, X, estimator):
        return _check_sample_weight(
            sample_weight, X, dtype=X.dtype, ensure_non_negative=True
        )

    def check_hidden_input(self, A, estimator):
        check_namespace_of_fit(A, estimator, "inverse_transform")
        return check_array(A, input_name="X", dtype=self._float_dtypes())

    def backend(self, X, n_components, decoder_activation, sample_weight=None):
        return NumpyBackend(
            X, n_components, decoder_activation, sample_weight=sample_weight
        )

    def hold_out(self, X, fraction, random_state):
        train, val = self.held_out_indices(X.shape[0], fraction, random_state)
        return self.take_rows(X, train), self.take_rows(X, val)

    def held_out_indices(self, n_samples, fraction, random_state):
        train, val = train_test_split(
            np.arange(n_samples), test_size=fraction, random_state=random_state
        )
        return np.sort(train), np.sort(val)

    def first_rows(self, X, n_rows):
        return X[:n_rows]

    def value_range(self, X):
        return value_range(X)

    def total_variance(self, X, sample_weight=None):
        return total_variance(X, sample_weight)

    def epoch_runner(self, X, plan, *, estimator_name, sample_weight=None):
        return EpochRunner(
            X, plan, xp=self.xp, device=self.device, sample_weight=sample_weight
        )

    def mean_activation(self, X, W1, b1, sample_weight=None):
        W1, b1 = self.to_data(W1), self.to_data(b1)
        return mean_hidden_activation(
            X, W1, b1, xp=self.xp, sample_weight=sample_weight
        )

    def encode(self, X, components, intercept_hidden, name):
        return encode(X, components, intercept_hidden, name, xp=self.xp)

    def reconstruct(self, A, decoder_components, intercept_visible, decoder, name):
        return reconstruct(
            A, decoder_components, intercept_visible, decoder, name, xp=self.xp
        )

    def score_rows(self, X, weights, decoder, name, *, fit_blocks=False):
        batch_size = None
        if fit_blocks:
            batch_size = block_rows(*X.shape, weights[0].shape[0], X.dtype.itemsize)
        return score_rows(X, weights, decoder, name, batch_size, xp=self.xp)

    def statistics(self, X, weights, decoder, name, *, threshold, reconstruction):
        options = {"threshold": threshold, "reconstruction": reconstruction}
        return model_statistics(X, weights, decoder, name, xp=self.xp, **options)

    def to_host(self, array):
        return to_numpy(array)
