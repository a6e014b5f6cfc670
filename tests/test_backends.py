"""Every evaluation backend gives the in-memory objective, gradient and fit.

The tests are parametrised over the backends of ``tests/_helpers.BACKENDS``
(through the ``backend`` fixture): a new backend is checked by adding one
line there. Backends that hold rows in chunks are tried with one chunk, even
chunks, uneven chunks and an empty chunk; the in-memory backends ignore them.
How the rows are cut and which decoder reconstructs them are independent
paths, so each chunking is tried with one decoder, and each decoder twice.
"""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import pytest

from skl_sparseae._objective import evaluate, n_parameters, unpack

from ._helpers import (
    FITTED_ARRAYS,
    assert_same_model,
    ignore_convergence_warnings,
    make_estimator,
    plain_loss_and_gradient,
    relative_error,
    uniform,
)

CHUNKS_AND_DECODERS = pytest.mark.parametrize(
    "row_chunks, decoder_activation",
    [
        (240, "sigmoid"),
        (60, "identity"),
        ((100, 7, 133), "sigmoid"),
        ((0, 150, 90), "identity"),
    ],
    ids=[
        "one-chunk-sigmoid",
        "even-identity",
        "uneven-sigmoid",
        "empty-chunk-identity",
    ],
)


def backend_data(decoder_activation, dtype=np.float64):
    X = uniform((240, 12))
    if decoder_activation == "identity":
        X = X - 0.5
    return X.astype(dtype)


@CHUNKS_AND_DECODERS
@pytest.mark.parametrize(
    "dtype, tol", [(np.float64, 1e-10), (np.float32, 1e-4)], ids=["f64", "f32"]
)
def test_loss_and_gradient_match_the_plain_formula(
    backend, decoder_activation, row_chunks, dtype, tol
):
    X = backend_data(decoder_activation, dtype)
    h = 5
    theta = np.random.RandomState(1).normal(scale=0.5, size=n_parameters(12, h))
    params = dict(rho=0.1, beta=3.0, alpha=1e-2)
    with backend.evaluator(X, h, decoder_activation, row_chunks) as evaluator:
        result = evaluate(evaluator, theta, **params)
    J_ref, grad_ref = plain_loss_and_gradient(
        theta, X, h, decoder_activation=decoder_activation, **params
    )
    assert result.loss == pytest.approx(J_ref, rel=tol)
    assert result.gradient.dtype == np.float64
    assert relative_error(result.gradient, grad_ref) < tol
    parts = zip(unpack(result.gradient, 12, h), unpack(grad_ref, 12, h))
    for part, expected_part in parts:
        assert relative_error(part, expected_part) < tol
    # The progress lines' count of active units, made in the same pass.
    W1, b1, _, _ = unpack(theta.astype(dtype), 12, h)
    A = 1 / (1 + np.exp(-(X @ W1 + b1)))
    assert result.mean_active_units == np.count_nonzero(A > 0.1) / len(X)


@ignore_convergence_warnings  # both fits stop on max_iter
@CHUNKS_AND_DECODERS
def test_fit_equals_in_memory_fit(backend, decoder_activation, row_chunks):
    X = backend_data(decoder_activation)
    params = dict(decoder_activation=decoder_activation)
    reference = make_estimator(**params).fit(X)

    with backend.context():
        fitted = make_estimator(**params).fit(backend.data(X, row_chunks))
    for name in FITTED_ARRAYS:
        setattr(fitted, name, backend.host(getattr(fitted, name)))

    assert_same_model(fitted, reference)
    assert fitted.n_features_in_ == X.shape[1]
