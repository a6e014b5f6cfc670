"""Sparse autoencoder transformer."""

# SPDX-License-Identifier: BSD-3-Clause

import warnings
from contextlib import nullcontext
from numbers import Real
from typing import NamedTuple

import numpy as np
import scipy.optimize
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _get_feature_names,
    check_array,
    check_is_fitted,
    validate_data,
)

from . import _backend_array_api, _backend_dask, _blas
from ._backend_array_api import ArrayAPIBackend
from ._backend_dask import DaskBackend, is_dask_collection
from ._backend_numpy import (
    NumpyBackend,
    encode,
    fit_block_rows,
    reconstruct,
    score_rows,
)
from ._objective import evaluate, initial_parameters, pack, unpack
from ._stopping import NoImprovement, check_fit_memory, optimiser_memory_bytes
from ._validation import (
    FLOAT_DTYPES,
    IntegerInterval,
    check_dask_array,
    check_finite_range,
    check_sample_count,
    outside_unit_interval,
    warn_if_outside_unit_interval,
    warn_if_saturated,
)


class _NonFiniteObjective(Exception):
    """The objective was not finite at a point L-BFGS-B asked for."""


# L-BFGS-B's gradient test uses tol / 10: with the gradient test at tol
# itself, fits on [0, 1] data stopped before their features had settled.
_GTOL_PER_TOL = 0.1

# scipy's default relative-reduction tolerance of L-BFGS-B (its ``ftol``).
_LBFGS_DEFAULT_FTOL = 2.2204460492503131e-09


class _Solution(NamedTuple):
    """What the L-BFGS loop returns to fit."""

    theta: np.ndarray
    loss: float
    loss_curve: list
    n_iter: int
    validation_scores: list


def _dominates(backend, theta, params, without):
    """Whether the gradient with ``params`` dwarfs the one ``without`` a penalty."""
    with np.errstate(all="ignore"), _blas.one_thread("numpy"):
        full = evaluate(backend, theta, **params).gradient
        rest = evaluate(backend, theta, **without).gradient
    scale = 1.0 / np.sqrt(np.finfo(backend.dtype).eps)
    return bool(np.max(np.abs(full)) > scale * max(np.max(np.abs(rest)), 1e-300))


def _finite_evaluation(backend, theta, params):
    """The evaluation at ``theta``, or None where it overflows or is not finite.

    Overflow, invalid values and division by zero raise inside it, so NaN
    never reaches the caller.
    """
    try:
        with (
            np.errstate(over="raise", invalid="raise", divide="raise"),
            _blas.one_thread("numpy"),
        ):
            result = evaluate(backend, theta, **params)
            finite = np.isfinite(result.loss) and np.all(np.isfinite(result.gradient))
    except FloatingPointError:
        return None
    return result if finite else None


def _finite_objective(backend, theta, params):
    """Whether the objective and its gradient are finite at ``theta``."""
    return _finite_evaluation(backend, theta, params) is not None


def compute_where_x_lives(estimator, X, method, *, on_dask, on_device, in_memory):
    """Validate X for a fitted model's ``method`` and compute it where X lives.

    ``on_dask(X, name)`` gets a lazily validated dask array,
    ``on_device(xp, X, name)`` an Array API array under dispatch (on the
    fitted model's namespace and device), ``in_memory(X, name)`` a NumPy
    array or CSR matrix; ``name`` is the estimator's class name, for messages.
    Feature counts and names are checked by scikit-learn's ``validate_data``
    for every kind of input.
    """
    check_is_fitted(estimator)
    name = type(estimator).__name__
    if is_dask_collection(X):
        # Feature count and names as validate_data checks them; the values
        # are checked chunk by chunk when computed.
        validate_data(estimator, X, reset=False, skip_check_array=True)
        return on_dask(check_dask_array(X, name), name)
    _backend_array_api.check_same_namespace(X, estimator, method)
    namespace = _backend_array_api.input_namespace(X, name)
    if namespace is not None:
        xp = namespace[0]
        X = validate_data(
            estimator, X, reset=False, dtype=_backend_array_api.float_dtypes(xp)
        )
        return on_device(xp, X, name)
    X = validate_data(
        estimator, X, accept_sparse="csr", reset=False, dtype=FLOAT_DTYPES
    )
    return in_memory(X, name)


def reconstruction_scores(estimator, X):
    """``score_samples`` of a fitted sparse autoencoder, wherever X lives."""
    check_is_fitted(estimator)
    weights = (
        estimator.components_,
        estimator.intercept_hidden_,
        estimator.decoder_components_,
        estimator.intercept_visible_,
    )
    decoder = estimator.decoder_activation
    return compute_where_x_lives(
        estimator,
        X,
        "score_samples",
        on_dask=lambda X, name: _backend_dask.score_samples(X, weights, decoder, name),
        on_device=lambda xp, X, name: _backend_array_api.score_rows(
            xp, X, weights, decoder, name
        ),
        in_memory=lambda X, name: score_rows(X, weights, decoder, name),
    )


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

    Under ``sklearn.set_config(array_api_dispatch=True)``, dense arrays of
    any Array API namespace (PyTorch on CPU or GPU, CuPy, array-api-strict)
    are fitted, transformed and scored on their own device and in their own
    float dtype; outputs and fitted attributes are arrays of that namespace
    and device. Only the parameter vector and the gradient cross to the host,
    where L-BFGS-B runs. See :ref:`array_api`.

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

    tol : float, default=5e-4
        Tolerance of the stopping rules. The fit stops when the objective
        (or, with ``early_stopping``, the held-out reconstruction error) has
        not decreased by more than ``tol`` times its best value so far for
        ``n_iter_no_change`` consecutive iterations, or when L-BFGS-B's
        largest projected gradient component falls below ``tol / 10``
        (scipy's ``gtol``). The improvement is relative because the objective's
        scale grows with the number of features. ``tol=0`` runs exactly
        ``max_iter`` iterations (unless the line search fails or ``max_fun``
        runs out first), without a ConvergenceWarning. The default stops
        within noise of the quality of longer fits on the problems measured
        in the user guide (:ref:`stopping`); raise ``tol`` to trade a little
        quality for time.

    max_fun : int, default=15000
        Maximum number of objective evaluations.

    n_iter_no_change : int, default=20
        Number of consecutive iterations without a relative improvement of
        more than ``tol`` after which the fit stops.

    early_stopping : bool, default=False
        Whether to hold out ``validation_fraction`` of the rows (drawn with
        ``random_state``), score them after each iteration, stop when that
        score stops improving, and keep the weights of the best score.
        Not supported for dask arrays.

    validation_fraction : float, default=0.1
        Fraction of the rows held out when ``early_stopping`` is True.

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

    validation_scores_ : list of float or None
        Mean :meth:`score_samples` of the held-out rows after each iteration,
        when ``early_stopping`` is True; None otherwise.

    best_validation_score_ : float or None
        The best of ``validation_scores_`` (the score of the kept weights),
        or None without early stopping.

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
        "n_components": [IntegerInterval(1, None, closed="left"), None],
        "rho": [Interval(Real, 0, 1, closed="neither")],
        "beta": [Interval(Real, 0, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "decoder_activation": [StrOptions({"sigmoid", "identity"})],
        "max_iter": [IntegerInterval(1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_fun": [IntegerInterval(1, None, closed="left")],
        "n_iter_no_change": [IntegerInterval(1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
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
        tol=5e-4,
        max_fun=15000,
        n_iter_no_change=20,
        early_stopping=False,
        validation_fraction=0.1,
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
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the autoencoder to X.

        A fit is never lost and never leaves a half-updated estimator: the
        fitted attributes, ``n_features_in_`` and ``feature_names_in_``
        included, are all replaced together at the end, so other threads may
        keep calling :meth:`transform` on the previous model while a refit
        runs. An interrupt (``KeyboardInterrupt``, e.g. Ctrl-C) during the
        optimisation keeps the best weights found so far as the fitted model,
        with a warning, and ``n_iter_`` and ``loss_curve_`` describe the
        iterations completed; any other error leaves the estimator exactly as
        it was before the call.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
            Training data. With ``decoder_activation="sigmoid"`` it should
            lie in [0, 1]. A row-chunked ``dask.array.Array`` is fitted on
            the cluster of the current ``dask.distributed`` client.

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        name = type(self).__name__
        # (xp, device) of Array API input under array_api_dispatch, else None.
        namespace = None
        if is_dask_collection(X):
            feature_names = None
            X = check_dask_array(X, name)
        else:
            feature_names = _get_feature_names(X)
            namespace = _backend_array_api.input_namespace(X, name)
            X = check_array(
                X,
                accept_sparse="csr",
                dtype=(
                    FLOAT_DTYPES
                    if namespace is None
                    else _backend_array_api.float_dtypes(namespace[0])
                ),
                estimator=self,
                input_name="X",
            )
        n_features = X.shape[1]
        n_components = (
            max(1, n_features // 4) if self.n_components is None else self.n_components
        )
        rng = check_random_state(self.random_state)
        X_train, X_val = self._split_validation(X, rng, namespace)
        with self._backend(X_train, n_components, namespace) as backend:
            check_sample_count(backend.n_samples, n_features, name)
            data_range = backend.value_range()
            check_finite_range(data_range)
            if self.decoder_activation == "sigmoid":
                warn_if_outside_unit_interval(data_range, backend.dtype)
            check_fit_memory(
                optimiser_memory_bytes(n_features, n_components)
                + backend.memory_bytes(),
                n_features,
                n_components,
            )
            theta0 = self._initial_theta(n_features, n_components, rng)
            held_out_score = (
                None
                if X_val is None
                else self._held_out_scorer(X_val, backend, namespace)
            )
            solution = self._minimize(backend, theta0, held_out_score, data_range)
            if not (
                np.isfinite(solution.loss) and np.all(np.isfinite(solution.theta))
            ):
                raise ValueError(
                    "Solver produced non-finite parameter weights. The input data "
                    "may contain large values and need to be preprocessed."
                )
            with _blas.one_thread("numpy"):
                activation_sums = backend.activation_sums(solution.theta)
            mean_activation = activation_sums / backend.n_samples
        W1, b1, W2, b2 = (
            np.array(w, dtype=backend.dtype, order="C")
            for w in unpack(solution.theta, n_features, n_components)
        )
        if namespace is None and not is_dask_collection(X):
            warn_if_saturated(X_train, W1, b1)
        components = np.ascontiguousarray(W1.T)
        mean_activation = mean_activation.astype(backend.dtype)
        if namespace is not None:
            # Fitted attributes live in the training data's namespace and device.
            components, b1, W2, b2, mean_activation = (
                _backend_array_api.to_device(a, *namespace)
                for a in (components, b1, W2, b2, mean_activation)
            )

        # Everything is published at once, after the last step that can fail.
        self.n_features_in_ = n_features
        if feature_names is None:
            if hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
        else:
            self.feature_names_in_ = feature_names
        self.components_ = components
        self.intercept_hidden_ = b1
        self.decoder_components_ = W2
        self.intercept_visible_ = b2
        self.mean_activation_ = mean_activation
        self.loss_ = solution.loss
        self.loss_curve_ = solution.loss_curve
        self.n_iter_ = solution.n_iter
        if self.early_stopping:
            self.validation_scores_ = solution.validation_scores
            self.best_validation_score_ = max(solution.validation_scores)
        else:
            self.validation_scores_ = None
            self.best_validation_score_ = None
        return self

    def _split_validation(self, X, rng, namespace):
        """Training rows and held-out rows (None without early stopping)."""
        if not self.early_stopping:
            return X, None
        if is_dask_collection(X):
            raise ValueError(
                "early_stopping=True is not supported for dask arrays: the "
                "held-out rows would have to be drawn across the cluster. Hold "
                "out a validation set yourself and compare score() after fits "
                "with increasing max_iter, or fit with early_stopping=False."
            )
        train, val = train_test_split(
            np.arange(X.shape[0]), test_size=self.validation_fraction, random_state=rng
        )
        train, val = np.sort(train), np.sort(val)
        if namespace is None:
            return X[train], X[val]
        xp, device = namespace
        return tuple(
            xp.take(X, xp.asarray(rows, device=device), axis=0)
            for rows in (train, val)
        )

    def _backend(self, X, n_components, namespace=None):
        """The evaluation backend for validated X, as a context manager.

        ``namespace`` is ``(xp, device)`` for Array API input under
        ``array_api_dispatch``, None otherwise.
        """
        if is_dask_collection(X):
            return DaskBackend(X, n_components, self.decoder_activation)
        if namespace is not None:
            xp, device = namespace
            return nullcontext(
                ArrayAPIBackend(
                    X, n_components, self.decoder_activation, xp=xp, device=device
                )
            )
        return NumpyBackend(X, n_components, self.decoder_activation)

    def _initial_theta(self, n_features, n_components, rng):
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
                *(
                    _backend_array_api.to_numpy(w)
                    for w in (
                        self.components_.T,
                        self.intercept_hidden_,
                        self.decoder_components_,
                        self.intercept_visible_,
                    )
                )
            )
        return initial_parameters(n_features, n_components, rng)

    def _minimize(self, backend, theta0, held_out_score, data_range):
        """Run L-BFGS-B on ``backend``'s data; return a :class:`_Solution`.

        Stops at the first of: L-BFGS-B's own tests (the projected gradient
        below ``tol``), ``n_iter_no_change`` iterations in a row that improve
        the objective (or, with ``held_out_score(theta)``, the held-out score)
        by less than ``tol`` relatively, ``max_iter`` iterations or
        ``max_fun`` evaluations. With early stopping the weights of the best
        held-out score are kept.

        Every evaluation runs under :func:`numpy.errstate` with overflow,
        invalid values and division by zero raised, and its result is checked:
        NaN never reaches the weights. A non-finite objective at ``theta0``
        raises a ValueError before any iteration; later on (a trial point of
        the line search overflowed) the optimisation stops with a
        ConvergenceWarning and keeps the best weights. Either message names
        the cause: a penalty too large for the arithmetic, or the data.

        A KeyboardInterrupt stops the optimisation and keeps the best weights
        evaluated so far (with a warning), so that a long fit is never lost;
        ``n_iter`` and ``loss_curve`` then describe the completed iterations.
        An interrupt before the first evaluation has nothing to keep and is
        re-raised.
        """
        loss_curve = []
        validation_scores = []
        # (theta, loss) of the lowest objective evaluated so far.
        best = {"theta": None, "loss": np.inf}
        # Where the objective stopped being finite, to say why.
        overflow = {"theta": None}
        # (theta, Evaluation) of the latest evaluation, for the progress lines.
        latest = {"theta": None, "evaluation": None}
        # Weights, training loss and iteration of the best held-out score.
        best_held_out = {"theta": None, "loss": None, "iteration": None}
        progress = NoImprovement(self.tol, self.n_iter_no_change)
        params = {"rho": self.rho, "beta": self.beta, "alpha": self.alpha}

        def objective(theta):
            result = _finite_evaluation(backend, theta, params)
            if result is None:
                overflow["theta"] = np.array(theta, copy=True)
                raise _NonFiniteObjective()
            loss = float(result.loss)
            # scipy may reuse the buffer behind ``theta``: keep copies.
            if loss < best["loss"]:
                best["theta"], best["loss"] = np.array(theta, copy=True), loss
            if self.verbose:
                latest["theta"] = np.array(theta, copy=True)
                latest["evaluation"] = result
            return loss, result.gradient

        def callback(intermediate_result):
            loss_curve.append(float(intermediate_result.fun))
            if self.verbose:
                if not np.array_equal(latest["theta"], intermediate_result.x):
                    objective(intermediate_result.x)
                self._print_progress(latest["evaluation"], len(loss_curve))
            if held_out_score is None:
                progress.update(loss_curve[-1])
            else:
                score = held_out_score(intermediate_result.x)
                validation_scores.append(score)
                progress.update(-score)
                if score >= max(validation_scores):
                    best_held_out["theta"] = np.array(intermediate_result.x, copy=True)
                    best_held_out["loss"] = loss_curve[-1]
                    best_held_out["iteration"] = len(loss_curve)
            if progress.should_stop:
                raise StopIteration

        try:
            # L-BFGS-B's own vector operations are tiny: a multi-threaded BLAS
            # only spins on them, and splitting them over threads would make
            # the result depend on the number of cores.
            with _blas.one_thread("scipy"):
                result = scipy.optimize.minimize(
                    objective,
                    theta0,
                    method="L-BFGS-B",
                    jac=True,
                    callback=callback,
                    options={
                        "maxiter": self.max_iter,
                        "maxfun": self.max_fun,
                        "gtol": self.tol * _GTOL_PER_TOL,
                        # tol=0 asks for a fixed budget: no relative-reduction
                        # test either.
                        "ftol": 0.0 if self.tol == 0 else _LBFGS_DEFAULT_FTOL,
                    },
                )
            theta, loss = result.x, float(result.fun)
            stop = result
        except _NonFiniteObjective:
            cause = self._overflow_cause(
                backend, overflow["theta"], best["theta"], data_range
            )
            if best["theta"] is None:
                raise ValueError(
                    "The sparse autoencoder objective is not finite (it "
                    f"overflows) at the initial weights. {cause}"
                ) from None
            warnings.warn(
                f"L-BFGS stopped after {len(loss_curve)} iteration(s): the "
                "objective was not finite (it overflowed) at a trial point. The "
                f"model keeps the best weights found so far. {cause}",
                ConvergenceWarning,
            )
            theta, loss, stop = best["theta"], best["loss"], None
        except KeyboardInterrupt:
            if best["theta"] is None:
                # Nothing was computed yet: there is no work to keep.
                raise
            warnings.warn(
                f"Training interrupted by the user after {len(loss_curve)} "
                "iteration(s); the model keeps the best weights found so far.",
                UserWarning,
            )
            theta, loss, stop = best["theta"], best["loss"], None

        n_iter = min(len(loss_curve), self.max_iter)
        # A fit the no-progress rule stopped ends with status 99 (StopIteration
        # from the callback); 1 and 2 are a budget or a failed line search.
        if (
            stop is not None
            and stop.status in (1, 2)
            and self.tol > 0
            and progress.still_improving
        ):
            self._warn_unconverged(stop, n_iter, data_range, backend.dtype)
        if best_held_out["theta"] is not None:
            theta, loss = best_held_out["theta"], best_held_out["loss"]
        return _Solution(theta, loss, loss_curve, n_iter, validation_scores)

    def _held_out_scorer(self, X_val, backend, namespace):
        """``theta -> mean score_samples of X_val``, computed where X_val lives."""
        name = type(self).__name__

        def held_out_score(theta):
            W1, b1, W2, b2 = unpack(
                theta.astype(backend.dtype), backend.n_features, backend.n_components
            )
            weights = (np.ascontiguousarray(W1.T), b1, W2, b2)
            with np.errstate(over="ignore", invalid="ignore"):
                if namespace is None:
                    # Blocks from the shape, as in the fit's evaluations: the
                    # stopping rule must not depend on working_memory.
                    batch_size = fit_block_rows(
                        *X_val.shape, backend.n_components, X_val.dtype.itemsize
                    )
                    scores = score_rows(
                        X_val, weights, self.decoder_activation, name, batch_size
                    )
                    return float(np.mean(scores))
                xp, device = namespace
                weights = [_backend_array_api.to_device(w, xp, device) for w in weights]
                scores = _backend_array_api.score_rows(
                    xp, X_val, weights, self.decoder_activation, name
                )
                return float(xp.mean(scores))

        return held_out_score

    def _overflow_cause(self, backend, theta, last_finite, data_range):
        """Why the objective overflowed at ``theta``: a penalty or the data.

        A penalty is at fault when the objective is finite without it at
        ``theta``, or when, at the last finite point, it outweighs the rest of
        the gradient by more than the working precision can carry (its step
        then throws L-BFGS-B to a point where nothing is finite).
        """
        params = {"rho": self.rho, "beta": self.beta, "alpha": self.alpha}
        reproducible = not _finite_objective(backend, theta, params)
        for penalty in ("beta", "alpha"):
            value = params[penalty]
            without = {**params, penalty: 0.0}
            if value == 0:
                continue
            if (reproducible and _finite_objective(backend, theta, without)) or (
                last_finite is not None
                and _dominates(backend, last_finite, params, without)
            ):
                return (
                    f"The {penalty}={value!r} penalty is too large for "
                    f"{backend.dtype} arithmetic. Use a smaller {penalty}."
                )
        where = "" if data_range is None else " (X is in [%.6g, %.6g])" % data_range
        return (
            f"The input data has values too large for the model{where}. Scale X, "
            "for instance with sklearn.preprocessing.StandardScaler or MinMaxScaler."
        )

    def _warn_unconverged(self, result, n_iter, data_range, dtype):
        """ConvergenceWarning for a fit stopped while it was still improving.

        ``result.status`` is 1 (``max_iter`` or ``max_fun`` ran out) or 2 (the
        line search failed).
        """
        reason = result.message.strip().rstrip(".:").strip()
        if result.status == 1 and n_iter >= self.max_iter:
            budget = f"it reached max_iter={self.max_iter}"
            remedy = "Increase max_iter to fit further."
        elif result.status == 1:
            budget = f"it reached max_fun={self.max_fun} objective evaluations"
            remedy = "Increase max_fun to fit further."
        else:  # status 2, the only other status the caller passes
            budget = f"the line search failed ({reason})"
            remedy = (
                "This often means that the data is badly scaled: scale X (for "
                "instance with sklearn.preprocessing.StandardScaler or "
                "MinMaxScaler)."
            )
        message = (
            f"The sparse autoencoder stopped after {n_iter} iteration(s) while "
            f"the objective was still improving by more than tol={self.tol} "
            f"(relative): {budget}. {remedy}"
        )
        if self.decoder_activation == "sigmoid" and outside_unit_interval(
            data_range, dtype
        ):
            message += " X is also outside [0, 1]: scale it to [0, 1]."
        warnings.warn(message.strip(), ConvergenceWarning)

    @staticmethod
    def _print_progress(evaluation, iteration):
        rho_hat = evaluation.mean_activation
        print(
            f"Iteration {iteration}: loss={evaluation.loss:.6g}, "
            f"reconstruction={evaluation.reconstruction:.6g}, "
            f"sparsity={evaluation.sparsity:.6g}, "
            f"mean activation={rho_hat.mean():.4f}, "
            f"active units (>0.1)={np.mean(rho_hat > 0.1):.3f}"
        )

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
        return compute_where_x_lives(
            self,
            X,
            "transform",
            on_dask=lambda X, name: _backend_dask.transform(
                X, self.components_, self.intercept_hidden_, name
            ),
            on_device=lambda xp, X, name: _backend_array_api.encode(
                xp, X, self.components_, self.intercept_hidden_, name
            ),
            in_memory=lambda X, name: encode(
                X, self.components_, self.intercept_hidden_, name
            ),
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
        if is_dask_collection(X):
            X = check_dask_array(X, name)
            self._check_hidden_columns(X.shape[1])
            return _backend_dask.inverse_transform(
                X,
                self.decoder_components_,
                self.intercept_visible_,
                self.decoder_activation,
                name,
            )
        _backend_array_api.check_same_namespace(X, self, "inverse_transform")
        namespace = _backend_array_api.input_namespace(X, name)
        if namespace is not None:
            xp = namespace[0]
            X = check_array(
                X, input_name="X", dtype=_backend_array_api.float_dtypes(xp)
            )
            self._check_hidden_columns(X.shape[1])
            return _backend_array_api.reconstruct(
                xp,
                X,
                self.decoder_components_,
                self.intercept_visible_,
                self.decoder_activation,
                name,
            )
        X = check_array(X, input_name="X", dtype=FLOAT_DTYPES)
        self._check_hidden_columns(X.shape[1])
        return reconstruct(
            X,
            self.decoder_components_,
            self.intercept_visible_,
            self.decoder_activation,
            name,
        )

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
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
            Data to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Scores, all lower than or equal to 0.
        """
        return reconstruction_scores(self, X)

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
        scores = self.score_samples(X)
        namespace = _backend_array_api.input_namespace(scores, type(self).__name__)
        if namespace is not None:
            return float(namespace[0].mean(scores))
        return float(np.mean(scores))

    @property
    def _n_features_out(self):
        """Number of transformed output features."""
        return self.components_.shape[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.array_api_support = True
        return tags
