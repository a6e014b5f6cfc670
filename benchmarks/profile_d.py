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
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from sklearn.neural_network import BernoulliRBM
from threadpoolctl import threadpool_limits

from skl_sparseae import SparseAutoencoderTransformer
from skl_sparseae._objective import SparseAutoencoderObjective, row_batch_size

from run import five_gemms, five_products, median_time, shifted_digits


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
        (np.empty((batch, h)), np.empty((batch, d)), np.empty((h, d)),
         np.empty((batch, h)), np.empty((d, h)))
        for _ in range(n_threads)
    ]

    def rows(low, high, A, R, gW2, H, gW1):
        for start in range(low, high, batch):
            n = min(start + batch, high) - start
            five_products(X[start:start + n], W1, W2, A[:n], R[:n], gW2, H[:n], gW1)

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

    # The five products alone, on the same shapes: on the default BLAS
    # threads, on one thread, and as the objective's block threads run them.
    gemm = five_gemms(X, h)
    t_gemm = median_time(gemm, 20)
    with threadpool_limits(limits=1, user_api="blas"):
        t_gemm_1 = median_time(gemm, 20)
    t_blocked = median_time(blocked_products(X, h), 20)
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
