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
        X, m, dtype = self.X, self.n_samples, self.dtype
        W1, b1, W2, b2 = self._weights(theta)

        A = hidden_activations(X, W1, b1)
        eps_low, eps_high = activation_bounds(dtype)
        rho_hat = np.clip(A.mean(axis=0, dtype=np.float64), eps_low, eps_high)
        kl_term = float(np.sum(kl_divergence(self.rho, rho_hat)))
        # dJ_KL/dA_ij = beta / m * KL'(rho_hat_j); the 1/m is applied with the
        # reconstruction part, to the final gradients.
        kl_slope = (self.beta * kl_divergence_derivative(self.rho, rho_hat)).astype(
            dtype
        )

        grad = np.empty_like(theta, dtype=np.float64)
        gW1, gb1, gW2, gb2 = unpack(grad, self.n_features, self.n_components)
        acc_W1 = np.zeros_like(W1)
        acc_b1 = np.zeros_like(b1)
        acc_W2 = np.zeros_like(W2)
        acc_b2 = np.zeros_like(b2)

        squared_error = 0.0
        sigmoid_decoder = self.decoder_activation == "sigmoid"
        n_rows = min(self.batch_size, m)
        recon = np.empty((n_rows, self.n_features), dtype=dtype)
        residual = np.empty_like(recon)
        x_dense = np.empty_like(recon) if sp.issparse(X) else None
        hidden_delta = np.empty((n_rows, self.n_components), dtype=dtype)
        hidden_slope = np.empty_like(hidden_delta)

        for rows in gen_batches(m, self.batch_size):
            k = rows.stop - rows.start
            A_blk = A[rows]
            X_hat = decode(A_blk, W2, b2, self.decoder_activation, out=recon[:k])
            X_blk = dense_rows(X, rows, out=None if x_dense is None else x_dense[:k])
            out_delta = np.subtract(X_hat, X_blk, out=residual[:k])
            squared_error += float(np.vdot(out_delta, out_delta))
            if sigmoid_decoder:
                # g'(z) = x_hat * (1 - x_hat), built in place in the recon buffer
                out_delta *= X_hat
                np.subtract(1, X_hat, out=X_hat)
                out_delta *= X_hat
            acc_W2 += A_blk.T @ out_delta
            acc_b2 += out_delta.sum(axis=0)

            delta = np.dot(out_delta, W2.T, out=hidden_delta[:k])
            delta += kl_slope
            delta *= A_blk
            slope = np.subtract(1, A_blk, out=hidden_slope[:k])
            delta *= slope
            acc_W1 += safe_sparse_dot(X[rows].T, delta, dense_output=True)
            acc_b1 += delta.sum(axis=0)

        inv_m = 1.0 / m
        np.multiply(acc_W1, inv_m, out=gW1)
        gW1 += self.alpha * W1
        np.multiply(acc_b1, inv_m, out=gb1)
        np.multiply(acc_W2, inv_m, out=gW2)
        gW2 += self.alpha * W2
        np.multiply(acc_b2, inv_m, out=gb2)

        reconstruction_term = 0.5 * inv_m * squared_error
        decay_term = (
            0.5 * self.alpha * (float(np.vdot(W1, W1)) + float(np.vdot(W2, W2)))
        )
        loss = reconstruction_term + decay_term + self.beta * kl_term
        self.last_terms_ = {
            "theta": theta,
            "reconstruction": reconstruction_term,
            "sparsity": self.beta * kl_term,
            "mean_activation": rho_hat,
        }
        return loss, grad


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
