"""Bad input fails early and clearly, and no input is ever modified.

Every bad input must raise before the optimisation starts (the estimators'
``_objective`` seam is replaced by a function that fails the test), with a
message that names the problem, and the user's data must be left exactly as
it was: the arrays are made read-only and their checksums compared before and
after.
"""

import hashlib
import pickle
import re
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import config_context
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.preprocessing import MinMaxScaler
from sklearn.utils._param_validation import InvalidParameterError

from skl_sparseae import SparseAutoencoderTransformer
from skl_sparseae._validation import warn_if_saturated

from ._helpers import (
    ignore_convergence_warnings,
    ignore_sparsity_missed,
    wrap_objective,
)

# The fitted models these tests use stop on max_iter on purpose.
pytestmark = ignore_convergence_warnings

N_SAMPLES, N_FEATURES, N_COMPONENTS = 20, 5, 3
NAME = "SparseAutoencoderTransformer"


def _uniform(shape=(N_SAMPLES, N_FEATURES), seed=0):
    return np.random.RandomState(seed).uniform(size=shape)


def _read_only(X):
    """Make the buffers of a dense or sparse array read-only; return X."""
    if sp.issparse(X):
        for buffer in (X.data, X.indices, X.indptr) if X.format != "coo" else ():
            buffer.flags.writeable = False
    elif isinstance(X, np.ndarray):
        X.flags.writeable = False
    return X


def _checksum(X):
    """SHA-256 of everything that defines X (buffers, dtype, shape)."""
    digest = hashlib.sha256()
    if sp.issparse(X):
        for buffer in (X.data, X.indices, X.indptr):
            digest.update(np.ascontiguousarray(buffer).tobytes())
        digest.update(repr((X.format, X.shape, X.dtype)).encode())
    elif isinstance(X, np.ndarray) and X.dtype != object:
        digest.update(np.ascontiguousarray(X).tobytes())
        digest.update(repr((X.shape, X.dtype)).encode())
    else:
        digest.update(pickle.dumps(X))
    return digest.hexdigest()


def _fail(objective, theta):
    raise AssertionError("the optimisation started on invalid input")


@pytest.fixture
def no_optimisation(monkeypatch):
    """Fail the test if the objective is ever evaluated."""
    wrap_objective(monkeypatch, _fail)


@pytest.fixture(scope="module")
def fitted():
    return SparseAutoencoderTransformer(
        n_components=N_COMPONENTS, max_iter=5, random_state=0
    ).fit(_uniform())


def _with(value, index=(1, 2), dtype=np.float64, sparse=None):
    X = _uniform().astype(dtype)
    X[index] = value
    return sp.csr_matrix(X) if sparse == "csr" else X


NAN_MESSAGE = "Input X contains NaN."
INF_MESSAGE = "Input X contains infinity or a value too large for dtype('{}')."

# (id, builder of the bad X, exception type, exact start of the message)
BAD_DATA = [
    ("nan", lambda: _with(np.nan), ValueError, NAN_MESSAGE),
    ("nan-float32", lambda: _with(np.nan, dtype=np.float32), ValueError, NAN_MESSAGE),
    ("nan-csr", lambda: _with(np.nan, sparse="csr"), ValueError, NAN_MESSAGE),
    ("inf", lambda: _with(np.inf), ValueError, INF_MESSAGE.format("float64")),
    ("-inf", lambda: _with(-np.inf), ValueError, INF_MESSAGE.format("float64")),
    (
        "inf-float32",
        lambda: _with(np.inf, dtype=np.float32),
        ValueError,
        INF_MESSAGE.format("float32"),
    ),
    (
        "inf-csr",
        lambda: _with(np.inf, sparse="csr"),
        ValueError,
        INF_MESSAGE.format("float64"),
    ),
    (
        "complex",
        lambda: _uniform() + 1j,
        ValueError,
        "Complex data not supported",
    ),
    (
        "complex-csr",
        lambda: sp.csr_matrix(_uniform() * (1 + 1j)),
        ValueError,
        "Complex data not supported",
    ),
    (
        "strings",
        lambda: np.array([["a", "b"], ["c", "d"]]),
        ValueError,
        "could not convert string to float",
    ),
    (
        "object-non-numeric",
        lambda: np.array([["a", 0.5], ["c", 0.2]], dtype=object),
        ValueError,
        "could not convert string to float: 'a'",
    ),
    (
        "0-samples",
        lambda: np.empty((0, N_FEATURES)),
        ValueError,
        f"Found array with 0 sample(s) (shape=(0, {N_FEATURES})) while a minimum "
        f"of 1 is required by {NAME}.",
    ),
    (
        "0-samples-csr",
        lambda: sp.csr_matrix((0, N_FEATURES)),
        ValueError,
        f"Found array with 0 sample(s) (shape=(0, {N_FEATURES})) while a minimum "
        f"of 1 is required by {NAME}.",
    ),
    (
        "1-D",
        lambda: _uniform()[0],
        ValueError,
        "Expected 2D array, got 1D array instead:",
    ),
    (
        "3-D",
        lambda: _uniform((4, 5, N_FEATURES)),
        ValueError,
        f"Found array with dim 3, while dim <= 2 is required by {NAME}.",
    ),
    (
        "ragged-list",
        lambda: [[0.1, 0.2, 0.3, 0.4, 0.5], [0.3]],
        ValueError,
        "setting an array element with a sequence. The requested array has an "
        "inhomogeneous shape",
    ),
    (
        "None",
        lambda: None,
        ValueError,
        "Expected 2D array, got scalar array instead:",
    ),
]

# Only fit can see a matrix without features: later calls first complain
# about the number of features.
FIT_ONLY_BAD_DATA = [
    (
        "0-features",
        lambda: np.empty((N_SAMPLES, 0)),
        ValueError,
        f"Found array with 0 feature(s) (shape=({N_SAMPLES}, 0)) while a minimum "
        f"of 1 is required by {NAME}.",
    ),
    (
        "0-features-csc",
        lambda: sp.csc_matrix((N_SAMPLES, 0)),
        ValueError,
        f"Found array with 0 feature(s) (shape=({N_SAMPLES}, 0)) while a minimum "
        f"of 1 is required by {NAME}.",
    ),
]


def _ids(cases):
    return [case[0] for case in cases]


@pytest.mark.parametrize(
    "make_X, error, message",
    [case[1:] for case in BAD_DATA + FIT_ONLY_BAD_DATA],
    ids=_ids(BAD_DATA + FIT_ONLY_BAD_DATA),
)
def test_fit_rejects_bad_data_before_optimising(
    make_X, error, message, no_optimisation
):
    X = _read_only(make_X())
    before = _checksum(X)
    sae = SparseAutoencoderTransformer(n_components=2)
    with pytest.raises(error, match="^" + re.escape(message)):
        sae.fit(X)
    assert _checksum(X) == before
    # a failed first fit leaves an unfitted estimator, without n_features_in_
    assert not hasattr(sae, "n_features_in_")
    with pytest.raises(NotFittedError):
        sae.transform(_uniform())


@pytest.mark.parametrize("method", ["transform", "score_samples", "score"])
@pytest.mark.parametrize(
    "make_X, error, message", [case[1:] for case in BAD_DATA], ids=_ids(BAD_DATA)
)
def test_methods_reject_bad_data(fitted, method, make_X, error, message):
    X = _read_only(make_X())
    before = _checksum(X)
    with pytest.raises(error, match="^" + re.escape(message)):
        getattr(fitted, method)(X)
    assert _checksum(X) == before


@pytest.mark.parametrize("method", ["transform", "score_samples", "score"])
@pytest.mark.parametrize("n_features", [1, N_FEATURES - 1, N_FEATURES + 1])
def test_methods_reject_a_different_number_of_features(fitted, method, n_features):
    X = _read_only(_uniform((4, n_features)))
    with pytest.raises(
        ValueError,
        match=re.escape(
            f"X has {n_features} features, but {NAME} is expecting "
            f"{N_FEATURES} features as input."
        ),
    ):
        getattr(fitted, method)(X)


@pytest.mark.parametrize("n_columns", [1, N_COMPONENTS - 1, N_COMPONENTS + 1])
def test_inverse_transform_rejects_a_wrong_number_of_columns(fitted, n_columns):
    A = _read_only(_uniform((4, n_columns)))
    before = _checksum(A)
    with pytest.raises(
        ValueError,
        match=re.escape(
            f"X has {n_columns} columns, but inverse_transform expects "
            f"n_components={N_COMPONENTS} columns (the hidden activations)."
        ),
    ):
        fitted.inverse_transform(A)
    assert _checksum(A) == before


INVERSE_BAD_DATA = [
    ("nan", lambda: np.full((2, N_COMPONENTS), np.nan), ValueError, NAN_MESSAGE),
    (
        "inf",
        lambda: np.full((2, N_COMPONENTS), np.inf),
        ValueError,
        INF_MESSAGE.format("float64"),
    ),
    (
        "1-D",
        lambda: np.full(N_COMPONENTS, 0.5),
        ValueError,
        "Expected 2D array, got 1D array instead:",
    ),
    (
        "0-samples",
        lambda: np.empty((0, N_COMPONENTS)),
        ValueError,
        f"Found array with 0 sample(s) (shape=(0, {N_COMPONENTS})) while a minimum "
        "of 1 is required.",
    ),
    (
        "complex",
        lambda: np.full((2, N_COMPONENTS), 0.5 + 1j),
        ValueError,
        "Complex data not supported",
    ),
    (
        "sparse",
        lambda: sp.csr_matrix(np.full((2, N_COMPONENTS), 0.5)),
        TypeError,
        "Sparse data was passed for X, but dense data is required.",
    ),
]


@pytest.mark.parametrize(
    "make_A, error, message",
    [case[1:] for case in INVERSE_BAD_DATA],
    ids=_ids(INVERSE_BAD_DATA),
)
def test_inverse_transform_rejects_bad_data(fitted, make_A, error, message):
    A = _read_only(make_A())
    before = _checksum(A)
    with pytest.raises(error, match="^" + re.escape(message)):
        fitted.inverse_transform(A)
    assert _checksum(A) == before


@pytest.fixture(scope="module")
def fitted_with_names():
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame(_uniform(), columns=list("abcde"))
    return (
        SparseAutoencoderTransformer(n_components=2, max_iter=3).fit(X),
        X,
    )


@pytest.mark.parametrize("method", ["transform", "score_samples"])
def test_feature_names_must_match_those_seen_in_fit(fitted_with_names, method):
    sae, X = fitted_with_names
    renamed = X.rename(columns={"a": "z"})
    with pytest.raises(
        ValueError,
        match=re.escape(
            "The feature names should match those that were passed during fit.\n"
            "Feature names unseen at fit time:\n- z\n"
            "Feature names seen at fit time, yet now missing:\n- a\n"
        ),
    ):
        getattr(sae, method)(renamed)
    with pytest.raises(
        ValueError,
        match=re.escape(
            "The feature names should match those that were passed during fit.\n"
            "Feature names must be in the same order as they were in fit.\n"
        ),
    ):
        getattr(sae, method)(X[list("bacde")])


def test_feature_names_present_on_one_side_only_warn(fitted_with_names):
    # scikit-learn warns (and does not raise) when names appear or disappear.
    sae, X = fitted_with_names
    with pytest.warns(
        UserWarning,
        match=re.escape(
            f"X does not have valid feature names, but {NAME} was fitted with "
            "feature names"
        ),
    ):
        sae.transform(X.to_numpy())
    unnamed = SparseAutoencoderTransformer(n_components=2, max_iter=3)
    unnamed.fit(X.to_numpy())
    with pytest.warns(
        UserWarning,
        match=re.escape(
            f"X has feature names, but {NAME} was fitted without feature names"
        ),
    ):
        unnamed.transform(X)


def _range_message(name, description, value):
    return re.escape(
        f"The {name!r} parameter of {NAME} must be {description}. "
        f"Got {value!r} instead."
    )


UNIT_OPEN = "a float in the range (0.0, 1.0)"
NON_NEGATIVE = "a float in the range [0.0, inf)"
AUTO_OR_NON_NEGATIVE = "a str among {'auto'} or a float in the range [0.0, inf)"
POSITIVE_INT = "an int in the range [1, inf)"
N_COMPONENTS_RANGE = "an int in the range [1, inf) or None"

INVALID_PARAMETERS = [
    ("rho", 0, UNIT_OPEN),
    ("rho", 0.0, UNIT_OPEN),
    ("rho", 1, UNIT_OPEN),
    ("rho", -0.1, UNIT_OPEN),
    ("rho", 1.5, UNIT_OPEN),
    ("rho", np.nan, UNIT_OPEN),
    ("rho", "0.1", UNIT_OPEN),
    ("beta", -1.0, NON_NEGATIVE),
    ("beta", np.inf, NON_NEGATIVE),
    ("beta", np.nan, NON_NEGATIVE),
    ("alpha", -1e-4, AUTO_OR_NON_NEGATIVE),
    ("alpha", np.inf, AUTO_OR_NON_NEGATIVE),
    ("alpha", np.nan, AUTO_OR_NON_NEGATIVE),
    ("alpha", "scale", AUTO_OR_NON_NEGATIVE),
    ("tol", -1.0, NON_NEGATIVE),
    ("tol", np.nan, NON_NEGATIVE),
    ("n_components", 0, N_COMPONENTS_RANGE),
    ("n_components", -1, N_COMPONENTS_RANGE),
    ("n_components", 2.5, N_COMPONENTS_RANGE),
    ("n_components", 2.0, N_COMPONENTS_RANGE),
    ("n_components", "3", N_COMPONENTS_RANGE),
    ("n_components", True, N_COMPONENTS_RANGE),
    ("max_iter", 0, POSITIVE_INT),
    ("max_iter", 1.5, POSITIVE_INT),
    ("max_iter", True, POSITIVE_INT),
    ("max_fun", 0, POSITIVE_INT),
    ("max_fun", np.True_, POSITIVE_INT),
    (
        "decoder_activation",
        "relu",
        "a str among {'identity', 'sigmoid'}",
    ),
    (
        "warm_start",
        "yes",
        "an instance of 'bool' or an instance of 'numpy.bool'",
    ),
    (
        "random_state",
        "seed",
        "an int in the range [0, 4294967295], an instance of "
        "'numpy.random.mtrand.RandomState' or None",
    ),
    (
        "verbose",
        -1,
        "an int in the range [0, inf), an instance of 'bool' or an instance of "
        "'numpy.bool'",
    ),
]


@pytest.mark.parametrize(
    "name, value, description",
    INVALID_PARAMETERS,
    ids=[f"{name}={value!r}" for name, value, _ in INVALID_PARAMETERS],
)
def test_invalid_parameters_are_rejected_by_fit(
    name, value, description, no_optimisation
):
    X = _read_only(_uniform())
    before = _checksum(X)
    sae = SparseAutoencoderTransformer(**{name: value})
    if name == "decoder_activation":
        # the order of a set's elements in the message is not fixed
        pattern = re.escape(f"The {name!r} parameter of {NAME} must be a str among")
    else:
        pattern = _range_message(name, description, value)
    with pytest.raises(InvalidParameterError, match=pattern) as excinfo:
        sae.fit(X)
    # InvalidParameterError is both a ValueError and a TypeError
    assert isinstance(excinfo.value, ValueError)
    assert isinstance(excinfo.value, TypeError)
    assert _checksum(X) == before
    assert not hasattr(sae, "n_features_in_")


NOT_FITTED = (
    f"This {NAME} instance is not fitted yet. Call 'fit' with appropriate "
    "arguments before using this estimator."
)


@pytest.mark.parametrize(
    "method, X",
    [
        ("transform", _uniform()),
        ("score_samples", _uniform()),
        ("score", _uniform()),
        ("inverse_transform", _uniform((4, N_COMPONENTS))),
        ("get_feature_names_out", None),
    ],
)
def test_methods_before_fit_raise_not_fitted_error(method, X):
    sae = SparseAutoencoderTransformer(n_components=N_COMPONENTS)
    args = () if X is None else (_read_only(X),)
    with pytest.raises(NotFittedError, match=re.escape(NOT_FITTED)):
        getattr(sae, method)(*args)


@pytest.mark.parametrize(
    "change, message",
    [
        (
            {"n_features": N_FEATURES - 1},
            "warm_start=True needs the same shape as the previous fit: it had "
            f"n_features={N_FEATURES} and n_components={N_COMPONENTS}, now X has "
            f"n_features={N_FEATURES - 1} and n_components={N_COMPONENTS}. "
            "Set warm_start=False to start from new random weights.",
        ),
        (
            {"n_components": N_COMPONENTS + 1},
            "warm_start=True needs the same shape as the previous fit: it had "
            f"n_features={N_FEATURES} and n_components={N_COMPONENTS}, now X has "
            f"n_features={N_FEATURES} and n_components={N_COMPONENTS + 1}. "
            "Set warm_start=False to start from new random weights.",
        ),
    ],
    ids=["n_features", "n_components"],
)
def test_warm_start_rejects_a_different_shape(change, message, monkeypatch):
    sae = SparseAutoencoderTransformer(
        n_components=N_COMPONENTS, max_iter=3, warm_start=True, random_state=0
    )
    sae.fit(_uniform())
    previous = pickle.dumps(sae)
    sae.set_params(n_components=change.get("n_components", N_COMPONENTS))
    X = _read_only(_uniform((N_SAMPLES, change.get("n_features", N_FEATURES))))
    before = _checksum(X)
    wrap_objective(monkeypatch, _fail)
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        sae.fit(X)
    assert _checksum(X) == before
    # the previous fit is intact (apart from the parameter we changed)
    sae.set_params(n_components=N_COMPONENTS)
    assert pickle.dumps(sae) == previous


def _unsorted_csr_with_duplicates():
    # Non-canonical CSR: unsorted column indices and a duplicated entry.
    data = np.array([0.5, 0.25, 0.125, 0.75, 0.5, 0.25])
    indices = np.array([3, 0, 3, 2, 1, 4])
    indptr = np.array([0, 3, 4, 6])
    return sp.csr_matrix((data, indices, indptr), shape=(3, N_FEATURES))


VALID_INPUTS = {
    "float64": lambda: _uniform(),
    "float32": lambda: _uniform().astype(np.float32),
    "int": lambda: (_uniform() > 0.5).astype(np.int64),
    "fortran": lambda: np.asfortranarray(_uniform()),
    "csr": lambda: sp.csr_matrix(_uniform() * (_uniform(seed=1) > 0.5)),
    "csc": lambda: sp.csc_matrix(_uniform() * (_uniform(seed=1) > 0.5)),
    "csr_array-float32": lambda: sp.csr_array(
        (_uniform() * (_uniform(seed=1) > 0.5)).astype(np.float32)
    ),
    "csr-non-canonical": _unsorted_csr_with_duplicates,
}


@pytest.mark.parametrize("make_X", VALID_INPUTS.values(), ids=VALID_INPUTS.keys())
def test_valid_read_only_input_is_never_modified(make_X):
    X = _read_only(make_X())
    before = _checksum(X)
    sae = SparseAutoencoderTransformer(
        n_components=N_COMPONENTS, max_iter=5, random_state=0
    )
    codes = sae.fit_transform(X)
    sae.score_samples(X)
    sae.score(X)
    codes = _read_only(codes)
    codes_before = _checksum(codes)
    sae.inverse_transform(codes)
    assert _checksum(X) == before
    assert _checksum(codes) == codes_before


def _saturating_weights(n_features, n_components=4):
    # Positive weights large enough that every unit's input exceeds 20 on
    # rows with a few hundred nonzero features.
    return np.full((n_features, n_components), 1.0), np.zeros(n_components)


@pytest.mark.parametrize("sparse", [False, True])
def test_saturation_advice_for_data_already_in_unit_interval(sparse):
    # Wide data in [0, 1]: rescaling it cannot help, so the warning must not
    # advise it.
    X = _uniform((50, 3000))
    X[X < 0.8] = 0.0
    X = sp.csr_matrix(X) if sparse else X
    with pytest.warns(UserWarning, match="hidden activations are saturated") as rec:
        warn_if_saturated(X, *_saturating_weights(3000))
    (message,) = [str(w.message) for w in rec]
    assert "Scale X" not in message and "MinMaxScaler" not in message
    assert "already in [0, 1]" in message and "3000 features" in message
    assert "alpha" in message


def test_saturation_advice_for_data_outside_unit_interval():
    X = 100.0 * _uniform((50, 30))
    with pytest.warns(UserWarning, match="hidden activations are saturated") as rec:
        warn_if_saturated(X, *_saturating_weights(30))
    (message,) = [str(w.message) for w in rec]
    assert "Scale X" in message and "already in [0, 1]" not in message


def test_wide_data_in_unit_interval_warns_without_scaling_advice():
    X = _uniform((100, 3000), seed=9)
    X[X < 0.8] = 0.0
    with pytest.warns(UserWarning, match="hidden activations are saturated") as rec:
        # A weight decay as small as this lets the weights grow to saturation.
        SparseAutoencoderTransformer(20, alpha=1e-4, random_state=0).fit(X)
    messages = [str(w.message) for w in rec if "saturated" in str(w.message)]
    assert messages and all("Scale X" not in message for message in messages)


@pytest.mark.parametrize(
    "method", ["transform", "transform-csr", "score_samples", "inverse_transform"]
)
def test_nan_under_assume_finite_is_named_outside_fit(fitted, method):
    X = _uniform()
    X[3, 2] = np.nan
    if method == "transform-csr":
        method, X = "transform", sp.csr_matrix(X)
    if method == "inverse_transform":
        X = np.full((2, N_COMPONENTS), np.nan)
    with config_context(assume_finite=True):
        with pytest.raises(ValueError, match="^Input X contains NaN or infinity"):
            getattr(fitted, method)(X)


def test_nan_under_assume_finite_is_named_by_the_detector():
    from skl_sparseae import SparseAutoencoderOutlierDetector

    detector = SparseAutoencoderOutlierDetector(
        n_components=N_COMPONENTS, max_iter=5, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        detector.fit(_uniform())
    X = _uniform()
    X[0, 0] = np.nan
    with config_context(assume_finite=True):
        for method in ("predict", "decision_function", "score_samples"):
            with pytest.raises(ValueError, match="^Input X contains NaN or infinity"):
                getattr(detector, method)(X)


def _saturating_data():
    # Large values drive every hidden unit's input far beyond the sigmoid's
    # slope: the fit stops with all units saturated.
    return np.random.RandomState(0).uniform(size=(60, 6)) * 1e4


def test_saturation_warning_for_a_dask_array():
    da = pytest.importorskip("dask.array")
    X = da.from_array(_saturating_data(), chunks=(20, 6))
    sae = SparseAutoencoderTransformer(
        3, decoder_activation="identity", max_iter=30, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with pytest.warns(UserWarning, match="saturated"):
            sae.fit(X)


def test_saturation_warning_for_an_array_api_array():
    xps = pytest.importorskip("array_api_strict")
    X = xps.asarray(_saturating_data(), device=xps.Device("device1"))
    sae = SparseAutoencoderTransformer(
        3, decoder_activation="identity", max_iter=30, random_state=0
    )
    with config_context(array_api_dispatch=True), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with pytest.warns(UserWarning, match="saturated"):
            sae.fit(X)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_too_wide_a_model_fails_early_with_the_estimate():
    # 20,000 features and the default n_components = 5,000: 200 million
    # weights, far more than any test machine holds with L-BFGS's history.
    X = np.zeros((50, 20_000))
    with pytest.raises(MemoryError, match=r"needs about .* GiB.*lower n_components"):
        SparseAutoencoderTransformer().fit(X)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_minmax_scaled_data_does_not_warn_about_its_range():
    X = np.random.RandomState(1).normal(size=(40, 6))
    X_scaled = MinMaxScaler().fit_transform(X)
    X_scaled[0, 0] = 1.0000000000000002  # what MinMaxScaler can produce
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        SparseAutoencoderTransformer(3, max_iter=5, random_state=0).fit(X_scaled)


@ignore_sparsity_missed
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_range_warning_prints_the_values_in_full():
    X = np.full((10, 3), 0.5)
    X[0, 0] = 1.0001
    with pytest.warns(UserWarning, match=re.escape("[0.5, 1.0001]")):
        SparseAutoencoderTransformer(2, max_iter=2, random_state=0).fit(X)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_saturated_hidden_units_warn():
    X = load_digits().data * 1000.0
    sae = SparseAutoencoderTransformer(
        16, decoder_activation="identity", max_iter=50, random_state=0
    )
    with pytest.warns(UserWarning, match="hidden activations are saturated"):
        sae.fit(X)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_well_scaled_fit_does_not_warn_about_saturation():
    X = load_digits().data / 16.0
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        SparseAutoencoderTransformer(
            16, rho=0.01, beta=3.0, max_iter=100, random_state=0
        ).fit(X)


def test_partial_fit_after_changing_n_components_gives_advice_that_works():
    X = _uniform()
    sae = SparseAutoencoderTransformer(
        n_components=N_COMPONENTS, solver="adam", random_state=0
    ).partial_fit(X)
    previous = pickle.dumps(sae)
    sae.set_params(n_components=N_COMPONENTS + 1)
    message = (
        "partial_fit needs the same shape as the previous fit: it had "
        f"n_features={N_FEATURES} and n_components={N_COMPONENTS}, now X has "
        f"n_features={N_FEATURES} and n_components={N_COMPONENTS + 1}. Set "
        f"n_components={N_COMPONENTS} back to continue this model, or start a new "
        "one from random weights: fit(), or partial_fit() on "
        "sklearn.base.clone(estimator)."
    )
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        sae.partial_fit(X)
    # warm_start does not matter to partial_fit: the advice must not be it.
    with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
        sae.set_params(warm_start=True).partial_fit(X)
    sae.set_params(warm_start=False)
    # Each piece of advice works.
    restarted = clone(sae).partial_fit(X)
    assert restarted.components_.shape == (N_COMPONENTS + 1, N_FEATURES)
    assert restarted.n_iter_ == 1
    refitted = pickle.loads(pickle.dumps(sae)).set_params(max_iter=2).fit(X)
    assert refitted.components_.shape == (N_COMPONENTS + 1, N_FEATURES)
    sae.set_params(n_components=N_COMPONENTS)
    assert pickle.dumps(sae) == previous
    assert sae.partial_fit(X).n_iter_ == 2
