"""Minibatch epochs over a dask array, streamed chunk by chunk.

The minibatch solvers stream a dask array (:class:`ChunkRunner`): each epoch
gathers its chunks to this process one at a time, in chunk order, and runs
the batches of each chunk; at most one chunk is held here at once.

Nothing here imports dask at module level: the core package works without it.
"""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np

from .. import _blas
from .._minibatch import EpochRunner, InterruptGuard, StepThreads
from .._validation import check_sample_count
from ._dask_checks import chunk_items, rows_and_weights


class ChunkRunner:
    """Epochs over the chunks of a dask array, gathered here one at a time.

    Each chunk is computed (validated by its graph), its batches run as by
    :class:`EpochRunner` with ``plan``, and it is dropped before the next is
    computed. The chunks come in chunk order; the plan's ``shuffle`` orders
    the rows within each. The chunks' steps share one set of
    :class:`~skl_sparseae._minibatch.StepThreads`, stopped by :meth:`close`
    (the runner is a context manager).
    ``estimator_name`` names the estimator in the error for an array whose
    chunks hold no rows (its row count may be unknown until they are
    computed).

    With ``sample_weight`` (from
    :func:`~skl_sparseae._backends._dask_checks.check_sample_weight`) each
    chunk's weights come with it, its batches are weighted, a chunk whose
    weights are all zero is passed over, and the epoch's loss is weighted by
    the chunks' weight sums.
    """

    xp = None

    def __init__(self, X, plan, *, estimator_name, sample_weight=None):
        self.chunks = chunk_items(X, sample_weight)
        self.n_features = X.shape[1]
        self.plan = plan
        self.estimator_name = estimator_name
        self.rows_done, self.loss_done, self._chunk = 0, 0.0, None
        # One set of step threads for every chunk's runner.
        self.threads = StepThreads(_blas.available_threads())

    def close(self):
        """Stop the step threads."""
        self.threads.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def run(self, theta, state, *, guard=None, terms=None):
        import dask

        guard = guard or InterruptGuard()
        self.rows_done, self.loss_done, self._chunk = 0, 0.0, None
        n_rows = 0
        for chunk in self.chunks:
            (item,) = dask.compute(chunk)
            X_chunk, weights = rows_and_weights(item)
            n_rows += X_chunk.shape[0]
            if X_chunk.shape[0] == 0:
                continue
            weight_sum = X_chunk.shape[0]
            if weights is not None:
                weight_sum = float(np.sum(weights, dtype=np.float64))
                if weight_sum == 0:
                    # A chunk of zero-weight rows is no data: no step.
                    with guard.held():
                        state.n_samples_seen += X_chunk.shape[0]
                    continue
            batch_size = min(self.plan.batch_size, X_chunk.shape[0])
            self._chunk = EpochRunner(
                X_chunk,
                self.plan._replace(batch_size=batch_size),
                sample_weight=weights,
                threads=self.threads,
            )
            mean = self._chunk.run(
                theta, state, guard=guard, terms=terms, count_epoch=False
            )
            self.loss_done += mean * weight_sum
            self.rows_done += weight_sum
            self._chunk = None
        check_sample_count(n_rows, self.n_features, self.estimator_name)
        state.n_epochs += 1
        state.optimizer.iteration_ends(state.n_samples_seen)
        return self.loss_done / self.rows_done

    def completed(self):
        """``(rows, summed loss)`` of the steps completed in the current epoch.

        With sample weights, their sum in place of the rows.
        """
        rows, total = self.rows_done, self.loss_done
        if self._chunk is not None:
            chunk_rows, chunk_total = self._chunk.completed()
            rows, total = rows + chunk_rows, total + chunk_total
        return rows, total
