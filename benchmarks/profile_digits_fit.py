"""Where the time of the digits fit (figure d) goes.

    python benchmarks/profile_digits_fit.py [--max-iter 400] [--repeats 3]

Times the estimator's fit on figure d's data (nudged digits, h=100, rho=0.01,
beta=3, ``tol=0`` and ``--max-iter`` iterations) and BernoulliRBM's, then
splits an equivalent run of scipy's L-BFGS-B on the same evaluation
(``NumpyBackend`` and ``_objective.evaluate``, as the fit calls them) into the
time spent in evaluations and the rest (L-BFGS-B and Python). The five
matrix products of an evaluation, timed alone on the same shapes, give the
lowest ratio to the RBM that any implementation evaluating this objective as
many times could reach.
"""

# SPDX-License-Identifier: BSD-3-Clause

import argparse
import time
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.optimize
from _common import five_gemms, five_products, median_time, nudged_digits
from sklearn.neural_network import BernoulliRBM
from threadpoolctl import threadpool_limits

from skl_sparseae import SparseAutoencoderTransformer, _blas
from skl_sparseae._backends._numpy import NumpyBackend
from skl_sparseae._inference import row_batch_size
from skl_sparseae._objective import evaluate, initial_parameters

PARAMS = dict(rho=0.01, beta=3.0, alpha=1e-4)


def blocked_products(X, h, n_threads=2):
    """The five products on the backend's row blocks, in ``n_threads`` threads.

    This is how the backend runs them (each thread on its own rows, on a
    one-thread BLAS). On these thin shapes, blocks of a few thousand rows
    are faster than whole-array products.
    """
    m, d = X.shape
    batch = row_batch_size(m, d, h, X.itemsize)
    rng = np.random.default_rng(1)
    W1 = (rng.standard_normal((d, h)) * 0.05).astype(X.dtype)
    W2 = (rng.standard_normal((h, d)) * 0.05).astype(X.dtype)
    bounds = [m * w // n_threads for w in range(n_threads + 1)]
    # Per-thread buffers, allocated once as the backend's are.
    buffers = [
        tuple(
            np.empty(shape, X.dtype)
            for shape in [(batch, h), (batch, d), (h, d), (batch, h), (d, h)]
        )
        for _ in range(n_threads)
    ]

    def rows(low, high, A, R, gW2, H, gW1):
        for start in range(low, high, batch):
            n = min(start + batch, high) - start
            five_products(X[start : start + n], W1, W2, A[:n], R[:n], gW2, H[:n], gW1)

    def run():
        with threadpool_limits(limits=1, user_api="blas"):
            with ThreadPoolExecutor(n_threads) as executor:
                work = zip(bounds[:-1], bounds[1:], buffers)
                list(executor.map(lambda w: rows(w[0], w[1], *w[2]), work))

    return run


def lbfgs_split(X, h, max_iter):
    """(evaluations, seconds in evaluations, seconds in all) of an L-BFGS-B run.

    The same start, evaluation and one-thread BLAS settings as the fit.
    """
    backend = NumpyBackend(X, h, "sigmoid")
    theta0 = initial_parameters(X.shape[1], h, np.random.RandomState(0))
    evaluations = []

    def objective(theta):
        start = time.perf_counter()
        with _blas.one_thread():
            result = evaluate(backend, theta, **PARAMS)
        evaluations.append(time.perf_counter() - start)
        return result.loss, result.gradient

    start = time.perf_counter()
    with _blas.one_thread():
        scipy.optimize.minimize(
            objective,
            theta0,
            method="L-BFGS-B",
            jac=True,
            options={"maxiter": max_iter, "maxfun": 15000, "gtol": 0},
        )
    total = time.perf_counter() - start
    return len(evaluations), float(np.sum(evaluations)), total


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--max-iter", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    X, _ = nudged_digits()
    h = 100
    rbm_times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        BernoulliRBM(n_components=h, n_iter=10, learning_rate=0.06, random_state=0).fit(
            X
        )
        rbm_times.append(time.perf_counter() - start)
    t_rbm = float(np.median(rbm_times))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        est = SparseAutoencoderTransformer(
            n_components=h, tol=0, max_iter=args.max_iter, random_state=0, **PARAMS
        ).fit(X)
        t_fit = time.perf_counter() - start
    n_eval, t_eval, t_lbfgs = lbfgs_split(X, h, args.max_iter)

    # The five products alone, on the same shapes: on the default BLAS
    # threads, on one thread, and as the backend's block threads run them.
    gemm = five_gemms(X, h)
    t_gemm = median_time(gemm, 20)
    with threadpool_limits(limits=1, user_api="blas"):
        t_gemm_1 = median_time(gemm, 20)
    t_blocked = median_time(blocked_products(X, h), 20)
    print(f"nudged digits {X.shape} {X.dtype}, h={h}, {est.n_iter_} iterations")
    print(f"BernoulliRBM fit (median of {args.repeats}): {t_rbm:.3f} s")
    print(f"our fit:                    {t_fit:.3f} s  (ratio {t_fit / t_rbm:.2f})")
    print(f"the same L-BFGS-B run:      {t_lbfgs:.3f} s, {n_eval} evaluations")
    print(
        f"  in evaluations:           {t_eval:.3f} s  "
        f"({1e3 * t_eval / n_eval:.2f} ms each)"
    )
    print(f"  outside (L-BFGS, Python): {t_lbfgs - t_eval:.3f} s")
    print(
        f"five GEMMs alone: {1e3 * t_gemm:.2f} ms (default BLAS threads), "
        f"{1e3 * t_gemm_1:.2f} ms (one thread)"
    )
    print(
        f"five GEMMs on the backend's row blocks, 2 threads of one-thread "
        f"BLAS: {1e3 * t_blocked:.2f} ms"
    )
    floor = n_eval * min(t_gemm, t_gemm_1 / 2, t_blocked)
    print(
        f"GEMMs x evaluations, at the best of the three: "
        f"{floor:.3f} s -> ratio floor {floor / t_rbm:.2f} against the RBM"
    )
    print(
        f"  with L-BFGS and Python as measured: {floor + t_lbfgs - t_eval:.3f} s "
        f"-> {(floor + t_lbfgs - t_eval) / t_rbm:.2f}"
    )


if __name__ == "__main__":
    main()
