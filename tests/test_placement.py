"""``locate``: where X lives, asked once per call, and the backends' protocol."""

import inspect
import re
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import config_context

import skl_sparseae
from skl_sparseae._backends._array_api import ArrayAPIBackend, ArrayAPIPlacement
from skl_sparseae._backends._dask import DaskPlacement
from skl_sparseae._backends._numpy import NumpyBackend, NumpyPlacement
from skl_sparseae._backends._placement import locate
from skl_sparseae._backends._protocol import Placement
from skl_sparseae._stopping import BestIterate


@pytest.mark.parametrize(
    "X", [np.ones((3, 2)), sp.csr_matrix(np.ones((3, 2))), [[1.0, 2.0]]]
)
def test_in_memory_data_is_numpy(X):
    placement = locate(X, "Est")
    assert type(placement) is NumpyPlacement
    backend = placement.backend(placement.check_fit_input(X, None), 1, "sigmoid")
    assert isinstance(backend, NumpyBackend)


def test_a_dask_array_is_dask():
    da = pytest.importorskip("dask.array")
    assert type(locate(da.ones((4, 2), chunks=2), "Est")) is DaskPlacement


def test_a_device_array_is_array_api_only_under_dispatch():
    xps = pytest.importorskip("array_api_strict")
    X = xps.ones((4, 2), device=xps.Device("device1"))
    assert type(locate(X, "Est")) is NumpyPlacement
    with config_context(array_api_dispatch=True):
        placement = locate(X, "Est")
        assert type(placement) is ArrayAPIPlacement
        assert placement.device == X.device
        backend = placement.backend(X, 1, "sigmoid")
        assert isinstance(backend, ArrayAPIBackend)
        rows = placement.take_rows(X, np.array([0, 2]))
        assert rows.shape == (2, 2) and rows.device == X.device


def test_the_placement_answers_what_depends_on_where_x_lives():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"a": [0.0, 0.5, 1.0], "b": [0.25, 0.75, 0.5]})
    placement = locate(frame, "Est")
    np.testing.assert_array_equal(placement.feature_names(frame), ["a", "b"])
    X = placement.check_fit_input(frame, None)
    assert placement.value_range(X) == (0.0, 1.0)
    assert placement.dtype(X) == np.float64
    train, held_out = placement.hold_out(X, 1 / 3, np.random.RandomState(0))
    assert train.shape == (2, 2) and held_out.shape == (1, 2)
    column = X[:, 0]
    assert placement.to_host(column) is column


def test_a_dask_placement_answers_without_computing_x():
    da = pytest.importorskip("dask.array")
    X = da.ones((4, 2), chunks=2, dtype=np.float32)
    placement = locate(X, "Est")
    assert placement.feature_names(X) is None
    assert placement.value_range(X) is None
    assert placement.dtype(X) == np.float32
    with pytest.raises(ValueError, match="early_stopping=True is not supported"):
        placement.hold_out(X, 0.5, np.random.RandomState(0))
    host = placement.to_host(X.sum(axis=1))
    assert isinstance(host, np.ndarray)
    np.testing.assert_array_equal(host, [2.0, 2.0, 2.0, 2.0])


@pytest.mark.parametrize(
    "placement", [NumpyPlacement(), ArrayAPIPlacement(np, "cpu"), DaskPlacement()]
)
def test_every_backend_answers_the_whole_protocol(placement):
    # Instantiating above would fail on a missing method; this also refuses
    # public methods that only one backend has.
    protocol = {
        name for name, _ in inspect.getmembers(Placement) if not name.startswith("_")
    }
    public = {
        name
        for name, _ in inspect.getmembers(type(placement))
        if not name.startswith("_")
    }
    assert public == protocol
    with pytest.raises(TypeError, match="abstract"):
        Placement()


def test_the_estimators_ask_only_the_protocol():
    package = Path(skl_sparseae.__file__).parent
    asked = set()
    for path in package.glob("*.py"):
        asked.update(re.findall(r"\bplacement\.(\w+)", path.read_text()))
    protocol = {
        name for name, _ in inspect.getmembers(Placement) if not name.startswith("_")
    }
    assert asked and asked <= protocol


def test_best_iterate_keeps_a_copy_of_the_best():
    best = BestIterate()
    theta = np.zeros(3)
    assert best.offer(theta, 2.0, loss=5.0)
    theta += 1  # the solver reuses its buffer
    assert not best.offer(theta, 3.0)
    np.testing.assert_array_equal(best.theta, np.zeros(3))
    assert best.offer(theta, 1.0)
    assert not best.offer(theta, 1.0)
    latest = BestIterate(ties_to_latest=True)
    latest.offer(np.zeros(1), 1.0)
    assert latest.offer(np.ones(1), 1.0)
    assert latest.theta[0] == 1.0
