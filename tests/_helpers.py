"""What the tests share: reference formulas, finite differences, data, backends.

The reference objectives are written independently of the package (no
blocks, no buffers, no threads), so that the optimised evaluation is checked
against the definition rather than against itself.
"""

# SPDX-License-Identifier: BSD-3-Clause

import os
import subprocess
import sys
import warnings
from contextlib import nullcontext
from typing import Callable, NamedTuple

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from scipy.special import expit
from sklearn.exceptions import ConvergenceWarning

import skl_sparseae
from skl_sparseae import SparseAutoencoderTransformer
from skl_sparseae._backends._numpy import NumpyBackend, loss_and_gradient
from skl_sparseae._objective import n_parameters, pack, unpack

# Names of the estimator's fitted attributes, for the tests that compare
# fits: written out here, not read from the estimator, so that the tests
# check the documented attributes rather than whatever fit sets, and a new
# attribute reaches every such test at once.
FITTED_ARRAYS = (
    "components_",
    "intercept_hidden_",
    "decoder_components_",
    "intercept_visible_",
    "mean_activation_",
)

FITTED_ATTRIBUTES = FITTED_ARRAYS + (
    "loss_",
    "loss_curve_",
    "n_iter_",
    "n_features_in_",
)

# For tests whose fits stop on max_iter on purpose: the warning is expected
# and says nothing about what they check. A test that asserts on warnings
# still sees them inside pytest.warns.
ignore_convergence_warnings = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning"
)

# The start of fit's warning that the mean activation missed rho, which fits
# cut short on purpose (a few iterations, an extreme setting) trigger.
SPARSITY_MISSED = "The hidden units' mean activation"
ignore_sparsity_missed = pytest.mark.filterwarnings(
    f"ignore:{SPARSITY_MISSED}:UserWarning"
)

# scikit-learn's estimator checks fit on their own data: often outside [0, 1]
# (the sigmoid decoder's range warning), sometimes large enough to saturate
# every hidden unit, too small or short for the codes to reach rho, and, in
# check_dataframe_column_names_consistency, with feature names that differ on
# purpose. The estimator warns there as
# designed; the checks test something else. A check that asserts on warnings
# still sees them: its own filters come first.
ESTIMATOR_CHECK_WARNINGS = (
    "ignore:X has values in:UserWarning",
    "ignore:.*hidden activations are saturated:UserWarning",
    "ignore:X (does not have valid|has) feature names:UserWarning",
    f"ignore:{SPARSITY_MISSED}:UserWarning",
)


def ignore_estimator_check_warnings(test):
    for spec in ESTIMATOR_CHECK_WARNINGS:
        test = pytest.mark.filterwarnings(spec)(test)
    return test


# --------------------------------------------------------------------------
# Reference formulas.


def naive_loss(theta, X, h, rho, beta, alpha, decoder_activation):
    """J written out directly from its definition, one sample at a time."""
    X = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    m, d = X.shape
    W1 = theta[: d * h].reshape(d, h)
    b1 = theta[d * h : d * h + h]
    W2 = theta[d * h + h : 2 * d * h + h].reshape(h, d)
    b2 = theta[2 * d * h + h :]

    def sigmoid(z):
        return 1.0 / (1.0 + np.exp(-z))

    reconstruction = 0.0
    activation_sum = np.zeros(h)
    for x in X:
        a = sigmoid(x @ W1 + b1)
        z = a @ W2 + b2
        x_hat = sigmoid(z) if decoder_activation == "sigmoid" else z
        reconstruction += np.sum((x - x_hat) ** 2)
        activation_sum += a
    rho_hat = activation_sum / m
    kl = np.sum(
        rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat))
    )
    decay = np.sum(W1**2) + np.sum(W2**2)
    return reconstruction / (2 * m) + alpha / 2 * decay + beta * kl


def plain_loss_and_gradient(theta, X, h, rho, beta, alpha, decoder_activation):
    """J and its gradient written as whole-array float64 formulas, no blocks."""
    X = X.toarray() if sp.issparse(X) else np.asarray(X)
    X = X.astype(np.float64)
    m, d = X.shape
    W1, b1, W2, b2 = unpack(theta, d, h)
    A = expit(X @ W1 + b1)
    Z = A @ W2 + b2
    X_hat = expit(Z) if decoder_activation == "sigmoid" else Z
    residual = X_hat - X
    rho_hat = A.mean(axis=0)
    kl = np.sum(
        rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat))
    )
    J = (
        np.sum(residual**2) / (2 * m)
        + alpha / 2 * (np.sum(W1**2) + np.sum(W2**2))
        + beta * kl
    )
    out_delta = residual
    if decoder_activation == "sigmoid":
        out_delta = residual * X_hat * (1 - X_hat)
    kl_slope = beta * (-rho / rho_hat + (1 - rho) / (1 - rho_hat))
    hidden_delta = (out_delta @ W2.T + kl_slope) * A * (1 - A)
    grad = np.concatenate(
        [
            (X.T @ hidden_delta / m + alpha * W1).ravel(),
            hidden_delta.sum(axis=0) / m,
            (A.T @ out_delta / m + alpha * W2).ravel(),
            out_delta.sum(axis=0) / m,
        ]
    )
    return J, grad


def finite_difference_gradient(f, theta, step=1e-6):
    """Central differences of ``f`` at ``theta``, one coordinate at a time."""
    grad = np.empty_like(theta)
    for k in range(theta.size):
        forward, backward = theta.copy(), theta.copy()
        forward[k] += step
        backward[k] -= step
        grad[k] = (f(forward) - f(backward)) / (2 * step)
    return grad


def relative_error(a, b, floor=0.0):
    """||a - b|| / max(||a||, ||b||, floor)."""
    return np.linalg.norm(a - b) / max(np.linalg.norm(a), np.linalg.norm(b), floor)


def fitted_theta(estimator):
    """The packed parameter vector of a fitted estimator's weights."""
    return pack(
        estimator.components_.T,
        estimator.intercept_hidden_,
        estimator.decoder_components_,
        estimator.intercept_visible_,
    )


def objective_at_fitted_weights(estimator, X):
    """J and its gradient on X at a fitted estimator's weights, in float64."""
    return loss_and_gradient(
        fitted_theta(estimator).astype(np.float64),
        X,
        estimator.components_.shape[0],
        rho=estimator.rho,
        beta=estimator.beta,
        alpha=estimator.alpha_,
        decoder_activation=estimator.decoder_activation,
    )


# --------------------------------------------------------------------------
# Data.

SPARSE_CONTAINERS = {"csr_matrix": sp.csr_matrix, "csr_array": sp.csr_array}


def uniform(shape, seed=0):
    """Values drawn uniformly in [0, 1), the sigmoid decoder's range."""
    return np.random.RandomState(seed).uniform(size=shape)


def objective_problem(
    n_samples, n_features, n_components, container="dense", dtype=np.float64, seed=0
):
    """Data X and a random parameter vector theta for checking the objective.

    A sparse container keeps the values of at least 0.6 (about 40 %).
    """
    rng = np.random.RandomState(seed)
    X = rng.uniform(size=(n_samples, n_features))
    if container != "dense":
        X[X < 0.6] = 0.0
        X = SPARSE_CONTAINERS[container](X)
    X = X.astype(dtype)
    # Random, not initial, parameters: biases non-zero and weights larger,
    # so that every term of the gradient is exercised.
    theta = rng.normal(scale=0.5, size=n_parameters(n_features, n_components))
    return X, theta


# --------------------------------------------------------------------------
# Fits compared between backends.

# Tolerances of a fit's equality with the in-memory fit (float64).
LOSS_RTOL = 1e-8
WEIGHTS_ATOL = 1e-6


def fit_quietly(estimator, X, y=None):
    """``estimator.fit(X, y)`` without ConvergenceWarnings: for short fits
    whose outputs are compared, not their convergence."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


def make_estimator(**params):
    """A small estimator whose fits stop on max_iter (25 iterations)."""
    defaults = dict(n_components=5, rho=0.1, beta=2.0, max_iter=25, random_state=0)
    defaults.update(params)
    return SparseAutoencoderTransformer(**defaults)


def assert_same_model(fitted, reference):
    """The same iterations, losses (to 1e-8) and weights (to 1e-6), same dtypes."""
    assert fitted.n_iter_ == reference.n_iter_
    assert fitted.loss_ == pytest.approx(reference.loss_, rel=LOSS_RTOL, abs=0)
    assert_allclose(fitted.loss_curve_, reference.loss_curve_, rtol=LOSS_RTOL)
    for name in FITTED_ARRAYS:
        value, expected = getattr(fitted, name), getattr(reference, name)
        assert value.dtype == expected.dtype, name
        assert_allclose(value, expected, rtol=0, atol=WEIGHTS_ATOL, err_msg=name)


class Backend(NamedTuple):
    """How the tests reach one evaluation backend.

    ``data(X, row_chunks)`` is what ``fit`` is given so that it runs on the
    backend; ``evaluator(X, n_components, decoder_activation, row_chunks)``
    is a context manager giving the backend object that
    ``_objective.evaluate`` takes; ``fixture`` names a fixture the backend
    needs (a cluster), or is None.
    """

    name: str
    data: Callable
    evaluator: Callable
    fixture: str = None
    # The configuration a fit on this backend runs under, and how its fitted
    # arrays come back to NumPy for comparison.
    context: Callable = nullcontext
    host: Callable = np.asarray


def _numpy_evaluator(X, n_components, decoder_activation, row_chunks):
    return nullcontext(NumpyBackend(X, n_components, decoder_activation))


def _dask_data(X, row_chunks):
    da = pytest.importorskip("dask.array")
    return da.from_array(X, chunks=(row_chunks, X.shape[1]))


def _dask_evaluator(X, n_components, decoder_activation, row_chunks):
    from skl_sparseae._backends._dask_checks import check_dask_array
    from skl_sparseae._backends._dask_fit import DaskBackend

    X_dask = check_dask_array(_dask_data(X, row_chunks), "test")
    return DaskBackend(X_dask, n_components, decoder_activation)


def _device_data(X, row_chunks):
    # array-api-strict's "device1" refuses np.asarray: a silent host copy
    # anywhere in the fit fails the test.
    xps = pytest.importorskip("array_api_strict")
    return xps.asarray(X, device=xps.Device("device1"))


def _device_evaluator(X, n_components, decoder_activation, row_chunks):
    from skl_sparseae._backends._array_api import ArrayAPIBackend

    X_device = _device_data(X, row_chunks)
    xps = pytest.importorskip("array_api_strict")
    return ArrayAPIBackend(
        X_device, n_components, decoder_activation, xp=xps, device=X_device.device
    )


def _array_api_dispatch():
    from sklearn import config_context

    return config_context(array_api_dispatch=True)


def _device_to_host(array):
    from skl_sparseae._objective import to_numpy

    with _array_api_dispatch():
        return to_numpy(array)


# Every backend of the estimator. The row chunks only matter to backends that
# hold rows in chunks. One line per backend: the tests that compare backends
# are parametrised over this list (see the ``backend`` fixture in conftest).
BACKENDS = [
    Backend("numpy", lambda X, row_chunks: X, _numpy_evaluator),
    Backend("dask", _dask_data, _dask_evaluator, fixture="two_workers"),
    Backend(
        "array_api_strict",
        _device_data,
        _device_evaluator,
        context=_array_api_dispatch,
        host=_device_to_host,
    ),
]


class _WrappedObjective:
    """An objective whose evaluations go through ``wrapper(objective, theta)``."""

    def __init__(self, objective, wrapper):
        self.objective = objective
        self.wrapper = wrapper
        self.params = objective.params

    @property
    def dtype(self):
        return self.objective.dtype

    def __call__(self, theta):
        return self.wrapper(self.objective, theta)

    def without(self, penalty):
        return _WrappedObjective(self.objective.without(penalty), self.wrapper)


def wrap_objective(monkeypatch, wrapper):
    """Route every fit's evaluations through ``wrapper(objective, theta)``.

    Uses the estimators' ``_objective`` seam (the objective a solver is
    handed), so a test can count, interrupt or corrupt evaluations.
    """
    from skl_sparseae._base import _BaseSparseAutoencoder

    original = _BaseSparseAutoencoder._objective

    def _objective(self, backend, alpha):
        return _WrappedObjective(original(self, backend, alpha), wrapper)

    monkeypatch.setattr(_BaseSparseAutoencoder, "_objective", _objective)


# --------------------------------------------------------------------------
# Array API namespaces.


def array_api_combinations():
    """scikit-learn's (namespace, device, dtype) test combinations, split.

    Returns the combinations whose library is installed, with a dtype for
    each (both float64 and float32 where scikit-learn leaves the default to
    the test), and the names of the namespaces that are not installed: tests
    are not generated for those, so that a machine without torch, CuPy or
    dpnp does not report a skip per test and combination.
    """
    from importlib.util import find_spec

    from sklearn.utils._array_api import yield_namespace_device_dtype_combinations

    installed, missing = [], []
    for name, device, dtype in yield_namespace_device_dtype_combinations():
        if find_spec(name) is None:
            missing += [] if name in missing else [name]
            continue
        for dtype in [dtype] if dtype else ["float64", "float32"]:
            installed.append((name, device, dtype))
    return installed, missing


def run_python(*args, timeout=300):
    """Run ``python *args`` in a fresh interpreter that imports this package.

    The package under test comes first on its path, as in the test process,
    so that a checkout is tested even where another copy is installed.
    """
    root = os.path.dirname(os.path.dirname(skl_sparseae.__file__))
    path = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": path},
        timeout=timeout,
    )
