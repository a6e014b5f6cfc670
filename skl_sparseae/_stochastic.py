"""Minibatch solvers (``solver="sgd"`` and ``"adam"``): the epoch loop.

One epoch visits every training row once, in minibatches of ``batch_size``
rows (in a new random order each epoch with ``shuffle``), and takes one
optimizer step per batch on the minibatch objective: the full objective with
its means taken over the batch
(:func:`skl_sparseae._objective.minibatch_loss_and_gradient`). The same
loop serves ``fit`` (epochs until the stopping rule or ``max_iter``) and
``partial_fit`` (one epoch over the rows it is given, continuing the
optimizer's state).

A dask array is streamed: each epoch gathers its chunks to this process one
at a time, in chunk order, and runs the batches of each chunk; at most one
chunk is held here at once.

Nothing here allocates per batch on NumPy: the order is a permutation of
indices, a dense batch is gathered into a buffer with ``numpy.take(out=)``,
and the kernel and the optimizer work in buffers made once per call. On an
Array API device the weights, the optimizer's moments, the batch indices
and the epoch's loss stay on the device, and the host waits for it once per
epoch (for the loss curve, the stopping rule and the progress line).
"""

# SPDX-License-Identifier: BSD-3-Clause

import copy
import warnings
from contextlib import nullcontext
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import gen_batches

from . import _blas
from ._backend_array_api import to_numpy
from ._inference import has_non_finite
from ._objective import MinibatchWorkspace, is_numpy, minibatch_loss_and_gradient
from ._optimizers import AdamOptimizer, SGDOptimizer
from ._stopping import BestIterate, NoImprovement


class MinibatchState:
    """What a stochastic fit carries from one call to the next.

    The optimizer (its moments or velocity, step count and learning rate),
    the random state that orders the batches, and the counts of epochs and
    samples seen. ``partial_fit`` continues from it; ``fit`` starts a new
    one. It pickles, and the estimator replaces its copy only after a call
    that succeeded.
    """

    def __init__(self, optimizer, random_state):
        self.optimizer = optimizer
        self.random_state = random_state
        self.n_epochs = 0
        self.n_samples_seen = 0

    def copy(self):
        state = copy.copy(self)
        state.optimizer = self.optimizer.copy()
        state.random_state = copy.deepcopy(self.random_state)
        return state


def make_optimizer(estimator, theta, xp):
    """The optimizer of ``estimator.solver`` for the flat vector ``theta``."""
    if estimator.solver == "sgd":
        return SGDOptimizer(
            theta,
            estimator.learning_rate_init,
            estimator.learning_rate,
            estimator.momentum,
            estimator.nesterovs_momentum,
            estimator.power_t,
            xp=xp,
        )
    return AdamOptimizer(
        theta,
        estimator.learning_rate_init,
        estimator.beta_1,
        estimator.beta_2,
        estimator.epsilon,
        xp=xp,
    )


def resolve_batch_size(batch_size, n_samples):
    """``batch_size`` rows, "auto" meaning ``min(200, n_samples)`` as in MLP."""
    if batch_size == "auto":
        return min(200, n_samples)
    return max(1, min(batch_size, n_samples))


class StochasticResult(NamedTuple):
    """What :func:`minimize_stochastic` returns to the estimator."""

    theta: object
    loss_curve: list
    n_iter: int
    validation_scores: list
    stop_reason: str


class EpochRunner:
    """One epoch of minibatch steps over X, with buffers made once.

    Parameters
    ----------
    X : {ndarray, CSR matrix, Array API array} of shape (n_samples, n_features)
        Validated training rows.

    n_components, params, decoder_activation :
        The model: hidden units, ``{"rho", "beta", "alpha"}`` and the output
        non-linearity.

    batch_size : int
        Rows per batch (the last batch of an epoch may be smaller).

    shuffle : bool
        Whether each epoch visits the rows in a new random order.

    xp, device : namespace and device, default=None
        Those of Array API data; None for NumPy and scipy.sparse.
    """

    def __init__(
        self,
        X,
        n_components,
        params,
        decoder_activation,
        batch_size,
        shuffle,
        xp=None,
        device=None,
    ):
        self.X = X
        self.n_samples, self.n_features = X.shape
        self.n_components = n_components
        self.params = params
        self.decoder_activation = decoder_activation
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.xp = None if is_numpy(xp) else xp
        self.device = device
        self.sparse = sp.issparse(X)
        self.grad = None
        if self.xp is None:
            self.workspace = MinibatchWorkspace(
                batch_size,
                self.n_features,
                n_components,
                X.dtype,
                dense=not self.sparse,
            )

    def _batches(self, random_state):
        """Index arrays (or slices) of each batch of one epoch."""
        if not self.shuffle:
            return list(gen_batches(self.n_samples, self.batch_size)), None
        order = random_state.permutation(self.n_samples)
        if self.xp is not None:
            # One transfer per epoch; the batches are slices of it on the device.
            order = self.xp.asarray(order, device=self.device)
        return list(gen_batches(self.n_samples, self.batch_size)), order

    def _rows(self, batch, order):
        if order is None:
            if self.xp is not None:
                return self.X[batch, ...]
            return self.X[batch]
        if self.xp is not None:
            return self.xp.take(self.X, order[batch], axis=0)
        indices = order[batch]
        if self.sparse:
            return self.X[indices]
        out = self.workspace.rows[: len(indices)]
        # mode="clip": with the default mode="raise" numpy gathers through a
        # temporary of the batch's size; the indices are a permutation anyway.
        return np.take(self.X, indices, axis=0, out=out, mode="clip")

    def run(self, theta, state, count_epoch=True):
        """One epoch of steps on ``theta`` (in place); the epoch's mean batch loss.

        The loss is a float: the host waits for the device once, here.
        ``count_epoch=False`` leaves the epoch count and the learning-rate
        schedule to a caller that runs several parts of one epoch.
        """
        optimizer = state.optimizer
        if self.xp is None and (self.grad is None or self.grad.dtype != theta.dtype):
            self.grad = np.empty_like(theta)
        batches, order = self._batches(state.random_state)
        # One BLAS thread: a multi-threaded BLAS splits a batch's products
        # in ways that change their last bits with the number of threads.
        with _blas.one_thread() if self.xp is None else nullcontext():
            total = self._steps(theta, batches, order, optimizer)
        state.n_samples_seen += self.n_samples
        if count_epoch:
            state.n_epochs += 1
            optimizer.iteration_ends(state.n_samples_seen)
        return float(total) / self.n_samples

    def _steps(self, theta, batches, order, optimizer):
        total = 0.0
        for batch in batches:
            X_batch = self._rows(batch, order)
            loss, grad = minibatch_loss_and_gradient(
                theta,
                X_batch,
                self.grad,
                n_features=self.n_features,
                n_components=self.n_components,
                decoder_activation=self.decoder_activation,
                workspace=None if self.xp is not None else self.workspace,
                xp=self.xp,
                **self.params,
            )
            optimizer.update_params(theta, grad)
            # Weighted by the batch's rows: the mean over the epoch's samples.
            total = total + loss * X_batch.shape[0]
        return total


class ChunkRunner:
    """Epochs over the chunks of a dask array, gathered here one at a time.

    Each chunk is computed (validated by its graph), its batches run as by
    :class:`EpochRunner`, and it is dropped before the next is computed. The
    chunks come in chunk order; ``shuffle`` orders the rows within each.
    """

    xp = None

    def __init__(
        self, X, n_components, params, decoder_activation, batch_size, shuffle
    ):
        self.chunks = X.to_delayed().ravel().tolist()
        self.n_features = X.shape[1]
        self.options = (n_components, params, decoder_activation, batch_size, shuffle)

    def run(self, theta, state):
        import dask

        total, rows = 0.0, 0
        for chunk in self.chunks:
            (X_chunk,) = dask.compute(chunk)
            if X_chunk.shape[0] == 0:
                continue
            n_components, params, decoder, batch_size, shuffle = self.options
            runner = EpochRunner(
                X_chunk,
                n_components,
                params,
                decoder,
                min(batch_size, X_chunk.shape[0]),
                shuffle,
            )
            total += runner.run(theta, state, count_epoch=False) * X_chunk.shape[0]
            rows += X_chunk.shape[0]
        state.n_epochs += 1
        state.optimizer.iteration_ends(state.n_samples_seen)
        return total / rows


def minimize_stochastic(
    runner,
    theta,
    state,
    *,
    max_iter,
    tol,
    n_iter_no_change,
    held_out_score=None,
    on_epoch=None,
    incremental=False,
    verbose=0,
):
    """Run epochs of ``runner`` on ``theta`` (in place); a :class:`StochasticResult`.

    ``fit`` (``incremental=False``) runs up to ``max_iter`` epochs and stops
    when the epoch's mean loss (or, with ``held_out_score(theta)``, the
    held-out score) has not improved by more than ``tol`` relatively for
    ``n_iter_no_change`` epochs; with ``learning_rate="adaptive"`` the SGD
    optimizer first divides its learning rate by 5, as in MLP. With a
    held-out score the weights of the best score are kept. ``tol=0`` runs
    exactly ``max_iter`` epochs. ``partial_fit`` (``incremental=True``) runs
    one epoch and never stops on its own.

    A ConvergenceWarning is raised only when the epochs ran out while the fit
    was still improving. An epoch whose loss or weights are not finite (a
    learning rate too large for the data) is undone: the weights of the last
    finite epoch are kept, with a ConvergenceWarning, and a first epoch that
    is not finite raises a ValueError. A KeyboardInterrupt keeps the weights
    of the last completed step, with a warning.

    ``on_epoch(epoch, loss, validation_score)`` is called after each epoch.
    """
    xp = runner.xp
    loss_curve, validation_scores = [], []
    progress = NoImprovement(tol, n_iter_no_change)
    best_held_out = BestIterate(ties_to_latest=True)
    n_epochs = 1 if incremental else max_iter
    watched = "loss" if held_out_score is None else "held-out score"
    reason = "reached max_iter"
    last_finite = _copy(theta, xp)
    for epoch in range(1, n_epochs + 1):
        try:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                loss = runner.run(theta, state)
        except KeyboardInterrupt:
            warnings.warn(
                f"Training interrupted by the user after {len(loss_curve)} "
                "epoch(s); the model keeps the weights of the last completed "
                "step.",
                UserWarning,
            )
            reason = "interrupted by the user"
            break
        if not np.isfinite(loss) or has_non_finite(theta, xp):
            if not loss_curve and not incremental:
                raise ValueError(
                    "The sparse autoencoder objective was not finite (it "
                    "overflowed) during the first epoch of "
                    f"solver={state.optimizer.__class__.__name__}. Lower "
                    "learning_rate_init, or scale X (for instance with "
                    "sklearn.preprocessing.StandardScaler or MinMaxScaler)."
                )
            _restore(theta, last_finite, xp)
            warnings.warn(
                f"The minibatch solver stopped after {len(loss_curve)} epoch(s): "
                "the objective was not finite (it overflowed) during the next "
                "one. The model keeps the weights of the last finite epoch. "
                "Lower learning_rate_init.",
                ConvergenceWarning,
            )
            reason = "the objective overflowed; lower learning_rate_init"
            break
        loss_curve.append(loss)
        score = None
        if held_out_score is not None and not incremental:
            score = held_out_score(theta)
            validation_scores.append(score)
            progress.update(-score)
            best_held_out.offer(to_numpy(theta), -score)
        else:
            progress.update(loss)
        if on_epoch is not None:
            on_epoch(epoch, loss, score)
        if incremental:
            reason = "one epoch over the rows given to partial_fit"
            break
        if progress.should_stop:
            message = (
                f"the epoch's {watched} improved by less than tol={tol} "
                f"(relative) for {n_iter_no_change} consecutive epochs"
            )
            if state.optimizer.trigger_stopping(message, verbose > 1):
                reason = message
                break
            # The adaptive learning rate was lowered: count afresh.
            progress.count = 0
        last_finite = _copy(theta, xp, out=last_finite)
    else:
        if not incremental and tol > 0 and progress.still_improving:
            warnings.warn(
                f"The sparse autoencoder stopped after {max_iter} epoch(s) while "
                f"the {watched} was still improving by more than tol={tol} "
                f"(relative): it reached max_iter={max_iter}. Increase max_iter "
                "to fit further.",
                ConvergenceWarning,
            )
        reason = f"reached max_iter={max_iter}"
    if best_held_out.found:
        _restore(theta, best_held_out.theta, xp)
    return StochasticResult(
        theta, loss_curve, len(loss_curve), validation_scores, reason
    )


def _copy(theta, xp, out=None):
    if xp is None:
        if out is None:
            return theta.copy()
        np.copyto(out, theta)
        return out
    return xp.asarray(theta, copy=True)


def _restore(theta, saved, xp):
    """Write ``saved`` (a host or same-namespace vector) into ``theta`` in place."""
    if xp is None:
        np.copyto(theta, saved)
    else:
        theta[...] = (
            xp.asarray(saved, device=theta.device)
            if isinstance(saved, np.ndarray)
            else saved
        )
