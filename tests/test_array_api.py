"""Array API input under ``array_api_dispatch``: namespaces, devices and dtypes.

Parametrized over scikit-learn's namespace, device and dtype combinations
whose library is installed here: NumPy and array-api-strict always
(array-api-strict's ``device1`` is a fake device whose arrays refuse
``np.asarray``, which catches silent host copies); torch, CuPy and dpnp where
installed, each device skipped where it is not available.
"""

import importlib
import pickle
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn import config_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler
from sklearn.utils._testing import _array_api_for_tests
from sklearn.utils.estimator_checks import check_array_api_input

from skl_sparseae import SparseAutoencoderTransformer
from skl_sparseae._backends._array_api import ArrayAPIBackend
from skl_sparseae._backends._blocks import device_batch_size
from skl_sparseae._backends._numpy import NumpyBackend
from skl_sparseae._objective import evaluate, initial_parameters, to_numpy

from ._helpers import FITTED_ARRAYS, array_api_combinations, ignore_convergence_warnings
from ._helpers import fit_quietly as quiet_fit

PARAMS = dict(rho=0.1, beta=3.0, alpha=1e-3)
RTOL = {"float64": 1e-10, "float32": 1e-4}

COMBINATIONS, _ = array_api_combinations()
NON_NUMPY = [c for c in COMBINATIONS if c[0] != "numpy"]


def _ids(combination):
    return "-".join(str(part) for part in combination)


def namespace_and_device(name, device_name, dtype_name=None):
    """The array module and a device of it, or skip when unavailable."""
    # scikit-learn's rules: a missing device, or float64 on a device without it.
    _, device = _array_api_for_tests(name, device_name, dtype_name)
    module = importlib.import_module(name)
    # scikit-learn asks whether torch was built with CUDA, not whether a GPU
    # is there.
    if name == "torch" and device_name == "cuda" and not module.cuda.is_available():
        pytest.skip("torch has no CUDA device here")
    return module, device


def on_device(X, combination):
    """X (a NumPy array) in the combination's namespace, device and dtype."""
    name, device_name, dtype = combination
    module, device = namespace_and_device(name, device_name, dtype)
    X = X.astype(dtype)
    if name in ("numpy", "cupy"):
        return module.asarray(X)
    return module.asarray(X, device=device)


def host(array):
    with config_context(array_api_dispatch=True):
        return to_numpy(array)


def assert_same_place(result, X):
    """``result`` has X's namespace (array type), device and dtype."""
    assert type(result) is type(X)
    assert result.dtype == X.dtype
    assert getattr(result, "device", None) == getattr(X, "device", None)


@pytest.fixture
def X_unit():
    return np.random.RandomState(0).uniform(size=(150, 12))


# The fits run a short budget (max_iter=5) on purpose.
@ignore_convergence_warnings
@pytest.mark.parametrize("combination", COMBINATIONS, ids=_ids)
def test_outputs_keep_namespace_device_and_dtype(combination, X_unit):
    X = on_device(X_unit, combination)
    sae = SparseAutoencoderTransformer(n_components=5, max_iter=5, random_state=0)
    with config_context(array_api_dispatch=True):
        codes = quiet_fit(sae, X).transform(X)
        codes_again = sae.fit_transform(X)
        recon = sae.inverse_transform(codes)
        scores = sae.score_samples(X)
        score = sae.score(X)
    for result in (codes, codes_again, recon, scores):
        assert_same_place(result, X)
    assert codes.shape == (150, 5) and recon.shape == (150, 12)
    assert scores.shape == (150,)
    assert isinstance(score, float)
    for name in FITTED_ARRAYS:
        assert_same_place(getattr(sae, name), X)
    # score_samples is -0.5 * the squared error of the reconstruction.
    X_host, recon_host = host(X), host(recon)
    expected = -0.5 * ((X_host - recon_host) ** 2).sum(axis=1)
    assert_allclose(host(scores), expected, rtol=RTOL[combination[2]])


@pytest.mark.parametrize("combination", NON_NUMPY, ids=_ids)
@pytest.mark.parametrize("decoder_activation", ["sigmoid", "identity"])
@pytest.mark.parametrize(
    "batch_size, keep_hidden", [(None, None), (16, True), (16, False)]
)
def test_loss_and_gradient_equal_numpy_objective(
    combination, decoder_activation, batch_size, keep_hidden, X_unit
):
    """One evaluation on the device equals the NumPy backend's, in blocks or not."""
    dtype = combination[2]
    X = on_device(X_unit, combination)
    theta = initial_parameters(12, 7, np.random.RandomState(1))
    with config_context(array_api_dispatch=True):
        from sklearn.utils._array_api import get_namespace_and_device

        xp, _, device = get_namespace_and_device(X)
        backend = ArrayAPIBackend(
            X,
            7,
            decoder_activation,
            xp=xp,
            device=device,
            batch_size=batch_size,
            keep_hidden=keep_hidden,
        )
        if batch_size is not None:
            assert len(backend.blocks) > 1
        result = evaluate(backend, theta, **PARAMS)
    expected = evaluate(
        NumpyBackend(X_unit.astype(dtype), 7, decoder_activation), theta, **PARAMS
    )
    assert result.gradient.dtype == np.float64
    rtol = RTOL[dtype]
    assert result.loss == pytest.approx(expected.loss, rel=rtol)
    scale = np.max(np.abs(expected.gradient))
    assert np.max(np.abs(result.gradient - expected.gradient)) <= rtol * scale
    assert_allclose(result.mean_activation, expected.mean_activation, rtol=rtol)
    assert result.reconstruction == pytest.approx(expected.reconstruction, rel=rtol)


@pytest.mark.parametrize(
    "combination", [c for c in NON_NUMPY if c[2] == "float64"], ids=_ids
)
@pytest.mark.parametrize("decoder_activation", ["sigmoid", "identity"])
def test_fit_of_20_iterations_equals_numpy_fit(combination, decoder_activation, X_unit):
    params = dict(
        n_components=6,
        max_iter=20,
        random_state=0,
        decoder_activation=decoder_activation,
    )
    reference = quiet_fit(SparseAutoencoderTransformer(**params), X_unit)
    sae = SparseAutoencoderTransformer(**params)
    with config_context(array_api_dispatch=True):
        quiet_fit(sae, on_device(X_unit, combination))
    assert sae.n_iter_ == reference.n_iter_
    for name in FITTED_ARRAYS:
        assert_allclose(
            host(getattr(sae, name)), getattr(reference, name), rtol=0, atol=1e-8
        )
    assert sae.loss_ == pytest.approx(reference.loss_, rel=1e-10)


@pytest.mark.parametrize(
    "combination", [c for c in NON_NUMPY if c[2] == "float32"], ids=_ids
)
def test_float32_fit_stays_float32_and_close_to_numpy(combination, X_unit):
    params = dict(n_components=6, max_iter=20, random_state=0)
    reference = quiet_fit(SparseAutoencoderTransformer(**params), X_unit.astype("f4"))
    sae = SparseAutoencoderTransformer(**params)
    with config_context(array_api_dispatch=True):
        quiet_fit(sae, on_device(X_unit, combination))
    for name in FITTED_ARRAYS:
        assert host(getattr(sae, name)).dtype == np.float32
    # 20 float32 iterations drift apart by round-off: the objective agrees.
    assert sae.loss_ == pytest.approx(reference.loss_, rel=1e-3)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_numpy_input_under_dispatch_is_the_numpy_fit(dtype, X_unit):
    """Dispatch does not change a NumPy fit by a single bit."""
    X = X_unit.astype(dtype)
    params = dict(n_components=6, max_iter=20, random_state=0)
    reference = quiet_fit(SparseAutoencoderTransformer(**params), X)
    with config_context(array_api_dispatch=True):
        sae = quiet_fit(SparseAutoencoderTransformer(**params), X)
        codes = sae.transform(X)
    for name in FITTED_ARRAYS:
        assert_array_equal(getattr(sae, name), getattr(reference, name))
    assert_array_equal(codes, reference.transform(X))


# scikit-learn's check fits its own data, which leaves [0, 1], with a short
# budget (max_iter=20): the range warning of the sigmoid decoder and the
# ConvergenceWarning are expected.
@pytest.mark.filterwarnings("ignore:X has values in:UserWarning")
@ignore_convergence_warnings
@pytest.mark.parametrize(
    "combination",
    [c for c in COMBINATIONS if c[2] == "float64"],
    ids=_ids,
)
def test_check_array_api_input_with_values(combination):
    name, device_name, dtype = combination
    namespace_and_device(name, device_name, dtype)
    check_array_api_input(
        "SparseAutoencoderTransformer",
        SparseAutoencoderTransformer(n_components=4, max_iter=20),
        array_namespace=name,
        device_name=device_name,
        dtype_name=dtype,
        check_values=True,
    )


@pytest.mark.parametrize("combination", COMBINATIONS, ids=_ids)
def test_pipeline_scaler_autoencoder_logistic_regression(combination):
    rng = np.random.RandomState(0)
    X_np = rng.normal(size=(120, 10))
    y_np = (X_np[:, 0] + X_np[:, 1] > 0).astype(combination[2])
    X = on_device(X_np, combination)
    y = on_device(y_np, combination)

    def pipeline():
        return make_pipeline(
            MinMaxScaler(),
            SparseAutoencoderTransformer(n_components=8, max_iter=30, random_state=0),
            LogisticRegression(),
        )

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reference = pipeline().fit(X_np, y_np).score(X_np, y_np)
        pipe = pipeline()
        with config_context(array_api_dispatch=True):
            pipe.fit(X, y)
            proba = pipe.predict_proba(X)
            codes = pipe[:-1].transform(X)
            accuracy = pipe.score(X, y)
    assert_same_place(codes, X)
    assert_same_place(proba, X)
    # The same model as on NumPy, up to float32 round-off near the boundary.
    assert accuracy == pytest.approx(reference, abs=0.05)


@pytest.mark.parametrize("combination", NON_NUMPY, ids=_ids)
def test_move_fitted_model_back_to_numpy(combination, X_unit):
    """The documented way to a CPU-only model: move_estimator_to, then pickle."""
    from skl_sparseae import move_estimator_to

    X = on_device(X_unit, combination)
    sae = SparseAutoencoderTransformer(n_components=5, max_iter=5, random_state=0)
    with config_context(array_api_dispatch=True):
        quiet_fit(sae, X)
        codes = host(sae.transform(X))
    cpu_model = move_estimator_to(sae, np, "cpu")
    restored = pickle.loads(pickle.dumps(cpu_model))
    for name in FITTED_ARRAYS:
        assert isinstance(getattr(restored, name), np.ndarray)
    assert_allclose(
        restored.transform(X_unit.astype(combination[2])),
        codes,
        rtol=RTOL[combination[2]],
    )


def test_transform_refuses_another_namespace(X_unit):
    xps = pytest.importorskip("array_api_strict")
    sae = SparseAutoencoderTransformer(n_components=5, max_iter=5, random_state=0)
    with config_context(array_api_dispatch=True):
        quiet_fit(sae, xps.asarray(X_unit))
        for method in ("transform", "score_samples"):
            with pytest.raises(ValueError, match="must use the same namespace"):
                getattr(sae, method)(X_unit)


class _FakeDeviceSparse:
    """Stands for a sparse matrix of a device library (cupyx.scipy.sparse)."""

    __module__ = "cupyx.scipy.sparse._csr"
    shape = (3, 2)


def test_device_sparse_input_is_refused_clearly():
    sae = SparseAutoencoderTransformer(n_components=2)
    with config_context(array_api_dispatch=True):
        with pytest.raises(TypeError, match="dense data"):
            sae.fit(_FakeDeviceSparse())


def test_torch_sparse_tensor_is_refused_clearly():
    torch = pytest.importorskip("torch")
    X = torch.eye(4, dtype=torch.float64).to_sparse()
    with config_context(array_api_dispatch=True):
        with pytest.raises(TypeError, match="sparse torch tensors"):
            SparseAutoencoderTransformer(n_components=2).fit(X)


def test_scipy_sparse_input_keeps_the_numpy_path(X_unit):
    import scipy.sparse as sp

    X = sp.csr_matrix(np.where(X_unit > 0.7, X_unit, 0.0))
    params = dict(n_components=5, max_iter=10, random_state=0)
    reference = quiet_fit(SparseAutoencoderTransformer(**params), X)
    with config_context(array_api_dispatch=True):
        sae = quiet_fit(SparseAutoencoderTransformer(**params), X)
    for name in FITTED_ARRAYS:
        assert_array_equal(getattr(sae, name), getattr(reference, name))


@pytest.mark.parametrize(
    "shape, keep_hidden",
    [((60_000, 784, 196), True), ((500_000, 784, 1024), False), ((150, 12, 5), True)],
)
@pytest.mark.parametrize("itemsize", [4, 8])
def test_blocks_keep_extra_device_memory_below_x(shape, keep_hidden, itemsize):
    """Kept activations and one block's temporaries together stay within 1x X."""
    m, d, h = shape
    backend_keeps = 2 * h <= d
    assert backend_keeps == keep_hidden
    rows = device_batch_size(m, d, h, itemsize, keep_hidden=keep_hidden)
    block_bytes = rows * (2 * d + 3 * h) * itemsize
    hidden_bytes = m * h * itemsize if keep_hidden else 0
    x_bytes = m * d * itemsize
    if m >= 10_000:
        assert block_bytes + hidden_bytes <= x_bytes
    assert 1 <= rows <= m


@pytest.mark.parametrize("combination", NON_NUMPY, ids=_ids)
def test_outlier_detector_on_the_device(combination):
    from skl_sparseae import SparseAutoencoderOutlierDetector

    X = np.random.RandomState(0).uniform(size=(150, 8))
    params = dict(n_components=4, max_iter=20, contamination=0.1, random_state=0)
    reference = quiet_fit(
        SparseAutoencoderOutlierDetector(**params), X.astype(combination[2])
    )
    X_device = on_device(X, combination)
    with config_context(array_api_dispatch=True):
        detector = quiet_fit(SparseAutoencoderOutlierDetector(**params), X_device)
        labels = detector.predict(X_device)
        assert_same_place(detector.decision_function(X_device), X_device)
        assert type(labels) is type(X_device)
        assert getattr(labels, "device", None) == getattr(X_device, "device", None)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            fit_labels = SparseAutoencoderOutlierDetector(**params).fit_predict(
                X_device
            )
        labels, fit_labels = host(labels), host(fit_labels)
    assert isinstance(detector.offset_, float)
    rtol = RTOL[combination[2]]
    assert detector.offset_ == pytest.approx(reference.offset_, rel=100 * rtol)
    assert_array_equal(labels, reference.predict(X.astype(combination[2])))
    assert_array_equal(fit_labels, labels)
    assert detector.__sklearn_tags__().array_api_support


# --------------------------------------------------------------------------
# Moving a fitted model: its weights and its minibatch solver's state.


def _is_array(value):
    if isinstance(value, np.ndarray):
        return value.dtype != object  # feature_names_in_ stays on the host
    return hasattr(value, "__array_namespace__") and not isinstance(value, np.generic)


def _arrays_of(estimator):
    """``(where, array)`` of every array a fitted estimator holds, state included."""
    found = []
    for name, value in vars(estimator).items():
        if name == "_minibatch_state":
            for buffer, array in vars(value.optimizer).items():
                if _is_array(array):
                    found.append((f"optimizer.{buffer}", array))
        elif _is_array(value):
            found.append((name, value))
    return found


def _assert_wholly_in(estimator, array_type, device=None):
    arrays = _arrays_of(estimator)
    names = [name for name, _ in arrays]
    assert set(FITTED_ARRAYS) <= set(names)
    assert any(name.startswith("optimizer.") for name in names)
    for name, array in arrays:
        assert type(array) is array_type, name
        if device is not None:
            assert array.device == device, name


def _minibatch_estimators():
    from skl_sparseae import SparseAutoencoderOutlierDetector

    return [SparseAutoencoderTransformer, SparseAutoencoderOutlierDetector]


@pytest.mark.parametrize("solver", ["adam", "sgd"])
@pytest.mark.parametrize(
    "Estimator", _minibatch_estimators(), ids=lambda cls: cls.__name__
)
@pytest.mark.parametrize("combination", NON_NUMPY, ids=_ids)
def test_move_estimator_to_moves_the_solver_state_to_numpy(
    combination, Estimator, solver, X_unit
):
    from skl_sparseae import move_estimator_to

    X = on_device(X_unit, combination)
    model = Estimator(n_components=5, solver=solver, max_iter=3, random_state=0)
    with config_context(array_api_dispatch=True):
        quiet_fit(model, X)
        scores = host(model.score_samples(X))
    cpu_model = move_estimator_to(model, np, "cpu")

    _assert_wholly_in(cpu_model, np.ndarray)
    # The input is left where it was.
    _assert_wholly_in(model, type(X), X.device)
    assert cpu_model._minibatch_state is not model._minibatch_state
    X_host = X_unit.astype(combination[2])
    rtol = RTOL[combination[2]]
    assert_allclose(cpu_model.score_samples(X_host), scores, rtol=rtol)
    if hasattr(cpu_model, "partial_fit"):
        cpu_model.partial_fit(X_host)
        _assert_wholly_in(cpu_model, np.ndarray)
        assert cpu_model.n_iter_ == model.n_iter_ + 1


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_scikit_learns_private_helper_moves_the_solver_state_too(solver, X_unit):
    """scikit-learn's helper (its error messages recommend it) calls our hook."""
    from sklearn.utils._array_api import move_estimator_to

    xps = pytest.importorskip("array_api_strict")
    X = xps.asarray(X_unit, device=xps.Device("device1"))
    sae = SparseAutoencoderTransformer(
        n_components=5, solver=solver, max_iter=3, random_state=0
    )
    with config_context(array_api_dispatch=True):
        quiet_fit(sae, X)
        cpu_model = move_estimator_to(sae, np, "cpu")
    _assert_wholly_in(cpu_model, np.ndarray)
    cpu_model.partial_fit(X_unit)


@pytest.mark.parametrize("solver", ["adam", "sgd"])
@pytest.mark.parametrize("combination", NON_NUMPY, ids=_ids)
def test_moved_model_continues_bit_for_bit(combination, solver, X_unit):
    """NumPy -> device -> NumPy is exact: partial_fit goes on as if never moved."""
    from skl_sparseae import move_estimator_to

    module, device = namespace_and_device(*combination[:2])
    X_host = X_unit.astype(combination[2])
    X = on_device(X_unit, combination)
    sae = SparseAutoencoderTransformer(
        n_components=5, solver=solver, max_iter=3, random_state=0
    )
    quiet_fit(sae, X_host)
    never_moved = pickle.loads(pickle.dumps(sae))
    on_device_ = move_estimator_to(sae, module, device)
    _assert_wholly_in(on_device_, type(X), X.device)
    back = move_estimator_to(on_device_, np)

    never_moved.partial_fit(X_host)
    back.partial_fit(X_host)
    for name, array in _arrays_of(never_moved):
        assert_array_equal(dict(_arrays_of(back))[name], array, err_msg=name)
    assert back.loss_curve_ == never_moved.loss_curve_
    assert (back.t_, back.n_iter_) == (never_moved.t_, never_moved.n_iter_)
    # On the device the same step, to round-off.
    with config_context(array_api_dispatch=True):
        on_device_.partial_fit(X)
        _assert_wholly_in(on_device_, type(X), X.device)
        moved_back = move_estimator_to(on_device_, np)
    rtol = RTOL[combination[2]]
    for name in FITTED_ARRAYS:
        assert_allclose(
            getattr(moved_back, name), getattr(never_moved, name), rtol=rtol, atol=rtol
        )


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_model_moved_to_another_device_continues_there(solver, X_unit):
    from skl_sparseae import move_estimator_to

    xps = pytest.importorskip("array_api_strict")
    device1, cpu = xps.Device("device1"), xps.Device("CPU_DEVICE")
    sae = SparseAutoencoderTransformer(
        n_components=5, solver=solver, max_iter=3, random_state=0
    )
    with config_context(array_api_dispatch=True):
        quiet_fit(sae, xps.asarray(X_unit, device=device1))
        moved = move_estimator_to(sae, xps, cpu)
        _assert_wholly_in(moved, type(xps.asarray(0.0)), cpu)
        moved.partial_fit(xps.asarray(X_unit, device=cpu))
        sae.partial_fit(xps.asarray(X_unit, device=device1))
        _assert_wholly_in(moved, type(xps.asarray(0.0)), cpu)
        # array-api-strict computes alike on each device: the same bits.
        for name, array in _arrays_of(sae):
            expected = host(xps.asarray(array, device=cpu))
            assert_array_equal(host(dict(_arrays_of(moved))[name]), expected, name)


def test_move_estimator_to_moves_a_pipeline(X_unit):
    from skl_sparseae import move_estimator_to

    xps = pytest.importorskip("array_api_strict")
    device = xps.Device("device1")
    X = xps.asarray(X_unit, device=device)
    pipe = make_pipeline(
        MinMaxScaler(),
        SparseAutoencoderTransformer(
            n_components=5, solver="adam", max_iter=3, random_state=0
        ),
    )
    with config_context(array_api_dispatch=True):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            pipe.fit(X)
        codes = host(pipe.transform(X))
    cpu_pipe = move_estimator_to(pipe, np, "cpu")
    assert isinstance(cpu_pipe[0].scale_, np.ndarray)
    _assert_wholly_in(cpu_pipe[-1], np.ndarray)
    _assert_wholly_in(pipe[-1], type(X), device)
    assert_allclose(cpu_pipe.transform(X_unit), codes, rtol=1e-12)


@pytest.mark.filterwarnings("ignore:X does not have valid feature names")
def test_move_estimator_to_keeps_feature_names_on_the_host(X_unit):
    from skl_sparseae import move_estimator_to

    pd = pytest.importorskip("pandas")
    xps = pytest.importorskip("array_api_strict")
    device = xps.Device("device1")
    columns = [f"pixel{i}" for i in range(X_unit.shape[1])]
    sae = SparseAutoencoderTransformer(
        n_components=5, solver="adam", max_iter=3, random_state=0
    )
    quiet_fit(sae, pd.DataFrame(X_unit, columns=columns))
    moved = move_estimator_to(sae, xps, device)
    assert isinstance(moved.feature_names_in_, np.ndarray)
    assert list(moved.feature_names_in_) == columns
    _assert_wholly_in(moved, type(xps.asarray(0.0)), device)
    with config_context(array_api_dispatch=True):
        codes = moved.transform(xps.asarray(X_unit, device=device))
    assert_allclose(host(codes), sae.transform(X_unit), rtol=1e-12)


def test_move_estimator_to_checks_its_arguments(X_unit):
    from skl_sparseae import move_estimator_to

    sae = SparseAutoencoderTransformer(n_components=3)
    with pytest.raises(TypeError, match="moves an estimator instance"):
        move_estimator_to(SparseAutoencoderTransformer, np)
    with pytest.raises(TypeError, match="moves an estimator instance"):
        move_estimator_to(X_unit, np)
    with pytest.raises(TypeError, match="xp must be an Array API namespace"):
        move_estimator_to(sae, "numpy")
    # An unfitted estimator moves too: its copy has nothing to move.
    moved = move_estimator_to(sae, np)
    assert moved is not sae and moved.get_params() == sae.get_params()


@pytest.mark.parametrize("solver", ["adam", "sgd"])
@pytest.mark.parametrize(
    "first, second", [("float32", "float64"), ("float64", "float32")]
)
def test_partial_fit_piece_of_another_dtype_on_a_device(first, second, solver):
    """A device stream switching dtype trains as the NumPy stream does."""
    xps = pytest.importorskip("array_api_strict")
    device = xps.Device("device1")
    X = np.random.RandomState(0).uniform(size=(150, 12))
    pieces = [X[:50].astype(first), X[50:].astype(second), X[:50].astype(first)]
    params = dict(n_components=5, solver=solver, random_state=0)
    reference = SparseAutoencoderTransformer(**params)
    sae = SparseAutoencoderTransformer(**params)
    for piece in pieces:
        reference.partial_fit(piece)
        with config_context(array_api_dispatch=True):
            sae.partial_fit(xps.asarray(piece, device=device))
            assert sae.components_.dtype == getattr(xps, str(piece.dtype))
    for name in FITTED_ARRAYS:
        assert_allclose(
            host(getattr(sae, name)), getattr(reference, name), rtol=1e-5, atol=1e-6
        )
    assert sae.loss_curve_ == pytest.approx(reference.loss_curve_, rel=1e-5)
