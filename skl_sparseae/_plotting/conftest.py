import pytest


@pytest.fixture(autouse=True)
def _matplotlib_agg():
    # The displays' doctests draw figures; without the optional 'plot' extra
    # there is nothing to draw with, and the ImportError path is covered by
    # tests/test_plot.py instead.
    pytest.importorskip(
        "matplotlib", reason="the plotting doctests need matplotlib (the 'plot' extra)"
    )
    import matplotlib

    matplotlib.use("Agg")
    yield
    import matplotlib.pyplot as plt

    plt.close("all")
