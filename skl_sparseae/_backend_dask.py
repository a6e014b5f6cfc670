"""Everything that works on a dask array: checks, evaluations, epochs, transforms.

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
local scheduler and the same functions run in this process.

A dask array is checked as ``check_array`` checks in-memory data, without
computing it: its shape and dtype at once, and each chunk's values (finite,
numeric, sparse format) lazily, on the worker that computes the chunk
(:func:`check_dask_array`).

The minibatch solvers stream a dask array (:class:`ChunkRunner`): each epoch
gathers its chunks to this process one at a time, in chunk order, and runs
the batches of each chunk; at most one chunk is held here at once.

The lazy ``transform``, ``inverse_transform`` and ``score_samples`` map the
array functions of :mod:`skl_sparseae._inference` over the chunks, with
copies of the weights: a result computed later belongs to the model it came
from, whatever happens to the estimator meanwhile. The statistics behind
:mod:`skl_sparseae.metrics` are computed chunk by chunk where the chunks
are, in one pass, and combined in chunk order.

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
from sklearn.utils.validation import check_array

from . import _blas
from ._backend_numpy import rows_gradient_sums, value_range
from ._inference import (
    Statistics,
    combine_statistics,
    dense_feature_moments,
    encode,
    model_statistics,
    reconstruct,
    score_rows,
)
from ._objective import (
    ACTIVE_THRESHOLD,
    FirstPass,
    add_in_order,
    add_partials_in_order,
    hidden_activations,
    n_parameters,
    unpack,
)
from ._stochastic import EpochRunner, StepThreads
from ._validation import FLOAT_DTYPES, check_sample_count

# When there are more chunks than this, their gradient sums are added on the
# workers, this many at a time, before the client receives them.
REDUCTION_FAN_IN = 8

# How long an evaluation waits for a cluster that has no workers left before
# it fails (seconds). Read from dask's configuration when set there.
NO_WORKERS_TIMEOUT_KEY = "skl_sparseae.no-workers-timeout"
DEFAULT_NO_WORKERS_TIMEOUT = 60.0


def is_dask_collection(X):
    """Whether X is a dask collection, decided without importing dask."""
    return hasattr(type(X), "__dask_graph__") and any(
        cls.__module__.partition(".")[0] in ("dask", "dask_expr")
        for cls in type(X).__mro__
    )


def is_dask_array(X):
    """Whether X is a ``dask.array.Array``, decided without importing dask."""
    return any(
        cls.__name__ == "Array" and cls.__module__.partition(".")[0] == "dask"
        for cls in type(X).__mro__
    )


INSTALL_DASK_HINT = 'pip install "dask[array]" distributed'


def import_dask():
    """Import dask.array, or fail with the command that installs the extra."""
    try:
        import dask
        import dask.array  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            "Fitting or transforming a dask array needs the optional dependencies "
            f"dask[array] and distributed; install them with: {INSTALL_DASK_HINT}"
        ) from exc
    return dask


def check_chunk(X_chunk, estimator_name, dtype):
    """``check_array`` on one chunk of a dask array, where it is computed."""
    return check_array(
        X_chunk,
        accept_sparse="csr",
        dtype=dtype,
        ensure_min_samples=0,
        estimator=estimator_name,
        input_name="X",
    )


def check_dask_array(X, estimator_name):
    """Check a dask array's shape and dtype now, and its values lazily.

    Follows ``check_array(dtype=(float64, float32))``: float32 and float64
    are kept, other numeric types become float64. Returns a dask array with
    whole rows in each chunk whose chunks are validated when computed.
    """
    import_dask()
    if not is_dask_array(X):
        raise TypeError(
            f"{estimator_name} accepts a dask array, not a {type(X).__module__}."
            f"{type(X).__qualname__}. Convert it first, for instance with "
            "dask_dataframe.to_dask_array(lengths=True)."
        )
    if X.ndim != 2:
        if X.ndim < 2:
            raise ValueError(
                f"Expected 2D array, got {X.ndim}D array instead. Reshape your "
                "data either using array.reshape(-1, 1) if your data has a single "
                "feature or array.reshape(1, -1) if it contains a single sample."
            )
        raise ValueError(
            f"Found array with dim {X.ndim}. {estimator_name} expected <= 2."
        )
    if np.isnan(X.shape[1]):
        raise ValueError(
            f"{estimator_name} needs the number of columns of the dask array; it "
            "is unknown. Call X.compute_chunk_sizes() first."
        )
    if X.shape[1] < 1:
        raise ValueError(
            f"Found array with 0 feature(s) (shape={X.shape}) while a minimum of "
            f"1 is required by {estimator_name}."
        )
    if X.dtype.kind == "c":
        raise ValueError("Complex data not supported")
    if X.dtype not in FLOAT_DTYPES:
        X = X.astype(np.float64)
    if len(X.chunks[1]) > 1:
        # The objective needs whole rows in each chunk.
        X = X.rechunk({1: -1})
    return X.map_blocks(
        check_chunk, estimator_name, X.dtype, dtype=X.dtype, meta=X._meta
    )


def _feature_moments(X_chunk):
    """Rows, column means and sums of squares about them of one chunk (float64)."""
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


def total_variance(X):
    """Sum over the features of the variance of dask array X's rows, in float64.

    One pass over the chunks: each chunk's moments are computed where it
    lives, and merged here in chunk order. Row counts need not be known in
    advance, and an array without rows gives 0, like an in-memory one (the
    fit then refuses it with scikit-learn's 0-sample error).
    """
    import dask

    moments = dask.delayed(_feature_moments, pure=True)
    parts = dask.compute(*(moments(chunk) for chunk in X.to_delayed().ravel()))
    total = Statistics(0, None, None)
    for part in parts:
        total = combine_statistics(total, part)
    if total.n_samples == 0:
        return 0.0
    return float(np.sum(total.feature_scatter)) / total.n_samples


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
    """Number of rows and the value range (or None) of one chunk."""
    return X_chunk.shape[0], value_range(X_chunk)


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
    activations above ``ACTIVE_THRESHOLD``.
    """
    W1, b1, _, _ = unpack(theta, model.n_features, model.n_components)
    activations = [hidden_activations(X_chunk, W1, b1) for X_chunk in X_chunks]
    sums = [
        (A.sum(axis=0, dtype=np.float64), np.count_nonzero(A > ACTIVE_THRESHOLD))
        for A in activations
    ]
    return activations, sums


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
    return [
        rows_gradient_sums(X_chunk, A_chunk, W2, b2, kl_slope, decoder)
        for X_chunk, A_chunk in zip(X_chunks, activations)
    ]


def _add_selected(picks, *group_results):
    """Add the chunk partials ``group_results[i][j]`` for ``(i, j)`` in ``picks``."""
    return add_partials_in_order([group_results[i][j] for i, j in picks])


def _add_reduced(*partials):
    return add_partials_in_order(partials)


# --------------------------------------------------------------------------
# Where the chunks live: on the workers of a cluster, or in this process.


class _ClusterChunks:
    """Chunks of X persisted on the workers of a dask.distributed cluster."""

    def __init__(self, client, X, no_workers_timeout):
        self.client = client
        self.no_workers_timeout = no_workers_timeout
        # One future per chunk, in row order; the tasks keep their lineage,
        # so the scheduler recomputes a chunk whose worker is lost.
        self.chunks = client.compute(X.to_delayed().ravel().tolist())
        self.groups = [list(range(len(self.chunks)))]

    def summaries(self):
        summaries = self.gather(
            self.client.map(_chunk_summary, self.chunks, key="sae-check-X")
        )
        self._balance([rows for rows, _ in summaries])
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

    def __init__(self, X):
        import dask

        self.chunks = list(dask.compute(*X.to_delayed().ravel().tolist()))

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
    """

    def __init__(self, X, n_components, decoder_activation):
        self.n_features = X.shape[1]
        self.n_components = n_components
        self.decoder_activation = decoder_activation
        self.dtype = np.dtype(X.dtype)
        self._model = _Model(self.n_features, n_components, decoder_activation)
        client = current_client()
        if client is None:
            self._chunks = _LocalChunks(X)
        else:
            self._chunks = _ClusterChunks(client, X, _no_workers_timeout())
        try:
            summaries = self._chunks.summaries()
        except BaseException:
            self.close()
            raise
        self.n_samples = sum(rows for rows, _ in summaries)
        ranges = [r for _, r in summaries if r is not None]
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
        return FirstPass(column_sums, (activations, params), int(active_count))

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


def leading_rows(X, n_rows):
    """Up to ``n_rows`` leading rows of a dask array, computed chunk by chunk.

    For a validated array (whole rows in each chunk) whose row counts dask
    does not know (after a boolean mask), which cannot be sliced: the
    leading chunks are computed one at a time until they hold ``n_rows``
    rows.
    """
    import dask

    pieces, rows = [], 0
    for chunk in X.to_delayed().ravel():
        (piece,) = dask.compute(chunk)
        pieces.append(piece)
        rows += piece.shape[0]
        if rows >= n_rows:
            break
    if sp.issparse(pieces[0]):
        return sp.vstack(pieces, format="csr")[:n_rows]
    return np.concatenate(pieces)[:n_rows]


# --------------------------------------------------------------------------
# Minibatch epochs, streamed chunk by chunk.


class ChunkRunner:
    """Epochs over the chunks of a dask array, gathered here one at a time.

    Each chunk is computed (validated by its graph), its batches run as by
    :class:`EpochRunner` with ``plan``, and it is dropped before the next is
    computed. The chunks come in chunk order; the plan's ``shuffle`` orders
    the rows within each. The chunks' steps share one set of
    :class:`StepThreads`, stopped by :meth:`close` (the runner is a context
    manager).
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

        self.rows_done, self.loss_done, self._chunk = 0, 0.0, None
        for chunk in self.chunks:
            (X_chunk,) = dask.compute(chunk)
            if X_chunk.shape[0] == 0:
                continue
            batch_size = min(self.plan.batch_size, X_chunk.shape[0])
            self._chunk = EpochRunner(
                X_chunk,
                self.plan._replace(batch_size=batch_size),
                threads=self.threads,
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


# --------------------------------------------------------------------------
# Lazy transform, inverse transform and score_samples.


def _copies(*arrays):
    # Copied into the graph, so that refitting the estimator before the
    # result is computed cannot change it.
    return tuple(np.array(a, copy=True) for a in arrays)


def _map_row_chunks(function, X, *args, dtype, n_columns=None):
    """``function(chunk, *args)`` over X's row chunks, lazily.

    ``n_columns`` is the width of each output chunk; None means one value
    per row.
    """
    if n_columns is None:
        layout = {"drop_axis": 1, "chunks": (X.chunks[0],)}
    else:
        layout = {"chunks": (X.chunks[0], (n_columns,))}
    meta = np.empty((0,) * len(layout["chunks"]), dtype=dtype)
    return X.map_blocks(function, *args, **layout, dtype=dtype, meta=meta)


def transform(X, components, intercept_hidden, estimator_name):
    """Hidden activations of the validated dask array X, lazily."""
    components, intercept_hidden = _copies(components, intercept_hidden)
    dtype = np.result_type(X.dtype, components.dtype)
    return _map_row_chunks(
        encode,
        X,
        components,
        intercept_hidden,
        estimator_name,
        dtype=dtype,
        n_columns=components.shape[0],
    )


def _dense_reconstruction(A, decoder_components, intercept_visible, decoder, name):
    if sp.issparse(A):
        A = A.toarray()
    return reconstruct(A, decoder_components, intercept_visible, decoder, name)


def inverse_transform(
    A, decoder_components, intercept_visible, decoder_activation, estimator_name
):
    """Reconstruction of the validated dask array of activations A, lazily."""
    W2, b2 = _copies(decoder_components, intercept_visible)
    return _map_row_chunks(
        _dense_reconstruction,
        A,
        W2,
        b2,
        decoder_activation,
        estimator_name,
        dtype=np.result_type(A.dtype, W2.dtype),
        n_columns=W2.shape[1],
    )


def score_samples(X, weights, decoder_activation, estimator_name):
    """Negative half squared reconstruction error per row of X, lazily."""
    weights = _copies(*weights)
    return _map_row_chunks(
        score_rows,
        X,
        weights,
        decoder_activation,
        estimator_name,
        dtype=np.result_type(X.dtype, weights[0].dtype),
    )


def statistics(
    X, weights, decoder_activation, estimator_name, *, threshold, reconstruction
):
    """The :class:`~skl_sparseae._inference.Statistics` of the validated dask array X.

    One task per chunk computes the chunk's statistics where it lives (with
    the active ``dask.distributed`` client, else dask's local scheduler);
    a single ``compute`` reads each chunk once, and only the small per-chunk
    sums come back, combined here in chunk order.
    """
    import dask

    # One key for the weights, shared by every chunk's task.
    weights = dask.delayed(_copies(*weights), traverse=False)
    chunk_statistics = dask.delayed(model_statistics, pure=True)
    parts = dask.compute(
        *(
            chunk_statistics(
                chunk,
                weights,
                decoder_activation,
                estimator_name,
                threshold=threshold,
                reconstruction=reconstruction,
            )
            for chunk in X.to_delayed().ravel()
        )
    )
    result = Statistics(0, None, None)
    for part in parts:
        result = combine_statistics(result, part)
    return result
