"""The stopping rules: each fires, and does not fire, when it should."""

# SPDX-License-Identifier: BSD-3-Clause

import warnings
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import cross_validate, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from skl_sparseae import SparseAutoencoderOutlierDetector, SparseAutoencoderTransformer
from skl_sparseae._base import _warn_unconverged
from skl_sparseae._stopping import NoImprovement

from ._helpers import ignore_sparsity_missed


@pytest.fixture(scope="module")
def X():
    return np.random.RandomState(0).uniform(size=(120, 10))


def _fit_without_warnings(estimator, X):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        return estimator.fit(X)


def test_no_improvement_counts_relative_improvements():
    rule = NoImprovement(tol=0.01, n_iter_no_change=2)
    assert rule.update(100.0)  # the first value always improves
    assert rule.update(98.0)  # 2 % better
    assert not rule.update(97.5)  # 0.5 %: too little
    assert not rule.should_stop and not rule.still_improving
    assert not rule.update(97.4)
    assert rule.should_stop
    # The relative scale: the same absolute step counts on small values.
    small = NoImprovement(tol=0.01, n_iter_no_change=1)
    small.update(1.0)
    assert small.update(0.98)


def test_no_improvement_never_fires_with_zero_tol():
    rule = NoImprovement(tol=0.0, n_iter_no_change=1)
    for value in (1.0, 1.0, 1.0):
        rule.update(value)
    assert rule.count == 2 and not rule.should_stop


def test_progress_rule_stops_before_max_iter_without_warning():
    X = load_digits().data[:300] / 16.0
    sae = SparseAutoencoderTransformer(
        16, tol=0.005, n_iter_no_change=5, max_iter=300, random_state=0
    )
    _fit_without_warnings(sae, X)
    assert sae.n_iter_ < 300
    assert sae.n_iter_ == len(sae.loss_curve_)
    # The rule fired: the last n_iter_no_change iterations each improved by
    # at most tol times the best value before them, the one before by more.
    curve = sae.loss_curve_
    improvements = [
        (min(curve[:i]) - curve[i]) / min(curve[:i]) for i in range(1, len(curve))
    ]
    assert all(step <= 0.005 for step in improvements[-5:])
    assert improvements[-6] > 0.005


def test_zero_tol_runs_exactly_max_iter_without_warning(X):
    sae = SparseAutoencoderTransformer(4, tol=0, max_iter=37, random_state=0)
    _fit_without_warnings(sae, X)
    assert sae.n_iter_ == len(sae.loss_curve_) == 37


def test_budget_that_runs_out_while_improving_warns_and_names_it(X):
    sae = SparseAutoencoderTransformer(4, max_iter=3, random_state=0)
    with pytest.warns(ConvergenceWarning, match=r"it reached max_iter=3\. Increase"):
        sae.fit(X)
    assert sae.n_iter_ == 3


# X * 3 leaves [0, 1] on purpose, which the sigmoid decoder's range warning
# reports besides the ConvergenceWarning under test.
@pytest.mark.filterwarnings("ignore:X has values in:UserWarning")
def test_scaling_advice_only_for_data_outside_the_unit_interval(X):
    with pytest.warns(ConvergenceWarning) as records:
        SparseAutoencoderTransformer(4, max_iter=3, random_state=0).fit(X)
    assert not any("scale" in str(r.message).lower() for r in records)
    with pytest.warns(ConvergenceWarning, match="X is also outside"):
        SparseAutoencoderTransformer(4, max_iter=3, random_state=0).fit(X * 3)


def test_line_search_message_reads_cleanly():
    result = SimpleNamespace(status="line_search", message="ABNORMAL: ", n_iter=12)
    with pytest.warns(ConvergenceWarning) as records:
        _warn_unconverged(
            result, max_iter=400, max_fun=15000, tol=5e-4, unit_interval_hint=False
        )
    message = str(records[0].message)
    assert "the line search failed (ABNORMAL)." in message
    assert ": ." not in message and ".." not in message


def test_early_stopping_keeps_the_best_held_out_weights(X):
    sae = SparseAutoencoderTransformer(
        4, early_stopping=True, validation_fraction=0.25, max_iter=60, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sae.fit(X)
    assert len(sae.validation_scores_) == sae.n_iter_ == len(sae.loss_curve_)
    assert sae.best_validation_score_ == max(sae.validation_scores_)
    # The held-out rows are drawn with random_state, before anything else.
    _, held_out = train_test_split(
        np.arange(len(X)), test_size=0.25, random_state=np.random.RandomState(0)
    )
    assert sae.score(X[np.sort(held_out)]) == pytest.approx(
        sae.best_validation_score_, rel=1e-12
    )
    best = int(np.argmax(sae.validation_scores_))
    assert sae.loss_ == sae.loss_curve_[best]


def test_early_stopping_stops_when_the_held_out_score_stalls(X):
    sae = SparseAutoencoderTransformer(
        4,
        early_stopping=True,
        tol=0.05,
        n_iter_no_change=2,
        max_iter=300,
        random_state=0,
    )
    _fit_without_warnings(sae, X)
    assert sae.n_iter_ < 300


def test_early_stopping_on_sparse_input(X):
    X_sparse = sp.csr_matrix(np.where(X > 0.5, X, 0.0))
    sae = SparseAutoencoderTransformer(
        4, early_stopping=True, max_iter=20, tol=0, random_state=0
    ).fit(X_sparse)
    assert len(sae.validation_scores_) == 20


def test_without_early_stopping_the_validation_attributes_are_none(X):
    sae = SparseAutoencoderTransformer(4, max_iter=5, tol=0, random_state=0).fit(X)
    assert sae.validation_scores_ is None and sae.best_validation_score_ is None


def test_early_stopping_with_dask_says_it_is_not_supported(X):
    da = pytest.importorskip("dask.array", reason="needs the dask extra")
    sae = SparseAutoencoderTransformer(4, early_stopping=True)
    with pytest.raises(ValueError, match="not supported for dask arrays"):
        sae.fit(da.from_array(X, chunks=40))


@ignore_sparsity_missed
@pytest.mark.parametrize(
    "estimator",
    [SparseAutoencoderTransformer, SparseAutoencoderOutlierDetector],
)
def test_early_stopping_fit_without_a_completed_iteration(X, estimator):
    # A huge tol: L-BFGS-B's own gradient test stops before any iteration.
    model = estimator(
        n_components=4, early_stopping=True, tol=1e10, random_state=0
    ).fit(X)
    assert model.n_iter_ == 0
    assert model.validation_scores_ == []
    assert model.best_validation_score_ is None
    assert np.isfinite(model.loss_)


def test_a_restart_is_not_an_improvement():
    # SGD's adaptive schedule restarts the count after lowering its rate.
    rule = NoImprovement(tol=0.01, n_iter_no_change=1)
    rule.update(100.0)
    assert not rule.update(99.99)
    assert rule.should_stop
    rule.restart()
    assert not rule.should_stop and not rule.still_improving
    assert rule.update(90.0) and rule.still_improving


def test_an_adaptive_rate_lowered_at_the_last_epoch_is_not_called_improving():
    # The adaptive schedule lowers the rate every other epoch from epoch 12
    # on; a fit that ends there has not been improving.
    X = np.random.RandomState(0).uniform(size=(150, 12))
    for max_iter in range(12, 20):
        sae = SparseAutoencoderTransformer(
            5,
            solver="sgd",
            learning_rate="adaptive",
            learning_rate_init=0.3,
            tol=1e-2,
            n_iter_no_change=2,
            batch_size=16,
            max_iter=max_iter,
            random_state=0,
        )
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always", ConvergenceWarning)
            sae.fit(X)
        curve = sae.loss_curve_
        improved = min(curve[:-1]) - curve[-1] > 1e-2 * min(curve[:-1])
        claims = any("still improving" in str(w.message) for w in record)
        assert claims == improved, max_iter


# --------------------------------------------------------------------------
# Where the warnings of a fit point: the line that called it.


@pytest.mark.parametrize("call", ["fit", "fit_transform", "pipeline", "cross_val"])
@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_a_convergence_warning_names_the_callers_line(X, solver, call):
    sae = SparseAutoencoderTransformer(4, solver=solver, max_iter=3, random_state=0)
    with pytest.warns(ConvergenceWarning) as record:
        if call == "fit":
            sae.fit(X)
        elif call == "fit_transform":
            sae.fit_transform(X)
        elif call == "pipeline":
            make_pipeline(MinMaxScaler(), sae).fit(X)
        else:
            cross_validate(sae, X, cv=2)
    assert {w.filename for w in record} == {__file__}


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_the_data_warnings_name_the_callers_line(X):
    sae = SparseAutoencoderTransformer(4, max_iter=3, random_state=0)
    with pytest.warns(UserWarning) as record:
        sae.fit(X * 1e3)
    messages = " ".join(str(w.message) for w in record)
    assert "X has values in" in messages and "are saturated" in messages
    assert {w.filename for w in record} == {__file__}
