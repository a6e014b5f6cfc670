"""Sparse autoencoders for scikit-learn."""

# SPDX-License-Identifier: BSD-3-Clause

from ._backends._placement import move_estimator_to
from ._outlier_detector import SparseAutoencoderOutlierDetector
from ._plotting import FilterDisplay, SparsityDisplay
from ._sparse_autoencoder import SparseAutoencoderTransformer

__version__ = "0.1.0.dev0"

__all__ = [
    "FilterDisplay",
    "SparseAutoencoderOutlierDetector",
    "SparseAutoencoderTransformer",
    "SparsityDisplay",
    "__version__",
    "move_estimator_to",
]
