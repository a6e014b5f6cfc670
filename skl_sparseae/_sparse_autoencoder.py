"""Sparse autoencoder transformer."""

# SPDX-License-Identifier: BSD-3-Clause

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.optimize
import scipy.sparse as sp
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    StrOptions,
)
from sklearn.utils.validation import check_array, check_is_fitted, validate_data
from threadpoolctl import threadpool_limits

from . import _dask
from ._objective import (
    SparseAutoencoderObjective,
    decode,
    hidden_activations,
    initial_parameters,
    pack,
    row_batch_size,
    squared_reconstruction_error,
    unpack,
)

# Integer parameters: ``Interval(Integral, ...)`` lets booleans through.
_INTEGER_PARAMETERS = {
    "n_components": "an int in the range [1, inf) or None",
    "max_iter": "an int in the range [1, inf)",
    "max_fun": "an int in the range [1, inf)",
}


class _NonFiniteObjective(Exception):
    """The objective was not finite at a point L-BFGS-B asked for."""


class SparseAutoencoderTransformer(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator
):
    r"""Sparse autoencoder with sigmoid hidden units, trained with L-BFGS.

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

    The weights are optimised with scipy's L-BFGS-B on one flattened
    parameter vector with the analytic gradient.

    Parameters
    ----------
    n_components : int, default=None
        Number of hidden units. None means ``max(1, n_features // 4)``.

    rho : float, default=0.05
        Target mean activation of each hidden unit, strictly between 0 and 1.

    beta : float, default=1.0
        Weight of the sparsity (KL divergence) penalty. ``beta=0`` gives a
        plain autoencoder.

    alpha : float, default=1e-4
        Weight decay (L2 penalty) on the weight matrices, not on the biases.

    decoder_activation : {"sigmoid", "identity"}, default="sigmoid"
        Output non-linearity of the decoder. "sigmoid" reconstructs data
        scaled to [0, 1] (see :class:`~sklearn.preprocessing.MinMaxScaler`);
        "identity" is the linear decoder for real-valued (for instance
        standardised or whitened) data.

    max_iter : int, default=400
        Maximum number of L-BFGS iterations.

    tol : float, default=1e-4
        L-BFGS-B stops when the largest component of the projected gradient
        falls below ``tol`` (scipy's ``gtol``).

    max_fun : int, default=15000
        Maximum number of objective evaluations.

    warm_start : bool, default=False
        When True, start from the weights of the previous call to fit
        instead of a new random initialisation. The data must have the same
        number of features and ``n_components`` must be unchanged.

    random_state : int, RandomState instance or None, default=None
        Determines the random initialisation of the weights. Pass an int for
        reproducible results across multiple function calls.
        See :term:`Glossary <random_state>`.

    verbose : int, default=0
        When positive, print one line per L-BFGS iteration: the objective,
        its reconstruction and sparsity terms, the mean hidden activation and
        the fraction of hidden units whose mean activation exceeds 0.1.

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

    loss_ : float
        Objective ``J`` at the solution.

    loss_curve_ : list of float
        Objective ``J`` after each L-BFGS iteration.

    n_iter_ : int
        Number of L-BFGS iterations run.

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :term:`fit`. Defined only when `X`
        has feature names that are all strings.

    See Also
    --------
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
    ...     n_components=32, rho=0.05, beta=3.0, random_state=0
    ... )
    >>> codes = sae.fit_transform(X)
    >>> codes.shape
    (1797, 32)
    >>> round(float(sae.mean_activation_.mean()), 2)
    0.05
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left"), None],
        "rho": [Interval(Real, 0, 1, closed="neither")],
        "beta": [Interval(Real, 0, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "decoder_activation": [StrOptions({"sigmoid", "identity"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "warm_start": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        n_components=None,
        *,
        rho=0.05,
        beta=1.0,
        alpha=1e-4,
        decoder_activation="sigmoid",
        max_iter=400,
        tol=1e-4,
        max_fun=15000,
        warm_start=False,
        random_state=None,
        verbose=0,
    ):
        self.n_components = n_components
        self.rho = rho
        self.beta = beta
        self.alpha = alpha
        self.decoder_activation = decoder_activation
        self.max_iter = max_iter
        self.tol = tol
        self.max_fun = max_fun
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the autoencoder to X.

        A fit is never lost and never leaves a half-updated estimator: an
        interrupt (``KeyboardInterrupt``, e.g. Ctrl-C) during the optimisation
        keeps the best weights found so far as the fitted model, with a
        warning, and ``n_iter_`` and ``loss_curve_`` describe the iterations
        completed; any other error leaves the estimator exactly as it was
        before the call.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. With ``decoder_activation="sigmoid"`` it should
            lie in [0, 1].

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        # ``validate_data(reset=True)`` sets n_features_in_ and
        # feature_names_in_ before the optimisation starts; on any failure
        # (KeyboardInterrupt included) the whole previous state comes back,
        # so the estimator is never left half updated.
        saved_state = dict(vars(self))
        try:
            fitted = self._fit(X)
        except BaseException:
            vars(self).clear()
            vars(self).update(saved_state)
            raise
        # Publish all fitted attributes together: a fit that fails above
        # leaves the previous model untouched.
        for name, value in fitted.items():
            setattr(self, name, value)
        return self

    def _fit(self, X):
        for name, expected in _INTEGER_PARAMETERS.items():
            value = getattr(self, name)
            if isinstance(value, (bool, np.bool_)):
                raise InvalidParameterError(
                    f"The {name!r} parameter of {type(self).__name__} must be "
                    f"{expected}. Got {value!r} instead."
                )
        if _dask.is_dask_collection(X):
            return _dask.fit(self, X)
        X = validate_data(self, X, accept_sparse="csr", dtype=(np.float64, np.float32))
        n_features = X.shape[1]
        if self.decoder_activation == "sigmoid":
            self._warn_if_outside_unit_interval(X)
        n_components = self._resolve_n_components(n_features)
        objective = SparseAutoencoderObjective(
            X, n_components, **self._objective_params()
        )
        return self._fit_objective(objective, n_features, n_components, X.dtype)

    def _resolve_n_components(self, n_features):
        return (
            max(1, n_features // 4) if self.n_components is None else self.n_components
        )

    def _objective_params(self):
        return {
            "rho": self.rho,
            "beta": self.beta,
            "alpha": self.alpha,
            "decoder_activation": self.decoder_activation,
        }

    def _fit_objective(self, objective, n_features, n_components, dtype):
        """Minimise ``objective`` from the initial weights; return fitted attributes.

        ``objective`` evaluates in memory or on a dask cluster: it only needs
        ``__call__(theta) -> (loss, float64 grad)``, ``last_terms_`` and
        ``mean_activation(theta)``.
        """
        theta0 = self._initial_theta(n_features, n_components)
        theta, loss, loss_curve, n_iter = self._minimize(objective, theta0)
        if not (np.isfinite(loss) and np.all(np.isfinite(theta))):
            raise ValueError(
                "Solver produced non-finite parameter weights. The input data may "
                "contain large values and need to be preprocessed."
            )
        W1, b1, W2, b2 = (
            np.array(w, dtype=dtype, order="C")
            for w in unpack(theta, n_features, n_components)
        )
        return {
            "components_": np.ascontiguousarray(W1.T),
            "intercept_hidden_": b1,
            "decoder_components_": W2,
            "intercept_visible_": b2,
            "mean_activation_": objective.mean_activation(theta).astype(dtype),
            "loss_": loss,
            "loss_curve_": loss_curve,
            "n_iter_": n_iter,
        }

    def _initial_theta(self, n_features, n_components):
        if self.warm_start and hasattr(self, "components_"):
            previous_components, previous_features = self.components_.shape
            if (previous_components, previous_features) != (n_components, n_features):
                raise ValueError(
                    "warm_start=True needs the same shape as the previous fit: "
                    f"it had n_features={previous_features} and "
                    f"n_components={previous_components}, now X has "
                    f"n_features={n_features} and n_components={n_components}. "
                    "Set warm_start=False to start from new random weights."
                )
            return pack(
                self.components_.T,
                self.intercept_hidden_,
                self.decoder_components_,
                self.intercept_visible_,
            )
        rng = check_random_state(self.random_state)
        return initial_parameters(n_features, n_components, rng)

    def _warn_if_outside_unit_interval(self, X):
        values = X.data if sp.issparse(X) else X
        if values.size == 0:
            return
        low, high = float(values.min()), float(values.max())
        if low < 0.0 or high > 1.0:
            warnings.warn(
                f"X has values in [{low:.3g}, {high:.3g}], but "
                "decoder_activation='sigmoid' can only reconstruct values in "
                "[0, 1]. Scale X to [0, 1] (for instance with "
                "sklearn.preprocessing.MinMaxScaler), or use "
                "decoder_activation='identity' for real-valued data.",
                UserWarning,
            )

    def _minimize(self, objective, theta0):
        """Run L-BFGS-B; return (theta, loss, loss_curve, n_iter).

        ``objective(theta)`` returns ``(loss, float64 gradient)``. Every
        evaluation runs under :func:`numpy.errstate` with overflow, invalid
        values and division by zero raised, and its result is checked: NaN
        never reaches the weights. A non-finite objective at ``theta0`` raises
        a ValueError before any iteration; later on (a trial point of the line
        search overflowed) the optimisation stops with a ConvergenceWarning and
        keeps the best weights. Answering L-BFGS-B with an infinite loss
        instead would make its line search shrink the step to nothing and
        report convergence, hiding the problem.

        A KeyboardInterrupt stops the optimisation and keeps the best weights
        evaluated so far (with a warning), so that a long fit is never lost;
        ``n_iter`` and ``loss_curve`` then describe the completed iterations.
        An interrupt before the first evaluation has nothing to keep and is
        re-raised.
        """
        loss_curve = []
        # (theta, loss) of the lowest objective evaluated so far.
        best = {"theta": None, "loss": np.inf}

        def evaluate(theta):
            try:
                with np.errstate(over="raise", invalid="raise", divide="raise"):
                    loss, grad = objective(theta)
                    loss = float(loss)
                    finite = np.isfinite(loss) and np.all(np.isfinite(grad))
            except FloatingPointError:
                finite = False
            if not finite:
                raise _NonFiniteObjective()
            if loss < best["loss"]:
                # scipy may reuse the buffer behind ``theta``: keep a copy.
                best["theta"], best["loss"] = np.array(theta, copy=True), loss
            return loss, grad

        def callback(intermediate_result):
            loss_curve.append(float(intermediate_result.fun))
            if self.verbose:
                self._print_progress(objective, intermediate_result, len(loss_curve))

        try:
            # L-BFGS-B's own vector operations are tiny, and a multi-threaded
            # BLAS spinning for them made fits up to 5x slower (see
            # benchmarks/README.md). The objective has already read how many
            # threads it may use for its row blocks, each on a one-thread BLAS.
            with threadpool_limits(limits=1, user_api="blas"):
                result = scipy.optimize.minimize(
                    evaluate,
                    theta0,
                    method="L-BFGS-B",
                    jac=True,
                    callback=callback,
                    options={
                        "maxiter": self.max_iter,
                        "maxfun": self.max_fun,
                        "gtol": self.tol,
                    },
                )
        except _NonFiniteObjective:
            if best["theta"] is None:
                raise ValueError(
                    "The sparse autoencoder objective is not finite (it "
                    "overflows) at the initial weights: the input data has "
                    "values too large for the model. Scale X, for instance with "
                    "sklearn.preprocessing.StandardScaler or MinMaxScaler."
                ) from None
            n_iter = len(loss_curve)
            warnings.warn(
                f"L-BFGS stopped after {n_iter} iteration(s): the objective "
                "was not finite (it overflowed) at a trial point. The model "
                "keeps the best weights found so far. Scale X (for instance "
                "with sklearn.preprocessing.StandardScaler or MinMaxScaler) "
                "to fit further.",
                ConvergenceWarning,
            )
            return best["theta"], best["loss"], loss_curve, n_iter
        except KeyboardInterrupt:
            if best["theta"] is None:
                # Nothing was computed yet: there is no work to keep.
                raise
            n_iter = len(loss_curve)
            warnings.warn(
                f"Training interrupted by the user after {n_iter} iteration(s); "
                "the model keeps the best weights found so far.",
                UserWarning,
            )
            return best["theta"], best["loss"], loss_curve, n_iter

        n_iter = min(int(result.nit), self.max_iter)
        theta, loss = result.x, float(result.fun)
        if result.status != 0:
            message = (
                f"L-BFGS failed to converge after {n_iter} iteration(s) "
                f"(status={result.status}): {result.message.rstrip('.')}."
            )
            if n_iter == self.max_iter:
                message += (
                    f" Increase the number of iterations (max_iter={self.max_iter})"
                    " or scale the data."
                )
            elif result.status == 2:
                message += (
                    " The line search failed, which often means that the data "
                    "is badly scaled: scale X (for instance with "
                    "sklearn.preprocessing.StandardScaler or MinMaxScaler)."
                )
            warnings.warn(message, ConvergenceWarning)
        return theta, loss, loss_curve, n_iter

    @staticmethod
    def _print_progress(objective, intermediate_result, iteration):
        terms = objective.last_terms_
        if terms is None or not np.array_equal(terms["theta"], intermediate_result.x):
            objective(intermediate_result.x)
            terms = objective.last_terms_
        rho_hat = terms["mean_activation"]
        print(
            f"Iteration {iteration}: loss={intermediate_result.fun:.6g}, "
            f"reconstruction={terms['reconstruction']:.6g}, "
            f"sparsity={terms['sparsity']:.6g}, "
            f"mean activation={rho_hat.mean():.4f}, "
            f"active units (>0.1)={np.mean(rho_hat > 0.1):.3f}"
        )

    def transform(self, X):
        """Hidden activations of X, each in (0, 1).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to encode.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components)
            Hidden activations ``sigmoid(X @ components_.T + intercept_hidden_)``.
        """
        check_is_fitted(self)
        if _dask.is_dask_collection(X):
            return _dask.transform(self, X)
        X = validate_data(
            self, X, accept_sparse="csr", reset=False, dtype=(np.float64, np.float32)
        )
        return self._encode(X)

    def inverse_transform(self, X):
        """Decode hidden activations back to input space.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Hidden activations, for instance the output of :meth:`transform`.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
            Reconstruction ``g(X @ decoder_components_ + intercept_visible_)``.
        """
        check_is_fitted(self)
        if _dask.is_dask_collection(X):
            return _dask.inverse_transform(self, X)
        X = check_array(X, input_name="X", dtype=(np.float64, np.float32))
        self._check_hidden_columns(X.shape[1])
        return self._decode(X)

    def _check_hidden_columns(self, n_columns):
        n_components = self.components_.shape[0]
        if n_columns != n_components:
            raise ValueError(
                f"X has {n_columns} columns, but inverse_transform expects "
                f"n_components={n_components} columns (the hidden activations)."
            )

    def score_samples(self, X):
        """Negative half squared reconstruction error of each sample.

        Higher is more normal, the scikit-learn convention for anomaly
        scores: ``-0.5 * ||x_i - inverse_transform(transform(x_i))||^2``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Scores, all lower than or equal to 0.
        """
        check_is_fitted(self)
        if _dask.is_dask_collection(X):
            return _dask.score_samples(self, X)
        X = validate_data(
            self, X, accept_sparse="csr", reset=False, dtype=(np.float64, np.float32)
        )
        return self._score(X)

    # The array-level computations below serve both the methods above and the
    # chunks of a dask array (see _dask.py), so that both give the same numbers
    # and the same overflow handling.

    def _encode(self, X):
        """Hidden activations of validated X."""
        return self._without_overflow(
            "transform",
            lambda: hidden_activations(X, self.components_.T, self.intercept_hidden_),
        )

    def _decode(self, A):
        """Reconstruction of validated hidden activations A."""
        return self._without_overflow(
            "inverse_transform",
            lambda: decode(
                A,
                self.decoder_components_,
                self.intercept_visible_,
                self.decoder_activation,
            ),
        )

    def _score(self, X):
        """score_samples of validated X (at least one row), block by block."""
        n_samples, n_features = X.shape
        batch_size = row_batch_size(
            n_samples, n_features, self.components_.shape[0], X.dtype.itemsize
        )
        errors = self._without_overflow(
            "score_samples",
            lambda: squared_reconstruction_error(
                X,
                self.components_.T,
                self.intercept_hidden_,
                self.decoder_components_,
                self.intercept_visible_,
                self.decoder_activation,
                batch_size,
            ),
        )
        errors *= -0.5
        return errors

    def _without_overflow(self, method, compute):
        """``compute()`` with overflow allowed to saturate, but never to give NaN.

        Finite data far larger than the training data can overflow the
        products: +-inf is still a meaningful answer (a saturated unit, an
        infinitely bad reconstruction), NaN (inf - inf) is not.
        """
        with np.errstate(over="ignore", invalid="ignore"):
            result = compute()
        if np.isnan(result).any():
            raise ValueError(
                f"{method} overflowed: X has values too large for this "
                f"{type(self).__name__}. Scale X the way the training data was "
                "scaled (for instance with the same MinMaxScaler or StandardScaler)."
            )
        return result

    def score(self, X, y=None):
        """Mean of :meth:`score_samples` over X.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to score.

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        score : float
            Mean negative half squared reconstruction error.
        """
        return float(np.mean(self.score_samples(X)))

    @property
    def _n_features_out(self):
        """Number of transformed output features."""
        return self.components_.shape[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
