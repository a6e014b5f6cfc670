"""Minibatch epochs on one and two threads, against their floor and two baselines.

Run from the repository root::

    python benchmarks/bench_minibatch_threads.py
    python benchmarks/bench_minibatch_threads.py --quick      # under a minute

For each problem, dtype (float64, float32) and thread count (1 and 2 by
default, ``--threads-list``), it times, interleaved in this one process:

- ``epoch``: one epoch of the estimator's minibatch loop (``solver="adam"``,
  batch 200: shuffle, gathers, steps and Adam's updates) on a prepared
  runner, as a fit runs it;
- ``gemm``: the five matrix products of the epoch's batches, its floor;
- ``fit``: ``fit(max_iter=1, tol=0)`` of the estimator, and ``mlp``: that
  of ``MLPRegressor(solver="adam", activation="logistic")`` on X -> X with
  the same hidden layer, batch and step size;
- ``torch``: one epoch of the same model, objective and Adam in PyTorch on
  the CPU, where ``import torch`` works (an optional dependency of this
  script alone); skipped otherwise.

Every side runs held to the thread count (``threadpoolctl`` for the BLAS,
``torch.set_num_threads`` for PyTorch). The problems: the stroke digits
(20,000 x 784, the digits upscaled to 28x28 with random rotations and
shifts; 4,000 rows with ``--quick``), h=196; the nudged digits of
scikit-learn's RBM example (7,188 x 64), h=100. Each line prints the
minimum and the median of the repeats and the ratios of the medians; the
1-minute load average is printed before and after each problem.
"""

# SPDX-License-Identifier: BSD-3-Clause

import argparse
import math
import os
import time
import warnings

import _common
import numpy as np
from _common import batch_gemms, machine_description, settle
from _datasets import nudged_digits, stroke_digits
from sklearn.neural_network import MLPRegressor
from threadpoolctl import ThreadpoolController

from skl_sparseae import SparseAutoencoderTransformer
from skl_sparseae._minibatch import EpochRunner, MinibatchPlan, MinibatchState
from skl_sparseae._objective import initial_parameters, step_shares, unpack
from skl_sparseae._optimizers import AdamOptimizer

BATCH = 200
LEARNING_RATE = 1e-3
MODEL = dict(rho=0.05, beta=3.0, alpha=1e-4)

_controller = ThreadpoolController()


def our_epoch(X, h, threads):
    """One epoch of the estimator's loop on a runner made under ``threads``."""
    m, d = X.shape
    plan = MinibatchPlan(h, MODEL, "sigmoid", BATCH, shuffle=True)
    with _controller.limit(limits=threads, user_api="blas"):
        runner = EpochRunner(X, plan)
    theta = initial_parameters(d, h, np.random.RandomState(0))
    rho = MODEL["rho"]
    unpack(theta, d, h)[1][:] = math.log(rho / (1 - rho))
    theta = theta.astype(X.dtype)
    state = MinibatchState(
        AdamOptimizer(theta, LEARNING_RATE), np.random.RandomState(0)
    )
    return runner, lambda: runner.run(theta, state)


def our_fit(X, h):
    def fit():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            SparseAutoencoderTransformer(
                h,
                solver="adam",
                batch_size=BATCH,
                learning_rate_init=LEARNING_RATE,
                max_iter=1,
                tol=0,
                random_state=0,
                **MODEL,
            ).fit(X)

    return fit


def mlp_fit(X, h):
    def fit():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            MLPRegressor(
                hidden_layer_sizes=(h,),
                activation="logistic",
                solver="adam",
                batch_size=BATCH,
                learning_rate_init=LEARNING_RATE,
                max_iter=1,
                random_state=0,
            ).fit(X, X)

    return fit


def torch_epoch(X, h):
    """One epoch of the same model and objective in PyTorch, or None without it."""
    try:
        import torch
    except ImportError:
        return None
    m, d = X.shape
    dtype = torch.float64 if X.dtype == np.float64 else torch.float32
    generator = torch.Generator().manual_seed(0)
    rho, beta, alpha = MODEL["rho"], MODEL["beta"], MODEL["alpha"]
    eps = float(np.finfo(X.dtype).eps)
    r = math.sqrt(6.0 / (d + h + 1))

    def uniform(*shape):
        values = torch.rand(*shape, generator=generator, dtype=dtype)
        return ((2 * values - 1) * r).requires_grad_()

    W1, W2 = uniform(d, h), uniform(h, d)
    b1 = torch.full((h,), math.log(rho / (1 - rho)), dtype=dtype, requires_grad=True)
    b2 = torch.zeros(d, dtype=dtype, requires_grad=True)
    optimizer = torch.optim.Adam([W1, b1, W2, b2], lr=LEARNING_RATE)
    X_t = torch.from_numpy(X)

    def epoch():
        order = torch.randperm(m, generator=generator)
        for start in range(0, m, BATCH):
            X_b = X_t[order[start : start + BATCH]]
            A = torch.sigmoid(torch.addmm(b1, X_b, W1))
            X_hat = torch.sigmoid(torch.addmm(b2, A, W2))
            rho_hat = A.mean(0).clamp(eps, 1 - eps)
            kl = rho * torch.log(rho / rho_hat)
            kl = kl + (1 - rho) * torch.log((1 - rho) / (1 - rho_hat))
            loss = (
                0.5 * ((X_hat - X_b) ** 2).sum() / X_b.shape[0]
                + 0.5 * alpha * ((W1 * W1).sum() + (W2 * W2).sum())
                + beta * kl.sum()
            )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()

    return epoch


def timed(entries, repeats):
    """Times of each ``(threads, function)``, interleaved, each under its threads."""
    times = [[] for _ in entries]
    for _ in range(repeats):
        for (threads, function), bucket in zip(entries, times):
            with _controller.limit(limits=threads, user_api="blas"):
                settle()
                start = time.perf_counter()
                function()
                bucket.append(time.perf_counter() - start)
    return times


def problem(name, X64, h, args):
    print(f"\n{name}: {X64.shape[0]:,} x {X64.shape[1]}, h={h}, batch {BATCH}")
    print(f"  load average at the start: {os.getloadavg()[0]:.1f}")
    print(
        f"  shares of a step: {step_shares(BATCH, X64.shape[1], h)} "
        "(from the shape alone)"
    )
    header = (
        f"  {'dtype':8} {'thr':>3} | {'epoch':>13} {'gemm':>13} {'fit':>13} "
        f"{'mlp':>13} {'torch':>13} | {'ep/gemm':>7} {'fit/mlp':>7} {'ep/torch':>8}"
    )
    print("  times in s, min/median of the repeats; ratios of the medians")
    print(header)
    two_over_one = []
    for dtype in (np.float64, np.float32):
        X = X64.astype(dtype)
        entries, runners, names = [], [], []
        for threads in args.threads_list:
            runner, epoch = our_epoch(X, h, threads)
            runners.append(runner)
            sides = {
                "epoch": epoch,
                "gemm": batch_gemms(X, h, BATCH),
                "fit": our_fit(X, h),
                "mlp": mlp_fit(X, h),
            }
            torch_side = torch_epoch(X, h) if not args.no_torch else None
            if torch_side is not None:
                sides["torch"] = _with_torch_threads(torch_side, threads)
            for side, function in sides.items():
                function()  # warm-up: first-call allocations, thread starts
                entries.append((threads, function))
                names.append((threads, side))
        times = dict(zip(names, timed(entries, args.repeats)))
        for runner in runners:
            runner.close()
        medians = {key: float(np.median(t)) for key, t in times.items()}
        for threads in args.threads_list:
            cells, m = [], {}
            for side in ("epoch", "gemm", "fit", "mlp", "torch"):
                t = times.get((threads, side))
                m[side] = medians.get((threads, side))
                cells.append(
                    f"{min(t):6.3f}/{m[side]:6.3f}" if t else f"{'skipped':>13}"
                )
            ratios = [
                m["epoch"] / m["gemm"],
                m["fit"] / m["mlp"],
                m["epoch"] / m["torch"] if m["torch"] else float("nan"),
            ]
            print(
                f"  {np.dtype(dtype).name:8} {threads:>3} | {' '.join(cells)} | "
                f"{ratios[0]:7.3f} {ratios[1]:7.3f} {ratios[2]:8.3f}"
            )
        if len(args.threads_list) > 1:
            first, last = args.threads_list[0], args.threads_list[-1]
            two_over_one.append(
                f"{np.dtype(dtype).name} "
                f"{medians[(last, 'epoch')] / medians[(first, 'epoch')]:.3f}"
            )
    if two_over_one:
        first, last = args.threads_list[0], args.threads_list[-1]
        print(f"  epoch on {last} threads / on {first}: " + ", ".join(two_over_one))
    print(f"  load average at the end: {os.getloadavg()[0]:.1f}")


def _with_torch_threads(function, threads):
    import torch

    def epoch():
        torch.set_num_threads(threads)
        function()

    return epoch


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="smaller, about 1 min")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument(
        "--threads-list", default="1,2", help="thread counts, comma-separated"
    )
    parser.add_argument("--settle", type=float, default=None)
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch")
    args = parser.parse_args(argv)
    args.threads_list = [int(t) for t in args.threads_list.split(",")]
    if args.repeats is None:
        args.repeats = 2 if args.quick else 5
    _common.SETTLE = (
        (0.1 if args.quick else 0.5) if args.settle is None else args.settle
    )
    for line in machine_description():
        print(line)
    try:
        import torch

        print(f"torch {torch.__version__} (CPU)")
    except ImportError:
        print("torch: not installed, its column is skipped")
    X_strokes = stroke_digits(n_train=4_000 if args.quick else 20_000, n_test=1)[0]
    problem("stroke digits", X_strokes, 196, args)
    problem("nudged digits (RBM example)", nudged_digits()[0], 100, args)


if __name__ == "__main__":
    main()
