"""Export to ONNX with skl2onnx.

Importing this module registers the converters of skl_sparseae's estimators
with skl2onnx, after which ``skl2onnx.to_onnx`` converts them, alone or
inside a :class:`~sklearn.pipeline.Pipeline`. skl2onnx (and onnxruntime to
run the exported models) are optional dependencies, installed with the
``onnx`` extra: ``pip install skl2onnx onnxruntime``. The core package never
imports them.

Examples
--------
>>> import numpy as np
>>> import skl_sparseae.onnx  # registers the converters
>>> from onnxruntime import InferenceSession
>>> from skl2onnx import to_onnx
>>> from skl_sparseae import SparseAutoencoderTransformer
>>> X = np.random.RandomState(0).uniform(size=(50, 8)).astype(np.float32)
>>> sae = SparseAutoencoderTransformer(n_components=3, random_state=0).fit(X)
>>> onx = to_onnx(sae, X[:1])
>>> session = InferenceSession(
...     onx.SerializeToString(), providers=["CPUExecutionProvider"]
... )
>>> (hidden,) = session.run(None, {"X": X})
>>> bool(np.abs(hidden - sae.transform(X)).max() < 1e-6)
True
"""

# SPDX-License-Identifier: BSD-3-Clause

from ._outlier_detector import SparseAutoencoderOutlierDetector
from ._sparse_autoencoder import SparseAutoencoderTransformer

try:
    from skl2onnx import update_registered_converter
except ImportError as exc:  # pragma: no cover - tested in a subprocess
    raise ImportError(
        "skl_sparseae.onnx requires skl2onnx, an optional dependency of "
        "skl-sparseae. Install it with: pip install skl2onnx onnxruntime"
    ) from exc

from . import _onnx_converters

__all__ = ["register_converters"]

# (estimator class, skl2onnx alias, shape calculator, converter). A new
# estimator needs one row here and its two functions in _onnx_converters.
_CONVERTERS = [
    (
        SparseAutoencoderTransformer,
        "SklSparseAESparseAutoencoderTransformer",
        _onnx_converters.transformer_shape_calculator,
        _onnx_converters.transformer_converter,
    ),
    (
        SparseAutoencoderOutlierDetector,
        "SklSparseAESparseAutoencoderOutlierDetector",
        _onnx_converters.detector_shape_calculator,
        _onnx_converters.detector_converter,
    ),
]


def register_converters():
    """Register the converters of skl_sparseae's estimators with skl2onnx.

    Importing ``skl_sparseae.onnx`` already does this; calling it again
    is harmless (it replaces the registration with the same converters).

    Returns
    -------
    estimators : list of type
        The estimator classes whose converters were registered.

    Examples
    --------
    >>> from skl_sparseae.onnx import register_converters
    >>> [cls.__name__ for cls in register_converters()]
    ['SparseAutoencoderTransformer', 'SparseAutoencoderOutlierDetector']
    """
    for estimator, alias, shape_calculator, converter in _CONVERTERS:
        update_registered_converter(
            estimator, alias, shape_calculator, converter, overwrite=True
        )
    return [estimator for estimator, *_ in _CONVERTERS]


register_converters()
