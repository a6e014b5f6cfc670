"""The optimised, block-wise objective against the plain formula.

The evaluation reuses buffers between calls, works in row blocks sized from
the data's shape, subtracts a sparse target entry by entry and
computes float32 data in float32. None of that may change J or its gradient
beyond round-off.
"""

import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_array_equal
from scipy.special import expit
from sklearn import config_context
from threadpoolctl import threadpool_limits

import skl_sparseae._backends._numpy as backend_module
from skl_sparseae import SparseAutoencoderTransformer
from skl_sparseae._backends._blocks import MIN_BLOCK_ROWS
from skl_sparseae._backends._numpy import NumpyBackend, loss_and_gradient
from skl_sparseae._inference import row_batch_size, squared_reconstruction_error
from skl_sparseae._objective import (
    BlockWorkspace,
    add_block_gradient_sums,
    evaluate,
    hidden_activations,
    n_parameters,
    sigmoid,
    unpack,
    zero_gradient_sums,
)

from ._helpers import (
    ignore_convergence_warnings,
    objective_problem,
    plain_loss_and_gradient,
    relative_error,
)

M, D, H = 37, 11, 6
PARAMS = dict(rho=0.1, beta=3.0, alpha=1e-2)


def make_problem(container="dense", dtype=np.float64, seed=0):
    return objective_problem(M, D, H, container, dtype, seed)


def assert_same_gradient(grad, expected, tol):
    assert grad.dtype == np.float64
    assert relative_error(grad, expected) < tol
    for part, expected_part in zip(unpack(grad, D, H), unpack(expected, D, H)):
        assert relative_error(part, expected_part) < tol


@pytest.mark.parametrize("decoder_activation", ["sigmoid", "identity"])
@pytest.mark.parametrize("container", ["dense", "csr_matrix", "csr_array"])
@pytest.mark.parametrize(
    "dtype, tol", [(np.float64, 1e-10), (np.float32, 1e-4)], ids=["f64", "f32"]
)
# 37 rows: blocks of 1 row, blocks that do not divide m (5, 8), exactly one
# block (37) and a block size larger than m (100).
@pytest.mark.parametrize("batch_size", [1, 5, 8, 37, 100])
def test_blocks_match_the_plain_formula(
    decoder_activation, container, dtype, tol, batch_size
):
    X, theta = make_problem(container, dtype)
    J, grad = loss_and_gradient(
        theta,
        X,
        H,
        batch_size=batch_size,
        decoder_activation=decoder_activation,
        **PARAMS,
    )
    J_ref, grad_ref = plain_loss_and_gradient(
        theta, X, H, decoder_activation=decoder_activation, **PARAMS
    )
    assert J == pytest.approx(J_ref, rel=tol)
    assert_same_gradient(grad, grad_ref, tol)


@pytest.mark.parametrize("n_threads", [1, 2, 3, 50])
@pytest.mark.parametrize("container", ["dense", "csr_matrix"])
def test_block_threads_match_the_plain_formula(n_threads, container):
    # Eight blocks (37 rows in blocks of 5), as many shares as the data's
    # size allows, whatever the machine.
    X, theta = make_problem(container)
    backend = NumpyBackend(X, H, "sigmoid", batch_size=5, n_threads=n_threads)
    count = len(backend.shares)
    assert count == backend_module.n_shares(
        8, backend_module.data_bytes(backend.X), n_parameters(D, H) * 8
    )
    assert count >= 1
    # Never more threads than shares.
    assert backend.n_threads == min(n_threads, count)
    result = evaluate(backend, theta, **PARAMS)
    J_ref, grad_ref = plain_loss_and_gradient(
        theta, X, H, decoder_activation="sigmoid", **PARAMS
    )
    assert result.loss == pytest.approx(J_ref, rel=1e-10)
    assert_same_gradient(result.gradient, grad_ref, 1e-10)
    # The same bits as one thread: threads never change how sums are grouped.
    one_thread = evaluate(
        NumpyBackend(X, H, "sigmoid", batch_size=5, n_threads=1), theta, **PARAMS
    )
    assert result.loss == one_thread.loss
    assert_array_equal(result.gradient, one_thread.gradient)


@pytest.mark.parametrize("container", ["dense", "csr_matrix"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_reused_buffers_do_not_leak_between_evaluations(container, dtype):
    X, theta = make_problem(container, dtype)
    other = np.random.RandomState(1).normal(scale=0.5, size=theta.size)
    backend = NumpyBackend(X, H, "sigmoid", batch_size=8)
    J1, g1, *_ = evaluate(backend, theta, **PARAMS)
    evaluate(backend, other, **PARAMS)
    J2, g2, *_ = evaluate(backend, theta, **PARAMS)
    assert J2 == J1
    np.testing.assert_array_equal(g2, g1)
    # Each call hands L-BFGS a gradient of its own.
    assert not np.shares_memory(g1, g2)


def test_float32_stays_float32_inside_the_evaluation(monkeypatch):
    X, theta = make_problem(dtype=np.float32)
    seen = []

    def recording(X_blk, A_blk, W2, b2, kl_slope, decoder, sums, workspace):
        arrays = (X_blk, A_blk, W2, b2, kl_slope, *sums, workspace.recon)
        seen.append({a.dtype for a in arrays})
        return add_block_gradient_sums(
            X_blk, A_blk, W2, b2, kl_slope, decoder, sums, workspace
        )

    monkeypatch.setattr(backend_module, "add_block_gradient_sums", recording)
    backend = NumpyBackend(X, H, "sigmoid", batch_size=8)
    evaluate(backend, theta, **PARAMS)
    # Every block of every share, all in float32.
    n_blocks = sum(len(share) for share in backend.shares)
    assert n_blocks >= 5
    assert seen == [{np.dtype(np.float32)}] * n_blocks


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_block_sums_without_workspace_equal_those_with_one(sparse):
    X, theta = make_problem("csr_matrix" if sparse else "dense")
    W1, b1, W2, b2 = unpack(theta, D, H)
    A = hidden_activations(X, W1, b1)
    kl_slope = np.linspace(-1, 1, H)
    sums_fresh = zero_gradient_sums(D, H, np.float64)
    sums_reused = zero_gradient_sums(D, H, np.float64)
    workspace = BlockWorkspace(10, D, H, np.float64)
    err_fresh = err_reused = 0.0
    for start in range(0, M, 10):
        rows = slice(start, start + 10)
        args = (X[rows], A[rows], W2, b2, kl_slope, "sigmoid")
        err_fresh += add_block_gradient_sums(*args, sums_fresh)
        err_reused += add_block_gradient_sums(*args, sums_reused, workspace)
    assert err_fresh == err_reused
    for a, b in zip(sums_fresh, sums_reused):
        np.testing.assert_array_equal(a, b)


def test_sparse_input_with_duplicate_entries_is_summed_not_dropped():
    X, theta = make_problem("dense")
    csr = sp.csr_matrix(X)
    # Store every value as two duplicate entries of half its size.
    indptr = 2 * csr.indptr
    indices = np.repeat(csr.indices, 2)
    data = np.repeat(csr.data / 2, 2)
    doubled = sp.csr_matrix((data, indices, indptr), shape=X.shape)
    assert not doubled.has_canonical_format
    J, grad = loss_and_gradient(theta, doubled, H, batch_size=5, **PARAMS)
    J_ref, grad_ref = plain_loss_and_gradient(
        theta, X, H, decoder_activation="sigmoid", **PARAMS
    )
    assert J == pytest.approx(J_ref, rel=1e-10)
    assert_same_gradient(grad, grad_ref, 1e-10)


def test_sigmoid_equals_expit_and_saturates_quietly():
    z = np.r_[np.linspace(-40, 40, 1001), -800.0, 800.0, 0.0]
    with np.errstate(all="raise"):
        s = sigmoid(z)
    np.testing.assert_allclose(s, expit(z), rtol=1e-15, atol=0)
    assert s[-3] == 0.0 and s[-2] == 1.0
    z32 = z.astype(np.float32)
    np.testing.assert_allclose(sigmoid(z32), expit(z32), rtol=1e-6, atol=0)
    assert sigmoid(z32).dtype == np.float32
    # In place when asked.
    buffer = z.copy()
    assert sigmoid(buffer, out=buffer) is buffer


def test_row_batch_size_follows_working_memory_and_is_capped():
    n, d, h = 1_000_000, 784, 196
    row_bytes = (2 * d + 2 * h) * 8
    # The default working_memory (1 GiB) would allow tens of thousands of
    # rows; the cap keeps the block buffers to a few MiB.
    default = row_batch_size(n, d, h, 8)
    assert default * row_bytes <= 8 * 2**20
    assert default >= MIN_BLOCK_ROWS
    # A smaller working_memory wins over the cap.
    with config_context(working_memory=0.1):
        small = row_batch_size(n, d, h, 8)
    assert small == int(0.1 * 2**20 // row_bytes)
    # Never more rows than samples, never fewer than one.
    assert row_batch_size(10, d, h, 8) == 10
    with config_context(working_memory=1e-6), pytest.warns(UserWarning):
        assert row_batch_size(n, d, h, 8) == 1


# Both fits stop on the same short budget (max_iter=15) on purpose.
@ignore_convergence_warnings
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fit_under_tiny_working_memory_is_bit_identical(sparse, dtype):
    rng = np.random.RandomState(0)
    X = rng.uniform(size=(120, 20))
    if sparse:
        X[X < 0.5] = 0.0
        X = sp.csr_matrix(X)
    X = X.astype(dtype)
    params = dict(n_components=8, rho=0.1, beta=3.0, max_iter=15, random_state=0)
    # 7 rows of (2 * 20 + 2 * 8) values: blocks that do not divide 120.
    tiny = 7 * (2 * 20 + 2 * 8) * np.dtype(dtype).itemsize / 2**20
    with config_context(working_memory=tiny):
        # Scores work in small blocks; a fit's blocks follow the shape alone.
        assert row_batch_size(120, 20, 8, np.dtype(dtype).itemsize) == 7
        small_blocks = SparseAutoencoderTransformer(**params).fit(X)
        scores_small = small_blocks.score_samples(X)
    default = SparseAutoencoderTransformer(**params).fit(X)
    assert small_blocks.n_iter_ == default.n_iter_
    for name in (
        "components_",
        "intercept_hidden_",
        "decoder_components_",
        "intercept_visible_",
    ):
        assert_array_equal(getattr(small_blocks, name), getattr(default, name))
    assert small_blocks.loss_ == default.loss_
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(
        scores_small, default.score_samples(X), rtol=rtol, atol=rtol
    )


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_squared_reconstruction_error_in_blocks(sparse):
    X, theta = make_problem("csr_matrix" if sparse else "dense")
    W1, b1, W2, b2 = unpack(theta, D, H)
    dense = X.toarray() if sparse else X
    expected = np.sum((expit(expit(dense @ W1 + b1) @ W2 + b2) - dense) ** 2, axis=1)
    for batch_size in (1, 5, 37, 100):
        errors = squared_reconstruction_error(X, W1, b1, W2, b2, "sigmoid", batch_size)
        np.testing.assert_allclose(errors, expected, rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_extra_memory_of_an_evaluation_is_well_below_the_data(dtype):
    # 4,000 x 400: large enough that a single (n_samples, n_features)
    # temporary would show, small enough to run in a fraction of a second.
    rng = np.random.RandomState(0)
    X = rng.uniform(size=(4000, 400)).astype(dtype)
    h = 40
    theta = rng.normal(scale=0.1, size=n_parameters(400, h))
    backend = NumpyBackend(X, h, "sigmoid", batch_size=250, n_threads=2)
    tracemalloc.start()
    try:
        evaluate(backend, theta, **PARAMS)  # first call: allocates the buffers
        buffers, first_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        evaluate(backend, theta, **PARAMS)
        second_peak = tracemalloc.get_traced_memory()[1] - buffers
    finally:
        tracemalloc.stop()
    # Hidden activations (n x h, a tenth of X here), the shares' sums (an
    # eighth of X at most) plus, for each of the two threads, the buffers of
    # a block of 250 rows (an eighth of X) plus the float64 gradient.
    assert first_peak < 0.7 * X.nbytes
    # Later calls reuse the buffers: they only allocate the gradient and
    # small per-call vectors.
    assert second_peak < 4 * n_parameters(400, h) * 8


def test_fit_is_bit_identical_for_any_threads_and_working_memory():
    # Two blocks of rows (the shape alone decides how many), fitted with one
    # and with two BLAS threads and under a working_memory far below what a
    # block takes: the same bits each time.
    rng = np.random.RandomState(0)
    X = rng.uniform(size=(12_000, 40))
    params = dict(n_components=10, max_iter=30, tol=0, random_state=0)
    with threadpool_limits(limits=1):
        reference = SparseAutoencoderTransformer(**params).fit(X)
    with threadpool_limits(limits=2):
        two_threads = SparseAutoencoderTransformer(**params).fit(X)
    with config_context(working_memory=1):
        small_memory = SparseAutoencoderTransformer(**params).fit(X)
    for other in (two_threads, small_memory):
        assert other.loss_curve_ == reference.loss_curve_
        for name in ("components_", "decoder_components_", "intercept_visible_"):
            assert_array_equal(getattr(other, name), getattr(reference, name))


def test_share_count_depends_on_the_data_alone():
    # Many blocks: at most MAX_SHARES shares.
    assert backend_module.n_shares(1000, 10**12, 10) == backend_module.MAX_SHARES
    # Never more shares than blocks, never fewer than one.
    assert backend_module.n_shares(3, 10**12, 10) == 3
    assert backend_module.n_shares(3, 1, 10**6) == 1
    # The shares' sums stay within an eighth of the data.
    assert backend_module.n_shares(1000, 8000, 100) == 10
