"""Cost of fitting on a dask.distributed cluster instead of in memory.

Prints, for a dense float32 array (200,000 x 784 and 196 hidden units by
default), measured in the same process:

* the time of one objective evaluation over the chunks persisted on a
  ``LocalCluster``, divided by the time of the in-memory evaluation;
* the time per L-BFGS iteration of ``fit`` on the cluster, divided by the
  in-memory ``fit`` on the same data;
* the scheduler overhead per evaluation: the cluster evaluation of a tiny
  array with the same number of chunks and the same parameter vector (so the
  same tasks and transfers, almost no arithmetic), minus its in-memory
  evaluation; shown in milliseconds and as a fraction of the large in-memory
  evaluation.

Run ``python benchmarks/bench_dask.py --help`` for the options. Needs the
``dask`` extra: ``pip install ".[dask]"`` from a checkout.
"""

# SPDX-License-Identifier: BSD-3-Clause

import argparse
import os
import platform
import time
import warnings

import numpy as np
from _common import evaluation, median_time


def fit_time_per_iteration(estimator, X):
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        estimator.fit(X)
        elapsed = time.perf_counter() - start
    return elapsed / estimator.n_iter_, estimator


def evaluation_times(X_dask, X, n_components, repeats):
    """Median evaluation time on the cluster and in memory, same theta.

    The cluster is the current ``distributed`` client's, as in a fit.
    """
    from skl_sparseae._backends._dask_checks import check_dask_array
    from skl_sparseae._backends._dask_fit import DaskBackend
    from skl_sparseae._backends._numpy import NumpyBackend
    from skl_sparseae._objective import initial_parameters

    theta = initial_parameters(X.shape[1], n_components, np.random.RandomState(0))
    # Persists the chunks on the workers and spreads them, as fit does.
    with DaskBackend(
        check_dask_array(X_dask, "bench_dask"), n_components, "sigmoid"
    ) as on_cluster:
        cluster_time = median_time(lambda: evaluation(on_cluster)(theta), repeats)
    in_memory = evaluation(NumpyBackend(X, n_components, "sigmoid"))
    memory_time = median_time(lambda: in_memory(theta), repeats)
    return cluster_time, memory_time


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=200_000)
    parser.add_argument("--n-features", type=int, default=784)
    parser.add_argument("--n-components", type=int, default=196)
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--chunk-rows", type=int, default=25_000)
    parser.add_argument("--n-workers", type=int, default=2)
    parser.add_argument("--threads-per-worker", type=int, default=1)
    parser.add_argument("--max-iter", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    import dask
    import dask.array as da
    import distributed
    import scipy
    import sklearn

    from skl_sparseae import SparseAutoencoderTransformer

    n, d, h = args.n_samples, args.n_features, args.n_components
    with (
        distributed.LocalCluster(
            n_workers=args.n_workers,
            threads_per_worker=args.threads_per_worker,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        # The data is made on the workers, as it would be read there.
        X_dask = (
            da.random.RandomState(0)
            .uniform(size=(n, d), chunks=(args.chunk_rows, d))
            .astype(args.dtype)
        )
        X_dask = client.persist(X_dask)
        distributed.wait(X_dask)
        X = X_dask.compute()  # the same data, in this process
        n_chunks = len(X_dask.chunks[0])
        # Where the scheduler put the chunks; the backend spreads them first.
        who_has = client.who_has(X_dask)
        placement = sorted(
            sum(address in holders for holders in who_has.values())
            for address in client.nthreads()
        )

        cluster_eval, memory_eval = evaluation_times(X_dask, X, h, args.repeats)

        # Overhead: the same chunk count and parameter vector, 8 rows a chunk.
        tiny = X[: 8 * n_chunks]
        tiny_dask = client.persist(da.from_array(tiny, chunks=(8, d)))
        tiny_cluster, tiny_memory = evaluation_times(tiny_dask, tiny, h, args.repeats)
        overhead = tiny_cluster - tiny_memory

        estimator_params = dict(
            n_components=h, rho=0.05, beta=3.0, max_iter=args.max_iter, random_state=0
        )
        cluster_iter, on_cluster = fit_time_per_iteration(
            SparseAutoencoderTransformer(**estimator_params), X_dask
        )
        memory_iter, in_memory = fit_time_per_iteration(
            SparseAutoencoderTransformer(**estimator_params), X
        )
        loss_gap = abs(on_cluster.loss_ - in_memory.loss_) / abs(in_memory.loss_)

    print(
        f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; "
        f"numpy {np.__version__}, scipy {scipy.__version__}, "
        f"scikit-learn {sklearn.__version__}, dask {dask.__version__}, "
        f"distributed {distributed.__version__}"
    )
    print(
        f"# X: {n} x {d} {args.dtype} in {n_chunks} chunks of <= {args.chunk_rows} "
        f"rows, {h} hidden units; LocalCluster of {args.n_workers} worker "
        f"process(es) x {args.threads_per_worker} thread(s); median of "
        f"{args.repeats} evaluations; fits of {args.max_iter} L-BFGS iterations"
    )
    print(f"# chunks per worker as persisted: {placement}")
    rows = [
        ("evaluation, in memory (s)", f"{memory_eval:.3f}"),
        ("evaluation, cluster (s)", f"{cluster_eval:.3f}"),
        ("evaluation, cluster / in memory", f"{cluster_eval / memory_eval:.2f}"),
        ("fit per L-BFGS iteration, in memory (s)", f"{memory_iter:.3f}"),
        ("fit per L-BFGS iteration, cluster (s)", f"{cluster_iter:.3f}"),
        (
            "fit per L-BFGS iteration, cluster / in memory",
            f"{cluster_iter / memory_iter:.2f}",
        ),
        ("scheduler overhead per evaluation (ms)", f"{1e3 * overhead:.1f}"),
        (
            "scheduler overhead / in-memory evaluation",
            f"{overhead / memory_eval:.3f}",
        ),
        ("|loss_ cluster - loss_ in memory| / loss_", f"{loss_gap:.1e}"),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"| {'quantity'.ljust(width)} | value |")
    print(f"|{'-' * (width + 2)}|-------|")
    for name, value in rows:
        print(f"| {name.ljust(width)} | {value} |")


if __name__ == "__main__":
    main()
