"""The minibatch solvers (``solver="sgd"`` and ``"adam"``) and ``partial_fit``.

A step's objective and gradient against the plain formula and finite
differences, one step against ``theta - lr * gradient``, partial_fit against
fit, determinism, every backend, stopping per epoch, interrupts, errors that
leave the model untouched, and bad parameters.
"""

import pickle
import re
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn import config_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import InvalidParameterError
from threadpoolctl import threadpool_limits

from skl_sparseae import (
    SparseAutoencoderOutlierDetector,
    SparseAutoencoderTransformer,
    _objective,
)
from skl_sparseae._minibatch import EpochRunner, MinibatchPlan, StepThreads
from skl_sparseae._objective import (
    MinibatchWorkspace,
    initial_parameters,
    minibatch_loss_and_gradient,
    n_parameters,
    unpack,
)
from skl_sparseae._optimizers import AdamOptimizer

from ._helpers import (
    finite_difference_gradient,
    fitted_theta,
    plain_loss_and_gradient,
    relative_error,
    run_python,
    uniform,
)

PARAMS = dict(rho=0.1, beta=3.0, alpha=1e-3)
D, H = 9, 4
WEIGHTS = (
    "components_",
    "intercept_hidden_",
    "decoder_components_",
    "intercept_visible_",
)


@pytest.fixture(scope="module")
def X():
    return uniform((120, D), seed=1)


def _minibatch_model(solver, **options):
    """The tests' model: H units, PARAMS and ``random_state=0``, with ``options``."""
    return SparseAutoencoderTransformer(
        H, solver=solver, random_state=0, **PARAMS, **options
    )


def _theta(seed=0, dtype=np.float64):
    rng = np.random.RandomState(seed)
    return rng.normal(scale=0.5, size=n_parameters(D, H)).astype(dtype)


def _batch_objective(theta, X_batch, decoder="sigmoid"):
    grad = np.empty_like(theta)
    loss, grad = minibatch_loss_and_gradient(
        theta,
        X_batch,
        grad,
        n_features=D,
        n_components=H,
        decoder_activation=decoder,
        **PARAMS,
    )
    return loss, grad.copy()


def _same_model(a, b):
    for name in WEIGHTS:
        assert_array_equal(getattr(a, name), getattr(b, name))
    assert a.loss_curve_ == b.loss_curve_


# --------------------------------------------------------------------------
# The minibatch objective.


@pytest.mark.parametrize("decoder", ["sigmoid", "identity"])
@pytest.mark.parametrize("container", ["dense", "csr"])
def test_batch_objective_is_the_full_objective_on_the_batch(X, decoder, container):
    # Its means are over the batch: on the batch's rows it is J itself,
    # the sparsity term on the batch's own mean activation.
    theta = _theta()
    batch = X[10:47]
    rows = sp.csr_matrix(batch) if container == "csr" else batch
    loss, grad = _batch_objective(theta, rows, decoder)
    J, grad_ref = plain_loss_and_gradient(
        theta, batch, H, decoder_activation=decoder, **PARAMS
    )
    assert loss == pytest.approx(J, rel=1e-12)
    assert relative_error(grad, grad_ref) < 1e-12


@pytest.mark.parametrize("decoder", ["sigmoid", "identity"])
def test_batch_gradient_matches_finite_differences(X, decoder):
    theta = _theta(seed=3)
    batch = X[:25]
    _, grad = _batch_objective(theta, batch, decoder)
    numeric = finite_difference_gradient(
        lambda t: _batch_objective(t, batch, decoder)[0], theta
    )
    assert relative_error(grad, numeric) < 1e-7


def test_batch_objective_in_float32_stays_float32(X):
    theta = _theta(dtype=np.float32)
    batch = X[:30].astype(np.float32)
    loss, grad = _batch_objective(theta, batch)
    assert grad.dtype == np.float32
    J, grad_ref = plain_loss_and_gradient(
        theta.astype(np.float64), batch, H, decoder_activation="sigmoid", **PARAMS
    )
    assert loss == pytest.approx(J, rel=1e-5)
    assert relative_error(grad, grad_ref) < 1e-5


_EPOCH_PEAK_SCRIPT = """
import tracemalloc
import numpy as np
from threadpoolctl import threadpool_limits
from skl_sparseae._objective import n_parameters
from skl_sparseae._optimizers import AdamOptimizer
from skl_sparseae._minibatch import EpochRunner, MinibatchPlan, MinibatchState

n_rows, d, h, batch = {shape!r}
X = np.random.RandomState(2).uniform(size=(n_rows, d))
params = dict(alpha={alpha!r}, beta={beta!r}, rho={rho!r})
with threadpool_limits(limits=2):
    runner = EpochRunner(X, MinibatchPlan(h, params, "sigmoid", batch, shuffle=True))
assert (runner.workspace.n_shares, runner.n_threads) == {shares!r}
theta = np.random.RandomState(0).normal(scale=0.1, size=n_parameters(d, h))
state = MinibatchState(AdamOptimizer(theta, 1e-3), np.random.RandomState(0))
runner.run(theta, state)
tracemalloc.start()
runner.run(theta, state)
print(tracemalloc.get_traced_memory()[1])
runner.close()
"""


@pytest.mark.parametrize(
    "shape, shares",
    [((4000, 200, 20, 500), (1, 1)), ((2000, 784, 196, 200), (2, 2))],
    ids=["one-share", "two-shares-in-threads"],
)
def test_a_step_allocates_no_array_of_rows(shape, shares):
    # A dense epoch gathers its shuffled batches into the workspace; after
    # the first epoch, an epoch allocates its permutation of the rows and
    # numpy's fixed-size iterator buffers (64 KiB, for the broadcast bias and
    # slope adds; one set per thread when a step's shares run in threads,
    # here two at 784 features), nothing of the size of a batch.
    # tracemalloc counts every thread's allocations, so the epoch runs in a
    # fresh interpreter: the threads of a dask cluster that other tests
    # leave running would otherwise add theirs to the peak.
    script = _EPOCH_PEAK_SCRIPT.format(shape=shape, shares=shares, **PARAMS)
    result = run_python("-c", script)
    assert result.returncode == 0, result.stderr
    peak = int(result.stdout.strip())
    _, d, _, batch = shape
    batch_rows = batch * d * 8
    assert peak < batch_rows / 4


# --------------------------------------------------------------------------
# One step, and epochs.


def test_one_plain_sgd_step_is_theta_minus_lr_times_the_gradient(X):
    lr = 0.05
    sae = _minibatch_model(
        "sgd",
        momentum=0.0,
        learning_rate_init=lr,
        batch_size=len(X),
        shuffle=False,
        max_iter=1,
        tol=0,
    )
    # The initial weights the fit draws with random_state=0, the hidden
    # biases at logit(rho).
    theta0 = initial_parameters(D, H, np.random.RandomState(0))
    unpack(theta0, D, H)[1][:] = np.log(PARAMS["rho"] / (1 - PARAMS["rho"]))
    _, gradient = plain_loss_and_gradient(
        theta0, X, H, decoder_activation="sigmoid", **PARAMS
    )
    sae.fit(X)
    assert_allclose(fitted_theta(sae), theta0 - lr * gradient, rtol=1e-12, atol=1e-15)
    assert sae.n_iter_ == 1 and sae.t_ == len(X)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_tol_zero_runs_exactly_max_iter_epochs_without_warning(X, solver):
    sae = _minibatch_model(solver, max_iter=7, tol=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        sae.fit(X)
    assert sae.n_iter_ == len(sae.loss_curve_) == 7
    assert sae.t_ == 7 * len(X)
    assert sae.loss_ == sae.loss_curve_[-1]


def test_epochs_running_out_while_improving_warn(X):
    sae = _minibatch_model("adam", max_iter=3)
    with pytest.warns(ConvergenceWarning, match="after 3 epoch"):
        sae.fit(X)


def test_the_stopping_rule_stops_on_the_epoch_loss(X):
    sae = _minibatch_model(
        "adam", learning_rate_init=0.05, max_iter=2000, tol=1e-2, n_iter_no_change=3
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        sae.fit(X)
    assert sae.n_iter_ < 2000
    # The last n_iter_no_change epochs did not improve on the best by tol.
    curve = sae.loss_curve_
    best_before = min(curve[:-3])
    assert all(best_before - value <= 1e-2 * best_before for value in curve[-3:])


def test_adaptive_learning_rate_divides_before_stopping(X):
    sae = _minibatch_model(
        "sgd",
        learning_rate="adaptive",
        learning_rate_init=0.5,
        max_iter=3000,
        tol=1e-2,
        n_iter_no_change=2,
    )
    sae.fit(X)
    optimizer = sae._minibatch_state.optimizer
    assert optimizer.learning_rate < 1e-6


def test_early_stopping_keeps_the_best_held_out_weights(X):
    sae = _minibatch_model(
        "adam",
        early_stopping=True,
        validation_fraction=0.25,
        learning_rate_init=0.02,
        max_iter=60,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sae.fit(X)
    assert len(sae.validation_scores_) == sae.n_iter_
    assert sae.best_validation_score_ == max(sae.validation_scores_)
    from sklearn.model_selection import train_test_split

    _, held_out = train_test_split(
        np.arange(len(X)), test_size=0.25, random_state=np.random.RandomState(0)
    )
    assert sae.score(X[np.sort(held_out)]) == pytest.approx(
        sae.best_validation_score_, rel=1e-12
    )


# --------------------------------------------------------------------------
# partial_fit.


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_partial_fit_calls_equal_the_epochs_of_fit(X, solver):
    params = dict(solver=solver, random_state=0, **PARAMS)
    fitted = SparseAutoencoderTransformer(H, max_iter=4, tol=0, **params).fit(X)
    stepped = SparseAutoencoderTransformer(H, **params)
    for _ in range(4):
        stepped.partial_fit(X)
    _same_model(fitted, stepped)
    assert stepped.n_iter_ == 4 and stepped.t_ == 4 * len(X)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_partial_fit_continues_exactly_where_fit_stopped(X, solver):
    params = dict(solver=solver, tol=0, random_state=0, **PARAMS)
    longer = SparseAutoencoderTransformer(H, max_iter=5, **params).fit(X)
    sae = SparseAutoencoderTransformer(H, max_iter=3, **params).fit(X)
    sae.partial_fit(X)
    sae.partial_fit(X)
    _same_model(longer, sae)


def test_fit_starts_afresh_and_warm_start_keeps_only_the_weights(X):
    params = dict(solver="adam", max_iter=3, tol=0, random_state=0, **PARAMS)
    sae = SparseAutoencoderTransformer(H, **params).fit(X)
    first = fitted_theta(sae)
    sae.partial_fit(X)
    sae.fit(X)  # afresh: the same as the first fit
    assert_array_equal(fitted_theta(sae), first)
    warm = SparseAutoencoderTransformer(H, warm_start=True, **params).fit(X)
    warm.fit(X)
    assert warm._minibatch_state.optimizer.t == 3 * 1  # one batch per epoch
    # Warm start kept the weights but began a new optimizer.
    assert not np.array_equal(fitted_theta(warm), first)


def test_partial_fit_streams_pieces_of_a_memmap(X, tmp_path):
    path = tmp_path / "rows.dat"
    stored = np.memmap(path, dtype=np.float64, mode="w+", shape=X.shape)
    stored[:] = X
    stored.flush()
    rows = np.memmap(path, dtype=np.float64, mode="r", shape=X.shape)
    sae = _minibatch_model("adam")
    for start in range(0, len(X), 40):
        sae.partial_fit(rows[start : start + 40])
    assert sae.n_iter_ == 3 and sae.t_ == len(X)
    # Read-only pieces are not written to.
    assert_array_equal(np.asarray(rows), X)


def test_a_failing_partial_fit_leaves_model_and_state_untouched(X):
    sae = _minibatch_model("adam")
    sae.partial_fit(X)
    before = pickle.dumps(sae)
    with pytest.raises(ValueError, match="features"):
        sae.partial_fit(X[:, :5])
    with pytest.raises(ValueError, match="NaN"):
        bad = X.copy()
        bad[3, 3] = np.nan
        sae.partial_fit(bad)
    assert pickle.dumps(sae) == before


def test_an_interrupt_keeps_the_last_completed_step(X, monkeypatch):
    original = AdamOptimizer.update_params
    calls = []

    def interrupting(self, params, grads):
        calls.append(1)
        if len(calls) == 12:
            raise KeyboardInterrupt
        return original(self, params, grads)

    # Ctrl-C between a step's gradient and its update: the optimizer is the
    # seam that every step goes through.
    monkeypatch.setattr(AdamOptimizer, "update_params", interrupting)
    sae = _minibatch_model("adam", batch_size=20, max_iter=10)
    message = re.escape("interrupted by the user after 1 epoch")
    with pytest.warns(UserWarning, match=message):
        sae.fit(X)
    # 6 batches per epoch: one full epoch, then 5 steps of the second.
    assert sae.n_iter_ == 1 and len(sae.loss_curve_) == 1
    assert np.all(np.isfinite(fitted_theta(sae)))


# --------------------------------------------------------------------------
# Overflow and divergence: a learning rate too large for the data.

# SGD at this rate overflows within some 20 epochs on the tests' data.
OVERFLOWING = dict(solver="sgd", learning_rate_init=1e8, alpha=1.0)


def _model(**params):
    """The tests' model (H units, PARAMS, a fixed seed) with ``params`` in place."""
    return SparseAutoencoderTransformer(H, **{**PARAMS, "random_state": 0, **params})


@pytest.mark.parametrize("previous", [False, True])
def test_an_overflowing_partial_fit_raises_the_learning_rate_error(X, previous):
    sae = _minibatch_model("sgd", batch_size=1)
    if previous:
        sae.partial_fit(X)
        bad = X * 1e200  # their squared error overflows
    else:
        sae.set_params(**OVERFLOWING)
        bad = X
    before = pickle.dumps(sae)
    with warnings.catch_warnings():
        # One clear error, and no warning that the weights are kept.
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", "X has values in", UserWarning)
        with pytest.raises(
            ValueError,
            match=re.escape("overflowed) during the epoch of this partial_fit call")
            + ".* Lower learning_rate_init.*, or scale X",
        ):
            sae.partial_fit(bad)
        if previous:
            # Its optimizer, and so its learning rate, is the first call's.
            with pytest.raises(ValueError, match="go on with the first call's"):
                sae.partial_fit(bad)
    assert pickle.dumps(sae) == before


def test_an_overflow_stopped_fit_keeps_the_state_of_its_weights(X):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        stopped = _model(max_iter=60, **OVERFLOWING).fit(X)
    # One warning, which names the learning rate (not the saturation the
    # overflow leaves, with its advice to raise alpha).
    assert [str(w.message)[:46] for w in record] == [
        "The minibatch solver stopped after 19 epoch(s)"
    ]
    assert "the weights and the optimizer state" in str(record[0].message)
    assert 1 < stopped.n_iter_ < 60
    # The fit that ends at the kept epoch: the same weights, sample count,
    # velocity, epoch count and batch order.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        same = _model(max_iter=stopped.n_iter_, tol=0, **OVERFLOWING).fit(X)
    _same_model(stopped, same)
    assert stopped.t_ == same.t_ == stopped.n_iter_ * len(X)
    ours, theirs = stopped._minibatch_state, same._minibatch_state
    assert ours.n_epochs == theirs.n_epochs == stopped.n_iter_
    assert_array_equal(ours.optimizer.velocity, theirs.optimizer.velocity)
    assert ours.optimizer.learning_rate == theirs.optimizer.learning_rate
    assert_array_equal(
        ours.random_state.get_state()[1], theirs.random_state.get_state()[1]
    )


@pytest.mark.parametrize(
    "params",
    [
        dict(solver="adam", learning_rate_init=1e3),
        dict(solver="sgd", learning_rate_init=100.0, alpha=1.0),
    ],
    ids=["adam", "sgd"],
)
def test_a_diverging_fit_names_the_learning_rate(X, params):
    sae = _model(max_iter=40, **params)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        sae.fit(X)
    messages = [str(w.message) for w in record]
    assert len(messages) == 1, messages
    assert issubclass(record[0].category, ConvergenceWarning)
    rate = params["learning_rate_init"]
    assert f"learning_rate_init={rate!r} is too large" in messages[0]
    # The saturated units are a symptom: no advice to raise alpha.
    assert "alpha" not in messages[0]
    assert sae.loss_curve_[-1] > 2 * sae.loss_curve_[0]
    # The last epoch's weights are kept, as by MLPRegressor, so that the
    # model and its optimizer state stay together for partial_fit.
    assert sae.loss_ == sae.loss_curve_[-1]
    same = _model(max_iter=sae.n_iter_, tol=0, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _same_model(sae, same.fit(X))


def test_pickled_model_continues_identically(X):
    sae = _minibatch_model("adam")
    sae.partial_fit(X)
    copy = pickle.loads(pickle.dumps(sae))
    sae.partial_fit(X)
    copy.partial_fit(X)
    _same_model(sae, copy)


# --------------------------------------------------------------------------
# Determinism and backends.


def test_the_same_model_for_any_thread_count():
    X = uniform((3000, 60), seed=4)
    params = dict(solver="adam", max_iter=3, tol=0, random_state=0)
    with threadpool_limits(limits=1):
        one = SparseAutoencoderTransformer(20, **params).fit(X)
    with threadpool_limits(limits=2):
        two = SparseAutoencoderTransformer(20, **params).fit(X)
    _same_model(one, two)


@pytest.fixture
def four_shares(monkeypatch):
    """Steps of 64 rows, 64 features and 64 units cut into four shares.

    Smaller bounds than the estimator's, so that the tests' small problems
    are cut as a large one is; records ``(shares, threads)`` of every round
    that runs in threads.
    """
    monkeypatch.setattr(_objective, "MIN_SHARE_SIZE", 16)
    monkeypatch.setattr(_objective, "MIN_SHARE_MULTIPLY_ADDS", 2**12)
    assert _objective.step_shares(64, 64, 64) == 4
    rounds = []
    original = StepThreads.map

    def recording(self, function, n):
        rounds.append((n, min(self.n_threads, n)))
        return original(self, function, n)

    monkeypatch.setattr(StepThreads, "map", recording)
    return rounds


def _threaded_fits(X, solver, incremental, rounds, sample_weight=None):
    """The models of 1, 2 and 4 threads, and the threads their rounds used."""
    w = sample_weight
    models, used = [], []
    for threads in (1, 2, 4):
        rounds.clear()
        sae = SparseAutoencoderTransformer(
            64, solver=solver, batch_size=64, max_iter=2, tol=0, random_state=0
        )
        with threadpool_limits(limits=threads):
            if incremental:
                first = {} if w is None else {"sample_weight": w[:128]}
                rest = {} if w is None else {"sample_weight": w[128:]}
                sae.partial_fit(X[:128], **first).partial_fit(X[128:], **rest)
            else:
                sae.fit(X, sample_weight=w)
        models.append(sae)
        used.append(set(rounds))
    return models, used


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("incremental", [False, True], ids=["fit", "partial_fit"])
@pytest.mark.parametrize("solver", ["adam", "sgd"])
@pytest.mark.parametrize("container", ["dense", "csr"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_split_step_gives_the_same_model_on_1_2_and_4_threads(
    four_shares, incremental, solver, container, dtype, weighted
):
    X = uniform((256, 64), seed=5).astype(dtype)
    X[X < 0.3] = 0
    if container == "csr":
        X = sp.csr_matrix(X)
    w = None
    if weighted:
        # Zero weights among them: rows that count for nothing in a step.
        w = np.random.RandomState(9).uniform(0, 2, size=256)
        w[::5] = 0
    models, used = _threaded_fits(X, solver, incremental, four_shares, w)
    # One thread computes the four shares in turn; two and four threads
    # share them out, for the kernel's rounds and the optimizer's update,
    # weighted steps as unweighted ones.
    assert used == [set(), {(4, 2), (2, 2)}, {(4, 4)}]
    for model in models[1:]:
        _same_model(models[0], model)
    assert models[0].components_.dtype == dtype
    if weighted:
        # The weights change the model: the weighted steps ran.
        unweighted, _ = _threaded_fits(X, solver, incremental, four_shares)
        assert not np.array_equal(unweighted[0].components_, models[0].components_)


def test_a_dask_array_runs_its_chunks_steps_on_the_same_threads(four_shares):
    da = pytest.importorskip("dask.array")
    X = da.from_array(uniform((256, 64), seed=8), chunks=(128, 64))
    params = dict(solver="adam", batch_size=64, max_iter=2, tol=0, random_state=0)
    models, used = [], []
    for threads in (1, 2):
        four_shares.clear()
        with threadpool_limits(limits=threads):
            models.append(SparseAutoencoderTransformer(64, **params).fit(X))
        used.append(set(four_shares))
    assert used == [set(), {(4, 2), (2, 2)}]
    _same_model(*models)


def test_a_large_step_is_split_by_its_shape_alone():
    # 784 features, 196 units, batches of 200: two shares whatever the
    # threads; a digits-sized step is one.
    assert _objective.step_shares(200, 784, 196) == 2
    assert _objective.step_shares(200, 64, 100) == 1
    X = uniform((400, 784), seed=6)
    plan = MinibatchPlan(196, PARAMS, "sigmoid", 200, shuffle=True)
    for threads, used in [(1, 1), (2, 2), (4, 2)]:
        with threadpool_limits(limits=threads):
            with EpochRunner(X, plan) as runner:
                assert runner.workspace.n_shares == 2
                assert runner.n_threads == used


def test_a_split_step_gives_the_plain_objective_and_gradient(four_shares):
    # Four shares of rows, units and features give J_B and its gradient.
    X = uniform((64, 64), seed=7)
    theta = np.random.RandomState(0).normal(scale=0.3, size=n_parameters(64, 64))
    grad = np.empty_like(theta)
    workspace = MinibatchWorkspace(64, 64, 64, np.float64)
    assert workspace.n_shares == 4
    loss, grad = minibatch_loss_and_gradient(
        theta,
        X,
        grad,
        n_features=64,
        n_components=64,
        decoder_activation="sigmoid",
        workspace=workspace,
        map_shares=StepThreads(3).map,
        **PARAMS,
    )
    J, grad_ref = plain_loss_and_gradient(
        theta, X, 64, decoder_activation="sigmoid", **PARAMS
    )
    assert loss == pytest.approx(J, rel=1e-12)
    assert relative_error(grad, grad_ref) < 1e-12


def test_step_threads_raise_a_share_error_after_every_share_ended():
    threads = StepThreads(2)
    ended = []

    def share(index):
        if index == 0:
            raise ValueError("share 0")
        ended.append(index)
        return index

    with pytest.raises(ValueError, match="share 0"):
        threads.map(share, 4)
    assert sorted(ended) == [1, 2, 3]
    assert threads.map(lambda index: index * 2, 3) == [0, 2, 4]
    threads.close()


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_sparse_input_gives_the_dense_model(X, solver):
    params = dict(solver=solver, max_iter=3, tol=0, random_state=0, **PARAMS)
    dense = SparseAutoencoderTransformer(H, **params).fit(X)
    csr = SparseAutoencoderTransformer(H, **params).fit(sp.csr_matrix(X))
    for name in WEIGHTS:
        assert_allclose(
            getattr(csr, name), getattr(dense, name), rtol=1e-10, atol=1e-12
        )


def test_float32_is_fitted_in_float32(X):
    sae = _minibatch_model("adam", max_iter=2, tol=0).fit(X.astype(np.float32))
    assert sae.components_.dtype == np.float32
    assert sae._minibatch_state.optimizer.first_moment.dtype == np.float32


@pytest.mark.parametrize("device_name", ["CPU_DEVICE", "device1"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_array_api_strict_device_agrees_with_numpy(X, device_name, dtype):
    xps = pytest.importorskip("array_api_strict")
    params = dict(solver="adam", max_iter=3, tol=0, random_state=0, **PARAMS)
    reference = SparseAutoencoderTransformer(H, **params).fit(X.astype(dtype))
    device = xps.Device(device_name)
    with config_context(array_api_dispatch=True):
        X_device = xps.asarray(X.astype(dtype), device=device)
        sae = SparseAutoencoderTransformer(H, **params).fit(X_device)
        sae.partial_fit(X_device)
        assert sae.components_.device == device
        moment = sae._minibatch_state.optimizer.first_moment
        assert moment.device == device
        reference.partial_fit(X.astype(dtype))
        host = [
            np.asarray(xps.asarray(getattr(sae, name), device=xps.Device("CPU_DEVICE")))
            for name in WEIGHTS
        ]
    rtol = 1e-10 if dtype == "float64" else 1e-4
    for name, value in zip(WEIGHTS, host):
        assert_allclose(value, getattr(reference, name), rtol=rtol, atol=rtol)
    assert sae.loss_curve_ == pytest.approx(reference.loss_curve_, rel=rtol)


def test_a_dask_array_is_streamed_chunk_by_chunk(X):
    da = pytest.importorskip("dask.array")
    params = dict(
        solver="adam", batch_size=20, shuffle=False, max_iter=3, tol=0, random_state=0
    )
    in_memory = SparseAutoencoderTransformer(H, **params, **PARAMS).fit(X)
    chunked = SparseAutoencoderTransformer(H, **params, **PARAMS).fit(
        da.from_array(X, chunks=(40, D))
    )
    # Chunks of whole batches in chunk order: the same batches.
    for name in WEIGHTS:
        assert_allclose(getattr(chunked, name), getattr(in_memory, name), rtol=1e-12)
    assert_allclose(chunked.mean_activation_, in_memory.mean_activation_, rtol=1e-12)


def test_the_detector_fits_with_a_minibatch_solver(X):
    detector = SparseAutoencoderOutlierDetector(
        n_components=H, solver="adam", max_iter=5, tol=0, random_state=0
    ).fit(X)
    assert detector.n_iter_ == 5
    assert set(np.unique(detector.predict(X))) <= {-1, 1}
    assert not hasattr(detector, "partial_fit")


# --------------------------------------------------------------------------
# Parameters.


def test_partial_fit_is_unavailable_with_lbfgs_and_says_where_it_is(X):
    sae = SparseAutoencoderTransformer(H)
    # As with scikit-learn's available_if: meta-estimators see no partial_fit.
    assert not hasattr(sae, "partial_fit")
    message = (
        "has no attribute 'partial_fit' with solver='lbfgs': partial_fit is "
        "only available with solver='sgd' or solver='adam'"
    )
    with pytest.raises(AttributeError, match=re.escape(message)):
        sae.partial_fit(X)
    with pytest.raises(AttributeError, match=re.escape(message)):
        SparseAutoencoderTransformer.partial_fit(sae, X)
    assert not hasattr(sae, "n_iter_")
    assert hasattr(sae.set_params(solver="sgd"), "partial_fit")


@pytest.mark.parametrize(
    "params, match",
    [
        ({"batch_size": 0}, "'batch_size' parameter"),
        ({"batch_size": "big"}, "'batch_size' parameter"),
        ({"solver": "newton"}, "'solver' parameter"),
        ({"learning_rate_init": 0.0}, "'learning_rate_init' parameter"),
        ({"learning_rate": "cyclic"}, "'learning_rate' parameter"),
        ({"momentum": 1.5}, "'momentum' parameter"),
        ({"beta_1": 1.0}, "'beta_1' parameter"),
        ({"beta_2": -0.1}, "'beta_2' parameter"),
        ({"epsilon": 0.0}, "'epsilon' parameter"),
        ({"shuffle": "yes"}, "'shuffle' parameter"),
    ],
)
def test_bad_solver_parameters_are_rejected(X, params, match):
    params = {"solver": "adam", **params}
    with pytest.raises(InvalidParameterError, match=match):
        SparseAutoencoderTransformer(H, **params).fit(X)
    if params["solver"] == "adam":
        with pytest.raises(InvalidParameterError, match=match):
            SparseAutoencoderTransformer(H, **params).partial_fit(X)


def test_batch_size_larger_than_the_data_is_clipped(X):
    sae = SparseAutoencoderTransformer(
        H, solver="adam", batch_size=10_000, max_iter=2, tol=0, random_state=0
    ).fit(X)
    # One batch per epoch.
    assert sae._minibatch_state.optimizer.t == 2


def test_workspace_sizes_itself_to_the_batch():
    workspace = MinibatchWorkspace(16, D, H, np.float64)
    assert workspace.rows.shape == (16, D)
    assert workspace.hidden.shape == (16, H)
    assert MinibatchWorkspace(16, D, H, np.float64, dense=False).rows is None
    # Too small a step to pay for threads: one share of everything.
    assert workspace.n_shares == 1
    assert workspace.units == [slice(0, H)]
    assert workspace.features == [slice(0, D)]
