import os
from pathlib import Path

import pytest

# scikit-learn's check_array_api_input is skipped unless scipy runs in array
# API mode; turn it on before anything imports scipy so that the estimator
# checks run in full.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

# The ONNX modules import skl2onnx at their top, so their doctests can only be
# collected where the optional 'onnx' extra is installed; without it they are
# left out, and tests/test_onnx.py reports the skip and checks the ImportError
# that names the extra.
collect_ignore = []
try:
    import onnxruntime  # noqa: F401
    import skl2onnx  # noqa: F401
except ImportError:
    collect_ignore += ["skl_sparseae/onnx.py", "skl_sparseae/_onnx_converters.py"]


PLOTTING = Path(__file__).parent / "skl_sparseae" / "_plotting"


@pytest.fixture(autouse=True)
def _matplotlib_agg_for_plotting_doctests(request):
    """Draw the displays' doctests on the Agg backend; close their figures.

    Only the doctests under skl_sparseae/_plotting need it. Without the
    optional 'plot' extra there is nothing to draw with, so they are skipped;
    the ImportError path is covered by tests/test_plot.py instead.
    """
    if PLOTTING not in Path(request.node.path).parents:
        yield
        return
    pytest.importorskip(
        "matplotlib", reason="the plotting doctests need matplotlib (the 'plot' extra)"
    )
    import matplotlib

    matplotlib.use("Agg")
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
