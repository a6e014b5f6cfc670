"""skl_sparseae.metrics: each figure against its formula, on every backend.

The reference figures are written here in plain NumPy from the fitted
weights (whole arrays, no blocks), as the docstrings define them. The
backends: NumPy arrays, CSR matrices, dask arrays (several row and column
chunks) and array-api-strict on its fake device ``device1``, whose arrays
refuse ``np.asarray`` and so catch silent host copies.
"""

# SPDX-License-Identifier: BSD-3-Clause

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import expit
from sklearn import config_context
from sklearn.exceptions import NotFittedError, UndefinedMetricWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler
from sklearn.utils._param_validation import InvalidParameterError

from skl_sparseae import (
    SparseAutoencoderOutlierDetector,
    SparseAutoencoderTransformer,
    move_estimator_to,
)
from skl_sparseae.metrics import (
    fraction_variance_explained,
    sparsest_within,
    sparsity_gap,
    unit_activity,
    unsupervised_scorers,
)

N_SAMPLES, N_FEATURES, N_COMPONENTS = 90, 7, 6
CONSTANT_FEATURE, DEAD_UNIT, DENSE_UNIT = 3, 0, 1
PARAMS = dict(n_components=N_COMPONENTS, rho=0.1, beta=2.0, max_iter=30, tol=0)


def make_data(seed=0, n_samples=N_SAMPLES):
    """Values in [0, 1), about a third of them zero, one constant feature.

    The constant is 0.1, whose mean over the rows is not 0.1 exactly: a
    variance computed from it is tiny, not zero.
    """
    X = np.random.RandomState(seed).uniform(size=(n_samples, N_FEATURES))
    X[X < 0.35] = 0.0
    X[:, CONSTANT_FEATURE] = 0.1
    return X


def fitted(estimator_class, X, **params):
    """A short fit, then one unit forced off and one forced on everywhere."""
    model = estimator_class(**{**PARAMS, "random_state": 0, **params}).fit(X)
    model.intercept_hidden_[DEAD_UNIT] = -40.0
    model.intercept_hidden_[DENSE_UNIT] = 40.0
    return model


# --------------------------------------------------------------------------
# The reference figures, from the definitions.


def reference(model, X, threshold=0.1, dense_fraction=0.5):
    X = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    W1, b1 = model.components_.astype(np.float64), model.intercept_hidden_
    W2, b2 = model.decoder_components_.astype(np.float64), model.intercept_visible_
    A = expit(X @ W1.T + b1)
    Z = A @ W2 + b2
    X_hat = expit(Z) if model.decoder_activation == "sigmoid" else Z
    errors = ((X - X_hat) ** 2).sum(axis=0)
    scatter = ((X - X.mean(axis=0)) ** 2).sum(axis=0)
    constant = X.max(axis=0) == X.min(axis=0)
    per_feature = np.full(X.shape[1], np.nan)
    per_feature[~constant] = 1 - errors[~constant] / scatter[~constant]

    rho, rho_hat = model.rho, A.mean(axis=0)
    eps = np.finfo(model.components_.dtype).eps
    clipped = np.clip(rho_hat, eps, 1 - eps)
    kl = rho * np.log(rho / clipped) + (1 - rho) * np.log((1 - rho) / (1 - clipped))

    active = A > threshold
    fractions = active.mean(axis=0)
    return {
        "fve": 1 - errors.sum() / scatter[~constant].sum(),
        "per_feature": per_feature,
        "kl_divergence": kl.sum(),
        "max_abs_deviation": np.abs(rho_hat - rho).max(),
        "mean_activation": rho_hat,
        "mean_active_units": active.sum(axis=1).mean(),
        "active_fraction": fractions,
        "dead_units": np.flatnonzero(fractions == 0),
        "dense_units": np.flatnonzero(fractions > dense_fraction),
    }


def figures(model, X, **activity_options):
    """Every figure of the metrics module, as host values, and the arrays."""
    per_feature = fraction_variance_explained(model, X, per_feature=True)
    gap = sparsity_gap(model, X)
    activity = unit_activity(model, X, **activity_options)
    arrays = {
        "per_feature": per_feature,
        "mean_activation": gap.mean_activation,
        "active_fraction": activity.active_fraction,
        "dead_units": activity.dead_units,
        "dense_units": activity.dense_units,
    }
    scalars = {
        "fve": fraction_variance_explained(model, X),
        "kl_divergence": gap.kl_divergence,
        "max_abs_deviation": gap.max_abs_deviation,
        "mean_active_units": activity.mean_active_units,
    }
    return scalars, arrays


def assert_figures(scalars, arrays, expected, rtol, to_host=np.asarray):
    for name, value in scalars.items():
        assert type(value) is float, name
        assert value == pytest.approx(expected[name], rel=rtol, abs=1e-12), name
    for name, value in arrays.items():
        host = to_host(value)
        if name.endswith("_units"):
            assert host.dtype == np.int64, name
            assert_array_equal(host, expected[name], err_msg=name)
        else:
            assert host.dtype == np.float64, name
            assert_allclose(host, expected[name], rtol=rtol, atol=1e-12, err_msg=name)


# --------------------------------------------------------------------------
# Every backend, both estimators.

ESTIMATORS = [SparseAutoencoderTransformer, SparseAutoencoderOutlierDetector]


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
@pytest.mark.parametrize("container", ["numpy", "csr_matrix", "csr_array"])
def test_figures_match_the_formulas_in_memory(estimator_class, container):
    X = make_data()
    model = fitted(estimator_class, X)
    expected = reference(model, X)
    # The forced units are what the test means them to be.
    assert_array_equal(expected["dead_units"], [DEAD_UNIT])
    assert DENSE_UNIT in expected["dense_units"]
    assert np.isnan(expected["per_feature"][CONSTANT_FEATURE])
    data = X if container == "numpy" else getattr(sp, container)(X)
    scalars, arrays = figures(model, data)
    assert_figures(scalars, arrays, expected, rtol=1e-10)


def test_many_blocks_equal_one(monkeypatch):
    # Blocks of 8 rows: the pairwise combination of means and sums of
    # squares gives the whole-array figures.
    import skl_sparseae._inference as inference

    X = make_data()
    model = fitted(SparseAutoencoderTransformer, X)
    monkeypatch.setattr(inference, "row_batch_size", lambda *args: 8)
    for data in (X, sp.csr_matrix(X)):
        scalars, arrays = figures(model, data)
        assert_figures(scalars, arrays, reference(model, X), rtol=1e-10)


def test_threshold_and_dense_fraction():
    X = make_data()
    model = fitted(SparseAutoencoderTransformer, X)
    for threshold, dense_fraction in [(0.5, 0.0), (0.02, 0.9), (0.9, 0.3)]:
        activity = unit_activity(
            model, X, threshold=threshold, dense_fraction=dense_fraction
        )
        expected = reference(model, X, threshold, dense_fraction)
        assert activity.mean_active_units == pytest.approx(
            expected["mean_active_units"]
        )
        assert_allclose(activity.active_fraction, expected["active_fraction"])
        assert_array_equal(activity.dead_units, expected["dead_units"])
        assert_array_equal(activity.dense_units, expected["dense_units"])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float32_data_and_model(dtype):
    X = make_data().astype(dtype)
    model = fitted(SparseAutoencoderTransformer, X)
    assert model.components_.dtype == dtype
    scalars, arrays = figures(model, X)
    rtol = 1e-4 if dtype == np.float32 else 1e-10
    assert_figures(scalars, arrays, reference(model, X), rtol=rtol)


def test_identity_decoder():
    X = make_data() - 0.5
    model = fitted(SparseAutoencoderTransformer, X, decoder_activation="identity")
    scalars, arrays = figures(model, X)
    assert_figures(scalars, arrays, reference(model, X), rtol=1e-10)


def test_overall_fraction_is_r2_without_constant_features():
    # Without a constant feature the overall fraction is r2_score's
    # variance-weighted coefficient of the reconstruction, per feature its
    # raw values.
    X = np.random.RandomState(1).uniform(size=(60, 5))
    model = SparseAutoencoderTransformer(random_state=0, **PARAMS).fit(X)
    X_hat = model.inverse_transform(model.transform(X))
    assert fraction_variance_explained(model, X) == pytest.approx(
        r2_score(X, X_hat, multioutput="variance_weighted"), rel=1e-12
    )
    assert_allclose(
        fraction_variance_explained(model, X, per_feature=True),
        r2_score(X, X_hat, multioutput="raw_values"),
        rtol=1e-12,
    )


def test_kl_divergence_is_the_sparsity_term_of_the_objective():
    # On its training data an L-BFGS fit's loss_ is J at the fitted weights:
    # reconstruction (-score) + weight decay + beta * kl_divergence.
    X = make_data()
    model = SparseAutoencoderTransformer(random_state=0, **PARAMS).fit(X)
    gap = sparsity_gap(model, X)
    decay = (
        0.5
        * model.alpha_
        * (np.sum(model.components_**2) + np.sum(model.decoder_components_**2))
    )
    assert model.loss_ == pytest.approx(
        -model.score(X) + decay + model.beta * gap.kl_divergence, rel=1e-9
    )
    assert_allclose(gap.mean_activation, model.mean_activation_, rtol=1e-12)


# --------------------------------------------------------------------------
# Dask arrays: one pass, computed.


@pytest.fixture
def dask_array():
    return pytest.importorskip(
        "dask.array", reason="the dask extra (pip install '.[dask]') is needed"
    )


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_dask_array_matches_the_formulas(dask_array, estimator_class):
    X = make_data()
    model = fitted(estimator_class, X)
    # Uneven row chunks, and column chunks that are merged into whole rows.
    scalars, arrays = figures(model, dask_array.from_array(X, chunks=(25, 4)))
    for value in arrays.values():
        assert isinstance(value, np.ndarray)
    assert_figures(scalars, arrays, reference(model, X), rtol=1e-10)


@pytest.mark.parametrize(
    "metric", [fraction_variance_explained, sparsity_gap, unit_activity]
)
def test_dask_array_is_read_once(dask_array, metric):
    import dask

    X = make_data()
    model = fitted(SparseAutoencoderTransformer, X)
    reads = []

    def load(block):
        reads.append(block.shape[0])
        return block

    lazy = dask_array.from_array(X, chunks=(25, N_FEATURES)).map_blocks(
        load, dtype=X.dtype, meta=np.empty((0, 0))
    )
    assert reads == []
    with dask.config.set(scheduler="synchronous"):
        metric(model, lazy)
    # Each of the four chunks exactly once.
    assert sorted(reads) == [15, 25, 25, 25]


def test_dask_array_on_a_cluster(two_workers, dask_array):
    X = make_data()
    model = fitted(SparseAutoencoderTransformer, X)
    scalars, arrays = figures(model, dask_array.from_array(X, chunks=(30, N_FEATURES)))
    assert_figures(scalars, arrays, reference(model, X), rtol=1e-10)


def test_dask_array_without_rows(dask_array):
    model = fitted(SparseAutoencoderTransformer, make_data())
    empty = dask_array.zeros((0, N_FEATURES), chunks=(10, N_FEATURES))
    with pytest.raises(ValueError, match="Found array with 0 sample"):
        unit_activity(model, empty)


# --------------------------------------------------------------------------
# Array API: array-api-strict on its fake device.


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_array_api_device(estimator_class, dtype):
    xps = pytest.importorskip("array_api_strict")
    from skl_sparseae._objective import to_numpy

    device = xps.Device("device1")
    X = make_data().astype(dtype)
    model = fitted(estimator_class, X)
    expected = reference(model, X)
    on_device = move_estimator_to(model, xps, device)
    X_device = xps.asarray(X, device=device)
    with config_context(array_api_dispatch=True):
        scalars, arrays = figures(on_device, X_device)
        for name, value in arrays.items():
            assert isinstance(value, type(X_device)), name
            assert value.device == device, name
        rtol = 1e-4 if dtype == "float32" else 1e-10
        assert_figures(scalars, arrays, expected, rtol=rtol, to_host=to_numpy)


def test_array_api_data_with_a_numpy_model_is_refused():
    xps = pytest.importorskip("array_api_strict")
    X = make_data()
    model = fitted(SparseAutoencoderTransformer, X)
    X_device = xps.asarray(X, device=xps.Device("device1"))
    with config_context(array_api_dispatch=True):
        with pytest.raises(ValueError, match="same namespace and the same device"):
            unit_activity(model, X_device)


# --------------------------------------------------------------------------
# Pipelines.


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_pipeline_transforms_x_through_the_earlier_steps(estimator_class):
    X_raw = 10.0 * make_data() + 3.0
    pipe = make_pipeline(MinMaxScaler(), estimator_class(random_state=0, **PARAMS))
    pipe.fit(X_raw)
    model, X = pipe[-1], pipe[0].transform(X_raw)
    scalars, arrays = figures(pipe, X_raw)
    assert_figures(scalars, arrays, reference(model, X), rtol=1e-10)


def test_pipeline_must_end_with_a_sparse_autoencoder():
    X = make_data()
    pipe = make_pipeline(
        SparseAutoencoderTransformer(random_state=0, **PARAMS),
        LogisticRegression(),
    ).fit(X, np.arange(len(X)) % 2)
    with pytest.raises(TypeError, match="last step is a SparseAutoencoderTransformer"):
        unit_activity(pipe, X)


# --------------------------------------------------------------------------
# Undefined figures and invalid input.


def test_constant_data_has_no_fraction_to_explain():
    model = fitted(SparseAutoencoderTransformer, make_data())
    for X in (np.full((5, N_FEATURES), 0.3), make_data()[:1]):
        with pytest.warns(UndefinedMetricWarning, match="every feature of X"):
            assert np.isnan(fraction_variance_explained(model, X))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            per_feature = fraction_variance_explained(model, X, per_feature=True)
        assert np.isnan(per_feature).all()


def test_refuses_other_estimators_and_unfitted_models():
    X = make_data()
    with pytest.raises(TypeError, match="needs a fitted SparseAutoencoderTransformer"):
        sparsity_gap(LogisticRegression(), X)
    with pytest.raises(NotFittedError):
        sparsity_gap(SparseAutoencoderTransformer(), X)
    with pytest.raises(NotFittedError):
        unit_activity(make_pipeline(MinMaxScaler(), SparseAutoencoderTransformer()), X)


def test_refuses_data_of_another_width():
    model = fitted(SparseAutoencoderTransformer, make_data())
    with pytest.raises(ValueError, match="X has 3 features"):
        fraction_variance_explained(model, make_data()[:, :3])


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda m, X: unit_activity(m, X, threshold=0.0), "'threshold' parameter"),
        (lambda m, X: unit_activity(m, X, threshold=1.0), "'threshold' parameter"),
        (
            lambda m, X: unit_activity(m, X, dense_fraction=1.0),
            "'dense_fraction' parameter",
        ),
        (
            lambda m, X: fraction_variance_explained(m, X, per_feature="yes"),
            "'per_feature' parameter",
        ),
        (lambda m, X: unsupervised_scorers(threshold=2), "'threshold' parameter"),
        (lambda m, X: sparsest_within(-0.1), "'tolerance' parameter"),
        (lambda m, X: sparsest_within(sparsity=3), "'sparsity' parameter"),
    ],
)
def test_invalid_parameters(call, message):
    model = fitted(SparseAutoencoderTransformer, make_data())
    with pytest.raises(InvalidParameterError, match=message):
        call(model, make_data())


# --------------------------------------------------------------------------
# Scorers and the refit rule.


def test_scorers_are_the_figures_with_greater_is_better():
    X = make_data()
    pipe = make_pipeline(
        MinMaxScaler(), SparseAutoencoderTransformer(random_state=0, **PARAMS)
    ).fit(X)
    scorers = unsupervised_scorers(threshold=0.3)
    assert sorted(scorers) == [
        "neg_kl_divergence",
        "neg_mean_active_units",
        "variance_explained",
    ]
    assert scorers["variance_explained"](pipe, X) == fraction_variance_explained(
        pipe, X
    )
    assert (
        scorers["neg_mean_active_units"](pipe, X, None)
        == -unit_activity(pipe, X, threshold=0.3).mean_active_units
    )
    assert scorers["neg_kl_divergence"](pipe, X) == -sparsity_gap(pipe, X).kl_divergence
    assert "threshold=0.3" in repr(scorers["neg_mean_active_units"])


def _cv_results(variance_explained, neg_mean_active_units):
    return {
        "mean_test_variance_explained": np.array(variance_explained),
        "mean_test_neg_mean_active_units": np.array(neg_mean_active_units),
    }


@pytest.mark.parametrize(
    "tolerance, reconstruction, sparsity, expected",
    [
        # The best reconstruction alone.
        (0.0, [0.9, 0.8, 0.7], [-10, -5, -2], 0),
        # Within 0.15 of 0.9: the sparser of the first two.
        (0.15, [0.9, 0.8, 0.7], [-10, -5, -2], 1),
        (0.25, [0.9, 0.8, 0.7], [-10, -5, -2], 2),
        # Equally sparse: the better reconstruction, then the first.
        (0.5, [0.7, 0.9, 0.9], [-3, -3, -3], 1),
        # Failed fits (NaN) are left out, whichever score is missing.
        (0.5, [np.nan, 0.8, 0.9], [-1, -5, np.nan], 1),
    ],
)
def test_sparsest_within_picks(tolerance, reconstruction, sparsity, expected):
    refit = sparsest_within(tolerance)
    index = refit(_cv_results(reconstruction, sparsity))
    assert index == expected and type(index) is int


def test_sparsest_within_names_missing_scores():
    with pytest.raises(ValueError, match="needs the score 'variance_explained'"):
        sparsest_within()({"mean_test_score": np.array([1.0])})
    with pytest.raises(ValueError, match="no candidate with both scores"):
        sparsest_within()(_cv_results([np.nan], [-1.0]))
    refit = sparsest_within(0.1, reconstruction="r", sparsity="s")
    assert refit({"mean_test_r": [0.5, 0.45], "mean_test_s": [1.0, 2.0]}) == 1
    assert (
        repr(refit)
        == "sparsest_within(tolerance=0.1, reconstruction='r', sparsity='s')"
    )


def test_unsupervised_grid_search_on_a_pipeline():
    # beta=0 reconstructs best and is the least sparse; a tolerance that
    # admits the beta > 0 models picks the sparsest of them.
    X = make_data(n_samples=120)
    pipe = make_pipeline(
        MinMaxScaler(), SparseAutoencoderTransformer(random_state=0, **PARAMS)
    )
    search = GridSearchCV(
        pipe,
        {"sparseautoencodertransformer__beta": [0.0, 1.0, 3.0]},
        scoring=unsupervised_scorers(),
        refit=sparsest_within(1.0),
        cv=3,
    ).fit(X)
    results = search.cv_results_
    reconstruction = results["mean_test_variance_explained"]
    active = -results["mean_test_neg_mean_active_units"]
    assert np.argmax(reconstruction) == 0 and np.argmax(active) == 0
    assert search.best_index_ == np.argmin(active) != 0
    # The refitted pipeline is scored like any other.
    assert search.best_estimator_[-1].beta == [0.0, 1.0, 3.0][search.best_index_]
    assert np.isfinite(fraction_variance_explained(search.best_estimator_, X))


def test_cross_validate_with_one_scorer_and_with_all():
    X = make_data(n_samples=60)
    sae = SparseAutoencoderTransformer(random_state=0, **PARAMS)
    one = cross_validate(sae, X, scoring=unsupervised_scorers()["variance_explained"])
    assert one["test_score"].shape == (5,)
    folds = cross_validate(sae, X, scoring=unsupervised_scorers(), cv=2)
    assert np.all(folds["test_neg_mean_active_units"] <= 0)
    assert np.all(folds["test_neg_kl_divergence"] <= 0)


# --------------------------------------------------------------------------
# Docstrings.


@pytest.mark.parametrize(
    "name",
    [
        "fraction_variance_explained",
        "sparsity_gap",
        "unit_activity",
        "unsupervised_scorers",
        "sparsest_within",
    ],
)
def test_docstring(name):
    numpydoc_validate = pytest.importorskip(
        "numpydoc.validate", reason="numpydoc (the 'test' extra) validates docstrings"
    )
    from .test_docstrings import IGNORED

    errors = [
        f"{code}: {message}"
        for code, message in numpydoc_validate.validate(f"skl_sparseae.metrics.{name}")[
            "errors"
        ]
        if code not in IGNORED
    ]
    assert not errors, "\n".join(errors)
