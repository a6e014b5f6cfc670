"""How the block size changes evaluation time and extra memory.

Justifies the rule in ``skl_sparseae._backends._blocks.block_rows``: rows
per block are capped so that the block buffers stay near ``MAX_BLOCK_BYTES``.

    python benchmarks/bench_block_size.py [--rows 20000] [--repeats 3]

For each block size, on dense 20,000 x 784 data with h=196, it prints the
median evaluation time relative to one block of all rows, and the extra
memory of the first evaluation (tracemalloc: hidden activations plus the
block buffers of every thread) as a multiple of X.nbytes.
"""

# SPDX-License-Identifier: BSD-3-Clause

import argparse
import time
import tracemalloc

import numpy as np
from _common import dense_problem, numpy_evaluation

from skl_sparseae._inference import row_batch_size
from skl_sparseae._objective import initial_parameters


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="block threads of the backend (default: BLAS's)",
    )
    args = parser.parse_args(argv)
    m, d, h = args.rows, 784, 196
    sizes = [128, 256, 512, 1024, 2048, 4096, m]
    for dtype in (np.float64, np.float32):
        X = dense_problem(m, d, dtype)
        theta = initial_parameters(d, h, np.random.RandomState(0))
        default = row_batch_size(m, d, h, X.itemsize)
        objectives, memory = {}, {}
        for size in sorted(set(sizes + [default])):
            objective = numpy_evaluation(X, h, batch_size=size, n_threads=args.threads)
            tracemalloc.start()
            objective(theta)  # the first evaluation allocates the buffers
            memory[size] = tracemalloc.get_traced_memory()[1] / X.nbytes
            tracemalloc.stop()
            objectives[size] = objective
        times = {size: [] for size in objectives}
        for _ in range(args.repeats):
            for size, objective in objectives.items():
                start = time.perf_counter()
                objective(theta)
                times[size].append(time.perf_counter() - start)
        reference = np.median(times[m])
        print(f"{np.dtype(dtype).name}: {m} x {d}, h={h}, default block {default} rows")
        print(f"{'rows':>6} {'time/one block':>15} {'extra memory / X':>17}")
        for size in objectives:
            mark = "  <- default" if size == default else ""
            print(
                f"{size:6d} {np.median(times[size]) / reference:15.2f} "
                f"{memory[size]:17.3f}{mark}"
            )


if __name__ == "__main__":
    main()
