"""One-thread BLAS while a fit needs it, shared safely between concurrent fits.

OpenBLAS keeps one thread count per library for the whole process, so a fit
cannot limit its own calls without limiting every thread's. Two parts of a fit
need one BLAS thread:

* an objective evaluation: its row blocks run in threads of their own, each
  of which must not start BLAS threads, and one-thread products give the
  same bits whatever the number of cores;
* L-BFGS-B's own vector operations, which are tiny (a multi-threaded BLAS
  only spins on them) and, when split over threads, round differently.

Each is limited only while it runs and only in the library it calls: numpy's
BLAS for evaluations, scipy's for L-BFGS-B (the same library when numpy and
scipy share one). Limits are counted per library: overlapping fits in several
threads leave a library at one thread until the last of them is done, then
restore exactly the thread count it had before the first began, unless a
different count was set meanwhile, which is kept.
"""

# SPDX-License-Identifier: BSD-3-Clause

import os
import threading
from contextlib import contextmanager

from threadpoolctl import ThreadpoolController

_lock = threading.Lock()
# package -> the BLAS library controllers it calls, found once.
_libraries = None
# filepath -> [number of holders, the thread count to restore]
_held = {}


def _set_num_threads(lib, n):
    # threadpoolctl lets only the first thread that limits an OpenBLAS library
    # change its limit afterwards, and silently ignores every other thread.
    # Fits in several threads take turns here under this module's own lock,
    # so they set the limit directly, and never become that first thread.
    set_directly = getattr(lib, "_real_set_num_threads", lib.set_num_threads)
    set_directly(n)


def _owner(filepath):
    """The package whose wheel ships the library at ``filepath`` ("" if none)."""
    parts = os.path.normpath(filepath).split(os.sep)
    for part in reversed(parts[:-1]):
        name = part.removesuffix(".libs").removesuffix(".dylibs")
        if name in ("numpy", "scipy"):
            return name
    return ""


def libraries_of(package):
    """The BLAS library controllers that ``package`` ("numpy" or "scipy") calls.

    A library found in neither wheel (a system or conda BLAS) is assumed to
    serve both. Building a controller scans the loaded libraries
    (milliseconds): it is done once, not once per evaluation.
    """
    global _libraries
    if _libraries is None:
        blas = [
            lib
            for lib in ThreadpoolController().lib_controllers
            if lib.user_api == "blas"
        ]
        _libraries = {
            name: [lib for lib in blas if _owner(lib.filepath) in (name, "")]
            for name in ("numpy", "scipy")
        }
    return _libraries[package]


def available_threads(package="numpy"):
    """Threads that ``package``'s BLAS may use outside any fit of this module.

    While other fits hold a library at one thread, its count from before they
    began; otherwise its current count (a user's ``threadpool_limits`` is
    respected). At least 1.
    """
    libraries = libraries_of(package)
    with _lock:
        counts = [
            _held[lib.filepath][1] if lib.filepath in _held else lib.num_threads
            for lib in libraries
        ]
    return max(counts, default=1)


@contextmanager
def one_thread(package):
    """Hold ``package``'s BLAS libraries at one thread inside the block."""
    libraries = libraries_of(package)
    with _lock:
        for lib in libraries:
            if lib.filepath not in _held:
                _held[lib.filepath] = [0, lib.num_threads]
                _set_num_threads(lib, 1)
            _held[lib.filepath][0] += 1
    try:
        yield
    finally:
        with _lock:
            for lib in libraries:
                held = _held[lib.filepath]
                held[0] -= 1
                if held[0] == 0:
                    # A count other than ours was set meanwhile (by user
                    # code in another thread): it is the newer choice.
                    if lib.num_threads == 1:
                        _set_num_threads(lib, held[1])
                    del _held[lib.filepath]
