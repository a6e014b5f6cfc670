"""The sparse autoencoder objective and its gradient, as pure functions.

Nothing here knows about scikit-learn estimators: the functions take arrays and
hyper-parameters and return arrays, so that they can be tested against finite
differences and a naive formula, and optimised, on their own.

For data ``X`` of shape (m, d) and ``h`` hidden units::

    A     = sigmoid(X @ W1 + b1)                       (m, h)
    X_hat = g(A @ W2 + b2)                             (m, d)
    J     = 1 / (2 m) * sum_i ||x_i - x_hat_i||^2
            + alpha / 2 * (||W1||_F^2 + ||W2||_F^2)
            + beta * sum_j KL(rho || mean_i A_ij)

with ``g`` the sigmoid or the identity. The flattened parameter vector holds
``W1`` (d, h), ``b1`` (h,), ``W2`` (h, d) and ``b2`` (d,), in that order.
"""

# SPDX-License-Identifier: BSD-3-Clause

from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np
import scipy.sparse as sp
from threadpoolctl import ThreadpoolController
from sklearn.utils import gen_batches
from sklearn.utils._chunking import get_chunk_n_rows

DECODER_ACTIVATIONS = ("sigmoid", "identity")


def n_parameters(n_features, n_components):
    """Length of the flattened parameter vector."""
    return 2 * n_features * n_components + n_features + n_components


def pack(W1, b1, W2, b2):
    """Flatten the weights into one float64 vector, in the order W1, b1, W2, b2."""
    return np.concatenate(
        [np.ravel(W1), np.ravel(b1), np.ravel(W2), np.ravel(b2)]
    ).astype(np.float64, copy=False)


def unpack(theta, n_features, n_components):
    """Views of W1 (d, h), b1 (h,), W2 (h, d) and b2 (d,) into ``theta``."""
    d, h = n_features, n_components
    end_W1 = d * h
    end_b1 = end_W1 + h
    end_W2 = end_b1 + h * d
    return (
        theta[:end_W1].reshape(d, h),
        theta[end_W1:end_b1],
        theta[end_b1:end_W2].reshape(h, d),
        theta[end_W2:],
    )


def initial_parameters(n_features, n_components, random_state):
    """Draw W1, W2 uniformly in [-r, r], r = sqrt(6 / (d + h + 1)); zero biases.

    Returns the packed float64 vector. ``random_state`` is a
    ``numpy.random.RandomState`` instance.
    """
    d, h = n_features, n_components
    r = np.sqrt(6.0 / (d + h + 1))
    W1 = random_state.uniform(-r, r, size=(d, h))
    W2 = random_state.uniform(-r, r, size=(h, d))
    return pack(W1, np.zeros(h), W2, np.zeros(d))


def activation_bounds(dtype):
    """Smallest and largest mean activation used inside the logarithms.

    Clipping ``rho_hat`` into [eps, 1 - eps] keeps the KL term and its
    gradient finite when a unit saturates; eps follows the working precision.
    """
    eps = np.finfo(dtype).eps
    return eps, 1.0 - eps


def kl_divergence(rho, rho_hat):
    """Element-wise KL(rho || rho_hat) between Bernoulli distributions.

    ``rho_hat`` must already lie strictly inside (0, 1).
    """
    return rho * np.log(rho / rho_hat) + (1.0 - rho) * np.log(
        (1.0 - rho) / (1.0 - rho_hat)
    )


def kl_divergence_derivative(rho, rho_hat):
    """Derivative of KL(rho || rho_hat) with respect to rho_hat."""
    return -rho / rho_hat + (1.0 - rho) / (1.0 - rho_hat)


def sigmoid(Z, out=None):
    """Logistic function 1 / (1 + exp(-Z)), in place when ``out`` is ``Z``.

    Four vectorised passes (negate, exp, add, reciprocal) take about half the
    time of ``scipy.special.expit``, whose scalar loop is not vectorised;
    on the (rows, n_features) reconstruction this is the largest element-wise
    cost of an evaluation. The result equals ``expit`` to round-off, including
    the saturated ends (exp overflows to inf and the reciprocal gives 0).
    """
    out = np.negative(Z, out=out)
    with np.errstate(over="ignore", under="ignore"):
        np.exp(out, out=out)
    out += 1
    return np.reciprocal(out, out=out)


def hidden_activations(X, W1, b1, out=None):
    """A = sigmoid(X @ W1 + b1) for dense or sparse X.

    ``out``, if given, is a C-contiguous (n_samples, n_components) array of
    the weights' dtype that receives the result.
    """
    if sp.issparse(X):
        Z = X @ W1
        if out is not None:
            out[...] = Z
            Z = out
    else:
        Z = np.dot(X, W1, out=out)
    Z += b1
    return sigmoid(Z, out=Z)


def decode(A, W2, b2, decoder_activation, out=None):
    """X_hat = g(A @ W2 + b2)."""
    Z = np.dot(A, W2, out=out)
    Z += b2
    if decoder_activation == "sigmoid":
        sigmoid(Z, out=Z)
    return Z


def dense_rows(X, rows, out=None):
    """Rows ``rows`` (a slice) of X as a dense C-ordered array."""
    block = X[rows]
    if sp.issparse(block):
        if out is None:
            return block.toarray()
        out.fill(0)
        return block.toarray(out=out)
    return block


# Rows per block are capped so that the block buffers (two (rows, d) and two
# (rows, h) arrays) stay near this many bytes, whatever ``working_memory``
# says. scikit-learn's default working_memory (1 GiB) would otherwise make
# one block of the whole of a 60,000 x 784 problem, i.e. two more copies of
# X. Block buffers of a few MiB are as fast as one block of all rows, since
# each block still feeds the BLAS matrices with hundreds of rows and its
# element-wise passes run on data that is still in cache (measured in
# benchmarks/bench_blocks.py).
MAX_BLOCK_BYTES = 8 * 2**20
MIN_BLOCK_ROWS = 64


def row_batch_size(n_samples, n_features, n_components, itemsize, working_memory=None):
    """Rows per block so that the block temporaries fit in ``working_memory`` MiB.

    A block holds two (rows, d) buffers (reconstruction and residual) and two
    (rows, h) buffers. The rows are the smaller of what ``working_memory``
    (scikit-learn's setting when None) allows and what keeps these buffers
    near ``MAX_BLOCK_BYTES`` (but at least ``MIN_BLOCK_ROWS``), so that the
    extra memory of an evaluation stays well below the size of X.
    """
    row_bytes = (2 * n_features + 2 * n_components) * itemsize
    rows = get_chunk_n_rows(
        row_bytes=row_bytes, max_n_rows=n_samples, working_memory=working_memory
    )
    cap = max(MIN_BLOCK_ROWS, MAX_BLOCK_BYTES // row_bytes)
    return max(1, min(rows, cap))


def _add_transposed_product(out, left, right, scratch=None):
    """``out += left.T @ right`` for ``left`` (k, p) and ``right`` (k, q).

    The product goes through ``scratch`` (a C-contiguous (p, q) buffer) when
    one is given, so that no temporary is allocated per block. numpy's own
    BLAS is used on purpose: calling scipy's bundled BLAS (gemm with beta=1)
    as well would put a second OpenBLAS thread pool on the same cores, and
    its spinning threads slowed the evaluation down by up to 2x on 2 cores.
    """
    if sp.issparse(left):
        out += left.T @ right
    else:
        out += np.dot(left.T, right, out=scratch)


def _column_sums(M, ones):
    """Sums over the rows of a C-ordered (k, n) array, as a BLAS gemv."""
    return ones[: M.shape[0]] @ M


class SparseAutoencoderObjective:
    """Objective and gradient of the sparse autoencoder on fixed data.

    Holds the data and hyper-parameters of one fit so that L-BFGS can call it
    with the flattened parameter vector alone. The arithmetic runs in the
    dtype of ``X`` (float32 or float64); only ``theta`` and the returned
    gradient are float64, as scipy's L-BFGS-B requires.

    An evaluation is the five matrix products of the forward and backward
    passes plus a few in-place element-wise passes. The hidden activations
    (n_samples, n_components) are computed for all rows first, because the
    sparsity gradient needs their mean over all rows; the reconstruction and
    the backward pass then run block by block, in buffers of
    ``batch_size`` rows that are allocated on the first call and reused by
    every later one. Extra memory is therefore O(n_samples * n_components
    + batch_size * n_features), never a copy of X.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Training data, float32 or float64. Sparse data must be CSR.

    n_components : int
        Number of hidden units.

    rho, beta, alpha : float
        Target mean activation, weight of the KL term, weight decay.

    decoder_activation : {"sigmoid", "identity"}
        The output non-linearity ``g``.

    batch_size : int, default=None
        Rows per block of the reconstruction pass; None sizes the blocks
        with :func:`row_batch_size` from scikit-learn's ``working_memory``
        setting.

    n_threads : int, default=None
        Threads that evaluate blocks concurrently, each with a one-thread
        BLAS. None uses as many as the BLAS may use when the objective is
        created (so ``threadpoolctl.threadpool_limits`` around a fit is
        respected), never more than there are blocks.

    Attributes
    ----------
    last_terms_ : dict
        The reconstruction term, KL term and mean activations (rho_hat) of the
        most recent evaluation, with the ``theta`` they belong to.
    """

    def __init__(
        self,
        X,
        n_components,
        *,
        rho,
        beta,
        alpha,
        decoder_activation,
        batch_size=None,
        n_threads=None,
    ):
        if decoder_activation not in DECODER_ACTIVATIONS:
            raise ValueError(f"Unknown decoder_activation {decoder_activation!r}.")
        if sp.issparse(X):
            X = _canonical_csr(X)
        self.X = X
        self.n_samples, self.n_features = X.shape
        self.n_components = n_components
        self.rho = rho
        self.beta = beta
        self.alpha = alpha
        self.decoder_activation = decoder_activation
        self.dtype = X.dtype
        if batch_size is None:
            batch_size = row_batch_size(
                self.n_samples, self.n_features, n_components, self.dtype.itemsize
            )
        self.batch_size = batch_size
        self.n_threads = n_threads
        # Read now, not at the first call: a caller may hold the BLAS to one
        # thread around the optimiser (see :func:`_parallel_blocks`).
        self.n_threads_ = blas_threads() if n_threads is None else n_threads
        self.last_terms_ = None
        self._buffers = None

    def mean_activation(self, theta):
        """Mean activation of each hidden unit over all rows at ``theta`` (float64)."""
        W1, b1, _, _ = (
            w.astype(self.dtype, copy=False)
            for w in unpack(theta, self.n_features, self.n_components)
        )
        return mean_hidden_activation(self.X, W1, b1, self.batch_size)

    def _allocate(self):
        m, d, h = self.n_samples, self.n_features, self.n_components
        # Each worker gets an equal, contiguous share of the rows, which it
        # then goes through in blocks.
        n_blocks = -(-m // self.batch_size)
        n_workers = max(1, min(self.n_threads_, n_blocks))
        bounds = [m * w // n_workers for w in range(n_workers + 1)]
        n_rows = min(self.batch_size, m)
        self._buffers = {
            "hidden": np.empty((m, h), dtype=self.dtype),
            "chunks": [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])],
            "workspaces": [
                BlockWorkspace(n_rows, d, h, self.dtype) for _ in range(n_workers)
            ],
            "sums": [zero_gradient_sums(d, h, self.dtype) for _ in range(n_workers)],
        }
        if self.dtype != np.float64:
            self._buffers["weights"] = [
                np.empty(w.shape, dtype=self.dtype)
                for w in unpack(np.empty(n_parameters(d, h)), d, h)
            ]

    def _weights(self, theta):
        views = unpack(theta, self.n_features, self.n_components)
        if self.dtype == np.float64:
            return views
        weights = self._buffers["weights"]
        for buffer, view in zip(weights, views):
            np.copyto(buffer, view, casting="same_kind")
        return weights

    def _hidden_activations(self, W1, b1, chunk):
        """Hidden activations of the rows of ``chunk``, and their float64 sum."""
        A = self._buffers["hidden"]
        total = np.zeros(self.n_components, dtype=np.float64)
        for rows in _batches(chunk, self.batch_size):
            block = hidden_activations(self.X[rows], W1, b1, out=A[rows])
            total += block.sum(axis=0, dtype=np.float64)
        return total

    def _backward(self, A, W2, b2, kl_slope, chunk, worker):
        """Gradient sums and squared error of the rows of ``chunk``."""
        sums = self._buffers["sums"][worker]
        for s in sums:
            s.fill(0)
        workspace = self._buffers["workspaces"][worker]
        squared_error = 0.0
        for rows in _batches(chunk, self.batch_size):
            squared_error += add_block_gradient_sums(
                self.X[rows],
                A[rows],
                W2,
                b2,
                kl_slope,
                self.decoder_activation,
                sums,
                workspace,
            )
        return squared_error

    def __call__(self, theta):
        """Return J(theta) as a float and dJ/dtheta as a float64 vector."""
        if self._buffers is None:
            self._allocate()
        m = self.n_samples
        W1, b1, W2, b2 = self._weights(theta)
        A = self._buffers["hidden"]
        chunks = self._buffers["chunks"]

        with _parallel_blocks(len(chunks)) as run:
            activation_sums = run(
                self._hidden_activations, [(W1, b1, chunk) for chunk in chunks]
            )
            rho_hat = clip_mean_activation(sum(activation_sums) / m, self.dtype)
            kl_term, kl_slope = sparsity_penalty(
                self.rho, self.beta, rho_hat, self.dtype
            )
            squared_errors = run(
                self._backward,
                [
                    (A, W2, b2, kl_slope, chunk, worker)
                    for worker, chunk in enumerate(chunks)
                ],
            )
        sums = self._buffers["sums"][0]
        for worker_sums in self._buffers["sums"][1:]:
            for total, part in zip(sums, worker_sums):
                total += part
        loss, grad, reconstruction_term = finish_loss_and_gradient(
            sum(squared_errors),
            kl_term,
            sums,
            W1,
            W2,
            m,
            alpha=self.alpha,
            beta=self.beta,
        )
        self.last_terms_ = evaluation_terms(
            theta, reconstruction_term, self.beta * kl_term, rho_hat
        )
        return loss, grad


def _batches(chunk, batch_size):
    """Slices of at most ``batch_size`` rows covering the slice ``chunk``."""
    for rows in gen_batches(chunk.stop - chunk.start, batch_size):
        yield slice(chunk.start + rows.start, chunk.start + rows.stop)


_THREADPOOL_CONTROLLER = None


def _blas_controller():
    # Building a controller scans the loaded libraries (milliseconds): do it
    # once, not once per evaluation.
    global _THREADPOOL_CONTROLLER
    if _THREADPOOL_CONTROLLER is None:
        _THREADPOOL_CONTROLLER = ThreadpoolController()
    return _THREADPOOL_CONTROLLER


def blas_threads():
    """Number of threads the BLAS may use now (1 when none is found)."""
    numbers = [
        info["num_threads"]
        for info in _blas_controller().info()
        if info["user_api"] == "blas"
    ]
    return max(numbers, default=1)


@contextmanager
def _parallel_blocks(n_workers):
    """Yield ``run(function, list_of_args) -> list_of_results``.

    With several workers, each runs in a thread of its own while the BLAS is
    held to one thread, so that every core works on its own rows: the
    matrix products and the element-wise passes (numpy releases the GIL in
    both) run in parallel, and no thread waits at a BLAS barrier for a
    sibling that the operating system has put aside. On 2 shared cores this
    was 1.2x to 8x faster than one Python thread driving a 2-thread BLAS
    (benchmarks/README.md).
    """
    if n_workers == 1:
        yield lambda function, args: [function(*a) for a in args]
        return
    with _blas_controller().limit(limits=1, user_api="blas"):
        with ThreadPoolExecutor(max_workers=n_workers) as executor:

            def run(function, args):
                return list(executor.map(lambda a: function(*a), args))

            yield run


def _canonical_csr(X):
    """X as CSR without duplicate entries (copied only when it has some)."""
    if X.format != "csr":
        X = X.tocsr()
    if not X.has_canonical_format:
        X = X.copy()
        X.sum_duplicates()
    return X


def _subtract_sparse(D, X_blk):
    """``D -= X_blk`` in place for a dense C-ordered D and a canonical CSR block.

    Touches only the stored entries, so a sparse target never needs a dense
    (rows, n_features) copy of its own.
    """
    n_rows, n_features = D.shape
    flat = np.repeat(
        np.arange(0, n_rows * n_features, n_features, dtype=np.intp),
        np.diff(X_blk.indptr),
    )
    flat += X_blk.indices
    D.reshape(-1)[flat] -= X_blk.data


def clip_mean_activation(rho_hat, dtype):
    """Clip mean activations (float64) into the range the logarithms accept."""
    eps_low, eps_high = activation_bounds(dtype)
    return np.clip(rho_hat, eps_low, eps_high)


def sparsity_penalty(rho, beta, rho_hat, dtype):
    """KL term sum_j KL(rho || rho_hat_j) and the slope beta * KL'(rho_hat).

    ``rho_hat`` must already be clipped (:func:`clip_mean_activation`). The
    slope is what each hidden activation's gradient receives, before the 1/m
    that :func:`finish_loss_and_gradient` applies; it is returned in ``dtype``.
    """
    kl_term = float(np.sum(kl_divergence(rho, rho_hat)))
    kl_slope = (beta * kl_divergence_derivative(rho, rho_hat)).astype(dtype)
    return kl_term, kl_slope


def zero_gradient_sums(n_features, n_components, dtype):
    """Zeroed accumulators for the un-normalised gradients of W1, b1, W2, b2."""
    return (
        np.zeros((n_features, n_components), dtype=dtype),
        np.zeros(n_components, dtype=dtype),
        np.zeros((n_components, n_features), dtype=dtype),
        np.zeros(n_features, dtype=dtype),
    )


class BlockWorkspace:
    """Scratch buffers for blocks of up to ``n_rows`` rows.

    Allocate it once and pass it to every :func:`add_block_gradient_sums` call
    of a fit: two (n_rows, n_features) buffers (reconstruction and output
    delta), two (n_rows, n_components) buffers (hidden delta and slope), a
    vector of ones for column sums and one buffer per weight matrix for the
    block's weight-gradient products. ``sparse`` is accepted for compatibility:
    a sparse target is subtracted entry by entry and needs no dense buffer.
    """

    def __init__(self, n_rows, n_features, n_components, dtype, sparse=False):
        self.recon = np.empty((n_rows, n_features), dtype=dtype)
        self.residual = np.empty_like(self.recon)
        self.x_dense = None
        self.hidden_delta = np.empty((n_rows, n_components), dtype=dtype)
        self.hidden_slope = np.empty_like(self.hidden_delta)
        self.ones = np.ones(n_rows, dtype=dtype)
        self.product_hd = np.empty((n_components, n_features), dtype=dtype)
        self.product_dh = np.empty((n_features, n_components), dtype=dtype)


def add_block_gradient_sums(
    X_blk, A_blk, W2, b2, kl_slope, decoder_activation, sums, workspace=None
):
    """Add one block's un-normalised gradient sums in place; return its squared error.

    ``X_blk`` (dense or CSR) and its hidden activations ``A_blk`` hold the same
    rows. Blocks are independent once ``kl_slope`` (which needs the mean
    activation over *all* rows) is known, so the sums of several blocks, or of
    several chunks on several machines, simply add up.

    The block costs four matrix products (the decoder, its two gradient
    products and the encoder's weight gradient) and a handful of in-place
    passes, all in the buffers of ``workspace``.
    """
    k, n_features = X_blk.shape
    sparse = sp.issparse(X_blk)
    if sparse:
        X_blk = _canonical_csr(X_blk)
    if workspace is None or workspace.recon.shape[0] < k:
        workspace = BlockWorkspace(k, n_features, A_blk.shape[1], A_blk.dtype)
    sum_W1, sum_b1, sum_W2, sum_b2 = sums

    X_hat = decode(A_blk, W2, b2, decoder_activation, out=workspace.recon[:k])
    out_delta = workspace.residual[:k]
    if sparse:
        np.copyto(out_delta, X_hat)
        _subtract_sparse(out_delta, X_blk)
    else:
        np.subtract(X_hat, X_blk, out=out_delta)
    squared_error = float(np.vdot(out_delta, out_delta))
    if decoder_activation == "sigmoid":
        # g'(z) = x_hat * (1 - x_hat), built in place in the recon buffer
        out_delta *= X_hat
        np.subtract(1, X_hat, out=X_hat)
        out_delta *= X_hat
    _add_transposed_product(sum_W2, A_blk, out_delta, workspace.product_hd)
    sum_b2 += _column_sums(out_delta, workspace.ones)

    # The sparsity gradient joins the back-propagated error before the
    # hidden units' derivative, so it costs one broadcast add per block.
    delta = np.dot(out_delta, W2.T, out=workspace.hidden_delta[:k])
    delta += kl_slope
    delta *= A_blk
    delta *= np.subtract(1, A_blk, out=workspace.hidden_slope[:k])
    _add_transposed_product(sum_W1, X_blk, delta, workspace.product_dh)
    sum_b1 += _column_sums(delta, workspace.ones)
    return squared_error


def evaluation_terms(theta, reconstruction_term, sparsity_term, rho_hat):
    """The ``last_terms_`` of an objective: its parts at ``theta``, for monitoring."""
    return {
        "theta": theta,
        "reconstruction": reconstruction_term,
        "sparsity": sparsity_term,
        "mean_activation": rho_hat,
    }


def finish_loss_and_gradient(squared_error, kl_term, sums, W1, W2, m, *, alpha, beta):
    """Combine the reduced sums into (J, float64 gradient, reconstruction term)."""
    sum_W1, sum_b1, sum_W2, sum_b2 = sums
    n_features, n_components = W1.shape
    grad = np.empty(n_parameters(n_features, n_components), dtype=np.float64)
    gW1, gb1, gW2, gb2 = unpack(grad, n_features, n_components)
    inv_m = 1.0 / m
    np.multiply(sum_W1, inv_m, out=gW1)
    gW1 += alpha * W1
    np.multiply(sum_b1, inv_m, out=gb1)
    np.multiply(sum_W2, inv_m, out=gW2)
    gW2 += alpha * W2
    np.multiply(sum_b2, inv_m, out=gb2)

    reconstruction_term = 0.5 * inv_m * squared_error
    decay_term = 0.5 * alpha * (float(np.vdot(W1, W1)) + float(np.vdot(W2, W2)))
    loss = reconstruction_term + decay_term + beta * kl_term
    return loss, grad, reconstruction_term


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
):
    """Sparse autoencoder objective J(theta) and its gradient on data X.

    Convenience wrapper around :class:`SparseAutoencoderObjective` for a single
    evaluation.
    """
    objective = SparseAutoencoderObjective(
        X,
        n_components,
        rho=rho,
        beta=beta,
        alpha=alpha,
        decoder_activation=decoder_activation,
        batch_size=batch_size,
    )
    return objective(theta)


def reconstruction(X, W1, b1, W2, b2, decoder_activation):
    """Hidden activations and reconstruction of X (whole arrays)."""
    A = hidden_activations(X, W1, b1)
    return A, decode(A, W2, b2, decoder_activation)


def squared_reconstruction_error(X, W1, b1, W2, b2, decoder_activation, batch_size):
    """Per-sample ||x_i - x_hat_i||^2, computed block by block.

    Extra memory is two buffers of ``batch_size`` rows (hidden activations
    and reconstruction), reused by every block; a sparse X is never made
    dense.
    """
    m, n_features = X.shape
    n_components = W1.shape[1]
    dtype = np.result_type(X.dtype, W1.dtype)
    if sp.issparse(X):
        X = _canonical_csr(X)
    errors = np.empty(m, dtype=dtype)
    n_rows = max(1, min(batch_size, m))
    hidden = np.empty((n_rows, n_components), dtype=dtype)
    recon = np.empty((n_rows, n_features), dtype=dtype)
    for rows in gen_batches(m, batch_size):
        X_blk = X[rows]
        k = X_blk.shape[0]
        A = hidden_activations(X_blk, W1, b1, out=hidden[:k])
        residual = decode(A, W2, b2, decoder_activation, out=recon[:k])
        if sp.issparse(X_blk):
            _subtract_sparse(residual, X_blk)
        else:
            residual -= X_blk
        errors[rows] = np.einsum("ij,ij->i", residual, residual)
    return errors


def mean_hidden_activation(X, W1, b1, batch_size):
    """Mean over samples of the hidden activations, block by block."""
    m = X.shape[0]
    dtype = np.result_type(X.dtype, W1.dtype)
    hidden = np.empty((max(1, min(batch_size, m)), W1.shape[1]), dtype=dtype)
    total = np.zeros(W1.shape[1], dtype=np.float64)
    for rows in gen_batches(m, batch_size):
        X_blk = X[rows]
        A = hidden_activations(X_blk, W1, b1, out=hidden[: X_blk.shape[0]])
        total += A.sum(axis=0, dtype=np.float64)
    return total / m
