"""The base class of both estimators: parameters, validation, fit, publication.

:class:`_BaseSparseAutoencoder` owns what :class:`SparseAutoencoderTransformer`
and :class:`SparseAutoencoderOutlierDetector` share, as scikit-learn's
``BaseMultilayerPerceptron`` and ``_BaseSparseCoding`` do for theirs: the
parameters and their constraints, where the data lives (decided once per
call, :mod:`skl_sparseae._backends._placement`), the choice of solver, the fit itself
and the publication of its results, and the reconstruction scores. The
public classes write out their own constructors and docstrings, and add
their own methods.
"""

# SPDX-License-Identifier: BSD-3-Clause

from abc import ABC, abstractmethod
from functools import update_wrapper, wraps
from numbers import Real
from types import MethodType
from typing import NamedTuple

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from . import _blas
from ._backends._placement import locate, moved_model
from ._lbfgs import lbfgs_scale, minimize_lbfgs
from ._memory import (
    check_fit_memory,
    optimiser_memory_bytes,
    stochastic_memory_bytes,
)
from ._minibatch import (
    InterruptGuard,
    MinibatchPlan,
    MinibatchState,
    minimize_stochastic,
    resolve_batch_size,
)
from ._objective import Objective, initial_parameters, pack, to_numpy, unpack
from ._optimizers import AdamOptimizer, SGDOptimizer
from ._progress import Progress
from ._sklearn_compat import Interval, StrOptions
from ._user_warnings import warn
from ._validation import (
    SATURATION_SAMPLE_ROWS,
    IntegerInterval,
    check_finite_range,
    check_sample_count,
    outside_unit_interval,
    warn_if_decoder_scaling_extreme,
    warn_if_outside_unit_interval,
    warn_if_saturated,
    warn_if_sparsity_missed,
)

# alpha="auto" is this times the training rows' total variance (the sum of
# the features' variances): the reconstruction error is a sum over the
# features, so a weight decay in proportion keeps the balance between them
# whatever the data's scale.
AUTO_ALPHA_FACTOR = 5e-5

# The fitted weights, in the order of the flattened parameter vector's blocks.
WEIGHT_ATTRIBUTES = (
    "components_",
    "intercept_hidden_",
    "decoder_components_",
    "intercept_visible_",
)


class _Solution(NamedTuple):
    """What a solver's run gives the publication, whichever the solver."""

    theta: np.ndarray
    loss: float
    loss_curve: list
    n_iter: int
    validation_scores: list
    mean_activation: np.ndarray
    # The minibatch solvers' state, for partial_fit to go on from.
    minibatch_state: MinibatchState | None = None
    # The loss overflowed or grew over the fit, and a warning named the
    # learning rate: the saturation it leaves is a symptom, not a cause to
    # warn about.
    diverged: bool = False
    # The weight decay the objective used (``alpha_``).
    alpha: float = 0.0


def _check_finite_solution(theta, loss):
    if not (np.isfinite(loss) and np.all(np.isfinite(theta))):
        raise ValueError(
            "Solver produced non-finite parameter weights. The input data "
            "may contain large values and need to be preprocessed."
        )


def _overflow_advice(cause, value_range):
    """The cause of an overflow (an :class:`~._lbfgs.OverflowCause`), and its remedy."""
    if cause.culprit in ("beta", "alpha"):
        return (
            f"The {cause.culprit}={cause.value!r} penalty is too large for "
            f"{cause.dtype} arithmetic. Use a smaller {cause.culprit}."
        )
    if cause.culprit == "scale":
        return (
            f"decoder_scaling multiplies L-BFGS-B's steps on the decoder's "
            f"weights by {cause.value:g}, too much for the arithmetic. Use a "
            "smaller decoder_scaling (1 or 'auto')."
        )
    where = "" if value_range is None else " (X is in [%.6g, %.6g])" % value_range
    return (
        f"The input data has values too large for the model{where}. Scale X, "
        "for instance with sklearn.preprocessing.StandardScaler or MinMaxScaler."
    )


def _warn_unconverged(result, *, max_iter, max_fun, tol, unit_interval_hint):
    """ConvergenceWarning for an L-BFGS fit stopped while it was still improving.

    ``result.status`` (an :class:`~._lbfgs.LBFGSResult`'s) is ``"max_iter"``,
    ``"max_fun"`` or ``"line_search"``, with scipy's ``result.message``.
    """
    if result.status == "max_iter":
        budget = f"it reached max_iter={max_iter}"
        remedy = "Increase max_iter to fit further."
    elif result.status == "max_fun":
        budget = f"it reached max_fun={max_fun} objective evaluations"
        remedy = "Increase max_fun to fit further."
    else:
        reason = result.message.strip().rstrip(".:").strip()
        budget = f"the line search failed ({reason})"
        remedy = (
            "This often means that the data is badly scaled: scale X (for "
            "instance with sklearn.preprocessing.StandardScaler or "
            "MinMaxScaler)."
        )
    message = (
        f"The sparse autoencoder stopped after {result.n_iter} iteration(s) "
        f"while the objective was still improving by more than tol={tol} "
        f"(relative): {budget}. {remedy}"
    )
    if unit_interval_hint:
        message += " X is also outside [0, 1]: scale it to [0, 1]."
    warn(message.strip(), ConvergenceWarning)


class FinishingPass(InterruptGuard):
    """Runs a pass over X that follows the solver's last step to its end.

    The fit is done by then, and the pass (the mean activations, the
    saturation check, the detector's training scores) completes the model:
    as a context manager, a Ctrl-C during the pass is held until it ends
    (see :class:`~skl_sparseae._minibatch.InterruptGuard`) and then, like
    one during the solver's loop, keeps the fit with a warning. ``what``
    says what the pass does, for the warning.
    """

    def __init__(self, what):
        super().__init__()
        self.what = what

    def __enter__(self):
        super().__enter__()
        self.hold()
        return self

    def __exit__(self, exc_type, *exc_info):
        try:
            if exc_type is None:
                self.release()
        except KeyboardInterrupt:
            warn(
                "Training interrupted by the user after the solver's last "
                f"step, while {self.what}: that pass over X was finished "
                "first, and the model keeps the whole fit.",
                UserWarning,
            )
        finally:
            super().__exit__(exc_type, *exc_info)
        return False


class _SolverMethod:
    """A method that only some solvers have, as with scikit-learn's ``available_if``.

    Under the other solvers ``hasattr(estimator, name)`` is False, so that
    meta-estimators and scikit-learn's checks pass it by, and the
    AttributeError says which solvers have the method.
    """

    def __init__(self, fn, solvers):
        self.fn = fn
        self.solvers = solvers
        update_wrapper(self, fn)

    def __set_name__(self, owner, name):
        self.name = name

    def _check(self, obj):
        if obj.solver not in self.solvers:
            which = " or ".join(f"solver={solver!r}" for solver in self.solvers)
            raise AttributeError(
                f"This {type(obj).__name__!r} has no attribute {self.name!r} "
                f"with solver={obj.solver!r}: {self.name} is only available "
                f"with {which}, which train on batches of rows. Set "
                f"solver={self.solvers[-1]!r} to use it.",
                name=self.name,
                obj=obj,
            )

    def __get__(self, obj, owner=None):
        if obj is not None:
            self._check(obj)
            return MethodType(self.fn, obj)

        # From the class (for the documentation, or to call on an instance).
        @wraps(self.fn)
        def method(*args, **kwargs):
            self._check(args[0])
            return self.fn(*args, **kwargs)

        return method


def available_with_solvers(*solvers):
    """Make the decorated method exist only under ``solvers``."""
    return lambda fn: _SolverMethod(fn, solvers)


class _BaseSparseAutoencoder(BaseEstimator, ABC):
    """Base class of the sparse autoencoder estimators.

    Warning: This class should not be used directly. Use the derived
    classes instead.
    """

    _parameter_constraints: dict = {
        "n_components": [IntegerInterval(1, None, closed="left"), None],
        "rho": [Interval(Real, 0, 1, closed="neither")],
        "beta": [Interval(Real, 0, None, closed="left")],
        "alpha": [StrOptions({"auto"}), Interval(Real, 0, None, closed="left")],
        "decoder_activation": [StrOptions({"sigmoid", "identity"})],
        "solver": [StrOptions({"lbfgs", "sgd", "adam"})],
        "batch_size": [StrOptions({"auto"}), IntegerInterval(1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "shuffle": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [IntegerInterval(1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_fun": [IntegerInterval(1, None, closed="left")],
        "n_iter_no_change": [IntegerInterval(1, None, closed="left")],
        "decoder_scaling": [
            StrOptions({"auto"}),
            Interval(Real, 0, None, closed="neither"),
        ],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "warm_start": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    # The HTML repr's "?" button needs the address of the API pages, and the
    # documentation has no public address: scikit-learn's _get_doc_link gives
    # no link for a class outside _doc_link_module ("sklearn"). Set
    # _doc_link_module = "skl_sparseae" and _doc_link_template to that
    # address, as plain strings, once there is one.

    @abstractmethod
    def __init__(
        self,
        n_components,
        *,
        rho,
        beta,
        alpha,
        decoder_activation,
        solver,
        batch_size,
        learning_rate,
        learning_rate_init,
        power_t,
        max_iter,
        shuffle,
        tol,
        max_fun,
        n_iter_no_change,
        decoder_scaling,
        early_stopping,
        validation_fraction,
        momentum,
        nesterovs_momentum,
        beta_1,
        beta_2,
        epsilon,
        warm_start,
        random_state,
        verbose,
    ):
        self.n_components = n_components
        self.rho = rho
        self.beta = beta
        self.alpha = alpha
        self.decoder_activation = decoder_activation
        self.solver = solver
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.shuffle = shuffle
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.max_iter = max_iter
        self.tol = tol
        self.max_fun = max_fun
        self.n_iter_no_change = n_iter_no_change
        self.decoder_scaling = decoder_scaling
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------
    # Fitting.

    def _fit_model(self, X, sample_weight=None, incremental=False):
        """Fit on X without touching the estimator.

        ``incremental`` (``partial_fit``) runs one epoch of a stochastic
        solver, continuing the previous call's weights and optimizer state.
        Returns ``(fitted, X, placement, sample_weight)``: the fitted
        attributes as a dict (published by :meth:`_publish`), the validated
        X, its placement and the validated sample weights (None without).
        """
        name = type(self).__name__
        placement = locate(X, name)
        # partial_fit on a fitted model goes on from its weights, as MLP's does.
        continuing = incremental and hasattr(self, "components_")
        if continuing:
            # Later calls must bring the features (and names) of the first.
            X = placement.check_fitted_input(X, self, "partial_fit")
            feature_names = getattr(self, "feature_names_in_", None)
        else:
            feature_names = placement.feature_names(X)
            X = placement.check_fit_input(X, self)
        if sample_weight is not None:
            sample_weight = placement.check_sample_weight(sample_weight, X, self)
        n_features = X.shape[1]
        n_components = (
            max(1, n_features // 4) if self.n_components is None else self.n_components
        )
        if self.solver == "lbfgs":
            solution, dtype, X_train = self._fit_lbfgs(
                X, sample_weight, placement, n_features, n_components
            )
        else:
            solution, dtype, X_train = self._fit_stochastic(
                X,
                sample_weight,
                placement,
                n_features,
                n_components,
                incremental,
                continuing,
            )
        W1, b1, W2, b2 = (
            np.array(w, dtype=dtype, order="C")
            for w in unpack(solution.theta, n_features, n_components)
        )
        if not solution.diverged:
            with FinishingPass("the hidden units were checked for saturation"):
                saturated = warn_if_saturated(
                    placement.first_rows(X_train, SATURATION_SAMPLE_ROWS), W1, b1
                )
            # Only fit: each partial_fit call measures the activations on its
            # own rows, after one epoch. Saturated units miss rho for the
            # cause that warning names.
            if not (incremental or saturated):
                warn_if_sparsity_missed(solution.mean_activation, self.rho, self.beta)
        components = np.ascontiguousarray(W1.T)
        mean_activation = solution.mean_activation.astype(dtype)
        fitted = {
            "n_features_in_": n_features,
            "feature_names_in_": feature_names,
            # Fitted arrays live in the training data's namespace and device.
            **{
                attribute: placement.to_data(array)
                for attribute, array in zip(
                    WEIGHT_ATTRIBUTES + ("mean_activation_",),
                    (components, b1, W2, b2, mean_activation),
                )
            },
            "alpha_": solution.alpha,
            "loss_": solution.loss,
            "loss_curve_": solution.loss_curve,
            "n_iter_": solution.n_iter,
        }
        if solution.minibatch_state is not None:
            fitted["t_"] = solution.minibatch_state.n_samples_seen
            fitted["_minibatch_state"] = solution.minibatch_state
        if self.early_stopping and not incremental:
            scores = solution.validation_scores
            fitted["validation_scores_"] = scores
            # No completed iteration (an interrupt, an overflow at the first
            # trial point) has no held-out score.
            fitted["best_validation_score_"] = max(scores) if scores else None
        else:
            fitted["validation_scores_"] = None
            fitted["best_validation_score_"] = None
        return fitted, X, placement, sample_weight

    def _check_training_rows(self, n_samples, n_features, value_range, dtype):
        check_sample_count(n_samples, n_features, type(self).__name__)
        check_finite_range(value_range)
        if self.decoder_activation == "sigmoid":
            warn_if_outside_unit_interval(value_range, dtype)

    def _fit_lbfgs(self, X, sample_weight, placement, n_features, n_components):
        """L-BFGS on all of X; ``(_Solution, working dtype, training rows)``."""
        name = type(self).__name__
        rng = check_random_state(self.random_state)
        X_train, X_val, w_train, w_val = self._split_validation(
            X, rng, placement, sample_weight
        )
        with placement.backend(
            X_train, n_components, self.decoder_activation, sample_weight=w_train
        ) as backend:
            value_range = backend.value_range()
            self._check_training_rows(
                backend.n_samples, n_features, value_range, backend.dtype
            )
            check_fit_memory(
                optimiser_memory_bytes(n_features, n_components)
                + backend.memory_bytes(),
                n_features,
                n_components,
            )
            warn_if_decoder_scaling_extreme(
                self.decoder_scaling, self.rho, self.decoder_activation
            )
            alpha = self._resolve_alpha(X_train, placement, w_train)
            theta0 = self._initial_theta(n_features, n_components, rng)
            held_out_score = self._held_out_scorer(
                X_val, (backend.dtype, n_features, n_components), placement, w_val
            )
            objective = self._objective(backend, alpha)
            progress = Progress(name, self.verbose)
            result = minimize_lbfgs(
                objective,
                theta0,
                max_iter=self.max_iter,
                max_fun=self.max_fun,
                tol=self.tol,
                n_iter_no_change=self.n_iter_no_change,
                held_out_score=held_out_score,
                on_iteration=progress.lbfgs_callback(),
                scale=lbfgs_scale(
                    self.decoder_scaling,
                    self.rho,
                    n_features,
                    n_components,
                    self.decoder_activation,
                ),
            )
            # The stop line comes before the warnings that explain it.
            progress.stopped(result.n_iter, result.stop_reason)
            self._check_lbfgs_result(result, value_range, backend.dtype)
            _check_finite_solution(result.theta, result.loss)
            with (
                FinishingPass("the mean hidden activations were measured"),
                _blas.one_thread(),
            ):
                column_sums = backend.activation_sums(result.theta).column_sums
            solution = _Solution(
                result.theta,
                result.loss,
                result.loss_curve,
                result.n_iter,
                result.validation_scores,
                column_sums / backend.total_weight,
                alpha=alpha,
            )
            return solution, backend.dtype, X_train

    def _fit_stochastic(
        self,
        X,
        sample_weight,
        placement,
        n_features,
        n_components,
        incremental,
        continuing,
    ):
        """Minibatch epochs (SGD or Adam); ``(_Solution, dtype, training rows)``."""
        name = type(self).__name__
        xp = placement.xp
        state = None
        if continuing and hasattr(self, "_minibatch_state"):
            state = self._minibatch_state.copy()
        rng = check_random_state(self.random_state)
        # partial_fit has no held-out rows: each call brings its own rows.
        X_train, X_val, w_train, w_val = (
            (X, None, sample_weight, None)
            if incremental
            else self._split_validation(X, rng, placement, sample_weight)
        )
        dtype = placement.dtype(X_train)
        n_samples = X_train.shape[0]
        # A dask array's values are checked chunk by chunk as the epochs
        # stream them (no value range here), and a row count that dask only
        # knows once the chunks are computed (NaN here) by the epoch.
        self._check_training_rows(
            n_samples, n_features, placement.value_range(X_train), dtype
        )
        check_fit_memory(
            stochastic_memory_bytes(n_features, n_components, dtype.itemsize),
            n_features,
            n_components,
        )
        if continuing:
            theta0 = self._initial_theta(
                n_features, n_components, None, from_fitted=True
            )
        else:
            # New weights start with the hidden biases at logit(rho): every
            # unit starts near its target activation. From zero biases the
            # sparsity term's gradient dominates the first steps, which Adam
            # normalises to full size, and drives the units to a plateau
            # where they all stay off (the decoder then outputs the mean).
            theta0 = self._initial_theta(
                n_features,
                n_components,
                rng,
                hidden_bias=np.log(self.rho / (1.0 - self.rho)),
            )
        # A later partial_fit keeps the first call's weight decay: each call
        # brings its own rows, and the objective must not change between them.
        alpha = (
            self.alpha_
            if continuing and self.alpha == "auto"
            else self._resolve_alpha(X_train, placement, w_train)
        )
        # The solver's vector: the working dtype, where the data lives.
        theta = placement.to_data(theta0.astype(dtype))
        if state is None:
            state = MinibatchState(self._make_optimizer(theta, xp), rng)
        plan = MinibatchPlan(
            n_components,
            {"rho": self.rho, "beta": self.beta, "alpha": alpha},
            self.decoder_activation,
            resolve_batch_size(self.batch_size, n_samples),
            self.shuffle,
        )
        runner = placement.epoch_runner(
            X_train, plan, estimator_name=name, sample_weight=w_train
        )
        held_out_score = self._held_out_scorer(
            X_val, (dtype, n_features, n_components), placement, w_val
        )
        progress = Progress(name, self.verbose, unit="Epoch")
        # Epochs are numbered as n_iter_ counts them, on from a previous fit.
        n_iter_before = self.n_iter_ if continuing else 0
        # The runner's step threads stop when the epochs end.
        with runner:
            result = minimize_stochastic(
                runner,
                theta,
                state,
                max_iter=self.max_iter,
                tol=self.tol,
                n_iter_no_change=self.n_iter_no_change,
                held_out_score=held_out_score,
                progress=progress if progress.enabled else None,
                first_epoch=n_iter_before + 1,
                incremental=incremental,
            )
        theta = to_numpy(result.theta).astype(np.float64)
        previous = list(getattr(self, "loss_curve_", [])) if continuing else []
        loss_curve = previous + result.loss_curve
        # The last completed epoch's loss; before any, that of the steps
        # an interrupt left.
        loss = loss_curve[-1] if loss_curve else result.loss
        _check_finite_solution(theta, loss)
        W1, b1, _, _ = unpack(theta.astype(dtype), n_features, n_components)
        with FinishingPass("the mean hidden activations were measured"):
            mean_activation = placement.mean_activation(
                X_train, W1, b1, sample_weight=w_train
            )
        solution = _Solution(
            theta,
            loss,
            loss_curve,
            n_iter_before + result.n_iter,
            result.validation_scores,
            mean_activation,
            state,
            diverged=result.diverged,
            alpha=alpha,
        )
        return solution, dtype, X_train

    def _make_optimizer(self, theta, xp):
        """The update rule of ``solver`` ("sgd" or "adam") for the vector ``theta``."""
        if self.solver == "sgd":
            return SGDOptimizer(
                theta,
                self.learning_rate_init,
                self.learning_rate,
                self.momentum,
                self.nesterovs_momentum,
                self.power_t,
                xp=xp,
            )
        return AdamOptimizer(
            theta,
            self.learning_rate_init,
            self.beta_1,
            self.beta_2,
            self.epsilon,
            xp=xp,
        )

    def _publish(self, fitted):
        """Set every fitted attribute at once, after the last step that can fail.

        A previous fit's attributes that this one does not set (for instance
        ``feature_names_in_`` after a fit on a plain array) go.
        """
        fitted = dict(fitted)
        if fitted.get("feature_names_in_", None) is None:
            fitted.pop("feature_names_in_", None)
        for name in list(vars(self)):
            stale = name.endswith("_") and not name.startswith("_")
            if (stale or name == "_minibatch_state") and name not in fitted:
                delattr(self, name)
        for name, value in fitted.items():
            setattr(self, name, value)

    def _check_lbfgs_result(self, result, value_range, dtype):
        """Word what an L-BFGS run's status reports, as ``_check_optimize_result``.

        An overflow at the initial weights is a ValueError, one later a
        ConvergenceWarning (the best weights are kept), and a budget or a
        line search that ended the fit while it still improved a
        ConvergenceWarning. Each names the cause and its remedy, from X's
        ``value_range`` and the working ``dtype``.
        """
        if result.status == "overflow":
            cause = _overflow_advice(result.overflow, value_range)
            if result.theta is None:
                raise ValueError(
                    "The sparse autoencoder objective is not finite (it "
                    f"overflows) at the initial weights. {cause}"
                )
            warn(
                f"L-BFGS stopped after {len(result.loss_curve)} iteration(s): "
                "the objective was not finite (it overflowed) at a trial point. "
                f"The model keeps the best weights found so far. {cause}",
                ConvergenceWarning,
            )
        elif result.status in ("max_iter", "max_fun", "line_search"):
            _warn_unconverged(
                result,
                max_iter=self.max_iter,
                max_fun=self.max_fun,
                tol=self.tol,
                unit_interval_hint=self.decoder_activation == "sigmoid"
                and outside_unit_interval(value_range, dtype),
            )

    def _resolve_alpha(self, X_train, placement, sample_weight=None):
        """The fit's weight decay: ``alpha``, or "auto"'s from the training rows.

        With sample weights "auto" takes the weighted variances, so that
        integer weights give the decay of the repeated rows.
        """
        if self.alpha != "auto":
            return float(self.alpha)
        return AUTO_ALPHA_FACTOR * placement.total_variance(X_train, sample_weight)

    def _objective(self, backend, alpha):
        """The objective that the solver minimises on ``backend``'s data.

        ``alpha`` is the fit's weight decay (``alpha_``).

        The seam where a test wraps the objective (to count evaluations,
        interrupt a fit or make it overflow): the tests' ``wrap_objective``
        replaces this method on the base class for the length of one test.
        """
        return Objective(backend, rho=self.rho, beta=self.beta, alpha=alpha)

    def _split_validation(self, X, rng, placement, sample_weight=None):
        """``(X_train, X_val, w_train, w_val)``: the held-out rows and their weights.

        ``X_val`` is None without early stopping, the weights None without
        ``sample_weight``. The weights follow their rows, and each part
        needs a positive weight sum.
        """
        if not self.early_stopping:
            return X, None, sample_weight, None
        if sample_weight is None:
            return (*placement.hold_out(X, self.validation_fraction, rng), None, None)
        train, val = placement.held_out_indices(
            X.shape[0], self.validation_fraction, rng
        )
        parts = [
            placement.take_rows(a, rows)
            for a in (X, sample_weight)
            for rows in (train, val)
        ]
        X_train, X_val, w_train, w_val = parts
        for weights, which in ((w_train, "training"), (w_val, "held-out")):
            if placement.mean(weights) == 0:
                raise ValueError(
                    f"The sample weights of the {which} rows are all zero: "
                    "early_stopping holds out validation_fraction="
                    f"{self.validation_fraction} of the rows at random "
                    "(random_state), and a part without weight cannot be "
                    "trained on or scored. Give more rows a positive weight, "
                    "change validation_fraction or random_state, or set "
                    "early_stopping=False."
                )
        return X_train, X_val, w_train, w_val

    def _initial_theta(
        self, n_features, n_components, rng, from_fitted=False, hidden_bias=0.0
    ):
        """The solver's start: the fitted weights, or new ones from ``rng``.

        The fitted weights under ``from_fitted`` or ``warm_start`` (when the
        model is fitted); otherwise :func:`~._objective.initial_parameters`
        with hidden biases ``hidden_bias``.
        """
        if (from_fitted or self.warm_start) and hasattr(self, "components_"):
            previous_components, previous_features = self.components_.shape
            if (previous_components, previous_features) != (n_components, n_features):
                if from_fitted:
                    # partial_fit on a fitted model always continues, whatever
                    # warm_start; its features are checked before this.
                    advice = (
                        f"Set n_components={previous_components} back to "
                        "continue this model, or start a new one from random "
                        "weights: fit(), or partial_fit() on "
                        "sklearn.base.clone(estimator)."
                    )
                else:
                    advice = "Set warm_start=False to start from new random weights."
                raise ValueError(
                    f"{'partial_fit' if from_fitted else 'warm_start=True'} needs "
                    "the same shape as the previous fit: "
                    f"it had n_features={previous_features} and "
                    f"n_components={previous_components}, now X has "
                    f"n_features={n_features} and n_components={n_components}. "
                    + advice
                )
            return pack(
                *(
                    to_numpy(w)
                    for w in (
                        self.components_.T,
                        self.intercept_hidden_,
                        self.decoder_components_,
                        self.intercept_visible_,
                    )
                )
            )
        return initial_parameters(n_features, n_components, rng, hidden_bias)

    def _held_out_scorer(self, X_val, model_shape, placement, sample_weight=None):
        """``theta -> mean score_samples of X_val``, computed where X_val lives.

        None without held-out rows (``X_val`` None). ``model_shape`` is
        ``(working dtype, n_features, n_components)``; ``theta`` may be the
        host vector or the solver's own. The mean is weighted by the held-out
        rows' ``sample_weight`` when given.
        """
        if X_val is None:
            return None
        name = type(self).__name__
        dtype, n_features, n_components = model_shape

        def held_out_score(theta):
            theta = to_numpy(theta)
            W1, b1, W2, b2 = unpack(theta.astype(dtype), n_features, n_components)
            weights = [
                placement.to_data(w) for w in (np.ascontiguousarray(W1.T), b1, W2, b2)
            ]
            # One BLAS thread, as in the evaluations: the stopping rule must
            # not depend on how many threads split the products.
            with (
                np.errstate(over="ignore", invalid="ignore"),
                _blas.one_thread(),
            ):
                scores = placement.score_rows(
                    X_val, weights, self.decoder_activation, name, fit_blocks=True
                )
                return placement.mean(scores, sample_weight)

        return held_out_score

    # ------------------------------------------------------------------
    # What a fitted model computes.

    def _fitted_weights(self):
        return tuple(getattr(self, name) for name in WEIGHT_ATTRIBUTES)

    def _validated(self, X, method):
        """``(validated X, placement)`` for a fitted model's ``method``."""
        check_is_fitted(self)
        placement = locate(X, type(self).__name__)
        return placement.check_fitted_input(X, self, method), placement

    def _reconstruction_scores(self, X, weights=None, placement=None):
        """``score_samples``: of validated X with ``weights`` when given."""
        name = type(self).__name__
        if placement is None:
            X, placement = self._validated(X, "score_samples")
        if weights is None:
            weights = self._fitted_weights()
        return placement.score_rows(X, weights, self.decoder_activation, name)

    def score_samples(self, X):
        """Negative half squared reconstruction error of each sample.

        Higher is more normal, the scikit-learn convention for anomaly
        scores: ``-0.5 * ||x_i - inverse_transform(transform(x_i))||^2``.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
            Data to score. A dask array gives a lazy dask array.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Scores, all lower than or equal to 0.
        """
        return self._reconstruction_scores(X)

    def __sklearn_array_api_convert__(self, converter):
        """A fitted copy whose arrays are ``converter(array)``.

        scikit-learn's ``move_estimator_to`` calls this hook (and
        :func:`skl_sparseae.move_estimator_to` does), so that the copy moves
        the minibatch solver's state with the weights and keeps
        ``feature_names_in_`` on the host.
        """
        return moved_model(self, converter)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.array_api_support = True
        return tags
