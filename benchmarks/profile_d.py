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
from threadpoolctl import threadpool_limits

from skl_sparseae import SparseAutoencoderTransformer
from skl_sparseae._objective import SparseAutoencoderObjective

from run import five_gemms, shifted_digits


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
    t_gemm = float(np.median(gemm_times))
    t_gemm_1 = float(np.median(gemm_times_1))
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
    floor = n_eval * min(t_gemm, t_gemm_1 / 2)
    print(f"GEMMs x evaluations, at the better of 2 threads or 2 x 1 thread: "
          f"{floor:.3f} s -> ratio floor {floor / t_rbm:.2f} against the RBM")


if __name__ == "__main__":
    main()
