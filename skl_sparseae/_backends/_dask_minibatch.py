"""Minibatch epochs over a dask array, streamed chunk by chunk.

The minibatch solvers stream a dask array (:class:`ChunkRunner`): each epoch
gathers its chunks to this process one at a time, in chunk order, and runs
the batches of each chunk; at most one chunk is held here at once.

Nothing here imports dask at module level: the core package works without it.
"""

# SPDX-License-Identifier: BSD-3-Clause

from .._stochastic import EpochRunner
from .._validation import check_sample_count


class ChunkRunner:
    """Epochs over the chunks of a dask array, gathered here one at a time.

    Each chunk is computed (validated by its graph), its batches run as by
    :class:`EpochRunner` with ``plan``, and it is dropped before the next is
    computed. The chunks come in chunk order; the plan's ``shuffle`` orders
    the rows within each.
    ``estimator_name`` names the estimator in the error for an array whose
    chunks hold no rows (its row count may be unknown until they are
    computed).
    """

    xp = None

    def __init__(self, X, plan, *, estimator_name):
        self.chunks = X.to_delayed().ravel().tolist()
        self.n_features = X.shape[1]
        self.plan = plan
        self.estimator_name = estimator_name
        self.rows_done, self.loss_done, self._chunk = 0, 0.0, None

    def run(self, theta, state, *, guard=None, terms=None):
        import dask

        self.rows_done, self.loss_done, self._chunk = 0, 0.0, None
        for chunk in self.chunks:
            (X_chunk,) = dask.compute(chunk)
            if X_chunk.shape[0] == 0:
                continue
            batch_size = min(self.plan.batch_size, X_chunk.shape[0])
            self._chunk = EpochRunner(
                X_chunk, self.plan._replace(batch_size=batch_size)
            )
            mean = self._chunk.run(
                theta, state, guard=guard, terms=terms, count_epoch=False
            )
            self.loss_done += mean * X_chunk.shape[0]
            self.rows_done += X_chunk.shape[0]
            self._chunk = None
        check_sample_count(self.rows_done, self.n_features, self.estimator_name)
        state.n_epochs += 1
        state.optimizer.iteration_ends(state.n_samples_seen)
        return self.loss_done / self.rows_done

    def completed(self):
        """``(rows, summed loss)`` of the steps completed in the current epoch."""
        rows, total = self.rows_done, self.loss_done
        if self._chunk is not None:
            chunk_rows, chunk_total = self._chunk.completed()
            rows, total = rows + chunk_rows, total + chunk_total
        return rows, total
