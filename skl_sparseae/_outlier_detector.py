"""Outlier detection with the sparse autoencoder's reconstruction error."""

# SPDX-License-Identifier: BSD-3-Clause

from numbers import Real

import numpy as np
from sklearn.base import OutlierMixin

from ._base import WEIGHT_ATTRIBUTES, FinishingPass, _BaseSparseAutoencoder
from ._sklearn_compat import Interval, StrOptions, _fit_context, _weighted_percentile

# Tukey's fences: k = 1.5 interquartile ranges beyond the quartiles.
_TUKEY_K = 1.5


def tukey_lower_fence(scores, sample_weight=None):
    """Tukey's lower fence ``Q1 - 1.5 * IQR`` of ``scores``, as a float.

    With ``sample_weight`` the quartiles are :func:`weighted_percentile`'s.
    """
    if sample_weight is None:
        q1, q3 = np.percentile(scores, [25, 75])
    else:
        q1, q3 = (weighted_percentile(scores, sample_weight, q) for q in (25, 75))
    return float(q1 - _TUKEY_K * (q3 - q1))


def weighted_percentile(values, sample_weight, q):
    """The ``q``-th percentile of ``values`` repeated by their weights, as a float.

    NumPy's default ("linear") percentile of the sorted values in which
    value i appears ``sample_weight[i]`` times: for integer weights it
    equals ``np.percentile(np.repeat(values, sample_weight), q)`` (to
    rounding), and for unit weights ``np.percentile(values, q)``, which the
    unweighted ``offset_`` takes; real weights are fractional repetitions.
    The position ``(W - 1) * q / 100`` among the ``W = sum(w)`` repeated
    values falls between two of them, which scikit-learn's
    ``_weighted_percentile`` (the inverted CDF) finds, and the percentile
    interpolates linearly between them.
    """
    values = np.asarray(values, dtype=np.float64)
    weights = np.asarray(sample_weight, dtype=np.float64)
    total = float(np.sum(weights))
    position = max(total - 1.0, 0.0) * (q / 100.0)
    below = float(np.floor(position))
    fraction = position - below

    def value_at(index):
        # The repeated value at 0-based index: the one whose run of weight
        # covers index + 1/2 (no rounding can move a half-integer rank
        # across an integer cumulative weight); 100 is the largest value
        # of positive weight.
        percent = min(100.0 * (index + 0.5) / total, 100.0)
        return float(_weighted_percentile(values, weights, percent))

    low = value_at(below)
    if fraction == 0:
        return low
    return low + fraction * (value_at(below + 1) - low)


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
    n_components : int, default=None
        Number of hidden units. None means ``max(1, n_features // 4)``.

    rho : float, default=0.05
        Target mean activation of each hidden unit, strictly between 0 and 1.

    beta : float, default=3.0
        Weight of the sparsity (KL divergence) penalty. ``beta=0`` gives a
        plain autoencoder. Not to be confused with Adam's ``beta_1`` and
        ``beta_2``. With ``beta > 0``, :meth:`fit` warns when the fitted
        mean activation, averaged over the hidden units, is more than 2.5
        times ``rho`` or less than ``rho / 2.5``: raising ``beta`` is then
        the usual remedy.

    alpha : "auto" or float, default="auto"
        Weight decay (L2 penalty) on the weight matrices, not on the biases.
        "auto" is a weight decay that follows the data's scale:
        ``5e-5 * X.var(axis=0).sum()``, the sum of the features' variances
        over the rows the solver trains on (without the rows that
        ``early_stopping`` holds out), computed in float64 when the model
        is first trained. Constant data gives 0. The value used is
        ``alpha_``.

    decoder_activation : {"sigmoid", "identity"}, default="sigmoid"
        Output non-linearity of the decoder. "sigmoid" reconstructs data
        scaled to [0, 1] (see :class:`~sklearn.preprocessing.MinMaxScaler`);
        "identity" is the linear decoder for real-valued (for instance
        standardised or whitened) data.

    solver : {"lbfgs", "adam", "sgd"}, default="lbfgs"
        The optimiser.

        - "lbfgs": scipy's L-BFGS-B over all the rows at once; usually the
          best for small and medium data sets.
        - "adam": Adam (Kingma and Ba) on minibatches of ``batch_size``
          rows; the faster choice on large data sets.
        - "sgd": stochastic gradient descent on minibatches, with
          ``learning_rate``, ``momentum`` and ``nesterovs_momentum``.

        See :ref:`choosing_solver`.

    batch_size : int or "auto", default="auto"
        Rows per minibatch of the "adam" and "sgd" solvers; "auto" means
        ``min(200, n_samples)``. Unused by "lbfgs".

    learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
        Learning-rate schedule of ``solver="sgd"``, as in
        :class:`~sklearn.neural_network.MLPRegressor`: "constant" keeps
        ``learning_rate_init``; "invscaling" divides it by ``t ** power_t``
        after each epoch, with ``t`` the samples seen; "adaptive" keeps it
        while the stopping rule is not met, then divides it by 5 (and
        stops once it falls below 1e-6). Unused by the other solvers.

    learning_rate_init : float, default=1e-2
        Step size of the "adam" solver, and initial step size of the "sgd"
        solver (which ``learning_rate`` may change). Unused by "lbfgs".

    power_t : float, default=0.5
        Exponent of the "invscaling" schedule of ``solver="sgd"``.

    max_iter : int, default=400
        Maximum number of L-BFGS iterations, or of epochs (passes over the
        training rows) for "adam" and "sgd".

    shuffle : bool, default=True
        Whether "adam" and "sgd" visit the rows in a new random order (drawn
        with ``random_state``) each epoch.

    tol : float, default=5e-4
        Tolerance of the stopping rules. The fit stops when the objective
        (or, with ``early_stopping``, the held-out reconstruction error) has
        not decreased by more than ``tol`` times its best value so far for
        ``n_iter_no_change`` consecutive iterations, or when L-BFGS-B's
        largest projected gradient component falls below ``tol / 10``
        (scipy's ``gtol``). The improvement is relative because the objective's
        scale grows with the number of features. ``tol=0`` runs exactly
        ``max_iter`` iterations (unless the line search fails or ``max_fun``
        runs out first), without a ConvergenceWarning. A larger ``tol``
        stops sooner, at some cost in quality; see :ref:`stopping`.

    max_fun : int, default=15000
        Maximum number of objective evaluations of "lbfgs".

    n_iter_no_change : int, default=20
        Number of consecutive iterations (epochs for "adam" and "sgd")
        without a relative improvement of more than ``tol`` after which the
        fit stops. For "adam" and "sgd" the rule watches the epoch's mean
        minibatch objective.

    decoder_scaling : "auto" or float, default="auto"
        Factor by which L-BFGS-B's variables for the decoder weights ``W2``
        are scaled: it optimises ``W2 / decoder_scaling``, which makes its
        steps along ``W2`` ``decoder_scaling**2`` times longer. With sparse
        codes the objective's curvature along ``W2`` is about ``rho`` times
        that along ``W1``: ``1 / sqrt(rho)`` evens the two out, which
        reaches a given objective in fewer iterations with the sigmoid
        decoder. "auto" is ``1 / sqrt(rho)`` for the sigmoid decoder and 1
        for the identity decoder, which does not gain from it. 1 optimises
        ``W2`` itself. Only the path
        L-BFGS-B takes changes: the objective is the same, and ``loss_`` and
        ``loss_curve_`` are its values (:ref:`conditioning`). A factor
        beyond 1e6, or below 1e-6, warns: the steps along one block of
        weights are then lost in round-off next to the other's. Used only
        by ``solver="lbfgs"``.

    early_stopping : bool, default=False
        Whether to hold out ``validation_fraction`` of the rows (drawn with
        ``random_state``), score them after each iteration or epoch, stop
        when that score stops improving, and keep the weights of the best
        score. Not supported for dask arrays.

    validation_fraction : float, default=0.1
        Fraction of the rows held out when ``early_stopping`` is True.

    momentum : float, default=0.9
        Momentum of ``solver="sgd"``, between 0 and 1.

    nesterovs_momentum : bool, default=True
        Whether ``solver="sgd"`` uses Nesterov's momentum (when
        ``momentum > 0``).

    beta_1 : float, default=0.9
        Decay rate of Adam's first-moment estimates, in [0, 1). Not the
        sparsity weight ``beta``.

    beta_2 : float, default=0.999
        Decay rate of Adam's second-moment estimates, in [0, 1).

    epsilon : float, default=1e-8
        Adam's guard against division by zero.

    warm_start : bool, default=False
        When True, start from the weights of the previous call to fit
        instead of a new random initialisation. The data must have the same
        number of features and ``n_components`` must be unchanged.

    random_state : int, RandomState instance or None, default=None
        Determines the random initialisation of the weights, the held-out
        rows of ``early_stopping`` and the order of the minibatches. Pass an
        int for reproducible results across multiple function calls.
        See :term:`Glossary <random_state>`.

    verbose : int, default=0
        Progress lines, each prefixed with the estimator's name and giving
        the elapsed time (and the held-out score with ``early_stopping``):
        at 1, the first iteration and every tenth; at 2 or more, every
        iteration with the objective's terms, the mean hidden activation and
        the mean number of active units per sample (activation above 0.1;
        for the minibatch solvers, these are means over the epoch's
        batches), and a line for each change of the adaptive learning rate.
        A last line says why the fit stopped. See :ref:`monitoring_output`.

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

    components_ : ndarray of shape (n_components, n_features)
        Encoder weights ``W1.T``: row ``j`` is the filter of hidden unit ``j``.

    intercept_hidden_ : ndarray of shape (n_components,)
        Biases of the hidden units (``b1``).

    decoder_components_ : ndarray of shape (n_components, n_features)
        Decoder weights ``W2``.

    intercept_visible_ : ndarray of shape (n_features,)
        Biases of the reconstruction (``b2``).

    mean_activation_ : ndarray of shape (n_components,)
        Mean activation of each hidden unit on the training data at the
        solution (:math:`\hat{\rho}`).

    alpha_ : float
        The weight decay of the fit: ``alpha`` itself when it is a float,
        the value computed from the training rows for "auto".

    loss_ : float
        Objective ``J`` at the solution ("lbfgs"), or the mean minibatch
        objective of the last epoch ("adam", "sgd"; before a first complete
        epoch, as after an interrupt during it, the mean over the steps
        completed).

    loss_curve_ : list of float
        Objective ``J`` after each L-BFGS iteration, or the mean minibatch
        objective of each epoch.

    n_iter_ : int
        Number of L-BFGS iterations or complete epochs run.

    t_ : int
        Number of training samples the minibatch solvers have seen in the
        steps that made the fitted weights (epochs times rows). Defined only
        for "adam" and "sgd".

    validation_scores_ : list of float or None
        Mean :meth:`score_samples` of the held-out rows after each iteration
        or epoch, when ``early_stopping`` is True; None otherwise.

    best_validation_score_ : float or None
        The best of ``validation_scores_`` (the score of the kept weights),
        or None without early stopping or without a completed iteration.

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X`
        has feature names that are all strings.

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
    ...     n_components=3, contamination=0.05, random_state=0
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

    def __init__(
        self,
        n_components=None,
        *,
        rho=0.05,
        beta=3.0,
        alpha="auto",
        decoder_activation="sigmoid",
        solver="lbfgs",
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=1e-2,
        power_t=0.5,
        max_iter=400,
        shuffle=True,
        tol=5e-4,
        max_fun=15000,
        n_iter_no_change=20,
        decoder_scaling="auto",
        early_stopping=False,
        validation_fraction=0.1,
        momentum=0.9,
        nesterovs_momentum=True,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        warm_start=False,
        random_state=None,
        verbose=0,
        contamination="auto",
    ):
        super().__init__(
            n_components=n_components,
            rho=rho,
            beta=beta,
            alpha=alpha,
            decoder_activation=decoder_activation,
            solver=solver,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            shuffle=shuffle,
            tol=tol,
            max_fun=max_fun,
            n_iter_no_change=n_iter_no_change,
            decoder_scaling=decoder_scaling,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            warm_start=warm_start,
            random_state=random_state,
            verbose=verbose,
        )
        self.contamination = contamination

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Fit the autoencoder to X and set ``offset_`` from its scores.

        The autoencoder is fitted exactly as by
        :meth:`SparseAutoencoderTransformer.fit`. If anything fails the
        detector is left as it was. With ``sample_weight`` the percentiles
        that set ``offset_`` are those of the training scores repeated by
        their weights (fractional repetitions for real weights).

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

        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample: finite, non-negative and not all zero.
            The objective's means over the samples (of the squared
            reconstruction errors and, in the sparsity term, of the hidden
            activations) are weighted means, so that with
            ``solver="lbfgs"`` an integer weight counts a sample that many
            times and a zero weight drops it. The minibatch solvers weigh
            each minibatch's rows by their weights, as
            :class:`~sklearn.neural_network.MLPRegressor` does. None weighs
            every sample 1. For an Array API array X the weights are moved
            to X's device; for a dask array X they are a dask array (given
            X's row chunks) or a NumPy array (cut into them).

        Returns
        -------
        self : object
            The fitted detector, with ``offset_`` set from the training
            scores.
        """
        fitted, X, placement, sample_weight = self._fit_model(X, sample_weight)
        weights = tuple(fitted[name] for name in WEIGHT_ATTRIBUTES)
        with FinishingPass("the training scores that set offset_ were computed"):
            scores = placement.to_host(
                self._reconstruction_scores(X, weights, placement)
            )
        if sample_weight is not None:
            sample_weight = placement.to_host(sample_weight)
        if self.contamination == "auto":
            offset = tukey_lower_fence(scores, sample_weight)
        elif sample_weight is None:
            offset = float(np.percentile(scores, 100.0 * self.contamination))
        else:
            offset = weighted_percentile(
                scores, sample_weight, 100.0 * self.contamination
            )
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
