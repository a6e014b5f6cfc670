"""Speed and memory of the sparse autoencoder against baselines (figures a-f).

Run from the repository root::

    python benchmarks/run.py                 # every figure, several minutes
    python benchmarks/run.py --only a,b,f    # a subset
    python benchmarks/run.py --threads 1     # everything on one BLAS thread
    python benchmarks/run.py --quick         # smaller problems: a smoke test

Every time figure is a ratio against a baseline measured in the same process,
on the same data, with the timings of the two interleaved (baseline,
candidate, baseline, candidate, ...) so that a neighbour's load hits both
alike; each time is the median of ``--repeats`` runs, each after a pause of
``--settle`` seconds (see ``_common.py``).

a. objective evaluation / the five GEMMs of the same shapes and dtype,
   dense 20,000 x 784, h=196, float64 and float32;
b. float32 evaluation / float64 evaluation;
c. fit time per L-BFGS iteration / MLPRegressor's (logistic, lbfgs, X -> X,
   float64), with our float32 figure beside it;
d. time to quality on scikit-learn's RBM-features protocol (nudged digits,
   100 units, rho=0.01, beta=3, LogisticRegression on the codes, macro-F1
   on a held-out fifth): the fit with default parameters and the fit of a
   fixed 400-iteration budget (``tol=0, max_iter=400``), each against
   BernoulliRBM (n_components=100, n_iter=10, learning_rate=0.06) in time
   and macro-F1;
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
import subprocess
import sys
import time
import tracemalloc
import warnings

import _common
import numpy as np
import scipy.sparse as sp
from _common import (
    add_timing_arguments,
    dense_problem,
    five_gemms,
    interleaved_fits,
    interleaved_medians,
    machine_description,
    nudged_digits,
    numpy_evaluation,
    rbm_example_f1,
    settle,
)
from threadpoolctl import threadpool_limits

from skl_sparseae import SparseAutoencoderTransformer
from skl_sparseae._objective import initial_parameters

TARGETS = {
    "a64": 1.25,
    "a32": 1.25,
    "b": 0.6,
    "c64": 0.4,
    "c32": None,
    "d": 3.0,
    "d40": None,
    "d400": None,
    "e32": 1.0,
    "e64": 1.0,
    "f": 1.5,
}


def bench_a_b(args):
    m, d, h = (5000 if args.quick else 20000), 784, 196
    results, seconds = {}, {}
    for dtype, key in ((np.float64, "64"), (np.float32, "32")):
        X = dense_problem(m, d, dtype)
        theta = initial_parameters(d, h, np.random.RandomState(0))
        objective = numpy_evaluation(X, h)
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


# Macro-F1 the default fit must reach on d (and beat the RBM's).
D_MIN_F1 = 0.95


def bench_d(args):
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import BernoulliRBM

    X, y = nudged_digits()
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, random_state=0
    )
    budget = 40 if args.quick else 400
    sae_params = dict(n_components=100, rho=0.01, beta=3.0, random_state=0)
    learners = {
        "rbm": lambda: BernoulliRBM(
            n_components=100, n_iter=10, learning_rate=0.06, random_state=0
        ),
        "d": lambda: SparseAutoencoderTransformer(**sae_params),
        f"d{budget}": lambda: SparseAutoencoderTransformer(
            tol=0, max_iter=budget, **sae_params
        ),
    }
    times, fitted = interleaved_fits(learners, X_train, args.d_repeats or args.repeats)
    scores = {
        name: rbm_example_f1(learner, X_train, X_test, y_train, y_test)
        for name, learner in fitted.items()
    }

    results, detail = {}, {}
    for name in learners:
        if name == "rbm":
            continue
        results[name] = times[name] / times["rbm"]
        detail[name] = {
            "seconds": (times[name], times["rbm"]),
            "f1": (scores[name], scores["rbm"]),
            "n_iter": fitted[name].n_iter_,
        }
    note = (
        f"nudged digits, {X_train.shape[0]} x 64 {X.dtype} to fit, "
        f"{X_test.shape[0]} held out"
    )
    return results, detail, note


def quality_met(detail):
    """The quality half of d's target: macro-F1 >= D_MIN_F1 and above the RBM's."""
    f1, f1_rbm = detail["f1"]
    return f1 >= D_MIN_F1 and f1 > f1_rbm


def memory_child(dtype_name, n_samples):
    """Fit once in this (child) process; print peak memory above X as JSON."""
    dtype = np.dtype(dtype_name)
    X = dense_problem(n_samples, 784, dtype)
    rss_before = _proc_status("VmRSS")
    tracemalloc.start()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        SparseAutoencoderTransformer(n_components=196, max_iter=2, random_state=0).fit(
            X
        )
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
    X = sp.random_array((m, d), density=0.01, format="csr", dtype=np.float64, rng=rng)
    theta = initial_parameters(d, h, np.random.RandomState(0))
    objective = numpy_evaluation(X, h)
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
    return (
        {"f": evaluation / base},
        {"f": (evaluation, base)},
        (f"CSR {m} x {d}, density 0.01, h={h}, float64"),
    )


BENCHES = {
    "a": bench_a_b,
    "b": bench_a_b,
    "c": bench_c,
    "d": bench_d,
    "e": bench_e,
    "f": bench_f,
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", default="a,b,c,d,e,f")
    parser.add_argument(
        "--c-iter", type=int, default=5, help="L-BFGS iterations per fit in question c"
    )
    parser.add_argument(
        "--d-repeats",
        type=int,
        default=None,
        help="repeats of question d (default: --repeats)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="smaller problems, for a smoke test"
    )
    add_timing_arguments(parser)
    parser.add_argument("--memory-child", nargs=2, metavar=("DTYPE", "N"))
    args = parser.parse_args(argv)
    _common.SETTLE = args.settle

    if args.memory_child:
        memory_child(args.memory_child[0], int(args.memory_child[1]))
        return

    for line in machine_description():
        print(line)
    print(
        f"repeats={args.repeats}, threads={args.threads or 'default'}, "
        f"settle={args.settle:g} s, quick={args.quick}"
    )
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
        if isinstance(detail, dict):  # d: time and quality
            f1, f1_rbm = detail["f1"]
            if target is not None and not quality_met(detail):
                met = "NO"
            detail = (
                f"{detail['seconds'][0]:.4g} s / {detail['seconds'][1]:.4g} s, "
                f"{detail['n_iter']} iterations, macro-F1 {f1:.3f} "
                f"(RBM {f1_rbm:.3f})"
            )
        elif isinstance(detail, tuple):
            detail = f"{detail[0]:.4g} s / {detail[1]:.4g} s"
        else:
            detail = f"max RSS ratio {detail:.2f}"
        target_text = "-" if target is None else f"<={target:g}"
        print(f"{key:7} {ratio:7.3f} {target_text:>7} {met:>4}  {detail}; {note}")
    if any(key == "d" for key, *_ in rows):
        print(
            f"d's target: the default fit's macro-F1 >= {D_MIN_F1} and above the "
            f"RBM's, at <= {TARGETS['d']:g} x the RBM's fit time; d400 (d40 "
            "with --quick) is the fixed iteration budget (tol=0), beside it."
        )


if __name__ == "__main__":
    main()
