"""pickle and joblib round trips keep every attribute bit for bit."""

import io
import pickle

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from skl_sparseae import SparseAutoencoderTransformer

from ._helpers import FITTED_ATTRIBUTES, ignore_convergence_warnings


def _pickle(estimator, tmp_path):
    return pickle.loads(pickle.dumps(estimator, protocol=pickle.HIGHEST_PROTOCOL))


def _pickle_protocol_2(estimator, tmp_path):
    return pickle.loads(pickle.dumps(estimator, protocol=2))


def _joblib(estimator, tmp_path):
    path = tmp_path / "sae.joblib"
    joblib.dump(estimator, path)
    return joblib.load(path)


def _joblib_compressed(estimator, tmp_path):
    path = tmp_path / "sae.joblib.gz"
    joblib.dump(estimator, path, compress=3)
    return joblib.load(path)


def _joblib_mmap(estimator, tmp_path):
    path = tmp_path / "sae-mmap.joblib"
    joblib.dump(estimator, path)
    return joblib.load(path, mmap_mode="r")


def _joblib_file_object(estimator, tmp_path):
    buffer = io.BytesIO()
    joblib.dump(estimator, buffer)
    buffer.seek(0)
    return joblib.load(buffer)


ROUND_TRIPS = [
    _pickle,
    _pickle_protocol_2,
    _joblib,
    _joblib_compressed,
    _joblib_mmap,
    _joblib_file_object,
]


def assert_identical(value, restored, name):
    """Same type, and for arrays the same dtype, shape and bytes.

    joblib's ``mmap_mode`` gives back arrays as read-only ``np.memmap``, an
    ndarray subclass.
    """
    if isinstance(value, np.ndarray):
        assert isinstance(restored, np.ndarray), name
        assert restored.dtype == value.dtype, name
        assert restored.shape == value.shape, name
        if value.dtype == object:
            assert restored.tolist() == value.tolist(), name
        else:
            assert restored.tobytes() == value.tobytes(), name
        return
    assert type(restored) is type(value), name
    if isinstance(value, float):
        assert np.float64(restored).tobytes() == np.float64(value).tobytes(), name
    elif isinstance(value, list):
        assert len(restored) == len(value), name
        for k, (a, b) in enumerate(zip(value, restored)):
            assert_identical(a, b, f"{name}[{k}]")
    else:
        assert restored == value, name


def _data(kind):
    X = np.random.RandomState(0).uniform(size=(40, 10))
    if kind == "float32":
        return X.astype(np.float32)
    if kind == "csr":
        return sp.csr_matrix(np.where(X > 0.5, X, 0.0))
    if kind == "pandas":
        pd = pytest.importorskip("pandas")
        return pd.DataFrame(X, columns=[f"pixel{i}" for i in range(10)])
    return X


@ignore_convergence_warnings
@pytest.mark.parametrize("round_trip", ROUND_TRIPS, ids=lambda f: f.__name__[1:])
@pytest.mark.parametrize("kind", ["float64", "float32", "csr", "pandas"])
def test_fitted_round_trip_is_bit_for_bit(kind, round_trip, tmp_path):
    X = _data(kind)
    sae = SparseAutoencoderTransformer(n_components=4, max_iter=20, random_state=0)
    sae.fit(X)
    restored = round_trip(sae, tmp_path)

    assert type(restored) is SparseAutoencoderTransformer
    assert restored.get_params() == sae.get_params()
    fitted = {name for name in vars(sae) if name.endswith("_")}
    assert fitted >= set(FITTED_ATTRIBUTES)
    assert ("feature_names_in_" in fitted) == (kind == "pandas")
    assert set(vars(restored)) == set(vars(sae))
    for name, value in vars(sae).items():
        assert_identical(value, getattr(restored, name), name)

    codes = sae.transform(X)
    for method, data in [
        ("transform", X),
        ("score_samples", X),
        ("inverse_transform", codes),
    ]:
        expected = getattr(sae, method)(data)
        result = getattr(restored, method)(data)
        assert result.dtype == expected.dtype
        assert result.tobytes() == expected.tobytes()
    assert list(restored.get_feature_names_out()) == list(sae.get_feature_names_out())


@ignore_convergence_warnings
@pytest.mark.parametrize("round_trip", ROUND_TRIPS, ids=lambda f: f.__name__[1:])
def test_unfitted_round_trip(round_trip, tmp_path):
    sae = SparseAutoencoderTransformer(
        n_components=3,
        rho=0.1,
        beta=2.0,
        decoder_activation="identity",
        max_iter=15,
        random_state=np.random.RandomState(4),
    )
    restored = round_trip(sae, tmp_path)
    assert set(vars(restored)) == set(vars(sae))
    params, restored_params = sae.get_params(), restored.get_params()
    random_state = params.pop("random_state")
    restored_random_state = restored_params.pop("random_state")
    assert restored_params == params
    # the RandomState instance is restored in the same internal state
    assert restored_random_state is not random_state
    assert restored_random_state.randint(10**9) == random_state.randint(10**9)
    with pytest.raises(NotFittedError):
        restored.transform(np.zeros((2, 5)))

    # fitting the restored copy gives the same model as fitting a clone
    X = np.random.RandomState(0).uniform(size=(30, 5))
    a = clone(sae).set_params(random_state=1).fit(X)
    b = restored.set_params(random_state=1).fit(X)
    np.testing.assert_array_equal(a.components_, b.components_)


@ignore_convergence_warnings
@pytest.mark.parametrize("round_trip", [_pickle, _joblib, _joblib_mmap])
def test_restored_model_can_continue_with_warm_start(round_trip, tmp_path):
    X = np.random.RandomState(0).uniform(size=(30, 8))
    sae = SparseAutoencoderTransformer(
        n_components=3, max_iter=5, warm_start=True, random_state=0
    )
    sae.fit(X)
    restored = round_trip(sae, tmp_path)
    restored.fit(X)
    sae.fit(X)
    # the restored copy continues exactly as the original does
    np.testing.assert_array_equal(restored.components_, sae.components_)
    assert restored.loss_curve_ == sae.loss_curve_


@ignore_convergence_warnings
@pytest.mark.parametrize("Estimator", ["Transformer", "OutlierDetector"])
def test_model_moved_to_numpy_loads_without_the_device_library(Estimator):
    """A device fit moved to NumPy pickles as NumPy arrays only."""
    import subprocess
    import sys

    import skl_sparseae

    xps = pytest.importorskip("array_api_strict")
    from sklearn import config_context

    Estimator = getattr(skl_sparseae, f"SparseAutoencoder{Estimator}")
    X = np.random.RandomState(0).uniform(size=(60, 8))
    model = Estimator(n_components=3, solver="adam", max_iter=3, random_state=0)
    with config_context(array_api_dispatch=True):
        model.fit(xps.asarray(X, device=xps.Device("device1")))
    cpu_model = skl_sparseae.move_estimator_to(model, np, "cpu")
    code = (
        "import pickle, sys\n"
        "sys.modules['array_api_strict'] = None  # as if not installed\n"
        "model = pickle.load(sys.stdin.buffer)\n"
        "X = __import__('numpy').random.RandomState(0).uniform(size=(60, 8))\n"
        "print(repr(float(model.score_samples(X).sum())))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        input=pickle.dumps(cpu_model),
        capture_output=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()
    assert float(result.stdout) == float(cpu_model.score_samples(X).sum())
