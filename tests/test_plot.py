"""Tests for the displays in skl_sparseae._plotting."""

import sys
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from skl_sparseae import FilterDisplay, SparseAutoencoderTransformer, SparsityDisplay


@pytest.fixture
def pyplot():
    """matplotlib.pyplot on the Agg backend; figures closed afterwards."""
    # Only the drawing tests need matplotlib; the ImportError test below runs
    # whether or not it is installed.
    pytest.importorskip(
        "matplotlib", reason="drawing needs matplotlib (the 'plot' extra)"
    )
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:400] / 16.0, y[:400]


@pytest.fixture(scope="module")
def fitted_sae(digits):
    X, _ = digits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return SparseAutoencoderTransformer(
            n_components=12, beta=3.0, max_iter=15, random_state=0
        ).fit(X)


def test_filter_display_from_estimator(pyplot, fitted_sae):
    display = FilterDisplay.from_estimator(fitted_sae, image_shape=(8, 8), n_cols=4)
    assert isinstance(display, FilterDisplay)
    # 12 tiles in 3 rows of 4, 8x8 each with 1-pixel borders.
    assert display.mosaic_.shape == (3 * 9 + 1, 4 * 9 + 1)
    assert display.figure_ is display.ax_.figure
    assert display.im_.axes is display.ax_
    np.testing.assert_array_equal(display.im_.get_array(), display.mosaic_)


def test_filter_display_tiles_are_the_normalised_filters(pyplot, fitted_sae):
    display = FilterDisplay.from_estimator(fitted_sae, n_cols=4, padding=2)
    for index in (0, 5, 11):
        row, col = divmod(index, 4)
        top, left = 2 + row * 10, 2 + col * 10
        tile = display.mosaic_[top : top + 8, left : left + 8]
        expected = fitted_sae.components_[index].reshape(8, 8).astype(np.float64)
        expected = expected - expected.mean()
        expected /= np.abs(expected).max()
        np.testing.assert_allclose(tile, expected, rtol=1e-6, atol=1e-12)
    # Borders are black: the lowest value of the [-1, 1] grey scale.
    assert np.all(display.mosaic_[:2] == -1.0)
    assert display.mosaic_.min() == -1.0 and display.mosaic_.max() <= 1.0


def test_filter_display_shared_scale(pyplot):
    filters = np.array([[0.0, 1.0, 2.0, 4.0], [0.0, 0.5, 0.5, 1.0]])
    display = FilterDisplay(filters, image_shape=(2, 2)).plot(
        normalize=False, padding=0, n_cols=2
    )
    np.testing.assert_allclose(display.mosaic_[:, :2], [[0.0, 0.25], [0.5, 1.0]])
    np.testing.assert_allclose(display.mosaic_[:, 2:], [[0.0, 0.125], [0.125, 0.25]])


def test_filter_display_uses_given_ax_and_colour(pyplot):
    fig, (ax1, ax2) = pyplot.subplots(1, 2)
    filters = np.random.RandomState(0).normal(size=(5, 4 * 4 * 3))
    display = FilterDisplay(filters, image_shape=(4, 4, 3)).plot(ax=ax2)
    assert display.ax_ is ax2 and display.figure_ is fig
    # 5 tiles of 4x4 in 2 rows of 3.
    assert display.mosaic_.shape == (2 * 5 + 1, 3 * 5 + 1, 3)
    assert 0.0 <= display.mosaic_.min() and display.mosaic_.max() <= 1.0
    assert not ax1.images


def test_filter_display_decoder_weights(pyplot, fitted_sae):
    display = FilterDisplay.from_estimator(
        fitted_sae, weights="decoder", normalize=False, padding=0, n_cols=12
    )
    expected = (
        fitted_sae.decoder_components_ / np.abs(fitted_sae.decoder_components_).max()
    )
    np.testing.assert_allclose(
        display.mosaic_[:, :8], expected[0].reshape(8, 8), rtol=1e-6
    )


def test_filter_display_pipeline_and_other_estimators(pyplot, digits):
    X, y = digits
    pca = PCA(n_components=6).fit(X)
    assert FilterDisplay.from_estimator(pca).mosaic_.shape == (19, 28)
    with pytest.raises(ValueError, match="needs a fitted estimator"):
        FilterDisplay.from_estimator(pca, weights="decoder")
    pipe = make_pipeline(MinMaxScaler(), PCA(n_components=4), LogisticRegression())
    pipe.fit(X, y)
    display = FilterDisplay.from_estimator(pipe, max_filters=2, n_cols=2)
    assert display.mosaic_.shape == (10, 19)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"image_shape": (7, 7)}, "holds 49 values"),
        ({"image_shape": (4, 4, 4)}, "image_shape must be"),
        ({"n_cols": 0}, "n_cols must be"),
        ({"max_filters": 0}, "max_filters must be"),
        ({"weights": "hidden"}, "weights must be"),
    ],
)
def test_filter_display_errors(pyplot, fitted_sae, kwargs, message):
    with pytest.raises(ValueError, match=message):
        FilterDisplay.from_estimator(fitted_sae, **kwargs)


def test_filter_display_non_square_needs_image_shape(pyplot):
    pca = PCA(n_components=2).fit(np.random.RandomState(0).normal(size=(10, 6)))
    with pytest.raises(ValueError, match="not a perfect square"):
        FilterDisplay.from_estimator(pca)
    # Two 2x3 tiles side by side, with 1-pixel borders.
    display = FilterDisplay.from_estimator(pca, image_shape=(2, 3))
    assert display.mosaic_.shape == (2 + 2, 2 * 4 + 1)


def test_displays_need_a_fitted_estimator(pyplot):
    with pytest.raises(NotFittedError):
        FilterDisplay.from_estimator(SparseAutoencoderTransformer())
    with pytest.raises(NotFittedError):
        SparsityDisplay.from_estimator(SparseAutoencoderTransformer())


def test_sparsity_display_from_estimator(pyplot, fitted_sae):
    display = SparsityDisplay.from_estimator(fitted_sae, bins=10)
    assert display.ax_.shape == (2,)
    hist_ax, loss_ax = display.ax_
    assert display.figure_ is hist_ax.figure is loss_ax.figure
    heights = [bar.get_height() for bar in display.bars_]
    assert sum(heights) == fitted_sae.n_components
    assert display.rho_line_.get_xdata()[0] == fitted_sae.rho
    np.testing.assert_allclose(
        display.mean_line_.get_xdata()[0], fitted_sae.mean_activation_.mean(), rtol=1e-6
    )
    np.testing.assert_allclose(display.loss_line_.get_ydata(), fitted_sae.loss_curve_)
    assert loss_ax.get_yscale() == "log"


def test_sparsity_display_on_new_data_and_pipeline(pyplot, digits, fitted_sae):
    X, _ = digits
    display = SparsityDisplay.from_estimator(fitted_sae, X[:50])
    expected = fitted_sae.transform(X[:50]).mean(axis=0).mean()
    np.testing.assert_allclose(display.mean_line_.get_xdata()[0], expected, rtol=1e-6)
    pipe = make_pipeline(fitted_sae)
    assert SparsityDisplay.from_estimator(pipe).ax_.shape == (2,)


def test_sparsity_display_axes(pyplot):
    fig, axes = pyplot.subplots(2, 2)
    display = SparsityDisplay(mean_activation=[0.1, 0.2], rho=0.1).plot(ax=axes[1])
    assert list(display.ax_) == list(axes[1])
    assert display.loss_line_ is None and display.bounding_ax_ is None

    display = SparsityDisplay(
        mean_activation=[0.1, 0.2], rho=0.1, loss_curve=[2.0, 1.0]
    ).plot(ax=axes[0, 0])
    assert display.bounding_ax_ is axes[0, 0]
    assert not axes[0, 0].axison
    assert display.figure_ is fig
    assert all(ax not in axes.ravel() for ax in display.ax_)

    with pytest.raises(ValueError, match="one Axes or two Axes"):
        SparsityDisplay(mean_activation=[0.1], rho=0.1).plot(ax=axes.ravel()[:3])


@pytest.mark.parametrize(
    "call",
    [
        lambda est: FilterDisplay.from_estimator(est),
        lambda est: FilterDisplay(est.components_, image_shape=(8, 8)).plot(),
        lambda est: SparsityDisplay.from_estimator(est),
        lambda est: SparsityDisplay(mean_activation=[0.1], rho=0.1).plot(),
    ],
)
def test_missing_matplotlib_names_the_extra(monkeypatch, fitted_sae, call):
    # A None entry in sys.modules makes "import matplotlib" raise ImportError,
    # as it would without the package installed.
    for name in list(sys.modules):
        if name == "matplotlib" or name.startswith("matplotlib."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match="pip install matplotlib"):
        call(fitted_sae)


def test_import_does_not_need_matplotlib():
    # The package must import without the optional extra; checked in a clean
    # interpreter so that earlier imports cannot hide a top-level import.
    import subprocess

    code = (
        "import sys; sys.modules['matplotlib'] = None; "
        "import skl_sparseae; print(skl_sparseae.FilterDisplay.__name__)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "FilterDisplay"
