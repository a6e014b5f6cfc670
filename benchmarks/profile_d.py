"""Where the time of the digits fit (question d) goes.

    cd benchmarks && python profile_d.py [--max-iter 400] [--repeats 3]

Splits the wall time of one fit of question d into the objective's
evaluations, and within them the five matrix products (timed alone on the
same shapes), and what is left (scipy's L-BFGS-B and Python). Compared
with BernoulliRBM's fit measured in the same process, it shows the lowest
ratio this fit could reach if everything but the matrix products were free.
"""

# SPDX-License-Identifier: BSD-3-Clause

import argparse
import time
import warnings

import numpy as np
from sklearn.neural_network import BernoulliRBM
from concurrent.futures import ThreadPoolExecutor

from threadpoolctl import threadpool_limits

from skl_sparseae import SparseAutoencoderTransformer
from skl_sparseae._objective import SparseAutoencoderObjective, row_batch_size

from run import five_gemms, shifted_digits


def blocked_products(X, h, n_threads=2):
    """The five products on the objective's row blocks, in ``n_threads`` threads.

    This is how the objective itself runs them (each thread on its own rows,
    on a one-thread BLAS). On these thin shapes, blocks of a few thousand rows
    are faster than whole-array products.
    """
    m, d = X.shape
    batch = row_batch_size(m, d, h, X.itemsize)
    rng = np.random.default_rng(1)
    W1 = rng.standard_normal((d, h)) * 0.05
    W2 = rng.standard_normal((h, d)) * 0.05
    bounds = [m * w // n_threads for w in range(n_threads + 1)]
    # Per-thread buffers, allocated once as the objective's are.
    buffers = [
        (np.empty((batch, h)), np.empty((batch, d)), np.empty((batch, h)),
         np.empty((h, d)), np.empty((d, h)))
        for _ in range(n_threads)
    ]

    def rows(low, high, A, R, H, gW2, gW1):
        for start in range(low, high, batch):
            n = min(start + batch, high) - start
            x = X[start:start + n]
            np.dot(x, W1, out=A[:n])
            np.dot(A[:n], W2, out=R[:n])
            np.dot(A[:n].T, R[:n], out=gW2)
            np.dot(R[:n], W2.T, out=H[:n])
            np.dot(x.T, H[:n], out=gW1)

    def run():
        with threadpool_limits(limits=1, user_api="blas"):
            with ThreadPoolExecutor(n_threads) as executor:
                work = zip(bounds[:-1], bounds[1:], buffers)
                list(executor.map(lambda w: rows(w[0], w[1], *w[2]), work))

    return run


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--max-iter", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    X = shifted_digits()
    h = 100
    rbm_times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        BernoulliRBM(n_components=h, n_iter=10, learning_rate=0.06,
                     random_state=0).fit(X)
        rbm_times.append(time.perf_counter() - start)
    t_rbm = float(np.median(rbm_times))

    evaluations = []
    original_call = SparseAutoencoderObjective.__call__

    def timed_call(self, theta):
        start = time.perf_counter()
        result = original_call(self, theta)
        evaluations.append(time.perf_counter() - start)
        return result

    SparseAutoencoderObjective.__call__ = timed_call
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start = time.perf_counter()
            est = SparseAutoencoderTransformer(
                n_components=h, rho=0.01, beta=3.0, alpha=1e-4,
                max_iter=args.max_iter, random_state=0,
            ).fit(X)
            t_fit = time.perf_counter() - start
    finally:
        SparseAutoencoderObjective.__call__ = original_call

    # The five products alone, on the same shapes: once on the default BLAS
    # threads, once on one thread (as each of the objective's block threads
    # runs them).
    gemm = five_gemms(X, h)
    gemm_times = []
    for _ in range(20):
        start = time.perf_counter()
        gemm()
        gemm_times.append(time.perf_counter() - start)
    with threadpool_limits(limits=1, user_api="blas"):
        gemm_times_1 = []
        for _ in range(20):
            start = time.perf_counter()
            gemm()
            gemm_times_1.append(time.perf_counter() - start)
    blocked = blocked_products(X, h)
    blocked()
    blocked_times = []
    for _ in range(20):
        start = time.perf_counter()
        blocked()
        blocked_times.append(time.perf_counter() - start)
    t_gemm = float(np.median(gemm_times))
    t_gemm_1 = float(np.median(gemm_times_1))
    t_blocked = float(np.median(blocked_times))
    n_eval = len(evaluations)
    t_eval = float(np.sum(evaluations))
    print(f"shifted digits {X.shape}, h={h}, {est.n_iter_} iterations, "
          f"{n_eval} evaluations")
    print(f"BernoulliRBM fit (median of {args.repeats}): {t_rbm:.3f} s")
    print(f"our fit:                    {t_fit:.3f} s  (ratio {t_fit / t_rbm:.2f})")
    print(f"  in evaluations:           {t_eval:.3f} s  "
          f"({1e3 * t_eval / n_eval:.2f} ms each)")
    print(f"  outside (L-BFGS, Python): {t_fit - t_eval:.3f} s")
    print(f"five GEMMs alone: {1e3 * t_gemm:.2f} ms (default BLAS threads), "
          f"{1e3 * t_gemm_1:.2f} ms (one thread)")
    print(f"five GEMMs on the objective's row blocks, 2 threads of one-thread "
          f"BLAS: {1e3 * t_blocked:.2f} ms")
    floor = n_eval * min(t_gemm, t_gemm_1 / 2, t_blocked)
    print(f"GEMMs x evaluations, at the best of the three: "
          f"{floor:.3f} s -> ratio floor {floor / t_rbm:.2f} against the RBM")
    print(f"  with L-BFGS and Python as measured: {floor + t_fit - t_eval:.3f} s "
          f"-> {(floor + t_fit - t_eval) / t_rbm:.2f}")


if __name__ == "__main__":
    main()
