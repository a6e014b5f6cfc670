"""Behaviour of SparseAutoencoderTransformer as users rely on it."""

import pickle
import re
import warnings

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler

from skl_sparseae import SparseAutoencoderTransformer

from ._helpers import (
    FITTED_ARRAYS,
    FITTED_ATTRIBUTES,
    ignore_convergence_warnings,
    ignore_sparsity_missed,
    objective_at_fitted_weights,
)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


@pytest.fixture
def small_data():
    return np.random.RandomState(0).uniform(size=(40, 10))


def test_fitted_attributes_have_documented_shapes(small_data):
    sae = SparseAutoencoderTransformer(n_components=6, random_state=0).fit(small_data)
    assert sae.components_.shape == (6, 10)
    assert sae.intercept_hidden_.shape == (6,)
    assert sae.decoder_components_.shape == (6, 10)
    assert sae.intercept_visible_.shape == (10,)
    assert sae.mean_activation_.shape == (6,)
    assert sae.n_features_in_ == 10
    assert len(sae.loss_curve_) == sae.n_iter_
    assert sae.loss_ == pytest.approx(sae.loss_curve_[-1])
    assert isinstance(sae.loss_, float)


@ignore_convergence_warnings  # three iterations are enough to see the shape
def test_default_n_components_is_a_quarter_of_the_features():
    X = np.random.RandomState(0).uniform(size=(20, 10))
    assert SparseAutoencoderTransformer(max_iter=3).fit(X).components_.shape[0] == 2
    X = np.random.RandomState(0).uniform(size=(20, 3))
    assert SparseAutoencoderTransformer(max_iter=3).fit(X).components_.shape[0] == 1


def test_loss_is_the_objective_at_the_fitted_weights(small_data):
    sae = SparseAutoencoderTransformer(
        n_components=4, rho=0.1, beta=2.0, alpha=1e-3, random_state=0
    ).fit(small_data)
    J, _ = objective_at_fitted_weights(sae, small_data)
    assert sae.loss_ == pytest.approx(J, rel=1e-10)
    np.testing.assert_allclose(
        sae.mean_activation_, sae.transform(small_data).mean(axis=0), rtol=1e-10
    )
    # L-BFGS decreases the objective from the random start.
    assert sae.loss_curve_[-1] < sae.loss_curve_[0]


def test_methods_follow_their_formulas(small_data):
    sae = SparseAutoencoderTransformer(n_components=4, random_state=0).fit(small_data)
    W1, b1 = sae.components_.T, sae.intercept_hidden_
    A = 1 / (1 + np.exp(-(small_data @ W1 + b1)))
    np.testing.assert_allclose(sae.transform(small_data), A, rtol=1e-12)
    X_hat = 1 / (1 + np.exp(-(A @ sae.decoder_components_ + sae.intercept_visible_)))
    np.testing.assert_allclose(sae.inverse_transform(A), X_hat, rtol=1e-12)
    expected_scores = -0.5 * np.sum((small_data - X_hat) ** 2, axis=1)
    np.testing.assert_allclose(sae.score_samples(small_data), expected_scores)
    assert sae.score(small_data) == pytest.approx(expected_scores.mean())
    assert np.all(sae.score_samples(small_data) <= 0)


def test_identity_decoder_is_linear(small_data):
    sae = SparseAutoencoderTransformer(
        n_components=4, decoder_activation="identity", random_state=0
    ).fit(small_data)
    A = sae.transform(small_data)
    expected = A @ sae.decoder_components_ + sae.intercept_visible_
    np.testing.assert_allclose(sae.inverse_transform(A), expected)


@ignore_convergence_warnings
def test_achieved_sparsity_on_digits(digits):
    X, _ = digits
    sae = SparseAutoencoderTransformer(rho=0.05, beta=3.0, random_state=0)
    sae.fit(X)
    assert abs(sae.mean_activation_.mean() - 0.05) < 0.01
    # and without the penalty the units are far from sparse
    dense = SparseAutoencoderTransformer(beta=0.0, max_iter=100, random_state=0)
    dense.fit(X)
    assert dense.mean_activation_.mean() > 0.1


@ignore_convergence_warnings
def test_pipeline_and_grid_search_over_rho_and_beta(digits):
    X, y = digits
    X, y = X[:600], y[:600]
    pipe = Pipeline(
        [
            (
                "sae",
                SparseAutoencoderTransformer(
                    n_components=24, max_iter=60, random_state=0
                ),
            ),
            ("clf", LogisticRegression(max_iter=500)),
        ]
    )
    search = GridSearchCV(
        pipe, {"sae__rho": [0.05, 0.2], "sae__beta": [0.5, 3.0]}, cv=2, n_jobs=2
    )
    search.fit(X, y)
    assert len(search.cv_results_["mean_test_score"]) == 4
    assert search.best_params_["sae__rho"] in (0.05, 0.2)
    assert search.best_score_ > 0.8


@pytest.mark.parametrize(
    "dump_load",
    [
        lambda est, path: pickle.loads(pickle.dumps(est)),
        lambda est, path: (joblib.dump(est, path), joblib.load(path))[1],
    ],
    ids=["pickle", "joblib"],
)
def test_persistence_round_trips(small_data, tmp_path, dump_load):
    sae = SparseAutoencoderTransformer(n_components=4, random_state=0).fit(small_data)
    restored = dump_load(sae, tmp_path / "sae.joblib")
    np.testing.assert_array_equal(
        restored.transform(small_data), sae.transform(small_data)
    )
    for name in FITTED_ATTRIBUTES:
        np.testing.assert_array_equal(getattr(restored, name), getattr(sae, name))


def test_same_random_state_gives_identical_weights(small_data):
    first = SparseAutoencoderTransformer(n_components=4, random_state=7).fit(small_data)
    second = clone(first).fit(small_data)
    np.testing.assert_array_equal(first.components_, second.components_)
    np.testing.assert_array_equal(first.decoder_components_, second.decoder_components_)
    other = SparseAutoencoderTransformer(n_components=4, random_state=8).fit(small_data)
    assert not np.array_equal(first.components_, other.components_)


def test_float32_stays_float32(small_data):
    X32 = small_data.astype(np.float32)
    # A fixed budget: both fits take the same number of steps.
    params = dict(n_components=4, random_state=0, tol=0, max_iter=400)
    sae = SparseAutoencoderTransformer(**params).fit(X32)
    for name in FITTED_ARRAYS:
        assert getattr(sae, name).dtype == np.float32, name
    codes = sae.transform(X32)
    assert codes.dtype == np.float32
    assert sae.inverse_transform(codes).dtype == np.float32
    assert sae.score_samples(X32).dtype == np.float32
    sae64 = SparseAutoencoderTransformer(**params).fit(small_data)
    np.testing.assert_allclose(
        sae.transform(X32), sae64.transform(small_data), atol=1e-2
    )


def test_integer_input_is_converted_to_float64():
    X = np.random.RandomState(0).randint(0, 2, size=(30, 6))
    sae = SparseAutoencoderTransformer(n_components=3, random_state=0).fit(X)
    assert sae.components_.dtype == np.float64
    assert sae.transform(X).dtype == np.float64


@ignore_convergence_warnings
@pytest.mark.parametrize(
    "container",
    [sp.csr_matrix, sp.csc_matrix, sp.csr_array, sp.csc_array],
    ids=lambda c: c.__name__,
)
def test_sparse_input_gives_the_dense_result(container):
    rng = np.random.RandomState(0)
    X = rng.uniform(size=(50, 12))
    X[X < 0.7] = 0
    # Few iterations: over hundreds, round-off differences between sparse and
    # dense products would be amplified by L-BFGS.
    sae = SparseAutoencoderTransformer(n_components=5, max_iter=15, random_state=0)
    dense = clone(sae).fit(X)
    sparse = clone(sae).fit(container(X))
    np.testing.assert_allclose(
        sparse.components_, dense.components_, rtol=1e-6, atol=1e-9
    )
    np.testing.assert_allclose(
        sparse.transform(container(X)), dense.transform(X), rtol=1e-6, atol=1e-9
    )
    np.testing.assert_allclose(
        sparse.score_samples(container(X)), dense.score_samples(X), rtol=1e-6
    )


@ignore_convergence_warnings  # max_iter=5: only the range warning is tested
def test_sigmoid_decoder_warns_once_about_data_outside_unit_interval():
    X = np.random.RandomState(0).normal(size=(30, 5))
    X_before = X.copy()
    with pytest.warns(UserWarning, match="MinMaxScaler") as record:
        SparseAutoencoderTransformer(max_iter=5, random_state=0).fit(X)
    range_warnings = [w for w in record if "decoder_activation" in str(w.message)]
    assert len(range_warnings) == 1
    np.testing.assert_array_equal(X, X_before)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        SparseAutoencoderTransformer(
            decoder_activation="identity", max_iter=5, random_state=0
        ).fit(X)
        SparseAutoencoderTransformer(max_iter=5, random_state=0).fit(
            MinMaxScaler().fit_transform(X)
        )


@ignore_sparsity_missed
def test_convergence_warning_on_max_iter(small_data):
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        sae = SparseAutoencoderTransformer(max_iter=2, random_state=0).fit(small_data)
    assert sae.n_iter_ == 2


def test_convergence_warning_on_max_fun(small_data):
    with pytest.warns(ConvergenceWarning, match=r"it reached max_fun=3 objective"):
        SparseAutoencoderTransformer(max_fun=3, random_state=0).fit(small_data)


LINE = re.compile(
    r"^\[SparseAutoencoderTransformer\] Iteration (\d+), loss = ([-+.\de]+)"
    r"(, validation score = [-+.\de]+)?(, reconstruction = .*mean activation = "
    r"[.\d]+, active units per sample = [.\d]+)?, time = \d+\.\d\ds$"
)
STOP = re.compile(
    r"^\[SparseAutoencoderTransformer\] Stopped after (\d+) iterations? "
    r"\(\d+\.\d\ds\): (.+)\.$"
)


def test_verbose_1_prints_every_tenth_iteration_and_why_it_stopped(small_data, capsys):
    sae = SparseAutoencoderTransformer(max_iter=25, tol=0, verbose=1, random_state=0)
    sae.fit(small_data)
    *lines, last = capsys.readouterr().out.strip().splitlines()
    matches = [LINE.match(line) for line in lines]
    assert all(matches), lines
    assert [int(m[1]) for m in matches] == [1, 10, 20]
    # No terms at verbose=1: short lines.
    assert not any(m[4] for m in matches)
    assert float(matches[-1][2]) == pytest.approx(sae.loss_curve_[19], rel=1e-5)
    stop = STOP.match(last)
    assert stop, last
    assert int(stop[1]) == sae.n_iter_ == 25
    assert stop[2] == "reached max_iter=25"


def test_verbose_2_prints_every_iteration_with_its_terms(small_data, capsys):
    sae = SparseAutoencoderTransformer(max_iter=3, tol=0, verbose=2, random_state=0)
    sae.fit(small_data)
    *lines, last = capsys.readouterr().out.strip().splitlines()
    matches = [LINE.match(line) for line in lines]
    assert all(matches), lines
    assert [int(m[1]) for m in matches] == [1, 2, 3]
    assert all(m[4] for m in matches)
    assert STOP.match(last)


def test_verbose_shows_the_held_out_score_and_the_stopping_rule(small_data, capsys):
    sae = SparseAutoencoderTransformer(
        max_iter=400, early_stopping=True, verbose=2, random_state=0
    )
    sae.fit(small_data)
    *lines, last = capsys.readouterr().out.strip().splitlines()
    matches = [LINE.match(line) for line in lines]
    assert all(m and m[3] for m in matches), lines
    scores = [float(m[3].split("= ")[1]) for m in matches]
    np.testing.assert_allclose(scores, sae.validation_scores_, rtol=1e-5)
    stop = STOP.match(last)
    assert stop and int(stop[1]) == sae.n_iter_ < 400
    assert stop[2].startswith("the held-out score improved by less than tol=")


@ignore_convergence_warnings  # max_iter=3: only the printing is tested
def test_verbose_0_prints_nothing(small_data, capsys):
    SparseAutoencoderTransformer(max_iter=3, random_state=0).fit(small_data)
    assert capsys.readouterr().out == ""


def test_inverse_transform_rejects_wrong_number_of_columns(small_data):
    sae = SparseAutoencoderTransformer(n_components=4, random_state=0).fit(small_data)
    with pytest.raises(ValueError, match="n_components=4"):
        sae.inverse_transform(np.zeros((3, 5)))


def test_get_feature_names_out(small_data):
    sae = SparseAutoencoderTransformer(n_components=3, random_state=0).fit(small_data)
    assert list(sae.get_feature_names_out()) == [
        "sparseautoencodertransformer0",
        "sparseautoencodertransformer1",
        "sparseautoencodertransformer2",
    ]


def test_set_output_pandas(small_data):
    pd = pytest.importorskip("pandas")
    sae = SparseAutoencoderTransformer(n_components=3, random_state=0)
    out = sae.set_output(transform="pandas").fit_transform(small_data)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == list(sae.get_feature_names_out())


@ignore_convergence_warnings
def test_warm_start_continues_from_previous_weights(small_data):
    sae = SparseAutoencoderTransformer(
        n_components=4, max_iter=5, warm_start=True, random_state=0
    )
    sae.fit(small_data)
    first_loss = sae.loss_
    sae.fit(small_data)
    # the second fit starts where the first stopped
    assert sae.loss_curve_[0] < first_loss + 1e-12
    with pytest.raises(ValueError, match="warm_start=True"):
        sae.fit(small_data[:, :5])


def test_non_finite_parameters_are_rejected(small_data):
    with pytest.raises(ValueError, match="beta"):
        SparseAutoencoderTransformer(beta=np.inf).fit(small_data)
    with pytest.raises(ValueError, match="rho"):
        SparseAutoencoderTransformer(rho=np.nan).fit(small_data)
