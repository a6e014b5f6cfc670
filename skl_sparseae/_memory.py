"""What a fit will need in memory, checked before it allocates."""

# SPDX-License-Identifier: BSD-3-Clause

import os

from ._objective import n_parameters
from ._user_warnings import warn

# scipy's L-BFGS-B keeps this many correction pairs (its ``maxcor``).
LBFGS_MEMORY = 10


def optimiser_memory_bytes(n_features, n_components):
    """Bytes L-BFGS-B and the fit's loop hold (see the user guide's formula).

    L-BFGS-B keeps ``2 * LBFGS_MEMORY + 5`` float64 parameter vectors (its
    correction pairs and work vectors) and the loop four more (the iterate,
    the gradient, the best weights, the initial weights).
    """
    return (2 * LBFGS_MEMORY + 5 + 4) * n_parameters(n_features, n_components) * 8


def stochastic_memory_bytes(n_features, n_components, itemsize):
    """Bytes a minibatch solver holds besides the data and its batch buffers.

    The parameter vector, its gradient, the optimizer's two moments (Adam;
    SGD keeps one velocity) and scratch vector, the last finite epoch's
    weights and optimizer state (where an overflowing epoch goes back to:
    three more) and, with early stopping, the best weights: ten vectors in
    the working precision, plus float64 copies of the host weights at the
    end.
    """
    return (10 * itemsize + 2 * 8) * n_parameters(n_features, n_components)


def available_memory_bytes():
    """Memory the system can give now, or None where it cannot be read."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def total_memory_bytes():
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def check_fit_memory(needed, n_features, n_components):
    """Fail before allocating when a fit cannot fit in memory; warn when it is tight."""
    gib = 2**30
    remedy = (
        f"The weights have 2 * n_features * n_components = "
        f"{2 * n_features * n_components:,} entries: lower n_components "
        f"(now {n_components}; the default is n_features // 4, so it grows with "
        "the square of n_features)."
    )
    total = total_memory_bytes()
    if total is not None and needed > total:
        raise MemoryError(
            f"This fit needs about {needed / gib:.1f} GiB of memory besides the "
            f"data, more than this machine has ({total / gib:.1f} GiB). {remedy}"
        )
    available = available_memory_bytes()
    if available is not None and needed > available:
        warn(
            f"This fit needs about {needed / gib:.1f} GiB of memory besides the "
            f"data, more than is available now ({available / gib:.1f} GiB); it "
            f"may swap or fail. {remedy}",
            UserWarning,
        )
