"""Displays for fitted sparse autoencoders, in scikit-learn's Display style.

matplotlib is an optional dependency (the ``plot`` extra); it is imported only
when a display is drawn.
"""

# SPDX-License-Identifier: BSD-3-Clause

from ._filters import FilterDisplay
from ._sparsity import SparsityDisplay

__all__ = ["FilterDisplay", "SparsityDisplay"]
