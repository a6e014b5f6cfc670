"""Tests for the ONNX export (skl_sparseae.onnx)."""

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from skl_sparseae import SparseAutoencoderOutlierDetector, SparseAutoencoderTransformer

from ._helpers import fit_quietly, run_python

# The export needs the optional 'onnx' extra; everything else in this module
# runs without it. Where it is installed the tests below must pass, not skip.
_EXTRA_REASON = 'ONNX export needs skl2onnx and onnxruntime (pip install ".[onnx]")'


@pytest.fixture(scope="module")
def onnx_tools():
    """``(to_onnx, run)``: skl2onnx's converter and an onnxruntime runner."""
    pytest.importorskip("skl2onnx", reason=_EXTRA_REASON)
    onnxruntime = pytest.importorskip("onnxruntime", reason=_EXTRA_REASON)
    import skl2onnx

    import skl_sparseae.onnx  # noqa: F401 - registers the converters

    def run(model, X):
        session = onnxruntime.InferenceSession(
            model.SerializeToString(), providers=["CPUExecutionProvider"]
        )
        return session.run(None, {session.get_inputs()[0].name: X})

    return skl2onnx.to_onnx, run


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X, y


def _sae(**params):
    return SparseAutoencoderTransformer(
        **{"n_components": 24, "max_iter": 60, "random_state": 0, **params}
    )


# float32 runs in single precision on both sides, with different summation
# orders; float64 must agree to round-off.
_ATOL = {np.float32: 1e-6, np.float64: 1e-12}


@pytest.mark.parametrize("decoder_activation", ["sigmoid", "identity"])
@pytest.mark.parametrize("fit_dtype", [np.float64, np.float32])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_transform_matches_onnxruntime(
    onnx_tools, digits, decoder_activation, fit_dtype, dtype
):
    to_onnx, run = onnx_tools
    X = (digits[0] / 16.0).astype(fit_dtype)
    sae = fit_quietly(_sae(decoder_activation=decoder_activation), X)
    X = X.astype(dtype)
    (hidden,) = run(to_onnx(sae, X[:1]), X)
    # The graph computes in the input's type, as transform does for a
    # model fitted in the same type.
    assert hidden.dtype == dtype
    assert hidden.shape == (X.shape[0], sae.n_components)
    np.testing.assert_allclose(hidden, sae.transform(X), rtol=0, atol=_ATOL[dtype])
    # The batch dimension is dynamic: one row gives one row.
    np.testing.assert_allclose(
        run(to_onnx(sae, X[:1]), X[5:6])[0],
        sae.transform(X[5:6]),
        rtol=0,
        atol=_ATOL[dtype],
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pipeline_labels_match_onnxruntime(onnx_tools, digits, dtype):
    # The case: MinMaxScaler -> SAE -> LogisticRegression, converted
    # from the pipeline object itself, predicting every digit the same.
    to_onnx, run = onnx_tools
    X, y = digits
    pipe = make_pipeline(
        MinMaxScaler(), _sae(n_components=32), LogisticRegression(max_iter=1000)
    )
    fit_quietly(pipe, X, y)
    X = X.astype(dtype)
    # ZipMap (probabilities as dicts) exists only for float; drop it so that
    # both types give the probabilities as one array.
    options = {LogisticRegression: {"zipmap": False}}
    labels, probabilities = run(to_onnx(pipe, X[:1], options=options), X)
    np.testing.assert_array_equal(labels, pipe.predict(X))
    np.testing.assert_allclose(
        probabilities, pipe.predict_proba(X), rtol=0, atol=10 * _ATOL[dtype]
    )


def test_pipeline_with_default_options(onnx_tools, digits):
    # skl2onnx's defaults (float, ZipMap) work too: the plain call of the
    # issue, to_onnx(pipeline, X[:1]).
    to_onnx, run = onnx_tools
    X, y = digits
    X = X[:300].astype(np.float32)
    pipe = make_pipeline(MinMaxScaler(), _sae(), LogisticRegression())
    fit_quietly(pipe, X, y[:300])
    labels, probabilities = run(to_onnx(pipe, X[:1]), X)
    np.testing.assert_array_equal(labels, pipe.predict(X))
    assert len(probabilities) == X.shape[0]


@pytest.mark.parametrize("decoder_activation", ["sigmoid", "identity"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_score_samples_subgraph(onnx_tools, digits, decoder_activation, dtype):
    # The reconstruction-error subgraph, shared with a future outlier
    # detector's converter, must compute score_samples.
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType

    from skl_sparseae._onnx_converters import score_samples_graph

    _, run = onnx_tools
    X = (digits[0] / 16.0).astype(dtype)
    sae = fit_quietly(_sae(decoder_activation=decoder_activation), X)
    tensor_type = FloatTensorType if dtype == np.float32 else DoubleTensorType
    model = score_samples_graph(
        "X", sae, dtype, op_version=18, output_names=["scores"]
    ).to_onnx(
        inputs=[("X", tensor_type([None, X.shape[1]]))],
        outputs=[("scores", tensor_type([None, 1]))],
        target_opset=18,
    )
    (scores,) = run(model, X)
    assert scores.shape == (X.shape[0], 1) and scores.dtype == dtype
    # Sums of 64 squared residuals: compare relative to their size.
    expected = sae.score_samples(X)
    np.testing.assert_allclose(
        scores[:, 0], expected, rtol=0, atol=_ATOL[dtype] * np.abs(expected).max()
    )


def test_unfitted_and_unsupported_inputs(onnx_tools):
    to_onnx, _ = onnx_tools
    X = np.random.RandomState(0).uniform(size=(30, 6))
    with pytest.raises(NotFittedError):
        to_onnx(SparseAutoencoderTransformer(), X[:1])
    sae = fit_quietly(_sae(n_components=None), X)
    # Numbers only: the graph says which tensor types it takes.
    with pytest.raises(Exception, match="FloatTensorType"):
        to_onnx(sae, X[:1].astype(np.bool_))


@pytest.mark.parametrize("int_dtype", [np.int64, np.int32])
def test_integer_input_is_cast_to_float32(onnx_tools, int_dtype):
    # transform and score_samples accept integer data; the graphs cast it to
    # float32 as skl2onnx's own PCA and StandardScaler converters do.
    to_onnx, run = onnx_tools
    X = (np.random.RandomState(0).uniform(size=(80, 6)) < 0.3).astype(int_dtype)
    sae = fit_quietly(_sae(n_components=3), X)
    (hidden,) = run(to_onnx(sae, X[:1]), X)
    assert hidden.dtype == np.float32
    np.testing.assert_allclose(hidden, sae.transform(X), rtol=0, atol=1e-6)

    detector = fit_quietly(_detector(n_components=3, contamination=0.1), X)
    _check_detector_outputs(run(to_onnx(detector, X[:1]), X), detector, X, np.float32)


def test_register_converters_is_idempotent(onnx_tools):
    to_onnx, run = onnx_tools
    from skl_sparseae.onnx import register_converters

    registered = [SparseAutoencoderTransformer, SparseAutoencoderOutlierDetector]
    assert register_converters() == registered
    assert register_converters() == registered
    X = np.random.RandomState(0).uniform(size=(30, 6)).astype(np.float32)
    sae = fit_quietly(_sae(n_components=None), X)
    np.testing.assert_allclose(
        run(to_onnx(sae, X[:1]), X)[0], sae.transform(X), rtol=0, atol=1e-6
    )


def _detector(**params):
    return SparseAutoencoderOutlierDetector(
        **{"n_components": 24, "max_iter": 60, "random_state": 0, **params}
    )


def _check_detector_outputs(outputs, detector, X, dtype):
    """``label`` equals predict and ``scores`` decision_function.

    The scores are sums of n_features squared residuals, compared relative
    to the largest score's size as in test_score_samples_subgraph. A label
    may only differ where the decision is within that tolerance of 0 (the
    two sides round differently); on the data below none is.
    """
    labels, scores = outputs
    assert labels.dtype == np.int64 and labels.shape == (X.shape[0], 1)
    assert scores.dtype == dtype and scores.shape == (X.shape[0], 1)
    decision = detector.decision_function(X)
    atol = _ATOL[dtype] * max(1.0, np.abs(detector.score_samples(X)).max())
    np.testing.assert_allclose(scores[:, 0], decision, rtol=0, atol=atol)
    clear = np.abs(decision) > atol
    assert clear.mean() > 0.99
    np.testing.assert_array_equal(labels[clear, 0], detector.predict(X)[clear])


@pytest.mark.parametrize("contamination", ["auto", 0.1])
@pytest.mark.parametrize("decoder_activation", ["sigmoid", "identity"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_detector_matches_onnxruntime(
    onnx_tools, digits, decoder_activation, contamination, dtype
):
    # The outputs of skl2onnx's own detectors (IsolationForest): 'label',
    # int64 +1/-1 as predict, and 'scores', decision_function.
    to_onnx, run = onnx_tools
    X = (digits[0] / 16.0).astype(dtype)
    detector = fit_quietly(
        _detector(decoder_activation=decoder_activation, contamination=contamination),
        X,
    )
    model = to_onnx(detector, X[:1])
    assert [output.name for output in model.graph.output] == ["label", "scores"]
    _check_detector_outputs(run(model, X), detector, X, dtype)
    assert (detector.predict(X) == -1).any()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_detector_pipeline_matches_onnxruntime(onnx_tools, digits, dtype):
    # MinMaxScaler -> detector, converted from the pipeline object.
    to_onnx, run = onnx_tools
    X = digits[0].astype(dtype)
    pipe = fit_quietly(make_pipeline(MinMaxScaler(), _detector(contamination=0.05)), X)
    _check_detector_outputs(run(to_onnx(pipe, X[:1]), X), pipe, X, dtype)


def test_unfitted_detector(onnx_tools):
    to_onnx, _ = onnx_tools
    X = np.random.RandomState(0).uniform(size=(3, 6)).astype(np.float32)
    with pytest.raises(NotFittedError):
        to_onnx(SparseAutoencoderOutlierDetector(), X[:1])


def _run_python(code):
    result = run_python("-c", code)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_core_package_does_not_import_onnx_tools_and_names_the_extra():
    # Runs with or without the extra, in a clean interpreter: importing the
    # package (and fitting) must not load skl2onnx, onnxruntime or onnx,
    # which are optional and slow to import. Then a None entry in
    # sys.modules makes "import skl2onnx" raise ImportError, as it would
    # without the package installed: skl_sparseae.onnx names the extra.
    code = (
        "import sys, numpy as np; import skl_sparseae\n"
        "from skl_sparseae import SparseAutoencoderTransformer as S\n"
        "S(n_components=2, max_iter=2).fit(np.random.rand(10, 4))\n"
        "print(sorted(m for m in ('skl2onnx', 'onnxruntime', 'onnx') "
        "if m in sys.modules))\n"
        "sys.modules['skl2onnx'] = None\n"
        "try:\n"
        "    import skl_sparseae.onnx\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    loaded, error = _run_python(code).split("\n", 1)
    assert loaded == "[]"
    assert "pip install skl2onnx onnxruntime" in error
