"""The sparse autoencoder objective and its gradient: the one kernel.

Nothing here knows about estimators, solvers, threads or where the data
lives: every backend (in-memory NumPy, an Array API device, the chunks of a
Dask cluster) and every solver calls these functions on its own blocks of
rows. The block maths take the array namespace ``xp`` of their arrays: None
(or NumPy) runs NumPy's in-place path with preallocated buffers and CSR
support; any other Array API namespace runs the same formulas with that
namespace's operations, on its device. No other module computes a gradient.

For data ``X`` of shape (m, d) and ``h`` hidden units::

    A     = sigmoid(X @ W1 + b1)                       (m, h)
    X_hat = g(A @ W2 + b2)                             (m, d)
    J     = 1 / (2 m) * sum_i ||x_i - x_hat_i||^2
            + alpha / 2 * (||W1||_F^2 + ||W2||_F^2)
            + beta * sum_j KL(rho || mean_i A_ij)

with ``g`` the sigmoid or the identity. With sample weights ``w`` both means
over the rows are weighted: ``m`` becomes ``sum_i w_i``, each squared error
counts ``w_i`` times, and ``mean_i A_ij`` is ``sum_i w_i A_ij / sum_i w_i``.
The flattened parameter vector holds ``W1`` (d, h), ``b1`` (h,), ``W2``
(h, d) and ``b2`` (d,), in that order.

An evaluation needs two passes over the rows, because the sparsity term's
slope needs the mean activation over *all* rows before any row's gradient:

1. ``activation_sums``: the float64 column sums of ``A``, with whatever the
   backend keeps of the activations for pass 2 and, for the progress lines,
   the number of activations above :data:`ACTIVE_THRESHOLD` (a
   :class:`FirstPass`);
2. ``gradient_sums``: given the KL slope and the first pass, the squared
   error and the four un-normalised gradient sums, which add up over blocks
   of rows.

:class:`Backend` is the protocol every backend follows, and :func:`evaluate`
turns what a backend returns into the loss, the gradient and the monitoring
terms.
"""

# SPDX-License-Identifier: BSD-3-Clause

from typing import Any, NamedTuple, Protocol

import numpy as np
import scipy.sparse as sp

from ._sklearn_compat import _is_numpy_namespace, move_to


def is_numpy(xp):
    """Whether ``xp`` is NumPy, bare or wrapped; None stands for NumPy."""
    return xp is None or _is_numpy_namespace(xp)


def to_numpy(array):
    """A host NumPy array of ``array`` (itself when it already is one)."""
    if isinstance(array, np.ndarray):
        return array
    return move_to(array, xp=np, device="cpu")


# A hidden unit counts as active on a sample when its activation exceeds
# this, as in the monitoring advice of the seed and the default of
# ``metrics.unit_activity``.
ACTIVE_THRESHOLD = 0.1


def n_parameters(n_features, n_components):
    """Length of the flattened parameter vector."""
    return 2 * n_features * n_components + n_features + n_components


def pack(W1, b1, W2, b2):
    """Flatten the weights into one float64 vector, in the order W1, b1, W2, b2."""
    return np.concatenate(
        [np.ravel(W1), np.ravel(b1), np.ravel(W2), np.ravel(b2)]
    ).astype(np.float64, copy=False)


def unpack(theta, n_features, n_components, xp=None):
    """Views of W1 (d, h), b1 (h,), W2 (h, d) and b2 (d,) into ``theta``.

    ``xp``, when given, is the Array API namespace of ``theta`` (whose arrays
    need not have a ``reshape`` method).
    """
    d, h = n_features, n_components
    end_W1 = d * h
    end_b1 = end_W1 + h
    end_W2 = end_b1 + h * d
    if xp is not None:
        return (
            xp.reshape(theta[:end_W1], (d, h)),
            theta[end_W1:end_b1],
            xp.reshape(theta[end_b1:end_W2], (h, d)),
            theta[end_W2:],
        )
    return (
        theta[:end_W1].reshape(d, h),
        theta[end_W1:end_b1],
        theta[end_b1:end_W2].reshape(h, d),
        theta[end_W2:],
    )


def initial_parameters(n_features, n_components, random_state, hidden_bias=0.0):
    """Draw W1, W2 uniformly in [-r, r], r = sqrt(6 / (d + h + 1)).

    The hidden biases are ``hidden_bias``, the visible ones zero. Returns the
    packed float64 vector. ``random_state`` is a ``numpy.random.RandomState``
    instance.
    """
    d, h = n_features, n_components
    r = np.sqrt(6.0 / (d + h + 1))
    W1 = random_state.uniform(-r, r, size=(d, h))
    W2 = random_state.uniform(-r, r, size=(h, d))
    return pack(W1, np.full(h, hidden_bias), W2, np.zeros(d))


def activation_bounds(dtype):
    """Smallest and largest mean activation used inside the logarithms.

    Clipping ``rho_hat`` into [eps, 1 - eps] keeps the KL term and its
    gradient finite when a unit saturates; eps follows the working precision.
    """
    eps = np.finfo(dtype).eps
    return eps, 1.0 - eps


def kl_divergence(rho, rho_hat, xp=None):
    """Element-wise KL(rho || rho_hat) between Bernoulli distributions.

    ``rho_hat`` must already lie strictly inside (0, 1).
    """
    log = np.log if is_numpy(xp) else xp.log
    return rho * log(rho / rho_hat) + (1.0 - rho) * log((1.0 - rho) / (1.0 - rho_hat))


def kl_divergence_derivative(rho, rho_hat):
    """Derivative of KL(rho || rho_hat) with respect to rho_hat."""
    return -rho / rho_hat + (1.0 - rho) / (1.0 - rho_hat)


def sigmoid(Z, out=None, xp=None, bias=None):
    """Logistic function 1 / (1 + exp(-Z)), in place when ``out`` is ``Z``.

    Four vectorised passes (negate, exp, add, reciprocal) are faster than
    ``scipy.special.expit``, whose scalar loop is not vectorised; on the
    (rows, n_features) reconstruction this is the largest element-wise cost of
    an evaluation. The result equals ``expit`` to round-off, including
    the saturated ends (exp overflows to inf and the reciprocal gives 0).

    On NumPy, ``bias`` (a vector broadcast along the rows of ``Z``), when
    given, gives ``sigmoid(Z + bias)`` in the same four passes: the negation
    pass computes ``(-bias) - Z``, which is ``-(Z + bias)`` exactly.

    For another namespace ``xp`` the result replaces ``Z`` where the namespace
    can (torch's fused ``sigmoid_``, one pass); ``out`` is then ignored.
    Saturation is meant: NumPy-backed namespaces (array-api-strict) must not
    warn when exp overflows.
    """
    if not is_numpy(xp):
        if hasattr(Z, "sigmoid_"):
            return Z.sigmoid_()
        with np.errstate(over="ignore", under="ignore"):
            E = xp.exp(-Z)
            E += 1
            return 1 / E
    # Kept for out= and bias: alone, the generic body takes 0.76-1.04x this time
    if bias is None:
        out = np.negative(Z, out=out)
    else:
        out = np.subtract(np.negative(bias), Z, out=out)
    with np.errstate(over="ignore", under="ignore"):
        np.exp(out, out=out)
    out += 1
    return np.reciprocal(out, out=out)


def hidden_activations(X, W1, b1, out=None, xp=None):
    """A = sigmoid(X @ W1 + b1) for dense or sparse X.

    ``out``, if given, is a C-contiguous (n_samples, n_components) NumPy
    array of the weights' dtype that receives the result. On another
    namespace the bias is added to the product in place: a broadcast inside
    the product (``addmm`` with a row vector) costs more on a GPU than the
    product itself.
    """
    if not is_numpy(xp):
        Z = X @ W1
        Z += b1
        return sigmoid(Z, xp=xp)
    # Kept for out= (the callers' rows); the generic body takes 0.86-1.45x this time
    if sp.issparse(X):
        Z = X @ W1
        if out is not None:
            out[...] = Z
            Z = out
    else:
        Z = np.dot(X, W1, out=out)
    return sigmoid(Z, out=Z, bias=b1)


def decode(A, W2, b2, decoder_activation, out=None, xp=None):
    """X_hat = g(A @ W2 + b2)."""
    if not is_numpy(xp):
        Z = A @ W2
        Z += b2
        if decoder_activation == "sigmoid":
            Z = sigmoid(Z, xp=xp)
        return Z
    # On NumPy the generic body takes 0.94-5.8x this time (1.4-5.8x in float64)
    Z = np.dot(A, W2, out=out)
    if decoder_activation == "sigmoid":
        sigmoid(Z, out=Z, bias=b2)
    else:
        Z += b2
    return Z


def canonical_csr(X):
    """X as CSR without duplicate entries (copied only when it has some)."""
    if X.format != "csr":
        X = X.tocsr()
    if not X.has_canonical_format:
        X = X.copy()
        X.sum_duplicates()
    return X


def subtract_csr(D, X_blk):
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


def row_squared_errors(X_blk, A_blk, W2, b2, decoder_activation, out=None, xp=None):
    """``||x_i - x_hat_i||^2`` of each row of a block, given its activations.

    ``out`` receives the reconstruction (then the residual) when given; a
    CSR block must be canonical (no duplicate entries).
    """
    residual = decode(A_blk, W2, b2, decoder_activation, out=out, xp=xp)
    if not is_numpy(xp):
        residual -= X_blk
        return xp.vecdot(residual, residual, axis=-1)
    # On NumPy the generic body takes 0.88-5.1x this time (1.4-5.1x in float64)
    if sp.issparse(X_blk):
        subtract_csr(residual, X_blk)
    else:
        residual -= X_blk
    return np.einsum("ij,ij->i", residual, residual)


def zero_gradient_sums(n_features, n_components, dtype, xp=None, device=None):
    """Zeroed accumulators for the un-normalised gradients of W1, b1, W2, b2."""
    shapes = (
        (n_features, n_components),
        (n_components,),
        (n_components, n_features),
        (n_features,),
    )
    if is_numpy(xp):
        return tuple(np.zeros(shape, dtype=dtype) for shape in shapes)
    return tuple(xp.zeros(shape, dtype=dtype, device=device) for shape in shapes)


class BlockWorkspace:
    """Scratch buffers of :func:`add_block_gradient_sums` for up to ``n_rows`` rows.

    Two (n_rows, n_features) buffers (reconstruction and output delta), two
    (n_rows, n_components) buffers (hidden delta and slope), a vector of ones
    for column sums and one buffer per weight matrix for the block's
    weight-gradient products. A caller that evaluates many blocks allocates
    one and passes it to every call, so no block allocates.
    """

    def __init__(self, n_rows, n_features, n_components, dtype):
        self.recon = np.empty((n_rows, n_features), dtype=dtype)
        self.residual = np.empty_like(self.recon)
        self.hidden_delta = np.empty((n_rows, n_components), dtype=dtype)
        self.hidden_slope = np.empty_like(self.hidden_delta)
        self.ones = np.ones(n_rows, dtype=dtype)
        self.product_hd = np.empty((n_components, n_features), dtype=dtype)
        self.product_dh = np.empty((n_features, n_components), dtype=dtype)


def _add_transposed_product(out, left, right, scratch):
    """``out += left.T @ right`` for ``left`` (k, p) and ``right`` (k, q).

    The dense product goes through ``scratch``, a C-contiguous (p, q)
    buffer, so that no temporary is allocated per block. numpy's own BLAS is
    used on purpose: calling scipy's bundled BLAS (gemm with beta=1) as well
    would put a second OpenBLAS thread pool on the same cores.
    """
    if sp.issparse(left):
        out += left.T @ right
    else:
        out += np.dot(left.T, right, out=scratch)


def _squared_error(residual, weights, xp):
    """Sum of the squared residuals on another namespace, weighted by row if given."""
    if weights is None:
        return xp.tensordot(residual, residual, axes=2)
    return xp.sum(xp.vecdot(residual, residual, axis=-1) * weights)


def _add_product(out, left, right):
    """``out += left @ right`` on another namespace, fused where it can (addmm_)."""
    if hasattr(out, "addmm_"):
        out.addmm_(left, right)
    else:
        out += left @ right


def _column_sums(M, ones):
    """Sums over the rows of a C-ordered (k, n) array, as a BLAS gemv."""
    return ones[: M.shape[0]] @ M


def add_block_gradient_sums(
    X_blk,
    A_blk,
    W2,
    b2,
    kl_slope,
    decoder_activation,
    sums,
    workspace=None,
    xp=None,
    weights=None,
):
    """Add one block's un-normalised gradient sums in place; return its squared error.

    ``X_blk`` (dense or canonical CSR) and its hidden activations ``A_blk``
    hold the same rows. Blocks are independent once ``kl_slope`` (which needs
    the mean activation over *all* rows, or whatever estimate of it the
    caller's objective uses) is known, so the sums of several blocks, or of
    several chunks on several machines, simply add up.

    The block costs four matrix products (the decoder, its two gradient
    products and the encoder's weight gradient) and a handful of in-place
    passes. On NumPy they all run in the buffers of ``workspace`` and the
    squared error is a float; on another namespace ``xp`` the block's
    temporaries are that namespace's arrays on its device, and the squared
    error is a 0-d array there, so that nothing waits for the device.

    ``weights``, when given, are the block's sample weights (of the working
    dtype, where ``X_blk`` lives): each row's squared error and its
    gradients, the sparsity slope's included, count ``w_i`` times, and the
    returned squared error is the weighted sum. None is the unweighted sum,
    on its own code path.
    """
    sum_W1, sum_b1, sum_W2, sum_b2 = sums
    if not is_numpy(xp):
        X_hat = decode(A_blk, W2, b2, decoder_activation, xp=xp)
        if decoder_activation == "sigmoid":
            # (x - x_hat) * x_hat * (x_hat - 1) is (x_hat - x) * g'(z): three
            # in-place passes and no (rows, d) array beyond the residual.
            out_delta = X_blk - X_hat
            squared_error = _squared_error(out_delta, weights, xp)
            out_delta *= X_hat
            X_hat -= 1
            out_delta *= X_hat
        else:
            out_delta = X_hat - X_blk
            squared_error = _squared_error(out_delta, weights, xp)
        del X_hat
        if weights is not None:
            out_delta *= weights[:, None]
        _add_product(sum_W2, A_blk.T, out_delta)
        sum_b2 += xp.sum(out_delta, axis=0)
        delta = out_delta @ W2.T
        del out_delta
        if weights is None:
            delta += kl_slope
        else:
            delta += weights[:, None] * kl_slope
        slope = 1 - A_blk
        slope *= A_blk
        delta *= slope
        del slope
        _add_product(sum_W1, X_blk.T, delta)
        sum_b1 += xp.sum(delta, axis=0)
        return squared_error

    # On NumPy the generic body takes 0.83-2.9x this time (2.2-2.9x at 64 features)
    k, n_features = X_blk.shape
    if workspace is None or workspace.recon.shape[0] < k:
        workspace = BlockWorkspace(k, n_features, A_blk.shape[1], A_blk.dtype)

    X_hat = decode(A_blk, W2, b2, decoder_activation, out=workspace.recon[:k])
    out_delta = workspace.residual[:k]
    if sp.issparse(X_blk):
        np.copyto(out_delta, X_hat)
        subtract_csr(out_delta, X_blk)
    else:
        np.subtract(X_hat, X_blk, out=out_delta)
    if weights is None:
        squared_error = float(np.vdot(out_delta, out_delta))
    else:
        squared_error = float(
            np.dot(np.einsum("ij,ij->i", out_delta, out_delta), weights)
        )
    if decoder_activation == "sigmoid":
        # g'(z) = x_hat * (1 - x_hat), built in place in the recon buffer
        out_delta *= X_hat
        np.subtract(1, X_hat, out=X_hat)
        out_delta *= X_hat
    if weights is not None:
        # Row i's error counts w_i times, in the decoder's gradient and, back
        # through W2, in the encoder's.
        out_delta *= weights[:, None]
    _add_transposed_product(sum_W2, A_blk, out_delta, workspace.product_hd)
    sum_b2 += _column_sums(out_delta, workspace.ones)

    # The sparsity gradient joins the back-propagated error before the
    # hidden units' derivative, so it costs one broadcast add per block.
    delta = np.dot(out_delta, W2.T, out=workspace.hidden_delta[:k])
    if weights is None:
        delta += kl_slope
    else:
        # Row i's activations enter the weighted mean activation w_i times.
        delta += np.multiply.outer(weights, kl_slope, out=workspace.hidden_slope[:k])
    delta *= A_blk
    delta *= np.subtract(1, A_blk, out=workspace.hidden_slope[:k])
    _add_transposed_product(sum_W1, X_blk, delta, workspace.product_dh)
    sum_b1 += _column_sums(delta, workspace.ones)
    return squared_error


def add_in_order(parts):
    """Sum of ``parts`` (arrays, or tuples of arrays), added first to last.

    Floating-point addition is not associative: adding partial sums in one
    fixed order is what makes an evaluation independent of how many threads
    or workers computed the parts.
    """
    first, *rest = parts
    if isinstance(first, tuple):
        total = tuple(np.array(a, copy=True) for a in first)
        for part in rest:
            for t, a in zip(total, part):
                t += a
        return total
    total = np.array(first, copy=True)
    for part in rest:
        total += part
    return total


def add_partials_in_order(partials):
    """Add ``(squared error, gradient sums)`` pairs, first to last."""
    squared_error = 0.0
    for part_error, _ in partials:
        squared_error += part_error
    return squared_error, add_in_order([sums for _, sums in partials])


def sparsity_terms(mean_activation, rho, beta, dtype):
    """Clipped mean activations, the KL term and the slope ``beta * KL'``.

    ``mean_activation`` holds the float64 mean of each hidden activation
    over the rows. The slope is what each hidden activation's gradient
    receives, before the 1/m that :func:`finish_loss_and_gradient` applies;
    it is returned in ``dtype``, the data's.
    """
    eps_low, eps_high = activation_bounds(dtype)
    rho_hat = np.clip(mean_activation, eps_low, eps_high)
    # kl_divergence and its derivative share their two ratios: the same
    # values, computed once (a minibatch step pays for every array call).
    on = rho / rho_hat
    off = (1.0 - rho) / (1.0 - rho_hat)
    kl_term = float(np.sum(rho * np.log(on) + (1.0 - rho) * np.log(off)))
    kl_slope = (beta * (off - on)).astype(dtype)
    return rho_hat, kl_term, kl_slope


def loss_terms(squared_error, kl_term, W1, W2, m, *, alpha, beta):
    """J and its reconstruction term, from the squared error and KL term of m rows."""
    reconstruction_term = 0.5 * (1.0 / m) * squared_error
    decay_term = 0.5 * alpha * (float(np.vdot(W1, W1)) + float(np.vdot(W2, W2)))
    return reconstruction_term + decay_term + beta * kl_term, reconstruction_term


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
    loss, reconstruction_term = loss_terms(
        squared_error, kl_term, W1, W2, m, alpha=alpha, beta=beta
    )
    return loss, grad, reconstruction_term


# A minibatch step is cut into shares, computed concurrently where threads
# are given: shares of the batch's rows for the forward and backward passes,
# shares of the hidden units and of the features for the weight gradients.
# The cut depends on the step's shape alone, never on the threads: a product
# of a block may round differently from the whole product, so a step's bits
# follow its cut, which must be the same on every machine and setting.
# At most this many shares (threads beyond it idle) ...
MAX_STEP_SHARES = 8
# ... each of at least this many rows, hidden units and features: every
# product of a share packs one whole operand again (BLAS copies its operands
# into panels), which a block of fewer rows or columns does not repay ...
MIN_SHARE_SIZE = 64
# ... and of at least this many multiply-adds per product (batch rows x
# features x hidden units / shares): below it, handing a share to another
# thread costs more than computing it. The count is a power of two, so that
# the shares divide evenly among 2, 4 or 8 threads. A 200-row batch of 64
# features and 100 hidden units is one share, one of 784 features and 196
# units two.
MIN_SHARE_MULTIPLY_ADDS = 2**22


def step_shares(n_rows, n_features, n_components):
    """How many shares a minibatch step of this shape is cut into.

    A function of the batch's rows, the features and the hidden units
    alone: the largest power of two within ``MAX_STEP_SHARES`` and the
    bounds of the constants after it, at least 1.
    """
    work = n_rows * n_features * n_components
    bound = min(
        MAX_STEP_SHARES,
        n_rows // MIN_SHARE_SIZE,
        n_components // MIN_SHARE_SIZE,
        n_features // MIN_SHARE_SIZE,
        work // MIN_SHARE_MULTIPLY_ADDS,
    )
    return 1 << (max(bound, 1).bit_length() - 1)


def even_slices(n, count):
    """``count`` contiguous slices that cover ``range(n)``, their sizes within one."""
    bounds = [n * i // count for i in range(count + 1)]
    return [slice(start, stop) for start, stop in zip(bounds[:-1], bounds[1:])]


def in_turn(function, n):
    """``[function(0), ..., function(n - 1)]``, one after the other.

    The default ``map_shares`` of :func:`minibatch_loss_and_gradient`; a
    caller with threads passes one that computes the calls concurrently and
    returns the same list.
    """
    return [function(index) for index in range(n)]


class MinibatchWorkspace:
    """Buffers of :func:`minibatch_loss_and_gradient` for batches of ``n_rows`` rows.

    A :class:`BlockWorkspace` for the kernel, the batch's hidden activations,
    the float64 column sums of each share of its rows and, for dense data,
    the batch's rows (gathered from shuffled indices with
    ``numpy.take(out=...)``). ``n_shares`` is the step's cut (from
    :func:`step_shares` unless given), ``units`` and ``features`` its slices
    of the hidden units and of the features; the rows of each batch, the
    last (smaller) one included, are cut into as many slices. One workspace
    serves every batch of a fit, so that a step allocates no array of rows.
    """

    def __init__(
        self, n_rows, n_features, n_components, dtype, *, dense=True, n_shares=None
    ):
        self.block = BlockWorkspace(n_rows, n_features, n_components, dtype)
        self.hidden = np.empty((n_rows, n_components), dtype=dtype)
        self.rows = np.empty((n_rows, n_features), dtype=dtype) if dense else None
        if n_shares is None:
            n_shares = step_shares(n_rows, n_features, n_components)
        self.n_shares = n_shares
        self.units = even_slices(n_components, n_shares)
        self.features = even_slices(n_features, n_shares)
        self.column_sums = np.empty(n_components, dtype=np.float64)
        self.share_column_sums = np.empty((n_shares, n_components), dtype=np.float64)
        self._row_shares = {}

    def row_shares(self, k):
        """The slices of a batch of ``k`` rows, one per share."""
        shares = self._row_shares.get(k)
        if shares is None:
            shares = self._row_shares[k] = even_slices(k, self.n_shares)
        return shares


def _add_decay_and_scale(gradient, weights, scale_k, inv_k, scratch):
    """``gradient = (gradient + scale_k * weights) * inv_k``, in place.

    ``gradient`` holds a share's summed gradient of a weight matrix; the
    decay joins it before the 1/k, through ``scratch`` (same shape).
    """
    np.multiply(weights, scale_k, out=scratch)
    gradient += scratch
    gradient *= inv_k


def minibatch_loss_and_gradient(
    theta,
    X_batch,
    grad,
    *,
    n_features,
    n_components,
    rho,
    beta,
    alpha,
    decoder_activation,
    weights=None,
    weight_sum=None,
    workspace=None,
    xp=None,
    terms=None,
    map_shares=None,
):
    """J on one minibatch and its gradient, for a stochastic solver's step.

    For the k rows of ``X_batch`` the minibatch objective is the full
    objective with every mean over samples taken over the batch::

        J_B = 1 / (2 k) * sum_{i in B} ||x_i - x_hat_i||^2
              + alpha / 2 * (||W1||_F^2 + ||W2||_F^2)
              + beta * sum_j KL(rho || mean_{i in B} A_ij)

    so its sparsity term sees the batch's own mean activation, as in the
    seed's training loop; its gradient is exact for J_B. ``theta`` is the
    flat parameter vector in the working dtype (of namespace ``xp``).

    With ``weights``, the batch's sample weights (of the working dtype,
    where ``X_batch`` lives), and ``weight_sum``, their float sum ``W_B``,
    which must be positive, both means over the batch are weighted::

        J_B = 1 / (2 W_B) * sum_{i in B} w_i ||x_i - x_hat_i||^2
              + alpha / 2 * (||W1||_F^2 + ||W2||_F^2)
              + beta * sum_j KL(rho || sum_{i in B} w_i A_ij / W_B)

    so a batch's weighted loss is normalised by its weight sum, as
    scikit-learn's ``MLPRegressor`` normalises its minibatches.

    On NumPy the gradient is written into ``grad`` (a flat vector like
    ``theta``) and every array of rows lives in ``workspace`` (a
    :class:`MinibatchWorkspace`); the loss is a float. The step runs in
    three rounds over the workspace's shares (:func:`step_shares`): the
    activations, the reconstruction and the output delta by shares of the
    batch's rows, each share also summing its activations per hidden unit;
    once the sparsity slope is known from those sums, the hidden delta by
    shares of rows; then the weight gradients by shares of the hidden units
    (W2 and b1) and of the features (W1 and b2), each a whole product over
    the batch's rows that writes whole rows of ``grad``'s matrices. Only
    the column sums, the squared error and the decay come in parts, added
    in share order. ``map_shares(function, n)`` computes
    ``[function(0), ..., function(n - 1)]`` for a round (default
    :func:`in_turn`; a caller with threads computes them concurrently); the
    result does not depend on how.

    On another namespace ``grad`` and ``map_shares`` are ignored and a new
    gradient vector is returned, and the loss is a 0-d array on the device,
    so that a step never waits for it.

    ``terms``, when given, receives the batch's parts of J for the progress
    lines: ``terms.add(k, squared_error, sparsity, column_sums, active)``,
    with the batch's summed squared error, its sparsity term ``beta * KL``,
    the column sums of its hidden activations and the number of its
    activations above :data:`ACTIVE_THRESHOLD` (NumPy values, or 0-d and 1-d
    arrays on the device); with weights, ``W_B`` in place of ``k`` and the
    weighted sums and count. Only then are the active units counted.

    Returns ``(loss, gradient)``.
    """
    k = X_batch.shape[0]
    weighted = weights is not None
    # What the batch's means divide by: its rows, or its weight sum.
    norm = weight_sum if weighted else k
    inv_norm = 1.0 / norm
    if not is_numpy(xp):
        W1, b1, W2, b2 = unpack(theta, n_features, n_components, xp=xp)
        A = hidden_activations(X_batch, W1, b1, xp=xp)
        working = np.float32 if A.dtype == xp.float32 else np.float64
        eps_low, eps_high = activation_bounds(working)
        column_sums = weights @ A if weighted else xp.sum(A, axis=0)
        rho_hat = xp.clip(
            column_sums * inv_norm, min=float(eps_low), max=float(eps_high)
        )
        kl_term = xp.sum(kl_divergence(rho, rho_hat, xp=xp))
        kl_slope = beta * kl_divergence_derivative(rho, rho_hat)
        # The decay joins the sums before they are scaled by 1/k.
        sums = (
            (alpha * norm) * W1,
            xp.zeros_like(b1),
            (alpha * norm) * W2,
            xp.zeros_like(b2),
        )
        squared_error = add_block_gradient_sums(
            X_batch,
            A,
            W2,
            b2,
            kl_slope,
            decoder_activation,
            sums,
            xp=xp,
            weights=weights,
        )
        gradient = xp.concat([xp.reshape(s, (-1,)) for s in sums])
        gradient *= inv_norm
        decay = xp.sum(W1 * W1) + xp.sum(W2 * W2)
        loss = (0.5 * inv_norm) * squared_error + (0.5 * alpha) * decay + beta * kl_term
        if terms is not None:
            if weighted:
                active = weights @ xp.sum(
                    xp.astype(A > ACTIVE_THRESHOLD, A.dtype), axis=1
                )
            else:
                active = xp.sum(xp.astype(A > ACTIVE_THRESHOLD, xp.int64))
            terms.add(norm, squared_error, beta * kl_term, column_sums, active)
        return loss, gradient

    # For the step's threads; generic body: 1.27-1.83x this at d=64, 0.65-1.06x at 784
    sparse = sp.issparse(X_batch)
    if workspace is None or workspace.hidden.shape[0] < k:
        workspace = MinibatchWorkspace(
            k, n_features, n_components, theta.dtype, dense=not sparse
        )
    run = in_turn if map_shares is None else map_shares
    W1, b1, W2, b2 = unpack(theta, n_features, n_components)
    gW1, gb1, gW2, gb2 = unpack(grad, n_features, n_components)
    block = workspace.block
    A = workspace.hidden[:k]
    X_hat, out_delta = block.recon[:k], block.residual[:k]
    delta, ones = block.hidden_delta[:k], block.ones[:k]
    n_shares = workspace.n_shares
    row_shares = workspace.row_shares(k)
    count_active = terms is not None

    def forward_rows(index):
        """A, the reconstruction and the output delta of one share of rows.

        Every array it writes is a block of whole rows, so its element-wise
        passes run on contiguous memory. Returns the share's squared error
        and active units; its column sums go to ``share_column_sums``.
        """
        rows = row_shares[index]
        X_s = X_batch if n_shares == 1 else X_batch[rows]
        A_s = hidden_activations(X_s, W1, b1, out=A[rows])
        sums_s = workspace.share_column_sums[index]
        if weighted:
            # Summed in float64 as the unweighted sums, from the weighted
            # activations in the hidden slope's rows, free until the
            # backward round: no array of rows is allocated.
            weighted_A_s = np.multiply(
                A_s, weights[rows, None], out=block.hidden_slope[rows]
            )
            np.sum(weighted_A_s, axis=0, dtype=np.float64, out=sums_s)
        else:
            np.sum(A_s, axis=0, dtype=np.float64, out=sums_s)
        X_hat_s = decode(A_s, W2, b2, decoder_activation, out=X_hat[rows])
        out_delta_s = out_delta[rows]
        if sparse:
            np.copyto(out_delta_s, X_hat_s)
            subtract_csr(out_delta_s, X_s)
        else:
            np.subtract(X_hat_s, X_s, out=out_delta_s)
        if weighted:
            row_errors = np.einsum("ij,ij->i", out_delta_s, out_delta_s)
            squared_error = float(np.dot(row_errors, weights[rows]))
        else:
            squared_error = float(np.vdot(out_delta_s, out_delta_s))
        if decoder_activation == "sigmoid":
            # g'(z) = x_hat * (1 - x_hat), built in place in the recon buffer
            out_delta_s *= X_hat_s
            np.subtract(1, X_hat_s, out=X_hat_s)
            out_delta_s *= X_hat_s
        if weighted:
            # Row i's error counts w_i times, in the decoder's gradient and,
            # back through W2, in the encoder's.
            out_delta_s *= weights[rows, None]
        if not count_active:
            return squared_error, 0
        if weighted:
            units_on = np.count_nonzero(A_s > ACTIVE_THRESHOLD, axis=1)
            return squared_error, float(np.dot(units_on, weights[rows]))
        return squared_error, np.count_nonzero(A_s > ACTIVE_THRESHOLD)

    def backward_rows(index):
        """The hidden delta of one share of rows, sparsity slope included."""
        rows = row_shares[index]
        A_s = A[rows]
        slope_s = block.hidden_slope[rows]
        delta_s = np.matmul(out_delta[rows], W2.T, out=delta[rows])
        # The sparsity gradient joins the back-propagated error before the
        # hidden units' derivative: one broadcast add; row i's activations
        # enter the weighted mean activation w_i times.
        if weighted:
            delta_s += np.multiply.outer(weights[rows], kl_slope, out=slope_s)
        else:
            delta_s += kl_slope
        delta_s *= A_s
        delta_s *= np.subtract(1, A_s, out=slope_s)

    def weight_gradients(index):
        """Gradient rows of W2 and b1 (a share of units), W1 and b2 (of features).

        Each is a reduction over the batch's rows inside one product, and
        each share writes whole rows of the weight matrices, contiguous in
        ``grad``. Returns the squares of the share's weights, for the decay.
        """
        units, features = workspace.units[index], workspace.features[index]
        W2_s = W2[units]
        gW2_s = np.matmul(A[:, units].T, out_delta, out=gW2[units])
        _add_decay_and_scale(
            gW2_s, W2_s, alpha * norm, inv_norm, block.product_hd[units]
        )
        gb1_s = np.matmul(ones, delta[:, units], out=gb1[units])
        gb1_s *= inv_norm
        W1_s = W1[features]
        gW1_s = gW1[features]
        X_s = X_batch if n_shares == 1 else X_batch[:, features]
        if sparse:
            gW1_s[...] = X_s.T @ delta
        else:
            np.matmul(X_s.T, delta, out=gW1_s)
        _add_decay_and_scale(
            gW1_s, W1_s, alpha * norm, inv_norm, block.product_dh[features]
        )
        gb2_s = np.matmul(ones, out_delta[:, features], out=gb2[features])
        gb2_s *= inv_norm
        return float(np.vdot(W1_s, W1_s)), float(np.vdot(W2_s, W2_s))

    # Three rounds: the sparsity slope needs the column sums of all rows,
    # the weight gradients the hidden delta of all rows. Partial sums are
    # added in share order: the same bits whoever computed them.
    forward = run(forward_rows, n_shares)
    column_sums = workspace.share_column_sums[0]
    if n_shares > 1:
        column_sums = workspace.column_sums
        np.copyto(column_sums, workspace.share_column_sums[0])
        for share_sums in workspace.share_column_sums[1:]:
            column_sums += share_sums
    _, kl_term, kl_slope = sparsity_terms(
        column_sums * inv_norm, rho, beta, theta.dtype
    )
    run(backward_rows, n_shares)
    decays = run(weight_gradients, n_shares)
    squared_error = 0.0
    active = 0
    for share_error, share_active in forward:
        squared_error += share_error
        active += share_active
    decay_W1 = decay_W2 = 0.0
    for share_W1, share_W2 in decays:
        decay_W1 += share_W1
        decay_W2 += share_W2
    loss = (
        0.5 * inv_norm * squared_error
        + 0.5 * alpha * (decay_W1 + decay_W2)
        + beta * kl_term
    )
    if terms is not None:
        terms.add(norm, squared_error, beta * kl_term, column_sums, active)
    return loss, grad


class FirstPass(NamedTuple):
    """What pass 1 of an evaluation hands to pass 2 of the same evaluation.

    ``column_sums`` are the float64 column sums of the hidden activations
    over all rows; ``kept`` is whatever the backend keeps for pass 2 (the
    activations themselves, the weights already on their device, the
    workers' futures), opaque to everyone else; ``active_count`` is the
    number of activations above :data:`ACTIVE_THRESHOLD` over all rows and
    units, for the progress lines (None where a backend does not count).
    """

    column_sums: np.ndarray
    kept: Any = None
    active_count: int | None = None


class Backend(Protocol):
    """Where the rows of a fit live and how they are cut: what a solver evaluates.

    A backend is a context manager; leaving it frees its buffers, threads or
    cluster data. ``dtype`` is the working precision (NumPy's float32 or
    float64) and ``theta`` is always the float64 host parameter vector.
    ``total_weight`` is what the objective's means over the rows divide by:
    ``n_samples``, or the sum of the sample weights of a weighted fit, whose
    passes then return weighted sums.
    """

    n_samples: int
    total_weight: float
    n_features: int
    n_components: int
    dtype: np.dtype

    def activation_sums(self, theta) -> FirstPass:
        """Pass 1 over all rows, counting the active units as it goes."""

    def gradient_sums(self, theta, kl_slope, first_pass) -> tuple:
        """Pass 2 over all rows: ``(squared error, (sum_W1, sum_b1, sum_W2, sum_b2))``.

        ``first_pass`` is what :meth:`activation_sums` returned for the same
        ``theta``; the sums are NumPy arrays of ``dtype``.
        """

    def value_range(self) -> tuple | None:
        """Smallest and largest stored value of X, or None when it stores none."""

    def memory_bytes(self) -> int:
        """Bytes the evaluations allocate in this process."""

    def close(self) -> None:
        """Free what the evaluations hold."""

    def __enter__(self): ...

    def __exit__(self, *exc_info): ...


class Evaluation(NamedTuple):
    """One evaluation of the objective: what a solver needs, and its parts.

    ``mean_active_units`` is the mean number of hidden units per row whose
    activation exceeds :data:`ACTIVE_THRESHOLD` (None when not counted),
    weighted as the objective's means are.
    """

    loss: float
    gradient: np.ndarray
    reconstruction: float
    sparsity: float
    mean_activation: np.ndarray
    mean_active_units: float | None = None


def evaluate(backend, theta, *, rho, beta, alpha):
    """J(theta), its float64 gradient and its terms, on ``backend``'s data.

    ``backend`` follows :class:`Backend`. The weight decay uses the weights
    in the working precision, as the passes do.
    """
    m = backend.total_weight
    first_pass = backend.activation_sums(theta)
    rho_hat, kl_term, kl_slope = sparsity_terms(
        first_pass.column_sums / m, rho, beta, backend.dtype
    )
    squared_error, sums = backend.gradient_sums(theta, kl_slope, first_pass)
    W1, _, W2, _ = unpack(
        theta.astype(backend.dtype, copy=False),
        backend.n_features,
        backend.n_components,
    )
    loss, grad, reconstruction_term = finish_loss_and_gradient(
        squared_error, kl_term, sums, W1, W2, m, alpha=alpha, beta=beta
    )
    active = first_pass.active_count
    return Evaluation(
        loss,
        grad,
        reconstruction_term,
        beta * kl_term,
        rho_hat,
        None if active is None else active / m,
    )


class Objective:
    """J on one backend's data with fixed ``rho``, ``beta`` and ``alpha``.

    Calling it evaluates J at a parameter vector; this is what a solver is
    handed, so that it never needs to know the backend or the penalties, and
    a test can hand a solver any callable that returns an :class:`Evaluation`.
    """

    def __init__(self, backend, *, rho, beta, alpha):
        self.backend = backend
        self.params = {"rho": rho, "beta": beta, "alpha": alpha}

    @property
    def dtype(self):
        return self.backend.dtype

    def __call__(self, theta):
        return evaluate(self.backend, theta, **self.params)

    def without(self, penalty):
        """The same objective with the ``penalty`` ("beta" or "alpha") set to 0."""
        return Objective(self.backend, **{**self.params, penalty: 0.0})
