"""The Array API backend on a device against its floor and the CPU path.

Run from the repository root, on a machine with a GPU and torch::

    python benchmarks/bench_gpu.py              # both sizes, float32 and float64
    python benchmarks/bench_gpu.py --quick      # one small size, a smoke test
    python benchmarks/bench_gpu.py --namespace array_api_strict --quick  # no torch

For each problem (60,000 x 784, h=196 and 500,000 x 784, h=1024, as in the
user guide; 20,000 x 784, h=196 with ``--quick``) and dtype, one run prints:

* ``floor``: the five matrix products of one evaluation (X @ W1, A @ W2,
  A.T @ D, D @ W2.T, X.T @ H) on the device;
* ``eval``: the project's evaluation (``_objective.evaluate`` over
  :class:`~skl_sparseae._backends._array_api.ArrayAPIBackend`), theta to the
  device and the gradient back included, and its ratio to the floor;
* ``fit``: the estimator's fit under ``array_api_dispatch``, ms per L-BFGS
  iteration, and the share of a fit's time spent in L-BFGS-B itself (a
  scipy L-BFGS-B loop over the same evaluation, timed around the objective);
* ``peak``: the extra device memory of one evaluation, above X and the
  weights, as a multiple of X's size (CUDA only);
* ``cpu``: the project's NumPy path on this machine's cores (evaluation and
  fit ms per iteration), on the smaller problem;
* ``adam``: one epoch of ``solver="adam"`` on the device (1,000,000 x 784,
  h=196, float32; 20,000 x 784 with ``--quick``), for two batch sizes,
  against the five matrix products of the same batches (a loop over the
  batches of one epoch), and the ms per batch step.

Every time is the median of ``--repeats`` runs after a warm-up; the device
is synchronised before each clock read. The whole run takes under 5 minutes
on an H100; ``--quick`` under a minute on a laptop CPU.
"""

# SPDX-License-Identifier: BSD-3-Clause

import argparse
import os
import platform
import time
import warnings

os.environ.setdefault("SCIPY_ARRAY_API", "1")

import numpy as np  # noqa: E402
import scipy  # noqa: E402
import scipy.optimize  # noqa: E402
import sklearn  # noqa: E402
from sklearn import config_context  # noqa: E402

import skl_sparseae  # noqa: E402
from skl_sparseae import SparseAutoencoderTransformer  # noqa: E402
from skl_sparseae._backends._array_api import ArrayAPIBackend  # noqa: E402
from skl_sparseae._backends._numpy import NumpyBackend  # noqa: E402
from skl_sparseae._objective import evaluate, initial_parameters  # noqa: E402

SIZES = [(60_000, 784, 196), (500_000, 784, 1024)]
QUICK_SIZES = [(20_000, 784, 196)]
ADAM_SIZES = [(1_000_000, 784, 196)]
ADAM_BATCH_SIZES = (200, 4096)
PARAMS = dict(rho=0.05, beta=3.0, alpha=1e-4)


def namespace(name, device_name):
    """(array module, device, synchronise) for the requested namespace."""
    if name == "torch":
        import torch

        if device_name is None:
            device_name = "cuda" if torch.cuda.is_available() else "cpu"
        device = torch.device(device_name)
        if device.type == "cuda":
            return torch, device, torch.cuda.synchronize
        return torch, device, lambda: None
    if name == "array_api_strict":
        import array_api_strict

        device = array_api_strict.Device(device_name or "CPU_DEVICE")
        return array_api_strict, device, lambda: None
    if name == "numpy":
        from sklearn.externals.array_api_compat import numpy as np_compat

        return np_compat, None, lambda: None
    raise ValueError(name)


def median_time(function, repeats, sync):
    function()
    sync()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        sync()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def data(m, d, dtype, seed=0):
    """Structured data in [0, 1]: a low-rank sigmoid plus noise (host, float32)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, 32), dtype=np.float32) @ (
        rng.standard_normal((32, d), dtype=np.float32) / 4
    )
    X += 0.3 * rng.standard_normal((m, d), dtype=np.float32)
    np.negative(X, out=X)
    np.exp(X, out=X)
    X += 1
    np.reciprocal(X, out=X)
    return X.astype(dtype, copy=False)


def five_products(xp, X, h, device):
    m, d = X.shape
    ones = lambda *shape: xp.ones(shape, dtype=X.dtype, device=device)  # noqa: E731
    W1, W2, A, D = ones(d, h), ones(h, d), ones(m, h), ones(m, d)

    def run():
        X @ W1
        A @ W2
        A.T @ D
        D @ W2.T
        X.T @ A

    return run


def lbfgs_share(objective, theta0, n_iter):
    """(ms per iteration, share of the time outside the objective) of L-BFGS-B."""
    spent = [0.0]

    def timed(theta):
        start = time.perf_counter()
        result = objective(theta)
        spent[0] += time.perf_counter() - start
        return result

    start = time.perf_counter()
    result = scipy.optimize.minimize(
        timed,
        theta0,
        method="L-BFGS-B",
        jac=True,
        options={"maxiter": n_iter, "gtol": 0},
    )
    total = time.perf_counter() - start
    return total / max(result.nit, 1) * 1e3, 1 - spent[0] / total


def batch_products(xp, X, h, device, batch_size):
    """The five matrix products of every batch of one epoch, in a loop."""
    m, d = X.shape
    ones = lambda *shape: xp.ones(shape, dtype=X.dtype, device=device)  # noqa: E731
    W1, W2 = ones(d, h), ones(h, d)
    A, D = ones(batch_size, h), ones(batch_size, d)

    def run():
        for start in range(0, m - batch_size + 1, batch_size):
            X_b = X[start : start + batch_size, ...]
            X_b @ W1
            A @ W2
            A.T @ D
            D @ W2.T
            X_b.T @ A

    return run


def adam_epoch_seconds(X, h, batch_size, sync, repeats):
    """Median seconds of one epoch of ``solver="adam"`` (fits of 1 and 3 epochs)."""

    def fit(epochs):
        sae = SparseAutoencoderTransformer(
            n_components=h,
            solver="adam",
            batch_size=batch_size,
            max_iter=epochs,
            tol=0,
            random_state=0,
            **PARAMS,
        )
        with config_context(array_api_dispatch=True):
            sae.fit(X)

    one = median_time(lambda: fit(1), repeats, sync)
    three = median_time(lambda: fit(3), repeats, sync)
    # The difference leaves out the fit's fixed costs (validation, the
    # final mean activation).
    return (three - one) / 2


def fit_ms_per_iteration(X, h, n_iter, dispatch):
    sae = SparseAutoencoderTransformer(
        n_components=h, max_iter=n_iter, tol=0, random_state=0, **PARAMS
    )
    with warnings.catch_warnings(), config_context(array_api_dispatch=dispatch):
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        sae.fit(X)
        total = time.perf_counter() - start
    return total / sae.n_iter_ * 1e3


def bench(args):
    xp, device, sync = namespace(args.namespace, args.device)
    cuda = getattr(device, "type", None) == "cuda"
    sizes = QUICK_SIZES if args.quick else SIZES
    print(
        f"skl_sparseae {skl_sparseae.__version__}, numpy {np.__version__}, "
        f"scipy {scipy.__version__}, scikit-learn {sklearn.__version__}, "
        f"{xp.__name__} {getattr(xp, '__version__', '')} on {device}, "
        f"{os.cpu_count()} CPUs, {platform.machine()}"
    )
    if cuda:
        import torch

        print(f"device: {torch.cuda.get_device_name(device)}")
    for m, d, h in sizes:
        for dtype in ("float32", "float64"):
            X_host = data(m, d, dtype)
            X = xp.asarray(X_host, device=device) if device is not None else X_host
            if not (args.namespace == "numpy" or args.keep_host_copy):
                del X_host
            theta = initial_parameters(d, h, np.random.RandomState(0))
            with config_context(array_api_dispatch=True):
                from sklearn.utils._array_api import get_namespace_and_device

                xp_c, _, dev = get_namespace_and_device(X)
                floor = median_time(five_products(xp_c, X, h, dev), args.repeats, sync)
                peak = None
                if cuda:
                    import torch

                    sync()
                    base = torch.cuda.memory_allocated(device)
                    torch.cuda.reset_peak_memory_stats(device)
                backend = ArrayAPIBackend(X, h, "sigmoid", xp=xp_c, device=dev)
                evaluate(backend, theta, **PARAMS)
                if cuda:
                    sync()
                    peak = (torch.cuda.max_memory_allocated(device) - base) / (
                        m * d * np.dtype(dtype).itemsize
                    )

                def objective(theta):
                    result = evaluate(backend, theta, **PARAMS)
                    return result.loss, result.gradient

                ev = median_time(lambda: objective(theta), args.repeats, sync)
                lbfgs_ms, share = lbfgs_share(objective, theta, args.fit_iter)
            del backend
            fit_ms = fit_ms_per_iteration(X, h, args.fit_iter, dispatch=True)
            print(
                f"{m} x {d}, h={h}, {dtype}: floor {floor * 1e3:8.2f} ms | "
                f"eval {ev * 1e3:8.2f} ms = {ev / floor:4.2f}x floor "
                f"(keep_hidden={2 * h <= d}) | fit {fit_ms:8.1f} ms/iter "
                f"(L-BFGS-B loop {lbfgs_ms:.1f} ms/iter, {share:.0%} in L-BFGS-B) | "
                "peak " + (f"{peak:.2f}x X" if peak is not None else "n/a (CUDA only)"),
                flush=True,
            )
            del X
            if cuda:
                torch.cuda.empty_cache()
        if m <= SIZES[0][0] and not args.no_cpu:
            X_host = data(m, d, "float32")
            backend = NumpyBackend(X_host, h, "sigmoid")
            cpu_ev = median_time(
                lambda: evaluate(backend, theta, **PARAMS), args.repeats, lambda: None
            )
            cpu_fit = fit_ms_per_iteration(X_host, h, args.fit_iter, dispatch=False)
            print(
                f"{m} x {d}, h={h}, float32, CPU path (NumPy backend, "
                f"{backend.n_threads} block threads): eval {cpu_ev * 1e3:.1f} ms | "
                f"fit {cpu_fit:.1f} ms/iter",
                flush=True,
            )


def bench_adam(args):
    xp, device, sync = namespace(args.namespace, args.device)
    sizes = QUICK_SIZES if args.quick else ADAM_SIZES
    for m, d, h in sizes:
        X_host = data(m, d, "float32")
        X = xp.asarray(X_host, device=device) if device is not None else X_host
        del X_host
        with config_context(array_api_dispatch=True):
            from sklearn.utils._array_api import get_namespace_and_device

            xp_c, _, dev = get_namespace_and_device(X)
        for batch_size in ADAM_BATCH_SIZES:
            with config_context(array_api_dispatch=True):
                floor = median_time(
                    batch_products(xp_c, X, h, dev, batch_size), args.repeats, sync
                )
            repeats = max(1, args.repeats // 3)
            epoch = adam_epoch_seconds(X, h, batch_size, sync, repeats)
            steps = -(-m // batch_size)
            print(
                f"adam {m} x {d}, h={h}, float32, batch {batch_size}: epoch "
                f"{epoch * 1e3:9.1f} ms = {epoch / floor:5.2f}x its products "
                f"({floor * 1e3:.1f} ms) | {epoch / steps * 1e3:.3f} ms per step",
                flush=True,
            )
        del X


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--namespace",
        default="torch",
        choices=["torch", "array_api_strict", "numpy"],
        help="array library of the device data (default: torch)",
    )
    parser.add_argument(
        "--device", default=None, help="device name (default: cuda when available)"
    )
    parser.add_argument("--quick", action="store_true", help="one small size")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument(
        "--fit-iter", type=int, default=None, help="L-BFGS iterations per fit"
    )
    parser.add_argument("--no-cpu", action="store_true", help="skip the CPU path")
    parser.add_argument("--only-adam", action="store_true", help="only the adam rows")
    parser.add_argument("--keep-host-copy", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.repeats is None:
        args.repeats = 3 if args.quick else 10
    if args.fit_iter is None:
        args.fit_iter = 5 if args.quick else 20
    if not args.only_adam:
        bench(args)
    bench_adam(args)


if __name__ == "__main__":
    main()
