"""The cost of one epoch of the minibatch solver (``solver="adam"``): figure 3.

Run from the repository root::

    python benchmarks/bench_solvers_epoch.py
    python benchmarks/bench_solvers_epoch.py --quick          # smoke test

3. cost of one epoch, 20,000 x 784, h=196, batch 256, float64 and float32:
   ``fit(max_iter=1, tol=0)`` over (a) the five matrix products of its
   batches and (b) one epoch of MLPRegressor(solver="adam"), on the default
   BLAS threads and on one. Targets <= 1.3 and <= 0.5. The sides are timed
   alternated in this one process (see ``_common.py``).
"""

# SPDX-License-Identifier: BSD-3-Clause

import warnings

import numpy as np
from _common import (
    batch_gemms,
    interleaved_medians,
)
from _datasets import large_patches
from _solvers import (
    PATCH_MODEL,
    configure,
    run,
    run_solver,
    solver_parser,
)
from threadpoolctl import threadpool_limits

from skl_sparseae import SparseAutoencoderTransformer
from skl_sparseae._objective import n_parameters

# ---------------------------------------------------------------------------
# Figure 3: the cost of an epoch.


def adam_steps_and_gathers(X, h, batch):
    """One epoch's Adam steps on the parameter vector, and its batch gathers.

    What the epoch loop does besides the batches' products and element-wise
    work: ``update_params`` on the whole vector once per batch, and
    ``numpy.take`` of the shuffled rows into the batch buffer.
    """
    from skl_sparseae._optimizers import AdamOptimizer

    m, d = X.shape
    rng = np.random.default_rng(2)
    theta = rng.random(n_parameters(d, h)).astype(X.dtype)
    grad = (rng.random(theta.size).astype(X.dtype) - 0.5) * 1e-3
    optimizer = AdamOptimizer(theta.copy(), 1e-3)
    n_batches = -(-m // batch)
    order = rng.permutation(m)
    rows = np.empty((batch, d), X.dtype)

    def steps():
        for _ in range(n_batches):
            optimizer.update_params(theta, grad)

    def gathers():
        for i in range(0, m, batch):
            indices = order[i : i + batch]
            np.take(X, indices, axis=0, out=rows[: len(indices)])

    return steps, gathers


def fig3(args):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPRegressor

    m, h, batch = (1000 if args.quick else 20000), 196, 256
    ratios, rows = {}, []
    X64 = large_patches(m)
    for threads in (None, 1):
        for dtype in (np.float64, np.float32):
            X = X64.astype(dtype)
            est = SparseAutoencoderTransformer(
                solver="adam",
                batch_size=batch,
                max_iter=1,
                tol=0,
                random_state=0,
                **PATCH_MODEL,
            )

            def sae():
                est.fit(X)

            def loop():
                run_solver(est, X, lambda loss, theta: None)

            def mlp():
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    MLPRegressor(
                        solver="adam",
                        activation="logistic",
                        hidden_layer_sizes=(h,),
                        batch_size=batch,
                        max_iter=1,
                        random_state=0,
                    ).fit(X, X)

            with threadpool_limits(limits=threads, user_api="blas"):
                gemm = batch_gemms(X, h, batch)
                gemm()
                steps, gathers = adam_steps_and_gathers(X, h, batch)
                t_gemm, t_sae, t_inner, t_mlp, t_steps, t_gathers = interleaved_medians(
                    [gemm, sae, loop, mlp, steps, gathers], args.repeats
                )
            tag = f"{np.dtype(dtype).name}, {'1 thread' if threads else 'default'}"
            key = ("64" if dtype == np.float64 else "32") + ("/1t" if threads else "")
            ratios[f"3a {key}"] = t_sae / t_gemm
            ratios[f"3b {key}"] = t_sae / t_mlp
            rows.append(
                (
                    tag,
                    f"fit(max_iter=1) {t_sae:.3f} s (its epoch loop "
                    f"alone {t_inner:.3f} s, x{t_inner / t_gemm:.3f} the "
                    f"GEMMs), batch GEMMs {t_gemm:.3f} s, MLPRegressor epoch "
                    f"{t_mlp:.3f} s ({np.dtype(dtype).name} in; it fits "
                    f"in its own dtype); the epoch's Adam steps alone "
                    f"{t_steps:.3f} s, its batch gathers {t_gathers:.3f} s",
                )
            )
    rows.insert(0, ("data", f"large_patches, {m} x 784, h={h}, batch {batch}"))
    return ratios, rows


FIGURES = {"3": fig3}


def main(argv=None):
    parser = solver_parser(__doc__, FIGURES)
    args = parser.parse_args(argv)
    configure(args)
    run(args, FIGURES)


if __name__ == "__main__":
    main()
