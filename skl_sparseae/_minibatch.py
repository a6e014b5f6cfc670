"""Minibatch solvers (``solver="sgd"`` and ``"adam"``): the epoch loop.

One epoch visits every training row once, in minibatches of ``batch_size``
rows (in a new random order each epoch with ``shuffle``), and takes one
optimizer step per batch on the minibatch objective: the full objective with
its means taken over the batch
(:func:`skl_sparseae._objective.minibatch_loss_and_gradient`). The same
loop serves ``fit`` (epochs until the stopping rule or ``max_iter``) and
``partial_fit`` (one epoch over the rows it is given, continuing the
optimizer's state).

The epochs of a dask array are run chunk by chunk by the dask backend's
:class:`~skl_sparseae._backends._dask_minibatch.ChunkRunner`, with this loop.

Nothing here allocates per batch on NumPy: the order is a permutation of
indices, a dense batch is gathered into a buffer with ``numpy.take(out=)``,
and the kernel and the optimizer work in buffers made once per call. On an
Array API device the weights, the optimizer's moments, the batch indices
and the epoch's loss stay on the device, and the host waits for it once per
epoch (for the loss curve, the stopping rule and the progress line).

On NumPy a step large enough to pay for it is cut into shares (see
:func:`~skl_sparseae._objective.step_shares`: the cut depends on the step's
shape alone), which the fit's :class:`StepThreads` compute concurrently, as
many threads as numpy's BLAS may use when the fit starts, each on a
one-thread BLAS; the optimizer's update is cut over the same threads. The
model is the same, bit for bit, whatever the number of threads. Array API
data runs each step whole, on its device.

A step, and an epoch's record, is written whole: a Ctrl-C that arrives
while the optimizer updates its state is held until the step is done
(:class:`InterruptGuard`), so that an interrupted fit keeps weights and an
optimizer state that belong together. An epoch that overflows is undone to
the end of the last finite one, weights and optimizer state alike.
"""

# SPDX-License-Identifier: BSD-3-Clause

import copy
import itertools
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import gen_batches

from . import _blas
from ._inference import has_non_finite
from ._objective import (
    Evaluation,
    MinibatchWorkspace,
    even_slices,
    is_numpy,
    minibatch_loss_and_gradient,
    n_parameters,
    to_numpy,
)
from ._optimizers import SGDOptimizer
from ._stopping import FitHistory
from ._user_warnings import warn

# A fit whose last epoch's loss is more than this many times its first
# epoch's went the wrong way: its learning rate is too large.
DIVERGENCE_FACTOR = 2.0


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

    def moved(self, converter):
        """An independent copy whose optimizer buffers are ``converter(buffer)``."""
        state = copy.copy(self)
        state.optimizer = self.optimizer.moved(converter)
        state.random_state = copy.deepcopy(self.random_state)
        return state

    def restore(self, saved):
        """Take back the state ``saved`` (a :meth:`copy`), which it then owns."""
        self.__dict__.update(saved.__dict__)


def solver_name(optimizer):
    """The ``solver`` parameter that builds ``optimizer``."""
    return "sgd" if isinstance(optimizer, SGDOptimizer) else "adam"


class InterruptGuard:
    """Holds back a Ctrl-C that arrives while a step or an epoch writes its state.

    Python raises KeyboardInterrupt between any two bytecodes: in the middle
    of the optimizer's update it would leave the moments of one step with
    the weights of the step before, which the next ``partial_fit`` would
    carry on from. Inside :meth:`held` (or between :meth:`hold` and
    :meth:`release`) a SIGINT is noted and raised as KeyboardInterrupt when
    the section ends, so every step and every epoch's record is whole;
    elsewhere (the gradient, a held-out score, a progress line, a dask chunk
    being computed) it is raised at once, as by Python's own handler.

    Used as a context manager, it installs its handler for the duration,
    and only where Python would raise KeyboardInterrupt: in the main thread
    (the only one that receives signals) and in place of Python's default
    handler, never of one the program installed.
    """

    def __init__(self):
        self.holding = False
        self.pending = False
        self._previous = None

    def __enter__(self):
        if (
            threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler
        ):
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc_info):
        if self._previous is not None:
            if signal.getsignal(signal.SIGINT) == self._handle:
                signal.signal(signal.SIGINT, self._previous)
            self._previous = None
        return False

    def _handle(self, signum, frame):
        if self.holding:
            self.pending = True
        else:
            signal.default_int_handler(signum, frame)

    def hold(self):
        self.holding = True

    def release(self):
        """End a held section; raise the KeyboardInterrupt it held back, if any."""
        self.holding = False
        if self.pending:
            self.pending = False
            raise KeyboardInterrupt

    @contextmanager
    def held(self):
        self.hold()
        try:
            yield
        finally:
            self.release()


class EpochTerms:
    """The parts of an epoch's mean minibatch objective, for ``verbose >= 2``.

    Each batch adds its summed squared error, its sparsity term weighted by
    its rows, the column sums of its hidden activations and its number of
    active units (see
    :func:`~skl_sparseae._objective.minibatch_loss_and_gradient`); on a
    device they are added there, and read once, at the end of the epoch.
    """

    def __init__(self):
        self.reset()

    def reset(self):
        self.rows = 0
        self.squared_error = 0.0
        self.sparsity = 0.0
        self.column_sums = None
        self.active = 0

    def add(self, k, squared_error, sparsity, column_sums, active):
        self.rows += k
        self.squared_error = self.squared_error + squared_error
        self.sparsity = self.sparsity + sparsity * k
        self.active = self.active + active
        if self.column_sums is None:
            # A copy: the kernel reuses its buffer for the next batch.
            self.column_sums = column_sums * 1.0
        else:
            self.column_sums += column_sums

    def evaluation(self, loss):
        """The epoch's terms as an :class:`~skl_sparseae._objective.Evaluation`.

        Means over the epoch's rows, as ``loss`` is: the reconstruction and
        sparsity terms, the hidden units' mean activations and the number of
        active units per row.
        """
        m = self.rows
        return Evaluation(
            loss,
            None,
            0.5 * float(self.squared_error) / m,
            float(self.sparsity) / m,
            np.asarray(to_numpy(self.column_sums), dtype=np.float64) / m,
            float(self.active) / m,
        )


def resolve_batch_size(batch_size, n_samples):
    """``batch_size`` rows, "auto" meaning ``min(200, n_samples)`` as in MLP."""
    if batch_size == "auto":
        return min(200, n_samples)
    return max(1, min(batch_size, n_samples))


class StochasticResult(NamedTuple):
    """What :func:`minimize_stochastic` returns to the estimator.

    ``loss`` is the last epoch's mean minibatch loss or, when no epoch was
    completed (an interrupt during the first), the mean over the steps
    that were. ``diverged`` says that the loss overflowed or grew by more
    than ``DIVERGENCE_FACTOR`` over the fit, and that a warning named the
    learning rate.
    """

    theta: object
    loss_curve: list
    n_iter: int
    validation_scores: list
    stop_reason: str
    loss: float
    diverged: bool


class MinibatchPlan(NamedTuple):
    """What an epoch of minibatch steps needs to know besides the rows.

    ``n_components``, ``params`` (``{"rho", "beta", "alpha"}``) and
    ``decoder_activation`` are the model; ``batch_size`` the rows per batch
    (the last batch of an epoch may be smaller) and ``shuffle`` whether each
    epoch visits the rows in a new random order.
    """

    n_components: int
    params: dict
    decoder_activation: str
    batch_size: int
    shuffle: bool


class StepThreads:
    """Threads that compute the shares of minibatch steps, for the life of a fit.

    ``map(function, n)`` returns ``[function(0), ..., function(n - 1)]``,
    computed by up to ``n_threads`` threads at once: the calling thread and
    the threads of one pool, started at the first call that needs them and
    kept until :meth:`close`. Each thread takes the next share not yet
    taken, so a thread that the system puts aside holds up only its own
    share. The threads run their products on the one-thread BLAS of the
    caller's ``_blas.one_thread`` block, and the shares write apart: which
    thread computes which share changes no bit of the result.
    """

    def __init__(self, n_threads):
        self.n_threads = max(1, n_threads)
        self._executor = None

    def map(self, function, n):
        n_helpers = min(self.n_threads, n) - 1
        if n_helpers <= 0:
            return [function(index) for index in range(n)]
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=self.n_threads - 1)
        results = [None] * n
        # next() on an itertools.count is atomic: each share is taken once.
        taken = itertools.count()

        def work():
            index = next(taken)
            while index < n:
                results[index] = function(index)
                index = next(taken)

        helpers = [self._executor.submit(work) for _ in range(n_helpers)]
        try:
            work()
        finally:
            # No share may still run once the caller moves on (an error, a
            # KeyboardInterrupt): the helpers' errors come after its own.
            for helper in helpers:
                helper.exception()
        for helper in helpers:
            helper.result()
        return results

    def close(self):
        """Stop the pool's threads; a later :meth:`map` starts new ones."""
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown()


class EpochRunner:
    """One epoch of minibatch steps over X, with buffers made once.

    Parameters
    ----------
    X : {ndarray, CSR matrix, Array API array} of shape (n_samples, n_features)
        Validated training rows.

    plan : MinibatchPlan
        The model and the batches.

    xp, device : namespace and device, default=None
        Those of Array API data; None for NumPy and scipy.sparse.

    sample_weight : array of shape (n_samples,), default=None
        Validated sample weights where X lives, of X's dtype, with a
        positive sum. Each batch's loss and gradient are then weighted
        (the ``weights`` of
        :func:`~skl_sparseae._objective.minibatch_loss_and_gradient`, cut
        into shares as an unweighted step is), a batch whose weights are all
        zero takes no step, and the epoch's loss is the mean of the batches'
        losses weighted by their weight sums.

    threads : StepThreads, default=None
        The threads of the steps' shares, for a caller that runs several
        runners in one fit (and closes them). None makes the runner's own,
        as many as numpy's BLAS may use when the runner is made (so that
        ``threadpoolctl.threadpool_limits`` around a fit is respected) and
        no more than a step has shares; :meth:`close` stops them. The
        result does not depend on them.

    A runner is a context manager that closes itself. Array API data is
    stepped whole, in one share.
    """

    def __init__(self, X, plan, xp=None, device=None, sample_weight=None, threads=None):
        self.X = X
        self.n_samples, self.n_features = X.shape
        self.sample_weight = sample_weight
        self.total_weight = self.n_samples
        if sample_weight is not None:
            self.total_weight = float(to_numpy(sample_weight).sum(dtype=np.float64))
        (
            self.n_components,
            self.params,
            self.decoder_activation,
            self.batch_size,
            self.shuffle,
        ) = plan
        self.xp = None if is_numpy(xp) else xp
        self.device = device
        self.sparse = sp.issparse(X)
        self.grad = None
        self.rows_done, self.loss_done = 0, 0.0
        self._own_threads = threads is None
        if self.xp is None:
            self.workspace = MinibatchWorkspace(
                self.batch_size,
                self.n_features,
                self.n_components,
                X.dtype,
                dense=not self.sparse,
            )
            n_shares = self.workspace.n_shares
            if threads is None:
                threads = StepThreads(min(_blas.available_threads(), n_shares))
            self.threads = threads
            self.n_threads = min(threads.n_threads, n_shares)
        else:
            self.threads, self.n_threads = None, 1
        if self.n_threads > 1:
            self._map_shares = threads.map
            # Element-wise, the optimizer's update gives the same bits
            # however the vector is cut: one part per thread.
            parts = even_slices(
                n_parameters(self.n_features, self.n_components), self.n_threads
            )
            self._map_parts = lambda update: threads.map(
                lambda index: update(parts[index]), len(parts)
            )
        else:
            self._map_shares = self._map_parts = None

    def close(self):
        """Stop the runner's own threads; it can run again."""
        if self._own_threads and self.threads is not None:
            self.threads.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

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

    def run(self, theta, state, *, guard=None, terms=None, count_epoch=True):
        """One epoch of steps on ``theta`` (in place); the epoch's mean batch loss.

        The loss is a float: the host waits for the device once, here.
        Each step (the optimizer's update and the counts of samples seen)
        runs held by ``guard`` (an :class:`InterruptGuard`), so that a
        KeyboardInterrupt leaves ``theta`` and ``state`` at the last
        completed step; :meth:`completed` then gives what those steps did.
        ``terms`` (an :class:`EpochTerms`) receives each batch's terms.
        ``count_epoch=False`` leaves the epoch count and the learning-rate
        schedule to a caller that runs several parts of one epoch.
        """
        optimizer = state.optimizer
        if self.xp is None and (self.grad is None or self.grad.dtype != theta.dtype):
            self.grad = np.empty_like(theta)
        batches, order = self._batches(state.random_state)
        self.rows_done, self.loss_done = 0, 0.0
        # One BLAS thread: a multi-threaded BLAS splits a batch's products
        # in ways that change their last bits with the number of threads.
        # The cores go to the step's shares instead, each thread on one.
        with _blas.one_thread() if self.xp is None else nullcontext():
            self._steps(theta, batches, order, state, guard or InterruptGuard(), terms)
        if count_epoch:
            state.n_epochs += 1
            optimizer.iteration_ends(state.n_samples_seen)
        return float(self.loss_done) / self.total_weight

    def completed(self):
        """``(rows, summed loss)`` of the steps completed in the current epoch.

        With sample weights, the rows' weight sum and the summed loss of the
        batches weighted by their weight sums.
        """
        return self.rows_done, float(self.loss_done)

    def _steps(self, theta, batches, order, state, guard, terms):
        optimizer = state.optimizer
        weights = weight_sum = None
        for batch in batches:
            if self.sample_weight is not None:
                weights, weight_sum = self._batch_weights(batch, order)
                if weight_sum == 0:
                    # A batch of zero-weight rows is no data: no step.
                    with guard.held():
                        state.n_samples_seen += weights.shape[0]
                    continue
            X_batch = self._rows(batch, order)
            loss, grad = minibatch_loss_and_gradient(
                theta,
                X_batch,
                self.grad,
                n_features=self.n_features,
                n_components=self.n_components,
                decoder_activation=self.decoder_activation,
                weights=weights,
                weight_sum=weight_sum,
                workspace=None if self.xp is not None else self.workspace,
                xp=self.xp,
                terms=terms,
                map_shares=self._map_shares,
                **self.params,
            )
            rows = X_batch.shape[0]
            guard.hold()
            if self._map_parts is None:
                optimizer.update_params(theta, grad)
            else:
                optimizer.update_params(theta, grad, map_parts=self._map_parts)
            # Weighted by the batch's rows (or weight sum): the mean over the
            # epoch's samples.
            size = rows if weights is None else weight_sum
            self.loss_done = self.loss_done + loss * size
            self.rows_done += size
            state.n_samples_seen += rows
            guard.release()

    def _batch_weights(self, batch, order):
        """The sample weights of a batch's rows, and their float sum."""
        if order is None:
            weights = self.sample_weight[batch]
        elif self.xp is not None:
            weights = self.xp.take(self.sample_weight, order[batch], axis=0)
        else:
            weights = self.sample_weight[order[batch]]
        if self.xp is not None:
            return weights, float(to_numpy(self.xp.sum(weights)))
        return weights, float(np.sum(weights, dtype=np.float64))


def minimize_stochastic(
    runner,
    theta,
    state,
    *,
    max_iter,
    tol,
    n_iter_no_change,
    held_out_score=None,
    progress=None,
    first_epoch=1,
    on_epoch=None,
    incremental=False,
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

    A ConvergenceWarning is raised when the epochs ran out while the last
    one still improved by more than ``tol``, and when the last epoch's loss
    is more than ``DIVERGENCE_FACTOR`` times the first's (the learning rate
    is too large; the last weights are kept, as by MLP). An epoch whose
    loss or weights are not finite (a learning rate too large for the data)
    is undone: the weights and the optimizer state of the last finite epoch
    are kept, with a ConvergenceWarning; when no epoch of the call was
    finite (the first of ``fit``, the one of ``partial_fit``) a ValueError
    is raised. A KeyboardInterrupt keeps the weights of the last completed
    step (or, with a held-out score, of the best epoch), with a warning; an
    interrupt before the call's first step completed is raised again.

    ``progress`` (a :class:`~skl_sparseae._progress.Progress`, or None)
    prints each epoch's line, numbered from ``first_epoch``, each change of
    the adaptive learning rate and, for ``fit``, the stop line.
    ``on_epoch(epoch, loss, validation_score)`` is called after each epoch.
    """
    xp = runner.xp
    optimizer = state.optimizer
    history = FitHistory(tol, n_iter_no_change)
    loss_curve, validation_scores = history.loss_curve, history.validation_scores
    rule, best_held_out = history.rule, history.best_held_out
    n_epochs = 1 if incremental else max_iter
    watched = "loss" if held_out_score is None or incremental else "held-out score"
    terms = EpochTerms() if progress is not None and progress.verbose >= 2 else None
    samples_before = state.n_samples_seen
    # The end of the last finite epoch, where an overflowing epoch goes back.
    last_finite_theta, last_finite_state = None, None
    reason, interrupted, overflowed = None, False, False
    with InterruptGuard() as guard:
        for epoch in range(1, n_epochs + 1):
            try:
                if terms is not None:
                    terms.reset()
                with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                    loss = runner.run(theta, state, guard=guard, terms=terms)
                if not np.isfinite(loss) or has_non_finite(theta, xp):
                    if not loss_curve:
                        raise ValueError(
                            _first_overflow_message(
                                optimizer, incremental, carried=samples_before > 0
                            )
                        )
                    with guard.held():
                        _restore(theta, last_finite_theta, xp)
                        state.restore(last_finite_state)
                        overflowed = True
                    warn(
                        f"The minibatch solver stopped after {len(loss_curve)} "
                        "epoch(s): the objective was not finite (it "
                        "overflowed) during the next one. The model keeps the "
                        "weights and the optimizer state of the last finite "
                        "epoch. Lower learning_rate_init (now "
                        f"{optimizer.learning_rate_init!r}).",
                        ConvergenceWarning,
                    )
                    reason = "the objective overflowed; lower learning_rate_init"
                    break
                score = None
                if held_out_score is not None and not incremental:
                    score = held_out_score(theta)
                # The epoch's record is written whole or not at all.
                with guard.held():
                    history.record(loss, score, theta)
                    stop, lowered = _apply_stopping_rule(
                        rule, optimizer, incremental, tol, n_iter_no_change, watched
                    )
                if progress is not None:
                    number = first_epoch + epoch - 1
                    evaluation = None if terms is None else terms.evaluation(loss)
                    progress.iteration(
                        number, loss, validation_score=score, evaluation=evaluation
                    )
                    if lowered is not None and progress.verbose >= 2:
                        progress.note(number, lowered)
                if on_epoch is not None:
                    on_epoch(epoch, loss, score)
                if stop is not None:
                    reason = stop
                    break
                if incremental:
                    reason = "one epoch over the rows given to partial_fit"
                    break
                if epoch < n_epochs:
                    last_finite_state = None
                    last_finite_theta = _copy(theta, xp, out=last_finite_theta)
                    last_finite_state = state.copy()
            except KeyboardInterrupt:
                if state.n_samples_seen == samples_before:
                    # Not one step was completed: there is no work to keep.
                    raise
                kept = (
                    "the weights of the epoch with the best held-out score"
                    if best_held_out.found
                    else "the weights of its last completed step"
                )
                warn(
                    f"Training interrupted by the user after {len(loss_curve)} "
                    f"epoch(s); the model keeps {kept}.",
                    UserWarning,
                )
                reason = "interrupted by the user"
                interrupted = True
                break
        else:
            reason = f"reached max_iter={max_iter}"
    if progress is not None and not incremental:
        # The stop line comes before the warnings that explain it.
        progress.stopped(len(loss_curve), reason)
    if best_held_out.found:
        _restore(theta, best_held_out.theta, xp)
    growing = not (incremental or interrupted or overflowed) and _diverged(loss_curve)
    if growing:
        kept = (
            "the weights of the epoch with the best held-out score"
            if best_held_out.found
            else "the last epoch's weights"
        )
        warn(
            f"The minibatch loss grew from {loss_curve[0]:.4g} in the first "
            f"epoch to {loss_curve[-1]:.4g} in the last: learning_rate_init="
            f"{optimizer.learning_rate_init!r} is too large for solver="
            f"{solver_name(optimizer)!r} on this data. Lower learning_rate_init "
            f"(by a factor of 10, say). The model keeps {kept}.",
            ConvergenceWarning,
        )
    elif (
        reason == f"reached max_iter={max_iter}"
        and not incremental
        and tol > 0
        and rule.still_improving
    ):
        warn(
            f"The sparse autoencoder stopped after {max_iter} epoch(s) while "
            f"the {watched} was still improving by more than tol={tol} "
            f"(relative): it reached max_iter={max_iter}. Increase max_iter "
            "to fit further.",
            ConvergenceWarning,
        )
    if loss_curve:
        loss = loss_curve[-1]
    else:
        rows, total = runner.completed()
        loss = total / rows if rows else float("nan")
    return StochasticResult(
        theta,
        loss_curve,
        len(loss_curve),
        validation_scores,
        reason,
        loss,
        overflowed or growing,
    )


def _first_overflow_message(optimizer, incremental, carried):
    """The error of a call whose first epoch overflowed: nothing to keep."""
    when = "the epoch of this partial_fit call" if incremental else "the first epoch"
    lower = "Lower learning_rate_init"
    if carried:
        # The optimizer, and its learning rate, came from the first call.
        lower += (
            " and train afresh (fit, or partial_fit on a new estimator: later "
            "partial_fit calls go on with the first call's learning rate)"
        )
    return (
        f"The sparse autoencoder objective was not finite (it overflowed) "
        f"during {when}, with solver={solver_name(optimizer)!r} and "
        f"learning_rate_init={optimizer.learning_rate_init!r}. {lower}, or scale "
        "X (for instance with sklearn.preprocessing.StandardScaler or "
        "MinMaxScaler)."
    )


def _apply_stopping_rule(rule, optimizer, incremental, tol, n_iter_no_change, watched):
    """``(stop reason or None, learning-rate note or None)`` after an epoch.

    When the no-improvement rule fires, the optimizer decides: stop, or
    (SGD's adaptive schedule) divide its learning rate by 5 and count the
    epochs afresh.
    """
    if incremental or not rule.should_stop:
        return None, None
    message = (
        f"the epoch's {watched} improved by less than tol={tol} "
        f"(relative) for {n_iter_no_change} consecutive epochs"
    )
    adaptive = getattr(optimizer, "lr_schedule", None) == "adaptive"
    if optimizer.trigger_stopping(message, False):
        if adaptive:
            message += (
                ", with the adaptive learning rate down to "
                f"{optimizer.learning_rate:.3g} (it is not lowered below 1e-6)"
            )
        return message, None
    rule.restart()
    return None, (
        f"{message}; learning rate divided by 5, to {optimizer.learning_rate:.6g}"
    )


def _diverged(loss_curve):
    """Whether the last epoch's loss is far above the first's."""
    return len(loss_curve) > 1 and loss_curve[-1] > DIVERGENCE_FACTOR * loss_curve[0]


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
