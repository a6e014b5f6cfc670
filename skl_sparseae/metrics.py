"""What a fitted sparse autoencoder learned, measured on data, and scorers.

Functions of a fitted :class:`~skl_sparseae.SparseAutoencoderTransformer` or
:class:`~skl_sparseae.SparseAutoencoderOutlierDetector` (or of a fitted
:class:`~sklearn.pipeline.Pipeline` ending with one) and data ``X``:

- :func:`fraction_variance_explained`: how much of X's variance the
  reconstruction keeps, overall and per feature;
- :func:`sparsity_gap`: how far the mean activations are from ``rho``;
- :func:`unit_activity`: how many units are active per sample, how often
  each unit is active, the dead and the dense units.

:func:`unsupervised_scorers` turns them into scorers for ``scoring=`` in
:class:`~sklearn.model_selection.GridSearchCV` and
:func:`~sklearn.model_selection.cross_validate`, and :func:`sparsest_within`
is a ``refit=`` rule that picks, without labels, the sparsest model within a
tolerance of the best reconstruction. See :ref:`measuring_sparsity`.

Each function reads X once: in blocks for NumPy arrays and SciPy sparse
matrices, on its device for Array API arrays (under
``sklearn.set_config(array_api_dispatch=True)``), and chunk by chunk where
the chunks live for a dask array, computed in one ``compute`` (the results
are computed values, not lazy arrays). Scalar results are Python floats;
array results are NumPy arrays, or arrays of X's Array API namespace on its
device (float64 where the device has it).
"""

# SPDX-License-Identifier: BSD-3-Clause

import warnings
from numbers import Real

import numpy as np
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.pipeline import Pipeline
from sklearn.utils import Bunch
from sklearn.utils.validation import check_is_fitted

from ._base import _BaseSparseAutoencoder
from ._objective import activation_bounds, kl_divergence
from ._sklearn_compat import Interval, validate_params
from ._validation import check_sample_count

__all__ = [
    "fraction_variance_explained",
    "sparsest_within",
    "sparsity_gap",
    "unit_activity",
    "unsupervised_scorers",
]

_ESTIMATOR_NAMES = "SparseAutoencoderTransformer or SparseAutoencoderOutlierDetector"


def _model_and_data(estimator, X, caller):
    """The fitted autoencoder of ``estimator`` and the data it sees.

    A Pipeline's earlier steps transform X first, as they do in its
    ``score_samples`` and ``transform``.
    """
    if isinstance(estimator, Pipeline):
        model = estimator.steps[-1][1]
        if not isinstance(model, _BaseSparseAutoencoder):
            raise TypeError(
                f"{caller} needs a Pipeline whose last step is a {_ESTIMATOR_NAMES}; "
                f"its last step is {model!r}."
            )
        check_is_fitted(model)
        if len(estimator.steps) > 1:
            X = estimator[:-1].transform(X)
        return model, X
    if not isinstance(estimator, _BaseSparseAutoencoder):
        raise TypeError(
            f"{caller} needs a fitted {_ESTIMATOR_NAMES}, or a fitted Pipeline "
            f"ending with one; got {type(estimator).__name__}."
        )
    return estimator, X


def _statistics(estimator, X, caller, *, threshold, reconstruction):
    """``(model, placement, Statistics)`` of X under the fitted model, one pass."""
    model, X = _model_and_data(estimator, X, caller)
    # The namespace check names the estimator method that the figures
    # extend: score_samples for the reconstruction, transform for the codes.
    X, placement = model._validated(
        X, "score_samples" if reconstruction else "transform"
    )
    name = type(model).__name__
    statistics = placement.statistics(
        X,
        model._fitted_weights(),
        model.decoder_activation,
        name,
        threshold=threshold,
        reconstruction=reconstruction,
    )
    # A dask array's row count is only known once computed.
    check_sample_count(statistics.n_samples, X.shape[1], name)
    return model, placement, statistics


def _constant_features(scatter, means, n_samples, eps):
    """Features whose variance is within the rounding error of computing it.

    StandardScaler's rule (the error bound of the two-pass variance of Chan,
    Golub and LeVeque): a constant column's mean is rounded, so its computed
    sum of squares is tiny rather than zero.
    """
    variance = scatter / n_samples
    return variance <= n_samples * eps * variance + (n_samples * means * eps) ** 2


@validate_params(
    {"per_feature": ["boolean"]},
    prefer_skip_nested_validation=True,
)
def fraction_variance_explained(estimator, X, *, per_feature=False):
    r"""Fraction of the variance of X that the reconstruction explains.

    With :math:`\hat{x}_i` the reconstruction of sample :math:`x_i`
    (``inverse_transform(transform(x_i))``) and :math:`\bar{x}` the mean of
    the rows of X, the overall fraction is

    .. math::

        \mathrm{FVE} = 1 - \frac{\sum_{i,k} (x_{ik} - \hat{x}_{ik})^2}
                                {\sum_{i,k} (x_{ik} - \bar{x}_k)^2}

    and the fraction of feature :math:`k` is the same ratio with the sums
    over the samples only. 1 is a perfect reconstruction, 0 is no better
    than predicting each feature's mean on X, and it is negative when worse.
    It is the coefficient of determination of the reconstruction
    (:func:`~sklearn.metrics.r2_score` of X and its reconstruction), with
    the means taken on X itself.

    A constant feature (its variance within the rounding error of computing
    it, the rule of :class:`~sklearn.preprocessing.StandardScaler`) has no
    variance to explain: its fraction is NaN, and in the overall fraction
    its squared error counts in the numerator (the reconstruction term of
    the objective counts it too) and nothing in the denominator. This is
    where the overall figure differs from ``r2_score(...,
    multioutput="variance_weighted")``, which leaves such features out.

    Read more in the :ref:`User Guide <measuring_sparsity>`.

    Parameters
    ----------
    estimator : estimator instance
        A fitted :class:`~skl_sparseae.SparseAutoencoderTransformer` or
        :class:`~skl_sparseae.SparseAutoencoderOutlierDetector`, or a fitted
        :class:`~sklearn.pipeline.Pipeline` whose last step is one (X then
        goes through the earlier steps first).

    X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
        Data to reconstruct, as for ``score_samples``.

    per_feature : bool, default=False
        Whether to return the fraction of each feature rather than the
        overall fraction.

    Returns
    -------
    fraction : float or array of shape (n_features,)
        The overall fraction as a float; with ``per_feature=True``, the
        fraction of each feature (NaN for a constant feature), a NumPy array
        or an array of X's Array API namespace on its device. When every
        feature is constant (a single sample, for instance) the overall
        fraction is NaN, with an
        :class:`~sklearn.exceptions.UndefinedMetricWarning`.

    See Also
    --------
    unsupervised_scorers : The overall fraction as a scorer.
    sklearn.metrics.r2_score : The coefficient of determination of a
        prediction.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from skl_sparseae import SparseAutoencoderTransformer
    >>> from skl_sparseae.metrics import fraction_variance_explained
    >>> X = load_digits().data / 16.0
    >>> sae = SparseAutoencoderTransformer(
    ...     n_components=16, max_iter=50, tol=0, random_state=0
    ... ).fit(X)
    >>> round(fraction_variance_explained(sae, X), 2)
    0.6
    >>> per_feature = fraction_variance_explained(sae, X, per_feature=True)
    >>> per_feature.shape
    (64,)
    >>> # Three pixels are blank in every image: NaN.
    >>> np.flatnonzero(np.isnan(per_feature)), np.flatnonzero(X.std(axis=0) == 0)
    (array([ 0, 32, 39]), array([ 0, 32, 39]))
    """
    caller = "fraction_variance_explained"
    model, placement, statistics = _statistics(
        estimator, X, caller, threshold=None, reconstruction=True
    )
    n_samples = statistics.n_samples
    scatter = placement.to_host(statistics.feature_scatter)
    eps = np.finfo(scatter.dtype).eps
    scatter = scatter.astype(np.float64)
    means = placement.to_host(statistics.feature_means).astype(np.float64)
    errors = placement.to_host(statistics.squared_errors).astype(np.float64)
    varying = ~_constant_features(scatter, means, n_samples, eps)
    if per_feature:
        fractions = np.full(scatter.shape, np.nan)
        fractions[varying] = 1.0 - errors[varying] / scatter[varying]
        return placement.result(fractions)
    total = float(np.sum(scatter[varying]))
    if total == 0.0:
        warnings.warn(
            "The fraction of variance explained is not defined when every "
            f"feature of X is constant (X has {n_samples} sample(s)); "
            "returning NaN.",
            UndefinedMetricWarning,
        )
        return float("nan")
    return float(1.0 - np.sum(errors) / total)


def sparsity_gap(estimator, X):
    r"""How far the mean activations on X are from the target ``rho``.

    With :math:`\hat{\rho}_j` the mean over the rows of X of the activation
    of hidden unit :math:`j` (``transform(X).mean(axis=0)``), returns

    - ``kl_divergence``: :math:`\sum_j \mathrm{KL}(\rho \,\|\, \hat{\rho}_j)`
      with :math:`\mathrm{KL}(p \| q) = p \log\frac{p}{q} + (1 - p)
      \log\frac{1 - p}{1 - q}`: the sparsity term of the objective without
      its factor ``beta``. As in the fit, each :math:`\hat{\rho}_j` is first
      clipped into :math:`[\epsilon, 1 - \epsilon]`, :math:`\epsilon` the
      machine epsilon of the model's float dtype, so that a unit that never
      turns on gives a large finite value. On the training data of an
      L-BFGS fit, ``beta * kl_divergence`` is the sparsity term of
      ``loss_``.
    - ``max_abs_deviation``: :math:`\max_j |\hat{\rho}_j - \rho|`, the
      largest gap of one unit, in activation units.
    - ``mean_activation``: the :math:`\hat{\rho}_j` themselves; on the
      training data they are ``mean_activation_``.

    Read more in the :ref:`User Guide <measuring_sparsity>`.

    Parameters
    ----------
    estimator : estimator instance
        A fitted :class:`~skl_sparseae.SparseAutoencoderTransformer` or
        :class:`~skl_sparseae.SparseAutoencoderOutlierDetector`, or a fitted
        :class:`~sklearn.pipeline.Pipeline` whose last step is one (X then
        goes through the earlier steps first).

    X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
        Data to encode.

    Returns
    -------
    gap : :class:`~sklearn.utils.Bunch`
        With the keys ``kl_divergence`` (float), ``max_abs_deviation``
        (float) and ``mean_activation`` (array of shape (n_components,), a
        NumPy array or an array of X's Array API namespace on its device).

    See Also
    --------
    unit_activity : How many units are active, and how often.
    skl_sparseae.SparsityDisplay : The histogram of the mean activations
        against ``rho``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from skl_sparseae import SparseAutoencoderTransformer
    >>> from skl_sparseae.metrics import sparsity_gap
    >>> X = load_digits().data / 16.0
    >>> sae = SparseAutoencoderTransformer(
    ...     n_components=16, rho=0.05, max_iter=50, tol=0, random_state=0
    ... ).fit(X)
    >>> gap = sparsity_gap(sae, X)
    >>> round(gap.kl_divergence, 3), round(gap.max_abs_deviation, 3)
    (0.012, 0.014)
    >>> bool(np.allclose(gap.mean_activation, sae.mean_activation_))
    True
    """
    model, placement, statistics = _statistics(
        estimator, X, "sparsity_gap", threshold=None, reconstruction=False
    )
    rho_hat = placement.to_host(statistics.activation_sums).astype(np.float64)
    rho_hat /= statistics.n_samples
    # The fit clips at its working dtype's epsilon: the model's dtype.
    low, high = activation_bounds(placement.to_host(model.intercept_hidden_).dtype)
    kl = kl_divergence(model.rho, np.clip(rho_hat, low, high))
    return Bunch(
        kl_divergence=float(np.sum(kl)),
        max_abs_deviation=float(np.max(np.abs(rho_hat - model.rho))),
        mean_activation=placement.result(rho_hat),
    )


@validate_params(
    {
        "threshold": [Interval(Real, 0, 1, closed="neither")],
        "dense_fraction": [Interval(Real, 0, 1, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def unit_activity(estimator, X, *, threshold=0.1, dense_fraction=0.5):
    r"""How many hidden units are active on each sample, and how often each is.

    Sigmoid units are never exactly off, so a unit counts as active on a
    sample when its activation exceeds ``threshold``: :math:`a_{ij} > t`
    with :math:`a_{ij}` the activation of unit :math:`j` on sample
    :math:`i` (``transform(X)[i, j]``). Returns

    - ``mean_active_units``: :math:`\frac{1}{m} \sum_{i,j} [a_{ij} > t]`,
      the mean number of active units per sample (the "L0" of the codes);
    - ``active_fraction``: :math:`f_j = \frac{1}{m} \sum_i [a_{ij} > t]`,
      the fraction of the samples on which each unit is active;
    - ``dead_units``: the indices of the units active on no sample of X
      (:math:`f_j = 0`);
    - ``dense_units``: the indices of the units active on more than
      ``dense_fraction`` of the samples (:math:`f_j >` ``dense_fraction``).

    These counts and the mean activations of :func:`sparsity_gap` answer
    different questions: activations are graded, so a unit whose mean
    activation is ``rho`` may exceed the threshold on more, or fewer, than a
    fraction ``rho`` of the samples.

    Read more in the :ref:`User Guide <measuring_sparsity>`.

    Parameters
    ----------
    estimator : estimator instance
        A fitted :class:`~skl_sparseae.SparseAutoencoderTransformer` or
        :class:`~skl_sparseae.SparseAutoencoderOutlierDetector`, or a fitted
        :class:`~sklearn.pipeline.Pipeline` whose last step is one (X then
        goes through the earlier steps first).

    X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
        Data to encode.

    threshold : float, default=0.1
        Activation above which a unit is active, in (0, 1).

    dense_fraction : float, default=0.5
        Fraction of the samples, in [0, 1), on more than which an active
        unit is dense. The default flags units active on most samples.

    Returns
    -------
    activity : :class:`~sklearn.utils.Bunch`
        With the keys ``mean_active_units`` (float), ``active_fraction``
        (array of shape (n_components,)), ``dead_units`` and
        ``dense_units`` (int64 arrays of unit indices, in increasing order).
        The arrays are NumPy arrays, or arrays of X's Array API namespace on
        its device.

    See Also
    --------
    sparsity_gap : The mean activations against ``rho``.
    unsupervised_scorers : ``mean_active_units`` as a scorer.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skl_sparseae import SparseAutoencoderTransformer
    >>> from skl_sparseae.metrics import unit_activity
    >>> X = load_digits().data / 16.0
    >>> sae = SparseAutoencoderTransformer(
    ...     n_components=16, rho=0.05, max_iter=50, tol=0, random_state=0
    ... ).fit(X)
    >>> activity = unit_activity(sae, X, threshold=0.1)
    >>> round(activity.mean_active_units, 1)
    2.2
    >>> activity.active_fraction.shape, activity.dead_units, activity.dense_units
    ((16,), array([], dtype=int64), array([], dtype=int64))
    """
    _, placement, statistics = _statistics(
        estimator, X, "unit_activity", threshold=threshold, reconstruction=False
    )
    counts = placement.to_host(statistics.active_counts).astype(np.float64)
    fractions = counts / statistics.n_samples
    return Bunch(
        mean_active_units=float(np.sum(counts) / statistics.n_samples),
        active_fraction=placement.result(fractions),
        dead_units=placement.result(np.flatnonzero(counts == 0).astype(np.int64)),
        dense_units=placement.result(
            np.flatnonzero(fractions > dense_fraction).astype(np.int64)
        ),
    )


# ----------------------------------------------------------------------
# Model selection without labels.


class _Scorer:
    """``scorer(estimator, X, y=None)``: one figure, greater is better."""

    def __init__(self, name, figure, threshold):
        self._name = name
        self._figure = figure
        self._threshold = threshold

    def __call__(self, estimator, X, y=None):
        return self._figure(estimator, X, self._threshold)

    def __repr__(self):
        return f"unsupervised_scorers(threshold={self._threshold!r})[{self._name!r}]"


def _variance_explained(estimator, X, threshold):
    return fraction_variance_explained(estimator, X)


def _neg_mean_active_units(estimator, X, threshold):
    return -unit_activity(estimator, X, threshold=threshold).mean_active_units


def _neg_kl_divergence(estimator, X, threshold):
    return -sparsity_gap(estimator, X).kl_divergence


_FIGURES = {
    "variance_explained": _variance_explained,
    "neg_mean_active_units": _neg_mean_active_units,
    "neg_kl_divergence": _neg_kl_divergence,
}


@validate_params(
    {"threshold": [Interval(Real, 0, 1, closed="neither")]},
    prefer_skip_nested_validation=True,
)
def unsupervised_scorers(*, threshold=0.1):
    """Make scorers of reconstruction and sparsity, for searches without labels.

    A model's own ``score`` measures the reconstruction alone, so a search
    over ``rho`` and ``beta`` that uses it always prefers the least sparse
    model. These scorers measure both; pass the dict as ``scoring=`` to
    :class:`~sklearn.model_selection.GridSearchCV` or
    :func:`~sklearn.model_selection.cross_validate` (with
    :func:`sparsest_within` as ``refit=`` in a search), or one of its
    values for a single figure. Each has the signature ``scorer(estimator,
    X, y=None)``, ignores ``y``, accepts a fitted estimator or a fitted
    :class:`~sklearn.pipeline.Pipeline` ending with one (X goes through the
    earlier steps), and returns a float where greater is better, as
    scikit-learn requires:

    - ``"variance_explained"``: :func:`fraction_variance_explained`, overall;
    - ``"neg_mean_active_units"``: minus ``mean_active_units`` of
      :func:`unit_activity` at ``threshold``;
    - ``"neg_kl_divergence"``: minus ``kl_divergence`` of
      :func:`sparsity_gap`.

    Read more in the :ref:`User Guide <unsupervised_selection>`.

    Parameters
    ----------
    threshold : float, default=0.1
        Activation above which a unit is active, in (0, 1), for
        ``"neg_mean_active_units"``.

    Returns
    -------
    scorers : dict
        The three scorers, by name.

    See Also
    --------
    sparsest_within : A ``refit=`` rule that uses these scores.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.model_selection import cross_validate
    >>> from skl_sparseae import SparseAutoencoderTransformer
    >>> from skl_sparseae.metrics import unsupervised_scorers
    >>> X = load_digits().data / 16.0
    >>> sae = SparseAutoencoderTransformer(
    ...     n_components=16, max_iter=50, tol=0, random_state=0
    ... )
    >>> scores = cross_validate(sae, X, scoring=unsupervised_scorers(), cv=3)
    >>> sorted(key for key in scores if key.startswith("test_"))
    ['test_neg_kl_divergence', 'test_neg_mean_active_units', 'test_variance_explained']
    """
    return {name: _Scorer(name, figure, threshold) for name, figure in _FIGURES.items()}


class _SparsestWithin:
    """The ``refit=`` rule of :func:`sparsest_within`."""

    def __init__(self, tolerance, reconstruction, sparsity):
        self.tolerance = tolerance
        self.reconstruction = reconstruction
        self.sparsity = sparsity

    def _scores(self, cv_results, name):
        key = f"mean_test_{name}"
        if key not in cv_results:
            found = sorted(
                k.removeprefix("mean_test_")
                for k in cv_results
                if k.startswith("mean_test_")
            )
            raise ValueError(
                f"sparsest_within needs the score {name!r} in the search's "
                f"scoring (for instance scoring=unsupervised_scorers()); the "
                f"search computed {found or 'no named scores'}."
            )
        return np.asarray(cv_results[key], dtype=np.float64)

    def __call__(self, cv_results):
        reconstruction = self._scores(cv_results, self.reconstruction)
        sparsity = self._scores(cv_results, self.sparsity)
        usable = ~(np.isnan(reconstruction) | np.isnan(sparsity))
        if not usable.any():
            raise ValueError(
                "sparsest_within found no candidate with both scores: every "
                "fit or scoring failed (NaN)."
            )
        best = np.max(reconstruction[usable])
        candidates = np.flatnonzero(usable & (reconstruction >= best - self.tolerance))
        # The sparsest; among equally sparse, the better reconstruction;
        # then the first candidate.
        order = np.lexsort(
            (candidates, -reconstruction[candidates], -sparsity[candidates])
        )
        return int(candidates[order[0]])

    def __repr__(self):
        return (
            f"sparsest_within(tolerance={self.tolerance!r}, "
            f"reconstruction={self.reconstruction!r}, sparsity={self.sparsity!r})"
        )


@validate_params(
    {
        "tolerance": [Interval(Real, 0, None, closed="left")],
        "reconstruction": [str],
        "sparsity": [str],
    },
    prefer_skip_nested_validation=True,
)
def sparsest_within(
    tolerance=0.01,
    *,
    reconstruction="variance_explained",
    sparsity="neg_mean_active_units",
):
    """A ``refit=`` rule: the sparsest model within a tolerance of the best.

    For a search whose ``scoring`` computes a reconstruction score and a
    sparsity score (both greater-is-better, such as those of
    :func:`unsupervised_scorers`), the returned callable takes the search's
    ``cv_results_`` and gives the index of the candidate to refit: among the
    candidates whose mean test reconstruction score is at least the best
    one minus ``tolerance``, the one with the highest mean test sparsity
    score (with the defaults: the fewest active units per sample); ties go
    to the better reconstruction, then to the first candidate. Candidates
    with a NaN score (a failed fit) are left out. Pass it as ``refit=`` to
    :class:`~sklearn.model_selection.GridSearchCV` or
    :class:`~sklearn.model_selection.RandomizedSearchCV`, as in
    scikit-learn's example of a ``refit`` callable. The search then has
    ``best_index_``, ``best_params_`` and ``best_estimator_``, but no
    ``best_score_``.

    Read more in the :ref:`User Guide <unsupervised_selection>`.

    Parameters
    ----------
    tolerance : float, default=0.01
        How much reconstruction score may be given up, in the score's own
        units: with ``"variance_explained"``, 0.01 is one percentage point
        of the variance of X.

    reconstruction : str, default="variance_explained"
        Name of the reconstruction score in the search's ``scoring``.

    sparsity : str, default="neg_mean_active_units"
        Name of the sparsity score in the search's ``scoring``.

    Returns
    -------
    refit : callable
        ``refit(cv_results) -> int``, the index of the chosen candidate.

    See Also
    --------
    unsupervised_scorers : The scores it reads, by their default names.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.model_selection import GridSearchCV
    >>> from skl_sparseae import SparseAutoencoderTransformer
    >>> from skl_sparseae.metrics import sparsest_within, unsupervised_scorers
    >>> X = load_digits().data[:600] / 16.0
    >>> search = GridSearchCV(
    ...     SparseAutoencoderTransformer(n_components=16, rho=0.2, random_state=0),
    ...     {"beta": [0.0, 1.0]},
    ...     scoring=unsupervised_scorers(),
    ...     refit=sparsest_within(0.1),
    ...     cv=3,
    ... ).fit(X)
    >>> results = search.cv_results_
    >>> results["mean_test_variance_explained"].round(2)
    array([0.83, 0.77])
    >>> -results["mean_test_neg_mean_active_units"].round(1)
    array([14.1,  8. ])
    >>> search.best_params_
    {'beta': 1.0}
    """
    return _SparsestWithin(tolerance, reconstruction, sparsity)
