"""The dask fit backend's own reduction and balancing against dask's primitives.

Two figures, each timed interleaved in one process on a ``LocalCluster`` of
2 worker processes x 1 thread:

* **Reduction.** One objective evaluation over persisted chunks, its second
  pass's per-chunk sums added by the backend's chunk-order tree (runs of
  ``REDUCTION_FAN_IN`` consecutive chunks, picked straight from the group
  tasks' results) or by ``dask.array.reduction(..., split_every=8)`` over one
  block per chunk (a ``getitem`` task per chunk on its group's result). Both
  trees depend only on the number of chunks; the script checks that both
  give the same loss and gradient, bit for bit.
* **Balancing.** Persisted chunks that a loader left on one worker, spread
  by the backend's ``plan_moves``/``_balance``, by ``Client.rebalance`` with
  dask's default memory thresholds, by ``Client.rebalance`` with the
  scheduler's thresholds set to move any imbalance of managed memory, by
  computing the chunks with ``workers=`` (half of them on each worker), or
  not at all: the backend's setup time, the rows each worker then holds, and
  the evaluation time that follows.

Prints min and median times and ratios (dask / custom), and the load average.
``--quick`` runs in under a minute on an idle 2-core machine. Needs the
``dask`` extra.
"""

# SPDX-License-Identifier: BSD-3-Clause

import argparse
import functools
import operator
import os
import time
from unittest import mock

import numpy as np
from _common import evaluation, machine_description

from skl_sparseae._backends import _dask_fit
from skl_sparseae._backends._dask_checks import check_dask_array, chunk_items
from skl_sparseae._backends._dask_fit import DaskBackend, _ClusterChunks
from skl_sparseae._objective import add_partials_in_order, initial_parameters


def _one_block(block, axis=None, keepdims=None, computing_meta=False):
    return np.empty((0,), object) if computing_meta else block


def _add_blocks(blocks, axis=None, keepdims=None, computing_meta=False):
    if computing_meta:
        return np.empty((0,), object)
    return add_partials_in_order(blocks)


def dask_reduction_gradient_sums(chunks, activations, params, kl_slope, model):
    """``_ClusterChunks.gradient_sums`` with ``dask.array.reduction`` as the tree."""
    import dask
    import dask.array as da

    token = _dask_fit._token()
    group_results = [
        chunks.client.submit(
            _dask_fit._group_gradient_sums,
            group_activations,
            params,
            kl_slope,
            model,
            *chunks._futures(group),
            key=f"sae-gradient-sums-{index}-{token}",
        )
        for index, (group, group_activations) in enumerate(
            zip(chunks.groups, activations)
        )
    ]
    where = {
        chunk: (group_results[g], position)
        for g, group in enumerate(chunks.groups)
        for position, chunk in enumerate(group)
    }
    meta = np.empty((0,), object)
    blocks = da.concatenate(
        [
            da.from_delayed(
                dask.delayed(operator.getitem)(*where[chunk]),
                shape=(1,),
                dtype=object,
                meta=meta,
            )
            for chunk in range(len(chunks.chunks))
        ]
    )
    total = da.reduction(
        blocks,
        _one_block,
        _add_blocks,
        combine=_add_blocks,
        axis=0,
        keepdims=False,
        concatenate=False,
        split_every=_dask_fit.REDUCTION_FAN_IN,
        dtype=object,
        meta=meta,
    )
    (result,) = chunks.gather([chunks.client.compute(total.to_delayed().item())])
    return result


def interleaved(functions, repeats):
    """All times of each function, called in turn ``repeats`` times after a warm-up."""
    for f in functions:
        f()
    times = [[] for _ in functions]
    for _ in range(repeats):
        for f, bucket in zip(functions, times):
            start = time.perf_counter()
            f()
            bucket.append(time.perf_counter() - start)
    return [np.array(t) for t in times]


def table(header, rows):
    """A Markdown table, each row printed as soon as it is measured."""
    print("| " + " | ".join(header) + " |\n|" + " --- |" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |", flush=True)


def ms(times):
    return [f"{1e3 * np.min(times):.1f}", f"{1e3 * np.median(times):.1f}"]


def random_array(n_chunks, rows, d, seed=0):
    """Uniform float32 rows, made on the workers as a loader would read them."""
    import dask.array as da

    uniform = da.random.RandomState(seed).uniform
    return uniform(size=(n_chunks * rows, d), chunks=(rows, d)).astype(np.float32)


def reduction_row(client, n_chunks, rows, d, h, repeats):
    """Times of one evaluation with each tree, their ratios, and their equality."""
    X_dask = client.persist(random_array(n_chunks, rows, d))
    theta = initial_parameters(d, h, np.random.RandomState(0))
    with DaskBackend(check_dask_array(X_dask, "bench"), h, "sigmoid") as backend:
        objective = evaluation(backend)
        chunks = backend._chunks
        primitive = functools.partial(dask_reduction_gradient_sums, chunks)

        def run(custom):
            if custom:
                return objective(theta)
            with mock.patch.object(chunks, "gradient_sums", primitive):
                return objective(theta)

        ours, theirs = run(True), run(False)
        same = ours.loss == theirs.loss and np.array_equal(
            ours.gradient, theirs.gradient
        )
        ours, theirs = interleaved([lambda: run(True), lambda: run(False)], repeats)
    ratios = [np.min(theirs) / np.min(ours), np.median(theirs) / np.median(ours)]
    return (
        [f"{n_chunks} x {rows}", *ms(ours), *ms(theirs)]
        + [f"{r:.2f}" for r in ratios]
        + ["yes" if same else "NO"]
    )


def _set_rebalance_thresholds(values, dask_scheduler=None):
    previous = {name: getattr(dask_scheduler, name) for name in values}
    for name, value in values.items():
        setattr(dask_scheduler, name, value)
    return previous


# Move any imbalance of the data dask manages, whatever the memory limit.
ANY_IMBALANCE = dict(
    MEMORY_REBALANCE_MEASURE="managed",
    MEMORY_REBALANCE_SENDER_MIN=0.0,
    MEMORY_REBALANCE_RECIPIENT_MAX=1.0,
    MEMORY_REBALANCE_HALF_GAP=0.0,
)


def _placed_chunks(self, client, X, no_workers_timeout, sample_weight=None):
    """``_ClusterChunks.__init__`` computing consecutive chunks on each worker."""
    self.client, self.no_workers_timeout = client, no_workers_timeout
    items = chunk_items(X, sample_weight)
    self.chunks = [None] * len(items)
    shares = np.array_split(np.arange(len(items)), len(client.nthreads()))
    for address, indices in zip(sorted(client.nthreads()), shares):
        futures = client.compute([items[i] for i in indices], workers=[address])
        for i, future in zip(indices, futures):
            self.chunks[i] = future
    self.groups = [list(range(len(items)))]


def bench_balance(client, n_chunks, rows, d, h, repeats):
    import distributed

    first = sorted(client.nthreads())[0]
    theta = initial_parameters(d, h, np.random.RandomState(0))
    original_init = _ClusterChunks.__init__

    def rebalance(self, rows):
        self.client.rebalance(self.chunks)

    # name: (__init__, _balance, scheduler thresholds for rebalance)
    variants = {
        "custom (plan_moves)": (original_init, _ClusterChunks._balance, None),
        "Client.rebalance, defaults": (original_init, rebalance, None),
        "Client.rebalance, any imbalance": (original_init, rebalance, ANY_IMBALANCE),
        "compute(workers=...)": (_placed_chunks, lambda self, rows: None, None),
        "none": (original_init, lambda self, rows: None, None),
    }
    results = {name: ([], [], []) for name in variants}

    def run(name, seed):
        init, balance, thresholds = variants[name]
        # Fresh chunks for each run: rebalance moves the persisted keys.
        X_dask = random_array(n_chunks, rows, d, seed)
        X_dask = client.persist(X_dask, workers=[first])
        distributed.wait(X_dask)
        previous = thresholds and client.run_on_scheduler(
            _set_rebalance_thresholds, thresholds
        )
        try:
            start = time.perf_counter()
            with (
                mock.patch.object(_ClusterChunks, "__init__", init),
                mock.patch.object(_ClusterChunks, "_balance", balance),
            ):
                # The persisted chunks themselves, held by one worker, as the
                # backend finds them when the scheduler kept the chunks it
                # computed where their input was.
                backend = DaskBackend(X_dask, h, "sigmoid")
            setup = time.perf_counter() - start
        finally:
            if previous:
                client.run_on_scheduler(_set_rebalance_thresholds, previous)
        with backend:
            who_has = client.who_has(backend._chunks.chunks)
            held = dict.fromkeys(client.nthreads(), 0)
            for future, chunk_rows in zip(backend._chunks.chunks, X_dask.chunks[0]):
                for address in who_has[future.key]:
                    held[address] += chunk_rows
            objective = evaluation(backend)
            objective(theta)
            evaluation_times = []
            for _ in range(3):
                start = time.perf_counter()
                objective(theta)
                evaluation_times.append(time.perf_counter() - start)
        setups, evaluations, placements = results[name]
        setups.append(setup)
        evaluations.extend(evaluation_times)
        placements.append(sorted(held.values()))

    for repeat in range(repeats):
        for index, name in enumerate(variants):
            run(name, seed=repeat * len(variants) + index)
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, 3 repeats")
    parser.add_argument("--n-features", type=int, default=128)
    parser.add_argument("--n-components", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--chunks", type=int, nargs="+", help="chunk counts")
    parser.add_argument("--rows", type=int, nargs="+", help="rows per chunk")
    parser.add_argument("--only", choices=["reduction", "balancing"])
    args = parser.parse_args()
    repeats = args.repeats or (3 if args.quick else 9)
    chunk_counts = args.chunks or ([8, 64] if args.quick else [8, 64, 256])
    row_counts = args.rows or ([8, 500] if args.quick else [8, 2000])
    d, h = args.n_features, args.n_components

    import distributed

    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        for line in machine_description():
            print("#", line)
        print(
            "# LocalCluster of 2 worker processes x 1 thread;"
            f" {d} features, {h} hidden units, float32; "
            f"{repeats} interleaved repeats after a warm-up; times in ms"
        )
        if args.only != "balancing":
            print("\n## One evaluation: chunk-order tree (custom) vs da.reduction")
            table(
                ["chunks x rows", "custom min", "custom median", "dask min"]
                + ["dask median", "min ratio", "median ratio", "bit-identical"],
                (
                    reduction_row(client, n_chunks, rows, d, h, repeats)
                    for n_chunks in chunk_counts
                    for rows in row_counts
                ),
            )
        if args.only != "reduction":
            n_chunks, rows = (8, 20000) if args.quick else (32, 20000)
            print(f"\n## Balancing {n_chunks} chunks x {rows} rows from one worker")
            results = bench_balance(client, n_chunks, rows, d, h, repeats)
            table(
                ["balancing", "rows per worker (last)", "setup min", "setup median"]
                + ["evaluation min", "evaluation median"],
                (
                    [name, str(placements[-1]), *ms(setups), *ms(evaluations)]
                    for name, (setups, evaluations, placements) in results.items()
                ),
            )
    print(f"# load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
