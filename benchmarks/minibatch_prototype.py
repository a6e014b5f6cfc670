"""Prototype study: Adam over minibatches, batch or running sparsity estimate.

The KL sparsity term needs the mean activation over ALL rows, which a
minibatch does not have. Two estimates are compared, with the package's own
maths (``skl_sparseae._objective``) and Adam (``skl_sparseae._optimizers``):

- batch (``lam = 0``): ``rho_hat`` is the batch's mean activation;
- running: ``rho_run = lam * rho_run + (1 - lam) * rho_batch``, carried
  across batches (and epochs), starting from the first batch's mean.

Step ``k`` minimises, over the batch's ``m_b`` rows,
``J_k = 1/(2 m_b) sum ||x - x_hat||^2 + alpha/2 ||W||^2
+ beta * sum_j KL(rho || rho_run_k)`` with ``rho_run_k = lam * rho_run_{k-1}
+ (1 - lam) * mean_i a_ij`` and ``rho_run_{k-1}`` a constant (it holds the
earlier batches' activations, fixed by now). Then
``d rho_run_kj / d a_ij = (1 - lam) / m_b`` and the chain rule gives each
activation the slope ``beta * (1 - lam) * KL'(rho, rho_run_kj) / m_b``: the
gradient kernel ``add_block_gradient_sums`` adds its ``kl_slope`` to the
back-propagated error before the 1/m_b, so passing
``beta * (1 - lam) * KL'(rho, rho_run)`` gives the exact gradient of
``J_k`` (``sparsity_terms`` computes it with ``beta * (1 - lam)`` in place
of ``beta``). ``lam = 0`` is the batch estimate.

What is compared is the FULL-data objective J after 5, 10 and 20 epochs,
against full-batch L-BFGS (the estimator) after as many iterations (each
about one pass over the data). 4 to 6 minutes on 2 shared cores::

    python benchmarks/minibatch_prototype.py

A lam marked ``u`` passes ``beta * KL'(rho, rho_run)`` instead (no factor
``1 - lam``): not the gradient of ``J_k`` but the full-data gradient's
formula with ``rho_run`` for the full data's mean activation.
"""

# SPDX-License-Identifier: BSD-3-Clause

import argparse
import time

import numpy as np
from _datasets import large_patches, nudged_digits
from sklearn.utils import gen_batches
from threadpoolctl import threadpool_limits

from skl_sparseae import SparseAutoencoderTransformer
from skl_sparseae._objective import (
    BlockWorkspace,
    add_block_gradient_sums,
    finish_loss_and_gradient,
    hidden_activations,
    initial_parameters,
    row_squared_errors,
    sparsity_terms,
    unpack,
    zero_gradient_sums,
)
from skl_sparseae._optimizers import AdamOptimizer

EPOCHS = (5, 10, 20)


def full_objective(X, theta, h, decoder, rho, beta, alpha):
    """J over all rows, and the mean of the units' mean activations."""
    W1, b1, W2, b2 = unpack(theta.astype(X.dtype, copy=False), X.shape[1], h)
    A = hidden_activations(X, W1, b1)
    rho_hat, kl_term, _ = sparsity_terms(
        A.sum(axis=0, dtype=np.float64), X.shape[0], rho, beta, X.dtype
    )
    squared_error = float(row_squared_errors(X, A, W2, b2, decoder).sum())
    decay = 0.5 * alpha * (float(np.vdot(W1, W1)) + float(np.vdot(W2, W2)))
    return 0.5 * squared_error / X.shape[0] + decay + beta * kl_term, rho_hat.mean()


def adam_run(X, h, decoder, rho, beta, alpha, batch_size, lr, lam, exact=True):
    """J (and mean activation) after each of EPOCHS epochs of Adam.

    ``exact=False`` passes ``beta * KL'(rho, rho_run)``, without the factor
    ``1 - lam``: rho_run then stands for the full data's mean activation in
    the full-data gradient, instead of defining an objective of its own.
    """
    n, d = X.shape
    rng = np.random.RandomState(0)
    slope_beta = beta * (1 - lam) if exact else beta
    theta = initial_parameters(d, h, rng)
    optimizer = AdamOptimizer(theta, learning_rate_init=lr)
    workspace = BlockWorkspace(batch_size, d, h, X.dtype)
    sums = zero_gradient_sums(d, h, X.dtype)
    A_buffer = np.empty((batch_size, h), dtype=X.dtype)
    rho_run = None
    results = {}
    for epoch in range(1, EPOCHS[-1] + 1):
        order = rng.permutation(n)
        for batch in gen_batches(n, batch_size):
            X_b = X[order[batch]]
            k = X_b.shape[0]
            W1, b1, W2, b2 = unpack(theta.astype(X.dtype, copy=False), d, h)
            A = hidden_activations(X_b, W1, b1, out=A_buffer[:k])
            rho_batch = A.sum(axis=0, dtype=np.float64) / k
            rho_run = (
                rho_batch if rho_run is None else lam * rho_run + (1 - lam) * rho_batch
            )
            _, kl_term, kl_slope = sparsity_terms(
                rho_run * k, k, rho, slope_beta, X.dtype
            )
            for s in sums:
                s[...] = 0
            squared_error = add_block_gradient_sums(
                X_b, A, W2, b2, kl_slope, decoder, sums, workspace
            )
            _, grad, _ = finish_loss_and_gradient(
                squared_error, kl_term, sums, W1, W2, k, alpha=alpha, beta=beta
            )
            optimizer.update_params(theta, grad)
        if epoch in EPOCHS:
            results[epoch] = full_objective(X, theta, h, decoder, rho, beta, alpha)
    return results


def lbfgs_curve(X, h, decoder, rho, beta, alpha):
    """The estimator's J after each of EPOCHS L-BFGS iterations."""
    sae = SparseAutoencoderTransformer(
        h, rho=rho, beta=beta, alpha=alpha, decoder_activation=decoder,
        max_iter=EPOCHS[-1], tol=0, random_state=0,
    )  # fmt: skip
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sae.fit(X)
    return {e: sae.loss_curve_[e - 1] for e in EPOCHS if e <= len(sae.loss_curve_)}


def grid(batch_sizes, lrs, lams):
    """Every (batch_size, lr, lam, exact) cell; lam > 0 both ways."""
    return [
        (b, lr, lam, exact)
        for b in batch_sizes
        for lr in lrs
        for lam in lams
        for exact in ((True, False) if lam else (True,))
    ]


def study(name, X, h, decoder, rho, beta, alpha, cells):
    print(f"\n{name}: {X.shape[0]} x {X.shape[1]} {X.dtype}, h={h}, rho={rho}, "
          f"beta={beta}, alpha={alpha}, {decoder} decoder")  # fmt: skip
    start = time.perf_counter()
    curve = lbfgs_curve(X, h, decoder, rho, beta, alpha)
    print(f"L-BFGS (estimator), J after {'/'.join(map(str, EPOCHS))} iterations: "
          + " / ".join(f"{curve[e]:.4f}" for e in curve)
          + f"   ({time.perf_counter() - start:.1f} s)")  # fmt: skip
    header = " ".join(f"{f'J@{e}':>8s}" for e in EPOCHS)
    print(f"{'batch':>5s} {'lr':>6s} {'lam':>6s} {header} {'rho@20':>7s} {'s/ep':>5s}")
    for batch_size, lr, lam, exact in cells:
        start = time.perf_counter()
        res = adam_run(X, h, decoder, rho, beta, alpha, batch_size, lr, lam, exact)
        per_epoch = (time.perf_counter() - start) / EPOCHS[-1]
        js = " ".join(f"{res[e][0]:8.4f}" for e in EPOCHS)
        label = f"{lam:.2f}" + ("" if exact else "u")
        print(f"{batch_size:5d} {lr:6.0e} {label:>6s} {js} "
              f"{res[EPOCHS[-1]][1]:7.4f} {per_epoch:5.2f}", flush=True)  # fmt: skip


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patch-rows", type=int, default=20_000)
    args = parser.parse_args()
    lams = (0.0, 0.9, 0.99)

    # One-thread BLAS, as the estimator's L-BFGS evaluation threads use: on
    # small batches more threads only wait for each other.
    with threadpool_limits(1):
        X_train = nudged_digits()[0].astype(np.float64)
        study("Nudged digits", X_train, 100, "sigmoid", 0.01, 3.0, 1e-4,
              grid((64, 256), (1e-3, 3e-3, 1e-2), lams))  # fmt: skip

        # float32 halves the time; fewer cells than on digits, to stay within
        # a few minutes: the running estimates at one rate only.
        X = large_patches(args.patch_rows, random_state=0, dtype=np.float32)
        decoder = "sigmoid" if X.min() >= 0 and X.max() <= 1 else "identity"
        cells = grid((256,), (1e-3, 3e-3, 1e-2), (0.0,))
        cells += [(256, 1e-3, 0.9, True), (256, 1e-3, 0.9, False)]
        cells += [(256, 1e-3, 0.99, True)]
        cells += grid((64,), (1e-3, 3e-3), (0.0,))
        study("28x28 patches", X, 196, decoder, 0.1, 3.0, 3e-3, cells)


if __name__ == "__main__":
    main()
