"""NumPy bodies of the kernel, inference and optimizers against their generic bodies.

Several functions have a NumPy body (in place, in reused buffers) and a
generic Array API body. This times both on the same NumPy arrays: the
generic body is driven by NumPy itself under another name, so that the
functions take their ``xp`` branch. Each function is timed in a loop of
calls, the two bodies alternated, on a one-thread BLAS (as in a fit); the
table gives the medians and the ratio generic / NumPy.

Run from the repository root::

    nice -n 19 python benchmarks/bench_twin_bodies.py
    python benchmarks/bench_twin_bodies.py --quick      # smoke test
"""

# SPDX-License-Identifier: BSD-3-Clause

import argparse
import os
import time
import types

import numpy as np
from _common import machine_description
from threadpoolctl import threadpool_limits

from skl_sparseae._inference import (
    mean_hidden_activation,
    squared_reconstruction_error,
)
from skl_sparseae._objective import (
    BlockWorkspace,
    MinibatchWorkspace,
    add_block_gradient_sums,
    decode,
    hidden_activations,
    initial_parameters,
    minibatch_loss_and_gradient,
    row_squared_errors,
    sigmoid,
    unpack,
    zero_gradient_sums,
)
from skl_sparseae._optimizers import AdamOptimizer, SGDOptimizer

# NumPy under a name that ``is_numpy`` does not know: the generic bodies.
GENERIC = types.ModuleType("numpy_as_generic_namespace")
GENERIC.__getattr__ = lambda name: getattr(np, name)

PROBLEMS = [(64, 16), (784, 196)]
PARAMS = dict(rho=0.05, beta=3.0, alpha=1e-4)


def cases(X, h, batch):
    """``{name: (numpy body, generic body)}`` on the rows ``X``."""
    m, d = X.shape
    dtype = X.dtype
    theta = initial_parameters(d, h, np.random.RandomState(0)).astype(dtype)
    W1, b1, W2, b2 = unpack(theta, d, h)
    A = hidden_activations(X, W1, b1)
    Z = X @ W2.T
    buffers = dict(hidden=np.empty_like(A), recon=np.empty_like(X), z=np.empty_like(Z))
    slope = np.full(h, 0.1, dtype=dtype)
    sums = zero_gradient_sums(d, h, dtype)
    workspace = BlockWorkspace(m, d, h, dtype)
    X_batch = np.ascontiguousarray(X[:batch])
    grad = np.empty_like(theta)
    minibatch = MinibatchWorkspace(batch, d, h, dtype)
    shape = dict(n_features=d, n_components=h, decoder_activation="sigmoid")

    def mb(xp, ws):
        return lambda: minibatch_loss_and_gradient(
            theta, X_batch, grad, **shape, **PARAMS, workspace=ws, xp=xp
        )

    found = {
        "sigmoid": (
            lambda: sigmoid(Z, out=buffers["z"]),
            lambda: sigmoid(Z, xp=GENERIC),
        ),
        "hidden_activations": (
            lambda: hidden_activations(X, W1, b1, out=buffers["hidden"]),
            lambda: hidden_activations(X, W1, b1, xp=GENERIC),
        ),
        "decode": (
            lambda: decode(A, W2, b2, "sigmoid", out=buffers["recon"]),
            lambda: decode(A, W2, b2, "sigmoid", xp=GENERIC),
        ),
        "row_squared_errors": (
            lambda: row_squared_errors(X, A, W2, b2, "sigmoid", out=buffers["recon"]),
            lambda: row_squared_errors(X, A, W2, b2, "sigmoid", xp=GENERIC),
        ),
        "add_block_gradient_sums": (
            lambda: add_block_gradient_sums(
                X, A, W2, b2, slope, "sigmoid", sums, workspace
            ),
            lambda: add_block_gradient_sums(
                X, A, W2, b2, slope, "sigmoid", sums, xp=GENERIC
            ),
        ),
        f"minibatch_loss_and_gradient (batch {batch})": (
            mb(None, minibatch),
            mb(GENERIC, None),
        ),
        "mean_hidden_activation": (
            lambda: mean_hidden_activation(X, W1, b1),
            lambda: mean_hidden_activation(X, W1, b1, xp=GENERIC),
        ),
        "squared_reconstruction_error": (
            lambda: squared_reconstruction_error(X, W1, b1, W2, b2, "sigmoid", m),
            lambda: squared_reconstruction_error(
                X, W1, b1, W2, b2, "sigmoid", m, xp=GENERIC
            ),
        ),
    }
    gradient = np.full_like(theta, 1e-3)
    for name, optimizer in [
        ("SGD update (nesterov)", SGDOptimizer(theta, 1e-3, "constant", 0.9, True)),
        ("Adam update", AdamOptimizer(theta, 1e-3)),
    ]:
        params = theta.copy()
        found[name] = (
            lambda o=optimizer, p=params: o.update_params(p, gradient),
            lambda o=optimizer, p=params: o._update_array_api(p, gradient),
        )
    return found


def loop_of(function, seconds):
    """``function`` in a loop long enough to take about ``seconds``."""
    function()
    start, n = time.perf_counter(), 0
    while time.perf_counter() - start < seconds / 4:
        function()
        n += 1
    n = max(1, 4 * n)

    def loop():
        for _ in range(n):
            function()

    return loop, n


def compare(pair, repeats, seconds):
    """Median seconds per call of each body, alternated ``repeats`` times."""
    loops = [loop_of(f, seconds) for f in pair]
    times = [[], []]
    for _ in range(repeats):
        for (loop, n), bucket in zip(loops, times):
            start = time.perf_counter()
            loop()
            bucket.append((time.perf_counter() - start) / n)
    return [float(np.median(t)) for t in times]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rows, 3 repeats")
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--only", default="", help="functions whose name has this")
    args = parser.parse_args()
    repeats, rows, seconds = args.repeats, args.rows, 0.05
    if args.quick:
        repeats, rows, seconds = 3, 400, 0.01
    print("\n".join(machine_description()))
    print(f"rows {rows}, batch {args.batch}, {repeats} alternations, one BLAS thread")
    print(
        "| function | problem | dtype | NumPy body | generic body | generic / NumPy |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    rng = np.random.RandomState(0)
    with threadpool_limits(limits=1, user_api="blas"):
        for d, h in PROBLEMS:
            for dtype in (np.float64, np.float32):
                X = rng.uniform(0.1, 0.9, size=(rows, d)).astype(dtype)
                for name, pair in cases(X, h, args.batch).items():
                    if args.only not in name:
                        continue
                    t_numpy, t_generic = compare(pair, repeats, seconds)
                    print(
                        f"| {name} | d={d}, h={h} | {np.dtype(dtype).name} | "
                        f"{t_numpy * 1e6:.1f} us | {t_generic * 1e6:.1f} us | "
                        f"{t_generic / t_numpy:.2f} |",
                        flush=True,
                    )
    print(f"# load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
