# The ONNX modules import skl2onnx at their top, so that their doctests can
# only be collected where the optional 'onnx' extra is installed; without it
# they are left out here, and tests/test_onnx.py reports the skip and checks
# the ImportError that names the extra.
collect_ignore = []
try:
    import onnxruntime  # noqa: F401
    import skl2onnx  # noqa: F401
except ImportError:
    collect_ignore += ["onnx.py", "_onnx_converters.py"]
