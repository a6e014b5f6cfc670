"""Evaluate the objective on Array API data where it lives: torch, CuPy, ...

Under ``sklearn.set_config(array_api_dispatch=True)``, dense data of any
Array API namespace other than NumPy (PyTorch on CPU or CUDA, CuPy,
array-api-strict) is fitted by :class:`ArrayAPIBackend`: X stays on its
device and in its dtype, and an evaluation moves only the parameter vector
there (in the working dtype) and the reduced sums back, so that
:func:`skl_sparseae._objective.evaluate` and scipy's L-BFGS-B finish on the
host in float64, as for every backend.

The rows are cut into blocks whose temporaries stay bounded: the hidden
activations of all rows are kept between the two passes when they take at
most half the size of X, and recomputed block by block otherwise, so that
the extra device memory of an evaluation stays below the size of X.

Namespaces and devices come from scikit-learn's own helpers
(``sklearn.utils._array_api``): they follow ``array_api_dispatch`` and give
the same namespace objects as the scikit-learn estimators beside this one in
a pipeline. NumPy input, sparse matrices and dask arrays never come here.

This module also holds the array-level transform, inverse transform and
score of device arrays.
"""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import scipy.sparse as sp
from sklearn import get_config
from sklearn.utils import gen_batches
from sklearn.utils._chunking import get_chunk_n_rows

from ._backend_dask import is_dask_collection
from ._objective import n_parameters, unpack

# Rows per block are at least this many, so that small data still makes one
# block of all its rows and large data keeps the device's kernels busy.
MIN_BLOCK_ROWS = 1024

_SKLEARN_HINT = (
    "Array API support in skl_sparseae needs scikit-learn >= 1.9 "
    "(sklearn.utils._array_api.move_to and check_same_namespace)."
)


def _helpers():
    """scikit-learn's Array API helpers, imported when dispatch is on."""
    try:
        from sklearn.utils import _array_api
        from sklearn.utils._array_api import (  # noqa: F401
            check_same_namespace,
            get_namespace_and_device,
            move_to,
        )
    except ImportError as exc:  # pragma: no cover - older scikit-learn
        raise ImportError(_SKLEARN_HINT) from exc
    return _array_api


def _is_device_sparse(X):
    """Whether X is a sparse tensor of a device library (torch, CuPy)."""
    layout = getattr(X, "layout", None)
    if layout is not None and type(X).__module__.partition(".")[0] == "torch":
        return str(layout) != "torch.strided"
    return type(X).__module__.startswith("cupyx.scipy.sparse")


def input_namespace(X, estimator_name):
    """``(xp, device)`` of X when an Array API backend must handle it, else None.

    None when ``array_api_dispatch`` is off and for NumPy arrays, array-likes
    (lists, dataframes), scipy sparse matrices and dask arrays: those keep
    their own code paths, unchanged. A sparse tensor on a device raises.
    """
    if (
        not get_config()["array_api_dispatch"]
        or sp.issparse(X)
        or is_dask_collection(X)
    ):
        return None
    if _is_device_sparse(X):
        raise TypeError(
            f"{estimator_name} does not accept sparse {type(X).__module__} "
            "tensors: the Array API backend works on dense data. Pass a dense "
            "array (for instance X.to_dense()), or a scipy.sparse matrix, which "
            "is fitted on the CPU."
        )
    if not hasattr(X, "__array_namespace__") and not hasattr(X, "__dlpack__"):
        return None
    helpers = _helpers()
    xp, is_array_api, device = helpers.get_namespace_and_device(X)
    if not is_array_api or helpers._is_numpy_namespace(xp):
        return None
    return xp, device


def check_same_namespace(X, estimator, method):
    """scikit-learn's check that X lives where the fitted attributes do."""
    if get_config()["array_api_dispatch"]:
        _helpers().check_same_namespace(
            X, estimator, attribute="components_", method=method
        )


def to_numpy(array):
    """A host NumPy array of ``array`` (itself when it already is one)."""
    if isinstance(array, np.ndarray):
        return array
    return _helpers().move_to(array, xp=np, device="cpu")


def to_device(array, xp, device):
    """A copy of the host array ``array`` in namespace ``xp`` on ``device``."""
    return xp.asarray(array, device=device)


def numpy_dtype(xp, dtype):
    """The NumPy float dtype that matches ``dtype`` of namespace ``xp``."""
    return np.dtype(np.float32) if dtype == xp.float32 else np.dtype(np.float64)


def float_dtypes(xp):
    """The float dtypes ``check_array`` keeps, in namespace ``xp``."""
    return [xp.float64, xp.float32]


def _sums_dtype(xp, device, dtype):
    """float64 for the reduced sums where the device has it, else ``dtype``."""
    max_float = _helpers()._max_precision_float_dtype(xp, device)
    return xp.float64 if max_float == xp.float64 else dtype


def _sigmoid_(xp, Z):
    """Logistic function of Z, in place where the namespace allows it.

    torch has a fused in-place sigmoid (one pass); elsewhere it is
    ``1 / (1 + exp(-Z))``. Saturation is meant: NumPy-backed namespaces
    (array-api-strict) must not warn when exp overflows to inf.
    """
    if hasattr(Z, "sigmoid_"):
        return Z.sigmoid_()
    with np.errstate(over="ignore", under="ignore"):
        E = xp.exp(-Z)
        E += 1
        return 1 / E


def _add_product(out, left, right):
    """``out += left @ right``, fused where the namespace allows it (torch addmm_)."""
    if hasattr(out, "addmm_"):
        out.addmm_(left, right)
    else:
        out += left @ right


def hidden_activations(xp, X, W1, b1):
    """A = sigmoid(X @ W1 + b1), with the bias added in place.

    Adding the bias to the product in place is one pass over the result;
    a broadcast inside the product (``addmm`` with a row vector) costs more
    on a GPU than the product itself.
    """
    Z = X @ W1
    Z += b1
    return _sigmoid_(xp, Z)


def decode(xp, A, W2, b2, decoder_activation):
    """X_hat = g(A @ W2 + b2)."""
    Z = A @ W2
    Z += b2
    if decoder_activation == "sigmoid":
        Z = _sigmoid_(xp, Z)
    return Z


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
    rows = min(rows, max(MIN_BLOCK_ROWS, budget // row_bytes))
    return max(1, min(rows, n_samples))


class ArrayAPIBackend:
    """The two passes of an evaluation over dense data on its own device.

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
        Validated dense data of namespace ``xp`` on ``device``, float32 or
        float64 (the working dtype).

    n_components : int
        Number of hidden units.

    decoder_activation : {"sigmoid", "identity"}
        The output non-linearity.

    xp, device : namespace and device
        Those of X, from scikit-learn's ``get_namespace_and_device``.

    batch_size : int, default=None
        Rows per block; None sizes them with :func:`device_batch_size`.

    keep_hidden : bool, default=None
        Whether pass 1 keeps the hidden activations of all rows for pass 2
        (one product fewer) instead of recomputing them block by block.
        None keeps them when they take at most half the size of X.
    """

    def __init__(
        self,
        X,
        n_components,
        decoder_activation,
        *,
        xp,
        device,
        batch_size=None,
        keep_hidden=None,
    ):
        self.X = X
        self.xp = xp
        self.device = device
        self.n_samples, self.n_features = X.shape
        self.n_components = n_components
        self.decoder_activation = decoder_activation
        # evaluate() and L-BFGS-B work on the host: they need NumPy's dtype.
        self.dtype = numpy_dtype(xp, X.dtype)
        self._sums_dtype = _sums_dtype(xp, device, X.dtype)
        if keep_hidden is None:
            keep_hidden = 2 * n_components <= self.n_features
        self.keep_hidden = keep_hidden
        if batch_size is None:
            batch_size = device_batch_size(
                self.n_samples,
                self.n_features,
                n_components,
                self.dtype.itemsize,
                keep_hidden=keep_hidden,
            )
        self.batch_size = batch_size
        self.blocks = list(gen_batches(self.n_samples, batch_size))
        self._hidden = None

    def value_range(self):
        """Smallest and largest value of X, or None when it has none."""
        if self.n_samples * self.n_features == 0:
            return None
        xp = self.xp
        low, high = to_numpy(xp.stack([xp.min(self.X), xp.max(self.X)]))
        return float(low), float(high)

    def memory_bytes(self):
        """Bytes the evaluations allocate on the host: the sums brought back.

        Device memory (activations, block buffers) is bounded by the blocks
        and counted against the device, not the host.
        """
        n_params = n_parameters(self.n_features, self.n_components)
        return 2 * n_params * self.dtype.itemsize

    def _weights(self, theta):
        """W1, b1, W2, b2 on the device, in the working dtype (one transfer)."""
        theta = to_device(theta.astype(self.dtype, copy=False), self.xp, self.device)
        return unpack(theta, self.n_features, self.n_components, xp=self.xp)

    def activation_sums(self, theta):
        """Pass 1: float64 column sums of the hidden activations of all rows."""
        xp = self.xp
        W1, b1, _, _ = self._weights(theta)
        total = xp.zeros(self.n_components, dtype=self._sums_dtype, device=self.device)
        hidden = []
        for rows in self.blocks:
            A = hidden_activations(xp, self.X[rows, ...], W1, b1)
            total += xp.sum(A, axis=0, dtype=self._sums_dtype)
            if self.keep_hidden:
                hidden.append(A)
        self._hidden = hidden if self.keep_hidden else None
        return to_numpy(total).astype(np.float64, copy=False)

    def gradient_sums(self, theta, kl_slope):
        """Pass 2: squared error and the gradient sums of W1, b1, W2, b2.

        With the sigmoid decoder the back-propagation of each block runs
        with its sign flipped: ``D *= X_hat; X_hat -= 1; D *= X_hat`` builds
        ``-(x_hat - x) * g'`` in three in-place passes over the block and no
        extra (rows, d) array. The sums are negated once, on the
        concatenated gradient, before it leaves the device.
        """
        xp, device = self.xp, self.device
        d, h = self.n_features, self.n_components
        W1, b1, W2, b2 = self._weights(theta)
        sign = -1 if self.decoder_activation == "sigmoid" else 1
        slope = to_device(
            (sign * kl_slope).astype(self.dtype, copy=False), xp, device
        )
        dtype = W2.dtype
        sum_W1 = xp.zeros((d, h), dtype=dtype, device=device)
        sum_b1 = xp.zeros(h, dtype=dtype, device=device)
        sum_W2 = xp.zeros((h, d), dtype=dtype, device=device)
        sum_b2 = xp.zeros(d, dtype=dtype, device=device)
        squared_error = xp.zeros((), dtype=self._sums_dtype, device=device)
        for index, rows in enumerate(self.blocks):
            X_blk = self.X[rows, ...]
            if self._hidden is not None:
                A = self._hidden[index]
            else:
                A = hidden_activations(xp, X_blk, W1, b1)
            X_hat = decode(xp, A, W2, b2, self.decoder_activation)
            D = X_hat - X_blk
            squared_error += xp.astype(xp.tensordot(D, D, axes=2), self._sums_dtype)
            if sign < 0:
                D *= X_hat
                X_hat -= 1
                D *= X_hat
            del X_hat
            _add_product(sum_W2, A.T, D)
            sum_b2 += xp.sum(D, axis=0)
            # The sparsity slope joins the back-propagated error before the
            # hidden units' derivative: one broadcast add per block.
            H = D @ W2.T
            del D
            H += slope
            S = 1 - A
            S *= A
            H *= S
            del S
            _add_product(sum_W1, X_blk.T, H)
            sum_b1 += xp.sum(H, axis=0)
        flat = xp.concat(
            [
                xp.reshape(sum_W1, (-1,)),
                sum_b1,
                xp.reshape(sum_W2, (-1,)),
                sum_b2,
            ]
        )
        if sign < 0:
            flat = -flat
        grad = to_numpy(flat)
        error = float(to_numpy(squared_error))
        return error, unpack(grad, d, h)

    def __repr__(self):
        return (
            f"ArrayAPIBackend({self.xp.__name__}, device={self.device}, "
            f"{self.n_samples}x{self.n_features}, h={self.n_components}, "
            f"batch_size={self.batch_size}, keep_hidden={self.keep_hidden})"
        )


# --------------------------------------------------------------------------
# Transform, inverse transform and score of validated device arrays.


def _without_overflow(xp, method, estimator_name, compute):
    """``compute()``, refused when overflow gave NaN (as on the NumPy path)."""
    with np.errstate(over="ignore", invalid="ignore"):
        result = compute()
    if bool(xp.any(xp.isnan(result))):
        raise ValueError(
            f"{method} overflowed: X has values too large for this "
            f"{estimator_name}. Scale X the way the training data was "
            "scaled (for instance with the same MinMaxScaler or StandardScaler)."
        )
    return result


def _common_dtype(xp, X, *weights):
    dtype = xp.result_type(X.dtype, *(w.dtype for w in weights))
    return xp.astype(X, dtype, copy=False), [
        xp.astype(w, dtype, copy=False) for w in weights
    ]


def encode(xp, X, components, intercept_hidden, estimator_name):
    """Hidden activations of validated device X (``transform``)."""
    X, (components, intercept_hidden) = _common_dtype(
        xp, X, components, intercept_hidden
    )
    return _without_overflow(
        xp,
        "transform",
        estimator_name,
        lambda: hidden_activations(xp, X, components.T, intercept_hidden),
    )


def reconstruct(xp, A, decoder_components, intercept_visible, decoder_activation, name):
    """Reconstruction of validated device hidden activations (``inverse_transform``)."""
    A, (decoder_components, intercept_visible) = _common_dtype(
        xp, A, decoder_components, intercept_visible
    )
    weights = decoder_components, intercept_visible
    return _without_overflow(
        xp,
        "inverse_transform",
        name,
        lambda: decode(xp, A, *weights, decoder_activation),
    )


def score_rows(xp, X, weights, decoder_activation, estimator_name):
    """``score_samples`` of validated device X, block by block.

    Each block allocates its hidden activations and reconstruction only;
    the result is -0.5 times each row's squared reconstruction error.
    """
    X, (W1t, b1, W2, b2) = _common_dtype(xp, X, *weights)
    n_samples, n_features = X.shape
    batch_size = device_batch_size(
        n_samples, n_features, W1t.shape[0], 8, keep_hidden=False
    )

    def compute():
        parts = []
        for rows in gen_batches(n_samples, batch_size):
            X_blk = X[rows, ...]
            A = hidden_activations(xp, X_blk, W1t.T, b1)
            R = decode(xp, A, W2, b2, decoder_activation)
            R -= X_blk
            parts.append(xp.vecdot(R, R, axis=-1))
        return xp.concat(parts) if len(parts) > 1 else parts[0]

    errors = _without_overflow(xp, "score_samples", estimator_name, compute)
    errors *= -0.5
    return errors
