"""Fit and transform data held in a dask array, on a dask.distributed cluster.

:class:`~skl_sparseae.SparseAutoencoderTransformer` hands a dask array to the
functions here. The L-BFGS loop stays in the calling process (the client);
each objective evaluation is a map-reduce over the chunks of X, computed on
the workers that hold them, one task per worker thread and pass:

1. the hidden activations ``A`` of every chunk, kept on its worker, and their
   column sums, which the client adds into ``rho_hat`` (it needs all rows);
2. given ``rho_hat``, the squared error and un-normalised gradient sums of
   every chunk, added up per worker thread (and, on large clusters, in a tree
   on the workers) before the client receives them.

The chunks are validated and persisted on the workers once per fit, and
spread so that each worker holds rows in proportion to its threads (a
worker holding more would make every evaluation wait for it); each
evaluation sends only the parameter vector. The maths are the building blocks
of :mod:`skl_sparseae._objective`, so the result equals the in-memory fit to
round-off.

Without a ``dask.distributed`` client, the chunks are computed by dask's
local scheduler and the same map-reduce runs in this process.

Nothing here imports dask at module level: the core package works without it.
"""

# SPDX-License-Identifier: BSD-3-Clause

import sys
import uuid
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.utils import gen_batches
from sklearn.utils.validation import check_array

from ._objective import (
    BlockWorkspace,
    add_block_gradient_sums,
    clip_mean_activation,
    evaluation_terms,
    finish_loss_and_gradient,
    hidden_activations,
    sparsity_penalty,
    row_batch_size,
    unpack,
    zero_gradient_sums,
)

INSTALL_HINT = 'pip install "dask[array]" distributed'

# Beyond this many groups of chunks, partial gradient sums are added on the
# workers in groups of this many before the client receives them.
_REDUCTION_FAN_IN = 8


def is_dask_collection(X):
    """Whether X is a dask collection, decided without importing dask."""
    return hasattr(type(X), "__dask_graph__") and any(
        cls.__module__.partition(".")[0] in ("dask", "dask_expr")
        for cls in type(X).__mro__
    )


def _is_dask_array(X):
    return any(
        cls.__name__ == "Array" and cls.__module__.partition(".")[0] == "dask"
        for cls in type(X).__mro__
    )


def _import_dask():
    """Import dask, or fail with the command that installs the extra."""
    try:
        import dask
        import dask.array  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            "Fitting or transforming a dask array needs the optional dependencies "
            f"dask[array] and distributed; install them with: {INSTALL_HINT}"
        ) from exc
    return dask


def _current_client():
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
# Validation of a dask array, lazily: nothing here computes the data.


def _check_dask_array(X, estimator, *, n_columns=None, columns_name="features"):
    """Check dimensions and dtype of a dask array and make its rows the only chunking.

    Follows ``sklearn.utils.check_array`` with ``dtype=(float64, float32)``:
    float32 and float64 are kept, other numeric types become float64. The
    per-chunk checks (finite values, sparse format) run on the workers with
    :func:`_check_chunk`.
    """
    name = type(estimator).__name__
    if not _is_dask_array(X):
        raise TypeError(
            f"{name} accepts a dask array, not a {type(X).__module__}."
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
        raise ValueError(f"Found array with dim {X.ndim}. {name} expected <= 2.")
    if np.isnan(X.shape[1]):
        raise ValueError(
            f"{name} needs the number of columns of the dask array; it is unknown. "
            "Call X.compute_chunk_sizes() first."
        )
    if X.dtype.kind == "c":
        raise ValueError("Complex data not supported")
    if X.dtype not in (np.float64, np.float32):
        X = X.astype(np.float64)
    if n_columns is not None and X.shape[1] != n_columns:
        raise ValueError(
            f"X has {X.shape[1]} {columns_name}, but {name} is expecting "
            f"{n_columns} {columns_name} as input."
        )
    if len(X.chunks[1]) > 1:
        # The objective needs whole rows in each chunk.
        X = X.rechunk({1: -1})
    return X


def _check_chunk(X_chunk, estimator_name, dtype):
    """``check_array`` on one chunk, on the worker that holds it."""
    return check_array(
        X_chunk,
        accept_sparse="csr",
        dtype=dtype,
        ensure_min_samples=0,
        estimator=estimator_name,
        input_name="X",
    )


def _check_feature_names(estimator):
    # A dask array has no column names; warn as scikit-learn does when the
    # estimator was fitted on a DataFrame.
    if hasattr(estimator, "feature_names_in_"):
        warnings.warn(
            "X does not have valid feature names, but "
            f"{type(estimator).__name__} was fitted with feature names",
            UserWarning,
        )


def _check_sample_count(n_samples, n_features, estimator):
    name = type(estimator).__name__
    if n_samples < 1:
        raise ValueError(
            f"Found array with {n_samples} sample(s) (shape=({n_samples}, "
            f"{n_features})) while a minimum of 1 is required by {name}."
        )
    if n_features < 1:
        raise ValueError(
            f"Found array with {n_features} feature(s) (shape=({n_samples}, "
            f"{n_features})) while a minimum of 1 is required by {name}."
        )


# --------------------------------------------------------------------------
# Work on one chunk. These run on the workers and must be importable there.


def _chunk_summary(X_chunk):
    """Number of rows and smallest and largest value of one chunk."""
    values = X_chunk.data if sp.issparse(X_chunk) else X_chunk
    if values.size == 0:
        return X_chunk.shape[0], np.inf, -np.inf
    return X_chunk.shape[0], float(values.min()), float(values.max())


def _group_activations(theta, n_features, n_components, *X_chunks):
    """Hidden activations of a group of chunks, and their column sums.

    A group is the chunks that one worker thread holds: one task per group
    instead of one per chunk keeps the scheduler's share of an evaluation
    small. The column sums are added in chunk order, in float64.
    """
    W1, b1, _, _ = unpack(theta, n_features, n_components)
    activations = [hidden_activations(X_chunk, W1, b1) for X_chunk in X_chunks]
    column_sums = np.zeros(n_components, dtype=np.float64)
    for A_chunk in activations:
        column_sums += A_chunk.sum(axis=0, dtype=np.float64)
    return activations, column_sums


def _identity(value):
    return value


def _second(pair):
    return pair[1]


def _group_gradient_sums(
    group_activations,
    theta,
    kl_slope,
    n_features,
    n_components,
    decoder_activation,
    *X_chunks,
):
    """Squared error and un-normalised gradient sums of a group of chunks.

    Each chunk is processed in row blocks sized from ``working_memory``, as
    the in-memory objective does, so a worker never holds more than one
    block's temporaries; the sums of all the group's chunks accumulate in
    one set of arrays.
    """
    activations, _ = group_activations
    _, _, W2, b2 = unpack(theta, n_features, n_components)
    dtype = np.dtype(theta.dtype)
    sums = zero_gradient_sums(n_features, n_components, dtype)
    squared_error = 0.0
    for X_chunk, A_chunk in zip(X_chunks, activations):
        n_rows = X_chunk.shape[0]
        if n_rows == 0:
            continue
        batch_size = row_batch_size(n_rows, n_features, n_components, dtype.itemsize)
        workspace = BlockWorkspace(
            min(batch_size, n_rows),
            n_features,
            n_components,
            dtype,
            sparse=sp.issparse(X_chunk),
        )
        for rows in gen_batches(n_rows, batch_size):
            squared_error += add_block_gradient_sums(
                X_chunk[rows],
                A_chunk[rows],
                W2,
                b2,
                kl_slope,
                decoder_activation,
                sums,
                workspace,
            )
    return (squared_error, *sums)


def _add_partials(*partials):
    """Element-wise sum of several ``_group_gradient_sums`` results."""
    squared_error = sum(part[0] for part in partials)
    arrays = [np.array(a, copy=True) for a in partials[0][1:]]
    for part in partials[1:]:
        for total, a in zip(arrays, part[1:]):
            total += a
    return (squared_error, *arrays)


def _transform_chunk(X_chunk, estimator):
    X_chunk = _check_chunk(X_chunk, type(estimator).__name__, (np.float64, np.float32))
    return estimator._encode(X_chunk)


def _inverse_transform_chunk(A_chunk, estimator):
    A_chunk = _check_chunk(A_chunk, type(estimator).__name__, (np.float64, np.float32))
    if sp.issparse(A_chunk):
        A_chunk = A_chunk.toarray()
    return estimator._decode(A_chunk)


def _score_samples_chunk(X_chunk, estimator):
    X_chunk = _check_chunk(X_chunk, type(estimator).__name__, (np.float64, np.float32))
    if X_chunk.shape[0] == 0:
        dtype = np.result_type(X_chunk.dtype, estimator.components_.dtype)
        return np.empty(0, dtype=dtype)
    return estimator._score(X_chunk)


# --------------------------------------------------------------------------
# Where the chunks live: on the workers of a cluster, or in this process.


class _ClusterChunks:
    """Chunks of X persisted on the workers of a dask.distributed cluster."""

    def __init__(self, client, X, n_features):
        self.client = client
        self.n_features = n_features
        # One future per chunk, in row order; the tasks keep their lineage,
        # so the scheduler recomputes a chunk whose worker is lost.
        self.chunks = client.compute(X.to_delayed().ravel().tolist())
        self.groups = [self.chunks]

    def summaries(self):
        summaries = self._gather(
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
        from distributed import wait

        who_has = self.client.who_has(self.chunks)
        holders = [set(who_has.get(future.key, ())) for future in self.chunks]
        moves = _plan_moves(rows, holders, self.client.nthreads())
        token = _token()
        for index, address in moves.items():
            self.chunks[index] = self.client.submit(
                _identity,
                self.chunks[index],
                key=f"sae-chunk-{index}-{token}",
                workers=[address],
                allow_other_workers=True,
            )
        wait([self.chunks[index] for index in moves])

    def _co_located_groups(self):
        """Split the chunks into groups held by one worker, one per worker thread.

        The scheduler runs each group's task where its chunks are. If a chunk
        moves later (a worker died), its group still runs, after a transfer.
        """
        who_has = self.client.who_has(self.chunks)
        n_threads = self.client.nthreads()
        by_worker = {}
        for index, future in enumerate(self.chunks):
            holders = sorted(who_has.get(future.key, ())) or [None]
            by_worker.setdefault(holders[0], []).append(index)
        groups = []
        for address, indices in by_worker.items():
            n_groups = min(n_threads.get(address, 1), len(indices))
            groups.extend(np.array_split(indices, n_groups))
        groups.sort(key=lambda indices: indices[0])
        return [[self.chunks[index] for index in indices] for indices in groups]

    def broadcast(self, theta):
        # One task holds the parameters and every group's task depends on it,
        # so they travel once to each worker. A task, unlike scattered data,
        # keeps its lineage: if its worker dies the scheduler runs it again
        # instead of failing the evaluation.
        return self.client.submit(_identity, theta, key=f"sae-parameters-{_token()}")

    def activations(self, params, n_components):
        token = _token()
        activations = [
            self.client.submit(
                _group_activations,
                params,
                self.n_features,
                n_components,
                *group,
                key=f"sae-activations-{index}-{token}",
            )
            for index, group in enumerate(self.groups)
        ]
        column_sums = self._gather(
            [
                self.client.submit(
                    _second, group, key=f"sae-activation-sums-{index}-{token}"
                )
                for index, group in enumerate(activations)
            ]
        )
        return activations, column_sums

    def gradient_sums(self, activations, params, kl_slope, n_components, decoder):
        token = _token()
        partials = [
            self.client.submit(
                _group_gradient_sums,
                group_activations,
                params,
                kl_slope,
                self.n_features,
                n_components,
                decoder,
                *group,
                key=f"sae-gradient-sums-{index}-{token}",
            )
            for index, (group, group_activations) in enumerate(
                zip(self.groups, activations)
            )
        ]
        # Large clusters: add the partial sums in a tree on the workers, in
        # a fixed order, so that the client receives few gradients.
        level = 0
        while len(partials) > _REDUCTION_FAN_IN:
            partials = [
                self.client.submit(
                    _add_partials,
                    *partials[start : start + _REDUCTION_FAN_IN],
                    key=f"sae-add-gradient-sums-{level}-{start}-{token}",
                )
                for start in range(0, len(partials), _REDUCTION_FAN_IN)
            ]
            level += 1
        return _add_partials(*self._gather(partials))

    def _gather(self, futures):
        from distributed import CancelledError, KilledWorker
        from distributed.comm import CommClosedError

        try:
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

    def release(self):
        # Dropping our futures lets the workers free the chunks; cancelling
        # them could also cancel keys that the caller persisted.
        self.chunks = self.groups = None


class _LocalChunks:
    """Chunks of X computed by dask's local scheduler, held in this process."""

    def __init__(self, X, n_features):
        import dask

        self.n_features = n_features
        self.chunks = list(dask.compute(*X.to_delayed().ravel().tolist()))

    def summaries(self):
        return [_chunk_summary(chunk) for chunk in self.chunks]

    def broadcast(self, theta):
        return theta

    def activations(self, params, n_components):
        activations = _group_activations(
            params, self.n_features, n_components, *self.chunks
        )
        return activations, [activations[1]]

    def gradient_sums(self, activations, params, kl_slope, n_components, decoder):
        return _group_gradient_sums(
            activations,
            params,
            kl_slope,
            self.n_features,
            n_components,
            decoder,
            *self.chunks,
        )

    def release(self):
        self.chunks = None


def _token():
    return uuid.uuid4().hex


def _plan_moves(rows, holders, n_threads):
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


# --------------------------------------------------------------------------
# The objective and the estimator's entry points.


class DaskSparseAutoencoderObjective:
    """Objective and gradient of the sparse autoencoder over chunked data.

    Same interface as :class:`skl_sparseae._objective.SparseAutoencoderObjective`:
    ``__call__(theta)`` returns the loss and the float64 gradient, and
    ``last_terms_`` describes the latest evaluation, so that the estimator's
    L-BFGS loop and progress printing use either without change.
    """

    def __init__(
        self,
        chunks,
        n_samples,
        n_features,
        n_components,
        dtype,
        *,
        rho,
        beta,
        alpha,
        decoder_activation,
    ):
        self.chunks = chunks
        self.n_samples = n_samples
        self.n_features = n_features
        self.n_components = n_components
        self.dtype = np.dtype(dtype)
        self.rho = rho
        self.beta = beta
        self.alpha = alpha
        self.decoder_activation = decoder_activation
        self.last_terms_ = None

    def mean_activation(self, theta):
        """Mean hidden activation over all rows (float64, not clipped)."""
        params = self.chunks.broadcast(theta.astype(self.dtype, copy=False))
        _, column_sums = self.chunks.activations(params, self.n_components)
        return _sum_in_order(column_sums) / self.n_samples

    def __call__(self, theta):
        """Return J(theta) as a float and dJ/dtheta as a float64 vector."""
        m, d, h = self.n_samples, self.n_features, self.n_components
        theta_dtype = theta.astype(self.dtype, copy=False)
        W1, _, W2, _ = unpack(theta_dtype, d, h)

        params = self.chunks.broadcast(theta_dtype)
        activations, column_sums = self.chunks.activations(params, h)
        rho_hat = clip_mean_activation(_sum_in_order(column_sums) / m, self.dtype)
        kl_term, kl_slope = sparsity_penalty(self.rho, self.beta, rho_hat, self.dtype)
        squared_error, *sums = self.chunks.gradient_sums(
            activations, params, kl_slope, h, self.decoder_activation
        )
        del activations, params
        loss, grad, reconstruction_term = finish_loss_and_gradient(
            squared_error, kl_term, sums, W1, W2, m, alpha=self.alpha, beta=self.beta
        )
        self.last_terms_ = evaluation_terms(
            theta, reconstruction_term, self.beta * kl_term, rho_hat
        )
        return loss, grad


def _sum_in_order(arrays):
    total = np.zeros_like(arrays[0])
    for a in arrays:
        total += a
    return total


def fit(estimator, X):
    """Fit ``estimator`` on the dask array X; return its fitted attributes.

    Called by ``SparseAutoencoderTransformer._fit``; mirrors it step by step
    so that the result equals the in-memory fit of the same data.
    """
    _import_dask()
    name = type(estimator).__name__
    X = _check_dask_array(X, estimator)
    n_features = X.shape[1]
    dtype = X.dtype
    X = X.map_blocks(_check_chunk, name, dtype, dtype=dtype, meta=X._meta)

    client = _current_client()
    chunks = (
        _ClusterChunks(client, X, n_features)
        if client is not None
        else _LocalChunks(X, n_features)
    )
    try:
        summaries = chunks.summaries()
        n_samples = sum(rows for rows, _, _ in summaries)
        _check_sample_count(n_samples, n_features, estimator)
        estimator.n_features_in_ = n_features
        if hasattr(estimator, "feature_names_in_"):
            del estimator.feature_names_in_

        if estimator.decoder_activation == "sigmoid":
            low = min(low for _, low, _ in summaries)
            high = max(high for _, _, high in summaries)
            # The estimator's own check, given just the extremes of X.
            estimator._warn_if_outside_unit_interval(np.array([low, high]))

        n_components = estimator._resolve_n_components(n_features)
        objective = DaskSparseAutoencoderObjective(
            chunks,
            n_samples,
            n_features,
            n_components,
            dtype,
            **estimator._objective_params(),
        )
        return estimator._fit_objective(objective, n_features, n_components, dtype)
    finally:
        chunks.release()


def _output_dtype(X, weights):
    return np.result_type(X.dtype, weights.dtype)


def transform(estimator, X):
    """Hidden activations of the dask array X, as a lazy dask array."""
    _import_dask()
    X = _check_dask_array(X, estimator, n_columns=estimator.n_features_in_)
    _check_feature_names(estimator)
    out_dtype = _output_dtype(X, estimator.components_)
    return X.map_blocks(
        _transform_chunk,
        estimator=estimator,
        chunks=(X.chunks[0], (estimator.components_.shape[0],)),
        dtype=out_dtype,
        meta=np.empty((0, 0), dtype=out_dtype),
    )


def inverse_transform(estimator, X):
    """Reconstruction of the hidden activations X, as a lazy dask array."""
    _import_dask()
    X = _check_dask_array(X, estimator)
    estimator._check_hidden_columns(X.shape[1])
    out_dtype = _output_dtype(X, estimator.decoder_components_)
    return X.map_blocks(
        _inverse_transform_chunk,
        estimator=estimator,
        chunks=(X.chunks[0], (estimator.decoder_components_.shape[1],)),
        dtype=out_dtype,
        meta=np.empty((0, 0), dtype=out_dtype),
    )


def score_samples(estimator, X):
    """Negative half squared reconstruction error per row, as a lazy dask array."""
    _import_dask()
    X = _check_dask_array(X, estimator, n_columns=estimator.n_features_in_)
    _check_feature_names(estimator)
    out_dtype = _output_dtype(X, estimator.components_)
    return X.map_blocks(
        _score_samples_chunk,
        estimator=estimator,
        drop_axis=1,
        chunks=(X.chunks[0],),
        dtype=out_dtype,
        meta=np.empty((0,), dtype=out_dtype),
    )
