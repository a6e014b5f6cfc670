"""What the benchmark scripts share: timing, problems and baselines.

Every timed run starts after a pause of ``SETTLE`` seconds (``--settle`` in
the scripts that take it). After a multi-threaded call, OpenBLAS keeps its
idle worker threads spinning for a while (``OPENBLAS_THREAD_TIMEOUT``, 2**28
cycles by default) and MKL does the same (``KMP_BLOCKTIME``): without the
pause, the baseline's spinning BLAS threads take a core from whatever runs
next, and the candidate timed after it looks slower than it is.
"""

# SPDX-License-Identifier: BSD-3-Clause

import os
import platform
import time
import warnings

import numpy as np
import scipy
import sklearn
from threadpoolctl import threadpool_info

import skl_sparseae
from skl_sparseae import _blas
from skl_sparseae._backends._numpy import NumpyBackend
from skl_sparseae._objective import evaluate

# Seconds to wait before each timed run; the scripts set it from --settle.
SETTLE = 0.5

# The objective's parameters in the evaluation benchmarks.
OBJECTIVE_PARAMS = dict(rho=0.05, beta=3.0, alpha=1e-4)


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


def interleaved_times(functions, repeats):
    """Wall times of each function, timed in turn ``repeats`` times.

    Interleaving (baseline, candidate, baseline, ...) makes a neighbour's
    load hit every function alike. Returns one list of times per function.
    """
    times = [[] for _ in functions]
    for _ in range(repeats):
        for f, bucket in zip(functions, times):
            settle()
            start = time.perf_counter()
            f()
            bucket.append(time.perf_counter() - start)
    return times


def interleaved_medians(functions, repeats):
    """Median wall time of each function, timed as by ``interleaved_times``."""
    return [float(np.median(t)) for t in interleaved_times(functions, repeats)]


def add_timing_arguments(parser):
    """The options of the timed scripts: ``--repeats``, ``--threads``, ``--settle``.

    The script holds its run to ``threadpool_limits(args.threads)`` and sets
    ``SETTLE`` from ``args.settle``.
    """
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--threads", type=int, default=None, help="hold every BLAS to this many threads"
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=SETTLE,
        help="seconds of pause before each timed run",
    )


def interleaved_fits(learners, X, repeats):
    """Fit each learner on X in turn, timed as in ``interleaved_medians``.

    ``learners`` maps names to factories of fresh estimators. Returns the
    median fit time of each name and the estimator of its last fit. Warnings
    are silenced: the fits on a fixed budget stop before convergence by design.
    """
    fitted = {}

    def fit(name):
        def run():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fitted[name] = learners[name]().fit(X)

        return run

    times = interleaved_medians([fit(name) for name in learners], repeats)
    return dict(zip(learners, times)), fitted


def rbm_example_f1(learner, X_train, X_test, y_train, y_test, max_iter=1000):
    """Macro-F1 on the held-out rows of the RBM example's classifier on the codes.

    The classifier is that of scikit-learn's example "Restricted Boltzmann
    Machine features for digit classification", fitted on ``learner``'s
    codes of the training rows.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score

    classifier = LogisticRegression(max_iter=max_iter, C=6000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        classifier.fit(learner.transform(X_train), y_train)
    return f1_score(
        y_test, classifier.predict(learner.transform(X_test)), average="macro"
    )


def dense_problem(n_samples, n_features, dtype, seed=0):
    """Uniform [0, 1) data; Generator.random writes float32 without a temporary."""
    return np.random.default_rng(seed).random((n_samples, n_features), dtype=dtype)


def nudged_digits():
    """Digits and their four one-pixel shifts, scaled to [0, 1]: 8,985 x 64.

    As in scikit-learn's example "Restricted Boltzmann Machine features for
    digit classification": float32 pixels, each image moved by one pixel up,
    left, right and down (zeros shifted in), then ``minmax_scale``. Returns
    X and the labels.
    """
    from scipy.ndimage import convolve
    from sklearn.datasets import load_digits
    from sklearn.preprocessing import minmax_scale

    X, y = load_digits(return_X_y=True)
    X = np.asarray(X, "float32")
    directions = [
        [[0, 1, 0], [0, 0, 0], [0, 0, 0]],
        [[0, 0, 0], [1, 0, 0], [0, 0, 0]],
        [[0, 0, 0], [0, 0, 1], [0, 0, 0]],
        [[0, 0, 0], [0, 0, 0], [0, 1, 0]],
    ]

    def shift(x, w):
        return convolve(x.reshape((8, 8)), mode="constant", weights=w).ravel()

    X = np.concatenate(
        [X] + [np.apply_along_axis(shift, 1, X, vector) for vector in directions]
    )
    y = np.concatenate([y] * 5)
    return minmax_scale(X, feature_range=(0, 1)), y


def evaluation(backend, params=OBJECTIVE_PARAMS):
    """``theta -> evaluate(backend, theta)``, on a one-thread BLAS as in a fit.

    ``backend`` is a ``NumpyBackend`` or a ``DaskBackend``; the NumPy
    backend's block threads each hold a one-thread BLAS, as in a fit.
    """

    def objective(theta):
        with _blas.one_thread():
            return evaluate(backend, theta, **params)

    return objective


def numpy_evaluation(X, n_components, **backend_options):
    """The estimator's in-memory evaluation of J and its gradient on X."""
    return evaluation(NumpyBackend(X, n_components, "sigmoid", **backend_options))


def five_gemms(X, h):
    """The five matrix products of one evaluation, on preallocated outputs.

    The floor of an evaluation: whatever else it does comes on top of them.
    """
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


def batch_gemms(X, h, batch):
    """The five products of every batch of one epoch, on preallocated outputs.

    The floor of a minibatch epoch of ``batch`` rows per step.
    """
    m, d = X.shape
    rng = np.random.default_rng(1)
    W1 = (rng.standard_normal((d, h)) * 0.05).astype(X.dtype)
    W2 = (rng.standard_normal((h, d)) * 0.05).astype(X.dtype)
    buffers = {}
    for k in {min(batch, m - i) for i in range(0, m, batch)}:
        buffers[k] = (
            np.empty((k, h), X.dtype),
            np.empty((k, d), X.dtype),
            np.empty((h, d), X.dtype),
            np.empty((k, h), X.dtype),
            np.empty((d, h), X.dtype),
        )
    slices = [X[i : i + batch] for i in range(0, m, batch)]

    def run():
        for X_b in slices:
            five_products(X_b, W1, W2, *buffers[X_b.shape[0]])

    return run


def five_products(X, W1, W2, A, R, gW2, H, gW1):
    """Forward, decoder and backward products of an evaluation, into the buffers."""
    np.dot(X, W1, out=A)
    np.dot(A, W2, out=R)
    np.dot(A.T, R, out=gW2)
    np.dot(R, W2.T, out=H)
    np.dot(X.T, H, out=gW1)


def machine_description():
    """Lines naming the CPU, the load, the versions and the BLAS libraries."""
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
