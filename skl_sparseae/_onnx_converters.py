"""skl2onnx shape calculators and converters for the sparse autoencoders.

This module imports skl2onnx at the top: only ``skl_sparseae.onnx``
imports it, never the core package.

The graphs are written with skl2onnx's algebra API (``Onnx*`` operators
combined into an expression and added to the model with ``add_to``), as in
skl2onnx's tutorial on custom converters. The encoder, the decoder and the
per-sample score are separate functions, so that a converter for an
estimator built on the same model (an outlier detector thresholding
``score_samples``) is a few lines on top of :func:`score_samples_graph`.

Integer input (int64, int32) is cast to float32 first and gives float32
outputs, as skl2onnx's converters of scikit-learn's PCA and StandardScaler
do; ``transform`` itself casts integers to float64, so the two agree to
float32 round-off.
"""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
from onnx import TensorProto
from skl2onnx.algebra.onnx_ops import (
    OnnxAdd,
    OnnxCast,
    OnnxLess,
    OnnxMatMul,
    OnnxMul,
    OnnxReduceSumSquareApi18,
    OnnxSigmoid,
    OnnxSub,
)
from skl2onnx.common.data_types import (
    DoubleTensorType,
    FloatTensorType,
    Int32TensorType,
    Int64TensorType,
    guess_numpy_type,
)
from skl2onnx.common.utils import (
    check_input_and_output_numbers,
    check_input_and_output_types,
)
from sklearn.utils.validation import check_is_fitted

# Only the fitted attributes and parameters below are read from the model,
# so that the converters follow the estimator's public contract, not its
# internals.


def _weight(array, dtype):
    """A fitted array as an initializer of the graph's float type."""
    return np.ascontiguousarray(array, dtype=dtype)


def _affine(X, weights, intercept, dtype, op_version, output_names=None):
    """``X @ weights + intercept`` as an ONNX expression."""
    product = OnnxMatMul(X, _weight(weights, dtype), op_version=op_version)
    return OnnxAdd(
        product,
        _weight(intercept, dtype),
        op_version=op_version,
        output_names=output_names,
    )


def encoder_graph(X, model, dtype, op_version, output_names=None):
    """The hidden activations ``transform(X)`` as an ONNX expression.

    Parameters
    ----------
    X : skl2onnx Variable or ONNX expression
        The input, of shape (n_samples, n_features).

    model : fitted estimator
        Reads ``components_`` and ``intercept_hidden_``.

    dtype : numpy dtype
        float32 or float64: the graph's float type.

    op_version : int
        The target opset.

    output_names : list of Variable, default=None
        Outputs to bind the result to, when it is the converter's output.

    Returns
    -------
    hidden : ONNX expression
        ``sigmoid(X @ components_.T + intercept_hidden_)``, of shape
        (n_samples, n_components).
    """
    pre_activation = _affine(
        X, model.components_.T, model.intercept_hidden_, dtype, op_version
    )
    return OnnxSigmoid(pre_activation, op_version=op_version, output_names=output_names)


def decoder_graph(hidden, model, dtype, op_version, output_names=None):
    """The reconstruction ``inverse_transform(hidden)`` as an ONNX expression.

    Parameters are those of :func:`encoder_graph`, with ``hidden`` of shape
    (n_samples, n_components) in place of ``X``. Reads
    ``decoder_components_``, ``intercept_visible_`` and the parameter
    ``decoder_activation``.
    """
    activation = model.decoder_activation
    if activation not in ("sigmoid", "identity"):
        raise NotImplementedError(
            f"No ONNX conversion for decoder_activation={activation!r}; "
            "'sigmoid' and 'identity' are supported."
        )
    identity = activation == "identity"
    reconstruction = _affine(
        hidden,
        model.decoder_components_,
        model.intercept_visible_,
        dtype,
        op_version,
        output_names=output_names if identity else None,
    )
    if identity:
        return reconstruction
    return OnnxSigmoid(reconstruction, op_version=op_version, output_names=output_names)


def score_samples_graph(X, model, dtype, op_version, output_names=None):
    """``score_samples(X)`` as an ONNX expression of shape (n_samples, 1).

    ``-0.5 * ||X - decode(encode(X))||^2`` per row, the shape skl2onnx's own
    outlier detectors give their score output. Parameters are those of
    :func:`encoder_graph`.
    """
    reconstruction = decoder_graph(
        encoder_graph(X, model, dtype, op_version), model, dtype, op_version
    )
    residual = OnnxSub(X, reconstruction, op_version=op_version)
    squared_error = OnnxReduceSumSquareApi18(
        residual, axes=[1], keepdims=1, op_version=op_version
    )
    return OnnxMul(
        squared_error,
        np.array([-0.5], dtype=dtype),
        op_version=op_version,
        output_names=output_names,
    )


def _check_input(operator):
    """The tensor class of the operator's outputs; checks it is fitted.

    float64 for a float64 input, float32 for float32 and integer inputs.
    """
    check_is_fitted(operator.raw_operator)
    check_input_and_output_numbers(operator, input_count_range=1)
    check_input_and_output_types(
        operator,
        good_input_types=[
            FloatTensorType,
            DoubleTensorType,
            Int64TensorType,
            Int32TensorType,
        ],
    )
    input_type = operator.inputs[0].type
    if len(input_type.shape) != 2:
        raise RuntimeError(
            f"{type(operator.raw_operator).__name__} takes a 2-D input; got "
            f"shape {input_type.shape}."
        )
    if isinstance(input_type, DoubleTensorType):
        return DoubleTensorType
    return FloatTensorType


def _float_input(operator, op_version):
    """The operator's input, cast to float32 if integer, and its numpy dtype."""
    X = operator.inputs[0]
    if isinstance(X.type, (FloatTensorType, DoubleTensorType)):
        return X, guess_numpy_type(X.type)
    return OnnxCast(X, to=TensorProto.FLOAT, op_version=op_version), np.float32


def transformer_shape_calculator(operator):
    """Output type of the transformer: (n_samples, n_components), input's type."""
    check_input_and_output_numbers(operator, output_count_range=1)
    tensor_type = _check_input(operator)
    n_samples = operator.inputs[0].get_first_dimension()
    n_components = operator.raw_operator.components_.shape[0]
    operator.outputs[0].type = tensor_type([n_samples, n_components])


def transformer_converter(scope, operator, container):
    """Add the transformer's ``transform`` to the ONNX graph."""
    X, dtype = _float_input(operator, container.target_opset)
    hidden = encoder_graph(
        X,
        operator.raw_operator,
        dtype,
        container.target_opset,
        output_names=operator.outputs[:1],
    )
    hidden.add_to(scope, container)


def detector_shape_calculator(operator):
    """Outputs of the outlier detector, as skl2onnx's IsolationForest has them.

    ``label`` (int64, +1 inlier / -1 outlier) and ``scores``
    (``decision_function``, the input's float type), both (n_samples, 1).
    """
    check_input_and_output_numbers(operator, output_count_range=2)
    tensor_type = _check_input(operator)
    n_samples = operator.inputs[0].get_first_dimension()
    operator.outputs[0].type = Int64TensorType([n_samples, 1])
    operator.outputs[1].type = tensor_type([n_samples, 1])


def detector_converter(scope, operator, container):
    """Add the detector's ``predict`` and ``decision_function`` to the graph.

    ``scores = score_samples(X) - offset_`` and ``label = 1 - 2 * (scores <
    0)``, the formulas of skl2onnx's converter for IsolationForest.
    """
    model = operator.raw_operator
    op_version = container.target_opset
    X, dtype = _float_input(operator, op_version)
    label, decision = operator.outputs[:2]
    scores = OnnxSub(
        score_samples_graph(X, model, dtype, op_version),
        np.array([model.offset_], dtype=dtype),
        op_version=op_version,
        output_names=[decision],
    )
    is_outlier = OnnxCast(
        OnnxLess(scores, np.array([0], dtype=dtype), op_version=op_version),
        to=TensorProto.INT64,
        op_version=op_version,
    )
    labels = OnnxSub(
        np.array([1], dtype=np.int64),
        OnnxMul(is_outlier, np.array([2], dtype=np.int64), op_version=op_version),
        op_version=op_version,
        output_names=[label],
    )
    labels.add_to(scope, container)
