"""Do block threads pay off? One Python thread on the BLAS's threads vs blocks
shared between threads that each hold a one-thread BLAS.

    python benchmarks/bench_threads.py [--repeats 5]

For question a's problem (dense 20,000 x 784, h=196) and question d's
(shifted digits, 8,985 x 64, h=100), float64, it prints the median evaluation
time of ``n_threads=1`` (blocks in turn, the BLAS on its default threads) and
of ``n_threads=<BLAS threads>`` (the default), timed interleaved, and their
ratio.
"""

# SPDX-License-Identifier: BSD-3-Clause

import argparse

import numpy as np

from run import dense_problem, interleaved_medians, objective_for, shifted_digits
from skl_sparseae._objective import blas_threads, initial_parameters


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    threads = blas_threads()
    print(f"BLAS threads: {threads}")
    problems = {
        "a: dense 20000 x 784, h=196": (dense_problem(20000, 784, np.float64), 196),
        "d: shifted digits 8985 x 64, h=100": (shifted_digits(), 100),
    }
    for name, (X, h) in problems.items():
        theta = initial_parameters(X.shape[1], h, np.random.RandomState(0))
        serial = objective_for(X, h, n_threads=1)
        threaded = objective_for(X, h, n_threads=threads)
        serial(theta)
        threaded(theta)
        t_serial, t_threaded = interleaved_medians(
            [lambda: serial(theta), lambda: threaded(theta)], args.repeats
        )
        print(f"{name}: one thread on a {threads}-thread BLAS {t_serial * 1e3:.1f} ms, "
              f"{threads} block threads {t_threaded * 1e3:.1f} ms, "
              f"ratio {t_threaded / t_serial:.2f}")


if __name__ == "__main__":
    main()
