"""Streaming memory of the minibatch solver (``solver="adam"``): figure 4.

Run from the repository root::

    python benchmarks/bench_solvers_memory.py
    python benchmarks/bench_solvers_memory.py --quick         # smoke test

4. streaming: ``partial_fit`` over the 20 chunks of a ``np.memmap``; peak
   memory (tracemalloc, in a child process) against one chunk plus ten
   parameter vectors.
"""

# SPDX-License-Identifier: BSD-3-Clause

import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings

import numpy as np
from _datasets import large_patches
from _solvers import (
    PATCH_MODEL,
    configure,
    run,
    solver_parser,
)

from skl_sparseae import SparseAutoencoderTransformer
from skl_sparseae._objective import n_parameters

# ---------------------------------------------------------------------------
# Figure 4: streaming from a memmap.


def _status(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def memory_child(path, rows, dtype, chunks):
    """partial_fit over ``chunks`` slices of the memmap; print JSON."""
    rows, chunks, dtype = int(rows), int(chunks), np.dtype(dtype)
    X = np.memmap(path, dtype=dtype, mode="r", shape=(rows, 784))
    est = SparseAutoencoderTransformer(solver="adam", random_state=0, **PATCH_MODEL)
    anon_before = _status("RssAnon")
    anon_peak = anon_before
    tracemalloc.start()
    bounds = np.linspace(0, rows, chunks + 1).astype(int)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i0, i1 in zip(bounds[:-1], bounds[1:]):
            est.partial_fit(X[i0:i1])
            anon_peak = max(anon_peak, _status("RssAnon"))
    seconds = time.perf_counter() - start
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(
        json.dumps(
            {
                "traced_peak": traced_peak,
                "anon_peak_above_start": anon_peak - anon_before,
                "chunk_bytes": int(bounds[1] - bounds[0]) * 784 * dtype.itemsize,
                "vector_bytes": n_parameters(784, 196) * dtype.itemsize,
                "seconds": seconds,
                "n_iter": est.n_iter_,
            }
        )
    )


def fig4(args):
    rows, chunks = (1000 if args.quick else 40000), 20
    ratios, out = {}, []
    for dtype in ("float64", "float32"):
        X = large_patches(rows, dtype=np.dtype(dtype))
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "patches.dat")
            mm = np.memmap(path, dtype=dtype, mode="w+", shape=X.shape)
            mm[:] = X
            mm.flush()
            del mm, X
            command = [
                sys.executable,
                __file__,
                "--memory-child",
                path,
                str(rows),
                dtype,
                str(chunks),
            ]
            result = subprocess.run(command, capture_output=True, text=True, check=True)
        r = json.loads(result.stdout.strip().splitlines()[-1])
        budget = r["chunk_bytes"] + 10 * r["vector_bytes"]
        ratios[f"4 {dtype}"] = r["traced_peak"] / budget
        mib = 2**20
        out.append(
            (
                dtype,
                f"traced peak {r['traced_peak'] / mib:.1f} MiB (anonymous "
                f"RSS peak after a call {r['anon_peak_above_start'] / mib:.1f} "
                f"MiB) vs one chunk {r['chunk_bytes'] / mib:.1f} MiB + 10 "
                f"vectors {10 * r['vector_bytes'] / mib:.1f} MiB = "
                f"{budget / mib:.1f} MiB; {r['n_iter']} epochs of partial_fit "
                f"in {r['seconds']:.1f} s",
            )
        )
    out.insert(
        0,
        (
            "data",
            f"np.memmap of large_patches, {rows} x 784, "
            f"{chunks} chunks of {rows // chunks} rows, h=196",
        ),
    )
    return ratios, out


FIGURES = {"4": fig4}


def main(argv=None):
    parser = solver_parser(__doc__, FIGURES)
    parser.add_argument(
        "--memory-child", nargs=4, metavar=("PATH", "ROWS", "DTYPE", "CHUNKS")
    )
    args = parser.parse_args(argv)
    configure(args)
    if args.memory_child:
        memory_child(*args.memory_child)
        return
    run(args, FIGURES)


if __name__ == "__main__":
    main()
