"""Tests of SparseAutoencoderOutlierDetector (its estimator checks are in
tests/test_sklearn_compatibility.py)."""

# SPDX-License-Identifier: BSD-3-Clause

import inspect
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, PredefinedSplit
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from skl_sparseae import SparseAutoencoderOutlierDetector, SparseAutoencoderTransformer
from skl_sparseae._outlier_detector import tukey_lower_fence

from ._helpers import FITTED_ATTRIBUTES, fit_quietly


@pytest.fixture(scope="module")
def digits_split():
    """Digits 0-4 to train on; held-out 0-4 (+1) and 5-9 (-1) to validate."""
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    rng = np.random.RandomState(0)
    normal = np.flatnonzero(y <= 4)
    rng.shuffle(normal)
    train, held_out = normal[:600], normal[600:800]
    unseen = rng.choice(np.flatnonzero(y > 4), size=100, replace=False)
    X_val = np.vstack([X[held_out], X[unseen]])
    y_val = np.r_[np.ones(len(held_out)), -np.ones(len(unseen))].astype(int)
    return X[train], X_val, y_val


def _detector(**params):
    return SparseAutoencoderOutlierDetector(
        **{"n_components": 16, "beta": 3.0, "max_iter": 80, "random_state": 0, **params}
    )


def test_parameters_are_the_transformers_plus_contamination():
    # A parameter added to the transformer must be added here too, with the
    # same default and the same constraint.
    detector = inspect.signature(SparseAutoencoderOutlierDetector).parameters
    transformer = inspect.signature(SparseAutoencoderTransformer).parameters
    assert list(detector) == list(transformer) + ["contamination"]
    for name, parameter in transformer.items():
        assert detector[name].default == parameter.default
        assert detector[name].kind == parameter.kind
    assert detector["contamination"].default == "auto"
    constraints = SparseAutoencoderOutlierDetector._parameter_constraints
    assert {
        k: v for k, v in constraints.items() if k != "contamination"
    } == SparseAutoencoderTransformer._parameter_constraints


@pytest.mark.parametrize("early_stopping", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_attributes_equal_the_transformers(digits_split, dtype, early_stopping):
    # The detector is the transformer's fit, not a second implementation.
    X = digits_split[0].astype(dtype)
    params = dict(n_components=16, beta=3.0, max_iter=40, random_state=0)
    params["early_stopping"] = early_stopping
    detector = fit_quietly(SparseAutoencoderOutlierDetector(**params), X)
    transformer = fit_quietly(SparseAutoencoderTransformer(**params), X)
    attributes = FITTED_ATTRIBUTES + ("validation_scores_", "best_validation_score_")
    for name in attributes:
        expected = getattr(transformer, name)
        got = getattr(detector, name)
        if isinstance(expected, np.ndarray):
            assert got.dtype == expected.dtype, name
            assert_array_equal(got, expected, err_msg=name)
        else:
            assert got == expected, name
    assert_array_equal(detector.score_samples(X), transformer.score_samples(X))
    assert detector.score_samples(X).dtype == dtype


def test_decision_function_and_predict_agree(digits_split):
    X_train, X_val, _ = digits_split
    detector = fit_quietly(_detector(contamination=0.1), X_train)
    for X in (X_train, X_val):
        scores = detector.score_samples(X)
        decision = detector.decision_function(X)
        assert_allclose(decision, scores - detector.offset_, rtol=0, atol=0)
        labels = detector.predict(X)
        assert labels.dtype == np.int64
        assert_array_equal(labels, np.where(decision < 0, -1, 1))
    # fit_predict (OutlierMixin) is fit followed by predict on the same rows.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        labels = _detector(contamination=0.1).fit_predict(X_train)
    assert_array_equal(labels, detector.predict(X_train))


@pytest.mark.parametrize("contamination", [0.01, 0.1, 0.25, 0.5])
def test_contamination_flags_that_fraction_of_training_rows(
    digits_split, contamination
):
    X_train = digits_split[0]
    detector = fit_quietly(_detector(contamination=contamination), X_train)
    scores = detector.score_samples(X_train)
    # The percentile, exactly as IsolationForest computes it.
    assert detector.offset_ == np.percentile(scores, 100 * contamination)
    flagged = np.mean(detector.predict(X_train) == -1)
    assert abs(flagged - contamination) <= 1 / len(X_train)


def test_auto_is_tukeys_lower_fence(digits_split):
    X_train, X_val, y_val = digits_split
    detector = fit_quietly(_detector(), X_train)
    scores = detector.score_samples(X_train)
    q1, q3 = np.percentile(scores, [25, 75])
    assert detector.offset_ == pytest.approx(q1 - 1.5 * (q3 - q1), rel=1e-12)
    # Flags the long tail of the training errors (a few percent here), not
    # half of them, and most unseen digits.
    flagged_train = np.mean(detector.predict(X_train) == -1)
    assert 0.005 < flagged_train < 0.15
    labels = detector.predict(X_val)
    assert np.mean(labels[y_val == -1] == -1) > 0.5
    assert np.mean(labels[y_val == 1] == -1) < 0.2


def test_tukey_lower_fence():
    assert tukey_lower_fence(np.arange(5.0)) == pytest.approx(1 - 1.5 * 2)
    # Constant scores: the fence is that constant and nothing is below it.
    assert tukey_lower_fence(np.full(7, -3.0)) == -3.0


def test_unseen_classes_score_lower(digits_split):
    X_train, X_val, y_val = digits_split
    detector = fit_quietly(_detector(), X_train)
    assert roc_auc_score(y_val, detector.decision_function(X_val)) > 0.9


def test_sparse_input_gives_dense_results(digits_split):
    X_train, X_val, _ = digits_split
    dense = fit_quietly(_detector(contamination=0.1), X_train)
    sparse = fit_quietly(_detector(contamination=0.1), sp.csr_matrix(X_train))
    # Sparse and dense products round differently; 80 L-BFGS iterations
    # amplify that to about 1e-8.
    assert sparse.offset_ == pytest.approx(dense.offset_, rel=1e-6)
    assert_allclose(
        sparse.decision_function(sp.csr_matrix(X_val)),
        dense.decision_function(X_val),
        rtol=0,
        atol=1e-6 * np.abs(dense.offset_),
    )


def test_warm_start_continues_from_the_detectors_weights(digits_split):
    X_train = digits_split[0]
    detector = fit_quietly(_detector(max_iter=10, warm_start=True), X_train)
    first_loss = detector.loss_
    fit_quietly(detector, X_train)
    # The second fit starts from the first one's weights, as the
    # transformer's warm start does.
    reference = fit_quietly(
        SparseAutoencoderTransformer(
            n_components=16, beta=3.0, max_iter=10, random_state=0, warm_start=True
        ),
        X_train,
    )
    fit_quietly(reference, X_train)
    assert detector.loss_ < first_loss
    assert_array_equal(detector.components_, reference.components_)
    assert detector.loss_curve_ == reference.loss_curve_
    # A cold start from the same seed gives the first fit again.
    detector.set_params(warm_start=False)
    fit_quietly(detector, X_train)
    assert detector.loss_ == first_loss


def test_warm_start_shape_mismatch_is_the_transformers_error(digits_split):
    X_train = digits_split[0]
    detector = fit_quietly(_detector(max_iter=5, warm_start=True), X_train)
    before = detector.components_
    with pytest.raises(ValueError, match="warm_start=True needs the same shape"):
        fit_quietly(detector, X_train[:, :32])
    # A failed fit leaves the detector as it was.
    assert detector.components_ is before and detector.n_features_in_ == 64


def test_refit_without_feature_names_drops_them(digits_split):
    pd = pytest.importorskip("pandas")
    X_train = digits_split[0][:200]
    frame = pd.DataFrame(X_train, columns=[f"pixel{i}" for i in range(64)])
    detector = fit_quietly(_detector(max_iter=5), frame)
    assert list(detector.feature_names_in_) == list(frame.columns)
    fit_quietly(detector, X_train)
    assert not hasattr(detector, "feature_names_in_")


def test_pipeline_with_min_max_scaler(digits_split):
    X_train, X_val, y_val = digits_split
    pipe = make_pipeline(MinMaxScaler(), _detector(contamination=0.05))
    labels = fit_quietly(pipe, 16 * X_train).predict(16 * X_val)
    assert set(np.unique(labels)) <= {-1, 1}
    assert roc_auc_score(y_val, pipe.decision_function(16 * X_val)) > 0.9
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        labels = pipe.fit_predict(16 * X_train)
    assert_array_equal(labels, pipe.predict(16 * X_train))


def test_grid_search_on_labelled_validation_data(digits_split):
    # Unsupervised fits on normal data, scored on labelled validation rows:
    # PredefinedSplit trains on the -1 fold only and validates on fold 0.
    X_train, X_val, y_val = digits_split
    X = np.vstack([X_train, X_val])
    y = np.r_[np.ones(len(X_train), dtype=int), y_val]
    fold = np.r_[-np.ones(len(X_train), dtype=int), np.zeros(len(X_val), dtype=int)]
    search = GridSearchCV(
        make_pipeline(MinMaxScaler(), _detector(max_iter=30)),
        {"sparseautoencoderoutlierdetector__beta": [0.0, 3.0]},
        scoring="roc_auc",  # roc_auc uses decision_function; +1 is positive
        cv=PredefinedSplit(fold),
    )
    fit_quietly(search, X, y)
    assert search.best_score_ > 0.85
    assert len(search.cv_results_["mean_test_score"]) == 2


def test_dask_fit_and_predict(digits_split):
    da = pytest.importorskip("dask.array")
    distributed = pytest.importorskip("distributed")
    X_train, X_val, _ = digits_split
    with (
        distributed.LocalCluster(
            n_workers=1,
            threads_per_worker=1,
            processes=False,
            # Port 0: a free port for the scheduler's HTTP server, which starts
            # even without a dashboard and would otherwise try 8787 (in use when
            # another cluster runs), with a warning.
            dashboard_address="127.0.0.1:0",
        ) as cluster,
        distributed.Client(cluster),
    ):
        detector = fit_quietly(
            _detector(max_iter=20, contamination=0.1),
            da.from_array(X_train, chunks=(200, 64)),
        )
        reference = fit_quietly(_detector(max_iter=20, contamination=0.1), X_train)
        assert detector.offset_ == pytest.approx(reference.offset_, rel=1e-6)
        X_dask = da.from_array(X_val, chunks=(100, 64))
        decision = detector.decision_function(X_dask)
        labels = detector.predict(X_dask)
        assert isinstance(decision, da.Array) and isinstance(labels, da.Array)
        assert_allclose(
            decision.compute(), detector.decision_function(X_val), rtol=1e-12
        )
        assert_array_equal(labels.compute(), detector.predict(X_val))
    assert_allclose(
        detector.decision_function(X_val),
        reference.decision_function(X_val),
        atol=1e-6,
    )
