"""Sparse autoencoder transformer."""

# SPDX-License-Identifier: BSD-3-Clause

from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ._backends._placement import locate
from ._base import _BaseSparseAutoencoder, available_with_solvers
from ._sklearn_compat import _fit_context


class SparseAutoencoderTransformer(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, _BaseSparseAutoencoder
):
    r"""Sparse autoencoder with sigmoid hidden units, trained with L-BFGS, Adam or SGD.

    A one-hidden-layer autoencoder whose hidden activations are pushed towards
    a small mean activation ``rho`` by a Kullback-Leibler penalty, so that
    each input excites only a few hidden units. The hidden activations are
    the transformed features; the decoder maps them back to input space.

    For ``X`` of shape (m, d) and ``h = n_components`` hidden units, the model
    is ``A = sigmoid(X @ W1 + b1)`` and ``X_hat = g(A @ W2 + b2)`` with ``g``
    the sigmoid or the identity (``decoder_activation``), and the fit
    minimises

    .. math::

        J = \frac{1}{2m} \sum_{i=1}^{m} \lVert x_i - \hat{x}_i \rVert^2
            + \frac{\alpha}{2} \left(\lVert W_1 \rVert_F^2
            + \lVert W_2 \rVert_F^2\right)
            + \beta \sum_{j=1}^{h} \mathrm{KL}(\rho \,\|\, \hat{\rho}_j)

    where :math:`\hat{\rho}_j` is the mean activation of hidden unit ``j``
    over the training samples and
    :math:`\mathrm{KL}(p \| q) = p \log\frac{p}{q}
    + (1 - p) \log\frac{1 - p}{1 - q}`.
    The reconstruction term sums the squared error over features and
    averages it over samples (the CS294A / UFLDL form), which is what makes
    ``beta`` around 1 to 3 a balanced choice; it is *not* the element-wise
    mean squared error. Biases are not decayed.

    By default the weights are optimised with scipy's L-BFGS-B on one
    flattened parameter vector with the analytic gradient, a full pass over
    the data per evaluation. ``solver="adam"`` or ``"sgd"`` instead takes
    one step per minibatch of rows, on the same objective with its means
    taken over the batch, and :meth:`partial_fit` trains on data that
    arrives in pieces; see :ref:`choosing_solver`.

    Under ``sklearn.set_config(array_api_dispatch=True)``, dense arrays of
    any Array API namespace (PyTorch on CPU or GPU, CuPy, array-api-strict)
    are fitted, transformed and scored on their own device and in their own
    float dtype; outputs and fitted attributes are arrays of that namespace
    and device. With L-BFGS only the parameter vector and the gradient cross
    to the host, where L-BFGS-B runs; the minibatch solvers run entirely on
    the device. See :ref:`array_api`.

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

    Attributes
    ----------
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
    SparseAutoencoderOutlierDetector : The same model with scikit-learn's
        outlier-detector API (``predict``, ``decision_function``, ``offset_``).
    sklearn.neural_network.BernoulliRBM : Restricted Boltzmann machine, another
        non-linear feature learner with a transformer interface.
    sklearn.neural_network.MLPRegressor : Multi-layer perceptron; fitted on
        ``(X, X)`` it is an autoencoder without the sparsity penalty.
    sklearn.decomposition.PCA : Linear dimensionality reduction.
    sklearn.decomposition.DictionaryLearning : Sparse codes from a linear
        dictionary.

    References
    ----------
    .. [1] A. Ng, "Sparse autoencoder", CS294A Lecture notes, Stanford
       University, 2011.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skl_sparseae import SparseAutoencoderTransformer
    >>> X, _ = load_digits(return_X_y=True)
    >>> X = X / 16.0  # the sigmoid decoder reconstructs values in [0, 1]
    >>> sae = SparseAutoencoderTransformer(
    ...     n_components=32, rho=0.05, random_state=0
    ... )
    >>> codes = sae.fit_transform(X)
    >>> codes.shape
    (1797, 32)
    >>> round(float(sae.mean_activation_.mean()), 2)
    0.05
    """

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

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Fit the autoencoder to X.

        A fit is never lost and never leaves a half-updated estimator: the
        fitted attributes, ``n_features_in_`` and ``feature_names_in_``
        included, are all replaced together at the end, so other threads may
        keep calling :meth:`transform` on the previous model while a refit
        runs. An interrupt (``KeyboardInterrupt``, e.g. Ctrl-C) during the
        optimisation keeps a fitted model, with a warning: L-BFGS keeps the
        best weights found so far, the minibatch solvers the weights of
        their last completed step (with ``early_stopping``, both keep those
        of their best-scored iteration or epoch), and ``n_iter_``,
        ``loss_curve_`` and ``validation_scores_`` describe the iterations
        or epochs completed, one whose held-out scoring was interrupted
        excluded. An interrupt after the optimisation, while the model's
        mean activations are measured in a last pass over X, is held until
        that pass ends and keeps the whole fit, with a warning. An
        interrupt before anything was computed is
        raised again. Any other error leaves the estimator exactly as it was
        before the call.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
            Training data. With ``decoder_activation="sigmoid"`` it should
            lie in [0, 1]. A row-chunked ``dask.array.Array`` is fitted on
            the cluster of the current ``dask.distributed`` client.

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
            The fitted estimator.
        """
        fitted, _, _, _ = self._fit_model(X, sample_weight)
        self._publish(fitted)
        return self

    @available_with_solvers("sgd", "adam")
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None, sample_weight=None):
        """Update the model with one epoch of minibatch steps over X.

        The first call starts from new random weights (or, on a fitted model,
        from its weights); each later call goes on from the weights and the
        whole optimizer state of the previous one (Adam's moments and step
        count, SGD's velocity and learning rate, the order of the batches),
        so that calls over the pieces of a data set train like the epochs of
        :meth:`fit`. ``n_iter_`` counts the calls, ``loss_curve_`` gets one
        mean minibatch loss per call, ``t_`` counts the samples seen and
        ``mean_activation_`` is measured on the rows of the latest call.
        ``early_stopping`` and ``max_iter`` do not apply: ``partial_fit``
        never stops on its own, and does not warn when the mean activation
        misses ``rho``. ``alpha="auto"`` is computed from the rows of the
        first call on an unfitted model, and later calls keep it. Only for
        ``solver="sgd"`` or ``"adam"``: with ``solver="lbfgs"`` the
        estimator has no ``partial_fit`` attribute.

        A call that fails, an epoch that overflows included (a
        ValueError that names the learning rate), leaves the previous model
        and its optimizer state untouched. An interrupt
        (``KeyboardInterrupt``) keeps the weights and the optimizer state of
        the last completed minibatch step, with a warning; one before the
        call's first step is raised again.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
            Training rows. A dask array is gathered to this process one chunk
            at a time.

        y : Ignored
            Not used, present for API consistency by convention.

        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each of the call's samples: finite, non-negative and
            not all zero. Each minibatch's means over its rows (of the
            squared reconstruction errors and, in the sparsity term, of the
            hidden activations) are weighted by the rows' weights and
            divided by their sum, as
            :class:`~sklearn.neural_network.MLPRegressor` does; a batch
            whose weights are all zero takes no step. None weighs every
            sample 1. For an Array API array X the weights are moved to X's
            device; for a dask array X they are a dask array (given X's row
            chunks) or a NumPy array (cut into them).

        Returns
        -------
        self : object
            The updated estimator.
        """
        fitted, _, _, _ = self._fit_model(X, sample_weight, incremental=True)
        self._publish(fitted)
        return self

    def transform(self, X):
        """Hidden activations of X, each in (0, 1).

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
            Data to encode. A dask array gives a lazy dask array, computed
            with the weights of this fit even if the estimator is refitted
            before it is computed.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components)
            Hidden activations ``sigmoid(X @ components_.T + intercept_hidden_)``.
        """
        X, placement = self._validated(X, "transform")
        return placement.encode(
            X, self.components_, self.intercept_hidden_, type(self).__name__
        )

    def inverse_transform(self, X):
        """Decode hidden activations back to input space.

        Parameters
        ----------
        X : {array-like, dask array} of shape (n_samples, n_components)
            Hidden activations, for instance the output of :meth:`transform`.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
            Reconstruction ``g(X @ decoder_components_ + intercept_visible_)``.
        """
        check_is_fitted(self)
        name = type(self).__name__
        placement = locate(X, name)
        X = placement.check_hidden_input(X, self)
        n_components = self.components_.shape[0]
        if X.shape[1] != n_components:
            raise ValueError(
                f"X has {X.shape[1]} columns, but inverse_transform expects "
                f"n_components={n_components} columns (the hidden activations)."
            )
        return placement.reconstruct(
            X,
            self.decoder_components_,
            self.intercept_visible_,
            self.decoder_activation,
            name,
        )

    def score(self, X, y=None, sample_weight=None):
        """Mean of :meth:`score_samples` over X.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to score.

        y : Ignored
            Not used, present for API consistency by convention.

        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples' scores in the mean, checked as
            :meth:`fit` checks its ``sample_weight``. None weighs every
            sample 1.

        Returns
        -------
        score : float
            Mean negative half squared reconstruction error, weighted by
            ``sample_weight`` when given.
        """
        X, placement = self._validated(X, "score_samples")
        scores = self._reconstruction_scores(X, placement=placement)
        if sample_weight is not None:
            sample_weight = placement.check_sample_weight(sample_weight, X, self)
        return placement.mean(scores, sample_weight)

    @property
    def _n_features_out(self):
        """Number of transformed output features."""
        return self.components_.shape[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
