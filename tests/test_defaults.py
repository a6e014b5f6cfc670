"""The defaults: a weight decay computed from the data, the decoder scaling per
decoder, beta, and the warning when a fit misses its sparsity target."""

import inspect
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import config_context
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MinMaxScaler

from skl_sparseae import SparseAutoencoderOutlierDetector, SparseAutoencoderTransformer

from ._helpers import (
    SPARSITY_MISSED,
    ignore_convergence_warnings,
    ignore_sparsity_missed,
    objective_at_fitted_weights,
)

ESTIMATORS = [SparseAutoencoderTransformer, SparseAutoencoderOutlierDetector]


def _auto_alpha(X):
    """alpha="auto" as documented, written out with NumPy."""
    return 5e-5 * np.asarray(X, dtype=np.float64).var(axis=0).sum()


def _data(n_samples=60, n_features=10, seed=0):
    rng = np.random.RandomState(seed)
    # Features of different spreads, so that the variance's sum is not a
    # multiple of the feature count.
    return rng.uniform(size=(n_samples, n_features)) * np.linspace(0.1, 1, n_features)


@pytest.fixture(scope="module")
def digits():
    X, _ = load_digits(return_X_y=True)
    return MinMaxScaler().fit_transform(X)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_the_defaults_in_the_signature_and_the_docstring(Estimator):
    parameters = inspect.signature(Estimator).parameters
    assert parameters["alpha"].default == "auto"
    assert parameters["beta"].default == 3.0
    assert parameters["decoder_scaling"].default == "auto"
    assert parameters["rho"].default == 0.05
    doc = Estimator.__doc__
    assert 'alpha : "auto" or float, default="auto"' in doc
    assert "``5e-5 * X.var(axis=0).sum()``" in doc
    assert "beta : float, default=3.0" in doc
    assert 'decoder_scaling : "auto" or float, default="auto"' in doc
    assert "alpha_ : float" in doc


@ignore_convergence_warnings
@ignore_sparsity_missed
@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
@pytest.mark.parametrize("container", ["dense", "float32", "csr"])
def test_auto_alpha_is_the_total_variance_times_5e_5(solver, container):
    X = _data()
    X[X < 0.2] = 0.0
    expected = 5e-5 * X.var(axis=0).sum()
    if container == "float32":
        X = X.astype(np.float32)
        expected = 5e-5 * X.astype(np.float64).var(axis=0).sum()
    elif container == "csr":
        X = sp.csr_matrix(X)
    sae = SparseAutoencoderTransformer(
        n_components=3, solver=solver, max_iter=2, random_state=0
    ).fit(X)
    assert isinstance(sae.alpha_, float)
    assert sae.alpha_ == pytest.approx(expected, rel=1e-12)


@ignore_convergence_warnings
@ignore_sparsity_missed
@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_auto_alpha_of_a_dask_array(solver):
    da = pytest.importorskip("dask.array", reason="dask (the 'dask' extra)")
    X = _data(n_samples=90)
    X_dask = da.from_array(X, chunks=(25, X.shape[1]))
    sae = SparseAutoencoderTransformer(
        n_components=3, solver=solver, max_iter=2, random_state=0
    ).fit(X_dask)
    assert sae.alpha_ == pytest.approx(5e-5 * X.var(axis=0).sum(), rel=1e-12)


@ignore_convergence_warnings
@ignore_sparsity_missed
@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_auto_alpha_on_an_array_api_device(solver):
    xp = pytest.importorskip("array_api_strict", reason="array-api-strict")
    X = _data()
    # A fake device whose arrays refuse np.asarray: the variance is computed
    # there, not on a silent host copy.
    X_device = xp.asarray(X, device=xp.Device("device1"))
    with config_context(array_api_dispatch=True):
        sae = SparseAutoencoderTransformer(
            n_components=3, solver=solver, max_iter=2, random_state=0
        ).fit(X_device)
    assert sae.alpha_ == pytest.approx(5e-5 * X.var(axis=0).sum(), rel=1e-12)


@ignore_convergence_warnings
@ignore_sparsity_missed
@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_auto_alpha_uses_the_training_rows_of_early_stopping(solver):
    X = _data(n_samples=80)
    # Outlying rows, so that which rows are held out matters.
    X[::7] *= 5
    sae = SparseAutoencoderTransformer(
        n_components=3,
        solver=solver,
        # Rows scaled past [0, 1]: the identity decoder reconstructs them.
        decoder_activation="identity",
        max_iter=3,
        early_stopping=True,
        validation_fraction=0.25,
        random_state=0,
    ).fit(X)
    # The split the fit makes: its first draws from random_state.
    train, _ = train_test_split(
        np.arange(X.shape[0]), test_size=0.25, random_state=np.random.RandomState(0)
    )
    assert sae.alpha_ == pytest.approx(_auto_alpha(X[np.sort(train)]), rel=1e-12)
    assert sae.alpha_ != pytest.approx(_auto_alpha(X), rel=1e-3)


def test_partial_fit_keeps_the_first_calls_alpha():
    X = _data(n_samples=100)
    sae = SparseAutoencoderTransformer(
        n_components=3, solver="adam", decoder_activation="identity", random_state=0
    )
    sae.partial_fit(X[:50])
    first = sae.alpha_
    assert first == pytest.approx(_auto_alpha(X[:50]), rel=1e-12)
    sae.partial_fit(3 * X[50:])
    assert sae.alpha_ == first
    # fit computes it again, from its own rows.
    sae.set_params(max_iter=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sae.fit(3 * X)
    assert sae.alpha_ == pytest.approx(_auto_alpha(3 * X), rel=1e-12)


@ignore_convergence_warnings
@ignore_sparsity_missed
@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_auto_alpha_fits_as_that_float_alpha(solver):
    X = _data()
    params = dict(n_components=3, solver=solver, max_iter=15, tol=0, random_state=0)
    auto = SparseAutoencoderTransformer(**params).fit(X)
    fixed = SparseAutoencoderTransformer(alpha=auto.alpha_, **params).fit(X)
    assert fixed.alpha_ == auto.alpha_
    assert fixed.loss_curve_ == auto.loss_curve_
    np.testing.assert_array_equal(fixed.components_, auto.components_)


@ignore_convergence_warnings
@ignore_sparsity_missed
def test_a_float_alpha_is_alpha_and_the_objective_of_loss():
    X = _data()
    sae = SparseAutoencoderTransformer(
        n_components=3, alpha=1e-3, max_iter=15, tol=0, random_state=0
    ).fit(X)
    assert sae.alpha_ == 1e-3
    J, _ = objective_at_fitted_weights(sae, X)
    assert sae.loss_ == pytest.approx(J, rel=1e-12)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_constant_data_fits_with_zero_alpha(Estimator):
    X = np.full((30, 6), 0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = Estimator(n_components=2, random_state=0).fit(X)
    assert model.alpha_ == 0.0
    assert np.all(np.isfinite(model.components_))


@ignore_convergence_warnings
@ignore_sparsity_missed
def test_the_identity_decoders_auto_scaling_is_none():
    X = _data() - 0.5
    params = dict(n_components=3, decoder_activation="identity", max_iter=15, tol=0)
    auto = SparseAutoencoderTransformer(random_state=0, **params).fit(X)
    one = SparseAutoencoderTransformer(
        decoder_scaling=1.0, random_state=0, **params
    ).fit(X)
    assert auto.loss_curve_ == one.loss_curve_
    # With the sigmoid decoder "auto" is 1 / sqrt(rho).
    X = _data()
    params = dict(params, decoder_activation="sigmoid", rho=0.04, random_state=0)
    auto = SparseAutoencoderTransformer(**params).fit(X)
    five = SparseAutoencoderTransformer(decoder_scaling=5.0, **params).fit(X)
    assert auto.loss_curve_ == five.loss_curve_


@ignore_convergence_warnings
@ignore_sparsity_missed
def test_auto_scaling_of_the_identity_decoder_never_warns_of_its_range():
    X = _data() - 0.5
    sae = SparseAutoencoderTransformer(
        n_components=3, decoder_activation="identity", rho=1e-14, max_iter=2
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("error", "decoder_scaling", UserWarning)
        sae.fit(X)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_a_missed_sparsity_target_warns_once_with_the_remedy(digits, Estimator):
    model = Estimator(n_components=64, rho=0.01, beta=0.1, random_state=0)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        model.fit(digits)
    missed = [w for w in record if str(w.message).startswith(SPARSITY_MISSED)]
    assert len(missed) == 1
    (warning,) = missed
    assert warning.category is UserWarning
    assert warning.filename == __file__  # the caller's line, not the package's
    message = str(warning.message)
    ratio = float(np.mean(model.mean_activation_)) / 0.01
    assert ratio > 2.5
    assert f"{ratio:.3g} times the target rho=0.01" in message
    assert "raise beta" in message and "beta=0.1" in message


@pytest.mark.parametrize("rho", [0.01, 0.05])
@pytest.mark.parametrize("beta", [1, 3])
def test_the_readme_pipelines_fits_meet_their_sparsity_target(digits, rho, beta):
    # The README's grid: digits, MinMaxScaler, 64 units.
    model = SparseAutoencoderTransformer(
        n_components=64, rho=rho, beta=beta, random_state=0
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("error", SPARSITY_MISSED, UserWarning)
        model.fit(digits)


def test_partial_fit_never_warns_of_a_missed_sparsity_target(digits):
    model = SparseAutoencoderTransformer(
        n_components=64, rho=0.01, beta=0.01, solver="adam", random_state=0
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("error", SPARSITY_MISSED, UserWarning)
        for _ in range(3):
            model.partial_fit(digits)
    # The calls do miss rho by more than fit accepts.
    assert np.mean(model.mean_activation_) > 2.5 * 0.01


def test_a_plain_autoencoder_never_warns_of_a_missed_sparsity_target(digits):
    model = SparseAutoencoderTransformer(
        n_components=64, rho=0.01, beta=0.0, random_state=0
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("error", SPARSITY_MISSED, UserWarning)
        model.fit(digits)
    # beta=0 has no target to meet, and this one is missed.
    assert np.mean(model.mean_activation_) > 2.5 * 0.01


def test_auto_alpha_of_dask_arrays_whose_row_counts_are_unknown():
    # After a boolean mask dask knows the row counts only once the chunks are
    # computed; a mask may leave no rows at all, or chunks without rows.
    da = pytest.importorskip("dask.array")
    from skl_sparseae._backends._dask_fit import total_variance

    X = _data(n_samples=60)
    lazy = da.from_array(X, chunks=(16, X.shape[1]))
    kept = X[:, 0] > 0.05
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert total_variance(lazy[lazy[:, 0] > 0.05]) == pytest.approx(
            X[kept].var(axis=0).sum(), rel=1e-12
        )
        assert total_variance(lazy[lazy[:, 0] > 2]) == 0.0
        sparse = lazy.map_blocks(sp.csr_matrix)
        assert total_variance(sparse) == pytest.approx(X.var(axis=0).sum(), rel=1e-12)
