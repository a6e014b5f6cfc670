"""Benchmarks of the sparse autoencoder objective and fit (issue 3, questions a-f).

Run from the repository root::

    python benchmarks/run.py                 # all questions, about 2-10 minutes
    python benchmarks/run.py --only a,b,f    # a subset
    python benchmarks/run.py --threads 1     # everything on one BLAS thread

Every figure is a ratio against a baseline measured in the same process, on
the same data, with the timings of the two interleaved (baseline, candidate,
baseline, candidate, ...) so that a neighbour's load hits both alike; each
time is the median of ``--repeats`` runs.

Every timed run starts after a pause of ``--settle`` seconds (0.5 by
default). After a multi-threaded call, OpenBLAS keeps its idle worker
threads spinning for a while (``OPENBLAS_THREAD_TIMEOUT``, 2**28 cycles by
default) and MKL does the same (``KMP_BLOCKTIME``): without the pause, the
baseline's spinning BLAS threads take a core from whatever runs next. On 2
cores this inflated figure a by 0.08 to 0.25 (see benchmarks/README.md).

a. objective evaluation / the five GEMMs of the same shapes and dtype,
   dense 20,000 x 784, h=196, float64 and float32;
b. float32 evaluation / float64 evaluation;
c. fit time per L-BFGS iteration / MLPRegressor's (logistic, lbfgs, X -> X,
   float64), with our float32 figure beside it;
d. fit on shifted digits (8,985 x 64), h=100, 400 iterations / BernoulliRBM
   (n_components=100, n_iter=10, learning_rate=0.06);
e. peak memory of fit above the input, 60,000 x 784, float32 and float64, as a
   multiple of X.nbytes (tracemalloc and max RSS in a child process);
f. sparse CSR 20,000 x 5,000 at 1 %, h=256: evaluation / the equivalent sparse
   and dense products.

The estimator runs scipy's L-BFGS-B on a one-thread BLAS (its objective keeps
its own block threads); the baselines (MLPRegressor, BernoulliRBM, the bare
products) keep the default threads unless ``--threads`` is given.
"""

# SPDX-License-Identifier: BSD-3-Clause

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import tracemalloc
import warnings

import numpy as np
import scipy
import scipy.sparse as sp
import sklearn
from threadpoolctl import threadpool_info, threadpool_limits

import skl_sparseae
from skl_sparseae import SparseAutoencoderTransformer
from skl_sparseae import _blas
from skl_sparseae._backend_numpy import NumpyBackend
from skl_sparseae._objective import evaluate, initial_parameters

TARGETS = {
    "a64": 1.25,
    "a32": 1.25,
    "b": 0.6,
    "c64": 0.4,
    "c32": None,
    "d": 3.0,
    "e32": 1.0,
    "e64": 1.0,
    "f": 1.5,
}


# Seconds to wait before each timed run (set from --settle by main).
SETTLE = 0.5


def settle():
    """Let the BLAS threads of the previous run go idle (see the docstring)."""
    if SETTLE > 0:
        time.sleep(SETTLE)


def median_time(function, repeats):
    """Median wall time of ``function()`` alone, after one warm-up call."""
    function()  # warm-up: first-call allocations, connections, imports
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def interleaved_medians(functions, repeats):
    """Median wall time of each function, timed in turn ``repeats`` times."""
    times = [[] for _ in functions]
    for _ in range(repeats):
        for f, bucket in zip(functions, times):
            settle()
            start = time.perf_counter()
            f()
            bucket.append(time.perf_counter() - start)
    return [float(np.median(t)) for t in times]


def dense_problem(n_samples, n_features, dtype, seed=0):
    # Generator.random writes float32 directly: no float64 temporary.
    return np.random.default_rng(seed).random((n_samples, n_features), dtype=dtype)


def objective_for(X, h, **kwargs):
    """The estimator's evaluation of J and its gradient at ``theta`` on X."""
    backend = NumpyBackend(X, h, "sigmoid", **kwargs)

    def objective(theta):
        with _blas.one_thread("numpy"):
            return evaluate(backend, theta, rho=0.05, beta=3.0, alpha=1e-4)

    return objective


def five_gemms(X, h):
    """The five matrix products of one evaluation, on preallocated outputs."""
    m, d = X.shape
    rng = np.random.default_rng(1)
    W1 = rng.standard_normal((d, h)).astype(X.dtype) * 0.05
    W2 = rng.standard_normal((h, d)).astype(X.dtype) * 0.05
    A = np.empty((m, h), X.dtype)
    R = np.empty((m, d), X.dtype)
    gW2 = np.empty((h, d), X.dtype)
    H = np.empty((m, h), X.dtype)
    gW1 = np.empty((d, h), X.dtype)

    return lambda: five_products(X, W1, W2, A, R, gW2, H, gW1)


def five_products(X, W1, W2, A, R, gW2, H, gW1):
    """Forward, decoder and backward products of an evaluation, into the buffers."""
    np.dot(X, W1, out=A)
    np.dot(A, W2, out=R)
    np.dot(A.T, R, out=gW2)
    np.dot(R, W2.T, out=H)
    np.dot(X.T, H, out=gW1)


def bench_a_b(args):
    m, d, h = (5000 if args.quick else 20000), 784, 196
    results, seconds = {}, {}
    for dtype, key in ((np.float64, "64"), (np.float32, "32")):
        X = dense_problem(m, d, dtype)
        theta = initial_parameters(d, h, np.random.RandomState(0))
        objective = objective_for(X, h)
        objective(theta)  # allocate the reused buffers
        gemm, evaluation = interleaved_medians(
            [five_gemms(X, h), lambda: objective(theta)], args.repeats
        )
        results["a" + key] = evaluation / gemm
        seconds["a" + key] = (evaluation, gemm)
    results["b"] = seconds["a32"][0] / seconds["a64"][0]
    seconds["b"] = (seconds["a32"][0], seconds["a64"][0])
    return results, seconds, f"dense {m} x {d}, h={h}"


def bench_c(args):
    from sklearn.neural_network import MLPRegressor

    m, d, h, n_iter = (5000 if args.quick else 20000), 784, 196, args.c_iter
    X64 = dense_problem(m, d, np.float64)
    X32 = X64.astype(np.float32)

    def per_iteration(make, X, y=None):
        def run():
            est = make()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                settle()
                start = time.perf_counter()
                est.fit(X, y) if y is not None else est.fit(X)
                elapsed = time.perf_counter() - start
            per_iteration.last = elapsed / est.n_iter_

        return run

    def mlp():
        return MLPRegressor(
            hidden_layer_sizes=(h,),
            activation="logistic",
            solver="lbfgs",
            max_iter=n_iter,
            random_state=0,
        )

    def sae():
        return SparseAutoencoderTransformer(
            n_components=h, max_iter=n_iter, random_state=0
        )

    # Times per iteration, collected by each run.
    per = {"mlp": [], "sae64": [], "sae32": []}
    runs = {
        "mlp": per_iteration(mlp, X64, X64),
        "sae64": per_iteration(sae, X64),
        "sae32": per_iteration(sae, X32),
    }
    for _ in range(args.repeats):
        for name, run in runs.items():
            run()
            per[name].append(per_iteration.last)
    med = {k: float(np.median(v)) for k, v in per.items()}
    results = {"c64": med["sae64"] / med["mlp"], "c32": med["sae32"] / med["mlp"]}
    seconds = {"c64": (med["sae64"], med["mlp"]), "c32": (med["sae32"], med["mlp"])}
    return results, seconds, f"dense {m} x {d}, h={h}, {n_iter} iterations"


def shifted_digits():
    """Digits scaled to [0, 1] plus their 4 one-pixel shifts: 8,985 x 64."""
    from sklearn.datasets import load_digits

    X, _ = load_digits(return_X_y=True)
    images = (X / 16.0).reshape(-1, 8, 8)
    shifted = [images]
    for axis, step in ((1, 1), (1, -1), (2, 1), (2, -1)):
        moved = np.roll(images, step, axis=axis)
        edge = [slice(None)] * 3
        edge[axis] = 0 if step == 1 else -1
        moved[tuple(edge)] = 0.0  # shift in zeros, do not wrap around
        shifted.append(moved)
    return np.concatenate(shifted).reshape(-1, 64)


def bench_d(args):
    from sklearn.neural_network import BernoulliRBM

    X = shifted_digits()
    n_iter = 40 if args.quick else 400
    sae_iterations = []

    def rbm():
        BernoulliRBM(
            n_components=100, n_iter=10, learning_rate=0.06, random_state=0
        ).fit(X)

    def sae():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est = SparseAutoencoderTransformer(
                n_components=100,
                rho=0.01,
                beta=3.0,
                alpha=1e-4,
                max_iter=n_iter,
                random_state=0,
            ).fit(X)
        sae_iterations.append(est.n_iter_)

    t_rbm, t_sae = interleaved_medians([rbm, sae], args.d_repeats or args.repeats)
    note = f"{X.shape[0]} x {X.shape[1]}, {max(sae_iterations)} iterations"
    return {"d": t_sae / t_rbm}, {"d": (t_sae, t_rbm)}, note


def memory_child(dtype_name, n_samples):
    """Fit once in this (child) process; print peak memory above X as JSON."""
    dtype = np.dtype(dtype_name)
    X = dense_problem(n_samples, 784, dtype)
    rss_before = _proc_status("VmRSS")
    tracemalloc.start()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        SparseAutoencoderTransformer(
            n_components=196, max_iter=2, random_state=0
        ).fit(X)
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # VmHWM, not getrusage's ru_maxrss: Linux carries the parent's peak over
    # into ru_maxrss across fork and exec.
    max_rss = _proc_status("VmHWM")
    print(
        json.dumps(
            {
                "nbytes": X.nbytes,
                "traced_peak": traced_peak,
                "rss_peak_above_start": max_rss - rss_before,
            }
        )
    )


def _proc_status(field):
    """A memory field of /proc/self/status (Linux), in bytes."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")  # pragma: no cover


def bench_e(args):
    n = 10000 if args.quick else 60000
    results, extra = {}, {}
    for dtype, key in (("float32", "e32"), ("float64", "e64")):
        command = [sys.executable, __file__, "--memory-child", dtype, str(n)]
        out = subprocess.run(command, capture_output=True, text=True, check=True)
        report = json.loads(out.stdout.strip().splitlines()[-1])
        results[key] = report["traced_peak"] / report["nbytes"]
        extra[key] = report["rss_peak_above_start"] / report["nbytes"]
    return results, extra, f"dense {n} x 784, h=196 (max RSS ratio in brackets)"


def bench_f(args):
    m, d, h = (5000 if args.quick else 20000), 5000, 256
    rng = np.random.default_rng(0)
    X = sp.random_array(
        (m, d), density=0.01, format="csr", dtype=np.float64, rng=rng
    )
    theta = initial_parameters(d, h, np.random.RandomState(0))
    objective = objective_for(X, h)
    objective(theta)
    W1 = rng.standard_normal((d, h)) * 0.05
    W2 = rng.standard_normal((h, d)) * 0.05
    A = np.empty((m, h))
    R = np.empty((m, d))
    gW2 = np.empty((h, d))
    H = np.empty((m, h))

    def products():
        A[...] = X @ W1
        np.dot(A, W2, out=R)
        np.dot(A.T, R, out=gW2)
        np.dot(R, W2.T, out=H)
        X.T @ H

    base, evaluation = interleaved_medians(
        [products, lambda: objective(theta)], args.repeats
    )
    return {"f": evaluation / base}, {"f": (evaluation, base)}, (
        f"CSR {m} x {d}, density 0.01, h={h}, float64"
    )


def machine_description():
    blas = [
        f"{i['internal_api']} {i.get('version')} {i.get('architecture')} "
        f"x{i['num_threads']} ({os.path.basename(i['filepath'])})"
        for i in threadpool_info()
        if i["user_api"] == "blas"
    ]
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:  # pragma: no cover
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return [
        f"machine: {cpu}, {os.cpu_count()} CPUs, load average {load:.1f}",
        f"python {platform.python_version()}, numpy {np.__version__}, "
        f"scipy {scipy.__version__}, scikit-learn {sklearn.__version__}, "
        f"skl_sparseae {skl_sparseae.__version__}",
        "BLAS: " + "; ".join(blas),
        "OPENBLAS_CORETYPE="
        + os.environ.get("OPENBLAS_CORETYPE", "(unset)")
        + ", OPENBLAS_L2_SIZE="
        + os.environ.get("OPENBLAS_L2_SIZE", "(unset)")
        + ", OPENBLAS_THREAD_TIMEOUT="
        + os.environ.get("OPENBLAS_THREAD_TIMEOUT", "(unset)"),
    ]


BENCHES = {"a": bench_a_b, "b": bench_a_b, "c": bench_c, "d": bench_d,
           "e": bench_e, "f": bench_f}


def main(argv=None):
    global SETTLE
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", default="a,b,c,d,e,f")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--c-iter", type=int, default=5,
                        help="L-BFGS iterations per fit in question c")
    parser.add_argument("--d-repeats", type=int, default=None,
                        help="repeats of question d (default: --repeats)")
    parser.add_argument("--quick", action="store_true",
                        help="smaller problems, for a smoke test")
    parser.add_argument("--threads", type=int, default=None,
                        help="hold every BLAS to this many threads")
    parser.add_argument("--settle", type=float, default=SETTLE,
                        help="seconds of pause before each timed run")
    parser.add_argument("--memory-child", nargs=2, metavar=("DTYPE", "N"))
    args = parser.parse_args(argv)
    SETTLE = args.settle

    if args.memory_child:
        memory_child(args.memory_child[0], int(args.memory_child[1]))
        return

    for line in machine_description():
        print(line)
    print(f"repeats={args.repeats}, threads={args.threads or 'default'}, "
          f"settle={args.settle:g} s, quick={args.quick}")
    wanted = args.only.split(",")
    done = set()
    rows = []
    with threadpool_limits(limits=args.threads, user_api="blas"):
        for letter in wanted:
            bench = BENCHES[letter]
            if bench in done:
                continue
            done.add(bench)
            start = time.perf_counter()
            ratios, detail, note = bench(args)
            elapsed = time.perf_counter() - start
            for key, ratio in ratios.items():
                rows.append((key, ratio, detail[key], note, elapsed))
            print(f"[{bench.__name__} done in {elapsed:.0f} s]", flush=True)

    print()
    print(f"{'figure':7} {'ratio':>7} {'target':>7} {'met':>4}  detail")
    for key, ratio, detail, note, _ in rows:
        target = TARGETS.get(key)
        met = "-" if target is None else ("yes" if ratio <= target else "NO")
        if isinstance(detail, tuple):
            detail = f"{detail[0]:.4g} s / {detail[1]:.4g} s"
        else:
            detail = f"max RSS ratio {detail:.2f}"
        target_text = "-" if target is None else f"<={target:g}"
        print(f"{key:7} {ratio:7.3f} {target_text:>7} {met:>4}  {detail}; {note}")


if __name__ == "__main__":
    main()
