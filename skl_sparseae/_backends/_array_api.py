"""Evaluate the objective on Array API data where it lives: torch, CuPy, ...

Under ``sklearn.set_config(array_api_dispatch=True)``, dense data of any
Array API namespace other than NumPy (PyTorch on CPU or CUDA, CuPy,
array-api-strict) is fitted by :class:`ArrayAPIBackend`: X stays on its
device and in its dtype, and an evaluation moves only the parameter vector
there (in the working dtype) and the reduced sums back, so that
:func:`skl_sparseae._objective.evaluate` and the solver finish on the host
in float64, as for every backend. The block maths are the kernel's
(:func:`skl_sparseae._objective.add_block_gradient_sums` with the data's
namespace); this module only says where the rows live and how they are cut.

The rows are cut into blocks whose temporaries stay bounded: the hidden
activations of all rows are kept between the two passes when they take at
most half the size of X, and recomputed block by block otherwise, so that
the extra device memory of an evaluation stays below the size of X.

Namespaces and devices come from scikit-learn's own helpers: they follow
``array_api_dispatch`` and give the same namespace objects as the
scikit-learn estimators beside this one in a pipeline. NumPy input, sparse
matrices and dask arrays never come here.

:class:`ArrayAPIPlacement` answers the estimators' other questions about
such data, as :class:`~skl_sparseae._backends._numpy.NumpyPlacement` does for
NumPy data, in the data's namespace and on its device.
"""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import scipy.sparse as sp
from sklearn import get_config
from sklearn.utils import gen_batches

from .._inference import score_rows
from .._objective import (
    ACTIVE_THRESHOLD,
    FirstPass,
    add_block_gradient_sums,
    hidden_activations,
    n_parameters,
    to_numpy,
    unpack,
    zero_gradient_sums,
)
from .._sklearn_compat import (
    _is_numpy_namespace,
    _max_precision_float_dtype,
    get_namespace_and_device,
)
from ._blocks import device_batch_size, sums_dtype
from ._numpy import NumpyPlacement


def _is_device_sparse(X):
    """Whether X is a sparse tensor of a device library (torch, CuPy)."""
    layout = getattr(X, "layout", None)
    if layout is not None and type(X).__module__.partition(".")[0] == "torch":
        return str(layout) != "torch.strided"
    return type(X).__module__.startswith("cupyx.scipy.sparse")


def input_namespace(X, estimator_name):
    """``(xp, device)`` of X when an Array API backend must handle it, else None.

    None when ``array_api_dispatch`` is off and for NumPy arrays, array-likes
    (lists, dataframes) and scipy sparse matrices: those keep their own code
    paths, unchanged. The caller has already sent dask arrays elsewhere. A
    sparse tensor on a device raises.
    """
    if not get_config()["array_api_dispatch"] or sp.issparse(X):
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
    xp, is_array_api, device = get_namespace_and_device(X)
    if not is_array_api or _is_numpy_namespace(xp):
        return None
    return xp, device


def to_device(array, xp, device):
    """A copy of the host array ``array`` in namespace ``xp`` on ``device``."""
    return xp.asarray(array, device=device)


def numpy_dtype(xp, dtype):
    """The NumPy float dtype that matches ``dtype`` of namespace ``xp``."""
    return np.dtype(np.float32) if dtype == xp.float32 else np.dtype(np.float64)


def float_dtypes(xp):
    """The float dtypes ``check_array`` keeps, in namespace ``xp``."""
    return [xp.float64, xp.float32]


def value_range(xp, X):
    """Smallest and largest value of device array X (one transfer), or None."""
    if X.shape[0] * X.shape[1] == 0:
        return None
    low, high = to_numpy(xp.stack([xp.min(X), xp.max(X)]))
    return float(low), float(high)


def total_variance(xp, X, sample_weight=None):
    """Sum over the features of the variance of device array X's rows.

    Computed on X's device in float64 where the device has it (its widest
    float otherwise), and brought back as one number. With
    ``sample_weight`` (an array on X's device) the means and variances are
    weighted.
    """
    if X.shape[0] == 0:
        return 0.0
    _, _, device = get_namespace_and_device(X)
    dtype = sums_dtype(xp, device, X.dtype)
    if sample_weight is None:
        variances = xp.var(xp.astype(X, dtype), axis=0)
        return float(to_numpy(xp.sum(variances)))
    X = xp.astype(X, dtype)
    weights = xp.astype(sample_weight, dtype)
    weight_sum = xp.sum(weights)
    centred = X - (weights @ X) / weight_sum
    return float(to_numpy(weights @ xp.sum(centred * centred, axis=1) / weight_sum))


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

    sample_weight : array of shape (n_samples,), default=None
        Validated sample weights of X's namespace, device and dtype, with a
        positive sum: the passes return weighted sums and ``total_weight``
        is their sum. None weighs every row 1, on the unweighted code path.
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
        sample_weight=None,
    ):
        self.X = X
        self.xp = xp
        self.device = device
        self.n_samples, self.n_features = X.shape
        self.sample_weight = sample_weight
        self.n_components = n_components
        self.decoder_activation = decoder_activation
        # evaluate() and the solvers work on the host: they need NumPy's dtype.
        self.dtype = numpy_dtype(xp, X.dtype)
        self.sums_dtype = sums_dtype(xp, device, X.dtype)
        self.total_weight = (
            self.n_samples
            if sample_weight is None
            else float(to_numpy(xp.sum(xp.astype(sample_weight, self.sums_dtype))))
        )
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

    def value_range(self):
        """Smallest and largest value of X, or None when it has none."""
        return value_range(self.xp, self.X)

    def memory_bytes(self):
        """Bytes the evaluations allocate on the host: the sums brought back.

        Device memory (activations, block buffers) is bounded by the blocks
        and counted against the device, not the host.
        """
        n_params = n_parameters(self.n_features, self.n_components)
        return 2 * n_params * self.dtype.itemsize

    def weights(self, theta):
        """W1, b1, W2, b2 on the device, in the working dtype (one transfer)."""
        theta = to_device(theta.astype(self.dtype, copy=False), self.xp, self.device)
        return unpack(theta, self.n_features, self.n_components, xp=self.xp)

    def activation_sums(self, theta):
        """Pass 1: float64 column sums of the hidden activations of all rows.

        Pass 2 receives the weights already on the device and, when they are
        kept, the activations of every block.
        """
        xp = self.xp
        weights = self.weights(theta)
        W1, b1, _, _ = weights
        total = xp.zeros(self.n_components, dtype=self.sums_dtype, device=self.device)
        # Counted on the device, and read once the sums are: no extra wait.
        weighted = self.sample_weight is not None
        active = xp.zeros(
            (),
            dtype=self.sums_dtype if weighted else xp.int64,
            device=self.device,
        )
        hidden = []
        for rows in self.blocks:
            A = hidden_activations(self.X[rows, ...], W1, b1, xp=xp)
            if weighted:
                w = xp.astype(self.sample_weight[rows], self.sums_dtype)
                total += w @ xp.astype(A, self.sums_dtype)
                counts = xp.sum(
                    xp.astype(A > ACTIVE_THRESHOLD, self.sums_dtype), axis=1
                )
                active += w @ counts
            else:
                total += xp.sum(A, axis=0, dtype=self.sums_dtype)
                active += xp.sum(xp.astype(A > ACTIVE_THRESHOLD, xp.int64))
            if self.keep_hidden:
                hidden.append(A)
        column_sums = to_numpy(total).astype(np.float64, copy=False)
        return FirstPass(
            column_sums,
            (weights, hidden if self.keep_hidden else None),
            float(to_numpy(active)) if weighted else int(to_numpy(active)),
        )

    def gradient_sums(self, theta, kl_slope, first_pass):
        """Pass 2: squared error and the gradient sums of W1, b1, W2, b2."""
        xp, device = self.xp, self.device
        d, h = self.n_features, self.n_components
        (W1, b1, W2, b2), hidden = first_pass.kept
        slope = to_device(kl_slope.astype(self.dtype, copy=False), xp, device)
        sums = zero_gradient_sums(d, h, W2.dtype, xp=xp, device=device)
        squared_error = xp.zeros((), dtype=self.sums_dtype, device=device)
        for index, rows in enumerate(self.blocks):
            X_blk = self.X[rows, ...]
            if hidden is not None:
                A = hidden[index]
            else:
                A = hidden_activations(X_blk, W1, b1, xp=xp)
            block_error = add_block_gradient_sums(
                X_blk,
                A,
                W2,
                b2,
                slope,
                self.decoder_activation,
                sums,
                xp=xp,
                weights=None
                if self.sample_weight is None
                else self.sample_weight[rows],
            )
            squared_error += xp.astype(block_error, self.sums_dtype)
        # One transfer of the whole gradient, not four.
        flat = xp.concat([xp.reshape(s, (-1,)) for s in sums])
        grad = to_numpy(flat)
        error = float(to_numpy(squared_error))
        return error, unpack(grad, d, h)

    def close(self):
        """Nothing to free: the device arrays of an evaluation die with it."""

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __repr__(self):
        return (
            f"ArrayAPIBackend({self.xp.__name__}, device={self.device}, "
            f"{self.n_samples}x{self.n_features}, h={self.n_components}, "
            f"batch_size={self.batch_size}, keep_hidden={self.keep_hidden})"
        )


# --------------------------------------------------------------------------
# What the estimators ask of data on a device.


class ArrayAPIPlacement(NumpyPlacement):
    """Dense Array API data other than NumPy's, kept on its device.

    Validated as NumPy data is, in the data's own namespace; the array maths
    and the epochs run in namespace ``xp`` on ``device``.

    Parameters
    ----------
    xp : namespace
        The Array API namespace of the data.

    device : device
        The device of the data.
    """

    _accept_sparse = False

    def __init__(self, xp, device):
        self.xp = xp
        self.device = device

    def __repr__(self):
        return f"{type(self).__name__}({self.xp.__name__}, {self.device!r})"

    def _float_dtypes(self):
        return float_dtypes(self.xp)

    def backend(self, X, n_components, decoder_activation, sample_weight=None):
        return ArrayAPIBackend(
            X,
            n_components,
            decoder_activation,
            xp=self.xp,
            device=self.device,
            sample_weight=sample_weight,
        )

    def take_rows(self, X, rows):
        return self.xp.take(X, self.xp.asarray(rows, device=self.device), axis=0)

    def first_rows(self, X, n_rows):
        return to_numpy(X[: min(n_rows, X.shape[0]), ...])

    def dtype(self, X):
        return numpy_dtype(self.xp, X.dtype)

    def value_range(self, X):
        return value_range(self.xp, X)

    def total_variance(self, X, sample_weight=None):
        return total_variance(self.xp, X, sample_weight)

    def to_data(self, array):
        return to_device(array, self.xp, self.device)

    def score_rows(self, X, weights, decoder, name, *, fit_blocks=False):
        # A fit on a device sizes its blocks with working_memory too
        # (device_batch_size): there are no shape-only blocks to match.
        return score_rows(X, weights, decoder, name, None, xp=self.xp)

    def result(self, array):
        """Floats are float64 where the device has it, else its widest float."""
        if array.dtype.kind == "f":
            widest = _max_precision_float_dtype(self.xp, self.device)
            array = array.astype(numpy_dtype(self.xp, widest))
        return self.to_data(array)

    def mean(self, values, weights=None):
        xp = self.xp
        if weights is None:
            return float(xp.mean(values))
        weights = xp.astype(weights, values.dtype)
        return float(xp.sum(values * weights) / xp.sum(weights))

    def inlier_labels(self, decision):
        xp = self.xp
        return 2 * xp.astype(decision >= 0, xp.int64) - 1
