"""Block threads against one thread on a multi-threaded BLAS.

    python benchmarks/bench_block_threads.py [--repeats 5]

For figure a's problem (dense 20,000 x 784, h=196, float64) and figure d's
(nudged digits, 8,985 x 64, h=100, float32), it prints the median evaluation
time of the same blocks evaluated in turn in one thread, the BLAS on its
default threads (a minimal backend below, on the maths functions of
``_objective``), and of ``NumpyBackend``'s default (shares of blocks in as
many threads as the BLAS has, each holding a one-thread BLAS), timed
interleaved, and their ratio.
"""

# SPDX-License-Identifier: BSD-3-Clause

import argparse

import numpy as np
from _common import (
    OBJECTIVE_PARAMS,
    dense_problem,
    interleaved_medians,
    nudged_digits,
    numpy_evaluation,
)
from sklearn.utils import gen_batches

from skl_sparseae import _blas
from skl_sparseae._backends._blocks import block_rows
from skl_sparseae._objective import (
    BlockWorkspace,
    FirstPass,
    add_block_gradient_sums,
    evaluate,
    hidden_activations,
    initial_parameters,
    unpack,
    zero_gradient_sums,
)


class BlocksInTurn:
    """The evaluation protocol of ``_objective.evaluate``: blocks in turn.

    The same blocks as ``NumpyBackend``, one after the other in this thread,
    with the BLAS on whatever threads it has.
    """

    def __init__(self, X, n_components):
        self.X = X
        self.n_samples, self.n_features = X.shape
        self.n_components = n_components
        self.dtype = X.dtype
        self.blocks = list(
            gen_batches(
                self.n_samples,
                block_rows(self.n_samples, self.n_features, n_components, X.itemsize),
            )
        )
        self.hidden = np.empty((self.n_samples, n_components), self.dtype)
        self.workspace = BlockWorkspace(
            self.blocks[0].stop, self.n_features, n_components, self.dtype
        )

    def _weights(self, theta):
        return unpack(
            theta.astype(self.dtype, copy=False), self.n_features, self.n_components
        )

    def activation_sums(self, theta):
        W1, b1, _, _ = self._weights(theta)
        total = np.zeros(self.n_components)
        for rows in self.blocks:
            A = hidden_activations(self.X[rows], W1, b1, out=self.hidden[rows])
            total += A.sum(axis=0, dtype=np.float64)
        return FirstPass(total, self.hidden)

    def gradient_sums(self, theta, kl_slope, first_pass):
        _, _, W2, b2 = self._weights(theta)
        sums = zero_gradient_sums(self.n_features, self.n_components, self.dtype)
        squared_error = 0.0
        for rows in self.blocks:
            squared_error += add_block_gradient_sums(
                self.X[rows],
                self.hidden[rows],
                W2,
                b2,
                kl_slope,
                "sigmoid",
                sums,
                self.workspace,
            )
        return squared_error, sums


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--rows", type=int, default=20000, help="rows of figure a's problem"
    )
    args = parser.parse_args(argv)
    threads = _blas.available_threads()
    print(f"BLAS threads: {threads}")
    problems = {
        f"a: dense {args.rows} x 784, h=196": (
            dense_problem(args.rows, 784, np.float64),
            196,
        ),
        "d: nudged digits 8985 x 64, h=100": (nudged_digits()[0], 100),
    }
    for name, (X, h) in problems.items():
        theta = initial_parameters(X.shape[1], h, np.random.RandomState(0))
        serial_backend = BlocksInTurn(X, h)

        def serial(theta=theta, backend=serial_backend):
            return evaluate(backend, theta, **OBJECTIVE_PARAMS)

        threaded_objective = numpy_evaluation(X, h, n_threads=threads)

        def threaded(theta=theta, objective=threaded_objective):
            return objective(theta)

        serial()
        threaded()
        t_serial, t_threaded = interleaved_medians([serial, threaded], args.repeats)
        print(
            f"{name}: one thread on a {threads}-thread BLAS {t_serial * 1e3:.1f} ms, "
            f"{threads} block threads {t_threaded * 1e3:.1f} ms, "
            f"ratio {t_threaded / t_serial:.2f}"
        )


if __name__ == "__main__":
    main()
