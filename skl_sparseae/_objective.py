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

import numpy as np
import scipy.sparse as sp
from scipy.special import expit
from sklearn.utils import gen_batches
from sklearn.utils._chunking import get_chunk_n_rows
from sklearn.utils.extmath import safe_sparse_dot

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


def hidden_activations(X, W1, b1):
    """A = sigmoid(X @ W1 + b1) for dense or sparse X."""
    Z = safe_sparse_dot(X, W1, dense_output=True)
    Z += b1
    return expit(Z, out=Z)


def decode(A, W2, b2, decoder_activation, out=None):
    """X_hat = g(A @ W2 + b2)."""
    Z = np.dot(A, W2, out=out)
    Z += b2
    if decoder_activation == "sigmoid":
        expit(Z, out=Z)
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


def row_batch_size(n_samples, n_features, n_components, itemsize, working_memory=None):
    """Rows per block so that the block temporaries fit in ``working_memory`` MiB.

    A block holds two (rows, d) buffers (reconstruction and residual), one more
    for a sparse block made dense, and two (rows, h) buffers.
    """
    row_bytes = (3 * n_features + 2 * n_components) * itemsize
    return get_chunk_n_rows(
        row_bytes=row_bytes, max_n_rows=n_samples, working_memory=working_memory
    )


class SparseAutoencoderObjective:
    """Objective and gradient of the sparse autoencoder on fixed data.

    Holds the data and hyper-parameters of one fit so that L-BFGS can call it
    with the flattened parameter vector alone. The arithmetic runs in the
    dtype of ``X`` (float32 or float64); only ``theta`` and the returned
    gradient are float64, as scipy's L-BFGS-B requires.

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
        from scikit-learn's ``working_memory`` setting.

    Attributes
    ----------
    last_terms_ : dict
        The reconstruction term, KL term and mean activations (rho_hat) of the
        most recent evaluation, with the ``theta`` they belong to.
    """

    def __init__(
        self, X, n_components, *, rho, beta, alpha, decoder_activation, batch_size=None
    ):
        if decoder_activation not in DECODER_ACTIVATIONS:
            raise ValueError(f"Unknown decoder_activation {decoder_activation!r}.")
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
        self.last_terms_ = None

    def _weights(self, theta):
        return [
            w.astype(self.dtype, copy=False)
            for w in unpack(theta, self.n_features, self.n_components)
        ]

    def __call__(self, theta):
        """Return J(theta) as a float and dJ/dtheta as a float64 vector."""
        X, m = self.X, self.n_samples
        W1, b1, W2, b2 = self._weights(theta)

        A = hidden_activations(X, W1, b1)
        rho_hat = clip_mean_activation(A.sum(axis=0, dtype=np.float64) / m, self.dtype)
        kl_term, kl_slope = sparsity_penalty(self.rho, self.beta, rho_hat, self.dtype)

        sums = zero_gradient_sums(self.n_features, self.n_components, self.dtype)
        workspace = BlockWorkspace(
            min(self.batch_size, m),
            self.n_features,
            self.n_components,
            self.dtype,
            sparse=sp.issparse(X),
        )
        squared_error = 0.0
        for rows in gen_batches(m, self.batch_size):
            squared_error += add_block_gradient_sums(
                X[rows],
                A[rows],
                W2,
                b2,
                kl_slope,
                self.decoder_activation,
                sums,
                workspace,
            )
        loss, grad, reconstruction_term = finish_loss_and_gradient(
            squared_error, kl_term, sums, W1, W2, m, alpha=self.alpha, beta=self.beta
        )
        self.last_terms_ = {
            "theta": theta,
            "reconstruction": reconstruction_term,
            "sparsity": self.beta * kl_term,
            "mean_activation": rho_hat,
        }
        return loss, grad


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
    """Scratch buffers for one block of rows, allocated once per evaluation."""

    def __init__(self, n_rows, n_features, n_components, dtype, sparse=False):
        self.recon = np.empty((n_rows, n_features), dtype=dtype)
        self.residual = np.empty_like(self.recon)
        self.x_dense = np.empty_like(self.recon) if sparse else None
        self.hidden_delta = np.empty((n_rows, n_components), dtype=dtype)
        self.hidden_slope = np.empty_like(self.hidden_delta)


def add_block_gradient_sums(
    X_blk, A_blk, W2, b2, kl_slope, decoder_activation, sums, workspace=None
):
    """Add one block's un-normalised gradient sums in place; return its squared error.

    ``X_blk`` (dense or CSR) and its hidden activations ``A_blk`` hold the same
    rows. Blocks are independent once ``kl_slope`` (which needs the mean
    activation over *all* rows) is known, so the sums of several blocks, or of
    several chunks on several machines, simply add up.
    """
    k, n_features = X_blk.shape
    if workspace is None:
        workspace = BlockWorkspace(
            k, n_features, A_blk.shape[1], A_blk.dtype, sparse=sp.issparse(X_blk)
        )
    sum_W1, sum_b1, sum_W2, sum_b2 = sums

    X_hat = decode(A_blk, W2, b2, decoder_activation, out=workspace.recon[:k])
    if sp.issparse(X_blk):
        X_dense = workspace.x_dense[:k]
        X_dense.fill(0)
        X_blk.toarray(out=X_dense)
    else:
        X_dense = X_blk
    out_delta = np.subtract(X_hat, X_dense, out=workspace.residual[:k])
    squared_error = float(np.vdot(out_delta, out_delta))
    if decoder_activation == "sigmoid":
        # g'(z) = x_hat * (1 - x_hat), built in place in the recon buffer
        out_delta *= X_hat
        np.subtract(1, X_hat, out=X_hat)
        out_delta *= X_hat
    sum_W2 += A_blk.T @ out_delta
    sum_b2 += out_delta.sum(axis=0)

    delta = np.dot(out_delta, W2.T, out=workspace.hidden_delta[:k])
    delta += kl_slope
    delta *= A_blk
    delta *= np.subtract(1, A_blk, out=workspace.hidden_slope[:k])
    sum_W1 += safe_sparse_dot(X_blk.T, delta, dense_output=True)
    sum_b1 += delta.sum(axis=0)
    return squared_error


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
    """Per-sample ||x_i - x_hat_i||^2, computed block by block."""
    m = X.shape[0]
    errors = np.empty(m, dtype=np.result_type(X.dtype, W1.dtype))
    for rows in gen_batches(m, batch_size):
        X_blk = dense_rows(X, rows)
        _, X_hat = reconstruction(X_blk, W1, b1, W2, b2, decoder_activation)
        X_hat -= X_blk
        errors[rows] = np.einsum("ij,ij->i", X_hat, X_hat)
    return errors


def mean_hidden_activation(X, W1, b1, batch_size):
    """Mean over samples of the hidden activations, block by block."""
    m = X.shape[0]
    total = np.zeros(W1.shape[1], dtype=np.float64)
    for rows in gen_batches(m, batch_size):
        total += hidden_activations(X[rows], W1, b1).sum(axis=0, dtype=np.float64)
    return total / m
