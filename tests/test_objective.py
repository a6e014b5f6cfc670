"""The objective and its gradient against a naive formula and finite differences."""

import numpy as np
import pytest

from skl_sparseae._backends._numpy import NumpyBackend, loss_and_gradient
from skl_sparseae._objective import (
    evaluate,
    initial_parameters,
    is_numpy,
    n_parameters,
    pack,
    unpack,
)

from ._helpers import (
    finite_difference_gradient,
    naive_loss,
    objective_problem,
    relative_error,
)


def random_problem(sparse=False):
    return objective_problem(13, 7, 5, "csr_matrix" if sparse else "dense")


PARAMS = dict(rho=0.1, beta=3.0, alpha=1e-2)


def test_numpy_namespaces_take_the_numpy_path():
    # None is the kernel's own spelling of NumPy; scikit-learn's wrapped
    # NumPy namespace (what get_namespace gives under array_api_dispatch)
    # holds NumPy arrays too.
    from sklearn.externals.array_api_compat import numpy as wrapped_numpy

    assert is_numpy(None) and is_numpy(np) and is_numpy(wrapped_numpy)
    array_api_strict = pytest.importorskip("array_api_strict")
    assert not is_numpy(array_api_strict)


@pytest.mark.parametrize("decoder_activation", ["sigmoid", "identity"])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_objective_matches_naive_formula(decoder_activation, sparse):
    X, theta = random_problem(sparse=sparse)
    J, _ = loss_and_gradient(
        theta, X, 5, decoder_activation=decoder_activation, **PARAMS
    )
    expected = naive_loss(theta, X, 5, decoder_activation=decoder_activation, **PARAMS)
    assert J == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("decoder_activation", ["sigmoid", "identity"])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("batch_size", [None, 4])
def test_gradient_matches_finite_differences(decoder_activation, sparse, batch_size):
    X, theta = random_problem(sparse=sparse)
    kwargs = dict(decoder_activation=decoder_activation, **PARAMS)
    _, grad = loss_and_gradient(theta, X, 5, batch_size=batch_size, **kwargs)
    numerical = finite_difference_gradient(
        lambda t: naive_loss(t, X, 5, **kwargs), theta
    )
    assert relative_error(grad, numerical) < 1e-6
    # Every block of the gradient must be right, not just the overall norm.
    for analytic_part, numerical_part in zip(
        unpack(grad, 7, 5), unpack(numerical, 7, 5)
    ):
        assert relative_error(analytic_part, numerical_part) < 1e-6


@pytest.mark.parametrize("batch_size", [1, 3, 5, 13, 100])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_blocks_do_not_change_the_result(batch_size, sparse):
    X, theta = random_problem(sparse=sparse)
    J_ref, g_ref = loss_and_gradient(theta, X, 5, batch_size=13, **PARAMS)
    J, g = loss_and_gradient(theta, X, 5, batch_size=batch_size, **PARAMS)
    assert J == pytest.approx(J_ref, rel=1e-12)
    np.testing.assert_allclose(g, g_ref, rtol=1e-10, atol=1e-14)


def test_float32_data_is_computed_in_float32_and_matches_float64():
    X, theta = random_problem()
    J64, g64 = loss_and_gradient(theta, X, 5, **PARAMS)
    J32, g32 = loss_and_gradient(theta, X.astype(np.float32), 5, **PARAMS)
    assert g32.dtype == np.float64  # L-BFGS-B works on float64 vectors
    assert J32 == pytest.approx(J64, rel=1e-4)
    assert relative_error(g32, g64) < 1e-4


def test_beta_zero_and_alpha_zero_remove_their_terms():
    X, theta = random_problem()
    J_plain, _ = loss_and_gradient(theta, X, 5, rho=0.1, beta=0.0, alpha=0.0)
    expected = naive_loss(theta, X, 5, 0.1, 0.0, 0.0, "sigmoid")
    assert J_plain == pytest.approx(expected, rel=1e-12)
    J_full, _ = loss_and_gradient(theta, X, 5, **PARAMS)
    assert J_full > J_plain


def test_saturated_units_keep_loss_and_gradient_finite():
    X, theta = random_problem()
    W1, b1, _, _ = unpack(theta, 7, 5)
    b1[:] = [-800.0, 800.0, -800.0, 800.0, 0.0]  # units stuck at 0 and at 1
    J, grad = loss_and_gradient(theta, X, 5, **PARAMS)
    assert np.isfinite(J)
    assert np.all(np.isfinite(grad))


def test_pack_unpack_round_trip():
    rng = np.random.RandomState(0)
    W1, b1, W2, b2 = rng.rand(4, 3), rng.rand(3), rng.rand(3, 4), rng.rand(4)
    theta = pack(W1, b1, W2, b2)
    assert theta.shape == (n_parameters(4, 3),)
    for original, unpacked in zip((W1, b1, W2, b2), unpack(theta, 4, 3)):
        np.testing.assert_array_equal(original, unpacked)


def test_initial_parameters_follow_the_glorot_uniform_rule():
    d, h = 30, 20
    theta = initial_parameters(d, h, np.random.RandomState(0))
    W1, b1, W2, b2 = unpack(theta, d, h)
    r = np.sqrt(6 / (d + h + 1))
    for W in (W1, W2):
        assert np.abs(W).max() <= r
        assert np.abs(W).max() > 0.9 * r  # really spread over [-r, r]
    assert not b1.any() and not b2.any()


def test_objective_reports_its_terms():
    X, theta = random_problem()
    result = evaluate(NumpyBackend(X, 5, "sigmoid"), theta, **PARAMS)
    W1, _, W2, _ = unpack(theta, 7, 5)
    decay = PARAMS["alpha"] / 2 * (np.sum(W1**2) + np.sum(W2**2))
    assert result.reconstruction + result.sparsity + decay == pytest.approx(result.loss)
    assert result.mean_activation.shape == (5,)
