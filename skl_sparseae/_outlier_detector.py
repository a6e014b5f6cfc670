"""Outlier detection with the sparse autoencoder's reconstruction error."""

# SPDX-License-Identifier: BSD-3-Clause

from numbers import Real

import numpy as np
from sklearn.base import OutlierMixin

from ._backend_array_api import to_numpy
from ._base import WEIGHT_ATTRIBUTES, _BaseSparseAutoencoder
from ._introspection import (
    extended_signature,
    keyword_parameters,
    section_entries,
    with_entries,
)
from ._sklearn_compat import Interval, StrOptions, _fit_context
from ._sparse_autoencoder import SparseAutoencoderTransformer

# Tukey's fences: k = 1.5 interquartile ranges beyond the quartiles.
_TUKEY_K = 1.5


def tukey_lower_fence(scores):
    """Tukey's lower fence ``Q1 - 1.5 * IQR`` of ``scores``, as a float."""
    q1, q3 = np.percentile(scores, [25, 75])
    return float(q1 - _TUKEY_K * (q3 - q1))


class SparseAutoencoderOutlierDetector(OutlierMixin, _BaseSparseAutoencoder):
    r"""Outlier detector on the reconstruction error of a sparse autoencoder.

    Fits a :class:`SparseAutoencoderTransformer` with the same parameters
    (the same objective, solver and stopping rules) on data assumed to be
    mostly normal, then scores each sample by its negative half squared
    reconstruction error, ``-0.5 * ||x - x_hat||^2``: samples unlike the
    training data are reconstructed badly and score low.
    :meth:`predict` flags the samples whose score falls below ``offset_``,
    the threshold set on the training scores by ``contamination``.

    The API is that of scikit-learn's other outlier detectors
    (:class:`~sklearn.ensemble.IsolationForest`,
    :class:`~sklearn.neighbors.LocalOutlierFactor`): :meth:`predict` returns
    +1 for inliers and -1 for outliers, and :meth:`decision_function` is
    ``score_samples(X) - offset_``, negative for outliers.

    The autoencoder's parameters are those of
    :class:`SparseAutoencoderTransformer`, with the same meanings, defaults
    and validation. With ``early_stopping``, ``offset_`` is still set on the
    scores of all the rows passed to :meth:`fit`.

    Parameters
    ----------
    {autoencoder_parameters}

    contamination : "auto" or float, default="auto"
        How ``offset_`` is set from the scores of the training samples.

        - float in (0, 0.5]: the expected proportion of outliers in the
          training data. ``offset_`` is the ``100 * contamination``
          percentile of the training scores, as in
          :class:`~sklearn.ensemble.IsolationForest`, so that about that
          proportion of the training samples is predicted -1.
        - "auto": Tukey's lower fence of the training scores,
          ``offset_ = Q1 - 1.5 * (Q3 - Q1)`` with Q1 and Q3 their quartiles
          (the whisker end of a box plot). No guess of the proportion of
          outliers is needed: the rule flags the samples whose
          reconstruction error is unusually large *compared with the spread
          of the errors of the bulk of the training data*. Quartiles are
          barely moved by a minority of outliers, and the rule does not
          depend on the scale of the data (a fixed threshold in the score's
          units would). Reconstruction errors are skewed to the right, so on
          clean training data it flags a few percent of the samples rather
          than the 0.7 % it would flag on a normal distribution; see the
          user guide for the proportions measured on several data sets.

    Attributes
    ----------
    offset_ : float
        Threshold on :meth:`score_samples`: samples scoring below it are
        outliers. ``decision_function(X) = score_samples(X) - offset_``.

    {autoencoder_attributes}

    See Also
    --------
    SparseAutoencoderTransformer : The model fitted underneath, which gives
        the hidden features and the same :meth:`score_samples`.
    sklearn.ensemble.IsolationForest : Outlier detection with random trees.
    sklearn.neighbors.LocalOutlierFactor : Outlier detection from the local
        density of the nearest neighbours.
    sklearn.svm.OneClassSVM : Outlier detection with a kernel support.

    References
    ----------
    .. [1] J. W. Tukey, "Exploratory Data Analysis", Addison-Wesley, 1977
       (the fences of the box plot).

    Examples
    --------
    >>> import numpy as np
    >>> from skl_sparseae import SparseAutoencoderOutlierDetector
    >>> rng = np.random.RandomState(0)
    >>> codes = rng.uniform(size=(300, 2))
    >>> X = 1 / (1 + np.exp(-(codes @ rng.normal(size=(2, 10)))))  # in (0, 1)
    >>> detector = SparseAutoencoderOutlierDetector(
    ...     n_components=4, contamination=0.05, random_state=0
    ... ).fit(X)
    >>> float(np.mean(detector.predict(X) == -1))
    0.05
    >>> detector.predict(rng.uniform(size=(3, 10)))
    array([-1, -1, -1])
    """

    _parameter_constraints: dict = {
        **_BaseSparseAutoencoder._parameter_constraints,
        "contamination": [
            StrOptions({"auto"}),
            Interval(Real, 0, 0.5, closed="right"),
        ],
    }

    def __init__(self, n_components=None, *, contamination="auto", **params):
        shown = SparseAutoencoderOutlierDetector.__init__.__signature__.parameters
        unknown = sorted(params.keys() - shown)
        if unknown:
            # What Python says of an explicit signature, naming this class.
            raise TypeError(
                f"{type(self).__name__}.__init__() got an unexpected keyword "
                f"argument {unknown[0]!r}"
            )
        super().__init__(n_components, **params)
        self.contamination = contamination

    # scikit-learn reads the parameters from this signature: the
    # autoencoder's, listed once in the base class, then contamination.
    __init__.__signature__ = extended_signature(
        _BaseSparseAutoencoder.__init__, keyword_parameters(__init__)
    )

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the autoencoder to X and set ``offset_`` from its scores.

        The autoencoder is fitted exactly as by
        :meth:`SparseAutoencoderTransformer.fit`. If anything fails the
        detector is left as it was.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
            Training data, mostly normal samples. With
            ``decoder_activation="sigmoid"`` it should lie in [0, 1]. A
            row-chunked ``dask.array.Array`` is fitted on the cluster of the
            current ``dask.distributed`` client; its training scores are then
            computed (one more pass over the data, returning one float per
            row to the client) to set ``offset_``.

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            The fitted detector, with ``offset_`` set from the training
            scores.
        """
        fitted, X, placement = self._fit_model(X)
        weights = tuple(fitted[name] for name in WEIGHT_ATTRIBUTES)
        scores = self._reconstruction_scores(X, weights, placement)
        if placement.kind == "dask":
            scores = scores.compute()
        scores = to_numpy(scores)
        if self.contamination == "auto":
            offset = tukey_lower_fence(scores)
        else:
            offset = float(np.percentile(scores, 100.0 * self.contamination))
        self._publish({**fitted, "offset_": offset})
        return self

    def decision_function(self, X):
        """Score of each sample relative to the threshold: negative for outliers.

        The sign convention of scikit-learn's outlier detectors (such as
        :class:`~sklearn.ensemble.IsolationForest`): zero is the threshold
        ``offset_`` that ``contamination`` set on the training scores.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
            Data to score, as by :meth:`score_samples`.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            ``score_samples(X) - offset_``.
        """
        return self._decision(X, "decision_function")[0]

    def predict(self, X):
        """Whether each sample is an inlier (+1) or an outlier (-1).

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
            Data to classify.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            -1 where :meth:`decision_function` is negative, +1 elsewhere: a
            lazy dask array for a dask array, an array of the same namespace
            and device for an Array API input.
        """
        decision, placement = self._decision(X, "predict")
        return placement.inlier_labels(decision)

    def _decision(self, X, method):
        """``(score_samples(X) - offset_, placement of X)`` for ``method``."""
        X, placement = self._validated(X, method)
        scores = self._reconstruction_scores(X, placement=placement)
        return scores - self.offset_, placement


# The autoencoder's parameters and attributes are the transformer's,
# documented once.
for _section in ("Parameters", "Attributes"):
    SparseAutoencoderOutlierDetector.__doc__ = with_entries(
        SparseAutoencoderOutlierDetector.__doc__,
        f"autoencoder_{_section.lower()}",
        section_entries(SparseAutoencoderTransformer.__doc__, _section),
    )
del _section
