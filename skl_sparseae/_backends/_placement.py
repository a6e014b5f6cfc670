"""Where X lives, decided once per call: in memory, on a Dask cluster, on a device.

Every public method of the estimators asks :func:`locate` once and then
hands the returned :class:`~skl_sparseae._backends._protocol.Placement`
everything that depends on where the data lives: validation and feature
names, the checks of the training rows, the evaluation backend and the
minibatch epochs, drawing held-out rows, bringing results to the host, and
the array maths of a fitted model. No module outside the backends asks what
kind of array X is.

- :class:`~skl_sparseae._backends._numpy.NumpyPlacement`: NumPy arrays,
  array-likes (lists, dataframes) and scipy sparse matrices, validated by
  scikit-learn's ``validate_data``;
- :class:`~skl_sparseae._backends._dask.DaskPlacement`: a row-chunked
  ``dask.array.Array``, validated lazily chunk by chunk;
- :class:`~skl_sparseae._backends._array_api.ArrayAPIPlacement`: an Array API
  array other than NumPy's under ``sklearn.set_config(array_api_dispatch=True)``,
  kept on its device.

:func:`move_estimator_to` moves a fitted model (or a pipeline holding one)
to another namespace or device: its weights and its minibatch solver state.
"""

# SPDX-License-Identifier: BSD-3-Clause

import copy
from functools import partial

import numpy as np
from sklearn import config_context
from sklearn.base import clone

from .._minibatch import MinibatchState
from .._sklearn_compat import get_namespace_and_device, move_to
from .._sklearn_compat import move_estimator_to as _move_any_estimator_to
from ._array_api import ArrayAPIPlacement, input_namespace
from ._dask import DaskPlacement
from ._dask_checks import is_dask_collection
from ._numpy import NumpyPlacement


def locate(X, estimator_name):
    """The :class:`~skl_sparseae._backends._protocol.Placement` of X.

    Asked once per public call.
    """
    if is_dask_collection(X):
        return DaskPlacement()
    namespace = input_namespace(X, estimator_name)
    if namespace is not None:
        return ArrayAPIPlacement(*namespace)
    return NumpyPlacement()


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
