"""Where X lives, decided once per call: in memory, on a Dask cluster, on a device.

Every public method of the estimators asks :func:`locate` once and then
hands the returned :class:`Placement` everything that depends on where the
data lives: validation and feature names, the checks of the training rows,
the evaluation backend and the minibatch epochs, drawing held-out rows,
bringing results to the host, and the array maths of a fitted model. No
module but this one and the backends asks what kind of array X is.

- ``"numpy"``: NumPy arrays, array-likes (lists, dataframes) and scipy
  sparse matrices, validated by scikit-learn's ``validate_data``;
- ``"dask"``: a row-chunked ``dask.array.Array``, validated lazily chunk by
  chunk (:func:`skl_sparseae._backend_dask.check_dask_array`);
- ``"array_api"``: an Array API array other than NumPy's under
  ``sklearn.set_config(array_api_dispatch=True)``, kept on its device.

:func:`move_estimator_to` moves a fitted model (or a pipeline holding one)
to another namespace or device: its weights and its minibatch solver state.
"""

# SPDX-License-Identifier: BSD-3-Clause

import copy
from functools import partial

import numpy as np
from sklearn import config_context
from sklearn.base import clone
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import check_array, validate_data

from . import _backend_array_api, _backend_dask
from ._backend_array_api import ArrayAPIBackend
from ._backend_dask import (
    ChunkRunner,
    DaskBackend,
    check_dask_array,
    is_dask_collection,
)
from ._backend_numpy import NumpyBackend, block_rows, total_variance, value_range
from ._inference import (
    encode,
    mean_hidden_activation,
    model_statistics,
    reconstruct,
    score_rows,
)
from ._sklearn_compat import (
    _check_sample_weight,
    _get_feature_names,
    _max_precision_float_dtype,
    get_namespace_and_device,
    move_to,
)
from ._sklearn_compat import move_estimator_to as _move_any_estimator_to
from ._stochastic import EpochRunner, MinibatchState
from ._validation import FLOAT_DTYPES

KINDS = ("numpy", "dask", "array_api")


class Placement:
    """Where X lives and what follows from it; see :func:`locate`.

    Parameters
    ----------
    kind : {"numpy", "dask", "array_api"}
        Where the rows live.

    xp, device : namespace and device, default=None
        The Array API namespace and device of ``"array_api"`` data.
    """

    def __init__(self, kind, xp=None, device=None):
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}.")
        self.kind = kind
        self.xp = xp
        self.device = device

    def __repr__(self):
        if self.kind == "array_api":
            return f"Placement('array_api', {self.xp.__name__}, {self.device!r})"
        return f"Placement({self.kind!r})"

    @property
    def on_device(self):
        return self.kind == "array_api"

    # ------------------------------------------------------------------
    # Validation.

    def float_dtypes(self):
        if self.on_device:
            return _backend_array_api.float_dtypes(self.xp)
        return FLOAT_DTYPES

    def feature_names(self, X):
        """The column names of training data X before validation, or None.

        A dask array has none; a dataframe's string column names are kept,
        as scikit-learn keeps them.
        """
        if self.kind == "dask":
            return None
        return _get_feature_names(X)

    def check_fit_input(self, X, estimator):
        """Training data validated as ``check_array`` would (lazily for dask)."""
        if self.kind == "dask":
            return check_dask_array(X, type(estimator).__name__)
        return check_array(
            X,
            accept_sparse="csr",
            dtype=self.float_dtypes(),
            estimator=estimator,
            input_name="X",
        )

    def check_fitted_input(self, X, estimator, method):
        """X for a fitted model's ``method``: features and names checked too."""
        name = type(estimator).__name__
        if self.kind == "dask":
            # Feature count and names as validate_data checks them; the values
            # are checked chunk by chunk when computed.
            validate_data(estimator, X, reset=False, skip_check_array=True)
            return check_dask_array(X, name)
        _backend_array_api.check_namespace_of_fit(X, estimator, method)
        return validate_data(
            estimator,
            X,
            accept_sparse=False if self.on_device else "csr",
            reset=False,
            dtype=self.float_dtypes(),
        )

    def check_sample_weight(self, sample_weight, X, estimator):
        """Sample weights for validated X, as scikit-learn's estimators check them.

        scikit-learn's ``_check_sample_weight``: one finite, non-negative
        weight per row, not all zero, converted to X's dtype (and, for an
        Array API array, moved to X's device) only where they differ. For a
        dask array X, a dask array of weights with X's row chunks
        (:func:`~._backend_dask.check_sample_weight`).
        """
        if self.kind == "dask":
            name = type(estimator).__name__
            return _backend_dask.check_sample_weight(sample_weight, X, name)[0]
        return _check_sample_weight(
            sample_weight, X, dtype=X.dtype, ensure_non_negative=True
        )

    def check_hidden_input(self, A, estimator):
        """Hidden activations for ``inverse_transform`` (no feature names)."""
        if self.kind == "dask":
            return check_dask_array(A, type(estimator).__name__)
        _backend_array_api.check_namespace_of_fit(A, estimator, "inverse_transform")
        return check_array(A, input_name="X", dtype=self.float_dtypes())

    # ------------------------------------------------------------------
    # Fitting.

    def backend(self, X, n_components, decoder_activation, sample_weight=None):
        """The evaluation backend of validated X (a context manager).

        ``sample_weight`` (validated) weighs the rows.
        """
        if self.kind == "dask":
            return DaskBackend(X, n_components, decoder_activation, sample_weight)
        if self.on_device:
            return ArrayAPIBackend(
                X,
                n_components,
                decoder_activation,
                xp=self.xp,
                device=self.device,
                sample_weight=sample_weight,
            )
        return NumpyBackend(
            X, n_components, decoder_activation, sample_weight=sample_weight
        )

    def hold_out(self, X, fraction, random_state):
        """``(training rows, held-out rows)`` of validated X for early stopping.

        ``fraction`` of the rows are held out, drawn as ``train_test_split``
        draws them from ``random_state``, each part in row order.
        """
        if self.kind == "dask":
            raise ValueError(
                "early_stopping=True is not supported for dask arrays: the "
                "held-out rows would have to be drawn across the cluster. Hold "
                "out a validation set yourself and compare score() after fits "
                "with increasing max_iter, or fit with early_stopping=False."
            )
        train, val = self.held_out_indices(X.shape[0], fraction, random_state)
        return self.take_rows(X, train), self.take_rows(X, val)

    def held_out_indices(self, n_samples, fraction, random_state):
        """Sorted host indices ``(training rows, held-out rows)`` of a hold-out."""
        if self.kind == "dask":
            # The error of hold_out, which names the remedies.
            self.hold_out(None, fraction, random_state)
        train, val = train_test_split(
            np.arange(n_samples), test_size=fraction, random_state=random_state
        )
        return np.sort(train), np.sort(val)

    def take_rows(self, X, rows):
        """The rows of validated X (or the entries of 1-d weights) at host ``rows``."""
        if self.on_device:
            return self.xp.take(X, self.xp.asarray(rows, device=self.device), axis=0)
        return X[rows]

    def first_rows(self, X, n_rows):
        """Up to ``n_rows`` leading rows of X as a host array (for checks)."""
        if self.kind == "dask":
            if np.isnan(X.shape[0]):
                # Slicing needs the row counts, which a boolean mask leaves
                # unknown until the chunks are computed.
                return _backend_dask.leading_rows(X, n_rows)
            return X[:n_rows].compute()
        if self.on_device:
            return _backend_array_api.to_numpy(X[: min(n_rows, X.shape[0]), ...])
        return X[:n_rows]

    def dtype(self, X):
        """The NumPy dtype of validated X's values: the fit's working dtype."""
        if self.on_device:
            return _backend_array_api.numpy_dtype(self.xp, X.dtype)
        return np.dtype(X.dtype)

    def value_range(self, X):
        """Smallest and largest stored value of validated X, or None.

        None when X stores no value and for a dask array, whose values are
        checked chunk by chunk as a minibatch epoch streams them.
        """
        if self.kind == "dask":
            return None
        if self.on_device:
            return _backend_array_api.value_range(self.xp, X)
        return value_range(X)

    def total_variance(self, X, sample_weight=None):
        """Sum over the features of the variance of validated X's rows (float64).

        Weighted by ``sample_weight`` when given.
        """
        if self.kind == "dask":
            return _backend_dask.total_variance(X, sample_weight)
        if self.on_device:
            return _backend_array_api.total_variance(self.xp, X, sample_weight)
        return total_variance(X, sample_weight)

    def epoch_runner(self, X, plan, *, estimator_name, sample_weight=None):
        """What runs one epoch of minibatch steps over validated X.

        ``plan`` is the :class:`~._stochastic.MinibatchPlan` of the fit;
        ``sample_weight`` (validated) weighs the rows.
        """
        if self.kind == "dask":
            return ChunkRunner(
                X, plan, estimator_name=estimator_name, sample_weight=sample_weight
            )
        return EpochRunner(
            X, plan, xp=self.xp, device=self.device, sample_weight=sample_weight
        )

    def mean_activation(self, X, W1, b1, sample_weight=None):
        """float64 mean hidden activation over the rows of X, block by block.

        ``W1`` and ``b1`` are host arrays of the working dtype; a dask array is
        reduced chunk by chunk where its chunks live. Weighted by
        ``sample_weight`` when given.
        """
        if self.kind == "dask" and sample_weight is not None:
            return _backend_dask.weighted_mean_activation(X, sample_weight, W1, b1)
        if self.kind == "dask":
            return (
                _backend_dask.transform(X, np.ascontiguousarray(W1.T), b1, "")
                .mean(axis=0, dtype=np.float64)
                .compute()
            )
        xp = self._xp()
        W1, b1 = self.to_data(W1), self.to_data(b1)
        return mean_hidden_activation(X, W1, b1, xp=xp, sample_weight=sample_weight)

    def to_data(self, array):
        """A fitted host array in the namespace and on the device of the data."""
        if self.on_device:
            return _backend_array_api.to_device(array, self.xp, self.device)
        return array

    # ------------------------------------------------------------------
    # A fitted model's maths.

    def encode(self, X, components, intercept_hidden, name):
        if self.kind == "dask":
            return _backend_dask.transform(X, components, intercept_hidden, name)
        return encode(X, components, intercept_hidden, name, xp=self._xp())

    def reconstruct(self, A, decoder_components, intercept_visible, decoder, name):
        if self.kind == "dask":
            return _backend_dask.inverse_transform(
                A, decoder_components, intercept_visible, decoder, name
            )
        return reconstruct(
            A, decoder_components, intercept_visible, decoder, name, xp=self._xp()
        )

    def score_rows(self, X, weights, decoder, name, *, fit_blocks=False):
        """``score_samples`` of validated X; lazily for dask.

        ``fit_blocks`` scores in the blocks a fit uses (from the shape alone),
        as the held-out score of early stopping must.
        """
        if self.kind == "dask":
            return _backend_dask.score_samples(X, weights, decoder, name)
        batch_size = None
        if fit_blocks and not self.on_device:
            batch_size = block_rows(*X.shape, weights[0].shape[0], X.dtype.itemsize)
        return score_rows(X, weights, decoder, name, batch_size, xp=self._xp())

    def statistics(self, X, weights, decoder, name, *, threshold, reconstruction):
        """The :class:`~._inference.Statistics` of validated X, in one pass.

        Computed where X lives: in blocks in memory or on the device, chunk
        by chunk on the cluster for a dask array (then computed, not lazy).
        """
        options = {"threshold": threshold, "reconstruction": reconstruction}
        if self.kind == "dask":
            return _backend_dask.statistics(X, weights, decoder, name, **options)
        return model_statistics(X, weights, decoder, name, xp=self._xp(), **options)

    def to_host(self, array):
        """A host NumPy array of an array of this placement, in its own dtype.

        A lazy result of dask data is computed here (one more pass over its
        chunks).
        """
        if self.kind == "dask" and is_dask_collection(array):
            array = array.compute()
        return _backend_array_api.to_numpy(array)

    def result(self, array):
        """A host array of a result in the namespace and on the device of X.

        Floats are float64 where the device has it, else its widest float;
        NumPy and dask data get the NumPy array itself.
        """
        if not self.on_device:
            return array
        if array.dtype.kind == "f":
            widest = _max_precision_float_dtype(self.xp, self.device)
            array = array.astype(_backend_array_api.numpy_dtype(self.xp, widest))
        return self.to_data(array)

    def mean(self, values, weights=None):
        """The mean of a 1-d array of this placement, as a float.

        Weighted by ``weights`` (an array of the same placement) when given.
        """
        if weights is not None:
            if self.kind == "dask":
                values, weights = (self.to_host(a) for a in (values, weights))
                return float(np.average(values, weights=weights))
            if self.on_device:
                xp = self.xp
                weights = xp.astype(weights, values.dtype)
                return float(xp.sum(values * weights) / xp.sum(weights))
            return float(np.average(values, weights=weights))
        if self.on_device:
            return float(self.xp.mean(values))
        return float(np.mean(values))

    def inlier_labels(self, decision):
        """+1 where ``decision >= 0``, -1 elsewhere, as int64 where X lives."""
        if self.on_device:
            xp = self.xp
            return 2 * xp.astype(decision >= 0, xp.int64) - 1
        # Arithmetic rather than np.where, so that a dask array stays lazy.
        return 2 * (decision >= 0).astype(np.int64) - 1

    def _xp(self):
        return self.xp if self.on_device else None


def locate(X, estimator_name):
    """The :class:`Placement` of X: asked once per public call."""
    if is_dask_collection(X):
        return Placement("dask")
    namespace = _backend_array_api.input_namespace(X, estimator_name)
    if namespace is not None:
        return Placement("array_api", *namespace)
    return Placement("numpy")


# ----------------------------------------------------------------------
# Moving a fitted model.


def move_estimator_to(estimator, xp, device=None):
    """A copy of a fitted estimator with its arrays in another namespace or device.

    Moves every fitted array of a :class:`SparseAutoencoderTransformer` or a
    :class:`SparseAutoencoderOutlierDetector` (the weights,
    ``mean_activation_``) and, after ``solver="adam"`` or ``"sgd"``, the
    state the next :meth:`~SparseAutoencoderTransformer.partial_fit`
    continues (Adam's moments, SGD's velocity), so that the copy holds no
    array of the namespace or device it came from: a copy moved to NumPy
    pickles and loads where the device library is not installed, and
    ``partial_fit`` goes on with data of the target namespace and device.
    Any other estimator, a :class:`~sklearn.pipeline.Pipeline` for instance,
    is moved by scikit-learn's ``move_estimator_to``, which moves the
    estimators of this package that it holds in the same way. The signature
    is scikit-learn's.

    Read more in the :ref:`User Guide <array_api>`.

    Parameters
    ----------
    estimator : estimator instance
        The estimator to move, fitted or not. It is left unchanged.

    xp : module
        The target Array API namespace: ``numpy``, ``torch``, ``cupy``,
        ``array_api_strict``, or the namespace scikit-learn's
        ``get_namespace`` gives for an array.

    device : device, default=None
        The target device, as the namespace names it (``"cpu"``,
        ``"cuda:0"``, ``torch.device("cuda")`` ...). None means the
        namespace's default device (the CPU for NumPy).

    Returns
    -------
    moved_estimator : estimator instance
        A copy of ``estimator`` whose arrays are in ``xp`` on ``device``. On a
        device without float64 (Apple's MPS), float64 arrays become float32,
        as scikit-learn moves them.

    Notes
    -----
    Array API dispatch is turned on for the move (and only for it), so it
    needs the ``SCIPY_ARRAY_API=1`` environment variable, as dispatch does.

    Examples
    --------
    >>> import numpy as np
    >>> from skl_sparseae import SparseAutoencoderTransformer, move_estimator_to
    >>> X = np.random.RandomState(0).uniform(size=(50, 8))
    >>> sae = SparseAutoencoderTransformer(n_components=3, solver="adam",
    ...                                    max_iter=2, tol=0, random_state=0)
    >>> sae = sae.fit(X)
    >>> moved = move_estimator_to(sae, np, "cpu")
    >>> type(moved.components_).__name__, moved is sae
    ('ndarray', False)
    >>> moved = moved.partial_fit(X)
    """
    if isinstance(estimator, type) or not hasattr(estimator, "get_params"):
        raise TypeError(
            f"move_estimator_to moves an estimator instance, got {estimator!r}."
        )
    if not callable(getattr(xp, "asarray", None)):
        raise TypeError(
            "xp must be an Array API namespace (a module such as numpy or "
            f"torch), got {xp!r}."
        )
    with config_context(array_api_dispatch=True):
        # The namespace as scikit-learn names it (a raw module such as torch
        # or cupy becomes its array-api-compat namespace), the device where it
        # puts an array (None: its default device), and an early error for a
        # device it does not have.
        xp, _, _ = get_namespace_and_device(xp.asarray([0.0]))
        _, _, device = get_namespace_and_device(xp.asarray([0.0], device=device))
        if hasattr(estimator, "__sklearn_array_api_convert__"):
            return estimator.__sklearn_array_api_convert__(
                partial(move_to, xp=xp, device=device)
            )
        return _move_any_estimator_to(estimator, xp, device)


def _is_numeric_array(value):
    if isinstance(value, np.ndarray):
        return value.dtype.kind in "biufc"
    return not isinstance(value, np.generic) and hasattr(value, "__dlpack__")


def moved_model(estimator, converter):
    """A fitted copy of ``estimator`` with every array passed through ``converter``.

    Numeric arrays (the weights, ``mean_activation_``) are converted, the
    minibatch solver state moves its optimizer's buffers, and the rest is
    copied: ``feature_names_in_`` holds strings, which no Array API namespace
    has, and scikit-learn compares it with the columns of host dataframes.
    """
    moved = clone(estimator)
    params = estimator.get_params(deep=False)
    for name, value in vars(estimator).items():
        if name in params:
            continue
        if isinstance(value, MinibatchState):
            value = value.moved(converter)
        elif _is_numeric_array(value):
            converted = converter(value)
            # An array already in place comes back as itself: copy it, so
            # that the two models share nothing.
            value = copy.deepcopy(value) if converted is value else converted
        else:
            value = copy.deepcopy(value)
        setattr(moved, name, value)
    return moved
