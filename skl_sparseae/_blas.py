"""One-thread BLAS while a fit needs it, through threadpoolctl's public API.

Two parts of a fit run on a one-thread BLAS:

* an objective evaluation and a minibatch step: their shares run in
  threads of their own, each of which must not start BLAS threads, and
  one-thread products give the same bits whatever the number of cores;
* L-BFGS-B's vector operations, which are small (a multi-threaded BLAS only
  spins on them) and, when split over threads, round differently.

Each runs inside :func:`one_thread`, which holds every BLAS library at one
thread with ``ThreadpoolController.limit``, as scikit-learn's ``KMeans``
does, and restores the counts it found when the block ends.

OpenBLAS keeps one thread count per library for the whole process, and
threadpoolctl lets one Python thread at a time change it: while one thread
holds a limit, the changes that other threads ask for are ignored. So the
fits of this package take turns: one thread at a time is inside
``one_thread`` (a fit's whole L-BFGS-B run, a minibatch epoch, one
evaluation), and a fit in another thread waits at the door. Each fit then
finds the counts as the user left them and leaves them so, whatever the
number of fits running in threads, and its bits do not depend on them.
"""

# SPDX-License-Identifier: BSD-3-Clause

import os
import threading
from contextlib import contextmanager, nullcontext

from threadpoolctl import ThreadpoolController

# Held by the thread inside one_thread, across its nested blocks.
_lock = threading.RLock()
# How deep the holder of _lock is nested in one_thread.
_depth = 0
# numpy's BLAS thread count from before the current holder limited it.
_outside = None
# The BLAS libraries' controller, built once: building it scans the loaded
# libraries (milliseconds).
_controller = None


def _blas():
    global _controller
    if _controller is None:
        _controller = ThreadpoolController().select(user_api="blas")
    return _controller


def _owner(filepath):
    """The package whose wheel ships the library at ``filepath`` ("" if none)."""
    parts = os.path.normpath(filepath).split(os.sep)
    for part in reversed(parts[:-1]):
        name = part.removesuffix(".libs").removesuffix(".dylibs")
        if name in ("numpy", "scipy"):
            return name
    return ""


def _numpy_threads():
    """The thread count of numpy's BLAS, at least 1.

    A library found in neither wheel (a system or conda BLAS) is taken to
    serve numpy.
    """
    counts = [
        lib.num_threads
        for lib in _blas().lib_controllers
        if _owner(lib.filepath) in ("numpy", "")
    ]
    return max([count for count in counts if count], default=1)


def available_threads():
    """Threads that numpy's BLAS may use outside the fits' one-thread blocks.

    While a fit holds the BLAS at one thread, the count from before it began;
    otherwise the current count (a user's ``threadpool_limits`` around a fit
    is respected). At least 1.
    """
    outside = _outside
    return _numpy_threads() if outside is None else outside


def _limit():
    """``limit(limits=1)`` on every BLAS library, or nothing if all are at 1.

    Where every library is at one thread already (a user's limit), there is
    nothing to change, and nothing to put back over a count the user
    changes while the fit runs.
    """
    blas = _blas()
    if all(lib.num_threads == 1 for lib in blas.lib_controllers):
        return nullcontext()
    return blas.limit(limits=1)


@contextmanager
def one_thread():
    """Hold every BLAS library at one thread inside the block.

    Blocks in several threads run one at a time; a block nested in one of
    the same thread runs at once.
    """
    global _depth, _outside
    with _lock:
        if _depth:
            _depth += 1
            try:
                yield
            finally:
                _depth -= 1
            return
        _outside = _numpy_threads()
        _depth = 1
        try:
            with _limit():
                yield
        finally:
            _depth = 0
            _outside = None
