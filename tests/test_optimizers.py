"""The in-place optimizers against scikit-learn's, on one flat vector.

scikit-learn's ``SGDOptimizer`` and ``AdamOptimizer`` update a list of
arrays (``coefs_ + intercepts_``); ours update the packed vector of
:mod:`skl_sparseae._objective`. Both see the same gradients, split the way
each takes them, and must end at the same parameters.
"""

# SPDX-License-Identifier: BSD-3-Clause

import copy
import pickle
import tracemalloc

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.neural_network import _stochastic_optimizers as sk_optimizers

from skl_sparseae._objective import n_parameters, pack, unpack
from skl_sparseae._optimizers import AdamOptimizer, SGDOptimizer

N_FEATURES, N_COMPONENTS = 7, 4
N_STEPS = 300
# Every STEPS_PER_EPOCH updates the tests end an "epoch" (iteration_ends) and
# every STEPS_PER_TRIGGER they call trigger_stopping, as _fit_stochastic would.
STEPS_PER_EPOCH = 10
STEPS_PER_TRIGGER = 40
BATCH_SIZE = 32

SGD_CASES = [
    dict(lr_schedule=schedule, momentum=momentum, nesterov=nesterov)
    for schedule in ("constant", "invscaling", "adaptive")
    for momentum in (0.0, 0.9)
    for nesterov in (False, True)
]
ADAM_CASES = [
    dict(),
    dict(learning_rate_init=0.01, beta_1=0.5, beta_2=0.9, epsilon=1e-6),
]


def split(theta):
    """Copies of W1, W2, b1, b2: the list scikit-learn's optimizers update."""
    W1, b1, W2, b2 = unpack(theta, N_FEATURES, N_COMPONENTS)
    return [W1.copy(), W2.copy(), b1.copy(), b2.copy()]


def join(arrays):
    W1, W2, b1, b2 = arrays
    return pack(W1, b1, W2, b2)


def random_problem(n_steps=N_STEPS, seed=0):
    """A start vector and a sequence of gradients of varied scales."""
    rng = np.random.default_rng(seed)
    n = n_parameters(N_FEATURES, N_COMPONENTS)
    theta = rng.uniform(-1, 1, n)
    scales = rng.lognormal(0, 1, (n_steps, 1))
    grads = rng.standard_normal((n_steps, n)) * scales
    return theta, grads


def make_ours(kind, params, theta):
    if kind == "sgd":
        return SGDOptimizer(theta, learning_rate_init=0.05, power_t=0.4, **params)
    return AdamOptimizer(theta, **params)


def make_pair(kind, params, theta):
    """Ours on the flat ``theta``, scikit-learn's on the list of its parts."""
    ours = make_ours(kind, params, theta)
    if kind == "sgd":
        theirs = sk_optimizers.SGDOptimizer(
            split(theta), learning_rate_init=0.05, power_t=0.4, **params
        )
    else:
        theirs = sk_optimizers.AdamOptimizer(split(theta), **params)
    return ours, theirs


def run_both(ours, theirs, theta, sk_params, grads, step0=0):
    """Step both optimizers through ``grads``, with epochs and stopping calls."""
    for step, grad in enumerate(grads, start=step0 + 1):
        ours.update_params(theta, grad)
        theirs.update_params(sk_params, split(grad))
        if step % STEPS_PER_EPOCH == 0:
            ours.iteration_ends(step * BATCH_SIZE)
            theirs.iteration_ends(step * BATCH_SIZE)
        if step % STEPS_PER_TRIGGER == 0:
            assert ours.trigger_stopping("msg", False) == theirs.trigger_stopping(
                "msg", False
            )
        assert ours.learning_rate == pytest.approx(theirs.learning_rate, rel=1e-15)


ALL_CASES = [("sgd", p) for p in SGD_CASES] + [("adam", p) for p in ADAM_CASES]
CASE_IDS = [f"{kind}-{'-'.join(map(str, p.values()))}" for kind, p in ALL_CASES]


@pytest.mark.parametrize("kind, params", ALL_CASES, ids=CASE_IDS)
def test_matches_scikit_learn(kind, params):
    theta, grads = random_problem()
    ours, theirs = make_pair(kind, params, theta)
    sk_params = split(theta)
    run_both(ours, theirs, theta, sk_params, grads)
    assert_allclose(theta, join(sk_params), rtol=1e-12, atol=1e-12)
    if kind == "adam":
        assert ours.t == theirs.t == N_STEPS
        assert_allclose(ours.first_moment, join(theirs.ms), rtol=1e-12, atol=1e-15)
        assert_allclose(ours.second_moment, join(theirs.vs), rtol=1e-12, atol=1e-15)
    else:
        assert_allclose(ours.velocity, join(theirs.velocities), rtol=1e-12, atol=1e-12)


def test_plain_sgd_step_is_exact():
    theta, grads = random_problem(n_steps=1)
    expected = theta - 0.05 * grads[0]
    for nesterov in (False, True):
        vector = theta.copy()
        optimizer = SGDOptimizer(
            vector, learning_rate_init=0.05, momentum=0.0, nesterov=nesterov
        )
        optimizer.update_params(vector, grads[0])
        assert_array_equal(vector, expected)


def test_schedules():
    theta, _ = random_problem(n_steps=1)
    optimizer = SGDOptimizer(theta, 0.1, lr_schedule="invscaling", power_t=0.5)
    optimizer.iteration_ends(99)
    assert optimizer.learning_rate == pytest.approx(0.01)

    for optimizer in (SGDOptimizer(theta), AdamOptimizer(theta)):
        assert optimizer.trigger_stopping("msg", False)

    optimizer = SGDOptimizer(theta, 1.0, lr_schedule="adaptive")
    n_lowered = 0
    while not optimizer.trigger_stopping("msg", False):
        n_lowered += 1
    # 1 / 5**9 > 1e-6 >= 1 / 5**9 / 5
    assert n_lowered == 9
    assert optimizer.learning_rate == pytest.approx(5.0**-9)


def test_verbose_messages(capsys):
    theta, _ = random_problem(n_steps=1)
    optimizer = SGDOptimizer(theta, 1e-3, lr_schedule="adaptive")
    assert not optimizer.trigger_stopping("No improvement.", True)
    expected = "No improvement. Setting learning rate to 0.000200\n"
    assert capsys.readouterr().out == expected
    AdamOptimizer(theta).trigger_stopping("No improvement.", True)
    assert capsys.readouterr().out == "No improvement. Stopping.\n"


def buffers(optimizer):
    return [
        getattr(optimizer, name)
        for name in ("velocity", "first_moment", "second_moment", "_scratch")
        if hasattr(optimizer, name)
    ]


@pytest.mark.parametrize("kind, params", ALL_CASES, ids=CASE_IDS)
def test_numpy_steps_allocate_nothing(kind, params):
    n = 200_000
    rng = np.random.default_rng(0)
    theta = rng.standard_normal(n)
    grad = rng.standard_normal(n)
    ours = make_ours(kind, params, theta)
    ids = [id(b) for b in buffers(ours)]
    pointers = [b.ctypes.data for b in buffers(ours)]
    theta_pointer = theta.ctypes.data
    before = theta.copy()

    ours.update_params(theta, grad)  # warm-up: first-call caches of numpy
    tracemalloc.start()
    try:
        for _ in range(5):
            ours.update_params(theta, grad)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    # A temporary of the vector's size would take 1.6 MB.
    assert peak < n * 8 // 20
    assert [id(b) for b in buffers(ours)] == ids
    assert [b.ctypes.data for b in buffers(ours)] == pointers
    assert theta.ctypes.data == theta_pointer
    assert not np.array_equal(theta, before)


@pytest.mark.parametrize("kind, params", ALL_CASES, ids=CASE_IDS)
def test_float32_stays_float32(kind, params):
    theta64, grads = random_problem(n_steps=20)
    theta = theta64.astype(np.float32)
    ours = make_ours(kind, params, theta)
    reference = make_ours(kind, params, theta64)
    for grad in grads:
        # a float64 gradient (what finish_loss_and_gradient returns) too
        ours.update_params(theta, grad)
        reference.update_params(theta64, grad)
    assert theta.dtype == np.float32
    assert all(b.dtype == np.float32 for b in buffers(ours))
    assert_allclose(theta, theta64, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("kind, params", ALL_CASES, ids=CASE_IDS)
def test_array_api_strict(kind, params, dtype):
    xp = pytest.importorskip("array_api_strict")
    theta_np, grads = random_problem(n_steps=50)
    theta_np = theta_np.astype(dtype)
    grads = grads.astype(dtype)
    theta = xp.asarray(theta_np)
    ours = make_ours(kind, params, theta)
    reference = make_ours(kind, params, theta_np)
    assert ours._xp is xp
    ids = [id(b) for b in buffers(ours)]
    theta_id = id(theta)
    for step, grad in enumerate(grads, start=1):
        ours.update_params(theta, xp.asarray(grad))
        reference.update_params(theta_np, grad)
        if step % STEPS_PER_EPOCH == 0:
            ours.iteration_ends(step)
            reference.iteration_ends(step)
    assert id(theta) == theta_id
    assert [id(b) for b in buffers(ours)] == ids
    assert theta.dtype == getattr(xp, dtype)
    assert all(b.dtype == getattr(xp, dtype) for b in buffers(ours))
    # The two paths order the operations alike.
    rtol = 1e-12 if dtype == "float64" else 1e-5
    assert_allclose(np.asarray(theta), theta_np, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("how", ["pickle", "copy", "deepcopy"])
@pytest.mark.parametrize("kind, params", ALL_CASES, ids=CASE_IDS)
def test_round_trip_continues_identically(kind, params, how):
    theta, grads = random_problem(n_steps=60)
    ours = make_ours(kind, params, theta)
    for grad in grads[:30]:
        ours.update_params(theta, grad)
    ours.iteration_ends(30 * BATCH_SIZE)
    ours.trigger_stopping("msg", False)

    if how == "pickle":
        restored = pickle.loads(pickle.dumps(ours))
    elif how == "copy":
        restored = ours.copy()
    else:
        restored = copy.deepcopy(ours)
    for original, duplicate in zip(buffers(ours), buffers(restored)):
        assert duplicate is not original
        assert not np.shares_memory(duplicate, original)
    theta_restored = theta.copy()
    for grad in grads[30:]:
        restored.update_params(theta_restored, grad)
    # the original is untouched by its copy's steps ...
    saved = [b.copy() for b in buffers(ours)]
    assert all(np.array_equal(a, b) for a, b in zip(saved, buffers(ours)))
    # ... and continues exactly as the copy did
    for grad in grads[30:]:
        ours.update_params(theta, grad)
    assert_array_equal(theta, theta_restored)
    assert ours.learning_rate == restored.learning_rate
    assert getattr(ours, "t", None) == getattr(restored, "t", None)


def test_copy_keeps_state_on_failed_step():
    """The estimator's pattern: step a copy, keep it only if the step succeeded."""
    theta, grads = random_problem(n_steps=3)
    optimizer = AdamOptimizer(theta)
    optimizer.update_params(theta, grads[0])
    state = pickle.dumps(optimizer)
    candidate = optimizer.copy()
    candidate.update_params(theta.copy(), grads[1])
    assert candidate.t == 2 and optimizer.t == 1
    assert pickle.dumps(optimizer) == state


def test_array_api_strict_pickles():
    xp = pytest.importorskip("array_api_strict")
    theta_np, grads = random_problem(n_steps=10)
    theta = xp.asarray(theta_np)
    optimizer = AdamOptimizer(theta)
    for grad in grads[:5]:
        optimizer.update_params(theta, xp.asarray(grad))
    restored = pickle.loads(pickle.dumps(optimizer))
    assert restored._xp is xp
    theta_restored = xp.asarray(theta, copy=True)
    for grad in grads[5:]:
        optimizer.update_params(theta, xp.asarray(grad))
        restored.update_params(theta_restored, xp.asarray(grad))
    assert_array_equal(np.asarray(theta), np.asarray(theta_restored))


@pytest.mark.parametrize("kind, params", ALL_CASES, ids=CASE_IDS)
def test_array_api_vector_of_another_dtype_casts_the_buffers(kind, params):
    """The standard has no mixed-dtype in-place operators: the buffers follow."""
    xp = pytest.importorskip("array_api_strict")
    theta_np, grads = random_problem(n_steps=20)
    theta64 = xp.asarray(theta_np)
    ours = make_ours(kind, params, theta64)
    reference = make_ours(kind, params, theta_np)
    for grad in grads[:10]:
        ours.update_params(theta64, xp.asarray(grad))
        reference.update_params(theta_np, grad)
    theta32, theta_np32 = xp.astype(theta64, xp.float32), theta_np.astype(np.float32)
    for grad in grads[10:]:
        ours.update_params(theta32, xp.asarray(grad, dtype=xp.float32))
        reference.update_params(theta_np32, grad.astype(np.float32))
    assert all(b.dtype == xp.float32 for b in buffers(ours))
    assert theta32.dtype == xp.float32
    assert_allclose(np.asarray(theta32), theta_np32, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind, params", ALL_CASES, ids=CASE_IDS)
def test_moved_copy_continues_identically_and_leaves_the_original(kind, params):
    xp = pytest.importorskip("array_api_strict")
    device = xp.Device("device1")
    theta, grads = random_problem(n_steps=20)
    ours = make_ours(kind, params, theta)
    for grad in grads[:10]:
        ours.update_params(theta, grad)
    saved = pickle.dumps(ours)
    moved = ours.moved(lambda buffer: xp.asarray(buffer, device=device))
    assert pickle.dumps(ours) == saved
    assert moved._xp is xp
    assert all(b.device == device for b in buffers(moved))
    theta_moved = xp.asarray(theta, device=device)
    for grad in grads[10:]:
        ours.update_params(theta, grad)
        moved.update_params(theta_moved, xp.asarray(grad, device=device))
    assert_allclose(
        np.asarray(xp.asarray(theta_moved, device=xp.Device("CPU_DEVICE"))),
        theta,
        rtol=1e-12,
        atol=1e-12,
    )
