"""The fit backend of a dask array: the two passes of an evaluation over its chunks.

The L-BFGS loop stays in the calling process (the client); each pass of an
evaluation is a map over the chunks of X, computed on the workers that hold
them, one task per worker thread and pass:

1. the hidden activations ``A`` of every chunk, kept on its worker, and their
   column sums, which the client adds into the mean activations;
2. given the KL slope, the squared error and the gradient sums of every
   chunk, added in chunk order (in a tree on the workers when there are many
   chunks) before the client receives them.

Every sum is accumulated per chunk and the chunks' sums are added in chunk
order, so where the chunks live (which worker, which group) never changes a
bit of the result. The chunks are computed and persisted once per fit, and
spread so that each worker holds rows in proportion to its threads (a worker
holding more would make every evaluation wait for it); each evaluation sends
only the parameter vector.

Without a ``dask.distributed`` client, the chunks are computed by dask's
local scheduler and the same functions run in this process. With sample
weights each chunk is persisted with its weights and every sum is weighted.

Nothing here imports dask at module level: the core package works without it.
"""

# SPDX-License-Identifier: BSD-3-Clause

import sys
import time
import uuid
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from sklearn.utils.sparsefuncs import mean_variance_axis

from .._inference import (
    Statistics,
    combine_statistics,
    dense_feature_moments,
)
from .._objective import (
    ACTIVE_THRESHOLD,
    FirstPass,
    add_in_order,
    add_partials_in_order,
    hidden_activations,
    n_parameters,
    unpack,
)
from ._dask_checks import chunk_items, rows_and_weights
from ._numpy import rows_gradient_sums, value_range

# When there are more chunks than this, their gradient sums are added on the
# workers, this many at a time, before the client receives them. The tree is
# dask.array.reduction's with split_every=8, without its task per chunk: that
# one makes an evaluation 1.2-4.7x slower (benchmarks/bench_dask_reduction.py).
REDUCTION_FAN_IN = 8

# How long an evaluation waits for a cluster that has no workers left before
# it fails (seconds). Read from dask's configuration when set there.
NO_WORKERS_TIMEOUT_KEY = "skl_sparseae.no-workers-timeout"
DEFAULT_NO_WORKERS_TIMEOUT = 60.0


def _feature_moments(X_chunk):
    """Rows, column means and sums of squares about them of one chunk (float64).

    A :class:`~skl_sparseae._backends._dask_checks.WeightedChunk` gives its
    weight sum and weighted moments.
    """
    X_chunk, weights = rows_and_weights(X_chunk)
    if weights is not None:
        return _weighted_feature_moments(X_chunk, weights)
    n_rows = X_chunk.shape[0]
    if n_rows == 0:
        return Statistics(0, None, None)
    if sp.issparse(X_chunk):
        means, variances = mean_variance_axis(sp.csr_matrix(X_chunk), axis=0)
        means = means.astype(np.float64)
        scatter = variances.astype(np.float64) * n_rows
    else:
        means, scatter = dense_feature_moments(X_chunk)
    return Statistics(n_rows, 0.0, None, means, scatter, 0.0)


def _weighted_feature_moments(X_chunk, weights):
    weights = np.asarray(weights, dtype=np.float64)
    weight_sum = float(np.sum(weights))
    if weight_sum == 0:
        return Statistics(0, None, None)
    if sp.issparse(X_chunk):
        means, variances = mean_variance_axis(
            sp.csr_matrix(X_chunk), axis=0, weights=weights
        )
        means = means.astype(np.float64)
        scatter = variances.astype(np.float64) * weight_sum
    else:
        means = (weights @ X_chunk.astype(np.float64)) / weight_sum
        deviations = np.subtract(X_chunk, means, dtype=np.float64)
        scatter = weights @ (deviations * deviations)
    return Statistics(weight_sum, 0.0, None, means, scatter, 0.0)


def total_variance(X, sample_weight=None):
    """Sum over the features of the variance of dask array X's rows, in float64.

    One pass over the chunks: each chunk's moments are computed where it
    lives, and merged here in chunk order. Row counts need not be known in
    advance, and an array without rows gives 0, like an in-memory one (the
    fit then refuses it with scikit-learn's 0-sample error). With
    ``sample_weight`` (validated by
    :func:`~skl_sparseae._backends._dask_checks.check_sample_weight`) the
    moments are weighted.
    """
    import dask

    moments = dask.delayed(_feature_moments, pure=True)
    parts = dask.compute(*(moments(chunk) for chunk in chunk_items(X, sample_weight)))
    total = Statistics(0, None, None)
    for part in parts:
        total = combine_statistics(total, part)
    if total.n_samples == 0:
        return 0.0
    return float(np.sum(total.feature_scatter)) / total.n_samples


def weighted_mean_activation(X, sample_weight, W1, b1):
    """float64 weighted mean hidden activation of dask array X's rows.

    ``sample_weight`` is from
    :func:`~skl_sparseae._backends._dask_checks.check_sample_weight`; one
    pass over the chunks, whose sums are added here in chunk order.
    """
    import dask

    parts = dask.compute(
        *(
            dask.delayed(_weighted_activation_sums, pure=True)(item, W1, b1)
            for item in chunk_items(X, sample_weight)
        )
    )
    weight_sum, column_sums = add_in_order(list(parts))
    return column_sums / weight_sum


def _weighted_activation_sums(item, W1, b1):
    X_chunk, weights = rows_and_weights(item)
    weights = weights.astype(np.float64)
    return np.sum(weights), weights @ hidden_activations(X_chunk, W1, b1)


def current_client():
    """The active dask.distributed client, or None to use dask's local scheduler."""
    # A client can only exist if distributed has been imported already.
    distributed = sys.modules.get("distributed")
    if distributed is None:
        return None
    try:
        return distributed.default_client()
    except ValueError:
        return None


# --------------------------------------------------------------------------
# Work on the chunks. These run on the workers and must be importable there.


def _chunk_summary(X_chunk):
    """Rows, value range (or None) and float64 weight sum (or None) of one chunk."""
    X_chunk, weights = rows_and_weights(X_chunk)
    weight_sum = None if weights is None else float(np.sum(weights, dtype=np.float64))
    return X_chunk.shape[0], value_range(X_chunk), weight_sum


class _Model(NamedTuple):
    """What the tasks need to know of the autoencoder besides its weights."""

    n_features: int
    n_components: int
    decoder_activation: str


def _group_activations(theta, model, *X_chunks):
    """Hidden activations of a group of chunks, and each chunk's sums.

    A group is the chunks that one worker thread holds: one task per group
    instead of one per chunk keeps the scheduler's share of an evaluation
    small. A chunk's sums are its float64 column sums and its number of
    activations above ``ACTIVE_THRESHOLD``; of a
    :class:`~skl_sparseae._backends._dask_checks.WeightedChunk`, the weighted
    sums.
    """
    W1, b1, _, _ = unpack(theta, model.n_features, model.n_components)
    items = [rows_and_weights(chunk) for chunk in X_chunks]
    activations = [hidden_activations(X_chunk, W1, b1) for X_chunk, _ in items]
    sums = [
        (A.sum(axis=0, dtype=np.float64), np.count_nonzero(A > ACTIVE_THRESHOLD))
        if weights is None
        else _weighted_sums(A, weights)
        for A, (_, weights) in zip(activations, items)
    ]
    return activations, sums


def _weighted_sums(A, weights):
    weights = weights.astype(np.float64)
    active = float(weights @ np.count_nonzero(A > ACTIVE_THRESHOLD, axis=1))
    return weights @ A, active


def _pin(value):
    """The value itself: a task that places a copy where the scheduler says."""
    return value


def _column_sums_of(group_activations):
    return group_activations[1]


def _group_gradient_sums(group_activations, theta, kl_slope, model, *X_chunks):
    """Each chunk's squared error and gradient sums, for a group of chunks."""
    activations, _ = group_activations
    _, _, W2, b2 = unpack(theta, model.n_features, model.n_components)
    decoder = model.decoder_activation
    results = []
    for chunk, A_chunk in zip(X_chunks, activations):
        X_chunk, weights = rows_and_weights(chunk)
        results.append(
            rows_gradient_sums(X_chunk, A_chunk, W2, b2, kl_slope, decoder, weights)
        )
    return results


def _add_selected(picks, *group_results):
    """Add the chunk partials ``group_results[i][j]`` for ``(i, j)`` in ``picks``."""
    return add_partials_in_order([group_results[i][j] for i, j in picks])


def _add_reduced(*partials):
    return add_partials_in_order(partials)


# --------------------------------------------------------------------------
# Where the chunks live: on the workers of a cluster, or in this process.


class _ClusterChunks:
    """Chunks of X persisted on the workers of a dask.distributed cluster."""

    def __init__(self, client, X, no_workers_timeout, sample_weight=None):
        self.client = client
        self.no_workers_timeout = no_workers_timeout
        # One future per chunk, in row order; the tasks keep their lineage,
        # so the scheduler recomputes a chunk whose worker is lost.
        self.chunks = client.compute(chunk_items(X, sample_weight))
        self.groups = [list(range(len(self.chunks)))]

    def summaries(self):
        summaries = self.gather(
            self.client.map(_chunk_summary, self.chunks, key="sae-check-X")
        )
        self._balance([rows for rows, _, _ in summaries])
        self.groups = self._co_located_groups()
        return summaries

    def _balance(self, rows):
        """Move chunks so that each worker holds rows in proportion to its threads.

        Every evaluation runs each group of chunks where the chunks are, so a
        worker that holds more than its share of the rows would make every
        evaluation wait for it. Moving the surplus once per fit costs one
        transfer of those chunks. A moved chunk is a task on the original
        one, so it keeps its lineage.
        """
        # Not Client.rebalance: it evens out each worker's memory, every key
        # counted, and by default moves nothing below 30 % of a worker's limit.
        from distributed import wait

        who_has = self.client.who_has(self.chunks)
        holders = [set(who_has.get(future.key, ())) for future in self.chunks]
        moves = plan_moves(rows, holders, self.client.nthreads())
        token = _token()
        for index, address in moves.items():
            self.chunks[index] = self.client.submit(
                _pin,
                self.chunks[index],
                key=f"sae-chunk-{index}-{token}",
                workers=[address],
                allow_other_workers=True,
            )
        wait([self.chunks[index] for index in moves])

    def _co_located_groups(self):
        """Split the chunk indices into groups held by one worker, one per thread.

        The scheduler runs each group's task where its chunks are. If a chunk
        moves later (a worker died), its group still runs, after a transfer.
        """
        who_has = self.client.who_has(self.chunks)
        n_threads = self.client.nthreads()
        by_worker = {}
        for index, future in enumerate(self.chunks):
            # A chunk may be held by several workers (a copy stays where it
            # was moved from): it joins the one with the fewest chunks yet.
            holders = sorted(who_has.get(future.key, ())) or [None]
            holder = min(holders, key=lambda a: len(by_worker.get(a, ())))
            by_worker.setdefault(holder, []).append(index)
        groups = []
        for address, indices in by_worker.items():
            n_groups = min(n_threads.get(address, 1), len(indices))
            groups.extend(
                [int(i) for i in part] for part in np.array_split(indices, n_groups)
            )
        groups.sort(key=lambda indices: indices[0])
        return groups

    def _futures(self, group):
        return [self.chunks[index] for index in group]

    def broadcast(self, theta):
        # One task holds the parameters and every group's task depends on it,
        # so they travel once to each worker. A task, unlike scattered data,
        # keeps its lineage: if its worker dies the scheduler runs it again
        # instead of failing the evaluation.
        return self.client.submit(_pin, theta, key=f"sae-parameters-{_token()}")

    def activations(self, params, model):
        token = _token()
        activations = [
            self.client.submit(
                _group_activations,
                params,
                model,
                *self._futures(group),
                key=f"sae-activations-{index}-{token}",
            )
            for index, group in enumerate(self.groups)
        ]
        group_sums = self.gather(
            [
                self.client.submit(
                    _column_sums_of, group, key=f"sae-activation-sums-{index}-{token}"
                )
                for index, group in enumerate(activations)
            ]
        )
        return activations, _in_chunk_order(self.groups, group_sums)

    def gradient_sums(self, activations, params, kl_slope, model):
        token = _token()
        group_results = [
            self.client.submit(
                _group_gradient_sums,
                group_activations,
                params,
                kl_slope,
                model,
                *self._futures(group),
                key=f"sae-gradient-sums-{index}-{token}",
            )
            for index, (group, group_activations) in enumerate(
                zip(self.groups, activations)
            )
        ]
        n_chunks = len(self.chunks)
        if n_chunks <= REDUCTION_FAN_IN:
            partials = _in_chunk_order(self.groups, self.gather(group_results))
            return add_partials_in_order(partials)
        # Many chunks: add them on the workers in runs of consecutive chunks,
        # then the runs' sums in a tree, always in chunk order.
        where = {
            chunk: (group_index, position)
            for group_index, group in enumerate(self.groups)
            for position, chunk in enumerate(group)
        }
        reduced = []
        for start in range(0, n_chunks, REDUCTION_FAN_IN):
            run = range(start, min(start + REDUCTION_FAN_IN, n_chunks))
            used = sorted({where[chunk][0] for chunk in run})
            picks = [(used.index(where[c][0]), where[c][1]) for c in run]
            reduced.append(
                self.client.submit(
                    _add_selected,
                    picks,
                    *[group_results[i] for i in used],
                    key=f"sae-add-chunks-{start}-{token}",
                )
            )
        level = 0
        while len(reduced) > REDUCTION_FAN_IN:
            reduced = [
                self.client.submit(
                    _add_reduced,
                    *reduced[start : start + REDUCTION_FAN_IN],
                    key=f"sae-add-gradient-sums-{level}-{start}-{token}",
                )
                for start in range(0, len(reduced), REDUCTION_FAN_IN)
            ]
            level += 1
        return add_partials_in_order(self.gather(reduced))

    def gather(self, futures):
        """The futures' results; a clear error when the cluster lost them."""
        from distributed import CancelledError, KilledWorker, wait
        from distributed.comm import CommClosedError

        try:
            self._wait_with_workers(futures, wait)
            return self.client.gather(futures)
        except (KilledWorker, CancelledError, CommClosedError) as exc:
            raise RuntimeError(
                "The dask cluster lost work that this objective evaluation "
                f"needs ({type(exc).__name__}: {exc}). The fit was stopped and "
                "no model was fitted. Check the workers' logs and memory limits; "
                "data scattered to the workers has no lineage and cannot be "
                "recomputed when a worker dies, while data loaded through a "
                "dask graph can."
            ) from exc

    def _wait_with_workers(self, futures, wait):
        """Wait for ``futures`` as long as the cluster has workers to run them."""
        without_workers_since = None
        while True:
            try:
                wait(futures, timeout=1.0)
                return
            except TimeoutError:
                pass
            if self.client.nthreads():
                without_workers_since = None
                continue
            now = time.monotonic()
            if without_workers_since is None:
                without_workers_since = now
            elif now - without_workers_since >= self.no_workers_timeout:
                raise RuntimeError(
                    "The dask cluster has had no workers for "
                    f"{self.no_workers_timeout:g} s, so this objective evaluation "
                    "cannot run. The fit was stopped and no model was fitted. "
                    "Add workers to the cluster, or raise the wait with "
                    f"dask.config.set({{{NO_WORKERS_TIMEOUT_KEY!r}: seconds}})."
                )

    def release(self):
        # Dropping our futures lets the workers free the chunks; cancelling
        # them could also cancel keys that the caller persisted.
        self.chunks = self.groups = None


class _LocalChunks:
    """Chunks of X computed by dask's local scheduler, held in this process."""

    def __init__(self, X, sample_weight=None):
        import dask

        self.chunks = list(dask.compute(*chunk_items(X, sample_weight)))

    def summaries(self):
        return [_chunk_summary(chunk) for chunk in self.chunks]

    def broadcast(self, theta):
        return theta

    def activations(self, params, model):
        activations = _group_activations(params, model, *self.chunks)
        return activations, activations[1]

    def gradient_sums(self, activations, params, kl_slope, model):
        return add_partials_in_order(
            _group_gradient_sums(activations, params, kl_slope, model, *self.chunks)
        )

    def release(self):
        self.chunks = None


def _in_chunk_order(groups, group_results):
    """Flatten per-group lists of per-chunk results into chunk order."""
    by_chunk = {}
    for group, results in zip(groups, group_results):
        by_chunk.update(zip(group, results))
    return [by_chunk[index] for index in sorted(by_chunk)]


def _token():
    return uuid.uuid4().hex


def plan_moves(rows, holders, n_threads):
    """Which chunks to move to which worker so that rows follow worker threads.

    ``rows[i]`` is the number of rows of chunk ``i`` and ``holders[i]`` the
    set of workers holding it; ``n_threads`` maps each worker to its number
    of threads. A chunk stays on a holder while that holder is below its
    share (a chunk may overshoot the share by less than half its rows); the
    others, largest first, go to the worker furthest below its share.
    Returns ``{chunk index: worker address}`` for the chunks that move.
    """
    total_threads = sum(n_threads.values())
    share = {
        address: sum(rows) * count / total_threads
        for address, count in n_threads.items()
    }
    load = dict.fromkeys(n_threads, 0)
    surplus = []
    for index, (n_rows, chunk_holders) in enumerate(zip(rows, holders)):
        for address in sorted(chunk_holders & load.keys(), key=lambda a: (load[a], a)):
            if load[address] + n_rows / 2 <= share[address]:
                load[address] += n_rows
                break
        else:
            surplus.append(index)
    moves = {}
    for index in sorted(surplus, key=lambda i: (-rows[i], i)):
        address = max(sorted(load), key=lambda a: share[a] - load[a])
        load[address] += rows[index]
        if address not in holders[index]:
            moves[index] = address
    return moves


def _no_workers_timeout():
    """The wait set in dask's configuration, checked before any chunk is sent."""
    import dask

    value = dask.config.get(NO_WORKERS_TIMEOUT_KEY, DEFAULT_NO_WORKERS_TIMEOUT)
    try:
        # A string holding a number, as an environment variable gives it, is
        # fine; a boolean is a mistake, not 1 second.
        seconds = None if isinstance(value, (bool, np.bool_)) else float(value)
    except (TypeError, ValueError):
        seconds = None
    # NaN never compares as elapsed: the fit would wait for ever.
    if seconds is None or not seconds >= 0:
        raise ValueError(
            f"The dask configuration setting {NO_WORKERS_TIMEOUT_KEY!r} must be "
            "a non-negative number of seconds, for instance "
            f"dask.config.set({{{NO_WORKERS_TIMEOUT_KEY!r}: 600}}); got "
            f"{value!r}."
        )
    return seconds


# --------------------------------------------------------------------------
# The backend.


class DaskBackend:
    """The two passes of an evaluation over the chunks of a dask array.

    Computes and persists the chunks on creation (on the cluster of the
    current ``distributed`` client, or in this process without one) and
    reads their row counts and value range; :meth:`close` releases them.

    Parameters
    ----------
    X : dask.array.Array of shape (n_samples, n_features)
        Validated lazily: float32 or float64, whole rows in each chunk, and
        a per-chunk validation in its graph.

    n_components : int
        Number of hidden units.

    decoder_activation : {"sigmoid", "identity"}
        The output non-linearity.

    sample_weight : dask.array.Array of shape (n_samples,), default=None
        Weights from
        :func:`~skl_sparseae._backends._dask_checks.check_sample_weight`,
        with X's row chunks; each chunk is persisted with its rows, and the
        passes return weighted sums.
    """

    def __init__(self, X, n_components, decoder_activation, sample_weight=None):
        self.n_features = X.shape[1]
        self.n_components = n_components
        self.decoder_activation = decoder_activation
        self.dtype = np.dtype(X.dtype)
        self._model = _Model(self.n_features, n_components, decoder_activation)
        self.weighted = sample_weight is not None
        client = current_client()
        if client is None:
            self._chunks = _LocalChunks(X, sample_weight)
        else:
            self._chunks = _ClusterChunks(
                client, X, _no_workers_timeout(), sample_weight
            )
        try:
            summaries = self._chunks.summaries()
        except BaseException:
            self.close()
            raise
        self.n_samples = sum(rows for rows, _, _ in summaries)
        self.total_weight = self.n_samples
        if self.weighted:
            # Added in chunk order, so that the sum does not depend on the cluster.
            self.total_weight = float(sum(w for _, _, w in summaries))
        ranges = [r for _, r, _ in summaries if r is not None]
        self._value_range = (
            (min(low for low, _ in ranges), max(high for _, high in ranges))
            if ranges
            else None
        )

    def value_range(self):
        """Smallest and largest stored value of X, or None when it stores none."""
        return self._value_range

    def memory_bytes(self):
        """Bytes the evaluations allocate in this process: the partial sums received.

        The activations and block buffers live on the workers.
        """
        n_params = n_parameters(self.n_features, self.n_components)
        return (REDUCTION_FAN_IN + 1) * n_params * self.dtype.itemsize

    def activation_sums(self, theta):
        """Pass 1: float64 column sums of the hidden activations, in chunk order.

        The activations stay on the workers; pass 2 receives their futures
        and the parameters already sent.
        """
        params = self._chunks.broadcast(theta.astype(self.dtype, copy=False))
        activations, chunk_sums = self._chunks.activations(params, self._model)
        column_sums, active_count = add_in_order(chunk_sums)
        active_count = float(active_count) if self.weighted else int(active_count)
        return FirstPass(column_sums, (activations, params), active_count)

    def gradient_sums(self, theta, kl_slope, first_pass):
        """Pass 2: squared error and gradient sums, using pass 1's activations."""
        activations, params = first_pass.kept
        return self._chunks.gradient_sums(activations, params, kl_slope, self._model)

    def close(self):
        self._chunks.release()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
