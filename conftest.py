import os
from pathlib import Path

import pytest

# scikit-learn's check_array_api_input is skipped unless scipy runs in array
# API mode; turn it on before anything imports scipy so that the estimator
# checks run in full.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

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
